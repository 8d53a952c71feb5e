"""A cluster's peers' /alerts/groups bodies are read at most BODIES_AT_ONCE at a time.

Each body is held whole until it is split; ten peers of 8.3 MB read at once put 80-110 MB
over the steady RSS at 50,000 alerts (bench/board.py --scale). Proved against the real
Alertmanager 0.25.0 pair of the demo stack, each "peer" a fault proxy in front of one of them,
answering half a second late, so the reads overlap unless they are held back.
"""

from __future__ import annotations

import asyncio
from contextlib import ExitStack

import pytest

from oncall_tui.api.alertmanager import BODIES_AT_ONCE, AlertmanagerCluster, AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack
from tests.support import fault_proxy as fp

pytestmark = pytest.mark.stack

PEERS = 6


def _most_at_once(spans: list[tuple[float, float]]) -> int:
    """The most spans open at one moment (an answer written ends its span first)."""
    edges = sorted([(t0, 1) for t0, _ in spans] + [(t1, -1) for _, t1 in spans])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def test_peers_bodies_are_read_a_few_at_a_time(stack: Stack) -> None:
    assert BODIES_AT_ONCE < PEERS
    with ExitStack() as held:
        proxies = [
            held.enter_context(fp.FaultProxy(stack.alertmanager_urls[i % 2])) for i in range(PEERS)
        ]
        for proxy in proxies:
            proxy.set(fp.delay(0.5))
        options = ClientOptions(connect_timeout=2.0, read_timeout=10.0)
        cluster = AlertmanagerCluster("am", [AlertmanagerPeer(p.url, options) for p in proxies])

        async def read() -> int:
            try:
                found = await cluster.alert_groups()
                return len(found.results)
            finally:
                await cluster.aclose()

        answered = asyncio.run(read())
    assert answered == PEERS, "every peer's groups were read"
    spans = [
        (at, done)
        for proxy in proxies
        for at, done, target in zip(proxy.arrived, proxy.answered, proxy.requests, strict=False)
        if target.startswith("/api/v2/alerts/groups")
    ]
    assert len(spans) == PEERS
    assert _most_at_once(spans) == BODIES_AT_ONCE
