"""Snapshots of every view the README shows, at 80x24 and 120x35, in the dark and light themes.

On fixed data (tests/data/snapshots, recorded from the real demo stack; see its README), no
server and no poll: the stores are fed what their first polls would have read, on-demand
reads get recorded answers, and the wall clock is frozen, so ages and clock times never move.
Accept a change on purpose with `pytest tests/ui/test_snapshots.py --snapshot-update`, then
look at the SVGs that changed (tests/ui/__snapshots__/test_snapshots/).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from types import SimpleNamespace

import pytest
import time_machine
from textual.pilot import Pilot
from textual.widgets import Input, SelectionList

from oncall_tui.state import silences as silencing
from oncall_tui.state.polling import PollLoop
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens import handoff as handoff_screen
from oncall_tui.ui.screens import query as query_screen
from tests.helpers import cursor_on
from tests.ui import snapshot_data as data

Scenario = Callable[[Pilot[None]], Awaitable[None]]
SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def fixed_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No poll, no server, one time zone, and a wall clock that stands still."""
    monkeypatch.setattr(PollLoop, "start", lambda self: None)
    monkeypatch.setattr(silencing, "preview_alerts", data.fixed_preview)
    monkeypatch.setattr(handoff_screen, "for_context", data.fixed_handoff)
    # `:query` prints how long the answer took (a monotonic difference): always 0 ms here.
    monkeypatch.setattr(
        query_screen, "time", SimpleNamespace(time=time.time, monotonic=lambda: 0.0)
    )
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    # time.time and datetime.now stand still; time.monotonic (Textual's and asyncio's
    # timers) runs on, so the app works as usual.
    with time_machine.travel(data.FIXED_NOW, tick=False):
        yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module", autouse=True)
def runbooks() -> None:
    data.place_runbooks()


def fixed_app(theme: str) -> OncallApp:
    app = OncallApp(data.settings(theme), build_clients(data.context()))
    data.feed(app.state)
    return app


async def settle(pilot: Pilot[None]) -> None:
    """Every worker done (lookups, previews), and no cursor that blinks between two frames."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False  # shown steadily, whatever the blink timer's phase
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def command(pilot: Pilot[None], text: str) -> None:
    """What `:TEXT` runs (typing it in the prompt key by key adds a second per view)."""
    await app(pilot).run_command(text)
    await pilot.pause()


async def fill(pilot: Pilot[None], selector: str, value: str, *, submit: bool = False) -> None:
    """Type into a field at once (key by key is slow, and the keys are not what is tested)."""
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = value
    if submit:
        await pilot.press("enter")
    await pilot.pause()


# -- the views ---------------------------------------------------------------------------------


async def show_board(pilot: Pilot[None]) -> None:
    pass


async def show_board_filtered(pilot: Pilot[None]) -> None:
    await pilot.press("slash")
    await fill(pilot, "#filter", "service=churn-api team=ml", submit=True)


async def show_detail(pilot: Pilot[None]) -> None:
    await cursor_on(app(pilot), pilot, "HighLatency")  # inhibited: the detail says by what
    await pilot.press("enter")


async def show_silence_form(pilot: Pilot[None]) -> None:
    await cursor_on(app(pilot), pilot, "HighErrorRate")
    await pilot.press("s")
    await pilot.pause()
    matchers = pilot.app.screen.query_one("#sf-matchers", SelectionList)
    matchers.deselect(matchers.get_option_at_index(0).value)  # alertname off: the preview widens
    await fill(pilot, "#sf-comment", "churn-api deploy, rollback window")


async def show_silences(pilot: Pilot[None]) -> None:
    await command(pilot, "silences")


async def show_maintenance(pilot: Pilot[None]) -> None:
    await command(pilot, "maintenance")
    await pilot.pause()
    await fill(pilot, "#sf-name", "db-upgrade")
    await fill(pilot, "#sf-start", "22:00")
    await fill(pilot, "#sf-end", "02:00")
    await fill(pilot, "#sf-comment", "postgres 16 upgrade")
    for matchers in ('service="churn-api"', 'job="churn-batch"'):
        await fill(pilot, "#sf-add", matchers, submit=True)


async def show_slo(pilot: Pilot[None]) -> None:
    await command(pilot, "slo")


async def show_query(pilot: Pilot[None]) -> None:
    await command(pilot, "query")
    await fill(pilot, "#query-input", data.QUERY, submit=True)


async def show_runbook(pilot: Pilot[None]) -> None:
    await cursor_on(app(pilot), pilot, "HighErrorRate")
    await pilot.press("r")


async def show_triage(pilot: Pilot[None]) -> None:
    await cursor_on(app(pilot), pilot, "HighErrorRate")
    await pilot.press("t")


async def show_handoff(pilot: Pilot[None]) -> None:
    await command(pilot, "handoff 4h")  # not the default window: the title names it


async def show_routes(pilot: Pilot[None]) -> None:
    await command(pilot, "routes")
    await fill(pilot, "#routes-labels", "service=churn-api severity=critical", submit=True)


async def show_where(pilot: Pilot[None]) -> None:
    await cursor_on(app(pilot), pilot, "HighLatency")  # muted now, and inhibited: both said
    await pilot.press("w")


async def show_health(pilot: Pilot[None]) -> None:
    await command(pilot, "health")


async def show_oncall(pilot: Pilot[None]) -> None:
    await command(pilot, "oncall")


async def show_incidents(pilot: Pilot[None]) -> None:
    await command(pilot, "incidents")


async def show_help(pilot: Pilot[None]) -> None:
    await pilot.press("question_mark")


def app(pilot: Pilot[None]) -> OncallApp:
    assert isinstance(pilot.app, OncallApp)
    return pilot.app


VIEWS: dict[str, Scenario] = {
    "board": show_board,
    "board-filtered": show_board_filtered,
    "detail": show_detail,
    "silence-form": show_silence_form,
    "silences": show_silences,
    "maintenance": show_maintenance,
    "slo": show_slo,
    "query": show_query,
    "runbook": show_runbook,
    "triage": show_triage,
    "handoff": show_handoff,
    "routes": show_routes,
    "where": show_where,
    "health": show_health,
    "oncall": show_oncall,
    "incidents": show_incidents,
    "help": show_help,
}


@pytest.mark.parametrize("theme", ["oncall-dark", "oncall-light"])
@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=["80x24", "120x35"])
@pytest.mark.parametrize("view", list(VIEWS))
def test_view(snap_compare: SnapCompare, view: str, size: tuple[int, int], theme: str) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await VIEWS[view](pilot)
        await settle(pilot)

    assert snap_compare(fixed_app(theme), terminal_size=size, run_before=run_before)
