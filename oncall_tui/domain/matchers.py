"""The filter language of the alert board and of silence matchers.

Matchers use amtool's and Alertmanager's syntax (`alertname=~"High.*"`, optionally inside
`{...}` and separated by commas); anything without an operator is a free-text word, searched
case-insensitively in label names, label values and annotation values. Regexes are fully
anchored, as in Alertmanager, and refused when Go's RE2 (which Alertmanager runs) would refuse
them, so a matcher that works here also works on the server.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Literal, cast, get_args

from ..api.am_models import Matcher

Op = Literal["=", "!=", "=~", "!~"]
OPS: frozenset[str] = frozenset(get_args(Op))
_Predicate = Callable[[Mapping[str, str]], bool]

_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SEPARATORS = re.compile(r"[\s,]*")
_SPACES = re.compile(r"\s*")
_NAME_END = re.compile(r'[\s,}"=!~]')
_BARE_END = re.compile(r'[\s,}"]')  # a quote inside a bare token is an error
_OP_RUN = re.compile(r"[=!~]+")
_QUOTED = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_ESCAPE = re.compile(r'\\(["\\n])')
_BARE_WORD = re.compile(r'[^\s,{}"=!~]+')
_NO_ANNOTATIONS: Mapping[str, str] = MappingProxyType({})


class FilterError(ValueError):
    """Text that is not a valid filter; `position` is the 0-based column the UI points at."""

    def __init__(self, message: str, position: int = 0) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return f"{self.message} (column {self.position + 1})"


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


def _refused(what: str, at: int) -> FilterError:
    return FilterError(f"{what}: Alertmanager (Go RE2) would refuse this regex", at)


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
                raise FilterError(f"unknown or negated POSIX class [:{name}:]", i)
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
            raise FilterError("write a{0,n}: Python reads a{,n} as that, Alertmanager as text", at)
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
    """`value` as Python should compile it; FilterError (position in `value`) if RE2 differs."""
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
                raise FilterError("regex nests too deeply", i)
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
            raise FilterError(
                "nested repetition like (a+)+ can take minutes in Python's regex engine", i
            )
        out.append(value[i:end])
        i = end
        top = stack[-1]
        top.variable |= hi != lo or (group is not None and group.variable)
        top.alt_fixed |= fixed and lo == hi and lo >= 1
    return "".join(out)


@lru_cache(maxsize=512)
def _compile(value: str) -> re.Pattern[str]:
    """The Python regex for an Alertmanager regex value; FilterError positions are in `value`."""
    pattern = _python_pattern(value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # FutureWarning on sets like [a--b]: same meaning today
        try:
            return re.compile(pattern, re.ASCII)
        except re.error as e:
            raise FilterError(
                f"invalid regular expression: {e.msg}", min(e.pos or 0, len(value))
            ) from None
        except (RecursionError, OverflowError) as e:
            raise FilterError(f"invalid regular expression: {e}", 0) from None


def _tester(name: str, op: str, value: str, regex: re.Pattern[str] | None) -> _Predicate:
    """A closure for one matcher: the board calls it 10,000 times per key press."""
    if regex is None:
        if op == "=":
            return lambda labels: labels.get(name, "") == value
        return lambda labels: labels.get(name, "") != value
    full = regex.fullmatch
    if op == "=~":
        return lambda labels: full(labels.get(name, "")) is not None
    return lambda labels: full(labels.get(name, "")) is None


def quote(text: str) -> str:
    """`text` double-quoted with the escapes both Alertmanager parsers read: \\\\ \\" \\n."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@dataclass(frozen=True, slots=True)
class LabelMatcher:
    """One Alertmanager matcher. A missing label counts as the empty string, as on the server.

    Invalid input raises FilterError; its position is then an offset into `value`.
    """

    name: str
    op: Op
    value: str
    regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _test: _Predicate = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise FilterError("empty label name", 0)
        if self.op not in OPS:
            raise FilterError(f"unknown operator {self.op!r}: use =, !=, =~ or !~", 0)
        regex = _compile(self.value) if self.op in ("=~", "!~") else None
        object.__setattr__(self, "regex", regex)
        object.__setattr__(self, "_test", _tester(self.name, self.op, self.value, regex))

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self._test(labels)

    @property
    def matches_empty(self) -> bool:
        """Matches an alert without the label; a silence needs a matcher for which this is False."""
        return self._test(_NO_ANNOTATIONS)

    def __str__(self) -> str:
        name = self.name if _NAME.fullmatch(self.name) else quote(self.name)
        return f"{name}{self.op}{quote(self.value)}"

    def to_api(self) -> Matcher:
        return Matcher(
            name=self.name,
            value=self.value,
            is_regex=self.op in ("=~", "!~"),
            is_equal=self.op in ("=", "=~"),
        )

    @classmethod
    def from_api(cls, m: Matcher) -> LabelMatcher:
        """Raises FilterError for a regex Python cannot run (Go-only syntax such as \\pL)."""
        op: Op = ("=~" if m.is_regex else "=") if m.is_equal else ("!~" if m.is_regex else "!=")
        return cls(m.name, op, m.value)


def search_text(labels: Mapping[str, str], annotations: Mapping[str, str] = _NO_ANNOTATIONS) -> str:
    """What free-text words are searched in, case-folded; worth keeping per alert between polls.

    Fields are joined by NUL; a word holding a NUL is checked field by field, never across two.
    """
    return "\0".join((*labels, *labels.values(), *annotations.values())).casefold()


def _in_one_field(
    words: tuple[str, ...], labels: Mapping[str, str], annotations: Mapping[str, str]
) -> bool:
    fields = [f.casefold() for f in (*labels, *labels.values(), *annotations.values())]
    return all(any(w in f for f in fields) for w in words)


@dataclass(frozen=True, slots=True)
class Filter:
    """What the board shows: alerts that match every matcher and contain every word."""

    matchers: tuple[LabelMatcher, ...] = ()
    words: tuple[str, ...] = ()
    _tests: tuple[_Predicate, ...] = field(init=False, repr=False, compare=False)
    _folded: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _spanning: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", tuple(w for w in self.words if w))
        object.__setattr__(self, "_tests", tuple(m._test for m in self.matchers))
        object.__setattr__(self, "_folded", tuple(w.casefold() for w in self.words))
        object.__setattr__(self, "_spanning", tuple(w for w in self._folded if "\0" in w))

    @property
    def is_empty(self) -> bool:
        return not self.matchers and not self.words

    def matches(
        self,
        labels: Mapping[str, str],
        annotations: Mapping[str, str] = _NO_ANNOTATIONS,
        *,
        text: str | None = None,
    ) -> bool:
        """`text`, if given, is `search_text(labels, annotations)` that the caller kept."""
        for test in self._tests:
            if not test(labels):
                return False
        if not self._folded:
            return True
        if text is None:
            text = search_text(labels, annotations)
        return all(word in text for word in self._folded) and (
            not self._spanning or _in_one_field(self._spanning, labels, annotations)
        )

    def __str__(self) -> str:
        words = (w if _BARE_WORD.fullmatch(w) else quote(w) for w in self.words)
        return " ".join([*map(str, self.matchers), *words])

    def api_filters(self) -> list[str]:
        """The matchers as values of Alertmanager's repeated `filter=` query parameter."""
        return [str(m) for m in self.matchers]


def _spaces(text: str, i: int, spaces: re.Pattern[str] = _SPACES) -> int:
    m = spaces.match(text, i)
    return m.end() if m else i


def _quoted(text: str, at: int) -> tuple[str, int]:
    """The string whose opening quote is at `at`, unescaped, and the index after it."""
    m = _QUOTED.match(text, at)
    if m is None:
        raise FilterError("unterminated quote", at)
    raw = m[1]
    value = _ESCAPE.sub(lambda e: "\n" if e[1] == "n" else e[1], raw) if "\\" in raw else raw
    return value, m.end()


def _column(text: str, start: int, index: int) -> int:
    """The column in `text` of character `index` of the quoted string opening at `start`."""
    col = start + 1
    for _ in range(index):
        escaped = text[col] == "\\" and text[col + 1 : col + 2] in ('"', "\\", "n")
        col += 2 if escaped else 1
    return col


def _after_quote(text: str, i: int) -> None:
    if i < len(text) and not (text[i] in ",}" or text[i].isspace()):
        raise FilterError("expected a space or a comma after the closing quote", i)


def _parse_item(text: str, start: int) -> tuple[LabelMatcher | str, int]:
    """The matcher or free-text word starting at `start`, and the index after it."""
    n = len(text)
    quoted_name = text[start] == '"'
    if quoted_name:
        name, i = _quoted(text, start)
    else:
        name_end = _NAME_END.search(text, start)
        i = name_end.start() if name_end else n
        name = text[start:i]
    op_at = _spaces(text, i)
    run = op.group() if (op := _OP_RUN.match(text, op_at)) else ""
    # A lone ! or ~ starts a word (wow!, ~x); a run with = or !~ is a mistyped operator.
    if run not in OPS and "=" not in run and not run.startswith("!~"):
        if quoted_name:
            _after_quote(text, i)
            return name, i
        word_end = _BARE_END.search(text, start)
        end = word_end.start() if word_end else n
        if end < n and text[end] == '"':
            raise FilterError('unexpected " in a word: quote the whole phrase', end)
        return text[start:end], end
    if not name:
        raise FilterError("missing label name" if not quoted_name else "empty label name", start)
    if not quoted_name and not _NAME.fullmatch(name):
        raise FilterError(
            f"invalid label name {name!r}: use letters, digits and _ (or quote the name)", start
        )
    if run not in OPS:
        raise FilterError(
            f"unknown operator {run!r}: use =, !=, =~ or !~ (quote a value starting with = ! ~)",
            op_at,
        )
    at = _spaces(text, op_at + len(run))
    if at >= n or text[at] in ",}" or text[at].isspace():
        raise FilterError(f'missing value after {run} (write "" for the empty string)', at)
    if text[at] == '"':
        value, end = _quoted(text, at)
        _after_quote(text, end)
    elif text[at] in "=!~":
        raise FilterError("a value starting with = ! or ~ must be quoted", at)
    else:
        value_end = _BARE_END.search(text, at)
        end = value_end.start() if value_end else n
        if end < n and text[end] == '"':
            raise FilterError('unexpected " in an unquoted value: quote the whole value', end)
        value = text[at:end]
    if run in ("=~", "!~"):
        try:
            _compile(value)
        except FilterError as e:
            col = _column(text, at, e.position) if text[at] == '"' else at + e.position
            raise FilterError(e.message, col) from None
    return LabelMatcher(name, cast(Op, run), value), end


def parse_filter(text: str) -> Filter:
    """Parse what the user typed in the board's filter box (or a `{...}` selector)."""
    matchers: list[LabelMatcher] = []
    words: list[str] = []
    n = len(text)
    i = _spaces(text, 0)
    braced = text.startswith("{", i)
    i += braced
    while True:
        i = _spaces(text, i, _SEPARATORS)
        if i >= n:
            if braced:
                raise FilterError("missing closing }", n)
            break
        if text[i] == "}":
            if not braced:
                raise FilterError("unexpected } (quote a value that contains one)", i)
            if (rest := _spaces(text, i + 1)) < n:
                raise FilterError("unexpected text after the closing }", rest)
            break
        item, i = _parse_item(text, i)
        if isinstance(item, LabelMatcher):
            matchers.append(item)
        else:
            words.append(item)
    return Filter(tuple(matchers), tuple(words))


def parse_matcher(text: str) -> LabelMatcher:
    """Exactly one matcher, like `severity="critical"` (a silence's matcher field)."""
    i = _spaces(text, 0)
    if i >= len(text):
        raise FilterError('empty matcher: write NAME=VALUE, like severity="critical"', i)
    if text[i] in ",}":
        raise FilterError(f"unexpected {text[i]}", i)
    item, end = _parse_item(text, i)
    if not isinstance(item, LabelMatcher):
        raise FilterError('missing operator: write NAME=VALUE, like severity="critical"', end)
    if (rest := _spaces(text, end)) < len(text):
        raise FilterError("unexpected text after the matcher", rest)
    return item
