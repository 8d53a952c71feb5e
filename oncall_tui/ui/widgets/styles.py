"""A component class's style, usable in a Rich Text drawn on any row.

`get_component_rich_style(partial=True)` leaves the background to the row (the cursor bar,
a zebra stripe), but cannot blend a colour with alpha: `$text-muted` ("auto 60%") comes out
as pure white, invisible on a light theme. The colour is taken from the full style, where
Textual has blended it against the widget's background.
"""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


def component_style(node: Widget, name: str) -> Style:
    partial = node.get_component_rich_style(name, partial=True, default=Style())
    full = node.get_component_rich_style(name, default=Style())
    return partial + Style(color=full.color) if full.color else partial
