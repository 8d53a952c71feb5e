"""The alert board: a Line-API view that draws only the visible rows.

Textual's DataTable measures every cell of every row on each refresh (about 1 s at 10,000
alerts, with the keyboard frozen meanwhile). This view keeps a flat list of lines from
`BoardModel`, renders just the rows on screen, and after a poll repaints only the visible
rows whose text changed: a quiet refresh writes nothing to the terminal.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from oncall_tui.domain.acks import Ack
from oncall_tui.domain.board import STATES, BoardAlert, BoardModel, Line, state_counts, top_severity
from oncall_tui.domain.completeness import RESOLVED_CLUSTER
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.severity import COLOURED
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.ui.widgets.lines_view import set_scrolled_size
from oncall_tui.ui.widgets.styles import component_style

CACHE_SIZE = 400


def layout(width: int) -> tuple[int, int, int, int]:
    """Column widths (severity, alertname, state, age) for a terminal width."""
    name = max(14, min(30, width // 4))
    return 9, name, 12, 6


def column_titles(width: int) -> Text:
    sev, name, state, age = layout(width)
    titles = (
        f"  {'SEVERITY':<{sev}}{'ALERT':<{name}}{'STATE':<{state}}{'AGE':<{age}}LABELS · SUMMARY"
    )
    return Text(titles[:width], no_wrap=True)


class BoardView(ScrollView, can_focus=True):
    """Groups and their alerts; `enter` opens an alert, `space`/`enter` folds a group."""

    COMPONENT_CLASSES = {
        "board--cursor",
        "board--group",
        "board--new",
        "board--dim",
        "board--unconfirmed",
        "board--empty",
        "board--sort",
        *(f"board--severity-{s}" for s in COLOURED),
        *(f"board--state-{s}" for s in STATES),
    }
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="board.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="board.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="board.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="board.page_down"),
        Binding("g,home", "jump(0)", "Top", show=False, id="board.top"),
        Binding("G,end", "jump(-1)", "Bottom", show=False, id="board.bottom"),
        Binding("space", "fold", "Fold", show=False, id="board.fold"),
        # show=False: enter is what everyone tries first, and the footer must fit 80 columns.
        Binding("enter", "open", "Open", show=False, id="board.open"),
        Binding("plus", "expand_all(True)", "Expand all", show=False, id="board.expand_all"),
        Binding("minus", "expand_all(False)", "Collapse all", show=False, id="board.collapse_all"),
    ]

    class NewAbove(Message):
        """New critical alerts were put above the alert the cursor stays on."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    class Opened(Message):
        """The user asked for an alert's details."""

        def __init__(self, alert: BoardAlert) -> None:
            super().__init__()
            self.alert = alert

    def __init__(self, model: BoardModel, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.cursor = 0
        self._lines: tuple[Line, ...] = ()
        self._cache: OrderedDict[tuple[object, ...], tuple[object, Strip]] = OrderedDict()
        self._painted: dict[int, tuple[object, ...]] = {}
        self.now = datetime.now(UTC)
        # What an empty board says instead of nothing: why it is empty.
        self.empty = Text()
        self._announced: frozenset[str] | set[str] = frozenset()  # new criticals said once

    # -- data ----------------------------------------------------------------------------------

    @property
    def current(self) -> Line | None:
        return self._lines[self.cursor] if 0 <= self.cursor < len(self._lines) else None

    def reload(self, *, keep_key: str | None = None) -> None:
        """Take the model's lines; keep the cursor on the same alert or group if it is still there."""
        key = keep_key if keep_key is not None else (self.current.key if self.current else None)
        self.now = datetime.now(UTC)
        self._lines = self.model.lines()
        kept = False
        if key is not None:
            for index, line in enumerate(self._lines):
                if line.key == key:
                    self.cursor = index
                    kept = True
                    break
        self.cursor = max(0, min(self.cursor, len(self._lines) - 1))
        if kept and self.model.new_keys:
            # The cursor stays on the user's alert; say so when newer criticals push it down.
            # Once per alert: a reload comes with every key typed in the filter, and saying
            # it again each time stacked a dozen toasts over everything else said.
            above = {
                line.alert.key
                for line in self._lines[: self.cursor]
                if line.alert is not None
                and line.alert.key in self.model.new_keys
                and line.alert.severity == "critical"
                and line.alert.state == "active"
            } - self._announced
            self._announced = (self._announced & self.model.new_keys) | above
            if above:
                self.post_message(self.NewAbove(len(above)))
        set_scrolled_size(self, Size(self.size.width, len(self._lines)))
        self._repaint_changed()
        self._follow_cursor()

    def set_empty(self, text: Text) -> None:
        """What to say while there is no line to show."""
        if text != self.empty:
            self.empty = text
            if not self._lines:
                self.refresh()

    def _signature(self, y: int) -> tuple[object, ...]:
        index = y + self.scroll_offset.y
        if index >= len(self._lines):
            return ("empty", self.empty.plain) if not self._lines and y == 1 else ("blank",)
        line = self._lines[index]
        return self._line_key(line, index == self.cursor)

    def _line_key(self, line: Line, selected: bool) -> tuple[object, ...]:
        """(kind, model, shown alerts, *hashable extras): compared by value, so a poll that
        rebuilt equal objects repaints nothing."""
        alert = line.alert
        if alert is None:
            return ("g", line.group, line.shown, self.model.is_open(line.group), selected)
        new = alert.key in self.model.new_keys
        ack = self.model.ack_of(alert)
        held = self._ack_age(ack)
        sort = self._sort_label()
        return (
            "a",
            alert,
            line.shown,
            self._age(alert),
            new,
            selected,
            line.is_single,
            ack,
            held,
            sort,
        )

    def _repaint_changed(self) -> None:
        """Refresh only the visible rows whose content changed since they were drawn."""
        height = self.size.height
        if not self._painted or len(self._painted) != height:
            self.refresh()
            return
        for y in range(height):
            if self._painted.get(y) != self._signature(y):
                self.refresh(Region(0, y, self.size.width, 1))

    # -- drawing -------------------------------------------------------------------------------

    def _age(self, alert: BoardAlert) -> str:
        if alert.started is None:
            return "-"
        return short_duration((self.now - alert.started).total_seconds())

    def _ack_age(self, ack: Ack | None) -> str:
        return short_duration(ack.age(self.now).total_seconds()) if ack is not None else ""

    def _style(self, name: str) -> Style:
        return component_style(self, name)

    @property
    def _row_width(self) -> int:
        """The rows' width: a scrollbar, while shown, takes the last column (drawn at the
        widget's width, a row lost its last cell under it, the … of a cut text included)."""
        return self.scrollable_content_region.width

    def render_line(self, y: int) -> Strip:
        width = self._row_width
        index = y + self.scroll_offset.y
        signature = self._signature(y)
        self._painted[y] = signature
        if index >= len(self._lines):
            if not self._lines and y == 1 and self.empty:
                text = Text("  ", no_wrap=True, overflow="ellipsis")
                text.append_text(self.empty)
                text.truncate(width, overflow="ellipsis", pad=True)
                text.stylize(self._style("board--empty"))
                return Strip(text.render(self.app.console), width).apply_style(self.rich_style)
            return Strip.blank(width)
        line = self._lines[index]
        # Keyed by identity (the models hold dicts, so they do not hash); the entry keeps the
        # object it was drawn from, so a recycled id can never return a stale row.
        subject = line.alert if line.alert is not None else line.group
        shown = tuple(id(a) for a in line.shown)
        cache_key = (id(subject), shown, *signature[3:], width)
        cached = self._cache.get(cache_key)
        strip = cached[1] if cached is not None and cached[0] is subject else None
        if strip is None:
            text = self._group_text(line) if line.alert is None else self._alert_text(line)
            text.truncate(width, overflow="ellipsis", pad=True)
            if index == self.cursor:
                text.stylize(self._style("board--cursor"))  # the whole row, padding included
            strip = Strip(text.render(self.app.console), text.cell_len).adjust_cell_length(width)
            self._cache[cache_key] = (subject, strip)
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return strip.apply_style(self.rich_style)

    def _severity_style(self, severity: str) -> Style:
        name = severity.lower()
        return self._style(f"board--severity-{name}") if name in COLOURED else Style()

    def _group_text(self, line: Line) -> Text:
        group = line.group
        shown = line.shown
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("▾ " if self.model.is_open(group) else "▸ ", self._style("board--group"))
        if group.cluster == RESOLVED_CLUSTER:
            text.append(f"RECENTLY RESOLVED  {len(shown)}", self._style("board--group"))
            text.append("  left the board, newest first", self._style("board--dim"))
            return text
        severity = top_severity(shown)
        text.append(f"{one_line(severity or '-', 10):<9}", self._severity_style(severity))
        counts = state_counts(shown)
        for state in STATES:
            if counts.get(state):
                text.append(f"{counts[state]} {state}  ", self._style(f"board--state-{state}"))
        labels = " ".join(f"{k}={v}" for k, v in group.labels) or "(no group labels)"
        text.append(one_line(labels, 200), self._style("board--group"))
        text.append(f"  → {one_line(group.receiver, 60)}", self._style("board--dim"))
        text.append(f" @{one_line(group.cluster, 40)}", self._style("board--dim"))
        hidden = len(group.alerts) - len(shown)
        if hidden:
            text.append(f"  ({hidden} filtered out)", self._style("board--dim"))
        return text

    def _alert_text(self, line: Line) -> Text:
        alert = line.alert
        assert alert is not None
        sev_w, name_w, state_w, age_w = layout(self.size.width)  # as the titles above
        text = Text(no_wrap=True, overflow="ellipsis")
        new = alert.key in self.model.new_keys
        # Alerts inside a multi-alert group are indented under its header.
        indent = "" if line.is_single else "  "
        resolved = alert.state == "resolved"
        if alert.unconfirmed:
            text.append(indent + "? ", self._style("board--unconfirmed"))
        elif resolved:
            text.append(indent + "✓ ", self._style("board--state-resolved"))
        else:
            text.append(indent + ("✚ " if new else "  "), self._style("board--new"))
        text.append(_cell(alert.severity or "-", sev_w), self._severity_style(alert.severity))
        text.append(_cell(alert.name, name_w), Style(bold=True))
        ack = self.model.ack_of(alert)
        # How long it has been owned, where the eye already looks for the state.
        state = f"acked {self._ack_age(ack)}" if ack is not None and not resolved else ""
        state = state or alert.shown_state
        text.append(_cell(state, state_w), self._style(f"board--state-{alert.shown_state}"))
        text.append(_cell(self._age(alert), age_w))
        if alert.left_at is not None:
            left = datetime.fromtimestamp(alert.left_at).strftime("%H:%M:%S")
            look = "board--dim" if resolved else "board--unconfirmed"
            text.append(f"left {left}  ", self._style(look))
        if ack is not None:
            text.append(ack_words(ack), self._style("board--state-silenced"))
        sort_label = self._sort_label()
        if sort_label is not None:
            # Sorted by a label: its value leads the row, or the order would look random.
            value = alert.labels.get(sort_label)
            shown = f"{sort_label}={value}" if value is not None else f"no {sort_label}"
            text.append(one_line(shown, 60) + "  ", self._style("board--sort"))
        owner = self.model.owner_label
        if owner and owner != sort_label and owner not in line.group.varying:
            value = alert.labels.get(owner)
            shown = f"{owner}={value}" if value is not None else f"no {owner}"
            text.append(one_line(shown, 60) + "  ", self._style("board--sort"))
        differing = " ".join(
            f"{k}={alert.labels.get(k, '')}" for k in line.group.varying if k != sort_label
        )
        if differing:
            text.append(one_line(differing, 120) + "  ", self._style("board--dim"))
        text.append(one_line(alert.summary, 300))
        if line.is_single:
            group = line.group
            text.append(
                f"  → {one_line(group.receiver, 60)} @{one_line(group.cluster, 40)}",
                self._style("board--dim"),
            )
        if alert.unconfirmed or resolved:
            text.stylize(self._style("board--dim"), len(indent) + 2)
        return text

    def _sort_label(self) -> str | None:
        sort = self.model.sort
        return sort.removeprefix("label:") if sort.startswith("label:") else None

    # -- movement ------------------------------------------------------------------------------

    def _follow_cursor(self) -> None:
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def move_to(self, index: int) -> None:
        if not self._lines:
            return
        old = self.cursor
        self.cursor = max(0, min(index, len(self._lines) - 1))
        if old != self.cursor:
            self._refresh_index(old)
            self._refresh_index(self.cursor)
            self._follow_cursor()

    def _refresh_index(self, index: int) -> None:
        y = index - self.scroll_offset.y
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self.size.height - 1))

    def action_jump(self, where: int) -> None:
        self.move_to(0 if where == 0 else len(self._lines) - 1)

    def action_fold(self) -> None:
        line = self.current
        if line is None:
            return
        self.model.toggle(line.group.key)
        self.reload(keep_key=line.group.key)

    def action_open(self) -> None:
        line = self.current
        if line is None:
            return
        if line.alert is None:
            self.action_fold()
        else:
            self.post_message(self.Opened(line.alert))

    def action_expand_all(self, value: bool) -> None:
        line = self.current
        self.model.expand_all(value)
        self.reload(keep_key=line.group.key if line else None)

    def notify_style_update(self) -> None:
        """New CSS (a theme switch): cached rows carry the old colours, draw them again."""
        super().notify_style_update()
        self._cache.clear()
        self._painted.clear()

    def on_resize(self) -> None:
        self._cache.clear()
        self._painted.clear()
        self.virtual_size = Size(self.size.width, len(self._lines))
        self._follow_cursor()


def ack_words(ack: Ack) -> str:
    """`ACK alice INC-123 ↻  `: who, the ticket, ↻ when it lasts until resolved (the note is
    in the detail and :silences: a row has no room for it)."""
    words = f"ACK {one_line(ack.who, 40)}"
    if ack.ticket:
        words += f" {one_line(ack.ticket, 24)}"
    if ack.until_resolved:
        words += " ↻"
    return words + "  "


def _cell(value: str, width: int) -> str:
    """A fixed-width cell, measured in terminal cells (wide characters count twice)."""
    text = one_line(value, width * 2)
    if cell_len(text) >= width:
        return set_cell_size(text, width - 2) + "… "
    return set_cell_size(text, width)
