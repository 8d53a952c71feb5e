"""Filters newer releases do on the server: 0.34.0's silence state filters and 0.33.0's
receiver labels with `receiver_matchers`, through the contract server in front of the real
0.25 (tests/support/am_contract.py, every answer checked against that release's spec).

Each test names the versions it proves; the version before the feature shows that the client
does not rely on it there (state filters applied here, receiver matchers refused before sent).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from oncall_tui.api.alertmanager import UNEXPIRED, AlertmanagerCluster, AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Matcher, PostableSilence
from tests.support.am_contract import ContractServer

pytestmark = pytest.mark.stack
OPTIONS = ClientOptions(connect_timeout=2, read_timeout=5)
# Receiver labels a 0.33+ configuration would give (`labels:` under each receiver).
LABELS = {"ops-team-slack": {"owner": "ops"}, "default": {"owner": "nobody"}}
USER = "filters@oncall"


@pytest.fixture(scope="module")
def posted(stack: Stack) -> Iterator[str]:
    """HighCPU (routed to ops-team-slack by the demo config) and FilterProbe (to default),
    both labelled with this module's run; resolved afterwards."""
    url = stack.alertmanager_urls[0]
    run = uuid.uuid4().hex[:12]

    def post(ends: datetime) -> None:
        body = [{"labels": {"alertname": name, "filter_run": run, "severity": "info"},
                 "startsAt": (ends - timedelta(hours=2)).isoformat(),
                 "endsAt": ends.isoformat()} for name in ("HighCPU", "FilterProbe")]  # fmt: skip
        httpx.post(f"{url}/api/v2/alerts", json=body, timeout=10).raise_for_status()

    post(datetime.now(UTC) + timedelta(hours=1))
    flt = (("filter", f'filter_run="{run}"'),)
    deadline = time.monotonic() + 20
    while len(httpx.get(f"{url}/api/v2/alerts/groups", params=flt, timeout=5).json()) < 2:
        assert time.monotonic() < deadline, "posted alerts not grouped within 20 s"
        time.sleep(0.2)
    try:
        yield run
    finally:
        post(datetime.now(UTC) - timedelta(seconds=1))


@pytest.fixture
def two_silences(stack: Stack, posted: str) -> Iterator[tuple[str, str]]:
    """(an active silence's ID, an expired one's ID), made on the real 0.25 of the stack."""
    url = stack.alertmanager_urls[0]
    now = datetime.now(UTC)
    ids = []
    for comment in ("kept", "expired"):
        body = {"matchers": [{"name": "filter_run", "value": posted, "isRegex": False,
                              "isEqual": True}],
                "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
                "createdBy": USER, "comment": comment}  # fmt: skip
        answer = httpx.post(f"{url}/api/v2/silences", json=body, timeout=5)
        ids.append(answer.raise_for_status().json()["silenceID"])
    httpx.delete(f"{url}/api/v2/silence/{ids[1]}", timeout=5).raise_for_status()
    yield ids[0], ids[1]
    httpx.delete(f"{url}/api/v2/silence/{ids[0]}", timeout=5)


@pytest.fixture
async def contract(
    request: pytest.FixtureRequest, stack: Stack
) -> AsyncIterator[tuple[ContractServer, AlertmanagerPeer]]:
    server = ContractServer(request.param, stack.alertmanager_urls[0], receiver_labels=LABELS)
    with server.running():
        peer = AlertmanagerPeer(server.url, OPTIONS)
        await peer.capabilities()
        yield server, peer
        await peer.aclose()
    assert server.violations == [], "answers that break the release's spec"


@pytest.mark.parametrize("contract", ["0.32.0", "0.34.0"], indirect=True)
async def test_silence_states_are_asked_of_0_34_and_dropped_here_on_0_32(
    contract: tuple[ContractServer, AlertmanagerPeer], two_silences: tuple[str, str]
) -> None:
    server, peer = contract
    kept, expired = two_silences
    unexpired = {s.id for s in await peer.silences(states=UNEXPIRED)}
    assert kept in unexpired and expired not in unexpired
    assert {s.id for s in await peer.silences(states={"expired"})} >= {expired}
    assert kept not in {s.id for s in await peer.silences(states={"expired"})}
    asked = [s for s in server.seen if s.startswith("GET /api/v2/silences")]
    if server.v >= (0, 34):
        # The server leaves out what was not asked for: expired silences are kept for days.
        assert "active=true&pending=true&expired=false" in asked[0]
        assert "active=false&pending=false&expired=true" in asked[1]
    else:
        assert not any("expired=" in s for s in asked)  # 0.32 would ignore it


@pytest.mark.parametrize("contract", ["0.34.0"], indirect=True)
async def test_a_write_looks_for_its_copy_among_unexpired_silences_only_0_34(
    contract: tuple[ContractServer, AlertmanagerPeer], posted: str
) -> None:
    server, peer = contract
    cluster = AlertmanagerCluster("c", [peer])
    now = datetime.now(UTC)
    wanted = PostableSilence(
        matchers=[Matcher("filter_run", posted), Matcher("alertname", "NoSuchFilterAlert")],
        starts_at=now,
        ends_at=now + timedelta(minutes=5),
        created_by=USER,
        comment="copy search",
    )
    written = await cluster.write_silence(wanted)
    try:
        again = await cluster.write_silence(wanted)  # the retry finds the first one
        assert again.id == written.id
        searches = [s for s in server.seen if s.startswith("GET /api/v2/silences?")]
        assert searches and all("expired=false" in s for s in searches)
    finally:
        await cluster.expire_silence(written.id)


@pytest.mark.parametrize("contract", ["0.33.0", "0.34.0"], indirect=True)
async def test_receivers_carry_labels_and_receiver_matchers_select_from_0_33(
    contract: tuple[ContractServer, AlertmanagerPeer], posted: str
) -> None:
    _, peer = contract
    receivers = {r.name: r.labels for r in await peer.receivers()}
    assert receivers["ops-team-slack"] == {"name": "ops-team-slack", "owner": "ops"}
    assert receivers["email"] == {"name": "email"}  # `name` is always one of them
    assert [r.name for r in await peer.receivers(['owner="ops"'])] == ["ops-team-slack"]
    flt = [f'filter_run="{posted}"']
    groups = await peer.alert_groups(flt, receiver_matchers=['owner="ops"'])
    assert [(g.receiver.name, [a.name for a in g.alerts]) for g in groups] == [
        ("ops-team-slack", ["HighCPU"])
    ]
    alerts = await peer.alerts(flt, receiver_matchers=['owner!="ops"'])
    assert {a.name for a in alerts} == {"FilterProbe"}
    # 0.33 gives an alert's receivers as references: the name, which is all the board reads.
    assert {r.name for a in alerts for r in a.receivers} == {"default"}


@pytest.mark.parametrize("contract", ["0.32.0"], indirect=True)
async def test_receiver_matchers_are_refused_before_sent_to_0_32(
    contract: tuple[ContractServer, AlertmanagerPeer], posted: str
) -> None:
    server, peer = contract
    with pytest.raises(errors.Unsupported, match=r"0\.33\+ \(this peer: 0\.32\.0\)"):
        await peer.alert_groups([f'filter_run="{posted}"'], receiver_matchers=['owner="ops"'])
    # 0.32 would have ignored the parameter and answered every alert as if it matched.
    assert not any("receiver_matchers" in s for s in server.seen)


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCALL_TUI")}
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", *args, "--alertmanager", url, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        env=env,
    )


@pytest.mark.parametrize("version", ["0.32.0", "0.33.0"])
def test_cli_receiver_matcher_from_0_33_and_a_clear_no_before(
    stack: Stack, posted: str, version: str
) -> None:
    server = ContractServer(version, stack.alertmanager_urls[0], receiver_labels=LABELS)
    with server.running():
        done = cli(server.url, "alerts", f'filter_run="{posted}"', "--receiver-matcher",
                   "owner=ops")  # fmt: skip
    if version == "0.32.0":
        assert done.returncode == 2
        assert "--receiver-matcher needs Alertmanager 0.33 or later" in done.stderr
        assert f"{server.url} runs 0.32.0" in done.stderr
        return
    assert done.returncode == 0, done.stderr
    assert [r["labels"]["alertname"] for r in json.loads(done.stdout)] == ["HighCPU"]
    # The unquoted argument is read as the server reads it, and sent quoted.
    assert any("receiver_matchers=owner%3D%22ops%22" in s for s in server.seen)
    assert server.violations == []


def test_cli_expired_silences_are_asked_of_0_34(
    stack: Stack, posted: str, two_silences: tuple[str, str]
) -> None:
    kept, expired = two_silences
    server = ContractServer("0.34.0", stack.alertmanager_urls[0])
    with server.running():
        # A silence filter matches the silence's own matchers, literally.
        done = cli(server.url, "silences", "--expired", f"filter_run={posted}")
    assert done.returncode == 0, done.stderr
    ids = {r["id"] for r in json.loads(done.stdout)}
    assert expired in ids and kept not in ids  # earlier tests' expired ones may be there too
    assert any("active=false&pending=false&expired=true" in s for s in server.seen)
    assert server.violations == []
