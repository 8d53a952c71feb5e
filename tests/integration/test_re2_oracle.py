"""Regex matchers: the board selects exactly what the real Alertmanager 0.25.0's `filter=` selects.

Alerts with a wide table of label values (Unicode, case folding, `\\v`, a trailing newline, a
41-character hostile value) are posted to the real Alertmanager of the test stack; for each
pattern, its `GET /api/v2/alerts?filter=...` answer is the oracle for the app's own filter
(`parse_filter`, as typed in the filter box). Proven on Alertmanager 0.25.0 (Debian's
prometheus-alertmanager, Go RE2 of Go 1.19); newer releases run the same RE2 semantics.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from oncall_tui.demo.stack import Stack
from oncall_tui.domain.matchers import parse_filter, quote

pytestmark = pytest.mark.stack
PROVEN_VERSION = "0.25.0"
HOSTILE = "a" * 40 + "!"  # 41 characters: (a|aa)+ took 14 s on it with Python's re

VALUES = [
    "Zürich",
    "ZÜRICH",
    "zürich",
    "ZURICH",
    "straße",
    "STRASSE",
    "ſ",
    "s",
    "S",
    "k",
    "K",
    "\u212a",  # KELVIN SIGN folds with k under (?i) in RE2
    "\v",
    "a\v",
    "a ",
    "\t",
    " ",
    "x",
    "x\n",
    "x\nx",
    "\n",
    "αβγ",
    "ΑΒΓ",
    "Ωmega",
    "ω",
    "123",
    "١٢٣",
    "A",
    "a",
    "ab",
    "aB",
    "Ab",
    "AB",
    "a.b",
    "axb",
    "a)",
    "b",
    "🙂",
    "é",
    "e\u0301",
    "aaa",
    "aaaa",
    HOSTILE,
    "a" * 41,
    "web-1",
    "web-10",
    "db-1",
    "_",
    "a_b",
    "a-b",
    'quote"d',
    "back\\slash",
]
PATTERNS = [
    "(?i)zürich",
    "(?i)ZURICH",
    "(?i)straße",
    "(?i)s",
    "(?i)k",
    "(?i)Ω.*",
    "(?i)ω.*",
    "\\pL+",
    "\\PL+",
    "\\p{Greek}+",
    "\\P{Greek}+",
    "\\p{Lu}.*",
    "\\pN+",
    "\\p{Latin}+",
    "[[:alpha:]]+",
    "[[:^alpha:]]+",
    "[[:space:]]",
    "[[:punct:]]+",
    "[[:word:]]+",
    "x\\z",
    "x$",
    "x\\n",
    "(?m)x$.*",
    "(?s)x.+",
    "x.+",
    ".*",
    ".+",
    ".",
    "",
    "(?s).",
    "\\s",
    "\\S",
    "a\\s",
    "\\S+",
    "\\v",
    "[\\s\\v]",
    "(?U)a+",
    "(?U)a+?",
    "a(?i)b",
    "(?i)a(?-i)b",
    "\\Qa.b\\E",
    "\\Q(\\E.*",
    "\\x{41}",
    "\\x41",
    "\\101",
    "\\141+",
    "(a|aa)+",
    "(a+)+!",
    "(.*a){12}",
    "a{2,3}",
    "a{,3}",
    "a{2}",
    "\\d+",
    "\\w+",
    "[\\d]+",
    "\\D+",
    "(?i)[a-z]+",
    "[^a]+",
    "[a-]+",
    "🙂",
    "\\x{1F642}",
    "a)|(b",
    "a|",
    "|b",
    "web-\\d+",
    "(web|db)-1",
    "e\\x{301}",
    "\\pM",
    ".\\pM",
    'quote"d',
    "back\\\\slash",
    "[\\\\]",
    "(?i)é",
]


@pytest.fixture(scope="module")
def oracle(stack: Stack) -> Iterator[tuple[str, str, dict[str, dict[str, str]]]]:
    """(Alertmanager URL, run label, labels of each posted alert by idx); resolved at the end."""
    url = stack.alertmanager_urls[0]
    run = uuid.uuid4().hex[:12]
    labelsets = {"missing": {"alertname": "RegexOracle", "oracle_run": run, "idx": "missing"}}
    for i, value in enumerate(VALUES):
        labelsets[str(i)] = {
            "alertname": "RegexOracle",
            "oracle_run": run,
            "idx": str(i),
            "v": value,
        }

    def post(ends: datetime) -> None:
        body = [
            {
                "labels": ls,
                "annotations": {},
                "startsAt": (ends - timedelta(hours=2)).isoformat(),
                "endsAt": ends.isoformat(),
            }
            for ls in labelsets.values()
        ]
        httpx.post(f"{url}/api/v2/alerts", json=body, timeout=10).raise_for_status()

    post(datetime.now(UTC) + timedelta(hours=1))
    deadline = time.monotonic() + 20
    while len(_selected(url, run, [])) < len(labelsets):
        assert time.monotonic() < deadline, "posted alerts not listed within 20 s"
        time.sleep(0.2)
    try:
        yield url, run, labelsets
    finally:
        post(datetime.now(UTC) - timedelta(seconds=1))  # resolved: gone from the board


def _selected(url: str, run: str, filters: list[str]) -> set[str]:
    params = [("filter", f'oracle_run="{run}"'), *(("filter", f) for f in filters)]
    resp = httpx.get(f"{url}/api/v2/alerts", params=tuple(params), timeout=10)
    assert resp.status_code == 200, f"{filters}: {resp.status_code} {resp.text}"
    return {a["labels"]["idx"] for a in resp.json()}


def test_the_server_is_the_version_proven(
    oracle: tuple[str, str, dict[str, dict[str, str]]],
) -> None:
    url, _, _ = oracle
    version = httpx.get(f"{url}/api/v2/status", timeout=5).json()["versionInfo"]["version"]
    assert version == PROVEN_VERSION


@pytest.mark.parametrize("op", ["=~", "!~"])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_regex_filter_selects_what_alertmanager_0_25_selects(
    oracle: tuple[str, str, dict[str, dict[str, str]]], pattern: str, op: str
) -> None:
    url, run, labelsets = oracle
    typed = f"v{op}{quote(pattern)}"
    expected = _selected(url, run, [typed])
    app_filter = parse_filter(typed)
    started = time.perf_counter()
    got = {idx for idx, labels in labelsets.items() if app_filter.matches(labels)}
    elapsed = time.perf_counter() - started
    assert got == expected, (
        f"{typed}: app only {sorted(got - expected)}, Alertmanager only {sorted(expected - got)}"
    )
    # One pass over every value is what a key press costs the board per alert shown.
    assert elapsed < 0.1, f"{typed} took {elapsed * 1000:.0f} ms over {len(labelsets)} values"


def test_hostile_pattern_answers_within_100_ms_on_41_characters() -> None:
    matcher = parse_filter('v=~"(a|aa)+"').matchers[0]
    started = time.perf_counter()
    assert not matcher.matches({"v": HOSTILE})
    assert matcher.matches({"v": "a" * 41})
    assert time.perf_counter() - started < 0.1


def test_refused_patterns_are_refused_by_both(
    oracle: tuple[str, str, dict[str, dict[str, str]]],
) -> None:
    """What RE2 refuses, Alertmanager answers 400 for; the app refuses it as it is typed."""
    url, run, _ = oracle
    for pattern in ["(?=a)", "(a)\\1", "a**", "(?<!a)b", "\\C", "[[:nope:]]", "a{1001}", "(x"]:
        typed = f"v=~{quote(pattern)}"
        resp = httpx.get(
            f"{url}/api/v2/alerts",
            params=[("filter", f'oracle_run="{run}"'), ("filter", typed)],
            timeout=10,
        )
        assert resp.status_code == 400, f"{pattern}: {resp.status_code}"
        with pytest.raises(ValueError):
            parse_filter(typed)
