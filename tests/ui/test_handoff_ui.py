"""`:handoff` through the real app on the real demo stack: it opens and shows every section,
over the window it is given."""

from __future__ import annotations

import pytest

from oncall_tui.demo.stack import Stack
from oncall_tui.domain.handoff import SECTIONS
from oncall_tui.ui.screens.handoff import HandoffScreen
from tests.helpers import demo_app, markdown_text, screen_strips, texts, until

pytestmark = pytest.mark.stack


async def test_handoff_opens_and_shows_the_sections(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("colon", *"handoff", "enter")
        await until(pilot, lambda: isinstance(app.screen, HandoffScreen), ":handoff")
        await until(pilot, lambda: "Open incidents" in markdown_text(app), "the handoff")
        shown = markdown_text(app)
        for section in SECTIONS:
            assert section in shown
        screen = app.screen
        assert isinstance(screen, HandoffScreen) and screen.handoff is not None
        firing = {a.alert.name for a in screen.handoff.firing}
        # "Still firing" comes first: its table is on the screen as drawn.
        drawn = "\n".join(strip.text for strip in screen_strips(app))
        assert firing and any(name in drawn for name in firing), drawn
        assert "handoff  last 12h" in texts(app, "#handoff-title")  # the default window
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HandoffScreen), "back")


async def test_handoff_reads_the_window_it_is_given(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("colon", *"handoff 90m", "enter")
        await until(pilot, lambda: isinstance(app.screen, HandoffScreen), ":handoff 90m")
        screen = app.screen
        assert isinstance(screen, HandoffScreen)
        await until(pilot, lambda: screen.handoff is not None, "the handoff")
        assert screen.handoff is not None
        assert screen.handoff.now - screen.handoff.since == 5400
        assert "handoff  last 1h30m" in texts(app, "#handoff-title")
        await pilot.press("escape")
        await pilot.press("colon", *"handoff soon", "enter")
        await until(
            pilot,
            lambda: any("not a duration: 'soon'" in str(n.message) for n in app._notifications),
            "the refusal",
        )
        assert not isinstance(app.screen, HandoffScreen)
