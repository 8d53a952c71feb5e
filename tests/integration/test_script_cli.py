"""`oncall-tui alerts` and `oncall-tui silences` against the real HA pair, amtool as the oracle.

Proves Alertmanager 0.25.0 (the installed pair) with amtool 0.25.0: for the same matchers, the
command selects the same alert fingerprints and silence IDs as `amtool ... -o json` run on each
peer, united (the command merges both peers, amtool reads one). Alerts come and go with the
demo's churn, so a comparison is retried until amtool's answer is the same before and after
ours, within a deadline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from oncall_tui.demo.stack import Stack

pytestmark = pytest.mark.stack
AMTOOL = shutil.which("amtool") or "amtool"
DEADLINE = 30.0

ALERT_CASES = [
    [],
    ['alertname=~".+"'],
    ["Watchdog"],  # a bare first word is the alertname, as in amtool
    ['severity="critical"'],
    ["severity!=critical"],
    ['team=~"ops|ml"', 'severity!~"info"'],
    ['alertname=~"(?i)high.*"'],
    ['alertname="NoSuchAlert"'],
]


def ours(stack: Stack, what: str, *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ONCALL_TUI")}
    peers = [a for url in stack.alertmanager_urls for a in ("--alertmanager", url)]
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", what, *peers, *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        env=base,
    )


def amtool(url: str, *args: str) -> list[dict[str, object]]:
    out = subprocess.run(
        [AMTOOL, *args, "-o", "json", f"--alertmanager.url={url}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    got: list[dict[str, object]] = json.loads(out.stdout or "[]") or []
    return got


def amtool_union(stack: Stack, key: str, *args: str) -> set[str]:
    return {str(o[key]) for url in stack.alertmanager_urls for o in amtool(url, *args)}


def stable_compare(
    stack: Stack, what: str, key: str, amtool_args: list[str], args: list[str]
) -> None:
    deadline = time.monotonic() + DEADLINE
    while True:
        before = amtool_union(stack, key, *amtool_args, *args)
        done = ours(stack, what, "-o", "json", *args)
        after = amtool_union(stack, key, *amtool_args, *args)
        assert done.returncode == 0, done.stderr
        got = {str(o[key]) for o in json.loads(done.stdout)}
        if before == after or time.monotonic() > deadline:
            assert got == after, (args, got ^ after)
            return
        # the alerts changed while we looked: look again


@pytest.mark.parametrize("args", ALERT_CASES, ids=lambda a: " ".join(a) or "none")
def test_alerts_select_what_amtool_selects(stack: Stack, args: list[str]) -> None:
    stable_compare(stack, "alerts", "fingerprint", ["alert", "query"], args)


def test_alert_json_has_stable_keys_and_both_peers(stack: Stack) -> None:
    done = ours(stack, "alerts", "-o", "json", "Watchdog")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert records, "the Watchdog fires on every peer"
    for record in records:
        assert set(record) == {
            "cluster",
            "fingerprint",
            "labels",
            "annotations",
            "state",
            "startsAt",
            "endsAt",
            "receivers",
            "peers",
        }
        assert record["labels"]["alertname"] == "Watchdog"
        assert record["state"] == "active"
    deadline = time.monotonic() + DEADLINE
    while not all(len(r["peers"]) == 2 for r in records):
        # each peer gets its own copy from Prometheus; both must be listed once they have it
        assert time.monotonic() < deadline, records
        time.sleep(0.2)
        records = json.loads(ours(stack, "alerts", "-o", "json", "Watchdog").stdout)
    assert {p for r in records for p in r["peers"]} == set(stack.alertmanager_urls)


@pytest.fixture
def silences(stack: Stack) -> Iterator[list[str]]:
    """Three silences made with amtool on the first peer; expired afterwards."""
    url = stack.alertmanager_urls[0]
    made = []
    for matchers, comment in (
        (["alertname=ScriptCliOne", "team=ops"], "one"),
        (["alertname=ScriptCliTwo", 'team=~"ml|ops"'], "two [b]old \x1b[31m"),
        (["alertname=ScriptCliThree", "severity!=none"], "three"),
    ):
        out = subprocess.run(
            [
                AMTOOL,
                "silence",
                "add",
                *matchers,
                "-c",
                comment,
                "-a",
                "test",
                "-d",
                "10m",
                f"--alertmanager.url={url}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        made.append(out.stdout.strip())
    yield made
    for silence_id in made:
        subprocess.run(
            [AMTOOL, "silence", "expire", silence_id, f"--alertmanager.url={url}"],
            capture_output=True,
            timeout=30,
        )


SILENCE_CASES = [
    [],
    ['alertname=~"ScriptCli.*"'],
    ["ScriptCliOne"],
    ["team=ml"],
    ['alertname="ScriptCliThree"'],
    ['alertname="Nothing"'],
]


@pytest.mark.parametrize("args", SILENCE_CASES, ids=lambda a: " ".join(a) or "none")
def test_silences_select_what_amtool_selects(
    stack: Stack, silences: list[str], args: list[str]
) -> None:
    stable_compare(stack, "silences", "id", ["silence", "query"], args)


def test_silence_table_cleans_untrusted_text(stack: Stack, silences: list[str]) -> None:
    done = ours(stack, "silences", "ScriptCliTwo")
    assert done.returncode == 0, done.stderr
    assert silences[1] in done.stdout
    assert "\x1b" not in done.stdout
    assert "two [b]old" in done.stdout  # shown as text, not read as markup


def test_bad_matcher_is_refused_like_amtool(stack: Stack) -> None:
    done = ours(stack, "alerts", 'a=~"("')
    assert done.returncode == 2
    assert "bad matcher" in done.stderr
    refused = subprocess.run(
        [AMTOOL, "alert", "query", 'a=~"("', f"--alertmanager.url={stack.alertmanager_urls[0]}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode != 0


def test_unreachable_peer_is_named_and_the_other_answers(stack: Stack) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ONCALL_TUI")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "oncall_tui",
            "alerts",
            "-o",
            "json",
            "--alertmanager",
            stack.alertmanager_urls[0],
            "--alertmanager",
            "http://127.0.0.1:9",
            "Watchdog",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=base,
    )
    assert done.returncode == 1
    assert "127.0.0.1:9" in done.stderr
    assert json.loads(done.stdout)
