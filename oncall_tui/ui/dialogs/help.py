"""`?`: every key that works here, generated from the bindings (so it never goes stale)."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

COMMANDS = (
    (":ctx NAME", "switch context without restarting (`:ctx` alone lists them)"),
    (":alerts", "the alert board"),
    (":silences", "every silence: expire (e), extend (x), edit (enter), mark (space)"),
    (":maintenance", "silence several matcher sets for one window, e.g. tonight 22:00-02:00"),
    (":maintenance end|extend NAME [2h]", "end or extend a named maintenance as a whole"),
    (":query", "a PromQL prompt: history (up/down), instant or range, table or chart"),
    (":sort severity|age|alertname|LABEL", "sort the board"),
    (":theme NAME", "switch theme (`:theme` alone lists them)"),
    (":q", "quit"),
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("key")
        table.add_column("does")
        table.add_column("binding id (rebind in config: keys:)", style="dim")
        for key, description, binding_id in self.rows:
            table.add_row(Text(key), Text(description), Text(binding_id))
        commands = Table(box=None, show_header=True, header_style="bold", expand=True)
        commands.add_column("command")
        commands.add_column("does")
        for command, description in COMMANDS:
            commands.add_row(Text(command), Text(description))
        with VerticalScroll(id="help"):
            yield Static(Text("Keys", style="bold"))
            yield Static(table)
            yield Static(Text("\nCommands (type : first)", style="bold"))
            yield Static(commands)
            yield Static(Text("\nesc closes this help", style="dim"))


def binding_rows(
    bindings: dict[str, object], display: Callable[[Binding], str]
) -> list[tuple[str, str, str]]:
    """(keys as shown in the footer, description, id) per binding, in a stable order."""
    rows: dict[str, tuple[str, str, str]] = {}
    for key, active in bindings.items():
        binding: Binding = active.binding  # type: ignore[attr-defined]
        description = binding.description or binding.action
        ident = binding.id or ""
        label = display(binding) or key
        existing = rows.get(ident or key)
        if existing is not None:
            rows[ident or key] = (f"{existing[0]}, {label}", existing[1], existing[2])
        else:
            rows[ident or key] = (label, description, ident)
    return sorted(rows.values(), key=lambda r: r[2] or r[0])


def binding_ids() -> set[str]:
    """Every binding id of the app's screens and widgets: what `keys:` in the config may name."""
    from ..app import OncallApp
    from ..screens.alerts import AlertsScreen
    from ..screens.detail import AlertDetailScreen
    from ..screens.query import HistoryInput, QueryScreen
    from ..screens.runbook import RunbookScreen
    from ..screens.triage import TriageScreen
    from ..widgets.board import BoardView
    from .command import CommandPrompt

    owners = (
        *(OncallApp, AlertsScreen, AlertDetailScreen, BoardView, HelpScreen, CommandPrompt),
        *(RunbookScreen, TriageScreen, QueryScreen, HistoryInput),
    )
    return {b.id for owner in owners for b in owner.BINDINGS if isinstance(b, Binding) and b.id}
