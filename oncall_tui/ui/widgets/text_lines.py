"""Static text updated without laying the whole screen out when its height holds.

`Static.update` asks for a layout of the screen by default, which then arranges and
repaints every widget: 50-180 ms in the silence form at 50,000 alerts, several times a
key (its preview, echoes, notes and status each updated). A layout is needed only when
the text's height at the widget's width changes; an unchanged text needs nothing at all.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.content import Content
from textual.widgets import Static


def shape(widget: Static, text: Text, width: int) -> tuple[int, int]:
    """What decides the height of `text` in `widget` at `width`: equal shapes, equal heights.

    Its line breaks, when no line is wider than `width` or the widget does not wrap (the
    cheap answer: rich's cell_len and Textual's Content took 10-20 ms for a preview of 20
    alerts); else the height Textual's own Content gives it, with the widget's styles."""
    plain = text.plain
    breaks = plain.count("\n")
    if widget.styles.text_wrap == "nowrap":
        return (breaks, 0)
    lines = plain.split("\n") if breaks else (plain,)
    if all(len(line) <= width if line.isascii() else cell_len(line) <= width for line in lines):
        return (breaks, 0)
    content = Content.from_rich_text(text, console=widget.app.console)
    # The styles, as Widget.get_content_height gives them (typed there as a RulesMap).
    return (-1, content.get_height(widget.styles, width))  # type: ignore[arg-type]


def show_text(widget: Static, text: Text) -> None:
    """`widget.update(text)`: nothing if it shows that text already, and a layout of the
    screen only if the text's height changes (or the widget is not laid out yet)."""
    old = widget.content
    if isinstance(old, Text) and old == text:
        return
    width = widget.content_region.width
    same = (
        width > 0
        and isinstance(old, Text)
        and shape(widget, old, width) == shape(widget, text, width)
    )
    widget.update(text, layout=not same)
