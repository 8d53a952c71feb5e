"""`?`: every key that works here, generated from the bindings (so it never goes stale)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.widgets import Static

from oncall_tui.ui.dialogs.base import Dialog


class HelpScreen(Dialog[None]):
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
        Binding("j,down", "scroll(1)", "Down", show=False, id="help.down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="help.up"),
        Binding("G,end", "scroll(10000)", "Bottom", show=False, id="help.bottom"),
        Binding("g,home", "scroll(-10000)", "Top", show=False, id="help.top"),
    ]

    def __init__(
        self, rows: list[tuple[str, str, str]], commands: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__()
        self.rows = rows
        self.commands = list(commands)

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
        for command, description in self.commands:
            commands.add_row(Text(command), Text(description))
        with VerticalScroll(id="help"):
            yield Static(Text("Keys · esc closes this help · j/k scroll", style="bold"))
            yield Static(table)
            yield Static(Text("\nCommands (type : first)", style="bold"))
            yield Static(commands)
            yield Static(Text("\nesc closes this help", style="dim"))

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help", VerticalScroll).scroll_relative(y=lines, animate=False)


def binding_rows(
    bindings: dict[str, object], display: Callable[[Binding], str]
) -> list[tuple[str, str, str]]:
    """(keys as shown in the footer, description, id) per binding, in a stable order."""
    rows: dict[str, tuple[str, str, str]] = {}
    for key, active in bindings.items():
        binding: Binding = active.binding  # type: ignore[attr-defined]
        if not binding.id:
            continue  # Textual's own (focus next, page right, copy): not ours to explain
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
    """Every binding id in the package: what `keys:` in the config may name.

    Collected from the `BINDINGS` of every widget, screen and app class in every module of
    the package, so a new screen's keys can be rebound without anyone updating a list here.
    """
    return {
        b.id
        for owner in binding_owners()
        for b in owner.BINDINGS
        if isinstance(b, Binding) and b.id
    }


def binding_owners() -> list[type[DOMNode]]:
    """Every DOMNode subclass the package defines (importing its modules starts nothing)."""
    import oncall_tui

    owners: dict[str, type[DOMNode]] = {}
    for module_info in pkgutil.walk_packages(oncall_tui.__path__, f"{oncall_tui.__name__}."):
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, DOMNode)
                and value.__module__ == module.__name__
            ):
                owners[f"{value.__module__}.{value.__qualname__}"] = value
    return [owners[name] for name in sorted(owners)]
