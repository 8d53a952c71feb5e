"""Why did it fire: the alerting rule's expression, its value now, and a chart of it over
1h, 6h or 24h against the rule's threshold, then the config's triage queries for the alert.

The expression's left side (`... > 5` -> `...`) is charted: the line the alert crossed is
the threshold. Series are narrowed to the ones whose labels the alert carries.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from oncall_tui.domain.alert_facts import matching_rules
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.matchers import FilterError, parse_filter
from oncall_tui.domain.promql import Clause, MissingLabel, fill_query, format_value, thresholds
from oncall_tui.domain.sanitize import clean_lines, one_line
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.state.context import ContextState
from oncall_tui.ui.widgets.chart import Chart
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.query_result import ResultView, chart_series, error_text
from oncall_tui.wire.prometheus import QueryResult, Rule, Series

WINDOWS = (3600.0, 6 * 3600.0, 24 * 3600.0)
WINDOW_NAMES = {3600.0: "1h", 6 * 3600.0: "6h", 24 * 3600.0: "24h"}
POINTS = 240


def _carried(series: tuple[Series, ...], labels: Mapping[str, str]) -> tuple[Series, ...]:
    """The series this alert is about: every label of the series is one of the alert's."""
    kept = tuple(
        s for s in series if all(labels.get(k) == v for k, v in s.labels.items() if k != "__name__")
    )
    return kept or series


class TriageScreen(Screen[None]):
    CSS_PATH = "triage.tcss"
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="triage.back"),
        Binding("w", "window", "1h/6h/24h", id="triage.window"),
        Binding("r", "runbook", "Runbook", id="triage.runbook"),
        Binding("ctrl+r", "refresh", "Refresh", id="triage.refresh"),
    ]

    def __init__(self, alert: BoardAlert, state: ContextState) -> None:
        super().__init__()
        self.alert = alert
        self.state = state
        self.lookups = state.lookups
        self.window = WINDOWS[0]
        self.rule: Rule | None = None
        self.clauses: list[Clause] = []
        self.query_views: list[tuple[Static, ResultView]] = []

    def compose(self) -> ComposeResult:
        yield Static(id="triage-title")
        with VerticalScroll(id="triage-body"):
            yield Static(id="triage-rule")
            yield Static(id="triage-window")
            yield Chart(id="triage-chart")
            yield Static(id="triage-queries-title", classes="triage-heading")
        yield KeysFooter()

    def on_mount(self) -> None:
        alert = self.alert
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append("Triage ", "bold")
        title.append(one_line(alert.name, 80) or "(no alertname)", "bold")
        others = " ".join(
            f"{one_line(k, 40)}={one_line(v, 80)}"
            for k, v in sorted(alert.labels.items())
            if k != "alertname"
        )
        title.append(f"  {others}")
        self.query_one("#triage-title", Static).update(title)
        self.query_one("#triage-rule", Static).update(Text("loading the rule…"))
        self.query_one("#triage-body").focus()
        self._window_line()
        self.refresh_all()

    def _window_line(self) -> None:
        line = Text("window ")
        for seconds in WINDOWS:
            name = WINDOW_NAMES[seconds]
            line.append(
                f"[{name}]" if seconds == self.window else f" {name} ",
                "bold reverse" if seconds == self.window else "",
            )
            line.append(" ")
        line.append(" (w changes; times are local)")
        self.query_one("#triage-window", Static).update(line)

    # -- data ------------------------------------------------------------------------------------

    @work(exclusive=True, group="triage", exit_on_error=False)
    async def refresh_all(self) -> None:
        if not self.lookups.has_prometheus:
            self.query_one("#triage-rule", Static).update(Text("no Prometheus configured"))
            return
        if self.rule is None:
            try:
                groups = await self.lookups.alert_rules(self.alert.labels)
            except Exception as exc:
                self.query_one("#triage-rule", Static).update(
                    Text.assemble("Prometheus: ", error_text("", exc))
                )
                groups = []
            found = matching_rules(groups, self.alert)
            if found:
                self.rule = found[0][1]
                self.clauses = thresholds(self.rule.query)
        await self._chart_rule()
        await self._triage_queries()

    def _rule_text(self, current: list[tuple[Clause | None, float]]) -> Text:
        rule = self.rule
        text = Text()
        if rule is None:
            text.append("no alerting rule of this name and labels in Prometheus", "italic")
            return text
        text.append("expression", "bold")
        text.append(f"  for {short_duration(rule.duration)}\n")
        for line in clean_lines(rule.query, 30, 400):
            text.append(f"  {line}\n")
        for clause, value in current:
            text.append("value now  ", "bold")
            text.append(format_value(value))
            if clause is not None:
                verdict = "crossed" if clause.crossed(value) else "not crossed"
                text.append(f"   threshold {clause.op} {format_value(clause.threshold)}: {verdict}")
            text.append("\n")
        for alert in rule.alerts:
            if all(self.alert.labels.get(k) == v for k, v in alert.labels.items()):
                since = ""
                if alert.active_at is not None:
                    since = f" since {alert.active_at.astimezone().strftime('%H:%M:%S')}"
                state = one_line(alert.state, 20)
                text.append("rule says  ", "bold")
                text.append(f"{state}{since}, value {format_value(alert.float_value)}\n")
                break
        text.rstrip()
        return text

    async def _chart_rule(self) -> None:
        chart = self.query_one("#triage-chart", Chart)
        if self.rule is None:
            self.query_one("#triage-rule", Static).update(self._rule_text([]))
            chart.display = False
            return
        end = float(math.ceil(time.time()))  # whole seconds: the last step lands on now
        start = end - self.window
        step = max(1.0, self.window / POINTS)
        exprs: list[tuple[Clause | None, str]] = [(c, c.expr) for c in self.clauses] or [
            (None, self.rule.query)
        ]
        all_series: list[Series] = []
        current: list[tuple[Clause | None, float]] = []
        try:
            for clause, expr in exprs:
                result: QueryResult = await self.lookups.query_range(
                    expr, start, end, step, labels=self.alert.labels
                )
                series = _carried(result.series, self.alert.labels)
                all_series.extend(series)
                last = [v for s in series for _, v in s.points[-1:] if not math.isnan(v)]
                current.append((clause, max(last) if last else math.nan))
        except Exception as exc:
            self.query_one("#triage-rule", Static).update(
                Text.assemble(self._rule_text([]), "\n", error_text(exprs[0][1], exc))
            )
            return
        self.query_one("#triage-rule", Static).update(self._rule_text(current))
        threshold = self.clauses[0].threshold if self.clauses else None
        chart.display = True
        chart.set_data(chart_series(all_series), start, end, threshold)

    async def _triage_queries(self) -> None:
        heading = self.query_one("#triage-queries-title", Static)
        # Read as this context's Alertmanagers read matchers (their versions), like the filter.
        grammar = self.state.matcher_grammar
        wanted = []
        unread = []
        for rule in self.state.context.triage:
            try:
                if parse_filter(rule.matchers, grammar).matches(self.alert.labels):
                    wanted += rule.queries
            except FilterError as exc:
                unread.append(f"{rule.matchers}: {exc.message}")
        # A rule these Alertmanagers would not read (0.27+ syntax on 0.25) is named, not run.
        skipped = (
            f" · {len(unread)} rule(s) skipped, their matchers not read by these Alertmanagers"
            f" ({grammar.value} grammar): {one_line('; '.join(unread), 200)}"
            if unread
            else ""
        )
        if not wanted:
            heading.update(
                Text("no triage queries in the config match this alert" + skipped, "italic")
            )
            return
        heading.update(Text(f"Triage queries ({len(wanted)}, from the config){skipped}", "bold"))
        body = self.query_one("#triage-body", VerticalScroll)
        while len(self.query_views) < len(wanted):
            pair = (Static(classes="triage-heading"), ResultView(classes="triage-query"))
            await body.mount(*pair)
            self.query_views.append(pair)
        end = float(math.ceil(time.time()))  # whole seconds: the last step lands on now
        start = end - self.window
        step = max(1.0, self.window / POINTS)
        for (title, view), query in zip(self.query_views, wanted, strict=False):
            title.update(Text(one_line(query.name, 200), "bold"))
            try:
                filled = fill_query(query.query, self.alert.labels)
            except MissingLabel as exc:
                view.note(str(exc), error=True)
                continue
            try:
                result = await self.lookups.query_range(
                    filled, start, end, step, labels=self.alert.labels
                )
            except Exception as exc:
                view.show_error(filled, exc)
                continue
            view.show(history=result, start=start, end=end, note=one_line(filled, 300))

    # -- actions ---------------------------------------------------------------------------------

    def action_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self._window_line()
        self.refresh_all()

    def action_refresh(self) -> None:
        self.refresh_all()

    def action_runbook(self) -> None:
        from oncall_tui.ui.screens.runbook import RunbookScreen

        self.app.push_screen(RunbookScreen(self.alert, self.state))

    def action_back(self) -> None:
        self.dismiss()
