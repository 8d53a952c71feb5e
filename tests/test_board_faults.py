"""Servers going away under a running board: it stays usable, says what is stale, recovers."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from oncall_tui.config import Settings
from oncall_tui.demo.stack import Stack, StackOptions
from oncall_tui.demo_cli import demo_context
from oncall_tui.factory import build_clients
from oncall_tui.ui.app import OncallApp
from tests.test_app import alert_row, status, until

pytestmark = pytest.mark.stack


@pytest.fixture
def own_stack() -> Iterator[Stack]:
    """A stack of its own: these tests kill its servers."""
    stack = Stack(StackOptions())
    stack.start()
    try:
        stack.wait_for_firing(30)
        yield stack
    finally:
        stack.stop()


async def test_peer_and_prometheus_lost_and_back(own_stack: Stack) -> None:
    app = OncallApp(Settings(), build_clients(demo_context(own_stack, refresh=1)))
    async with app.run_test(size=(140, 35)) as pilot:
        await until(pilot, lambda: alert_row(app, "HighErrorRate"))
        await until(pilot, lambda: alert_row(app, "ModelNotUpdated", "pending"))

        own_stack.kill_peer(1)
        await until(pilot, lambda: "demo 1/2 peers" in status(app))
        assert "STALE" not in status(app), "one peer down loses no data"
        assert alert_row(app, "HighErrorRate")
        await pilot.press("j", "k")

        os.kill(own_stack.pids["prometheus"], signal.SIGKILL)
        await until(pilot, lambda: "STALE since" in status(app))
        assert "prometheus:" in status(app) and "Connection refused" in status(app)
        assert alert_row(app, "ModelNotUpdated", "pending"), "last good pending alerts stay"
        assert alert_row(app, "HighErrorRate")

        own_stack.start_peer(1)
        await until(pilot, lambda: "demo 2/2 peers" in status(app), timeout=40)
        await pilot.press("slash", *"critical", "enter")
        assert alert_row(app, "HighErrorRate")
