"""A PromQL answer as a user reads it: a chart of the range, a table of values sorted by
value, or Prometheus's error with a caret under the column it names.

Labels and values from the server are untrusted: they are cleaned and put in `Text`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from oncall_tui.domain.promql import format_value, query_problem, series_name
from oncall_tui.domain.sanitize import one_line
from oncall_tui.ui.widgets.chart import Chart, ChartSeries
from oncall_tui.wire.errors import ApiError, ServerError
from oncall_tui.wire.prometheus import QueryResult, Series

MAX_ROWS = 50


def rows_of(result: QueryResult | None) -> list[tuple[Mapping[str, str], float]]:
    """(labels, value) per series: an instant vector's samples, or each range's last value."""
    if result is None:
        return []
    if result.result_type == "vector":
        return [(s.labels, s.value) for s in result.samples]
    if result.result_type == "matrix":
        return [
            (s.labels, next((v for _, v in reversed(s.points) if not math.isnan(v)), math.nan))
            for s in result.series
        ]
    if result.scalar is not None:
        return [({}, result.scalar)]
    return []


def _sort_key(row: tuple[Mapping[str, str], float]) -> tuple[int, float]:
    value = row[1]
    return (1, 0.0) if math.isnan(value) else (0, -value)


def table_text(
    rows: Sequence[tuple[Mapping[str, str], float]],
    *,
    width: int = 100,
    descending: bool = True,
    limit: int = MAX_ROWS,
    muted: Style | None = None,
) -> Text:
    """Value column, then the series; largest first (NaN last either way)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not rows:
        text.append(
            "empty result: no series matched (check the metric and label names)", muted or ""
        )
        return text
    ordered = sorted(rows, key=_sort_key)
    if not descending:
        finite = [r for r in ordered if not math.isnan(r[1])][::-1]
        ordered = finite + [r for r in ordered if math.isnan(r[1])]
    values = [format_value(v) for _, v in ordered[:limit]]
    column = max(5, *(len(v) for v in values))
    for (labels, _), value in zip(ordered[:limit], values, strict=False):
        text.append(f"{value:>{column}}  ")
        text.append(one_line(series_name(labels), max(10, width - column - 2)))
        text.append("\n")
    if len(ordered) > limit:
        text.append(f"… {len(ordered) - limit} more series not shown\n", muted or "")
    text.rstrip()
    return text


def error_text(query: str, exc: Exception, *, style: Style | None = None) -> Text:
    """Prometheus's words; for a parse error, the query line with a caret at the column."""
    if isinstance(exc, ServerError):
        problem = query_problem(exc.detail)
        text = Text(one_line(problem.message, 1000), style=style or "")
        lines = query.split("\n")
        if (
            problem.line is not None
            and problem.column is not None
            and 0 < problem.line <= len(lines)
        ):
            line = one_line(lines[problem.line - 1], 1000)
            column = min(problem.column, len(line))
            text.append("\n  " + line + "\n  " + " " * column + "^")
        return text
    message = exc.message if isinstance(exc, ApiError) else f"internal error: {type(exc).__name__}"
    return Text(one_line(message, 1000), style=style or "")


def chart_series(series: Sequence[Series]) -> list[ChartSeries]:
    return [ChartSeries(series_name(s.labels), s.points) for s in series]


class ResultView(Vertical):
    """A chart above a value table; either may be hidden (`show_chart`, `show_table`)."""

    DEFAULT_CSS = """
    ResultView { height: auto; padding: 0 1; }
    ResultView > .result-note { color: $text-muted; height: auto; }
    ResultView > .result-error { color: $error; height: auto; }
    ResultView > .result-table { height: auto; }
    ResultView > Chart { height: 12; }
    """

    def compose(self) -> ComposeResult:
        yield Static(classes="result-note")
        yield Chart()
        yield Static(classes="result-table")

    def on_mount(self) -> None:
        self.query_one(Chart).display = False

    def note(self, message: str, *, error: bool = False) -> None:
        note = self.query_one(".result-note", Static)
        note.set_class(error, "result-error")
        note.set_class(not error, "result-note")
        note.update(Text(one_line(message, 2000)))

    def show_error(self, query: str, exc: Exception) -> None:
        note = self.query_one(Static)
        note.set_classes("result-error")
        note.update(error_text(query, exc))
        self.query_one(Chart).display = False
        self.query_one(".result-table", Static).update("")

    def show(
        self,
        *,
        instant: QueryResult | None = None,
        history: QueryResult | None = None,
        start: float = 0.0,
        end: float = 0.0,
        threshold: float | None = None,
        chart: bool = True,
        table: bool = True,
        descending: bool = True,
        note: str = "",
    ) -> None:
        self.query_one(Static).set_classes("result-note")
        view = self.query_one(Chart)
        series = history.series if history is not None else ()
        view.display = chart and bool(series)
        if view.display:
            view.set_data(chart_series(series), start, end, threshold)
        rows = rows_of(instant if instant is not None else history)
        warnings = [*(instant.warnings if instant else ()), *(history.warnings if history else ())]
        words = [note] if note else []
        # A partial answer (Thanos: some stores did not answer) says so before anything else.
        words.append(f"PARTIAL: {len(rows)} series" if warnings else f"{len(rows)} series")
        words.extend(f"partial: {w}" for w in dict.fromkeys(warnings))
        self.query_one(Static).update(Text(one_line(" · ".join(words), 2000)))
        self.query_one(".result-table", Static).update(
            # The Static crops each no-wrap line at its own width, whatever that is later.
            table_text(rows, width=2000, descending=descending) if table else ""
        )
