"""`:health` and the status line on a demo whose webhook sink really breaks (answers 500).

Its own Stack: breaking the sink changes the stack. The demo's Alertmanager delivers to the
sink (the Watchdog heartbeat every 2 s), so failures are real Alertmanager counters
(Alertmanager 0.25.0, Prometheus 2.42.0 here).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest

from oncall_tui.cli.demo import DEMO_REFRESH, demo_context
from oncall_tui.config import Settings, resolve_context
from oncall_tui.demo.stack import Stack, StackOptions, find_binaries
from oncall_tui.domain.pipeline import BAD, UNKNOWN
from oncall_tui.ui.screens import alerts as alerts_screen
from oncall_tui.ui.screens.health import HealthScreen
from tests.helpers import context_app, demo_app, lone_alertmanager, status, texts, until
from tests.support import fault_proxy as fp

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Stack]:
    stack = Stack(StackOptions(alertmanager_peers=1), find_binaries())
    try:
        stack.start(timeout=30)
        stack.wait_for_firing(timeout=30)
        yield stack
    finally:
        stack.stop()


def refused(stack: Stack) -> int:
    assert stack.sink_url is not None
    with urllib.request.urlopen(stack.sink_url + "/received", timeout=5) as answer:
        return sum(json.loads(answer.read())["refused"].values())


async def test_broken_sink_shows_within_two_polls_and_clears(
    own_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo's own refresh (5 s): "within two polls" is what the demo promises. Polled every
    # second, two polls are shorter than Alertmanager's retry backoff: after a mend the first
    # notification that goes through comes 2-3 s later.
    app = context_app(demo_context(own_stack))
    assert app.state.context.refresh == DEMO_REFRESH
    async with app.run_test(size=(120, 35)) as pilot:
        health = app.state.health
        # Healthy first: the Watchdog reaches Alertmanager some seconds after start-up.
        await until(pilot, lambda: health.polled >= 2 and not health.headline, "a healthy pipeline")
        shown = [v for v in health.verdicts if v.check == "watchdog"]
        assert shown and shown[0].level != BAD, shown
        await pilot.press("colon")
        await pilot.press(*"health", "enter")
        await until(pilot, lambda: isinstance(app.screen, HealthScreen), ":health")
        await until(pilot, lambda: "paging looks healthy" in texts(app), "healthy at first")

        own_stack.break_sink()
        before = refused(own_stack)
        deadline = time.monotonic() + 20
        while refused(own_stack) == before and time.monotonic() < deadline:
            await pilot.pause(0.2)
        assert refused(own_stack) > before, "Alertmanager sent nothing to the broken sink"
        polls = health.polled
        await until(pilot, lambda: bool(health.headline), "the pipeline verdict")
        assert health.polled - polls <= 2, f"took {health.polled - polls} polls"
        await until(pilot, lambda: "PAGING MAY BE FAILING" in texts(app), ":health says so")
        assert "notifications to webhook failed" in texts(app)
        # One toast when paging starts failing, not one per poll (its counts change each
        # time): two polls on, still one.
        failing_since = health.polled
        await until(pilot, lambda: health.polled >= failing_since + 2, "two more polls")
        assert health.headline, "the sink is still broken"
        toasts = [n for n in app._notifications if n.title == "paging"]
        assert len(toasts) == 1, [n.message for n in toasts]
        # Over another view than the board it comes back as a reminder (every minute; now).
        monkeypatch.setattr(alerts_screen, "PAGING_REMIND", 0.0)
        asked = time.time()
        await until(
            pilot,
            lambda: [n for n in app._notifications if n.title == "paging" and n.raised_at > asked],
            "the reminder over :health",
        )
        monkeypatch.undo()
        await pilot.press("escape")
        await until(pilot, lambda: "paging may be failing" in status(app), "status line")

        own_stack.break_sink(False)
        mended = health.polled
        await until(pilot, lambda: not health.headline, "cleared after the mend")
        # A failure just before the mend is seen by the next poll; the one after clears.
        assert health.polled - mended <= 2, f"took {health.polled - mended} polls"
        await until(pilot, lambda: "paging may be failing" not in status(app), "status clear")


async def test_a_fresh_alertmanager_without_a_watchdog_yet_is_not_a_finding() -> None:
    """Start-up said "no Watchdog alert" before Prometheus had evaluated once. On an
    Alertmanager (0.25.0) started seconds ago, its absence is "not yet", read from the real
    server's `process_start_time_seconds`, and the status line stays quiet."""
    with lone_alertmanager() as server:  # no Prometheus: the Watchdog never comes
        app = demo_app(server)
        async with app.run_test(size=(120, 35)) as pilot:
            health = app.state.health
            await until(pilot, lambda: [v for v in health.verdicts if v.check == "watchdog"])
            (shown,) = [v for v in health.verdicts if v.check == "watchdog"]
            assert shown.level == UNKNOWN and "Alertmanager started" in shown.words, shown
            assert not health.headline
            assert "paging may be failing" not in status(app)


async def test_health_popped_in_the_tick_it_was_pushed(stack: Stack) -> None:
    """`:health` then esc at once (a double key press, a command undone): the screen was
    gone before its on_mount ran and that raised NoMatches (#health-body). The app goes on,
    on the board, and a later `:health` draws its verdicts (Alertmanager 0.25.0, Prometheus
    2.42.0)."""
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: app.state.alerts.last_good is not None, "the first poll")
        board, following = app.screen, len(app.state.health.subscribers)
        for _ in range(3):
            app.push_screen(HealthScreen(app.state))
            app.pop_screen()
            await pilot.pause()
        assert app.screen is board
        # None of the popped screens still follows the store (a redraw of a screen that is gone).
        assert len(app.state.health.subscribers) == following
        app.push_screen(HealthScreen(app.state))
        await until(pilot, lambda: "paging looks healthy" in texts(app), "a :health that draws")


async def test_health_asks_after_the_first_board_or_a_refresh_without_one(
    own_stack: Stack,
) -> None:
    """At start-up the servers' /metrics pages wait for the first poll's alerts (they competed
    with it for the CPU), but a first poll that hangs does not keep the health line waiting
    longer than one refresh: that hang is what it must tell."""
    with fp.FaultProxy(own_stack.alertmanager_urls[0]) as proxy:
        proxy.set(fp.HANG)
        context = resolve_context(Settings(), alertmanagers=[proxy.url], refresh=1.0)
        app = context_app(context)
        async with app.run_test(size=(120, 35)) as pilot:
            await until(pilot, lambda: _asked(proxy, "/metrics"), "health asked in the end")
            assert app.state.alerts.snapshot is None  # the board's poll still hangs
            # When the proxy took each request, not when this test saw it: the test's own
            # turns come late on a busy machine. The health loop starts its wait of one
            # refresh (1 s) before the board's first request goes out (0.15-0.3 s before,
            # measured here); asked at once, /metrics would come with the groups.
            waited = _first(proxy, "/metrics") - _first(proxy, "/alerts/groups")
            assert waited >= 0.4, f"/metrics asked {waited:.2f} s after the groups, not a refresh"


def _first(proxy: fp.FaultProxy, path: str) -> float:
    # `arrived` is appended first, so it may be one longer than `requests`.
    arrivals = zip(proxy.arrived, proxy.requests, strict=False)
    return next(at for at, target in arrivals if path in target)


def _asked(proxy: fp.FaultProxy, path: str) -> bool:
    return any(path in target for target in list(proxy.requests))
