"""An HA pair losing a peer: alerts still listed, silences still written, the dead peer named."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from oncall_tui.api.alertmanager import AlertmanagerCluster, AlertmanagerPeer
from oncall_tui.api.am_models import Matcher, PostableAlert, PostableSilence
from oncall_tui.api.errors import ApiError
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack, StackOptions
from oncall_tui.domain.merge import merge_groups, unique_alerts

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


async def wait_for(check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


async def test_one_peer_down_keeps_the_cluster_usable(pair: Stack) -> None:
    options = ClientOptions(connect_timeout=1, read_timeout=3)
    peers = [AlertmanagerPeer(url, options) for url in pair.alertmanager_urls]
    cluster = AlertmanagerCluster("ha", peers)
    now = datetime.now(UTC)
    alert = PostableAlert(
        labels={"alertname": "HADrill", "severity": "critical", "service": "churn-api"},
        annotations={"summary": "posted to both peers, as Prometheus does"},
        starts_at=now, ends_at=now + timedelta(hours=1),
    )
    for peer in peers:
        await peer.post_alerts([alert])

    async def listed_by_both() -> bool:
        read = await cluster.alert_groups()
        merged = unique_alerts(merge_groups("ha", read.results))
        return len(merged) == 1 and len(merged[0].peers) == 2

    assert await wait_for(listed_by_both)

    pair.kill_peer(1)
    read = await cluster.alert_groups()
    assert list(read.errors) == [peers[1].url]
    merged = unique_alerts(merge_groups("ha", read.results))
    assert [m.alert.name for m in merged] == ["HADrill"]
    assert merged[0].peers == (peers[0].url,)

    silence = PostableSilence(
        matchers=[Matcher("alertname", "HADrill")], starts_at=now,
        ends_at=now + timedelta(hours=1), created_by="pytest", comment="peer 1 is down",
    )
    stored = await cluster.write_silence(silence)
    assert stored.state == "active"

    # The restarted peer catches up on the silence from the survivor.
    pair.start_peer(1)
    assert await wait_for(lambda: _has_silence(peers[1], stored.id))
    await cluster.aclose()


async def _has_silence(peer: AlertmanagerPeer, silence_id: str) -> bool:
    try:
        return any(s.id == silence_id for s in await peer.silences())
    except ApiError:
        return False
