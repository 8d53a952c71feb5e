"""`:silences`: every silence of the context, what each matches now, and the keys to act.

Rows come from every cluster (silences are per cluster) and are re-read on the context's
refresh interval; a failed read keeps the last good rows and says how stale they are.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from oncall_tui.domain.alert_facts import relative
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.matchers import Filter, FilterError, parse_filter
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.silence_rows import SilenceRow, build_rows, state_counts
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.domain.timespec import TimeSpecError, parse_duration
from oncall_tui.state import silences as silencing
from oncall_tui.state.clock import server_now
from oncall_tui.state.context import ContextState
from oncall_tui.ui.dialogs.confirm import Ask, Confirm
from oncall_tui.ui.messages import StoreChanged, follow
from oncall_tui.ui.silence_actions import SilenceActions
from oncall_tui.ui.widgets.field import Field
from oncall_tui.ui.widgets.keys_footer import KeysFooter

# What tells silences apart comes first: at 80 columns the matchers must still show.
COLUMNS = ("", "STATE", "ENDS", "ALERTS", "MATCHERS", "COMMENT", "BY", "STARTS", "CLUSTER")
# When the row is wider than the screen these give way, in this order, down to these widths
# (cut with …; enter shows the silence in full, the expire confirmation its matchers).
GIVE_WAY = ((COLUMNS.index("COMMENT"), 12), (COLUMNS.index("MATCHERS"), 24))
RowKey = tuple[str, str]


def fit_columns(rows: list[list[Text]], width: int, padding: int = 1) -> None:
    """Cut the comment, then the matchers, so that the row fits in `width` cells."""
    widths = [len(title) for title in COLUMNS]
    for cells in rows:
        for index, cell in enumerate(cells):
            widths[index] = max(widths[index], cell.cell_len)
    excess = sum(w + 2 * padding for w in widths) + 1 - width  # 1: the vertical scrollbar
    for index, least in GIVE_WAY:
        if excess <= 0:
            break
        cut = min(excess, max(0, widths[index] - least))
        widths[index] -= cut
        excess -= cut
        for cells in rows:
            cells[index].truncate(widths[index], overflow="ellipsis")


class SilenceTable(DataTable[Text]):
    """The table of silences; its enter (edit) has an id, so `?` lists it and it can be rebound."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Edit", id="silences.edit"),
        # The board's and the detail's keys (and k9s's): vi moves, g/G to the ends.
        Binding("j", "cursor_down", "Down", show=False, id="silences.down"),
        Binding("k", "cursor_up", "Up", show=False, id="silences.up"),
        Binding("g", "scroll_top", "Top", show=False, id="silences.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="silences.bottom"),
    ]


def _duration_problem(text: str) -> str:
    try:
        if parse_duration(text).total_seconds() <= 0:
            return "must be longer than zero"
    except TimeSpecError as exc:
        return str(exc)
    return ""


class SilencesScreen(Screen[None]):
    CSS_PATH = "silences.tcss"
    BINDINGS = [
        # priority, and focus set at once: what is typed right after / reaches the filter.
        Binding("slash", "filter", "Filter", priority=True, id="silences.filter"),
        Binding("escape,q", "back", "Back", id="silences.back"),
        Binding("e", "expire", "Expire", id="silences.expire"),
        Binding("x", "extend", "Extend", id="silences.extend"),
        Binding("space", "mark", "Mark", id="silences.mark"),
        Binding("A", "mark_all", "Mark shown", show=False, id="silences.mark_all"),
        # Not in the footer (it must fit 80 columns); `?` lists them.
        Binding("H", "toggle_expired", "Hide expired", show=False, id="silences.toggle_expired"),
        Binding("m", "maintenance", "Maintenance", show=False, id="silences.maintenance"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="silences.refresh"),
    ]

    def __init__(self, state: ContextState, writer: SilenceActions) -> None:
        super().__init__()
        self.state = state
        self.store = state.alerts
        self.clients = state.clients
        self.writer = writer
        self.rows: list[SilenceRow] = []
        self.alerts: list[BoardAlert] = []
        self.shown: list[SilenceRow] = []
        self.marked: set[RowKey] = set()
        self.filter: Filter | None = None
        self.filter_error = ""
        self.hide_expired = False
        self.last_good: float | None = None
        self.last_error = ""
        self.follow: RowKey | None = None
        # Acks held longer than this are flagged: is anyone still on it?
        self.old_after = parse_duration(writer.defaults.ack_old_after)
        self.old_acks = 0
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="silences-status")
        yield SilenceTable(id="silences", cursor_type="row", zebra_stripes=False)
        yield Static(id="silences-filter-help")
        yield Field(
            placeholder='filter: createdBy=alice service="churn-api" maintenance=db words',
            id="silences-filter",
        )
        yield KeysFooter()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#silences", DataTable)

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)
        self.query_one("#silences-filter").display = False
        self.query_one("#silences-filter-help").display = False
        self.table.focus()
        self._show_status()
        # The board's poll reads every cluster's silences with its alerts: this view draws
        # them, so opening it adds no request, and match counts use the board's alerts.
        self._unsubscribe = follow(self, self.store, self.store.subscribe)
        if self.store.snapshot is not None:
            self.post_message(StoreChanged(self.store))

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    # -- reading ---------------------------------------------------------------------------------

    @on(StoreChanged)
    def _store_changed(self, event: StoreChanged) -> None:
        event.stop()
        store = self.store
        read = [
            (cluster, silence)
            for cluster, silences in store.silences.items()
            for silence in silences or ()
        ]
        unread = [name for name, silences in store.silences.items() if silences is None]
        alerts = [a for group in store.board_groups for a in group.alerts]
        if read or not unread:
            self.rows = build_rows(read, alerts)
            self.alerts = alerts
        problems = [*([store.last_error] if store.last_error else [])]
        problems += [f"{name}: silences could not be read" for name in unread]
        if problems:
            self.last_error = "; ".join(problems)
        else:
            self.last_error = ""
            self.last_good = store.last_good or time.time()
        self.redraw()

    def action_refresh(self) -> None:
        self.store.refresh()

    def saved(self, report: silencing.WriteReport | None = None) -> None:
        """After a write: follow the silence Alertmanager kept (an edit may get a new ID)."""
        if report is not None:
            kept = [o for o in report.outcomes if o.silence is not None]
            if len(kept) == 1 and kept[0].silence is not None:
                self.follow = (kept[0].cluster, kept[0].silence.id)
        self.action_refresh()

    # -- drawing ---------------------------------------------------------------------------------

    def _passes(self, row: SilenceRow) -> bool:
        if self.hide_expired and row.silence.state == "expired":
            return False
        if self.filter is None or self.filter.is_empty:
            return True
        return self.filter.matches(row.fields(), text=row.text())

    def _cells(self, row: SilenceRow, now: datetime) -> list[Text]:
        s = row.silence
        soon = row.ending_soon(now)
        starts = relative(s.starts_at, now)
        ends = relative(s.ends_at, now)
        if row.matches is None:
            count = Text("?", style="dim")
        elif row.matches == 0:
            count = Text("matches nothing", style="bold")
        else:
            count = Text(str(row.matches))
        dim = "dim" if s.state == "expired" else ""
        ack = row.ack
        # An ack reads the same from annotations (0.32+) or its comment.
        comment = Text(one_line(ack.describe() if ack else s.comment, 300), style=dim)
        old = row.old_ack(now, self.old_after)
        if old is not None:
            # First in the cell: the comment gives way from its end at 80 columns.
            held = short_duration(old.age(now).total_seconds())
            comment = Text.assemble((f"OLD ACK {held}", "reverse bold"), " ", comment)
        return [
            Text("●" if row.key in self.marked else " ", style="bold"),
            Text(s.state, style=dim or ("bold" if s.state == "active" else "")),
            Text(ends, style="reverse bold" if soon else dim),
            count,
            Text(one_line(row.matchers, 48), style=dim),
            comment,  # cut to the room left by fit_columns
            Text(one_line(s.created_by, 20), style=dim),
            Text(starts, style="bold" if s.state == "pending" else "dim"),
            Text(one_line(row.cluster, 16), style="dim"),
        ]

    def redraw(self) -> None:
        table = self.table
        current = self.current_row()
        keep = self.follow or (current.key if current else None)
        self.follow = None
        now = server_now(self.clients)  # states and "ends in" by the server's clock
        self.shown = [r for r in self.rows if self._passes(r)]
        self.old_acks = sum(1 for r in self.rows if r.old_ack(now, self.old_after) is not None)
        cells = [self._cells(row, now) for row in self.shown]
        fit_columns(cells, self.size.width or 80, table.cell_padding)
        table.clear()
        for row, row_cells in zip(self.shown, cells, strict=True):
            table.add_row(*row_cells, key=f"{row.cluster}\0{row.silence.id}")
        if keep is not None:
            for index, row in enumerate(self.shown):
                if row.key == keep:
                    table.move_cursor(row=index, animate=False)
                    break
        self._show_status()

    def _show_status(self) -> None:
        counts = state_counts(self.rows)
        parts = [f"{counts.get(s, 0)} {s}" for s in ("active", "pending", "expired")]
        text = Text(f" silences · {self.clients.context.name} · ", style="bold")
        text.append(" · ".join(parts))
        if len(self.shown) != len(self.rows):
            text.append(f" · showing {len(self.shown)}")
        if self.old_acks:
            held = short_duration(self.old_after.total_seconds())
            text.append(f" · {self.old_acks} ack(s) held over {held}", style="reverse bold")
        if self.marked:
            text.append(f" · {len(self.marked)} marked", style="bold")
        if self.clients.context.read_only:
            text.append(" · READ-ONLY", style="bold")
        if self.last_error:
            since = (
                f"STALE since {time.strftime('%H:%M:%S', time.localtime(self.last_good))} "
                f"({short_duration(time.time() - self.last_good)})"
                if self.last_good
                else "NO DATA"
            )
            text.append(f" · {since}: {one_line(self.last_error, 200)}", style="bold")
        self.query_one("#silences-status", Static).update(text)

    def on_resize(self) -> None:
        if self.table.columns:  # the comment's room depends on the width
            self.redraw()

    def current_row(self) -> SilenceRow | None:
        index = self.table.cursor_row
        return self.shown[index] if 0 <= index < len(self.shown) else None

    def targets(self) -> list[SilenceRow]:
        """The marked rows, else the row under the cursor."""
        if self.marked:
            return [r for r in self.rows if r.key in self.marked]
        current = self.current_row()
        return [current] if current else []

    # -- keys ------------------------------------------------------------------------------------

    def action_mark(self) -> None:
        row = self.current_row()
        if row is None:
            return
        self.marked ^= {row.key}
        self.table.action_cursor_down()
        self.redraw()

    def action_mark_all(self) -> None:
        keys = {r.key for r in self.shown}
        self.marked = set() if keys <= self.marked else self.marked | keys
        self.redraw()

    def action_toggle_expired(self) -> None:
        self.hide_expired = not self.hide_expired
        self.redraw()

    def action_back(self) -> None:
        if self.query_one("#silences-filter").display or (self.filter and not self.filter.is_empty):
            self._close_filter(keep=False)
        elif self.marked:
            self.marked.clear()
            self.redraw()
        else:
            self.app.pop_screen()

    @on(DataTable.RowSelected)
    def _edit(self) -> None:
        row = self.current_row()
        if row is not None:
            self.writer.open_edit(self, row.cluster, row.silence, self.saved)

    def action_expire(self) -> None:
        rows = [r for r in self.targets() if r.silence.state != "expired"]
        if not rows:
            self.notify("nothing to expire here", severity="warning")
            return
        if self.writer.refused(self, "expire"):
            return
        # In full: the matchers are what tells two silences apart (the dialog wraps them).
        detail = "\n".join(f"{r.cluster}: {one_line(r.matchers, 2000)}" for r in rows[:8])
        if len(rows) > 8:
            detail += f"\n… and {len(rows) - 8} more"

        async def answer(yes: bool | None) -> None:
            if yes:
                await self.writer.expire(self, [r.key for r in rows], self.saved)
                self.marked.clear()

        self.app.push_screen(Confirm(f"Expire {len(rows)} silence(s)?", detail), answer)

    def action_extend(self) -> None:
        rows = self.targets()
        if not rows:
            return
        if self.writer.refused(self, "extend"):
            return

        async def answer(text: str | None) -> None:
            if text:
                delta = parse_duration(text)
                await self.writer.extend(self, [r.key for r in rows], delta, self.saved)
                self.marked.clear()

        question = f"Extend {len(rows)} silence(s) by (from the later of now and its end):"
        self.app.push_screen(
            Ask(question, self.writer.defaults.extend_by, _duration_problem), answer
        )

    def action_maintenance(self) -> None:
        self.writer.open_maintenance(self, lambda: self.alerts, self.saved)

    # -- filter ----------------------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#silences-filter", Input)
        field.display = True
        self.query_one("#silences-filter-help").display = True
        self.set_focus(field)  # not field.focus(): that waits behind keys already queued

    @on(Input.Changed, "#silences-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            self.filter = parse_filter(event.value, self.state.matcher_grammar)
            self.filter_error = ""
        except FilterError as exc:
            self.filter_error = f"✗ column {exc.position + 1}: {exc.message}"
        self.redraw()
        help_line = self.query_one("#silences-filter-help", Static)
        help_line.update(
            Text(self.filter_error or f"{len(self.shown)} of {len(self.rows)} silences match")
        )

    @on(Input.Submitted, "#silences-filter")
    def _filter_done(self) -> None:
        self._close_filter(keep=True)

    def _close_filter(self, *, keep: bool) -> None:
        field = self.query_one("#silences-filter", Input)
        if not keep:
            field.value = ""
            self.filter = None
            self.filter_error = ""
            self.redraw()
        field.display = False
        self.query_one("#silences-filter-help").display = False
        self.table.focus()
