"""A poll that brings nothing new keeps the board: no rebuild, the same rows, the same marks.

Against an Alertmanager of the module's own (no Prometheus re-sending alerts, so its answer
stays byte for byte the same until a test posts), proven on the version the stack runs.
"""

from __future__ import annotations

import json
import re

import pytest

from oncall_tui.config import Settings, resolve_context
from oncall_tui.ui.screens.alerts import AlertsScreen
from tests.helpers import alert_row, context_app, lone_alertmanager, raw_http, rows, until

pytestmark = pytest.mark.stack


def steady(lines: list[str]) -> list[str]:
    """The rows without their ages, which tick between two reads whatever the poll did."""
    return [re.sub(r"(?<=\s)\d+[smhd](?=\s)", "AGE", line) for line in lines]


def post(url: str, name: str) -> None:
    alert = {"labels": {"alertname": name, "severity": "warning", "team": "quiet-poll"}}
    status, body = raw_http(url + "/api/v2/alerts", json.dumps([alert]).encode())
    assert status == 200, body


async def test_a_quiet_poll_keeps_the_board_and_a_change_rebuilds_it() -> None:
    with lone_alertmanager() as server:
        await quiet_then_changed(server.alertmanager_urls[0])


async def quiet_then_changed(lone: str) -> None:
    post(lone, "QuietPollFirst")
    # refresh=60: every poll here is one the test asks for.
    app = context_app(resolve_context(Settings(), alertmanagers=[lone], refresh=60))
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: alert_row(app, "QuietPollFirst"), timeout=15)
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        store = screen.store
        before, board, shown = store.rebuilds, store.board_groups, steady(rows(app))

        polls = store.polls
        await store.refreshed()
        await pilot.pause()
        assert store.polls == polls + 1
        assert store.rebuilds == before and store.board_groups is board
        assert steady(rows(app)) == shown

        post(lone, "QuietPollSecond")
        await store.refreshed()
        await until(pilot, lambda: alert_row(app, "QuietPollSecond"), timeout=10)
        assert store.rebuilds == before + 1
        new_row = alert_row(app, "QuietPollSecond")
        assert new_row is not None and "✚" in new_row  # marked new by the poll that saw it

        # The next poll brings nothing, yet it is the one that unmarks the new alert.
        await store.refreshed()
        await until(pilot, lambda: "✚" not in (alert_row(app, "QuietPollSecond") or "✚"))
        assert store.rebuilds == before + 1
