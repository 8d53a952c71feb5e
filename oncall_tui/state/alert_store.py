"""The alerts and silences of one context: one poll, however many views read them.

The board, `:silences` and the silence form read this store; it owns the poll loop, the
backoff, the last good data of each cluster, who acked what, and the completeness ledger
that holds alerts lost while a source fails. No Textual here: views subscribe and are
called back after every poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future

from oncall_tui.api import ioloop
from oncall_tui.api.http import load_clients_soon
from oncall_tui.domain.acks import Ack, read_ack
from oncall_tui.domain.board import BoardGroup, GroupBuilder
from oncall_tui.domain.completeness import DEFAULT_WINDOW, ClusterPoll, Ledger, Poll
from oncall_tui.domain.matchers import FilterError, LabelMatcher
from oncall_tui.domain.merge import MergedGroup
from oncall_tui.state.alerts import ClusterHealth, Poller, Prefetched, Snapshot
from oncall_tui.state.engines import BackendState
from oncall_tui.state.polling import PollLoop, Subscribers
from oncall_tui.state.wiring import Clients
from oncall_tui.wire.alertmanager import Silence
from oncall_tui.wire.engine import Engine
from oncall_tui.wire.prometheus import RuleAlert

AckRule = tuple[Ack, tuple[Callable[[Mapping[str, str]], bool], ...]]


class AlertStore:
    def __init__(
        self,
        clients: Clients,
        *,
        first: Future[Prefetched] | None = None,
        recently_resolved: float = DEFAULT_WINDOW,
    ) -> None:
        self.clients = clients
        self.first = first
        self.poller = Poller(clients)
        self.builder = GroupBuilder()
        # Tells alerts that resolved from alerts lost while a source failed (held, marked ?).
        self.ledger = Ledger(window=recently_resolved)
        self.groups: dict[str, list[MergedGroup] | None] = {}
        self.pending: tuple[RuleAlert, ...] = ()
        self.health: tuple[ClusterHealth, ...] = ()
        self.silences: dict[str, tuple[Silence, ...] | None] = {}
        self.board_groups: list[BoardGroup] = []
        self.acks: dict[str, Ack] = {}
        self.ack_rules: tuple[AckRule, ...] = ()
        self.last_good: float | None = None
        self.last_error = ""
        self.prometheus_error = ""
        self.pending_unknown = ""  # why pending alerts cannot be told here
        self.pending_partial = ""  # why the pending alerts are partial (Thanos's warnings)
        self.snapshot: Snapshot | None = None
        self.rebuilds = 0  # polls that built the board anew (a quiet poll keeps it)
        self.loop = PollLoop(
            self._poll_once, clients.context.refresh, on_crash=self._crashed, name="alerts"
        )
        self.subscribers = Subscribers()
        self._shown = asyncio.Event()  # set once the first poll's board is on screen
        self.on_shown = Subscribers()  # told then, once
        # Who hears what the board's poll saw of Prometheus (the SLO store).
        self.prometheus_watchers: list[Callable[[str], None]] = []

    # -- the loop ----------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call `callback` after every poll; the loop starts with the first subscriber."""
        remove = self.subscribers.add(callback)
        self.loop.start()
        return remove

    @property
    def engine(self) -> Engine | None:
        """The first query backend's engine once probed (the first poll probes it)."""
        return self.poller.engines.known

    def backends(self) -> list[BackendState]:
        """Every query backend: its engine once probed, and whether the last poll reached it."""
        down = self.snapshot.backends_down if self.snapshot is not None else ()
        found = []
        for backend in self.clients.backends:
            engine = backend.engines.known
            found.append(
                BackendState(
                    owner=backend.owner,
                    engine=engine.name if engine is not None else "",
                    limited=engine is not None and bool(engine.missing()),
                    down=backend.owner in down,
                )
            )
        return found

    @property
    def polls(self) -> int:
        return self.loop.polls

    @property
    def paused(self) -> bool:
        return self.loop.paused

    def refresh(self) -> None:
        self.loop.wake()

    def pause(self, paused: bool) -> None:
        self.loop.pause(paused)
        self.subscribers.publish()

    @property
    def shown_once(self) -> bool:
        return self._shown.is_set()

    def shown(self) -> None:
        """The view says the first poll's board is on screen: what waited for it may go."""
        if not self._shown.is_set():
            self._shown.set()
            load_clients_soon()  # the next poll's client, loaded off the event loop
            if self.snapshot is not None and self.snapshot.first_look:
                self.refresh()  # every peer now, not a refresh later
            self.on_shown.publish()

    async def first_shown(self, timeout: float) -> None:
        """Return once the first board is on screen, or after `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._shown.wait()

    async def refreshed(self) -> None:
        """Poll now and return once that poll has been applied (after a silence write)."""
        await self.loop.poll_now()

    async def aclose(self) -> None:
        await self.loop.stop()

    def _crashed(self, exc: BaseException) -> None:
        self.last_error = f"internal error: {type(exc).__name__}: {exc}"
        self.subscribers.publish()

    async def _poll_once(self) -> bool:
        snapshot = await self._first_or_poll()
        # The groups that changed are built on the I/O thread (pure work on immutable
        # data): 1% of 50,000 alerts changed is 9,000 alerts of changed groups to build,
        # 60-100 ms that were the event loop's, a slice at a time between keys.
        todo = [g for groups in snapshot.groups.values() for g in groups or ()]
        await ioloop.call(self.builder.prepare, todo)
        self.apply(snapshot)
        return not snapshot.ok

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

    # -- what a poll changes -----------------------------------------------------------------

    def apply(self, snapshot: Snapshot) -> None:
        """Keep each cluster's last good groups; replace only what answered."""
        last, self.snapshot = self.snapshot, snapshot
        same_board = self._same_board(last, snapshot)
        for name, groups in snapshot.groups.items():
            if groups is not None or name not in self.groups:
                self.groups[name] = groups
        if snapshot.pending is not None:
            self.pending = snapshot.pending
        self.pending_unknown = snapshot.pending_unknown
        self.pending_partial = snapshot.pending_partial
        self.health = snapshot.health
        for name, found in snapshot.silences.items():
            if found is not None or name not in self.silences:
                self.silences[name] = found
        if last is None or last.silences != snapshot.silences:
            self._take_acks(snapshot)  # else the same acks, the very objects the board has
        if not same_board:
            merged = [g for groups in self.groups.values() for g in groups or ()]
            built = self.builder.build(merged, self.pending)
            self.ledger.observe(self._ledger_poll(snapshot, built))
            self.board_groups = self.ledger.decorate(built)
            self.rebuilds += 1
        if snapshot.ok:
            # A snapshot the ledger does not trust (peers shutting down, Prometheus just
            # back) is shown with what it lost held and marked, but is not "last good".
            if not any(self.ledger.distrust.values()):
                self.last_good = snapshot.taken_at
            self.last_error = ""
        else:
            self.last_error = "; ".join(snapshot.errors)
        self.prometheus_error = snapshot.prometheus_error
        if self.clients.prometheus is not None:
            for watcher in self.prometheus_watchers:
                watcher(snapshot.prometheus_error)
        self.subscribers.publish()

    def _same_board(self, last: Snapshot | None, now: Snapshot) -> bool:
        """Whether `now` would build the very board `last` built: every cluster answered with
        the same merged groups (the decoders and mergers hand back the same objects for
        unchanged JSON), Prometheus said the same, and the ledger holds nothing whose state
        moves on with time or polls (held, resolved, a source down or distrusted). The board
        then stays the same list, and the views that see it is the same skip their work."""
        if last is None or not self.board_groups:
            return False
        ledger = self.ledger
        if (
            ledger.held
            or ledger.resolved
            or ledger.clusters_down
            or ledger.prometheus_down_since is not None
            or any(ledger.distrust.values())
        ):
            return False
        if set(now.groups) != set(last.groups):
            return False
        for name, groups in now.groups.items():
            before = last.groups[name]
            if groups is None or before is None or len(groups) != len(before):
                return False
            if any(a is not b for a, b in zip(groups, before, strict=True)):
                return False
        return (
            now.pending == last.pending
            and now.health == last.health
            and now.errors == last.errors
            and now.prometheus_error == last.prometheus_error
            and now.prometheus_active == last.prometheus_active
            and now.rules == last.rules
            and now.pending_unknown == last.pending_unknown
            and now.pending_partial == last.pending_partial
            and now.backends_down == last.backends_down
        )

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
        acks = dict(self.acks)
        rules: list[AckRule] = []
        for silences in snapshot.silences.values():
            if silences is None:
                continue  # keep what was known about that cluster's acks
            for silence in silences:
                ack = read_ack(silence) if silence.state == "active" else None
                if ack is None:
                    acks.pop(silence.id, None)
                    continue
                acks[silence.id] = ack
                with contextlib.suppress(FilterError):
                    tests = tuple(LabelMatcher.from_api(m).matches for m in silence.matchers)
                    rules.append((ack, tests))
        self.acks = acks
        self.ack_rules = tuple(rules)

    def peers_of(self, cluster: str, fingerprint: str) -> tuple[str, ...]:
        """The peers of `cluster` that list the alert, as last merged; () when none does (a
        pending alert, or one the ledger holds after it left)."""
        for group in self.groups.get(cluster) or ():
            for merged in group.alerts:
                if merged.alert.fingerprint == fingerprint:
                    return merged.peers
        return ()

    def stale_for(self, now: float | None = None) -> float | None:
        """Seconds since the last good poll while the latest failed; None when fresh."""
        if not self.last_error or self.last_good is None:
            return None
        return (now or time.time()) - self.last_good
