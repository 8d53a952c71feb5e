"""Servers that take longer to answer a poll than the poll interval get a rest between polls.

A poll of ten peers holding 50,000 alerts took 4.7-5.8 s on 2 cores (bench/board.py --scale),
and at a 2 s refresh the servers served the next poll 2 s after the last: busy five sevenths
of the time, more in an alert storm, which is when they are slowest. The wait after a poll
is now never shorter than the poll took. Proved against the real Alertmanager 0.25.0 of the
demo stack, behind a fault proxy that holds each answer 1.5 s (a slow server).
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from oncall_tui.config import Settings, resolve_context
from oncall_tui.demo.stack import Stack
from tests.helpers import context_app, status, until
from tests.support import fault_proxy as fp

pytestmark = pytest.mark.stack

HELD = 1.5  # seconds the proxy holds every answer
REFRESH = 1.0  # the shortest the config allows


async def test_a_slow_server_rests_as_long_as_a_poll_took_and_the_status_says_so(
    stack: Stack,
) -> None:
    with fp.FaultProxy(stack.alertmanager_urls[0]) as proxy:
        proxy.set(fp.delay(HELD))
        context = resolve_context(Settings(), alertmanagers=[proxy.url], refresh=REFRESH)
        app = context_app(context)
        async with app.run_test(size=(120, 35)) as pilot:
            await until(pilot, lambda: _groups_asked(proxy) >= 3, "three polls", timeout=60)
            # The store says the polls go slower than asked: one every 3 s (1.5 + 1.5).
            assert "● live (every 3s, slow)" in status(app)
            asked = [
                at
                for at, target in zip(proxy.arrived, proxy.requests, strict=False)
                if target.startswith("/api/v2/alerts/groups")
            ]
            # The server answers at once again: the polls go back to the refresh.
            proxy.set(fp.PASS)
            await until(
                pilot, lambda: "● live (every 1s)" in status(app), "back to 1 s", timeout=30
            )
    gaps = [b - a for a, b in pairwise(asked)]
    # Each poll took at least HELD, and the next waited at least as long: a gap of twice
    # HELD. Waiting the refresh alone would make it HELD + REFRESH (2.5 s).
    assert len(gaps) >= 2
    assert min(gaps) >= 2 * HELD, gaps


def _groups_asked(proxy: fp.FaultProxy) -> int:
    return sum(1 for target in proxy.requests if target.startswith("/api/v2/alerts/groups"))
