"""Alertmanager's regexes, run by RE2 itself (the `google-re2` package), as the server runs them.

Alertmanager compiles a regex matcher's value as Go RE2 `^(?:VALUE)$`: fully anchored,
Unicode case folding under `(?i)`, `\\pL`, `[[:alpha:]]`, `\\z`, `(?U)`, `\\Q..\\E`, octal `\\101`,
`$` only at the very end, and linear time on any input. Python's `re` differs on each of these
(an emulation on `re` disagreed with the server and let `(a|aa)+` stall a key press for 14 s),
so the same engine is used here, through its C++ library, which Go's regexp was written to
match. Where the two still differ, the difference is written next to the check below.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

import re2 as _re2  # google-re2: the C++ RE2 engine

_OPTIONS: Final = _re2.Options()
# RE2 logs refused patterns to stderr, which is the user's terminal while the board runs.
_OPTIONS.log_errors = False
# Only "does it match" is asked: no submatches makes RE2 take its fastest paths.
_OPTIONS.never_capture = True
_UNANCHORED: Final = _re2._Anchor.UNANCHORED


class RegexError(ValueError):
    """A regex Alertmanager refuses; `position` is a column in the pattern."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position


_MAX_NESTING = 1000  # Go's regexp/syntax refuses deeper nesting ("expression nests too deeply")


def _go_only_refusals(value: str) -> None:
    """What Go's regexp refuses although C++ RE2 accepts it.

    `\\C` (one byte, outside `\\Q..\\E`) and groups nested over 1000 deep. Go 1.22+ (the
    Alertmanager releases built after 2024) also accept `(?<name>...)`, as RE2 does; Go 1.19
    (Debian's 0.25) refused it.
    """
    i, n, depth = 0, len(value), 0
    while i < n:
        c = value[i]
        if c == "\\" and i + 1 < n:
            nxt = value[i + 1]
            if nxt == "Q":
                end = value.find("\\E", i + 2)
                if end == -1:
                    return
                i = end + 2
                continue
            if nxt == "C":
                raise RegexError("invalid regular expression: invalid escape sequence: \\C", i)
            i += 2
            continue
        if c == "(":
            depth += 1
            if depth > _MAX_NESTING:
                raise RegexError("invalid regular expression: expression nests too deeply", i)
        elif c == ")":
            depth -= 1
        i += 1


def _paren_error(value: str, missing: bool) -> int:
    """The `(` left open (`missing`) or the first `)` without its `(`; RE2 names no position."""
    opened: list[int] = []
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            end = value.find("]", i + 2)
            i = n if end == -1 else end + 1
            continue
        if c == "(":
            opened.append(i)
        elif c == ")":
            if not opened and not missing:
                return i
            if opened:
                opened.pop()
        i += 1
    return opened[-1] if missing and opened else max(n - 1, 0)


def _position(value: str, detail: str) -> int:
    """Where RE2's error points: its messages end with the offending fragment."""
    fragment = detail.rpartition(": ")[2]
    if fragment == "(?P":  # (?P=name): the named groups before it are fine
        at = next(
            (
                i
                for i in range(len(value))
                if value.startswith(fragment, i) and not value.startswith("(?P<", i)
            ),
            -1,
        )
    else:
        at = value.find(fragment) if fragment else -1
    return max(at, 0)


class Regex:
    """One compiled Alertmanager regex value; `matches` is what the server's matcher answers."""

    __slots__ = ("_match", "pattern")

    def __init__(self, pattern: str, compiled: Any) -> None:
        self.pattern = pattern
        self._match = compiled.Match

    def matches(self, text: str) -> bool:
        # Straight to the engine: the wrapper's match objects cost 3x more, and the board runs
        # this for every alert on every key press.
        data = text.encode("utf-8", "surrogatepass")
        return bool(self._match(_UNANCHORED, data, 0, len(data))[0][0] != -1)

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"


@lru_cache(maxsize=512)
def compile_re2(value: str) -> Regex:
    """The regex Alertmanager builds from a matcher value; RegexError positions are in `value`."""
    _go_only_refusals(value)
    # Not fullmatch: Alertmanager wraps the text, so `a)|(b` is `^(?:a)|(b)$` there too.
    wrapped = f"^(?:{value})$"
    try:
        compiled = _re2.compile(wrapped, _OPTIONS)
    except _re2.error as exc:
        raw = exc.args[0] if exc.args else ""
        detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        if detail.startswith("missing ):"):
            detail, at = "missing )", _paren_error(value, missing=True)
        elif detail.startswith("unexpected ):"):
            detail, at = "unexpected )", _paren_error(value, missing=False)
        else:
            if detail.endswith(")$") and detail.rpartition(": ")[2] not in value:
                detail = detail[:-2]  # the anchors Alertmanager (and compile_re2) add
            at = _position(value, detail)
        raise RegexError(f"invalid regular expression: {detail}", min(at, len(value))) from None
    return Regex(value, compiled._regexp)
