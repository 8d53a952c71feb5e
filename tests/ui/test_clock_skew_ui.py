"""Clock skew, through the real app on the real Alertmanager 0.25.0 of the demo stack.

One machine has one clock, so the skew is made by tests/support/skew_proxy.py: it forwards to
the real Alertmanager and stamps every answer's `Date` two minutes ahead. What the app learns
of the server's clock is exactly what it would learn from a server two minutes ahead; the
real server behind still stores and judges the silence, by its own (unshifted) clock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

from oncall_tui.cli.demo import demo_context
from oncall_tui.config import ClusterConfig, Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from tests.helpers import alert_row, status, until
from tests.support.skew_proxy import skew_proxy

pytestmark = pytest.mark.stack
AHEAD = timedelta(minutes=2)
USER = "skew@oncall"
VERSION = "0.25.0"  # the Alertmanager of the demo stack (Debian bookworm's package)


@pytest.fixture
def posted(stack: Stack) -> Iterator[tuple[str, str]]:
    """One alert of this test's own on the real Alertmanager; (its name, run label)."""
    url = stack.alertmanager_urls[0]
    run = uuid.uuid4().hex[:12]
    name = "ClockSkewProbe"

    def post(ends: datetime) -> None:
        body = [{"labels": {"alertname": name, "skew_run": run, "severity": "warning"},
                 "startsAt": (ends - timedelta(hours=2)).isoformat(),
                 "endsAt": ends.isoformat()}]  # fmt: skip
        httpx.post(f"{url}/api/v2/alerts", json=body, timeout=10).raise_for_status()

    post(datetime.now(UTC) + timedelta(hours=1))
    try:
        yield name, run
    finally:
        post(datetime.now(UTC) - timedelta(seconds=1))
        for s in httpx.get(f"{url}/api/v2/silences", timeout=5).json():
            if s["status"]["state"] != "expired" and s["createdBy"] == USER:
                httpx.delete(f"{url}/api/v2/silence/{s['id']}", timeout=5)


async def test_status_names_the_skew_and_an_ack_is_timed_by_the_server_clock_0_25(
    stack: Stack, posted: tuple[str, str]
) -> None:
    name, run = posted
    upstream = stack.alertmanager_urls[0]
    assert VERSION in httpx.get(upstream + "/api/v2/status", timeout=5).text
    with skew_proxy(upstream, AHEAD.total_seconds()) as proxy:
        context = msgspec.structs.replace(
            demo_context(stack, refresh=1),
            alertmanagers=[ClusterConfig(name="skewed", peers=[proxy])],
        )
        app = OncallApp(Settings.from_data({"user": USER}), build_clients(context))
        async with app.run_test(size=(160, 35)) as pilot:
            await until(pilot, lambda: alert_row(app, name), "the probe alert on the board")
            await until(
                pilot,
                lambda: "clock: skewed 2m ahead of this host" in status(app),
                "the status line names the skew",
            )
            await pilot.press("slash", *name, "enter")

            def on_it() -> bool:
                screen = app.screen
                line = screen.board.current if isinstance(screen, AlertsScreen) else None
                return line is not None and line.alert is not None and line.alert.name == name

            await until(pilot, on_it, "the cursor on the probe")
            pressed = datetime.now(UTC)
            await pilot.press("a")

            def held() -> list[dict[str, object]]:
                every = httpx.get(upstream + "/api/v2/silences", timeout=5).json()
                return [
                    s for s in every
                    if s["createdBy"] == USER and {"name": "skew_run", "value": run,
                        "isRegex": False, "isEqual": True} in s["matchers"]
                ]  # fmt: skip

            deadline = time.monotonic() + 20
            while not held():
                assert time.monotonic() < deadline, "the ack not held within 20 s"
                await pilot.pause(0.1)
    (ack,) = held()
    starts = datetime.fromisoformat(str(ack["startsAt"]))
    ends = datetime.fromisoformat(str(ack["endsAt"]))
    # Started at the server's "now" (two minutes past ours), lasting its full 15 minutes by
    # the server's clock: it neither ends two minutes early nor starts in the server's past.
    assert abs(starts - (pressed + AHEAD)) < timedelta(seconds=5), (starts, pressed)
    assert ends - starts == timedelta(minutes=15)
    # The real server's own clock is ours, so to it the ack is still to come.
    assert ack["status"] == {"state": "pending"}
