"""The filter language of the alert board and of silence matchers.

Matchers are read exactly as the peer's Alertmanager reads them (domain/matcher_grammar.py):
the classic parser for 0.25 and 0.26, the UTF-8 parser with the classic fallback for 0.27+.
The board's filter adds one thing of its own: free-text words, searched case-insensitively in
label names, label values and annotation values (see parse_filter for how the two mix).
Regexes are fully anchored RE2, as in Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

from oncall_tui.domain.matcher_grammar import FilterError, Grammar, parse_many, parse_one, render

__all__ = [
    "Filter",
    "FilterError",
    "Grammar",
    "LabelMatcher",
    "parse_filter",
    "parse_matcher",
    "parse_matchers",
    "quote",
    "search_text",
]
from oncall_tui.domain.re2 import Regex, RegexError, compile_re2
from oncall_tui.wire.alertmanager import Matcher

Op = Literal["=", "!=", "=~", "!~"]
OPS: frozenset[str] = frozenset(get_args(Op))
_Predicate = Callable[[Mapping[str, str]], bool]

_QUOTED = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_ESCAPE = re.compile(r'\\(["\\n])')
_BARE_WORD = re.compile(r'[^\s,{}"=!~]+')
_NO_ANNOTATIONS: Mapping[str, str] = MappingProxyType({})


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
        """As Alertmanager prints it: the name quoted only if it holds a reserved rune."""
        return render(self.name, self.op, self.value)

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

    @property
    def words_only(self) -> bool:
        """Words and no matcher, none holding a NUL: then a word found in a text joined from
        whole fields (several alerts' search texts, or the fields all of them share) is
        found in one of those fields, and `words_in` decides for many alerts at once."""
        return bool(self._folded) and not self._tests and not self._spanning

    @property
    def folded_words(self) -> tuple[str, ...]:
        """The words as they are searched for in a `search_text`."""
        return self._folded

    def words_in(self, text: str) -> bool:
        """Whether every word occurs in `text` (search_text form: case-folded, NUL-joined)."""
        return all(word in text for word in self._folded)

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


def _build(name: str, op: Op, value: str) -> LabelMatcher:
    return LabelMatcher(name, op, value)


def _split(text: str) -> list[tuple[int, str]]:
    """Pieces separated by whitespace outside double quotes (a backslash escapes in quotes)."""
    pieces: list[tuple[int, str]] = []
    start: int | None = None
    quoted = escaped = False
    opened = 0
    for i, c in enumerate(text):
        if quoted:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                quoted = False
        elif c.isspace():
            if start is not None:
                pieces.append((start, text[start:i]))
                start = None
            continue
        elif c == '"':
            quoted, opened = True, i
        if start is None:
            start = i
    if quoted:
        raise FilterError("unterminated quote", opened)
    if start is not None:
        pieces.append((start, text[start:]))
    return pieces


def _outside_quotes(piece: str) -> str:
    return _QUOTED.sub("", piece)


def _word(piece: str, at: int) -> str:
    """A free-text word: bare, or double-quoted with the escapes \\\\ \\" \\n."""
    if not piece.startswith('"'):
        if '"' in piece:
            raise FilterError(
                'unexpected " in a word: quote the whole phrase', at + piece.index('"')
            )
        return piece
    m = _QUOTED.fullmatch(piece)
    if m is None:
        end = quoted.end() if (quoted := _QUOTED.match(piece)) else 0
        raise FilterError("expected a space after the closing quote", at + end)
    raw = m[1]
    return _ESCAPE.sub(lambda e: "\n" if e[1] == "n" else e[1], raw) if "\\" in raw else raw


def parse_filter(text: str, grammar: Grammar = Grammar.CLASSIC) -> Filter:
    """Parse what the user typed in the board's filter box (or a `{...}` selector).

    Whitespace outside quotes separates pieces; a piece with an operator (or a brace or comma)
    is a matcher list read exactly as the server reads one, any other piece a word. Text that
    does not split so but that the server reads as one matcher list (`a = b`, spaces around
    the operator) means that list. The one reading of ours: `a=b c` is a matcher and a word,
    where the server would read the value `b c`; quote a value that holds a space.
    """
    try:
        return _split_filter(text, grammar)
    except FilterError as split_error:
        try:
            return Filter(tuple(parse_many(text, _build, grammar)))
        except FilterError as whole:
            single = len(_pieces_or_none(text)) <= 1
            # A matcher's own error in the server's words; a word's error in ours.
            raise (whole if single and ("=" in text or "!~" in text) else split_error) from None


def _pieces_or_none(text: str) -> list[tuple[int, str]]:
    try:
        return _split(text)
    except FilterError:
        return []


def _split_filter(text: str, grammar: Grammar) -> Filter:
    matchers: list[LabelMatcher] = []
    words: list[str] = []
    for at, piece in _split(text):
        outside = _outside_quotes(piece)
        if "=" in outside or "!~" in outside or any(c in outside for c in ",}") or piece[0] == "{":
            try:
                matchers.extend(parse_many(piece, _build, grammar))
            except FilterError as exc:
                raise FilterError(exc.message, at + exc.position) from None
        else:
            words.append(_word(piece, at))
    return Filter(tuple(matchers), tuple(words))


def parse_matcher(text: str, grammar: Grammar = Grammar.CLASSIC) -> LabelMatcher:
    """Exactly one matcher, as the server reads a `filter=` value or amtool an argument."""
    return parse_one(text, _build, grammar)


def parse_matchers(text: str, grammar: Grammar = Grammar.CLASSIC) -> list[LabelMatcher]:
    """A matcher list (`{a="b", c=~"d"}`), as the server reads a config `matchers:` entry."""
    return parse_many(text, _build, grammar)
