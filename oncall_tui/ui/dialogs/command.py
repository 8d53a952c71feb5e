"""`:`: a one-line command prompt, k9s style (`:ctx prod`, `:alerts`, `:sort team`)."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.suggester import SuggestFromList
from textual.widgets import Input

from oncall_tui.ui.dialogs.base import Dialog
from oncall_tui.ui.widgets.field import Field


class CommandPrompt(Dialog[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="command.cancel")]

    def __init__(self, suggestions: Sequence[str]) -> None:
        super().__init__()
        self.suggestions = list(suggestions)

    def compose(self) -> ComposeResult:
        yield Field(
            placeholder="alerts · silences · slo · query · maintenance · ctx NAME · theme NAME · q",
            suggester=SuggestFromList(self.suggestions, case_sensitive=False),
            id="command",
        )

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())
