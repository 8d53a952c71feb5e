"""The banner that says the board may be incomplete, and why: docked at the top, in the
theme's stale colour, hidden while every source answers. A line of the status bar was not
enough: it wraps, gets cut at 80 columns, and reads as detail at 3 a.m."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from oncall_tui.domain.sanitize import one_line


class IncompleteBanner(Static):
    DEFAULT_CSS = """
    IncompleteBanner {
        dock: top;
        height: auto;
        max-height: 8;
        padding: 0 1;
        background: $stale;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: tuple[str, ...] = ()

    def on_mount(self) -> None:
        self.display = False

    def show(self, concerns: Sequence[str]) -> None:
        lines = tuple(concerns)
        if lines == self.lines:
            return
        self.lines = lines
        self.display = bool(lines)
        text = Text("⚠ THE BOARD MAY BE INCOMPLETE")
        for line in lines[:4]:
            text.append("\n• " + one_line(line, 400))
        if len(lines) > 4:
            text.append(f"\n• and {len(lines) - 4} more")
        self.update(text)

    @property
    def plain(self) -> str:
        """What the banner says, as plain text ("" when hidden)."""
        return "\n".join(self.lines) if self.display else ""
