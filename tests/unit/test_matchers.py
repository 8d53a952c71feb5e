"""The filter language: amtool matchers, free-text words, Alertmanager semantics, errors."""

from __future__ import annotations

import random
import re
import time

import pytest

from oncall_tui.domain.matchers import (
    Filter,
    FilterError,
    Grammar,
    LabelMatcher,
    parse_filter,
    parse_matcher,
    parse_matchers,
    quote,
    search_text,
)
from oncall_tui.wire.alertmanager import Matcher

FALLBACK = Grammar.FALLBACK

ALERT = {
    "alertname": "HighErrorRate",
    "severity": "critical",
    "service": "churn-api",
    "instance": "10.0.0.7:9100",
    "empty": "",
}
ANNOTATIONS = {"summary": "Disk FULL on node-3", "runbook_url": "https://runbooks/HighErrorRate"}


def m(name: str, op: str, value: str) -> LabelMatcher:
    return LabelMatcher(name, op, value)  # type: ignore[arg-type]


# --- matchers: operators, values, anchoring, missing labels ------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('alertname="HighErrorRate"', True),
        ('alertname="higherrorrate"', False),  # matchers are case-sensitive, words are not
        ('alertname!="HighErrorRate"', False),
        ('alertname!="Other"', True),
        ('alertname=~"High.*"', True),
        ('alertname=~"High"', False),  # fully anchored, like Alertmanager
        ('alertname=~"ErrorRate"', False),
        ('alertname=~".*Error.*"', True),
        ('alertname=~"High.*|Low.*"', True),
        ('alertname=~"Low.*|High.*"', True),
        ('alertname!~"High.*"', False),
        ('alertname!~"High"', True),
        ('severity=~"critical|warning"', True),
        ('severity=~"(?i)CRITICAL"', True),
        ('severity=~"crit"', False),
        ('instance=~"10\\\\.0\\\\.0\\\\.\\\\d+:9100"', True),
        ('instance=~"[[:digit:].]+:9100"', True),  # POSIX classes as RE2 reads them
        ('service=~"[[:alpha:]]+"', False),
        ('service=~"[[:alpha:]-]+"', True),
        ('instance=~"(\\\\d+\\\\.)+\\\\d+:\\\\d+"', True),
        ("alertname=HighErrorRate", True),  # bare values
        ("instance=10.0.0.7:9100", True),
        ("severity!=info", True),
        ("alertname=~High.*", True),
        ("alertname = HighErrorRate", True),  # amtool allows spaces around the operator
        ('alertname =~ "High.*"', True),
        ('empty=""', True),
        ('empty!=""', False),
        ('empty=~""', True),
        ('empty=~".+"', False),
    ],
)
def test_operators(text: str, expected: bool) -> None:
    matcher = parse_matcher(text)
    assert matcher.matches(ALERT) is expected
    assert parse_filter(text).matches(ALERT) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('foo=""', True),  # a missing label is the empty string, as in Alertmanager
        ('foo!=""', False),
        ('foo="x"', False),
        ('foo!="x"', True),
        ('foo=~".*"', True),
        ('foo=~".+"', False),
        ('foo!~".+"', True),
        ('foo!~".*"', False),
        ('foo=~"x|"', True),
        ('foo=~"x?"', True),
    ],
)
def test_a_missing_label_is_the_empty_string(text: str, expected: bool) -> None:
    matcher = parse_matcher(text)
    assert matcher.matches(ALERT) is expected
    assert matcher.matches_empty is expected


@pytest.mark.parametrize(
    ("text", "empty"),
    [
        ('a=""', True),
        ('a="x"', False),
        ('a!=""', False),
        ('a!="x"', True),
        ('a=~".*"', True),
        ('a=~"x*"', True),
        ('a=~"(x|)"', True),
        ('a=~".+"', False),
        ('a=~"x"', False),
        ('a!~".*"', False),
        ('a!~".+"', True),
        ('a!~"x"', True),
    ],
)
def test_matches_empty(text: str, empty: bool) -> None:
    """Alertmanager refuses a silence whose matchers all match the empty string."""
    assert parse_matcher(text).matches_empty is empty


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('a="x y"', "x y"),
        ('a="say \\"hi\\""', 'say "hi"'),
        ('a="back\\\\slash"', "back\\slash"),
        ('a="two\\nlines"', "two\nlines"),
        ('a="a\\.b"', "a\\.b"),  # other escapes keep their backslash, as in amtool
        ('a="tab\\t"', "tab\\t"),
        ('a="\\\\n"', "\\n"),
        ('a="\\\\"', "\\"),
        ('a=""', ""),
        ('a="x,y}z"', "x,y}z"),
        ('a="ünïcødé ✓"', "ünïcødé ✓"),
        ('a="raw\ttab"', "raw\ttab"),
        ("a=bare", "bare"),
        ("a=b\\c", "b\\c"),  # no escapes in bare values
        ("a=é", "é"),
        ("a=x{y", "x{y"),
        ("a==", "="),  # the classic parser reads everything after the operator
        ("a=b\\nc", "b\nc"),  # ... and its escapes, quoted or not
        ('a="b', None),
    ],
)
def test_values(text: str, value: str | None) -> None:
    if value is None:
        with pytest.raises(FilterError):
            parse_matcher(text)
    else:
        assert parse_matcher(text).value == value


def test_regex_escape_in_quotes_reaches_the_regex() -> None:
    dotted = parse_matcher('a=~"a\\.b"')
    assert dotted.value == "a\\.b"
    assert dotted.matches({"a": "a.b"})
    assert not dotted.matches({"a": "axb"})
    assert parse_matcher('a=~"a\\\\.b"') == dotted


def test_regexes_are_ascii_like_re2() -> None:
    assert parse_matcher('a=~"\\\\d+"').matches({"a": "123"})
    assert not parse_matcher('a=~"\\\\d+"').matches({"a": "١٢٣"})  # Arabic-Indic digits
    assert not parse_matcher('a=~"\\\\w"').matches({"a": "é"})
    assert parse_matcher('a=~"."').matches({"a": "é"})
    assert not parse_matcher('a=~".*"').matches({"a": "x\ny"})  # no (?s), as in RE2
    assert parse_matcher('a=~"(?s).*"').matches({"a": "x\ny"})


@pytest.mark.parametrize(
    "value",
    [
        "([a-z]+\\.)+example",
        "(web-\\d+,)*",
        "(https?://)?x",
        "(\\d+)?",
        "(a|b)+",
        "(?:ab)+",
        "(a{2})+",
        "x+",
        "[(]+",
        "\\(a+\\)+",
        "(?i)a+",
        "(?P<n>a)+",
    ],
)
def test_safe_repetitions_are_accepted(value: str) -> None:
    assert LabelMatcher("a", "=~", value).regex is not None


@pytest.mark.parametrize(
    "value",
    [
        "(a+)+",
        "(a*)*",
        "(\\w+\\s?)*",
        "(?:a|b+)+",
        "((a+))+",
        "(a?)+",
        "(.*)+",
        "(a+){2,}",
        "(a+){2}",
    ],
)
def test_nested_repetition_is_accepted_and_linear(value: str) -> None:
    """Alertmanager's RE2 accepts these and runs them in linear time; so does the board."""
    matcher = LabelMatcher("a", "=~", value)
    hostile = "a" * 40 + "!"
    started = time.perf_counter()
    matcher.matches({"a": hostile})
    assert time.perf_counter() - started < 0.1


# --- filters: braces, commas, words -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'alertname="HighErrorRate" severity!="info"',
        'alertname="HighErrorRate",severity!="info"',
        'alertname="HighErrorRate", severity!="info"',
        '{alertname="HighErrorRate", severity!="info"}',
        '{ alertname="HighErrorRate" , severity!="info" , }',
        "{alertname=HighErrorRate,severity!=info}",
        "alertname=HighErrorRate,severity!=info,",
        'alertname="HighErrorRate"\tseverity!="info"\n',
    ],
)
def test_separators_and_braces(text: str) -> None:
    expected = Filter((m("alertname", "=", "HighErrorRate"), m("severity", "!=", "info")))
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "{}", "{ } ", "}", '""'])
def test_empty_filters(text: str) -> None:
    f = parse_filter(text)
    assert f.is_empty
    assert f.matches(ALERT, ANNOTATIONS)
    assert f.matches({})
    assert str(f) == ""
    assert f.api_filters() == []


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("disk", ("disk",)),
        ("disk full", ("disk", "full")),
        ('"disk full"', ("disk full",)),
        ('"disk full" node', ("disk full", "node")),
        ("wow! ~x", ("wow!", "~x")),
        ("!negated", ("!negated",)),
        ("a!b", ("a!b",)),
        ("foo-bar", ("foo-bar",)),
        ("http://x/y", ("http://x/y",)),
        ('"a=b"', ("a=b",)),
        ("x{y", ("x{y",)),
        ("ünïcødé", ("ünïcødé",)),
        ('"" x', ("x",)),
    ],
)
def test_words(text: str, words: tuple[str, ...]) -> None:
    f = parse_filter(text)
    assert f.matchers == ()
    assert f.words == words


def test_words_and_matchers_mix() -> None:
    f = parse_filter('churn severity="critical" "disk full" alertname=~"High.*"')
    assert f.matchers == (m("severity", "=", "critical"), m("alertname", "=~", "High.*"))
    assert f.words == ("churn", "disk full")
    assert f.matches(ALERT, ANNOTATIONS)
    assert not f.matches(ALERT)  # "disk full" is only in an annotation
    assert not f.matches({**ALERT, "severity": "info"}, ANNOTATIONS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("churn", True),  # label value
        ("CHURN", True),
        ("Api", True),
        ("servICE", True),  # label name
        ("highERRORrate", True),
        ("disk", True),  # annotation value
        ('"disk full"', True),
        ("node-3", True),
        ("runbooks", True),
        ("summary", False),  # annotation names are not searched
        ("runbook_url", False),
        ("churn disk", True),  # every word must match
        ("churn nothere", False),
        ("9100", True),
        ('"critical\x00churn"', False),  # a word never spans two fields
        ("api-churn", False),
    ],
)
def test_words_search_labels_and_annotations_case_insensitively(text: str, expected: bool) -> None:
    f = parse_filter(text)
    assert f.matches(ALERT, ANNOTATIONS) is expected
    assert f.matches(ALERT, ANNOTATIONS, text=search_text(ALERT, ANNOTATIONS)) is expected


def test_words_fold_unicode_case() -> None:
    assert parse_filter("STRASSE").matches({"street": "Straße"})
    assert parse_filter("ÉTÉ").matches({"season": "été"})


def test_api_filters() -> None:
    f = parse_filter('{alertname=~"High.*", severity!=info, "service.name"="a\\"b"}', FALLBACK)
    assert f.api_filters() == [
        'alertname=~"High.*"',
        'severity!="info"',
        'service.name="a\\"b"',  # 0.27+ quotes a name only when it holds a reserved rune
    ]


def test_filter_equality_and_hash() -> None:
    a = parse_filter('alertname="X" disk')
    b = Filter((m("alertname", "=", "X"),), ("disk",))
    assert a == b
    assert hash(a) == hash(b)
    assert a != parse_filter('alertname="X" Disk')
    assert Filter(words=("", "x", "")).words == ("x",)
    assert {parse_matcher("a=~x"), parse_matcher('a=~"x"')} == {m("a", "=~", "x")}


# --- rendering and round trips ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ('alertname=~"High.*"', 'alertname=~"High.*"'),
        ("{alertname=X, severity!=info}", 'alertname="X" severity!="info"'),
        ("disk    full", "disk full"),
        ('"disk full" a=b', 'a="b" "disk full"'),
        ("wow!", '"wow!"'),
        ('a="x\\"y\\\\z\\nw"', 'a="x\\"y\\\\z\\nw"'),
        ('a=~"a\\.b"', 'a=~"a\\\\.b"'),
        ('"service.name"="x"', 'service.name="x"'),
        ('"alertname"="x"', 'alertname="x"'),
        ('"{x"', '"{x"'),
        ('"x y"=~".*"', '"x y"=~".*"'),
        ('"foo🙂"="bar"', 'foo🙂="bar"'),
        ('"a\\tb"="\\x41"', '"a\\tb"="A"'),  # a quoted name: strconv.Quote for both
    ],
)
def test_str_is_canonical(text: str, canonical: str) -> None:
    """Rendered as Alertmanager 0.27.0's pkg/labels Matcher.String renders it."""
    f = parse_filter(text, FALLBACK)
    assert str(f) == canonical
    assert parse_filter(canonical, FALLBACK) == f


ROUND_TRIPS = [
    'alertname="X"',
    'a!="" b=~"x|y" c!~"(?i)z" words "and a phrase"',
    '{a="1", b="2"}',
    'a="\\\\" b="\\"" c="\\n" d="\\\\n"',
    'a="tab\there" b="cr\rhere"',
    '"with space"="v" "a,b" "}" "{" "=" "!=" ","',
    "ünïcødé 名前 emoji😀",
    '"\\"quoted\\""',
    "back\\slash",
    'a="\x1b[31mred"',
]


@pytest.mark.parametrize("text", ROUND_TRIPS)
def test_round_trip(text: str) -> None:
    f = parse_filter(text, FALLBACK)
    assert parse_filter(str(f), FALLBACK) == f
    assert str(parse_filter(str(f), FALLBACK)) == str(f)


@pytest.mark.parametrize(
    "matcher",
    [
        m("alertname", "=", "X"),
        m("a", "!=", ""),
        m("a", "=~", "High.*"),
        m("a", "!~", "(?i)x|y"),
        m("service.name", "=", 'quote " and \\ and \n'),
    ],
)
def test_api_round_trip(matcher: LabelMatcher) -> None:
    api = matcher.to_api()
    assert isinstance(api, Matcher)
    assert LabelMatcher.from_api(api) == matcher
    assert api.is_regex is (matcher.op in ("=~", "!~"))
    assert api.is_equal is (matcher.op in ("=", "=~"))


@pytest.mark.parametrize(
    ("api", "text"),
    [
        (Matcher("a", "x"), 'a="x"'),
        (Matcher("a", "x", is_equal=False), 'a!="x"'),
        (Matcher("a", "x.*", is_regex=True), 'a=~"x.*"'),
        (Matcher("a", "x.*", is_regex=True, is_equal=False), 'a!~"x.*"'),
    ],
)
def test_from_api(api: Matcher, text: str) -> None:
    matcher = LabelMatcher.from_api(api)
    assert str(matcher) == text == str(api)
    assert parse_matcher(text) == matcher


def test_from_api_with_go_syntax_counts_the_silence() -> None:
    """A silence using RE2-only syntax (\\pL) matches, so ack and match counts include it."""
    matcher = LabelMatcher.from_api(Matcher("a", "\\pL+", is_regex=True))
    assert matcher.matches({"a": "Zürich"})
    assert not matcher.matches({"a": "Zürich 1"})


def test_from_api_with_a_refused_regex_raises_filter_error() -> None:
    with pytest.raises(FilterError, match="invalid regular expression"):
        LabelMatcher.from_api(Matcher("a", "(?=x)", is_regex=True))


def test_quote() -> None:
    assert quote('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert quote("") == '""'


# --- errors and their positions -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ('a="abc', 6, "unescaped double quote"),  # the server's words for a matcher
        ('"disk full', 0, "unterminated quote"),
        ('x y "z', 4, "unterminated quote"),
        ("=x", 0, "bad matcher format"),
        ("a, =~x", 0, "bad matcher format"),
        ("foo-bar=x", 0, "bad matcher format"),  # classic (0.25): not a classic name
        ("a.b=x", 0, "bad matcher format"),
        (",", 0, "bad matcher format"),  # not an empty set: both parsers refuse it
        (",,,", 0, "bad matcher format"),
        ("{,}", 1, "bad matcher format"),
        ("a=b,,c=d", 4, "bad matcher format"),
        ("disk,full", 0, "bad matcher format"),
        ("{disk}", 1, "bad matcher format"),
        # RE2's own words, as Alertmanager (Go RE2) says them, pointing at the fragment.
        ('a=~"(x"', 4, "invalid regular expression: missing )"),
        ('a=~"x)"', 5, "invalid regular expression: unexpected )"),
        ('a=~"[x"', 4, "invalid regular expression: missing ]: [x"),
        ('a=~"*x"', 4, "invalid regular expression: no argument for repetition operator: *"),
        ('a=~"\\\\pX"', 4, "invalid regular expression: invalid character class range: \\pX"),
        ('a=~"\\"\\"(x"', 8, "invalid regular expression"),  # columns count the escapes
        ("a=~(x", 3, "invalid regular expression"),
        ("b x a=~x(", 8, "invalid regular expression"),
        ('a=~"x(?=y)"', 5, "invalid perl operator: (?="),
        ('a=~"x(?!y)"', 5, "invalid perl operator: (?!"),
        ('a=~"(?<=y)x"', 4, "invalid perl operator: (?<="),
        ('a=~"(?<!y)x"', 4, "invalid perl operator: (?<!"),
        ('a=~"(x)\\\\1"', 7, "invalid escape sequence: \\1"),
        ('a=~"(?P<n>x)(?P=n)"', 12, "invalid perl operator: (?P"),
        ('a=~"[\\\\1]"', 5, "invalid escape sequence: \\1"),
        ('a=~"(?(1)a|b)"', 4, "invalid perl operator: (?("),
        ('a=~"(?>x)"', 4, "invalid perl operator: (?>"),
        ('a=~"x*+"', 5, "bad repetition operator: *+"),
        ('a=~"(?#note)x"', 4, "invalid perl operator: (?#"),
        ('a=~"(?x)a b"', 4, "invalid perl operator: (?x"),
        ('a=~"(?a:x)"', 4, "invalid perl operator: (?a"),
        ('a=~"x{1001}"', 5, "invalid repetition size: {1001}"),
        ('a=~"x{1,99999999}"', 5, "invalid repetition size"),
        ('a=~"[[:nope:]]"', 5, "invalid character class range: [:nope:]"),
        ('a=~"\\\\C"', 4, "invalid escape sequence: \\C"),  # Go refuses it, C++ RE2 not
        ('a=~"' + "(" * 1001 + ")" * 1001 + '"', 1004, "nests too deeply"),
        ('a="x"y', 4, "unescaped double quote"),
        ('"disk"full', 6, "after the closing quote"),
        ('a=x"y"', 3, "unescaped double quote"),
        ('dis"k', 3, "unterminated quote"),
    ],
)
def test_errors_point_at_the_problem(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_filter(text)
    assert message in info.value.message
    assert info.value.position == position, f"{text!r}: {info.value}"
    assert isinstance(info.value, ValueError)
    assert str(info.value) == f"{info.value.message} (column {position + 1})"


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "bad matcher format"),
        ("   ", 0, "bad matcher format"),
        ("disk", 0, "bad matcher format"),
        ('"disk full"', 0, "bad matcher format"),
        ("{a=b}", 0, "bad matcher format"),
        (",a=b", 0, "bad matcher format"),
    ],
)
def test_parse_matcher_errors(text: str, position: int, message: str) -> None:
    with pytest.raises(FilterError) as info:
        parse_matcher(text)
    assert message in info.value.message
    assert info.value.position == position


def test_classic_trims_one_brace_at_the_very_ends_only() -> None:
    """pkg/labels ParseMatchers: `{a=b}  ` keeps its `}`, which joins the value (0.25 and, the
    classic reading winning, 0.27+ alike)."""
    assert parse_matchers("{a=b}  ") == [m("a", "=", "b}")]
    assert parse_matchers("{a=b}  ", FALLBACK) == [m("a", "=", "b}")]
    assert parse_matchers('{a="b"}  ', FALLBACK) == [m("a", "=", "b")]  # UTF-8 reads this one
    assert parse_matchers("}") == []  # and a lone } is an empty list, as on the server


def test_fallback_prefers_the_classic_reading() -> None:
    """0.27's compat parser: where both parsers accept but disagree, the classic answer wins."""
    assert parse_matcher('a="\\t"', FALLBACK).value == "\\t"  # classic keeps the backslash
    assert parse_matcher('"a"="\\t"', FALLBACK).value == "\t"  # only UTF-8 reads this one
    assert parse_matchers("a=b c", FALLBACK) == [m("a", "=", "b c")]


def test_parse_matcher() -> None:
    assert parse_matcher('  severity="critical"  ') == m("severity", "=", "critical")
    assert parse_matcher('"service.name"!~"a|b"', FALLBACK) == m("service.name", "!~", "a|b")
    assert parse_matcher("a=b c=d") == m("a", "=", "b c=d")  # classic: the rest is the value
    assert parse_matcher("a=") == m("a", "=", "")
    with pytest.raises(FilterError, match="unexpected open or close brace"):
        parse_matcher("{a=b}", FALLBACK)


@pytest.mark.parametrize(
    ("name", "op", "value", "message"),
    [
        ("a", "==", "x", "unknown operator"),
        ("a", "=~", "(x", "invalid regular expression"),
        ("a", "!~", "(?=x)", "invalid perl operator: (?="),
    ],
)
def test_label_matcher_validates(name: str, op: str, value: str, message: str) -> None:
    with pytest.raises(FilterError, match=re.escape(message)):
        LabelMatcher(name, op, value)  # type: ignore[arg-type]


def test_label_matcher_regex_error_position_is_in_the_value() -> None:
    with pytest.raises(FilterError) as info:
        LabelMatcher("a", "=~", "ab(c")
    assert info.value.position == 2


def test_filter_error_pickles_its_fields() -> None:
    error = FilterError("bad", 3)
    assert error.args == ("bad", 3)
    assert (error.message, error.position) == ("bad", 3)


# --- hostile input ------------------------------------------------------------------------


HOSTILE = [
    "\x00",
    "\x1b[2J\x1b[31m",
    "a=\x00",
    'a="\x00\x07\x08"',
    "\x7f\x80\x9f",
    "\u202e\u2066evil",
    "a\u2028b",
    "\ud800",
    'a="\udfff"',
    "\ufeff=x",
    "名前=値",
    '"名前"="値"',
    "a" * 100_000,
    "a=b " * 10_000,
    '"' * 1001,
    "\\" * 1001,
    "{" * 500 + "}" * 500,
    "(" * 5000,
    'a=~"' + "(" * 5000 + '"',
    'a=~"' + "a" * 50_000 + '"',
    'a=~"' + "[" * 2000 + '"',
    'a=~"' + "\\" * 999 + '"',
    'a=~"x{99999999999999999999}"',
    'a=~"x{' + "9" * 5000 + '}"',
    "a=~" + "*" * 100,
    '"' + "\\" * 1000,
    "=" * 1000,
    "!~" * 500,
    ",}",
    "{,",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_raises_only_filter_error(text: str) -> None:
    try:
        f = parse_filter(text)
    except FilterError as e:
        assert 0 <= e.position <= len(text)
        return
    assert parse_filter(str(f)) == f
    f.matches(ALERT, ANNOTATIONS)


def test_seeded_fuzz_never_raises_anything_but_filter_error() -> None:
    """Random strings over the characters the grammar cares about: parse, render, re-parse."""
    alphabet = 'ab_Z09 ,{}"\\=!~.*+?()[]|^$:-\n\t\x00é名 '
    rng = random.Random(20261128)
    parsed = 0
    for _ in range(4000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 24)))
        try:
            f = parse_filter(text)
        except FilterError as e:
            assert 0 <= e.position <= len(text), (text, e)
            continue
        parsed += 1
        assert parse_filter(str(f)) == f, text
        f.matches(ALERT, ANNOTATIONS)
        for matcher in f.matchers:
            assert parse_matcher(str(matcher)) == matcher
            assert LabelMatcher.from_api(matcher.to_api()) == matcher
    assert parsed > 500  # the fuzz reaches the success paths too


def test_seeded_fuzz_of_regex_values() -> None:
    """Regex-shaped values either compile or raise FilterError, never anything else."""
    alphabet = "ab.*+?()[]{}|^$\\-,:0123=!<>PpdwZ"
    rng = random.Random(7)
    for _ in range(4000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 16)))
        try:
            matcher = LabelMatcher("a", "=~", value)
        except FilterError:
            continue
        matcher.matches({"a": "ab" * 8})
        assert parse_filter(str(matcher)).matchers == (matcher,)
