"""Small questions: yes or no (`Confirm`), or one line of text checked before it closes (`Ask`)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from oncall_tui.ui.dialogs.base import Dialog
from oncall_tui.ui.widgets.field import Field


class Confirm(Dialog[bool]):
    """`y` or `enter` says yes; `n` or `esc` says no. The question is plain text."""

    BINDINGS = [
        Binding("y,enter", "dismiss(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "dismiss(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question, style="bold"))
            if self.detail:
                # Wrapped, never cut: a long list scrolls (up/down) instead.
                with VerticalScroll(classes="dialog-detail"):
                    yield Static(Text(self.detail, overflow="fold"))
            yield Static(Text("y / enter: yes    n / esc: no"), classes="dialog-keys")


class Ask(Dialog[str | None]):
    """One line of input; `check` returns what is wrong with it, or "" to accept it."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="ask.cancel")]

    def __init__(self, question: str, value: str, check: Callable[[str], str]) -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question, style="bold"))
            yield Field(self.value, id="ask", compact=True)
            yield Static(id="ask-problem", classes="dialog-problem")
            yield Static(Text("enter: ok    esc: cancel"), classes="dialog-keys")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        problem = self.check(event.value)
        if problem:
            self.query_one("#ask-problem", Static).update(Text(problem))
            return
        self.dismiss(event.value.strip())
