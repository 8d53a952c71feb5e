"""`w` on an alert, the detail's routing section and `:routes`, through Pilot on the real stack.

The receivers the app shows are checked against amtool on the configuration the demo serves
(tests/integration/test_routing_oracle.py does the thorough comparison).
"""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import Tree

from oncall_tui.demo.stack import Stack
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.detail import AlertDetailScreen
from oncall_tui.ui.screens.routes import RoutesScreen
from oncall_tui.ui.screens.where import WhereScreen
from tests.helpers import board_alert, cursor_on, demo_app, section, texts, until

pytestmark = pytest.mark.stack


def tree_lines(screen: RoutesScreen) -> list[str]:
    tree: Tree[str] = screen.route_tree
    out = []

    def walk(node: object) -> None:
        for child in node.children:  # type: ignore[attr-defined]
            label = child.label
            out.append(label.plain if isinstance(label, Text) else str(label))
            walk(child)

    walk(tree.root)
    return out


async def test_w_shows_receiver_interval_and_inhibitor(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: board_alert(app, "HighLatency", "inhibited"), "HighLatency")
        await cursor_on(app, pilot, "HighLatency")
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WhereScreen), "the where view")
        await until(pilot, lambda: "inhibited NOW by ChurnAPIDown" in texts(app), "inhibitor")
        shown = texts(app)
        assert "receiver   email" in shown
        assert "business_hours" in shown and ("holds now" in shown or "does not hold" in shown)
        assert '{severity="warning"}' in shown
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen), "back on the board")


async def test_detail_has_the_routing_section(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: board_alert(app, "HighCPU", "active"), "HighCPU firing")
        alert = board_alert(app, "HighCPU", "active")
        assert alert is not None
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        await app.push_screen(AlertDetailScreen(alert, app.state, screen.model))
        await until(pilot, lambda: "ops-team-slack" in section(app, "routing"), "routing")
        routing = section(app, "routing")
        expected = ["ops-team-slack"] if alert.severity != "critical" else ["pagerduty"]
        for receiver in expected:
            assert f"receiver   {receiver}" in routing


async def test_routes_draws_the_whole_tree_and_highlights_typed_labels(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: board_alert(app, "HighCPU"), "alerts on the board")
        await pilot.press("colon")
        await pilot.press(*"routes", "enter")
        await until(pilot, lambda: isinstance(app.screen, RoutesScreen), ":routes")
        screen = app.screen
        assert isinstance(screen, RoutesScreen)
        # The course's root and 4 routes, and the demo's heartbeat route for the Watchdog.
        await until(pilot, lambda: len(tree_lines(screen)) == 7, "cluster + 6 routes")
        lines = tree_lines(screen)
        assert lines[0].startswith("cluster demo")
        receivers = ("default", "watchdog", "pagerduty", "ml-team-slack", "ops-team-slack", "email")
        for receiver in receivers:
            assert any(f"→ {receiver}" in line for line in lines[1:]), receiver
        await until(pilot, lambda: "[0]" not in tree_lines(screen)[1], "root counts alerts")
        await pilot.press("slash")
        await pilot.press(*"severity=critical alertname=HighCPU", "enter")
        await until(pilot, lambda: screen.labels is not None, "labels taken")
        lines = tree_lines(screen)
        assert "→ pagerduty, ops-team-slack" in lines[0]
        landed = [line for line in lines if "lands here" in line]
        assert len(landed) == 2 and "pagerduty" in landed[0] and "ops-team-slack" in landed[1]
        await pilot.press("slash")
        await pilot.press(*" team!=x", "enter")
        await until(pilot, lambda: "name=value" in texts(app, "#routes-title"), "refused")
