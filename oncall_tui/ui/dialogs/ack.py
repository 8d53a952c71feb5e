"""`A` on the board: an ack with a note or ticket, until resolved or for a while.

Two lines, both optional to change: the note (a ticket typed first, `INC-123 …`, becomes the
ack's ticket) and how long (`resolved`, the default, or a duration such as 30m). `enter` in
either acks, `tab` moves between them, `esc` cancels. Plain `a` stays the one-key ack.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from oncall_tui.domain.acks import RESOLVED, split_note
from oncall_tui.domain.timespec import TimeSpecError, parse_duration
from oncall_tui.ui.dialogs.base import Dialog
from oncall_tui.ui.widgets.field import Field


@dataclass(frozen=True, slots=True)
class AckAnswer:
    note: str  # as typed: the ticket is split off by the writer
    until: str  # "resolved" or a duration


def until_problem(text: str) -> str:
    spec = text.strip().lower()
    if spec == RESOLVED:
        return ""
    try:
        if parse_duration(spec).total_seconds() <= 0:
            return "must be longer than zero"
    except TimeSpecError as exc:
        return f"{exc} (or: resolved)"
    return ""


class AckDialog(Dialog[AckAnswer | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="ack.cancel")]

    def __init__(self, what: str, until: str = RESOLVED) -> None:
        super().__init__()
        self.what = what
        self.until = until

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Ack {self.what}", style="bold"))
            yield Static(Text("Note or ticket (a ticket typed first, INC-123, is the ticket):"))
            yield Field(
                placeholder="optional: INC-123 failing over the primary",
                id="ack-note",
                compact=True,
            )
            yield Static(id="ack-echo", classes="dialog-echo")
            yield Static(Text("Until: resolved (renewed while it fires), or a duration:"))
            yield Field(self.until, id="ack-until", compact=True)
            yield Static(id="ack-problem", classes="dialog-problem")
            yield Static(
                Text("enter: ack    tab: next field    esc: cancel"), classes="dialog-keys"
            )

    def on_mount(self) -> None:
        for empty in ("#ack-echo", "#ack-problem"):
            self.query_one(empty).display = False
        self.set_focus(self.query_one("#ack-note", Input))

    def _say(self, selector: str, words: str) -> None:
        line = self.query_one(selector, Static)
        line.update(Text(words))
        line.display = bool(words)

    @on(Input.Changed, "#ack-note")
    def _note_changed(self, event: Input.Changed) -> None:
        ticket, note = split_note(event.value)
        self._say(
            "#ack-echo", f"ticket {ticket}" + (f" · note: {note}" if note else "") if ticket else ""
        )

    @on(Input.Submitted)
    def _submitted(self) -> None:
        until = self.query_one("#ack-until", Input).value
        problem = until_problem(until)
        if problem:
            self._say("#ack-problem", f"until: {problem}")
            return
        note = self.query_one("#ack-note", Input).value
        self.dismiss(AckAnswer(note, until.strip().lower()))
