"""The alert board screen: status line, groups of alerts, the filter bar.

The data comes from the context's AlertStore (state/alert_store.py), which polls, backs off
and keeps the last good data; this screen draws what it holds and sends the user's intents.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from oncall_tui.config import SilenceDefaults
from oncall_tui.domain.board import SORTS, BoardAlert, BoardModel
from oncall_tui.domain.completeness import Ledger
from oncall_tui.domain.group_search import joined_texts
from oncall_tui.domain.matchers import FilterError, parse_filter
from oncall_tui.domain.pipeline import failing
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.alerts import ClusterHealth
from oncall_tui.state.background import off_loop
from oncall_tui.state.clock import note as clock_note
from oncall_tui.state.context import ContextState
from oncall_tui.state.polling import Backoff
from oncall_tui.ui.idle_gc import IdleCollector
from oncall_tui.ui.messages import StoreChanged, follow
from oncall_tui.ui.silence_actions import SilenceActions
from oncall_tui.ui.widgets.banner import IncompleteBanner
from oncall_tui.ui.widgets.board import BoardView, column_titles
from oncall_tui.ui.widgets.field import Field
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.slo_strip import SLOStrip
from oncall_tui.ui.widgets.status import StatusBar, status_text

# While paging keeps failing, the toast comes back this often over another view (the board's
# status line says it all the time).
PAGING_REMIND = 60.0


class AlertsScreen(Screen[None]):
    BINDINGS = [
        # The footer shows the keys of a 3 a.m. flow; the rest are in `?` (80 columns fit).
        # priority, and focus set at once: what is typed right after / reaches the filter.
        Binding("slash", "filter", "Filter", priority=True, id="alerts.filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="alerts.clear_filter"),
        Binding("s", "silence", "Silence", id="alerts.silence"),
        Binding("a", "ack", "Ack", id="alerts.ack"),
        Binding("A", "ack_note", "Ack with note", show=False, id="alerts.ack_note"),
        Binding("r", "runbook", "Runbook", id="alerts.runbook"),
        Binding("t", "triage", "Triage", id="alerts.triage"),
        Binding("w", "where", "Where it goes", show=False, id="alerts.where"),
        Binding("i", "incident", "Declare incident", show=False, id="alerts.incident"),
        Binding(
            "S", "toggle_state('silenced')", "Silenced", show=False, id="alerts.toggle_silenced"
        ),
        Binding(
            "I", "toggle_state('inhibited')", "Inhibited", show=False, id="alerts.toggle_inhibited"
        ),
        Binding("M", "toggle_state('muted')", "Muted", show=False, id="alerts.toggle_muted"),
        Binding("o", "cycle_sort", "Sort", show=False, id="alerts.sort"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="alerts.refresh"),
        Binding("p", "pause", "Pause", show=False, id="alerts.pause"),
    ]

    def __init__(
        self,
        state: ContextState,
        *,
        bell_on_critical: bool = False,
        writer: SilenceActions | None = None,
    ) -> None:
        super().__init__()
        self.state = state
        self.store = state.alerts
        self.clients = state.clients
        self.writer = writer or SilenceActions(state.clients, SilenceDefaults(), None)
        self.model = BoardModel(owner_label=state.clients.owner_label)
        self.bell_on_critical = bell_on_critical
        self.filter_error = ""
        self._unsubscribe: Callable[[], None] | None = None
        self._unfollow_health: Callable[[], None] | None = None
        self._paging_said = ""
        self._paging_failing: frozenset[tuple[str, str]] = frozenset()
        self._paging_toasted = -PAGING_REMIND
        self._settled = False

    # What the store holds, read by the status line and the tests.
    @property
    def ledger(self) -> Ledger:
        return self.store.ledger

    @property
    def health(self) -> tuple[ClusterHealth, ...]:
        return self.store.health

    @property
    def last_good(self) -> float | None:
        return self.store.last_good

    @property
    def last_error(self) -> str:
        return self.store.last_error

    @property
    def paused(self) -> bool:
        return self.store.paused

    @property
    def polls(self) -> int:
        return self.store.polls

    @property
    def backoff(self) -> Backoff:
        return self.store.loop.backoff

    def compose(self) -> ComposeResult:
        yield IncompleteBanner(id="incomplete")
        yield StatusBar(id="status")
        yield SLOStrip(self.state.slo, id="slo-strip")
        yield Static(id="titles")
        yield BoardView(self.model, id="board")
        yield Static(id="filter-help")
        yield Field(
            placeholder='filter: alertname=~"High.*" severity!=info team=ml or words',
            id="filter",
            select_on_focus=False,  # one backspace must not wipe the filter being refined
        )
        yield KeysFooter()

    @property
    def board(self) -> BoardView:
        return self.query_one(BoardView)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#filter-help", Static).display = False
        self.board.focus()
        self.update_status()
        self.set_interval(1.0, self._tick)
        self._unsubscribe = follow(self, self.store, self.store.subscribe)
        self.state.ack_keeper.start()  # acks until resolved are kept while the board polls
        health = self.state.health
        self._unfollow_health = follow(self, health, health.subscribe)
        if self.store.snapshot is not None:  # a context switched back to, or a remount
            self.post_message(StoreChanged(self.store))

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._unfollow_health is not None:
            self._unfollow_health()
        collector = _idle_collector(self.app)
        if self._settled and collector is not None:
            # This screen's widgets and board were frozen with the rest, and widgets hold
            # cycles (parent and children): back under the collector, or a context switch
            # would keep the old board for ever.
            collector.unsettle()

    def on_resize(self) -> None:
        self.query_one("#titles", Static).update(column_titles(self.size.width))

    # -- drawing what the store holds ----------------------------------------------------------

    @on(StoreChanged)
    def _store_changed(self, event: StoreChanged) -> None:
        event.stop()
        if event.store is self.state.health:
            self._paging_changed()
            return
        model, store = self.model, self.store
        if not (
            model.groups is store.board_groups  # a quiet poll keeps the very same board
            and model.acks is store.acks
            and model.ack_rules is store.ack_rules
            and not model.new_keys  # else this poll unmarks them
        ):
            model.acks = store.acks
            model.ack_rules = store.ack_rules
            model.set_groups(store.board_groups)
        self.board.reload()  # the same lines then: only the ages move on
        self.update_status()
        if store.snapshot is not None and not store.shown_once:
            self.board.call_after_refresh(store.shown)  # once its first board is on screen
        # What is alive once every peer has been read (the modules, the board's models)
        # stays for the session: the collector's full passes stop walking it (50-60 ms each
        # with 10,000 alerts). Not the first look's board, which the second peers' poll
        # replaces at once; and at the next quiet second, after a full pass, so no cycle is
        # kept for ever (ui/idle_gc.py).
        collector = _idle_collector(self.app)
        full = store.snapshot is not None and not store.snapshot.first_look
        if not self._settled and self.model.groups and collector is not None and full:
            self._settled = True
            collector.settle()
        if self.bell_on_critical and self._new_critical():
            self.app.bell()

    def _paging_changed(self) -> None:
        """The pipeline's verdict: on this status line, and as a toast over any view."""
        health = self.state.health
        said, now_failing = health.headline, failing(health.verdicts)
        # Not on every poll: the headline's counts change each time, and a toast per poll
        # stacked three deep over the board. When something starts failing, and as a reminder
        # over the other views.
        news = now_failing - self._paging_failing
        remind = (
            self.app.screen is not self and time.monotonic() - self._paging_toasted >= PAGING_REMIND
        )
        if said and (news or remind):
            self.notify(said, title="paging", severity="error", timeout=15)
            self._paging_toasted = time.monotonic()
        self._paging_failing = now_failing
        self._paging_said = said
        self.update_status()

    def _new_critical(self) -> bool:
        new = self.model.new_keys
        if not new:  # most polls: no walk of every alert (50,000 at scale)
            return False
        return any(
            a.key in new and a.severity == "critical" and a.state == "active"
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
                backends=self.store.backends(),
                owner_label=self.clients.owner_label,
                pace=self.backoff.pace,
                warnings=[
                    *([self._paging_said] if self._paging_said else []),
                    *self.clients.warnings,
                    *([skew] if (skew := clock_note(self.clients)) else []),
                    *([self.store.pending_unknown] if self.store.pending_unknown else []),
                    *([self.store.pending_partial] if self.store.pending_partial else []),
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
                        ("muted", self.model.hide_muted),
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
                toggles = (
                    " and the S/I/M toggles"
                    if model.hide_silenced or model.hide_inhibited or model.hide_muted
                    else ""
                )
                return Text(
                    f"no alerts match `{one_line(flt, 80)}` ({hidden} hidden by the filter"
                    f"{toggles}; esc clears it)"
                )
            return Text(f"no alerts to show: {hidden} hidden by the S/I/M toggles")
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
        if self.store.pending_unknown:
            return Text(
                f"no alerts firing (checked {stamp}); pending alerts: cannot tell "
                f"({one_line(self.store.pending_unknown, 200)})"
            )
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
        self.run_worker(self._prepare_search(), group="search", exclusive=True)

    async def _prepare_search(self) -> None:
        """The texts a filter of words looks in, made off the event loop while the first
        words are typed: at 50,000 alerts the first key that needed them waited 180 ms."""
        todo = self.model.unsearched()
        if todo:
            self.model.searched(todo, await off_loop(joined_texts, todo))

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            self.model.filter = parse_filter(event.value, self.state.matcher_grammar)
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
        # One line high whatever it says (app.tcss): no layout of the screen each key.
        if self.filter_error:
            help_line.update(Text(self.filter_error, style="bold"), layout=False)
            help_line.set_class(True, "error")
        else:
            counts = f"{self.model.matched} of {self.model.total} alerts match"
            help_line.update(Text(f"{counts} · enter: keep · esc: clear"), layout=False)
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
        elif state == "muted":
            self.model.hide_muted = not self.model.hide_muted
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
        self.store.refresh()

    def action_pause(self) -> None:
        self.store.pause(not self.store.paused)
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

    def action_ack_note(self) -> None:
        target = self.board.current
        if target is None:
            self.notify("no alert selected", severity="warning")
            return
        self.writer.ack_with_note(self, target, on_saved=self.saved)

    def saved(self, report: object = None) -> None:
        """A silence was written: poll now, so the board shows the alerts silenced."""
        self.action_refresh()

    def on_board_view_opened(self, event: BoardView.Opened) -> None:
        from oncall_tui.ui.screens.detail import AlertDetailScreen

        self.app.push_screen(AlertDetailScreen(event.alert, self.state, self.model))

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
            self.app.push_screen(RunbookScreen(alert, self.state))

    def action_incident(self) -> None:
        from oncall_tui.ui.screens.incidents import alerts_of, declare_from

        declare_from(self, self.state, alerts_of(self.board.current), self.writer.user)

    def action_where(self) -> None:
        from oncall_tui.ui.screens.where import WhereScreen

        alert = self._cursor_alert()
        if alert is None:
            self.notify("put the cursor on an alert first", severity="warning", timeout=3)
        else:
            self.app.push_screen(WhereScreen(alert, self.state))

    def action_triage(self) -> None:
        from oncall_tui.ui.screens.triage import TriageScreen

        alert = self._cursor_alert()
        if alert is None:
            self.notify("put the cursor on an alert first", severity="warning", timeout=3)
        else:
            self.app.push_screen(TriageScreen(alert, self.state))


def _idle_collector(app: object) -> IdleCollector | None:
    found = getattr(app, "idle_gc", None)
    return found if isinstance(found, IdleCollector) else None
