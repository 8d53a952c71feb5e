"""Alertmanager's two matcher parsers, ported line for line, and the choice between them.

- **classic** (`pkg/labels/parse.go`, the only parser of 0.25 and 0.26): a name of
  `[a-zA-Z_:][a-zA-Z0-9_:]*`, spaces allowed around the operator, a value that may be quoted
  and in which `\\\\`, `\\"` and `\\n` are read as escapes (quoted or not; any other backslash
  stays). A list is split at commas outside quotes, after trimming one leading `{` and one
  trailing `}`.
- **UTF-8** (`matchers/parse`, 0.27+): tokens; names and values are either quoted (read with
  Go's `strconv.Unquote`) or unquoted runs without whitespace or ``{}!=~,\\"'` ``.
- **fallback** (0.27+'s default, `matchers/compat`): both run; the classic answer wins whenever
  the classic parser accepts the text (agreement, disagreement or a UTF-8 refusal alike), and
  the UTF-8 answer is used only when the classic parser refuses. A single matcher that starts
  with `{` or ends with `}` is refused outright.

Each parser builds matchers with a `build(name, op, value)` callback that may raise
FilterError (a regex RE2 refuses): as in Go, such a matcher fails that parser, not the other.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Literal, TypeVar

Op = Literal["=", "!=", "=~", "!~"]
M = TypeVar("M")
Build = Callable[[str, Op, str], M]


class FilterError(ValueError):
    """Text that is not a valid filter; `position` is the 0-based column the UI points at."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (column {self.position + 1})"


class Grammar(enum.Enum):
    """Which parser the peer runs: classic before 0.27, fallback from 0.27 (the default flags)."""

    CLASSIC = "classic"
    FALLBACK = "fallback"
    UTF8 = "utf8"  # --enable-feature=utf8-strict-mode


# --- Go's notions of space ------------------------------------------------------------------

# unicode.IsSpace: Latin-1 spaces plus the White_Space property above U+00FF.
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def go_is_space(c: str) -> bool:
    return c in _GO_SPACE


def go_trim_space(s: str) -> str:
    start, end = 0, len(s)
    while start < end and s[start] in _GO_SPACE:
        start += 1
    while end > start and s[end - 1] in _GO_SPACE:
        end -= 1
    return s[start:end]


# --- the classic parser (pkg/labels/parse.go) -----------------------------------------------

# Go's `\s` is ASCII [\t\n\f\r ] (no \v); `$` without (?m) is the end of the text.
_CLASSIC = re.compile(
    r"[\t\n\f\r ]*([a-zA-Z_:][a-zA-Z0-9_:]*)[\t\n\f\r ]*(=~|=|!=|!~)[\t\n\f\r ]*(.*?)[\t\n\f\r ]*\Z",
    re.DOTALL,
)


def classic_matcher(text: str, build: Build[M]) -> M:
    """labels.ParseMatcher."""
    m = _CLASSIC.match(text)
    if m is None:
        raise FilterError(f"bad matcher format: {text}", 0)
    name, op, raw = m[1], m[2], m[3]
    at = m.start(3)
    expect_trailing_quote = raw.startswith('"')
    if expect_trailing_quote:
        raw, at = raw[1:], at + 1
    out: list[str] = []
    cols: list[int] = []  # the column in `text` of each character of the value
    escaped = False
    last = len(raw) - 1
    for i, c in enumerate(raw):
        if escaped:
            escaped = False
            if c == "n":
                out.append("\n")
            elif c in '"\\':
                out.append(c)
            else:
                out.append("\\" + c)  # a spurious escape: the backslash stays
                cols.append(at + i - 1)
            cols.append(at + i - 1)
            continue
        if c == "\\":
            if i < last:
                escaped = True
                continue
            out.append("\\")
            cols.append(at + i)
        elif c == '"':
            if not expect_trailing_quote or i < last:
                raise FilterError(f"matcher value contains unescaped double quote: {m[3]}", at + i)
            expect_trailing_quote = False
        else:
            out.append(c)
            cols.append(at + i)
    if expect_trailing_quote:
        raise FilterError(f"matcher value contains unescaped double quote: {m[3]}", len(text))
    cols.append(at + len(raw))
    return _built(build, name, op, "".join(out), lambda k: cols[min(k, len(cols) - 1)])


def _built(build: Build[M], name: str, op: str, value: str, column: Callable[[int], int]) -> M:
    """build(...), with a FilterError's position (an offset in `value`) made a column."""
    try:
        return build(name, op, value)  # type: ignore[arg-type]
    except FilterError as exc:
        raise FilterError(exc.message, column(exc.position)) from None


def classic_matchers(text: str, build: Build[M]) -> list[M]:
    """labels.ParseMatchers: one `{` and one `}` trimmed, split at commas outside quotes."""
    offset = 1 if text.startswith("{") else 0
    s = text[offset:]
    if s.endswith("}"):
        s = s[:-1]
    tokens: list[tuple[int, str]] = []
    inside_quotes = escaped = False
    start = 0
    for i, c in enumerate(s):
        if c == ",":
            if not inside_quotes:
                tokens.append((start, s[start:i]))
                start = i + 1
                continue
        elif c == '"':
            if not escaped:
                inside_quotes = not inside_quotes
            else:
                escaped = False
        elif c == "\\":
            escaped = not escaped
        else:
            escaped = False
    if go_trim_space(last := s[start:]):
        lead = len(last) - len(last.lstrip("".join(_GO_SPACE)))
        tokens.append((start + lead, go_trim_space(last)))
    out: list[M] = []
    for at, token in tokens:
        try:
            out.append(classic_matcher(token, build))
        except FilterError as exc:
            raise FilterError(exc.message, offset + at + exc.position) from None
    return out


# --- the UTF-8 parser (matchers/parse) ------------------------------------------------------

_RESERVED = frozenset("{}!=~,\\\"'`")
_OPEN, _CLOSE, _COMMA, _OP, _QUOTED, _UNQUOTED, _EOF = range(7)


def _reserved(c: str) -> bool:
    return c in _RESERVED or c in _GO_SPACE


class _Token:
    __slots__ = ("kind", "start", "text")

    def __init__(self, kind: int, text: str, start: int) -> None:
        self.kind, self.text, self.start = kind, text, start


def _lex(text: str) -> tuple[list[_Token], FilterError | None]:
    """Every token up to the first lexer error, which the parser meets only if it gets there."""
    tokens: list[_Token] = []
    n, i = len(text), 0
    while i < n:
        c = text[i]
        if c in "{},":
            tokens.append(_Token({"{": _OPEN, "}": _CLOSE, ",": _COMMA}[c], c, i))
            i += 1
        elif c in "=!":
            two = text[i : i + 2]
            if c == "!" and two not in ("!=", "!~"):
                return tokens, FilterError(f"{two}: expected one of '=~'", i)
            op = two if two in ("!=", "!~", "=~") else "="
            tokens.append(_Token(_OP, op, i))
            i += len(op)
        elif c == '"':
            j, escaped = i + 1, False
            while j < n:
                if escaped:
                    escaped = False
                elif text[j] == "\\":
                    escaped = True
                elif text[j] == '"':
                    break
                j += 1
            if j >= n:
                return tokens, FilterError(f'{text[i:]}: missing end "', i)
            tokens.append(_Token(_QUOTED, text[i : j + 1], i))
            i = j + 1
        elif not _reserved(c):
            j = i + 1
            while j < n and not _reserved(text[j]):
                j += 1
            tokens.append(_Token(_UNQUOTED, text[i:j], i))
            i = j
        elif c in _GO_SPACE:
            i += 1
        else:
            return tokens, FilterError(f"{c}: invalid input", i)
    return tokens, None


_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
_HEX = frozenset("0123456789abcdefABCDEF")


def go_unquote(quoted: str) -> str:
    """strconv.Unquote of a double-quoted Go string, then the parser's UTF-8 check.

    Raises ValueError where Go answers ErrSyntax or the text is not valid UTF-8.
    """
    body = quoted[1:-1]
    if "\n" in body:
        raise ValueError("newline in a quoted string")
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            i += 1
            continue
        if i + 1 >= n:
            raise ValueError("trailing backslash")
        e = body[i + 1]
        if e in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[e])
            i += 2
        elif e in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i + 2 : i + 2 + size]
            if len(digits) != size or not set(digits) <= _HEX:
                raise ValueError(f"bad \\{e} escape")
            v = int(digits, 16)
            if e == "x":
                out.append(v)
            elif v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                raise ValueError("invalid code point")
            else:
                out += chr(v).encode("utf-8")
            i += 2 + size
        elif e in "01234567":
            digits = body[i + 1 : i + 4]
            if len(digits) != 3 or not set(digits) <= set("01234567") or int(digits, 8) > 255:
                raise ValueError("bad octal escape")
            out.append(int(digits, 8))
            i += 4
        else:
            raise ValueError(f"unknown escape \\{e}")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("quoted string contains invalid UTF-8 code points") from None


def _unquoted(t: _Token) -> str:
    if t.kind != _QUOTED:
        return t.text
    try:
        return go_unquote(t.text)
    except ValueError:
        raise FilterError(f"{t.text}: invalid input", t.start) from None


def _offset(at: int) -> Callable[[int], int]:
    return lambda k: at + k


def utf8_matchers(text: str, build: Build[M]) -> list[M]:
    """matchers/parse.Matchers."""
    tokens, lex_error = _lex(text)
    pos = 0

    def peek() -> _Token:
        if pos < len(tokens):
            return tokens[pos]
        if lex_error is not None:
            raise lex_error
        return _Token(_EOF, "", len(text))

    def unexpected(t: _Token, what: str) -> FilterError:
        if t.kind == _EOF:
            return FilterError(f"end of input: {what}", len(text))
        return FilterError(f"unexpected {t.text}: {what}", t.start)

    out: list[M] = []
    braced = peek().kind == _OPEN
    pos += braced
    t = peek()
    if t.kind == _EOF and not braced:
        return out
    while t.kind not in (_CLOSE, _EOF):
        if t.kind not in (_QUOTED, _UNQUOTED):
            raise unexpected(t, "expected label name")
        name = _unquoted(t)
        pos += 1
        op = peek()
        if op.kind != _OP:
            raise unexpected(op, "expected an operator such as '=', '!=', '=~' or '!~'")
        pos += 1
        v = peek()
        if v.kind not in (_QUOTED, _UNQUOTED):
            raise unexpected(v, "expected label value")
        pos += 1
        out.append(
            _built(build, name, op.text, _unquoted(v), _offset(v.start + (v.kind == _QUOTED)))
        )
        t = peek()
        if t.kind == _COMMA:
            pos += 1
            t = peek()
            if t.kind not in (_CLOSE, _EOF, _QUOTED, _UNQUOTED):
                raise unexpected(t, "expected a matcher or close brace after comma")
        elif t.kind not in (_CLOSE, _EOF):
            raise unexpected(t, "expected a comma or close brace")
    if braced:
        if t.kind != _CLOSE:
            raise FilterError("expected close brace", len(text))
        pos += 1
    elif t.kind == _CLOSE:
        raise FilterError("}: expected opening brace", t.start)
    t = peek()
    if t.kind != _EOF:
        raise FilterError(f"{t.text}: expected end of input", t.start)
    return out


def utf8_matcher(text: str, build: Build[M]) -> M:
    """matchers/parse.Matcher: exactly one."""
    found = utf8_matchers(text, build)
    if len(found) != 1:
        raise FilterError("no matchers" if not found else f"expected 1 matcher, found {len(found)}")
    return found[0]


# --- what a peer runs -----------------------------------------------------------------------


def parse_one(text: str, build: Build[M], grammar: Grammar) -> M:
    """One matcher as the peer reads a `filter=` value or an amtool argument."""
    if grammar is Grammar.CLASSIC:
        return classic_matcher(text, build)
    if text.startswith("{") or text.endswith("}"):
        raise FilterError(f"unexpected open or close brace: {text}", 0)
    if grammar is Grammar.UTF8:
        return utf8_matcher(text, build)
    try:
        return classic_matcher(text, build)
    except FilterError as classic:
        try:
            return utf8_matcher(text, build)
        except FilterError:
            raise classic from None


def parse_many(text: str, build: Build[M], grammar: Grammar) -> list[M]:
    """A matcher list as the peer reads a config `matchers:` entry or a `{...}` selector."""
    if grammar is Grammar.CLASSIC:
        return classic_matchers(text, build)
    if grammar is Grammar.UTF8:
        return utf8_matchers(text, build)
    try:
        return classic_matchers(text, build)
    except FilterError as classic:
        try:
            return utf8_matchers(text, build)
        except FilterError:
            raise classic from None


def needs_quoted_name(name: str) -> bool:
    """pkg/labels Matcher.String (0.27+): the name is quoted when it holds a reserved rune.

    Also when it is empty (Go prints `="x"`, which no parser reads back; `""="x"` is read).
    """
    return not name or any(_reserved(c) for c in name)


_GO_ESCAPES = {
    "\a": r"\a",
    "\b": r"\b",
    "\f": r"\f",
    "\n": r"\n",
    "\r": r"\r",
    "\t": r"\t",
    "\v": r"\v",
}


def go_quote(text: str) -> str:
    """strconv.Quote: printable runes kept (Go's IsPrint is Python's isprintable), the rest
    escaped as Go escapes them."""
    out = ['"']
    for c in text:
        o = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        elif c in _GO_ESCAPES:
            out.append(_GO_ESCAPES[c])
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif o < 0x10000:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


def om_escape(value: str) -> str:
    """openMetricsEscape: only \\\\, \\n and \\" are escaped."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(name: str, op: str, value: str) -> str:
    """pkg/labels Matcher.String of 0.27+ (and of 0.25 for every classic name)."""
    if needs_quoted_name(name):
        return f"{go_quote(name)}{op}{go_quote(value)}"
    return f'{name}{op}"{om_escape(value)}"'
