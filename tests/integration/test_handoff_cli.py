"""`oncall-tui handoff -o json` against the real HA pair and Prometheus: its firing alerts and
silences are exactly what the servers hold (`/api/v2/alerts`, `/api/v2/silences` on both
peers, united by fingerprint / ID), including an ack and a silence this test creates, and its
episodes are Prometheus's own `ALERTS_FOR_STATE` values.

The demo churns alerts, so a comparison is retried until the servers' answer is the same
before and after ours, within a deadline.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from oncall_tui.demo.stack import Stack
from oncall_tui.domain.silence_plan import ack_comment
from tests.helpers import raw_http, run_cli

DEADLINE = 30.0


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _silence(stack: Stack, name: str, comment: str, by: str, hours: float) -> str:
    now = datetime.now(UTC)
    body = {
        "matchers": [{"name": "alertname", "value": name, "isRegex": False, "isEqual": True}],
        "startsAt": _iso(now),
        "endsAt": _iso(now + timedelta(hours=hours)),
        "createdBy": by,
        "comment": comment,
    }
    status, answer = raw_http(
        stack.alertmanager_urls[0] + "/api/v2/silences", json.dumps(body).encode()
    )
    assert status == 200, answer
    silence_id: str = json.loads(answer)["silenceID"]
    return silence_id


def _servers(stack: Stack, since: datetime) -> tuple[set[str], set[str]]:
    alerts: set[str] = set()
    silences: set[str] = set()
    for url in stack.alertmanager_urls:
        alerts |= {a["fingerprint"] for a in httpx.get(url + "/api/v2/alerts", timeout=5).json()}
        for s in httpx.get(url + "/api/v2/silences", timeout=5).json():
            ends = datetime.fromisoformat(s["endsAt"].replace("Z", "+00:00"))
            if ends >= since:  # the handoff keeps what did not end before its window
                silences.add(s["id"])
    return alerts, silences


def _handoff(stack: Stack, home: Path, *args: str) -> dict[str, Any]:
    assert stack.prometheus_url is not None
    peers = [a for url in stack.alertmanager_urls for a in ("--alertmanager", url)]
    done = run_cli(
        "handoff",
        *peers,
        "--prometheus",
        stack.prometheus_url,
        "-o",
        "json",
        *args,
        env={"XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def _agreed(stack: Stack, home: Path) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE
    while True:
        # The window starts at most one second before the command's own `now`.
        before = _servers(stack, datetime.now(UTC) - timedelta(hours=1))
        found = _handoff(stack, home, "--since", "1h")
        since = datetime.fromisoformat(found["since"].replace("Z", "+00:00"))
        after = _servers(stack, since)
        ours = ({a["fingerprint"] for a in found["firing"]}, {s["id"] for s in found["silences"]})
        if before == after or time.monotonic() > deadline:
            assert ours == after, (ours[0] ^ after[0], ours[1] ^ after[1])
            return found


def test_handoff_agrees_with_the_servers(stack: Stack, tmp_path: Path) -> None:
    firing = httpx.get(stack.alertmanager_urls[0] + "/api/v2/alerts", timeout=5).json()
    name = firing[0]["labels"]["alertname"]
    ack = _silence(stack, name, ack_comment("handoff-tester"), "handoff-tester", 2)
    plain = _silence(stack, "HandoffTestNothing", "maintenance <b>", "someone", 3)
    gone = _silence(stack, "HandoffTestGone", "short", "someone", 1)
    httpx.delete(stack.alertmanager_urls[0] + f"/api/v2/silence/{gone}", timeout=5)
    try:
        _check(stack, tmp_path, ack, plain, gone)
    finally:
        # The stack is shared by the whole session: the board tests expect no ack on it.
        for silence_id in (ack, plain):
            httpx.delete(stack.alertmanager_urls[0] + f"/api/v2/silence/{silence_id}", timeout=5)


def _check(stack: Stack, tmp_path: Path, ack: str, plain: str, gone: str) -> None:
    found = _agreed(stack, tmp_path)

    acks = {a["silenceId"]: a for a in found["acks"]}
    assert acks[ack]["by"] == "handoff-tester"
    kinds = {s["id"]: s["handoff"] for s in found["silences"]}
    assert kinds[ack] == ["ack", "created", "endsNextShift"]
    assert kinds[plain] == ["created", "endsNextShift"]
    assert kinds[gone] == ["created", "expired"]
    # Prometheus's own answer: an ongoing episode began at its series' ALERTS_FOR_STATE value.
    assert stack.prometheus_url is not None
    held = httpx.get(
        stack.prometheus_url + "/api/v1/query",
        params={"query": "ALERTS_FOR_STATE", "time": found["until"]},
        timeout=5,
    ).json()["data"]["result"]
    active_at = {
        _identity(s["metric"]): datetime.fromtimestamp(float(s["value"][1]), UTC) for s in held
    }
    ongoing = [e for e in found["episodes"] if e["ongoing"]]
    assert ongoing
    for episode in ongoing:
        began = datetime.fromisoformat(episode["activeAt"].replace("Z", "+00:00"))
        assert active_at[_identity(episode["labels"])] == began, episode


def _identity(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k not in ("__name__", "alertstate")))
