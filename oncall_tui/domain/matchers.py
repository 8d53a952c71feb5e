"""The filter language of the alert board and of silence matchers.

Matchers use amtool's and Alertmanager's syntax (`alertname=~"High.*"`, optionally inside
`{...}` and separated by commas); anything without an operator is a free-text word, searched
case-insensitively in label names, label values and annotation values. Regexes are fully
anchored, as in Alertmanager, and refused when Go's RE2 (which Alertmanager runs) would refuse
them, so a matcher that works here also works on the server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, cast, get_args

from oncall_tui.domain.re2 import Regex, RegexError, compile_re2
from oncall_tui.wire.alertmanager import Matcher

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


def _compile(value: str) -> Regex:
    """The RE2 regex for an Alertmanager regex value; FilterError positions are in `value`."""
    try:
        return compile_re2(value)
    except RegexError as exc:
        raise FilterError(exc.message, exc.position) from None


def _tester(name: str, op: str, value: str, regex: Regex | None) -> _Predicate:
    """A closure for one matcher: the board calls it 10,000 times per key press."""
    if regex is None:
        if op == "=":
            return lambda labels: labels.get(name, "") == value
        return lambda labels: labels.get(name, "") != value
    test = regex.matches
    if op == "=~":
        return lambda labels: test(labels.get(name, ""))
    return lambda labels: not test(labels.get(name, ""))


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
    regex: Regex | None = field(init=False, repr=False, compare=False)
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
        """Raises FilterError for a regex Alertmanager would refuse."""
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
