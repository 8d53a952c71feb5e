"""`:query`: a PromQL prompt against the context's Prometheus.

History is kept across runs (`up`/`down` walk it), instant or range mode, the answer as a
table sorted by value or a chart with a legend, and when the query is wrong, Prometheus's
own words with a caret under the column it names.
"""

from __future__ import annotations

import math
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static

from oncall_tui.domain.incidents import QUERY
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.state.context import ContextState
from oncall_tui.state.history import QueryHistory
from oncall_tui.ui.widgets.field import Field
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.query_result import ResultView, error_text

MODES = (0.0, 3600.0, 6 * 3600.0, 24 * 3600.0)  # 0: instant
POINTS = 240


class HistoryInput(Field):
    """An Input whose up/down keys walk the query history."""

    BINDINGS = [
        Binding("up", "history(-1)", "Older", show=False, id="query.history_back"),
        Binding("down", "history(1)", "Newer", show=False, id="query.history_forward"),
    ]

    def __init__(self, history: QueryHistory, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history = history
        self.position = len(history.entries)
        self.draft = ""

    def action_history(self, step: int) -> None:
        entries = self.history.entries
        if not entries:
            return
        if self.position == len(entries):
            self.draft = self.value
            if step < 0 and len(entries) > 1 and entries[-1] == self.value:
                step -= 1  # the query just run is still in the box: up means the one before
        self.position = max(0, min(len(entries), self.position + step))
        self.value = entries[self.position] if self.position < len(entries) else self.draft
        self.cursor_position = len(self.value)


class QueryScreen(Screen[None]):
    CSS_PATH = "triage.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="query.back"),
        Binding("ctrl+t", "mode", "Instant/range", id="query.mode"),
        Binding("ctrl+g", "view", "Table/chart", id="query.view"),
        Binding("ctrl+o", "order", "Sort order", id="query.order"),
    ]

    def __init__(self, state: ContextState, history: QueryHistory | None = None) -> None:
        super().__init__()
        self.state = state
        self.lookups = state.lookups
        self.incidents = state.incidents
        self.history = history or QueryHistory()
        self.mode = MODES[0]
        self.chart = True
        self.descending = True
        self.last_query = ""

    def compose(self) -> ComposeResult:
        yield Static(id="query-mode")
        yield HistoryInput(
            self.history,
            placeholder="PromQL, e.g. sum by (status) (rate(churn_api_requests_total[5m]))",
            id="query-input",
        )
        with VerticalScroll(id="query-body"):
            yield Static(id="query-error")
            yield ResultView(id="query-result")
        yield KeysFooter()

    def on_mount(self) -> None:
        self._mode_line()
        self.query_one("#query-result").display = False
        self.query_one("#query-input").focus()
        if self.history.problem:
            self.notify(self.history.problem, severity="warning")

    def _mode_line(self) -> None:
        mode = "instant" if not self.mode else f"range {short_duration(self.mode)}"
        view = "chart + table" if self.chart else "table"
        order = "largest first" if self.descending else "smallest first"
        where = self.lookups.prometheus_url or "no Prometheus configured"
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("Query ", "bold")
        line.append(f"{mode} · {view} · {order}  ({where})")
        self.query_one("#query-mode", Static).update(line)

    @on(Input.Submitted, "#query-input")
    def _submit(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if not query:
            return
        self.history.add(query)
        if self.history.problem:
            self.notify(self.history.problem, severity="warning")
        field = self.query_one(HistoryInput)
        field.position = len(self.history.entries)
        self.last_query = query
        self.incidents.record(QUERY, f"query: {query}")
        self.run_query(query)

    @work(exclusive=True, group="query", exit_on_error=False)
    async def run_query(self, query: str) -> None:
        errors = self.query_one("#query-error", Static)
        view = self.query_one("#query-result", ResultView)
        if not self.lookups.has_prometheus:
            errors.update(Text("no Prometheus configured in this context"))
            return
        errors.update(Text("running…"))
        end = float(math.ceil(time.time()))  # whole seconds: the last step lands on now
        start = end - self.mode
        began = time.monotonic()
        try:
            if self.mode:
                step = max(1.0, self.mode / POINTS)
                result = await self.lookups.query_range(query, start, end, step)
            else:
                result = await self.lookups.query(query, at=end)
        except Exception as exc:  # Prometheus's words, with the position, on screen
            errors.update(error_text(query, exc))
            view.display = False
            return
        took = time.monotonic() - began
        errors.update("")
        view.display = True
        note = f"{result.result_type} in {took * 1000:.0f} ms"
        if self.mode:
            view.show(
                history=result,
                start=start,
                end=end,
                chart=self.chart,
                descending=self.descending,
                note=note,
            )
        else:
            view.show(instant=result, chart=False, descending=self.descending, note=note)

    def action_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self._rerun()

    def action_view(self) -> None:
        self.chart = not self.chart
        self._rerun()

    def action_order(self) -> None:
        self.descending = not self.descending
        self._rerun()

    def _rerun(self) -> None:
        self._mode_line()
        if self.last_query:
            self.run_query(self.last_query)

    def action_back(self) -> None:
        self.dismiss()
