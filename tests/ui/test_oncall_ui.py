"""`:oncall` and the detail's escalation chain, through the real app on the real demo stack."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oncall_tui.cli.demo import DEMO_ONCALL
from oncall_tui.demo.stack import Stack
from oncall_tui.domain.oncall import chain, next_step, on_call
from oncall_tui.ui.screens.detail import AlertDetailScreen
from oncall_tui.ui.screens.oncall import OncallScreen
from oncall_tui.ui.widgets.oncall_text import clock
from tests.helpers import board_alert, cursor_on, demo_app, section, texts, until

pytestmark = pytest.mark.stack
BOOK = DEMO_ONCALL.book()


async def test_oncall_shows_who_is_on_call_now_and_next(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("colon", *"oncall", "enter")
        await until(pilot, lambda: isinstance(app.screen, OncallScreen), ":oncall")
        shown = texts(app)
        now = datetime.now(UTC)
        for schedule in BOOK.schedules:
            who = on_call(schedule, now)
            assert who.user is not None and who.until is not None
            block = shown.split(schedule.name, 1)[1]
            assert f"now   {who.user}  until {clock(who.until, now)}" in block, block
            assert f"next  {who.next_user}  from {clock(who.until, now)}" in block, block
        assert "Ops Escalation  (team=ops)" in shown
        assert "+15 min  Ops Backup: " in shown and "engineering-manager@example.com" in shown


async def test_churn_api_down_names_who_is_paged_and_when_it_escalates(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: board_alert(app, "ChurnAPIDown", "active"), "ChurnAPIDown")
        alert = board_alert(app, "ChurnAPIDown", "active")
        assert alert is not None and alert.labels["team"] == "ops"
        await cursor_on(app, pilot, "ChurnAPIDown")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AlertDetailScreen), "the detail")
        escalation = section(app, "escalation")
        policy = BOOK.policy_for(alert.labels)
        assert policy is not None and policy.name == "Ops Escalation"
        now = datetime.now(UTC)
        steps = chain(policy, BOOK.schedules, datetime.fromtimestamp(alert.started_ts, UTC))
        ahead = next_step(steps, now)
        assert ahead is not None, "the session's stack has run for over half an hour"
        assert escalation.startswith("Ops Escalation  (team=ops)"), escalation
        assert (
            f"escalates to {ahead.names} ({ahead.people}) at {clock(ahead.at, now)} unless acked"
            in escalation
        ), escalation
        first = steps[0].notified[0].person
        assert first and f"Ops Primary: {first}  paged" in escalation, escalation
