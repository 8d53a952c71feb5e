"""Servers going away under a running board: it stays usable, says what is stale, recovers."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from oncall_tui.demo.stack import Stack, StackOptions
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.detail import AlertDetailScreen
from oncall_tui.ui.widgets.banner import IncompleteBanner
from oncall_tui.ui.widgets.slo_strip import SLOStrip
from tests.helpers import alert_row, board, demo_app, status, until

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
    app = demo_app(own_stack)
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


# -- never quietly green (issue 12) -------------------------------------------------------------


def screen_of(app: OncallApp) -> AlertsScreen:
    screen = app.screen
    assert isinstance(screen, AlertsScreen)
    return screen


def firing_keys(app: OncallApp) -> set[str]:
    """The Alertmanager alerts on the board (held ones included; pending and resolved not)."""
    return {
        a.key
        for g in screen_of(app).model.groups
        for a in g.alerts
        if a.state not in ("pending", "resolved")
    }


def marked(app: OncallApp) -> set[str]:
    return {a.key for g in screen_of(app).model.groups for a in g.alerts if a.unconfirmed}


def banner(app: OncallApp) -> str:
    return screen_of(app).query_one(IncompleteBanner).plain


def am_fingerprints(stack: Stack) -> set[str]:
    """The alerts the real peers hold, by fingerprint."""
    return {
        a["fingerprint"]
        for url in stack.alertmanager_urls
        for a in httpx.get(url + "/api/v2/alerts", timeout=5).json()
    }


async def settled_board(pilot: Pilot[None], app: OncallApp, stack: Stack) -> set[str]:
    """Wait until the real Alertmanagers' alerts have not changed for 5 s (some demo alerts
    fire only once their rate windows fill) and the board shows exactly those, live."""
    await until(pilot, lambda: alert_row(app, "HighErrorRate") and "live" in status(app))
    last: set[str] = set()
    since = time.monotonic()

    def steady() -> bool:
        nonlocal last, since
        now = am_fingerprints(stack)
        if now != last:
            last, since = now, time.monotonic()
        board = {k.split("/", 1)[1] for k in firing_keys(app)}
        return time.monotonic() - since >= 5 and board == last and "live" in status(app)

    await until(pilot, steady, timeout=90)
    keys = firing_keys(app)
    assert len(keys) >= 5, keys
    return keys


async def test_prometheus_outage_keeps_every_alert_marked_until_it_is_back(
    own_stack: Stack,
) -> None:
    app = demo_app(own_stack)
    async with app.run_test(size=(160, 50)) as pilot:
        before = await settled_board(pilot, app, own_stack)
        assert banner(app) == ""

        killed = time.monotonic()
        os.kill(own_stack.pids["prometheus"], signal.SIGKILL)
        await until(pilot, lambda: "Prometheus is not answering" in banner(app), timeout=15)
        to_banner = time.monotonic() - killed
        # Refused, or cut if the kill caught a request in flight: the server's words either way.
        assert re.search(r"Connection (refused|reset)|Server disconnected", banner(app)), banner(
            app
        )
        strip = app.screen.query_one(SLOStrip)
        await until(
            pilot, lambda: "STALE since" in strip.text.plain or "NO DATA" in strip.text.plain
        )
        assert "latency" in strip.text.plain or "within budget" in strip.text.plain

        # Nothing re-sends the alerts: the real Alertmanagers drop them all ...
        await until(pilot, lambda: not am_fingerprints(own_stack), timeout=30)
        dropped = time.monotonic() - killed
        # ... and the board keeps every one of them, marked, with the banner.
        await until(pilot, lambda: marked(app) == before, timeout=15)
        assert firing_keys(app) == before
        row = alert_row(app, "HighErrorRate")
        assert row is not None and row.lstrip().startswith("?") and "unconfirmed" in row, row
        assert re.search(r"left \d\d:\d\d:\d\d", row), row
        assert "kept, marked ?" in banner(app)
        assert not screen_of(app).ledger.resolved, "nothing resolved: Prometheus was down"
        # Its detail says so too, not the "active" it was last seen in.
        view = board(app)

        def on_it() -> bool:
            line = view.current
            return (
                line is not None and line.alert is not None and line.alert.name == "HighErrorRate"
            )

        await pilot.press("g")  # from the top: the cursor may sit below it (it keeps its alert)
        for _ in range(len(view._lines)):
            if on_it():
                break
            await pilot.press("j")
        assert on_it(), "HighErrorRate is not on the board's rows"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AlertDetailScreen))
        title = str(app.screen.query_one("#detail-title", Static).render())
        assert "unconfirmed" in title and "active" not in title, title
        assert re.search(r"left Alertmanager \d\d:\d\d:\d\d", title), title
        assert "? kept, unconfirmed: Prometheus was not answering (" in title, title
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))

        # Prometheus back: once it has evaluated its rules and re-sent them, marks and banner go.
        restarted = time.monotonic()
        own_stack.restart("prometheus")
        await until(pilot, lambda: not banner(app) and not marked(app), timeout=90)
        to_clear = time.monotonic() - restarted
        assert firing_keys(app) == before
        assert alert_row(app, "HighErrorRate", "active")
        assert not screen_of(app).ledger.resolved, "no alert was resolved by the outage"
        await until(pilot, lambda: "STALE" not in strip.text.plain, timeout=60)
        print(
            f"banner {to_banner:.1f} s after Prometheus died; Alertmanager empty after "
            f"{dropped:.1f} s; banner and marks gone {to_clear:.1f} s after its restart"
        )


async def test_peers_shutting_down_never_empty_the_board(own_stack: Stack) -> None:
    app = demo_app(own_stack)
    async with app.run_test(size=(160, 50)) as pilot:
        before = await settled_board(pilot, app, own_stack)
        peers = [own_stack.pids[f"alertmanager-{i}"] for i in (0, 1)]
        for pid in peers:  # both at once, as a rolling restart gone wrong does
            os.kill(pid, signal.SIGTERM)
        least = len(before)

        log: list[tuple[object, ...]] = []  # each change the board went through, for a failure

        def watch() -> bool:
            nonlocal least
            shown = len(firing_keys(app))
            least = min(least, shown)
            ledger = screen_of(app).ledger
            entry = (shown, status(app)[7:40], dict(ledger.distrust), len(ledger.resolved))
            if not log or log[-1] != entry:
                log.append(entry)
            return not any(n.startswith("alertmanager") for n in own_stack.pids)

        await until(pilot, watch, timeout=30)
        await until(pilot, lambda: "no peer answers" in banner(app), timeout=30)
        assert least == len(before), f"the board dropped to {least} of {len(before)}: {log}"
        assert firing_keys(app) == before and "STALE since" in status(app)
        assert not screen_of(app).ledger.resolved

        for i in (0, 1):
            own_stack.restart(f"alertmanager-{i}")
        # Back empty; Prometheus re-sends within seconds: the same alerts, unmarked.
        await until(
            pilot,
            lambda: not banner(app) and not marked(app) and firing_keys(app) == before,
            timeout=90,
        )
        assert "demo 2/2 peers" in status(app) and "live" in status(app)
        assert not screen_of(app).ledger.resolved
