"""The app, driven by Pilot against the real stack: what a user sees on the alert list."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.am_models import PostableAlert
from oncall_tui.api.http import ClientOptions
from oncall_tui.config import AlertmanagerCluster, Context, Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.demo_cli import demo_context
from oncall_tui.factory import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen, StatusBar

pytestmark = pytest.mark.stack


async def until(pilot: Pilot[None], check: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await pilot.pause(0.1)
    raise AssertionError(f"not within {timeout} s")


def cells(app: OncallApp) -> list[list[str]]:
    table = app.screen.query_one("#alerts", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def status(app: OncallApp) -> str:
    return str(app.screen.query_one(StatusBar).content)


async def test_alert_list_shows_the_demo_alerts(stack: Stack) -> None:
    app = OncallApp(Settings(), build_clients(demo_context(stack, refresh=1)))
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen) and app.screen.rows)
        # HighLatency turns inhibited once ChurnAPIDown fires, a few seconds into the stack.
        await until(pilot, lambda: ["HighLatency", "inhibited"] in [r[1:3] for r in cells(app)])
        rows = cells(app)
        assert rows[0][0] == "critical", "most severe first"
        states = {r[1]: r[2] for r in rows}
        assert states["HighErrorRate"] == "active"
        assert "pending" in states.values()
        assert "demo 2/2 peers up" in status(app)
        assert "updated" in status(app)
        await pilot.press("p")
        assert "PAUSED" in status(app)


async def test_hostile_alert_text_is_shown_as_text(stack: Stack) -> None:
    now = datetime.now(UTC)
    hostile = PostableAlert(
        labels={"alertname": "DiskFull", "severity": "warning", "device": "[sda]"},
        annotations={"summary": "disk [sda] [/] full \x1b[31mred\x1b]52;c;ZXZpbA==\x07 [bold]x"},
        starts_at=now,
        ends_at=now + timedelta(minutes=10),
    )
    for url in stack.alertmanager_urls:
        peer = AlertmanagerPeer(url, ClientOptions())
        await peer.post_alerts([hostile])
        await peer.aclose()
    app = OncallApp(Settings(), build_clients(demo_context(stack, refresh=1)))
    async with app.run_test(size=(160, 35)) as pilot:
        await until(pilot, lambda: any(r[1] == "DiskFull" for r in cells(app)))
        row = next(r for r in cells(app) if r[1] == "DiskFull")
        assert row[5].startswith(
            "disk [sda] [/] full \ufffd[31mred\ufffd]52;c;ZXZpbA==\ufffd [bold]x"
        )
        assert "device=[sda]" in row[6]
        assert not any("\x1b" in cell or "\x07" in cell for r in cells(app) for cell in r)


async def test_a_dead_cluster_is_marked_stale_and_the_app_keeps_running() -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{dead.getsockname()[1]}"
    dead.close()
    context = Context(name="broken", alertmanagers=[AlertmanagerCluster(name="gone", peers=[url])])
    app = OncallApp(Settings(), build_clients(context))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen) and "STALE" in status(app))
        assert "gone 0/1 peers up" in status(app)
        assert "no peer answered" in status(app)
        await pilot.press("ctrl+r")
        assert app.is_running


async def test_a_bug_in_one_poll_does_not_stop_polling(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oncall_tui.ui.screens import alerts

    real_poll = alerts.poll
    calls = {"n": 0}

    async def flaky_poll(clients):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom in the first poll")
        return await real_poll(clients)

    monkeypatch.setattr(alerts, "poll", flaky_poll)
    app = OncallApp(Settings(), build_clients(demo_context(stack, refresh=1)))
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen) and "boom" in status(app))
        assert "internal error: RuntimeError" in status(app)
        await until(pilot, lambda: any(r[1] == "HighErrorRate" for r in cells(app)))
        assert "STALE" not in status(app) and "boom" not in status(app)
