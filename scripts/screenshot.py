"""Save SVG screenshots of the app on the demo stack into docs/, for the README.

Run: .venv/bin/python scripts/screenshot.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oncall_tui.cli.demo import demo_context  # noqa: E402
from oncall_tui.config import Settings  # noqa: E402
from oncall_tui.demo.stack import Stack  # noqa: E402
from oncall_tui.state.wiring import build_clients  # noqa: E402
from oncall_tui.ui.app import OncallApp  # noqa: E402
from oncall_tui.ui.screens.alerts import AlertsScreen  # noqa: E402


def states(app: OncallApp) -> set[str]:
    screen = app.screen
    if not isinstance(screen, AlertsScreen):
        return set()
    return {a.state for g in screen.model.groups for a in g.alerts}


async def shoot(stack: Stack, size: tuple[int, int]) -> None:
    app = OncallApp(Settings(), build_clients(demo_context(stack, refresh=1)))
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not {"pending", "inhibited"} <= states(app):
            await pilot.pause(0.2)
        await pilot.pause(1.5)  # one more poll, so no row is marked new
        app.save_screenshot(filename="alerts.svg", path=str(ROOT / "docs"))
        await pilot.press("slash", *"service=churn-api team=ml", "enter")
        app.save_screenshot(filename="filter.svg", path=str(ROOT / "docs"))
        await pilot.press("slash", "escape")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        target = next(
            i
            for i, line in enumerate(screen.board._lines)
            if line.alert is not None and line.alert.name == "HighLatency"
        )
        screen.board.move_to(target)
        await pilot.press("enter")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "ChurnAPIDown" not in _screen_text(app):
            await pilot.pause(0.2)
        await pilot.pause(0.5)
        app.save_screenshot(filename="detail.svg", path=str(ROOT / "docs"))
        await pilot.press("escape")
        await views(app, pilot, screen)
    print("saved docs/*.svg")


async def wait_for(pilot, check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not check():
        await pilot.pause(0.2)


async def views(app: OncallApp, pilot, board: AlertsScreen) -> None:  # type: ignore[no-untyped-def]
    """The silence form with its preview, :silences, :slo, a runbook and triage."""
    from oncall_tui.ui.dialogs.silence_form import SilenceForm

    def select(name: str) -> None:
        index = next(
            i
            for i, line in enumerate(board.board._lines)
            if line.alert is not None and line.alert.name == name
        )
        board.board.move_to(index)

    select("HighCPU")
    await pilot.press("a")  # an ack, so :silences has one
    await wait_for(pilot, lambda: "acked" in _board_text(board))
    select("HighErrorRate")
    await pilot.press("s")
    await wait_for(
        pilot, lambda: isinstance(app.screen, SilenceForm) and "Would silence" in _screen_text(app)
    )
    form = app.screen
    form.query_one("#sf-matchers").deselect(next(iter(form.rows)))  # alertname off
    await pilot.press("tab", *"churn-api deploy, rollback window")
    await wait_for(pilot, lambda: "alerts now" in _screen_text(app))
    await pilot.pause(0.5)
    app.save_screenshot(filename="silence.svg", path=str(ROOT / "docs"))
    await pilot.press("ctrl+s")
    await pilot.pause(0.3)
    if isinstance(app.screen, SilenceForm):
        await pilot.press("ctrl+s")  # above the preview limit: asked twice
    await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
    await pilot.press("colon", *"silences", "enter")
    await wait_for(pilot, lambda: "2 active" in _screen_text(app))
    await pilot.pause(0.5)
    app.save_screenshot(filename="silences.svg", path=str(ROOT / "docs"))
    await pilot.press("colon", *"slo", "enter")
    await wait_for(pilot, lambda: "burn" in _screen_text(app))
    await pilot.pause(1.0)
    app.save_screenshot(filename="slo.svg", path=str(ROOT / "docs"))
    await pilot.press("colon", *"alerts", "enter")
    select("HighErrorRate")
    await pilot.press("t")
    await wait_for(pilot, lambda: "threshold" in _screen_text(app))
    await pilot.pause(1.0)
    app.save_screenshot(filename="triage.svg", path=str(ROOT / "docs"))
    await pilot.press("escape")
    await pilot.pause(0.3)
    await pilot.press("r")
    await wait_for(pilot, lambda: "Runbook" in _screen_text(app) or "runbook" in _screen_text(app))
    await pilot.pause(1.0)
    app.save_screenshot(filename="runbook.svg", path=str(ROOT / "docs"))


def _board_text(board: AlertsScreen) -> str:
    view = board.board
    return " ".join(view.render_line(y).text for y in range(view.size.height))


def _screen_text(app: OncallApp) -> str:
    from textual.widgets import Static

    return " ".join(str(s.render()) for s in app.screen.query(Static))


def main() -> None:
    with Stack() as stack:
        stack.wait_for_firing(30)
        asyncio.run(shoot(stack, (120, 32)))


if __name__ == "__main__":
    main()
