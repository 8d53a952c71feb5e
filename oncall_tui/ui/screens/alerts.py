"""The alert board screen: status line, groups of alerts, the filter bar.

The poll loop is a worker owned by this screen: the next poll starts only when the last one
ended, failures back off, and the last good data stays on screen marked stale with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from concurrent.futures import Future

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from oncall_tui.config import SilenceDefaults
from oncall_tui.domain.board import SORTS, BoardAlert, BoardGroup, BoardModel, GroupBuilder
from oncall_tui.domain.completeness import DEFAULT_WINDOW, ClusterPoll, Ledger, Poll
from oncall_tui.domain.matchers import FilterError, LabelMatcher, parse_filter
from oncall_tui.domain.merge import MergedGroup
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.silence_plan import acked_by
from oncall_tui.state.alerts import Backoff, ClusterHealth, Poller, Prefetched, Snapshot
from oncall_tui.state.wiring import Clients
from oncall_tui.ui.silence_actions import SilenceActions
from oncall_tui.ui.widgets.banner import IncompleteBanner
from oncall_tui.ui.widgets.board import BoardView, column_titles
from oncall_tui.ui.widgets.field import Field
from oncall_tui.ui.widgets.slo_strip import SLOStrip
from oncall_tui.ui.widgets.status import StatusBar, status_text
from oncall_tui.wire.prometheus import RuleAlert


class AlertsScreen(Screen[None]):
    BINDINGS = [
        # The footer shows the keys of a 3 a.m. flow; the rest are in `?` (80 columns fit).
        # priority, and focus set at once: what is typed right after / reaches the filter.
        Binding("slash", "filter", "Filter", priority=True, id="alerts.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="alerts.clear_filter"),
        Binding("s", "silence", "Silence", id="alerts.silence"),
        Binding("a", "ack", "Ack", id="alerts.ack"),
        Binding("r", "runbook", "Runbook", id="alerts.runbook"),
        Binding("t", "triage", "Triage", id="alerts.triage"),
        Binding("S", "toggle_state('silenced')", "Silenced", show=False, id="alerts.toggle_silenced"),
        Binding("I", "toggle_state('inhibited')", "Inhibited", show=False, id="alerts.toggle_inhibited"),
        Binding("o", "cycle_sort", "Sort", show=False, id="alerts.sort"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="alerts.refresh"),
        Binding("p", "pause", "Pause", show=False, id="alerts.pause"),
    ]

    def __init__(
        self,
        clients: Clients,
        *,
        bell_on_critical: bool = False,
        first: Future[Prefetched] | None = None,
        writer: SilenceActions | None = None,
        recently_resolved: float = DEFAULT_WINDOW,
    ) -> None:
        super().__init__()
        self.clients = clients
        self.writer = writer or SilenceActions(clients, SilenceDefaults(), None)
        self.first = first
        self.poller = Poller(clients)
        self.builder = GroupBuilder()
        self.model = BoardModel()
        # Tells alerts that resolved from alerts lost while a source failed (held, marked ?).
        self.ledger = Ledger(window=recently_resolved)
        self.bell_on_critical = bell_on_critical
        self.groups: dict[str, list[MergedGroup] | None] = {}
        self.pending: tuple[RuleAlert, ...] = ()
        self.health: tuple[ClusterHealth, ...] = ()
        self.last_good: float | None = None
        self.last_error = ""
        self.filter_error = ""
        self.paused = False
        self.polls = 0
        # On the screen, not in the loop: tests read how long the next wait after a failure is.
        self.backoff = Backoff(clients.context.refresh)
        self._wake = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield IncompleteBanner(id="incomplete")
        yield StatusBar(id="status")
        yield SLOStrip(self.clients, id="slo-strip")
        yield Static(id="titles")
        yield BoardView(self.model, id="board")
        yield Static(id="filter-help")
        yield Field(
            placeholder='filter: alertname=~"High.*" severity!=info team=ml or words',
            id="filter",
            select_on_focus=False,  # one backspace must not wipe the filter being refined
        )
        yield Footer()

    @property
    def board(self) -> BoardView:
        return self.query_one(BoardView)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#filter-help", Static).display = False
        self.board.focus()
        self.update_status()
        self.set_interval(1.0, self._tick)
        self.poll_loop()

    def on_resize(self) -> None:
        self.query_one("#titles", Static).update(column_titles(self.size.width))

    # -- polling ---------------------------------------------------------------------------------

    @work(exclusive=True, group="poll", exit_on_error=False)
    async def poll_loop(self) -> None:
        backoff = self.backoff
        while True:
            if not self.paused:
                try:
                    snapshot = await self._first_or_poll()
                except Exception as exc:  # a bug must not stop polling for good
                    self.last_error = f"internal error: {type(exc).__name__}: {exc}"
                    self.update_status()
                    delay = backoff.next_delay(failed=True)
                else:
                    self.apply(snapshot)
                    delay = backoff.next_delay(failed=not snapshot.ok)
            else:
                delay = 3600.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _first_or_poll(self) -> Snapshot:
        first, self.first = self.first, None
        if first is not None:
            with contextlib.suppress(Exception):  # the prefetch failed: just poll
                prefetched = await asyncio.wrap_future(first)
                snapshot = prefetched.take()
                if snapshot is not None:
                    self.poller.adopt(prefetched.poller)
                    return snapshot
        return await self.poller.poll(rules=self.ledger.wants_rules)

    def apply(self, snapshot: Snapshot) -> None:
        """Keep each cluster's last good groups; replace only what answered."""
        self.polls += 1
        for name, groups in snapshot.groups.items():
            if groups is not None or name not in self.groups:
                self.groups[name] = groups
        if snapshot.pending is not None:
            self.pending = snapshot.pending
        self.health = snapshot.health
        self._take_acks(snapshot)
        merged = [g for groups in self.groups.values() for g in groups or ()]
        built = self.builder.build(merged, self.pending)
        self.ledger.observe(self._ledger_poll(snapshot, built))
        if snapshot.ok:
            # A snapshot the ledger does not trust (peers shutting down, Prometheus just
            # back) is shown with what it lost held and marked, but is not "last good".
            if not any(self.ledger.distrust.values()):
                self.last_good = snapshot.taken_at
            self.last_error = ""
        else:
            self.last_error = "; ".join(snapshot.errors)
        self.model.set_groups(self.ledger.decorate(built))
        self.board.reload()
        self.update_status()
        if self.clients.prometheus is not None:
            self._tell_slo_views(snapshot.prometheus_error)
        if self.bell_on_critical and self._new_critical():
            self.app.bell()

    def _tell_slo_views(self, error: str) -> None:
        """The SLO views poll every 30 s; the board every few seconds sees Prometheus fail
        or come back first, and tells them."""
        from oncall_tui.ui.screens.slo import SLOScreen

        self.query_one(SLOStrip).prometheus_state(error)
        for screen in self.app.screen_stack:
            if isinstance(screen, SLOScreen) and screen.clients is self.clients:
                screen.prometheus_state(error)

    def _ledger_poll(self, snapshot: Snapshot, built: list[BoardGroup]) -> Poll:
        by_cluster: dict[str, list[BoardGroup]] = {}
        for group in built:
            by_cluster.setdefault(group.cluster, []).append(group)
        clusters = [
            ClusterPoll(
                name=health.name,
                groups=by_cluster.get(health.name, [])
                if snapshot.groups.get(health.name) is not None
                else None,
                peers_up=len(health.peers_up),
                peers_total=len(health.peers_up) + len(health.peers_down),
                reason="; ".join(dict.fromkeys(why for _, why in health.peers_down)),
            )
            for health in snapshot.health
        ]
        return Poll(
            taken_at=snapshot.taken_at,
            clusters=clusters,
            prometheus_configured=self.clients.prometheus is not None,
            prometheus_error=snapshot.prometheus_error,
            prometheus_active=snapshot.prometheus_active,
            rules=snapshot.rules,
        )

    def _take_acks(self, snapshot: Snapshot) -> None:
        acks = dict(self.model.acks)
        rules = []
        for silences in snapshot.silences.values():
            if silences is None:
                continue  # keep what was known about that cluster's acks
            for silence in silences:
                who = acked_by(silence) if silence.state == "active" else None
                if who is None:
                    acks.pop(silence.id, None)
                    continue
                acks[silence.id] = who
                with contextlib.suppress(FilterError):
                    tests = tuple(LabelMatcher.from_api(m).matches for m in silence.matchers)
                    rules.append((who, tests))
        self.model.acks = acks
        self.model.ack_rules = tuple(rules)

    def _new_critical(self) -> bool:
        return any(
            a.key in self.model.new_keys and a.severity == "critical" and a.state == "active"
            for g in self.model.groups
            for a in g.alerts
        )

    def _tick(self) -> None:
        # Only a stale or paused board has a clock worth redrawing every second.
        if self.last_error or self.paused or self.last_good is None:
            self.update_status()

    def update_status(self) -> None:
        self.query_one(IncompleteBanner).show(self.ledger.concerns())
        self.board.set_empty(self._empty_text())
        self.query_one(StatusBar).show(
            status_text(
                self,
                context=self.clients.context,
                health=self.health,
                last_good=self.last_good,
                last_error=self.last_error,
                paused=self.paused,
                warnings=[
                    *self.clients.warnings,
                    *(
                        [f"auth: {self.clients.credential_error}"]
                        if self.clients.credential_error
                        else []
                    ),
                ],
                matched=self.model.matched,
                total=self.model.total,
                filtered=bool(self.model.filter and not self.model.filter.is_empty),
                filter_text=str(self.model.filter or ""),
                hidden=[
                    s
                    for s, on in (
                        ("silenced", self.model.hide_silenced),
                        ("inhibited", self.model.hide_inhibited),
                    )
                    if on
                ],
                sort=self.model.sort,
                now=time.time(),
            )
        )

    def _empty_text(self) -> Text:
        """Why the board shows no alert: never a blank body."""
        model = self.model
        if model.lines():
            return Text()
        if model.total:
            hidden = model.total - model.matched
            flt = str(model.filter or "")
            if self.filter_error:
                return Text(f"the filter does not parse: {self.filter_error}")
            if flt and model.filter is not None and not model.filter.is_empty:
                toggles = " and the S/I toggles" if model.hide_silenced or model.hide_inhibited else ""
                return Text(
                    f"no alerts match `{one_line(flt, 80)}` ({hidden} hidden by the filter"
                    f"{toggles}; esc clears it)"
                )
            return Text(f"no alerts to show: {hidden} hidden by the S/I toggles")
        reason = one_line(self.last_error, 300)
        if self.last_good is None:
            if reason:
                names = ", ".join(c.name for c in self.clients.clusters) or "Prometheus"
                return Text(f"cannot reach {one_line(names, 80)}: {reason}")
            return Text("loading…")
        stamp = time.strftime("%H:%M:%S", time.localtime(self.last_good))
        if reason:
            return Text(f"no alerts as of {stamp}, but the data is stale: {reason}")
        if self.ledger.concerns():
            return Text(f"no alerts as of {stamp}, but the board may be incomplete (see above)")
        return Text(f"no alerts firing (checked {stamp})")

    def on_board_view_new_above(self, event: BoardView.NewAbove) -> None:
        count = event.count
        self.notify(
            f"{count} new critical alert{'s' if count != 1 else ''} above the cursor "
            "(g: go to the top)",
            severity="warning",
            timeout=8,
        )

    # -- filter ----------------------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        self.query_one("#filter-help", Static).display = True
        self._show_filter_help()
        self.set_focus(field)  # not field.focus(): that waits behind keys already queued

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            self.model.filter = parse_filter(event.value)
            self.filter_error = ""
        except FilterError as exc:
            # Keep showing the last filter that parsed; say what is wrong and where.
            self.filter_error = f"✗ column {exc.position + 1}: {exc.message}"
        self.model.invalidate()
        self.board.reload()
        self._show_filter_help()
        self.update_status()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self._close_filter(keep=True)

    def _show_filter_help(self) -> None:
        help_line = self.query_one("#filter-help", Static)
        if self.filter_error:
            help_line.update(Text(self.filter_error, style="bold"))
            help_line.set_class(True, "error")
        else:
            counts = f"{self.model.matched} of {self.model.total} alerts match"
            help_line.update(Text(f"{counts} · enter: keep · esc: clear"))
            help_line.set_class(False, "error")

    def _close_filter(self, *, keep: bool) -> None:
        field = self.query_one("#filter", Input)
        if not keep:
            field.value = ""
            self.model.filter = None
            self.filter_error = ""
            self.model.invalidate()
            self.board.reload()
        field.display = False
        self.query_one("#filter-help", Static).display = False
        self.board.focus()
        self.update_status()

    def action_clear_filter(self) -> None:
        self._close_filter(keep=False)

    # -- toggles ---------------------------------------------------------------------------------

    def action_toggle_state(self, state: str) -> None:
        if state == "silenced":
            self.model.hide_silenced = not self.model.hide_silenced
        else:
            self.model.hide_inhibited = not self.model.hide_inhibited
        self.model.invalidate()
        self.board.reload()
        self.update_status()

    def action_cycle_sort(self) -> None:
        modes = list(SORTS)
        current = self.model.sort if self.model.sort in modes else modes[-1]
        self.set_sort(modes[(modes.index(current) + 1) % len(modes)])

    def set_sort(self, mode: str) -> None:
        self.model.sort = mode
        self.model.invalidate()
        self.board.reload()
        self.update_status()
        self.notify(f"sorted by {mode.replace('label:', 'label ')}", timeout=2)

    def action_refresh(self) -> None:
        self.paused = False
        self._wake.set()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._wake.set()
        self.update_status()

    # -- silences -------------------------------------------------------------------------------

    def all_alerts(self) -> list[BoardAlert]:
        return [a for g in self.model.groups for a in g.alerts]

    def action_silence(self) -> None:
        target = self.board.current
        if target is None:
            self.notify("no alert selected", severity="warning")
            return
        self.writer.open_form(self, target, self.all_alerts, on_saved=self.saved)

    def action_ack(self) -> None:
        target = self.board.current
        if target is None:
            self.notify("no alert selected", severity="warning")
            return
        self.writer.ack(self, target, on_saved=self.saved)

    def saved(self, report: object = None) -> None:
        """A silence was written: poll now, so the board shows the alerts silenced."""
        self.action_refresh()

    def on_board_view_opened(self, event: BoardView.Opened) -> None:
        from oncall_tui.ui.screens.detail import AlertDetailScreen

        self.app.push_screen(AlertDetailScreen(event.alert, self.clients, self.model))

    # -- runbook and triage of the alert under the cursor ---------------------------------------

    def _cursor_alert(self) -> BoardAlert | None:
        line = self.board.current
        if line is None:
            return None
        if line.alert is not None:
            return line.alert
        return line.shown[0] if len(line.shown) == 1 else None

    def action_runbook(self) -> None:
        from oncall_tui.ui.screens.runbook import RunbookScreen

        alert = self._cursor_alert()
        if alert is None:
            self.notify("put the cursor on an alert first", severity="warning", timeout=3)
        else:
            self.app.push_screen(RunbookScreen(alert, self.clients))

    def action_triage(self) -> None:
        from oncall_tui.ui.screens.triage import TriageScreen

        alert = self._cursor_alert()
        if alert is None:
            self.notify("put the cursor on an alert first", severity="warning", timeout=3)
        else:
            self.app.push_screen(TriageScreen(alert, self.clients))
