"""The board never shows a blank or silently shifting view: it says why it is empty, keeps
the SLOs in view at 80 columns (and when Prometheus is down), and tells the user when new
criticals land above the alert the cursor stays on. Real servers, real app (Pilot)."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Static

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.cli.demo import DEMO_SLOS
from oncall_tui.config import ClusterConfig, Context, PrometheusConfig, Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.slo import SLOScreen
from oncall_tui.ui.widgets.banner import IncompleteBanner
from oncall_tui.ui.widgets.slo_strip import SLOStrip
from oncall_tui.wire.alertmanager import PostableAlert
from tests.helpers import board, demo_app, row_with, rows, until

pytestmark = pytest.mark.stack


def closed_port_url() -> str:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{dead.getsockname()[1]}"
    dead.close()
    return url


def strip_text(app: OncallApp) -> str:
    return app.screen.query_one(SLOStrip).text.plain


async def test_a_filter_that_matches_nothing_says_so(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        await pilot.press("slash", *"nosuchthing", "enter")
        await until(pilot, lambda: row_with(app, "no alerts match"))

        def says_all_hidden() -> bool:
            # Read together: on a stack that just started, alerts still arrive between polls.
            total = app.screen.model.total  # type: ignore[attr-defined]
            line = row_with(app, "no alerts match") or ""
            return f"no alerts match `nosuchthing` ({total} hidden by the filter" in line

        await until(pilot, says_all_hidden, "every alert counted as hidden by the filter")
        await pilot.press("escape")
        await until(pilot, lambda: row_with(app, "HighErrorRate"))


async def test_a_dead_context_says_why_the_board_is_empty() -> None:
    url = closed_port_url()
    context = Context(name="broken", alertmanagers=[ClusterConfig(name="gone", peers=[url])])
    app = OncallApp(Settings(), build_clients(context))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, AlertsScreen) and row_with(app, "cannot reach")
        )
        line = row_with(app, "cannot reach")
        assert line is not None and "cannot reach gone:" in line and "Connection refused" in line


async def test_the_slo_strip_keeps_every_slo_at_80_columns(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        # The demo's SLOs both burn: availability pages, latency tickets.
        await until(pilot, lambda: "PAGE" in strip_text(app), timeout=60)
        strip = app.screen.query_one(SLOStrip)
        assert strip.text.cell_len <= 80, strip.text.plain
        text = strip.text.plain
        assert "availability PAGE" in text and "latency TICKET" in text, text


async def test_new_criticals_above_the_cursor_are_announced(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: row_with(app, "HighCPU"))
        view = board(app)

        def on_high_cpu() -> bool:
            line = view.current
            return line is not None and line.alert is not None and line.alert.name == "HighCPU"

        while not on_high_cpu():
            await pilot.press("j")
        picked = view.current
        assert picked is not None and picked.alert is not None
        now = datetime.now(UTC)
        fresh = PostableAlert(
            labels={"alertname": "AANewCriticalAbove", "severity": "critical", "case": "cursor"},
            annotations={"summary": "inserted above the cursor"},
            starts_at=now,
            ends_at=now + timedelta(minutes=2),
        )
        for url in stack.alertmanager_urls:
            peer = AlertmanagerPeer(url, ClientOptions())
            await peer.post_alerts([fresh])
            await peer.aclose()
        await until(pilot, lambda: row_with(app, "AANewCriticalAbove"))
        # The cursor stays on the alert the user chose, which stays in view ...
        assert view.current is not None and view.current.key == picked.key
        cursor_row = view.cursor - view.scroll_offset.y
        assert 0 <= cursor_row < view.size.height
        assert "HighCPU" in rows(app)[cursor_row]

        # ... and the user is told what arrived above it.
        def said() -> int:
            return sum(
                "new critical alert above the cursor" in str(n.message) for n in app._notifications
            )

        await until(pilot, said)
        # Once: every key typed in the filter reloads the board, and each reload said it
        # again, a dozen toasts that hid what the user did next (`y`'s "copied").
        for _ in range(5):
            view.reload()
            await pilot.pause()
        assert said() == 1


async def test_prometheus_down_from_the_start_keeps_the_configured_slos(stack: Stack) -> None:
    context = Context(
        name="no-prom",
        alertmanagers=[ClusterConfig(name="demo", peers=stack.alertmanager_urls)],
        prometheus=PrometheusConfig(url=closed_port_url()),
        refresh=1,
        slos=list(DEMO_SLOS),
    )
    app = OncallApp(Settings(), build_clients(context))
    async with app.run_test(size=(120, 35)) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, AlertsScreen) and row_with(app, "HighErrorRate")
        )
        banner = app.screen.query_one(IncompleteBanner)
        await until(pilot, lambda: "Prometheus is not answering" in banner.plain)
        await until(pilot, lambda: "NO DATA" in strip_text(app))
        assert "availability" in strip_text(app) and "latency" in strip_text(app)

        await app.run_command("slo")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, SLOScreen)
                and app.screen.is_mounted
                and app.screen.seen.polls > 0
            ),
        )
        screen = app.screen
        assert isinstance(screen, SLOScreen)
        head = screen.query_one("#slo-status", Static).render()
        assert "2 SLOs" in str(head) and "NO DATA" in str(head), head
        cards = screen.card_texts()
        assert len(cards) == 2 and all("Connection refused" in c for c in cards), cards


async def test_an_alert_that_resolves_is_listed_as_recently_resolved(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        now = datetime.now(UTC)
        brief = PostableAlert(
            labels={"alertname": "ShortLivedAlert", "severity": "warning", "case": "resolved"},
            annotations={"summary": "resolves in seconds"},
            starts_at=now,
            ends_at=now + timedelta(seconds=4),
        )
        for url in stack.alertmanager_urls:
            peer = AlertmanagerPeer(url, ClientOptions())
            await peer.post_alerts([brief])
            await peer.aclose()
        await until(pilot, lambda: row_with(app, "ShortLivedAlert", "active"))
        await until(pilot, lambda: row_with(app, "ShortLivedAlert", "resolved"), timeout=30)
        line = row_with(app, "ShortLivedAlert", "resolved")
        assert line is not None and line.lstrip().startswith("✓"), line
        assert re.search(r"left \d\d:\d\d:\d\d", line), line
        lines = rows(app)
        header = next(i for i, r in enumerate(lines) if "RECENTLY RESOLVED" in r)
        assert lines.index(line) > header, "listed under the section, at the bottom"
        assert app.screen.query_one(IncompleteBanner).plain == "", "an ordinary resolution"
