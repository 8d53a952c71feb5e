"""An HA pair losing a peer: alerts still listed, silences still written, the dead peer named.

A peer stopped and restarted (a pair of its own), and, in the app, a peer partitioned away
through the fault proxy (the session pair).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from oncall_tui.api.alertmanager import AlertmanagerCluster, AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.config import ClusterConfig as ConfigCluster
from oncall_tui.config import Context, Settings, Timeouts
from oncall_tui.demo.stack import Stack, StackOptions
from oncall_tui.domain.merge import merge_groups, unique_alerts
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.wire.alertmanager import Matcher, PostableAlert, PostableSilence
from oncall_tui.wire.errors import ApiError
from tests.helpers import alert_row, eventually, status, until
from tests.helpers import rows as board_rows
from tests.support import fault_proxy as fp

pytestmark = pytest.mark.stack


@pytest.fixture
def pair() -> Iterator[Stack]:
    """An Alertmanager pair of its own (this test kills a peer), without Prometheus."""
    stack = Stack(StackOptions(alertmanager_peers=2, with_prometheus=False))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


async def test_one_peer_down_keeps_the_cluster_usable(pair: Stack) -> None:
    options = ClientOptions(connect_timeout=1, read_timeout=3)
    peers = [AlertmanagerPeer(url, options) for url in pair.alertmanager_urls]
    cluster = AlertmanagerCluster("ha", peers)
    now = datetime.now(UTC)
    alert = PostableAlert(
        labels={"alertname": "HADrill", "severity": "critical", "service": "churn-api"},
        annotations={"summary": "posted to both peers, as Prometheus does"},
        starts_at=now,
        ends_at=now + timedelta(hours=1),
    )
    for peer in peers:
        await peer.post_alerts([alert])

    async def listed_by_both() -> bool:
        read = await cluster.alert_groups()
        merged = unique_alerts(merge_groups("ha", read.results))
        return len(merged) == 1 and len(merged[0].peers) == 2

    assert await eventually(listed_by_both)

    pair.kill_peer(1)
    read = await cluster.alert_groups()
    assert list(read.errors) == [peers[1].url]
    merged = unique_alerts(merge_groups("ha", read.results))
    assert [m.alert.name for m in merged] == ["HADrill"]
    assert merged[0].peers == (peers[0].url,)

    silence = PostableSilence(
        matchers=[Matcher("alertname", "HADrill")],
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        created_by="pytest",
        comment="peer 1 is down",
    )
    stored = await cluster.write_silence(silence)
    assert stored.state == "active"

    # The restarted peer catches up on the silence from the survivor.
    pair.start_peer(1)
    assert await eventually(lambda: _has_silence(peers[1], stored.id))
    await cluster.aclose()


async def _has_silence(peer: AlertmanagerPeer, silence_id: str) -> bool:
    try:
        return any(s.id == silence_id for s in await peer.silences())
    except ApiError:
        return False


# -- in the app: a peer partitioned away (fault proxy), then healed ------------------------------


def shown_alerts(app: OncallApp, on_both: bool = False) -> list[tuple[str, str]]:
    """(group, fingerprint) of every alert the board holds, in its model; with `on_both`
    only those both peers held (as Prometheus sends them: a test may post to one peer)."""
    screen = app.screen
    assert isinstance(screen, AlertsScreen)
    store = screen.state.alerts
    return [
        (g.key, a.fingerprint)
        for g in screen.model.groups
        for a in g.alerts
        if not on_both or len(store.peers_of(a.cluster, a.fingerprint)) == 2
    ]


def no_alert_twice(app: OncallApp) -> None:
    alerts = shown_alerts(app)
    assert alerts and len(set(alerts)) == len(alerts), alerts
    rows = [r for r in board_rows(app) if "HighErrorRate" in r and "active" in r]
    assert len(rows) == 1, rows


@pytest.mark.parametrize("fault", [fp.HANG, fp.REFUSE], ids=["partitioned", "refused"])
async def test_a_partitioned_peer_in_the_app(stack: Stack, fault: fp.Fault) -> None:
    """The first peer cut off from the app (packets dropped: a hang; or refused); the second
    still answers: every alert listed once, the header says 1/2 peers and which, silences
    are written to the peer that answers, and all is back once the partition heals."""
    with fp.FaultProxy(stack.alertmanager_urls[0]) as proxy:
        context = Context(
            name="ha",
            alertmanagers=[
                ConfigCluster(name="pair", peers=[proxy.url, stack.alertmanager_urls[1]])
            ],
            refresh=1,
            timeouts=Timeouts(connect=1.0, read=1.5),
        )
        app = OncallApp(Settings(), build_clients(context))
        async with app.run_test(size=(140, 35)) as pilot:
            await until(
                pilot, lambda: alert_row(app, "HighErrorRate") and "pair 2/2" in status(app)
            )
            before = sorted(set(shown_alerts(app, on_both=True)))
            no_alert_twice(app)

            proxy.set(fault)
            down = f"pair down: 127.0.0.1:{proxy.port}"
            await until(pilot, lambda: "pair 1/2 peers" in status(app), timeout=15)
            assert status(app).endswith(down), status(app)
            assert "STALE" not in status(app), "one peer down loses no data"
            no_alert_twice(app)
            assert set(before) <= set(shown_alerts(app)), "an alert both peers held went away"

            comment = f"written while partitioned {uuid.uuid4().hex[:8]}"
            now = datetime.now(UTC)
            stored = await app.clients.clusters[0].write_silence(
                PostableSilence(
                    matchers=[Matcher("alertname", "PartitionDrill")],
                    starts_at=now,
                    ends_at=now + timedelta(minutes=10),
                    created_by="pytest",
                    comment=comment,
                )
            )
            survivor = AlertmanagerPeer(stack.alertmanager_urls[1], ClientOptions())
            held = [s for s in await survivor.silences() if s.comment == comment]
            await survivor.aclose()
            assert [s.id for s in held] == [stored.id]

            await pilot.press("j", "k")
            proxy.set(fp.PASS)
            await until(pilot, lambda: "pair 2/2 peers" in status(app), timeout=15)
            assert "live" in status(app) and "down:" not in status(app)
            no_alert_twice(app)
