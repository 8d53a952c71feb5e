"""Every store of one context, built once: what the App hands its screens.

At most one poll of each kind of data runs per context whatever views are open: the board,
`:silences` and the silence form read `alerts`; the strip, `:slo` and the detail read `slo`.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from datetime import timedelta

from oncall_tui.domain.board import BoardGroup
from oncall_tui.domain.completeness import DEFAULT_WINDOW
from oncall_tui.domain.matcher_grammar import Grammar
from oncall_tui.state.ack_keeper import AckKeeper
from oncall_tui.state.alert_store import AlertStore
from oncall_tui.state.alerts import Prefetched
from oncall_tui.state.background import off_loop
from oncall_tui.state.health import HealthStore
from oncall_tui.state.incidents import IncidentBook
from oncall_tui.state.lookups import Lookups
from oncall_tui.state.routing import RoutingBook
from oncall_tui.state.runbooks import RunbookStore
from oncall_tui.state.slo import SLOStore
from oncall_tui.state.versions import grammar_of
from oncall_tui.state.wiring import Clients


class ContextState:
    def __init__(
        self,
        clients: Clients,
        *,
        first: Future[Prefetched] | None = None,
        recently_resolved: float = DEFAULT_WINDOW,
        allow_insecure_keyring: bool = False,
        ack_lease: timedelta = timedelta(minutes=15),
    ) -> None:
        self.clients = clients
        self.context = clients.context
        self.alerts = AlertStore(clients, first=first, recently_resolved=recently_resolved)
        self.engines = self.alerts.poller.engines
        self.slo = SLOStore(clients)
        # The board polls every few seconds and sees Prometheus fail or return first.
        self.alerts.prometheus_watchers.append(self.slo.prometheus_state)
        self.lookups = Lookups(clients)
        self.routing = RoutingBook(clients, self.alerts)
        self.health = HealthStore(clients, self.alerts)
        self.runbooks = RunbookStore(clients.context, allow_insecure_keyring=allow_insecure_keyring)
        # Fed by the board's poll (fired, resolved) and by the places that act (acks...).
        self.incidents = IncidentBook(context=clients.context.name)
        self._waited = False  # the first board's events were put off (`_follow_board`)
        self._following: set[asyncio.Task[None]] = set()
        self.alerts.subscribers.add(self._follow_board)
        self.alerts.on_shown.add(self._follow_board)
        # Acks until resolved: kept while the board polls (the board's screen starts it).
        self.ack_keeper = AckKeeper(clients, self.alerts, ack_lease)

    def _follow_board(self) -> None:
        """The incident book follows the board's polls from its first board on screen: at
        start-up every firing alert is news to it (10,000 events made, the last 5,000 kept),
        and that waited for the alerts to be drawn. Never more than one poll late: with no
        view to say the board is shown, the second poll's board is followed."""
        if self.alerts.shown_once or self._waited:
            # Read off the event loop; the tasks resume here in the order the polls came.
            task = asyncio.get_running_loop().create_task(
                self._incidents_follow(self.alerts.board_groups)
            )
            self._following.add(task)
            task.add_done_callback(self._following.discard)
        else:
            self._waited = True

    async def _incidents_follow(self, groups: list[BoardGroup]) -> None:
        book = self.incidents
        prepared = await off_loop(lambda: book.prepare(book.changes(groups)))
        book.commit(prepared)

    @property
    def matcher_grammar(self) -> Grammar:
        """How every Alertmanager of the context reads matcher text (grammar_of)."""
        return grammar_of(self.clients)

    async def aclose(self) -> None:
        await asyncio.gather(
            self.ack_keeper.aclose(), self.alerts.aclose(), self.slo.aclose(), self.health.aclose()
        )
        await self.clients.aclose()
