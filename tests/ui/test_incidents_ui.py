"""An incident declared from ChurnAPIDown after an ack, on the module's own stack (it writes
silences), exported as Markdown holding those steps with their times."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from oncall_tui.cli.demo import demo_context
from oncall_tui.config import Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.domain import incidents as rules
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.incidents import IncidentScreen, IncidentsScreen
from oncall_tui.ui.screens.runbook import RunbookScreen
from tests.helpers import alert_row, cursor_on, until

pytestmark = pytest.mark.stack
USER = "commander@oncall"


async def test_incident_after_an_ack_exports_its_timeline(
    own: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = Settings.from_data({"user": USER})
    app = OncallApp(settings, build_clients(demo_context(own, refresh=1)))
    book = app.state.incidents
    async with app.run_test(size=(120, 40)) as pilot:
        await cursor_on(app, pilot, "ChurnAPIDown")
        await pilot.press("a")
        await until(pilot, lambda: alert_row(app, "ChurnAPIDown", "acked"), "the ack")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunbookScreen) and app.screen.fences)
        await pilot.press("x")
        await until(pilot, lambda: any(e.kind == rules.QUERY for e in book.seen), "the query")
        await pilot.press("escape")
        await cursor_on(app, pilot, "ChurnAPIDown")
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, IncidentScreen), "the incident")
        assert isinstance(app.screen, IncidentScreen)
        incident = app.screen.incident
        assert incident.sev == 1 and incident.commander == USER
        assert incident.labels["alertname"] == "ChurnAPIDown"
        kinds = [e.kind for e in incident.timeline]
        for kind in (rules.FIRED, rules.ACK, rules.RUNBOOK, rules.QUERY, rules.DECLARED):
            assert kind in kinds, kinds
        assert kinds.index(rules.ACK) < kinds.index(rules.DECLARED)
        await pilot.press("m", *"rolled back", "enter", "n")
        await until(pilot, lambda: app.screen.incident.step == "investigation")  # type: ignore[attr-defined]
        await pilot.press("e")
        md = book.directory / f"{incident.id}.md"
        await until(pilot, md.exists, "the export")
        for path in (book.path(incident.id), md):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        text = md.read_text()
        final = book.get(incident.id)
        for event in final.timeline:
            assert f"| {rules.clock(event.at)} | {rules.md(event.kind)} |" in text, event
        ack = next(e for e in final.timeline if e.kind == rules.ACK)
        assert f"acked by {rules.md(USER)}" in text and rules.clock(ack.at) in text
        assert "rolled back" in text
        await pilot.press("escape", "colon", *"incidents", "enter")
        await until(pilot, lambda: isinstance(app.screen, IncidentsScreen))
        assert "SEV-1" in str(app.screen.query_one("#incidents-list").render_line(0).text)
