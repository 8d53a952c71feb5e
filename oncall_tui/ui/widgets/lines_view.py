"""Lines of text in a scrolled box that draws again only the rows whose text changed.

The silence form's preview (its warnings, then the first alerts a silence would hit) changes
at every key. As Statics, a warning more or a warning fewer changed their height, so Textual
laid the whole form out again, and a second time as the list's scrollbar then changed size,
and drew every line of the list anew: 40-60 ms a key at 50,000 alerts. Here a change of
height changes only the scrolled size (a layout only when the scrollbar comes or goes), and
only the visible rows whose text changed are drawn again.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from oncall_tui.ui.widgets.styles import component_style

# One row: the component class that styles it ("" for none) and its text.
Row = tuple[str, Text]


def set_scrolled_size(view: ScrollView, size: Size) -> None:
    """`view.virtual_size = size`, without a layout of the screen unless the scrollbar comes
    or goes (its reactive asks for one then). Setting `virtual_size` always asked for one:
    27 ms at 50,000 alerts on the board, at each key typed in its filter that changed the
    number of lines, and at each poll that did."""
    if size == view.virtual_size:
        return
    if not view.container_size:  # not laid out yet: the first layout does it all
        view.virtual_size = size
        return
    view.set_reactive(ScrollView.virtual_size, size)
    view._scroll_update(size)  # scrollbar shown or not, its size, the scroll kept within
    view.refresh()


class LinesView(ScrollView, can_focus=False):
    """Rows of one line each, cut with an ellipsis at the width, styled by component class."""

    COMPONENT_CLASSES = {"lines--warning"}
    # Rows are cut to the width: no horizontal scrollbar for the column the vertical one takes.
    DEFAULT_CSS = """
    LinesView { overflow-x: hidden; scrollbar-size-vertical: 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: tuple[Row, ...] = ()
        self._strips: dict[tuple[object, ...], Strip] = {}  # the rows drawn, by key

    @property
    def text(self) -> str:
        """What the rows say, one per line."""
        return "\n".join(text.plain for _, text in self._rows)

    def show(self, rows: Sequence[Row]) -> None:
        """Show `rows`; repaint the visible rows that changed."""
        rows = tuple(rows)
        if rows == self._rows:
            return
        old, self._rows = self._rows, rows
        top = self.scroll_offset.y
        for y in range(self.size.height):
            was = old[top + y] if top + y < len(old) else None
            now = rows[top + y] if top + y < len(rows) else None
            if was != now:
                self.refresh(Region(0, y, self.size.width, 1))
        set_scrolled_size(self, Size(self.size.width, len(rows)))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + self.scroll_offset.y
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        kind, text = self._rows[index]
        key = (kind, text.plain, text.style, *text.spans, width)
        strip = self._strips.get(key)
        if strip is None:
            line = text.copy()
            if kind:
                line.stylize_before(component_style(self, kind))
            line.truncate(width, overflow="ellipsis", pad=True)
            strip = Strip(line.render(self.app.console), width)
            if len(self._strips) > 4 * max(self.size.height, 1):
                self._strips.clear()  # rows of past texts: the visible ones come back at once
            self._strips[key] = strip
        return strip.apply_style(self.rich_style)

    def notify_style_update(self) -> None:
        """New CSS (a theme switch): rows drawn carry the old colours, draw them again."""
        super().notify_style_update()
        self._strips.clear()

    def on_resize(self) -> None:
        self._strips.clear()
        self.virtual_size = Size(self.size.width, len(self._rows))
