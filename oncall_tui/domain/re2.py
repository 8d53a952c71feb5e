"""Alertmanager's regexes (Go RE2) run with Python's `re`: checked, translated, compiled.

A matcher that works here must also work on the server, and a filter runs on every key press
over 10,000 alerts, so a pattern that would backtrack for minutes is refused too.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache


class RegexError(ValueError):
    """A regex Alertmanager or this module refuses; `position` is a column in the pattern."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position


# Python's `re` is not Go's RE2, which Alertmanager runs; where they differ:
# - RE2 refuses lookarounds (?= (?! (?<= (?<!, backreferences \1 (?P=n), conditionals (?(,
#   atomic groups (?>, possessive quantifiers a*+, comments (?#, the flags a L u x, the escapes
#   \u \U \N \Z, repeat counts over 1000 and a{,n} (literal text to RE2, {0,n} to Python).
#   Python accepts them all: we refuse them, naming Alertmanager as the reason.
# - RE2's \d \w \s \b are ASCII: we compile with re.ASCII (which also makes (?i) fold ASCII
#   letters only, where RE2 folds all of Unicode).
# - POSIX classes [[:alpha:]] are RE2 classes but a set of characters to Python: translated.
# - RE2 runs in linear time; Python backtracks, and (a+)+ over 30 characters takes minutes.
#   A filter runs on every key press, so a group repeated more than once whose body holds a
#   repetition of variable count and no fixed element, like (a+)+ or (\w+\s?)*, is refused
#   (RE2 accepts it). ([a-z]+\.)+ passes: the dot fixes where each repetition ends. This is a
#   heuristic: (a|a)+ or (.*a)+ still backtrack, on label values made for it.
# - RE2 also refuses nested counts whose product exceeds 1000, like (a{100}){100}: not checked,
#   the server's error says so.
# - Go-only syntax Python rejects comes back as Python's error: \pL, \Q..\E, \z, \x{41}, (?U),
#   (?<name>...), flags mid-pattern a(?i)b (write a(?i:b)).
_MAX_REPEAT = 1000
_MAX_DEPTH = 100
_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": r"\x00-\x7f",
    "blank": r"\t ",
    "cntrl": r"\x00-\x1f\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": r"!-/:-@\[-`{-~",
    "space": r"\t\n\v\f\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_GROUP_REFUSED = {
    "(?=": "lookaheads",
    "(?!": "lookaheads",
    "(?<=": "lookbehinds",
    "(?<!": "lookbehinds",
    "(?P=": "backreferences",
    "(?(": "conditionals",
    "(?>": "atomic groups",
    "(?#": "comments",
}
_FLAGS = re.compile(r"\(\?([a-zA-Z]*(?:-[a-zA-Z]*)?)([:)])")
_QUANTIFIER = re.compile(r"\{(\d*)(,?)(\d*)\}")
_NAMED_GROUP = re.compile(r"\(\?P<[^>]*>")
_LITERALS = re.compile(r"[^\\\[\]()|*+?{}^$]+")


def _refused(what: str, at: int) -> RegexError:
    return RegexError(f"{what}: Alertmanager (Go RE2) would refuse this regex", at)


def _escape(value: str, at: int) -> str:
    """The escape at `at` (backslash included), if RE2 accepts it."""
    nxt = value[at + 1 : at + 2]
    if nxt and nxt in "123456789":
        raise _refused(f"backreference \\{nxt}", at)
    if nxt and nxt in "uUNZ":
        raise _refused(f"Python-only escape \\{nxt}", at)
    return value[at : at + 2]


def _char_class(value: str, at: int, out: list[str]) -> int:
    """Copy the class starting at `at` to `out` with POSIX names spelled out; return its end."""
    i = at + 1
    i += value.startswith("^", i)
    i += value.startswith("]", i)  # a leading ] is a literal in both engines
    out.append(value[at:i])
    while i < len(value):
        c = value[i]
        if c == "]":
            out.append(c)
            return i + 1
        if c == "\\":
            out.append(_escape(value, i))
            i += 2
        elif value.startswith("[:", i) and (end := value.find(":]", i + 2)) != -1:
            name = value[i + 2 : end]
            if name not in _POSIX:
                raise RegexError(f"unknown or negated POSIX class [:{name}:]", i)
            out.append(_POSIX[name])
            i = end + 2
        else:
            out.append("\\[" if c == "[" else c)  # Python warns about a bare [ in a set
            i += 1
    return i  # unterminated: Python reports it


def _quantifier(value: str, at: int) -> tuple[int, int, int | None]:
    """(end, min, max) of the quantifier at `at`; max None is unbounded; (at, 1, 1) if none."""
    c = value[at : at + 1]
    if c in ("*", "+", "?"):
        end, lo, hi = at + 1, (1 if c == "+" else 0), (1 if c == "?" else None)
    elif c == "{" and (q := _QUANTIFIER.match(value, at)) and (q[1] or q[2]):
        if not q[1]:
            raise RegexError("write a{0,n}: Python reads a{,n} as that, Alertmanager as text", at)
        if any(len(d) > 4 or int(d) > _MAX_REPEAT for d in (q[1], q[3]) if d):
            raise _refused(f"repeat count over {_MAX_REPEAT}", at)
        end, lo = q.end(), int(q[1])
        hi = int(q[3]) if q[3] else (None if q[2] else lo)
    else:
        return at, 1, 1
    if value.startswith("+", end):
        raise _refused("possessive quantifier", end)
    return end + value.startswith("?", end), lo, hi


@dataclass
class _Group:
    variable: bool = False  # holds a repetition of variable count (a+, a?, a{1,3}), at any depth
    alt_fixed: bool = False  # the current alternative holds an element that must match once
    all_fixed: bool = True  # every earlier alternative did


def _python_pattern(value: str) -> str:
    """`value` as Python should compile it; RegexError (position in `value`) if RE2 differs."""
    out: list[str] = []
    stack = [_Group()]
    i, n = 0, len(value)
    while i < n:
        c = value[i]
        group: _Group | None = None
        fixed = c not in "^$"
        if c == "|":
            stack[-1].all_fixed &= stack[-1].alt_fixed
            stack[-1].alt_fixed = False
            out.append(c)
            i += 1
            continue
        if c == "(":
            refused = next((w for p, w in _GROUP_REFUSED.items() if value.startswith(p, i)), "")
            if refused:
                raise _refused(refused, i)
            end = i + 1
            if (flags := _FLAGS.match(value, i)) is not None:
                if bad := set(flags[1]) & set("aLux"):
                    raise _refused(f"flag {min(bad)}", i)
                end = flags.end()
                if flags[2] == ")":  # (?i): flags only, no group
                    out.append(value[i:end])
                    i = end
                    continue
            elif (named := _NAMED_GROUP.match(value, i)) is not None:
                end = named.end()
            if len(stack) > _MAX_DEPTH:
                raise RegexError("regex nests too deeply", i)
            stack.append(_Group())
            out.append(value[i:end])
            i = end
            continue
        if c == ")" and len(stack) > 1:
            group = stack.pop()
            fixed = group.all_fixed and group.alt_fixed
            out.append(c)
            i += 1
        elif c == "\\":
            out.append(_escape(value, i))
            fixed = value[i + 1 : i + 2] not in ("b", "B", "A")
            i += 2
        elif c == "[":
            i = _char_class(value, i, out)
        else:
            # Literal runs are copied at once: only their last character can take a quantifier.
            run = _LITERALS.match(value, i)
            if run is not None and (last := run.end() - 1) > i:
                out.append(value[i:last])
                stack[-1].alt_fixed = True
                i = last
            out.append(value[i])
            i += 1
        end, lo, hi = _quantifier(value, i)
        if group is not None and group.variable and not fixed and (hi is None or hi > 1):
            raise RegexError(
                "nested repetition like (a+)+ can take minutes in Python's regex engine", i
            )
        out.append(value[i:end])
        i = end
        top = stack[-1]
        top.variable |= hi != lo or (group is not None and group.variable)
        top.alt_fixed |= fixed and lo == hi and lo >= 1
    return "".join(out)


@lru_cache(maxsize=512)
def compile_re2(value: str) -> re.Pattern[str]:
    """The Python regex for an Alertmanager regex value; RegexError positions are in `value`."""
    pattern = _python_pattern(value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FutureWarning on sets like [a--b]: same meaning today
        try:
            return re.compile(pattern, re.ASCII)
        except re.error as e:
            raise RegexError(
                f"invalid regular expression: {e.msg}", min(e.pos or 0, len(value))
            ) from None
        except (RecursionError, OverflowError) as e:
            raise RegexError(f"invalid regular expression: {e}", 0) from None
