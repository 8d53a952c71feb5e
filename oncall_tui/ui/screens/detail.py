"""The alert detail view: everything known about one alert, on one scrollable screen.

What the board already holds (labels, annotations, timing, peers, links, inhibiting alerts) is
shown at once; the silences and the alerting rule are fetched by workers owned by this screen,
so leaving it cancels them. The sections are drawn by plain functions in
`widgets/detail_sections.py` (what the board holds) and `widgets/detail_fetched.py` (what the
workers fetch): every untrusted string goes through `one_line`/`clean_lines` into a
`rich.text.Text`, never markup, and only http(s) URLs become clickable.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from oncall_tui.domain.alert_facts import Rules, label_matchers, matching_rules
from oncall_tui.domain.alert_history import History
from oncall_tui.domain.board import STATES, BoardAlert, BoardModel
from oncall_tui.domain.routing import Where
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.severity import COLOURED
from oncall_tui.domain.slo import SLOReport
from oncall_tui.state.context import ContextState
from oncall_tui.state.lookups import NotConfigured
from oncall_tui.ui.widgets import detail_fetched as fetched
from oncall_tui.ui.widgets import detail_sections as sections
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.oncall_text import escalation_text
from oncall_tui.ui.widgets.routing_text import routing_text
from oncall_tui.ui.widgets.styles import component_style
from oncall_tui.wire.alertmanager import Silence
from oncall_tui.wire.errors import ApiError

SECTIONS = (
    ("labels", "Labels"),
    ("annotations", "Annotations"),
    ("timing", "Timing"),
    ("where", "Where"),
    ("links", "Links"),
    ("silences", "Silenced by"),
    ("inhibitors", "Inhibited by"),
    ("routing", "Routing: who gets it, muted or not (w on the board)"),
    ("escalation", "Escalation: who is paged, and when (:oncall)"),
    ("rule", "Rule"),
    ("slo", "Error budget"),
    ("history", "History (from Prometheus's ALERTS)"),
)
# (window, step, timeline cells): 30 min and 3 h per cell.
HISTORY_WINDOWS = ((86400.0, 60.0, 48), (7 * 86400.0, 600.0, 56))
# Relative times ("12m ago") go stale; redrawing every few seconds writes nothing when unchanged.
TICK_SECONDS = 5.0


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
        Binding("i", "incident", "Declare incident", show=False, id="detail.incident"),
        Binding("g,home", "top", "Top", show=False, id="detail.top"),
        Binding("G,end", "bottom", "Bottom", show=False, id="detail.bottom"),
    ]
    COMPONENT_CLASSES = {
        "detail--key",
        "detail--muted",
        "detail--error",
        "detail--name",
        *(f"detail--severity-{s}" for s in COLOURED),
        *(f"detail--state-{s}" for s in STATES),
    }

    def __init__(self, alert: BoardAlert, state: ContextState, model: BoardModel) -> None:
        super().__init__()
        self.alert = alert
        self.state = state
        self.lookups = state.lookups
        self.model = model
        self.gone = False  # the alert left the board while this screen was open
        self.silences: dict[str, Silence | str] | None = None  # None: still loading
        self.rules: Rules | str | None = None  # str: why there is no rule to show
        self.slos: list[SLOReport] | str | None = None  # SLOs whose labels this alert carries
        self._drawn = False
        self._shown: dict[str, Text] = {}
        self.history: list[History] | str | None = None  # str: why there is none
        self.routing: Where | str | None = None  # str: why there is no answer
        self.oncall = state.context.oncall.book()

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        owner = self.lookups.owner_of(self.alert.labels)
        with VerticalScroll(id="detail-body"):
            for key, title in SECTIONS:
                if owner and key == "rule":
                    title = f"Rule (from {owner}'s backend)"
                elif owner and key == "history":
                    title = f"History (from {owner}'s ALERTS)"
                yield Static(Text(one_line(title, 120)), classes="detail-heading")
                yield Static(id=f"detail-{key}", classes="detail-section")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#detail-body").focus()
        self.render_all()
        self.fetch_silences()
        self.fetch_rules()
        self.fetch_slos()
        self.fetch_history()
        self.fetch_routing()
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

    def action_top(self) -> None:
        self.query_one("#detail-body", VerticalScroll).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one("#detail-body", VerticalScroll).scroll_end(animate=False)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(label_matchers(self.alert.labels))
        count = len(self.alert.labels)
        self.notify(f"copied {count} labels as matchers", timeout=3, markup=False)

    # -- data ------------------------------------------------------------------------------------

    @work(exclusive=True, group="detail-silences", exit_on_error=False)
    async def fetch_silences(self) -> None:
        ids = self.alert.silenced_by
        if not ids:
            self.silences = {}
            self._show("silences")
            return
        self.silences = None
        self._show("silences")
        try:
            self.silences = await self.lookups.silences(self.alert.cluster, ids)
        except Exception as exc:  # shown in the section; the screen stays usable
            self.silences = dict.fromkeys(ids, _message(exc))
        self._show("silences")

    @work(exclusive=True, group="detail-rule", exit_on_error=False)
    async def fetch_rules(self) -> None:
        try:
            groups = await self.lookups.alert_rules(self.alert.labels)
        except NotConfigured as exc:
            self.rules = exc.message
        except Exception as exc:  # shown in the section; the screen stays usable
            self.rules = f"Prometheus: {_message(exc)}"
        else:
            self.rules = matching_rules(groups, self.alert) or "rule not found"
        self._show("rule")
        self._show("timing")  # a pending alert's firing time needs the rule's `for`

    @work(exclusive=True, group="detail-slo", exit_on_error=False)
    async def fetch_slos(self) -> None:
        """The SLOs this alert's labels select, from the context's one SLO store."""
        store = self.state.slo
        if not store.available:
            self.slos = "no Prometheus configured"
        else:
            await store.first_reading()
            seen = store.seen
            if seen.last_error and seen.last_good is None:
                self.slos = seen.last_error
            else:
                self.slos = store.matching(self.alert.labels)
        self._show("slo")

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
        self._put("title", sections.title_text(self.alert, self._style, gone=self.gone))
        for key, _ in SECTIONS:
            self._show(key)

    def _show(self, key: str) -> None:
        self._put(key, self._section(key))

    def _put(self, key: str, text: Text) -> None:
        # An unchanged section is not updated, so a quiet tick sends nothing to the terminal.
        if self._shown.get(key) != text:
            self._shown[key] = text
            self.query_one(f"#detail-{key}", Static).update(text)

    def _section(self, key: str) -> Text:
        """One section's Text, drawn by the renderers in widgets/detail_*.py."""
        alert, style = self.alert, self._style
        match key:
            case "labels":
                return sections.pairs_text(alert.labels, style, multi_line=False)
            case "annotations":
                return sections.pairs_text(alert.annotations, style, multi_line=True)
            case "timing":
                return sections.timing_text(alert, self.rules, style)
            case "where":
                held = self.state.alerts.peers_of(alert.cluster, alert.fingerprint)
                peers = self.lookups.cluster_peers(alert.cluster)
                return sections.where_text(alert, held, peers, style)
            case "links":
                return sections.links_text(alert, style)
            case "silences":
                return fetched.silences_text(alert, self.silences, style)
            case "inhibitors":
                return sections.inhibitors_text(alert, self.model, style)
            case "rule":
                return fetched.rule_text(self.rules, style)
            case "slo":
                return fetched.slo_text(self.slos, style)
            case "history":
                return fetched.history_text(self.history, style)
            case "routing":
                return routing_text(self.routing, style)
            case "escalation":
                return escalation_text(
                    self.oncall,
                    alert.labels,
                    datetime.fromtimestamp(alert.started_ts, UTC),
                    datetime.now(UTC),
                    style,
                    acked_by=self.model.acked_by(alert),
                    state=alert.state,
                )
        raise KeyError(key)

    # -- runbook, triage and alert history (issue 6) ---------------------------------------------

    def action_runbook(self) -> None:
        from oncall_tui.ui.screens.runbook import RunbookScreen

        self.app.push_screen(RunbookScreen(self.alert, self.state))

    def action_triage(self) -> None:
        from oncall_tui.ui.screens.triage import TriageScreen

        self.app.push_screen(TriageScreen(self.alert, self.state))

    def action_incident(self) -> None:
        from oncall_tui.ui.screens.incidents import declare_from

        declare_from(self, self.state, [self.alert], self.state.incidents.user)

    @work(exclusive=True, group="detail-history", exit_on_error=False)
    async def fetch_history(self) -> None:
        try:
            self.history = await self.lookups.history(
                self.alert.name, self.alert.labels, HISTORY_WINDOWS
            )
        except NotConfigured as exc:
            self.history = exc.message
        except Exception as exc:  # shown in the section; the screen stays usable
            self.history = f"Prometheus: {_message(exc)}"
        self._show("history")

    @work(exclusive=True, group="detail-routing", exit_on_error=False)
    async def fetch_routing(self) -> None:
        try:
            self.routing = await self.state.routing.where(self.alert)
        except Exception as exc:  # shown in the section; the screen stays usable
            self.routing = _message(exc)
        self._show("routing")
