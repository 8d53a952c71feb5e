"""The SLO screens, driven by Pilot against a real Prometheus fed at fixed rates: `:slo` shows
the figures a hand calculation gives, and changes when the exporter's error rate changes."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import msgspec
import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from oncall_tui.cli.demo import demo_context
from oncall_tui.demo.exporter import ExporterRates
from oncall_tui.demo.stack import Stack, StackOptions
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.detail import AlertDetailScreen
from oncall_tui.ui.screens.slo import SLOScreen
from oncall_tui.ui.widgets.slo_strip import SLOStrip
from tests.helpers import board_alert, demo_app, section, until

pytestmark = pytest.mark.stack
RATES = ExporterRates(error_ratio=0.05)


@pytest.fixture()
def ui_stack() -> Iterator[Stack]:
    """A stack of its own: one test changes its error rate."""
    with Stack(StackOptions(alertmanager_peers=1, rates=RATES)) as demo:
        demo.wait_for_firing()
        yield demo


def cards(app: OncallApp) -> list[str]:
    screen = app.screen
    if not isinstance(screen, SLOScreen):
        return []
    return [
        s.content.plain
        for s in screen.query(".slo-card").results(Static)
        if isinstance(s.content, Text)
    ]


def card(app: OncallApp, name: str) -> str:
    return next((c for c in cards(app) if c.startswith(name)), "")


def burn_5m(text: str) -> float | None:
    found = re.search(r"burn 5m (\S+)", text)
    return float(found.group(1)) if found else None


async def command(pilot: Pilot[None], text: str) -> None:
    await pilot.press("colon", *text, "enter")


async def test_slo_view_shows_the_hand_calculated_figures_and_follows_the_error_rate(
    ui_stack: Stack,
) -> None:
    app = demo_app(ui_stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await command(pilot, "slo")
        # The figures and the chart: the chart's range queries may answer after the figures.
        shown = ("burn 5m", "now")  # a line of the figures, the chart's time axis
        await until(pilot, lambda: all(w in card(app, "availability") for w in shown))
        avail = card(app, "availability · churn-api")
        # 5 % errors against 99.9 %: burn 50 over every window, page; SLI 95 %.
        assert "99.9% over 30d  config  PAGE" in avail
        assert "SLI 95.000%" in avail
        # The exporter's history is about an hour: longer windows are marked as partial.
        # (1h sits on the edge of an hour's history: it may go either way.)
        assert re.search(
            r"burn 5m 50\.0 30m 50\.0 1h 50\.0\*? 2h 50\.0\* 6h 50\.0\* 1d 50\.0\* 3d 50\.0\*",
            avail,
        ), avail
        assert "* over the data there is, shorter than the window" in avail
        # 0.05 x the history there is (an hour, plus the seconds since the stack started).
        spent = re.search(r"budget 43\.2 min · spent (\S+) min \((\S+)%\)", avail)
        assert spent is not None, avail
        assert 3.0 <= float(spent.group(1)) <= 3.1 and 6.9 <= float(spent.group(2)) <= 7.2
        assert "% left" in avail and "now" in avail  # the gauge and the chart
        assert "data covers " in avail
        latency = card(app, "latency · churn-api")
        assert "TICKET" in latency and "burn 5m 4.00" in latency
        assert cards(app)[0].startswith("availability"), "least budget left first"

        ui_stack.set_rates(error_ratio=0.5)

        # The 5m window fills with the new errors: refresh until the view shows it.
        for _ in range(60):
            await pilot.press("ctrl+r")
            try:
                await until(
                    pilot, lambda: (burn_5m(card(app, "availability")) or 0) > 55, timeout=1.0
                )
                break
            except AssertionError:
                continue
        else:
            raise AssertionError(card(app, "availability"))
        await pilot.press("escape")
        assert isinstance(app.screen, AlertsScreen)


async def test_board_strip_and_alert_detail_show_the_budget(ui_stack: Stack) -> None:
    app = demo_app(ui_stack)
    async with app.run_test(size=(120, 35)) as pilot:
        strip = app.screen.query_one(SLOStrip)
        await until(pilot, lambda: strip.seen.polls and "availability" in strip.text.plain)
        assert "PAGE" in strip.text.plain and "burn 50.0×" in strip.text.plain
        await until(pilot, lambda: board_alert(app, "ErrorBudgetBurn"))
        alert = board_alert(app, "ErrorBudgetBurn")
        assert alert is not None and alert.labels.get("service") == "churn-api"
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        await app.push_screen(AlertDetailScreen(alert, app.state, screen.model))
        await until(pilot, lambda: "availability · churn-api PAGE" in section(app, "slo"))
        text = section(app, "slo")
        assert "budget 43.2 min" in text and "latency · churn-api TICKET" in text


async def test_strip_keeps_stale_figures_when_prometheus_fails(ui_stack: Stack) -> None:
    app = demo_app(ui_stack)
    async with app.run_test(size=(80, 24)) as pilot:
        strip = app.screen.query_one(SLOStrip)
        await until(pilot, lambda: strip.seen.polls and "availability" in strip.text.plain)
        # The same SLOs against a port where nothing listens: a real connection failure.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        from oncall_tui.config import PrometheusConfig
        from oncall_tui.state.slo import SLOPoller

        down = msgspec.structs.replace(
            demo_context(ui_stack), prometheus=PrometheusConfig(url=f"http://127.0.0.1:{port}")
        )
        clients = build_clients(down)
        try:
            strip.seen.take(await SLOPoller(clients).poll())
            strip.show()
        finally:
            await clients.aclose()
        shown = strip.text.plain
        assert "STALE since" in shown and "availability" in shown
        assert isinstance(app.screen, AlertsScreen)  # the board carries on
