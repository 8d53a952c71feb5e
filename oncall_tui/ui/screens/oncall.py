"""`:oncall`: who is on call now and next for each schedule, and each policy's steps.

The schedules are settings, not polled data: the screen redraws from the context's `oncall`
config on a timer, so a handoff shows up while it is open.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from oncall_tui.state.context import ContextState
from oncall_tui.ui.screens.where import ROLES
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.oncall_text import oncall_text
from oncall_tui.ui.widgets.styles import component_style

TICK_SECONDS = 30.0


class OncallScreen(Screen[None]):
    CSS_PATH = "routing.tcss"
    BINDINGS = [Binding("escape,q", "back", "Back", id="oncall.back")]
    COMPONENT_CLASSES = {f"routing--{role}" for role in ROLES}

    def __init__(self, state: ContextState) -> None:
        super().__init__()
        self.book = state.context.oncall.book()
        self._shown: Text | None = None

    def compose(self) -> ComposeResult:
        title = Text("who is on call", style="bold")
        title.append("  times in this terminal's time zone")
        yield Static(title, id="oncall-title", classes="routing-title")
        with VerticalScroll(classes="routing-body"):
            yield Static(id="oncall-body")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self.show()
        self.set_interval(TICK_SECONDS, self.show)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self.call_later(self.show)

    def _style(self, name: str) -> Style:
        return component_style(self, f"routing--{name}")

    def show(self) -> None:
        text = oncall_text(self.book, datetime.now(UTC), self._style)
        if text != self._shown:
            self._shown = text
            self.query_one("#oncall-body", Static).update(text)

    def action_back(self) -> None:
        self.dismiss()
