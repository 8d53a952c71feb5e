"""The alert detail view: everything known about one alert, on one scrollable screen.

What the board already holds (labels, annotations, timing, peers, links, inhibiting alerts) is
shown at once; the silences and the alerting rule are fetched by workers owned by this screen,
so leaving it cancels them. Every untrusted string goes through `one_line`/`clean` into a
`rich.text.Text`, never markup, and only http(s) URLs become clickable.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...api.am_models import Silence
from ...api.errors import ApiError
from ...api.prometheus import Rule
from ...domain.alert_facts import (
    Rules,
    find_alert,
    label_matchers,
    link_items,
    local_time,
    matching_rules,
    relative,
    safe_link,
)
from ...domain.alert_history import History, build_history, history_queries
from ...domain.board import PENDING_CLUSTER, STATES, BoardAlert, BoardModel
from ...domain.sanitize import clean_lines, one_line
from ...domain.severity import COLOURED
from ...domain.slo import SLOReport
from ...domain.timefmt import short_duration
from ...factory import Clients
from ...slo_poller import SLOPoller
from ..widgets.slo_summary import brief, exhaustion, minutes, pct
from ..widgets.styles import component_style

SECTIONS = (
    ("labels", "Labels"),
    ("annotations", "Annotations"),
    ("timing", "Timing"),
    ("where", "Where"),
    ("links", "Links"),
    ("silences", "Silenced by"),
    ("inhibitors", "Inhibited by"),
    ("rule", "Rule"),
    ("slo", "Error budget"),
    ("history", "History (from Prometheus's ALERTS)"),
)
KEY_WIDTH = 24
# (window, step, timeline cells): 30 min and 3 h per cell.
HISTORY_WINDOWS = ((86400.0, 60.0, 48), (7 * 86400.0, 600.0, 56))
# Relative times ("12m ago") go stale; redrawing every few seconds writes nothing when unchanged.
TICK_SECONDS = 5.0

# The keys a reader looks for first; the rest follow in alphabetical order.
_FIRST = ("alertname", "severity", "summary", "description")


def _rank(key: str) -> int:
    return _FIRST.index(key) if key in _FIRST else len(_FIRST)


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, ApiError) else f"internal error: {type(exc).__name__}"


# -- the screen --------------------------------------------------------------------------------


class AlertDetailScreen(Screen[None]):
    """One alert in full; `escape` goes back to the board, `y` copies its labels as matchers."""

    CSS_PATH = "detail.tcss"
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="detail.back"),
        Binding("y", "copy", "Copy labels", id="detail.copy"),
        Binding("r", "runbook", "Runbook", id="detail.runbook"),
        Binding("t", "triage", "Triage", id="detail.triage"),
    ]
    COMPONENT_CLASSES = {
        "detail--key",
        "detail--muted",
        "detail--error",
        "detail--name",
        *(f"detail--severity-{s}" for s in COLOURED),
        *(f"detail--state-{s}" for s in STATES),
    }

    def __init__(self, alert: BoardAlert, clients: Clients, model: BoardModel) -> None:
        super().__init__()
        self.alert = alert
        self.clients = clients
        self.model = model
        self.gone = False  # the alert left the board while this screen was open
        self.silences: dict[str, Silence | str] | None = None  # None: still loading
        self.rules: Rules | str | None = None  # str: why there is no rule to show
        self.slos: list[SLOReport] | str | None = None  # SLOs whose labels this alert carries
        self._drawn = False
        self._shown: dict[str, Text] = {}
        self.history: list[History] | str | None = None  # str: why there is none

    @property
    def pending(self) -> bool:
        return self.alert.cluster == PENDING_CLUSTER

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with VerticalScroll(id="detail-body"):
            for key, title in SECTIONS:
                yield Static(Text(title), classes="detail-heading")
                yield Static(id=f"detail-{key}", classes="detail-section")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail-body").focus()
        self.render_all()
        self.fetch_silences()
        self.fetch_rules()
        self.fetch_slos()
        self.fetch_history()
        self.set_interval(TICK_SECONDS, self._tick)
        self._drawn = True

    def notify_style_update(self) -> None:
        # The colours are baked into the Texts: redraw once the CSS (or a new theme) applies.
        super().notify_style_update()
        if self._drawn:
            self.call_later(self.render_all)

    # -- actions ---------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(label_matchers(self.alert.labels))
        count = len(self.alert.labels)
        self.notify(f"copied {count} labels as matchers", timeout=3, markup=False)

    # -- data ------------------------------------------------------------------------------------

    @work(exclusive=True, group="detail-silences", exit_on_error=False)
    async def fetch_silences(self) -> None:
        ids = self.alert.silenced_by
        cluster = next((c for c in self.clients.clusters if c.name == self.alert.cluster), None)
        if not ids or cluster is None:
            why = f"cluster {one_line(self.alert.cluster, 80)} is not in this context"
            self.silences = dict.fromkeys(ids, why)
            self._show("silences")
            return
        self.silences = None
        self._show("silences")

        async def one(silence_id: str) -> Silence | str:
            try:
                return await cluster.silence(silence_id)
            except Exception as exc:  # shown in the section; the screen stays usable
                return _message(exc)

        found = await asyncio.gather(*(one(i) for i in ids))
        self.silences = dict(zip(ids, found, strict=True))
        self._show("silences")

    @work(exclusive=True, group="detail-rule", exit_on_error=False)
    async def fetch_rules(self) -> None:
        prometheus = self.clients.prometheus
        if prometheus is None:
            self.rules = "no Prometheus configured"
        else:
            try:
                groups = await prometheus.rules("alert")
            except Exception as exc:  # shown in the section; the screen stays usable
                self.rules = f"Prometheus: {_message(exc)}"
            else:
                self.rules = matching_rules(groups, self.alert) or "rule not found"
        self._show("rule")
        self._show("timing")  # a pending alert's firing time needs the rule's `for`

    @work(exclusive=True, group="detail-slo", exit_on_error=False)
    async def fetch_slos(self) -> None:
        if self.clients.prometheus is None:
            self.slos = "no Prometheus configured"
        else:
            labels = self.alert.labels
            snapshot = await SLOPoller(self.clients).poll(only=lambda s: s.matches(labels))
            self.slos = list(snapshot.reports) if snapshot.ok else "; ".join(snapshot.errors)
        self._show("slo")

    def _slo_text(self) -> Text:
        muted = self._style("muted")
        if self.slos is None:
            return Text("loading…", style=muted)
        if isinstance(self.slos, str):
            return Text(f"Prometheus: {one_line(self.slos)}", style=self._style("error"))
        if not self.slos:
            return Text("no SLO matches this alert's labels", style=muted)
        roles = {"page": "severity-critical", "ticket": "severity-warning", "ok": "name"}
        roles["nodata"] = "muted"
        text = Text()
        for report in self.slos:
            text.append_text(brief(report, lambda r: self._style(roles.get(r, r))))
            found = report.budget
            if found is not None:
                text.append(
                    f"\n  budget {minutes(found.total_minutes)} · spent "
                    f"{minutes(found.spent_minutes)} ({pct(found.spent_pct)}) · "
                    f"{exhaustion(report.exhaustion_s)}"
                )
            text.append("\n")
        text.rstrip()
        return text

    def _tick(self) -> None:
        """Follow the board's newer copy of this alert, then redraw the relative times."""
        latest = next(
            (a for g in self.model.groups for a in g.alerts if a.key == self.alert.key), None
        )
        if latest is None:
            self.gone = True
        else:
            self.gone = False
            if latest != self.alert:
                refetch = latest.silenced_by != self.alert.silenced_by
                self.alert = latest
                if refetch:
                    self.fetch_silences()
        self.render_all()

    # -- drawing ---------------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return component_style(self, f"detail--{name}")

    def render_all(self) -> None:
        self._put("title", self._title())
        for key, _ in SECTIONS:
            self._show(key)

    def _show(self, key: str) -> None:
        self._put(key, getattr(self, f"_{key}_text")())

    def _put(self, key: str, text: Text) -> None:
        # An unchanged section is not updated, so a quiet tick sends nothing to the terminal.
        if self._shown.get(key) != text:
            self._shown[key] = text
            self.query_one(f"#detail-{key}", Static).update(text)

    def _field(self, text: Text, key: str, value: str | Text = "", width: int = 10) -> None:
        """One `key  value` line; the value is already safe (one_line'd or a Text)."""
        text.append(f"{key:<{width}} " if value else key, style=self._style("key"))
        text.append(value)
        text.append("\n")

    def _severity(self, severity: str) -> Style:
        name = severity.lower()
        return self._style(f"severity-{name}") if name in COLOURED else Style()

    def _title(self) -> Text:
        alert = self.alert
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(
            f"{one_line(alert.severity or 'none', 12).upper()} ", self._severity(alert.severity)
        )
        text.append(one_line(alert.name, 80) or "(no alertname)", self._style("name"))
        text.append(f"  {alert.state}", self._style(f"state-{alert.state}"))
        if alert.started is not None:
            age = short_duration((datetime.now(UTC) - alert.started).total_seconds())
            text.append(f"  {age}", self._style("muted"))
        text.append(f"  @{one_line(alert.cluster, 40)}", self._style("muted"))
        if self.gone:
            text.append("  (gone from the board)", self._style("error"))
        if alert.summary:
            text.append("\n" + one_line(alert.summary))
        return text

    def _pairs_text(self, pairs: Mapping[str, str], *, multi_line: bool) -> Text:
        if not pairs:
            return Text("none", style=self._style("muted"))
        width = min(KEY_WIDTH, max(len(k) for k in pairs))
        text = Text()
        for key, value in sorted(pairs.items(), key=lambda kv: (_rank(kv[0]), kv[0])):
            name = one_line(key, 80)
            if multi_line and "\n" in value.strip():
                self._field(text, name, width=width)
                for line in clean_lines(value):
                    text.append(f"  {line}\n")
            else:
                self._field(text, name, one_line(value, 2000), width)
        text.rstrip()
        return text

    def _labels_text(self) -> Text:
        return self._pairs_text(self.alert.labels, multi_line=False)

    def _annotations_text(self) -> Text:
        return self._pairs_text(self.alert.annotations, multi_line=True)

    def _timing_text(self) -> Text:
        alert = self.alert
        now = datetime.now(UTC)
        text = Text()
        if alert.started is not None:
            label = "pending" if self.pending else "started"
            self._field(
                text, label, f"{local_time(alert.started)}  ({relative(alert.started, now)})"
            )
        else:
            self._field(text, "started", Text("unknown", style=self._style("muted")))
        if self.pending:
            rule = self._first_rule()
            if rule is not None and alert.started is not None:
                fires = alert.started + timedelta(seconds=rule.duration)
                when = f"{local_time(fires)}  ({relative(fires, now)}) if still true"
                self._field(text, "fires", when)
            else:
                self._field(text, "fires", Text("once its `for` has passed", self._style("muted")))
        elif alert.ends is not None and alert.ends > now + timedelta(minutes=30):
            self._field(text, "ends", f"{local_time(alert.ends)}  ({relative(alert.ends, now)})")
        elif alert.ends is not None:
            # Prometheus re-sends a firing alert with endsAt a few minutes ahead: not an end.
            self._field(text, "ends", Text("when it stops firing", self._style("muted")))
        text.rstrip()
        return text

    def _where_text(self) -> Text:
        alert = self.alert
        text = Text()
        if self.pending:
            note = "Prometheus only: pending alerts are not sent to Alertmanager"
            self._field(text, "source", note)
            text.rstrip()
            return text
        self._field(text, "cluster", one_line(alert.cluster, 80))
        cluster = next((c for c in self.clients.clusters if c.name == alert.cluster), None)
        held = ", ".join(one_line(p, 200) for p in alert.peers) or "none"
        if cluster is not None:
            held += f"  ({len(alert.peers)} of {len(cluster.peers)} peers)"
        self._field(text, "peers", held)
        self._field(
            text, "receivers", ", ".join(one_line(r, 80) for r in alert.receivers) or "none"
        )
        text.rstrip()
        return text

    def _links_text(self) -> Text:
        items = link_items(self.alert)
        if not items:
            return Text("none", style=self._style("muted"))
        width = min(KEY_WIDTH, max(len(k) for k, _ in items))
        text = Text()
        for key, url in items:
            shown = one_line(url, 2000)
            target = safe_link(url)
            value = Text(shown, style=Style(link=target, underline=True) if target else "")
            if target is None:
                value.append("  (not a web link)", self._style("muted"))
            self._field(text, one_line(key, 80), value, width)
        text.rstrip()
        return text

    def _silences_text(self) -> Text:
        muted = self._style("muted")
        if self.pending:
            return Text("none (pending alerts are not in Alertmanager)", style=muted)
        if not self.alert.silenced_by:
            return Text("not silenced", style=muted)
        if self.silences is None:
            return Text("loading…", style=muted)
        now = datetime.now(UTC)
        text = Text()
        for silence_id in self.alert.silenced_by:
            found = self.silences.get(silence_id, "not fetched yet")
            if isinstance(found, str):
                self._field(text, "id", one_line(silence_id, 80))
                self._field(text, "error", Text(one_line(found), style=self._style("error")))
            else:
                self._field(text, "id", one_line(found.id, 80))
                self._field(text, "by", one_line(found.created_by, 200))
                comment = clean_lines(found.comment) or [""]
                self._field(text, "comment", comment[0])
                for line in comment[1:]:
                    text.append(f"{'':<11}{line}\n")
                ends = f"{relative(found.ends_at, now)}  ({local_time(found.ends_at)})"
                self._field(text, "ends", ends)
                self._field(text, "state", one_line(found.state, 40))
            text.append("\n")
        text.rstrip()
        return text

    def _inhibitors_text(self) -> Text:
        muted = self._style("muted")
        if self.pending:
            return Text("none (pending alerts are not in Alertmanager)", style=muted)
        if not self.alert.inhibited_by:
            return Text("not inhibited", style=muted)
        text = Text()
        for fingerprint in self.alert.inhibited_by:
            source = find_alert(self.model, self.alert.cluster, fingerprint)
            if source is None:
                text.append(one_line(fingerprint, 80))
                text.append("  not on the board\n", muted)
                continue
            text.append(one_line(source.name, 80) or "(no alertname)", self._style("name"))
            text.append(f"  {one_line(source.severity, 20)}", self._severity(source.severity))
            text.append(f"  {source.state}", self._style(f"state-{source.state}"))
            text.append(f"  {one_line(fingerprint, 40)}\n", muted)
            others = {k: v for k, v in source.labels.items() if k != "alertname"}
            labels = " ".join(
                f"{one_line(k, 80)}={one_line(v, 200)}" for k, v in sorted(others.items())
            )
            text.append(f"  {labels}\n")
        text.rstrip()
        return text

    def _first_rule(self) -> Rule | None:
        return self.rules[0][1] if isinstance(self.rules, list) and self.rules else None

    def _rule_text(self) -> Text:
        if self.rules is None:
            return Text("loading…", style=self._style("muted"))
        if isinstance(self.rules, str):
            style = (
                "muted" if self.rules in ("rule not found", "no Prometheus configured") else "error"
            )
            return Text(one_line(self.rules), style=self._style(style))
        text = Text()
        for index, (group, rule) in enumerate(self.rules):
            if index:
                text.append("\n")
            self._field(
                text, "group", f"{one_line(group.name, 200)}  ({one_line(group.file, 400)})"
            )
            self._field(text, "for", short_duration(rule.duration))
            health = Text(one_line(rule.health or "unknown", 40))
            if rule.health not in ("", "ok"):
                health.stylize(self._style("error"))
            self._field(text, "health", health)
            if rule.state:
                self._field(text, "state", one_line(rule.state, 40))
            if rule.last_error:
                self._field(
                    text, "last error", Text(one_line(rule.last_error), self._style("error"))
                )
            self._field(text, "expression")
            for line in clean_lines(rule.query):
                text.append(f"  {line}\n")
        text.rstrip()
        return text

    # -- runbook, triage and alert history (issue 6) ---------------------------------------------

    def action_runbook(self) -> None:
        from .runbook import RunbookScreen

        self.app.push_screen(RunbookScreen(self.alert, self.clients))

    def action_triage(self) -> None:
        from .triage import TriageScreen

        self.app.push_screen(TriageScreen(self.alert, self.clients))

    @work(exclusive=True, group="detail-history", exit_on_error=False)
    async def fetch_history(self) -> None:
        prometheus = self.clients.prometheus
        if prometheus is None:
            self.history = "no Prometheus configured"
            self._show("history")
            return
        alerts_query, for_state_query = history_queries(self.alert.name)
        # Whole seconds: the last step then falls on `end` itself, not a step before it.
        end = float(math.ceil(datetime.now(UTC).timestamp()))
        found = []
        try:
            for window, step, cells in HISTORY_WINDOWS:
                start = end - window
                alerts = await prometheus.query_range(alerts_query, start, end, step)
                for_state = await prometheus.query_range(for_state_query, start, end, step)
                found.append(
                    build_history(
                        [(s.labels, s.points) for s in alerts.series],
                        [(s.labels, s.points) for s in for_state.series],
                        self.alert.labels,
                        start=start,
                        end=end,
                        step=step,
                        cells=cells,
                    )
                )
        except Exception as exc:  # shown in the section; the screen stays usable
            self.history = f"Prometheus: {_message(exc)}"
        else:
            self.history = found
        self._show("history")

    def _history_text(self) -> Text:
        muted = self._style("muted")
        if self.history is None:
            return Text("loading…", style=muted)
        if isinstance(self.history, str):
            return Text(one_line(self.history), style=self._style("error"))
        text = Text()
        for history in self.history:
            seconds = history.end - history.start
            span = f"{seconds / 3600:g}h" if seconds <= 86400 else short_duration(seconds)
            text.append(f"{span:<4}", self._style("key"))
            for cell in history.cells:
                text.append(cell, self._style("state-active") if cell != "·" else muted)
            text.append("\n    ")
            count = len(history.episodes)
            if not count and not history.firing_seconds:
                text.append(f"did not fire in the last {span}\n", muted)
                continue
            summary = f"{count} episode{'s' if count != 1 else ''}" if count else "fired"
            summary += f", firing {short_duration(history.firing_seconds)} in {span}"
            latest = history.episodes[-1] if history.episodes else None
            if latest is not None:
                began = datetime.fromtimestamp(latest.start, UTC)
                summary += f"; last began {local_time(began)}"
                summary += " (still active)" if latest.ongoing else ""
            text.append(summary + "\n", muted)
        text.append("█ firing  ▒ pending  · quiet; oldest left, now right", muted)
        return text
