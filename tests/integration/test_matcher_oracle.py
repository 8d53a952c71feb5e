"""Matcher text as Alertmanager 0.25.0 reads it, with the real amtool 0.25.0 as the oracle.

Single matchers (a silence field, a `filter=` value, a CLI argument): `amtool silence add`
parses each argument with pkg/labels ParseMatcher and the real Alertmanager stores the result;
we compare what it stored with what `parse_matcher` makes of the same string.
Matcher lists (a config `matchers:` entry, a `{...}` selector): `amtool config routes show`
parses the route's entry with ParseMatchers and prints Go's own rendering, sorted; we compare
it with ours. Both also prove refusals: amtool refuses exactly what we refuse.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack
from oncall_tui.domain.matchers import FilterError, LabelMatcher, parse_matcher, parse_matchers

pytestmark = pytest.mark.stack
OPTIONS = ClientOptions(connect_timeout=2, read_timeout=5)
AMTOOL = shutil.which("amtool") or "amtool"

# One matcher each: what a user types in the silence form, a filter box or on the command line.
SINGLE = [
    'a="b"',
    "a=b",
    'a!="b"',
    'a=~"b.*"',
    'a!~"x|y"',
    r'a="with \"quotes\""',
    r'a="back\\slash"',
    r'a="new\nline"',
    r"a=new\nline",  # the classic parser unescapes unquoted values too
    r"a=b\c",  # a spurious escape keeps its backslash
    r'a="tab\tx"',
    "a=trailing\\",
    'a="ünïcødé ✓ 日本"',
    'a=~"[a-z]+\\\\d{2,3}"',
    'a="comma, brace} and = sign"',
    'a=" spaced "',
    "a = spaced operator ",
    "  a=~x  ",
    'a=~"(?i)churn-.*"',
    'a="emoji 🔥 and zero-width \u200b"',
    'a=""',
    "a=",
    "a!=",
    'a=~""',
    'a=~"a|"',
    "a==b",
    "a=~~b",
    "a=!b",
    "a=b c=d",
    "a=b,c",
    "a=x{y}",
    "foo:bar=x",
    ":a=x",
    "_a=x",
    "a1=x",
    "1a=x",
    "foo-bar=x",
    "service.name=x",
    '"service.name"="x"',
    "ünïcode=x",
    "foo🙂=bar",
    '""="x"',
    "=x",
    "a",
    "",
    'a="b',
    'a=b"',
    'a="b"c"',
    'a="b\\"',
    "a=~(",
    'a=~"x(?=y)"',
    'a=~"\\\\pL+"',
    "a=~[[:alpha:]]",
    "{a=b}",
    "a=\tb\t",
    "a=\vb",
]

# Matcher lists, as a route's `matchers:` entry or a `{...}` selector.
LISTS = [
    "{a=b}",
    "{foo=bar\\n}",
    "foo:bar=x",
    "a=b,c=d",
    "{a=b, c!=d, }",
    "a=b,",
    "a=b,,c=d",
    ",",
    "{}",
    "}",
    "{a=b}  ",
    '{quote="She said: \\"Hi, ladies!\\"", b=c}',
    '{a="x,y", b=~"1|2"}',
    "a=b c, d=e",
    ' a = "b" , c = d ',
    "{a=b",
    "a=b}",
    "{,a=b}",
    "{a=1,a=2}",
    'a="unterminated, b=c',
]


# pkg/labels parses these names, but 0.25's silence validation refuses them (classic names have
# no colon there): the app leaves that to the server and shows its words.
REFUSED_AS_SILENCE_NAMES = {"foo:bar=x", ":a=x"}


@pytest.fixture
async def peer(stack: Stack) -> AsyncIterator[AlertmanagerPeer]:
    client = AlertmanagerPeer(stack.alertmanager_urls[0], OPTIONS)
    yield client
    await client.aclose()


def _ours(text: str) -> LabelMatcher | FilterError:
    try:
        return parse_matcher(text)
    except FilterError as exc:
        return exc


@pytest.mark.parametrize("text", SINGLE)
async def test_one_matcher_as_amtool_0_25_stores_it(
    stack: Stack, peer: AlertmanagerPeer, text: str
) -> None:
    """Alertmanager 0.25.0 and amtool 0.25.0: the server stores what we read, or both refuse.

    The guard goes first: amtool reads a first argument that is not a matcher as an alertname.
    """
    run = subprocess.run(
        [
            AMTOOL, f"--alertmanager.url={stack.alertmanager_urls[0]}", "silence", "add",
            "--author=pytest", "--comment=oracle", "--duration=5m", "--", 'guard="x"', text,
        ],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    ours = _ours(text)
    if isinstance(ours, FilterError):
        assert run.returncode != 0, f"amtool accepted {text!r}, we refused it: {ours}"
        return
    if text in REFUSED_AS_SILENCE_NAMES:  # parsed, then refused by the silence validation
        assert "invalid label name" in run.stderr, run.stderr
        return
    assert run.returncode == 0, f"we read {text!r} as {ours}, amtool refused: {run.stderr}"
    stored = await peer.silence(run.stdout.strip())
    await peer.expire_silence(stored.id)
    assert ours.to_api() in stored.matchers, f"the server stored {stored.matchers}, we {ours}"
    # And what we print, the server reads back as the same matcher.
    assert parse_matcher(str(ours)) == ours


def _routes_show(tmp: Path, entry: str) -> subprocess.CompletedProcess[str]:
    config = {
        "route": {"receiver": "r", "routes": [{"receiver": "r", "matchers": [entry]}]},
        "receivers": [{"name": "r"}],
    }
    path = tmp / "am.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return subprocess.run(
        [AMTOOL, "config", "routes", "show", f"--config.file={path}"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def _go_sorted(matchers: list[LabelMatcher]) -> list[LabelMatcher]:
    """pkg/labels Matchers.Less: by name, then value, then type (=, !=, =~, !~)."""
    order = {"=": 0, "!=": 1, "=~": 2, "!~": 3}
    return sorted(matchers, key=lambda m: (m.name, m.value, order[m.op]))


@pytest.mark.parametrize("entry", LISTS)
def test_a_matcher_list_as_amtool_0_25_reads_a_route(tmp_path: Path, entry: str) -> None:
    """amtool 0.25.0 prints the route's matchers as Go renders them; ours render the same."""
    run = _routes_show(tmp_path, entry)
    try:
        ours = parse_matchers(entry)
    except FilterError as exc:
        assert run.returncode != 0, f"amtool accepted {entry!r}: {run.stdout}; we: {exc}"
        return
    assert run.returncode == 0, f"we read {entry!r} as {ours}, amtool refused: {run.stderr}"
    rendered = "{" + ",".join(str(m) for m in _go_sorted(ours)) + "}"
    if not ours:
        rendered = "default-route"
    assert rendered in run.stdout, f"amtool printed {run.stdout!r}, we {rendered!r}"


def test_the_tables_are_wide() -> None:
    """Guard against the tables shrinking: accepted and refused cases both present."""
    accepted = [t for t in SINGLE if not isinstance(_ours(t), FilterError)]
    assert len(accepted) >= 35 and len(SINGLE) - len(accepted) >= 12
    assert json.dumps(LISTS)  # printable
