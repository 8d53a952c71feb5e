"""One poll of a context: every Alertmanager cluster, Prometheus's alerts. No Textual here.

A poll reads every Alertmanager cluster (all peers at once) and Prometheus's alerts (for the
pending ones) concurrently. A server that fails does not sink the others: the snapshot says
which failed and why, and the UI keeps the last good data for it, marked stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from oncall_tui.api import ioloop
from oncall_tui.api.alertmanager import AlertmanagerCluster
from oncall_tui.api.prometheus import PrometheusClient
from oncall_tui.domain.completeness import PrometheusRules
from oncall_tui.domain.merge import GroupMerger, MergedGroup
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.early import EarlyGroups, attach
from oncall_tui.state.engines import EngineBook
from oncall_tui.state.wiring import Backend, Clients
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Silence
from oncall_tui.wire.engine import PENDING
from oncall_tui.wire.prometheus import RuleAlert


@dataclass(frozen=True, slots=True)
class ClusterHealth:
    name: str
    peers_up: tuple[str, ...]
    peers_down: tuple[tuple[str, str], ...]  # (url, reason)

    @property
    def usable(self) -> bool:
        return bool(self.peers_up)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one poll saw. `groups` is None for a cluster that did not answer at all."""

    taken_at: float  # time.time()
    groups: dict[str, list[MergedGroup] | None]
    health: tuple[ClusterHealth, ...]
    pending: tuple[RuleAlert, ...] | None  # Prometheus's pending alerts; None when it failed
    # Each cluster's silences (for who acked what); None where they could not be read.
    # Failures that leave some data missing (a whole cluster, Prometheus); a single peer down
    # is in `health` only, since its cluster still answered.
    errors: tuple[str, ...] = field(default=())
    silences: dict[str, tuple[Silence, ...] | None] = field(default_factory=dict)
    prometheus_error: str = ""  # why the context's Prometheus did not answer
    # Labels of every alert Prometheus holds, pending and firing; None when not read.
    prometheus_active: tuple[Mapping[str, str], ...] | None = None
    # Prometheus's alerting rules, read only when asked (held alerts wait for its word).
    rules: PrometheusRules | None = None
    # Why the backend cannot tell its pending alerts ("" when it can): VictoriaMetrics
    # without vmalert answers an empty list that means nothing.
    pending_unknown: str = ""
    # Why the pending alerts are partial ("" when whole): Thanos answered with warnings.
    pending_partial: str = ""
    # The owner values of the query backends that did not answer ("" for the only one).
    backends_down: tuple[str, ...] = ()
    # Each cluster read from one peer only (the start-up's first board: Poller.poll).
    first_look: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


class Poller:
    """Polls one context; keeps per-cluster merge caches so quiet refreshes stay cheap."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self._mergers = {c.name: GroupMerger(c.name) for c in clients.clusters}
        self._down: tuple[str, ...] = ()  # the backends the latest poll could not reach

    @property
    def engines(self) -> EngineBook:
        """The first backend's engine (the one `:query` asks); every backend has its own."""
        backends = self.clients.backends
        return backends[0].engines if backends else _NO_ENGINE

    def adopt(self, other: Poller) -> None:
        """Take over another poller's caches (the start-up prefetch's): the next poll then
        reuses its decoded groups instead of decoding and holding everything twice."""
        for backend, prefetched in zip(self.clients.backends, other.clients.backends, strict=False):
            backend.engines.adopt(prefetched.engines)
        theirs = {c.name: c for c in other.clients.clusters}
        for cluster in self.clients.clusters:
            source = theirs.get(cluster.name)
            if source is None:
                continue
            decoders = {p.url: p.groups_decoder for p in source.peers}
            for peer in cluster.peers:
                peer.groups_decoder = decoders.get(peer.url, peer.groups_decoder)
            self._mergers[cluster.name] = other._mergers[cluster.name]

    async def _silences(self, cluster: AlertmanagerCluster) -> tuple[Silence, ...] | None:
        try:
            return tuple(await cluster.silences())
        except errors.ApiError:
            return None  # the board still works; acks show again on the next good read

    async def _cluster(
        self, cluster: AlertmanagerCluster, first_look: bool = False
    ) -> tuple[list[MergedGroup] | None, ClusterHealth, str | None]:
        try:
            read = await (cluster.first_look() if first_look else cluster.alert_groups())
        except errors.ClusterUnavailable as exc:
            down = tuple((url, err.message) for url, err in exc.errors.items())
            return None, ClusterHealth(cluster.name, (), down), f"{cluster.name}: {exc.message}"
        down = tuple((url, err.message) for url, err in read.errors.items())
        health = ClusterHealth(cluster.name, tuple(read.peers_up), down)
        # Merging the peers' changed groups is pure work on immutable data, done on the
        # I/O thread: at 50,000 alerts with 1% changed, 40-80 ms a poll that kept the
        # event loop, so the keyboard, waiting. A quiet poll's merge is a lookup.
        merged = await ioloop.call(self._mergers[cluster.name].merge, read.results)
        return merged, health, None

    async def _prometheus_alerts(
        self,
    ) -> tuple[tuple[RuleAlert, ...] | None, str | None, tuple[str, ...], bool]:
        """Every backend's alerts (pending ones among them), why a backend failed, the
        warnings, and whether the list is whole. One backend down leaves the others'."""
        backends = self.clients.backends
        self._down = ()
        if not backends:
            return None, None, (), True
        answers = await asyncio.gather(
            *(b.rules.alerts_answer() for b in backends), return_exceptions=True
        )
        found: list[RuleAlert] = []
        warned: list[str] = []
        down: list[str] = []
        for backend, answer in zip(backends, answers, strict=True):
            if isinstance(answer, errors.ApiError):
                self._down += (backend.owner,)
                down.append(
                    answer.message if len(backends) == 1 else f"{backend.name}: {answer.message}"
                )
            elif isinstance(answer, BaseException):
                raise answer
            else:
                found += [_owned(alert, backend) for alert in answer[0]]
                warned += answer[1]
        if len(down) == len(backends):
            return None, "prometheus: " + "; ".join(down), (), False
        error = ("prometheus: " + "; ".join(down)) if down else None
        return tuple(found), error, tuple(warned), not down

    async def _cannot_tell(self) -> str:
        """Why a backend's alerts API says nothing ("" when every backend's word counts),
        each such backend named when there are several."""
        backends = self.clients.backends
        engines = await asyncio.gather(*(b.engines.engine() for b in backends))
        said = []
        for backend, engine in zip(backends, engines, strict=True):
            if engine is None or not engine.rules_placeholder:
                continue
            why = engine.capabilities.get(PENDING)
            text = f"{engine.name} cannot tell pending alerts" + (
                f" ({why.why})" if why and why.why else ""
            )
            said.append(text if len(backends) == 1 else f"{backend.short}: {text}")
        return "; ".join(said)

    async def _rules(self) -> PrometheusRules | None:
        """Every backend's alerting rules and whether each has settled; None while one
        cannot tell or does not answer (the ledger then waits rather than guess)."""
        backends = self.clients.backends
        if not backends or await self._cannot_tell():
            return None
        found = await asyncio.gather(*(_backend_rules(b.rules) for b in backends))
        if any(f is None for f in found):
            return None
        return PrometheusRules(
            names=frozenset(n for f in found if f for n in f.names),
            settled=all(f.settled for f in found if f),
        )

    async def poll(self, *, rules: bool = False, first_look: bool = False) -> Snapshot:
        """Read every server of the context once, concurrently; with `rules`, Prometheus's
        alerting rules too. `first_look`: each cluster from one peer (AlertmanagerCluster.
        first_look), for the start-up's first board."""
        (
            cluster_results,
            (held, prom_error, warned, whole),
            silences,
            found,
            unknown,
        ) = await asyncio.gather(
            asyncio.gather(*(self._cluster(c, first_look) for c in self.clients.clusters)),
            self._prometheus_alerts(),
            asyncio.gather(*(self._silences(c) for c in self.clients.clusters)),
            self._rules() if rules else _nothing(),
            self._cannot_tell(),
        )
        pending = None if held is None else tuple(a for a in held if a.state == "pending")
        if not whole:
            held = None  # a backend is down: the others' pending alerts, but not their word
        if self.clients.prometheus is None:
            pending = ()
        if unknown:
            # An empty success from a placeholder: neither "no pending alerts" nor a list
            # the completeness ledger may take Prometheus's word from. The other backends'
            # pending alerts stay.
            held = None
            if len(self.clients.backends) == 1 and not prom_error:
                pending = ()
        partial = ""
        if warned and held is not None:
            # Some rulers did not answer: what is listed is pending, but an alert missing
            # from the list may still fire there, so the ledger must not take its word.
            partial = "pending alerts partial: " + one_line("; ".join(dict.fromkeys(warned)), 200)
            held = None
        problems = [err for _, _, err in cluster_results if err]
        if prom_error:
            problems.append(prom_error)
        return Snapshot(
            taken_at=time.time(),
            groups={h.name: groups for groups, h, _ in cluster_results},
            health=tuple(h for _, h, _ in cluster_results),
            pending=pending,
            errors=tuple(problems),
            silences={c.name: s for c, s in zip(self.clients.clusters, silences, strict=True)},
            prometheus_error=(prom_error or "").removeprefix("prometheus: "),
            prometheus_active=None if held is None else tuple(a.labels for a in held),
            rules=found,
            pending_unknown=unknown,
            pending_partial=partial,
            backends_down=self._down,
            first_look=first_look,
        )


async def _nothing() -> None:
    return None


_NO_ENGINE = EngineBook(None, None)


def _owned(alert: RuleAlert, backend: Backend) -> RuleAlert:
    """A backend's alert with its owner label: Prometheus adds its external labels (where
    `cluster` usually is) only to what it sends, so a pending alert read from its API lacks
    them, and its detail could not tell which backend to ask."""
    if not backend.owner or backend.label in alert.labels:
        return alert
    return msgspec.structs.replace(alert, labels={**alert.labels, backend.label: backend.owner})


async def _backend_rules(prometheus: PrometheusClient) -> PrometheusRules | None:
    """One backend's alerting rules and whether it has settled: each rule group evaluated
    twice since it started (a restarted Prometheus holds no alert before that)."""
    groups, runtime = await asyncio.gather(
        prometheus.rules("alert"), prometheus.runtime_info(), return_exceptions=True
    )
    if isinstance(groups, BaseException):
        return None
    started: datetime | None = None
    if not isinstance(runtime, BaseException):
        with contextlib.suppress(msgspec.ValidationError):
            started = msgspec.convert(runtime.start_time, datetime)
    if started is None:  # not Prometheus itself (Mimir, Thanos): one evaluation will do
        settled = all(g.last_evaluation and g.last_evaluation.year > 1 for g in groups)
    else:
        settled = all(
            g.last_evaluation is not None
            and (g.last_evaluation - started).total_seconds() >= max(g.interval, 0.001)
            for g in groups
            if g.rules
        )
    return PrometheusRules(
        names=frozenset(r.name for g in groups for r in g.rules), settled=settled
    )


@dataclass(slots=True)
class Prefetched:
    snapshot: Snapshot | None  # None once taken
    poller: Poller  # its caches, for Poller.adopt

    def take(self) -> Snapshot | None:
        """The snapshot, handed over once. The Future carrying this lives as long as the app
        (the CLI and the app keep it): a snapshot left here pinned the first poll's models of
        every group that changed since, up to a second copy of the whole board."""
        snapshot, self.snapshot = self.snapshot, None
        return snapshot


def prefetch(clients: Clients, early: EarlyGroups | None = None) -> Future[Prefetched]:
    """Start the first poll now, in a thread, while the UI is still being imported.

    It uses its own HTTP clients (an httpx client belongs to one event loop) and hands back
    plain data; the server's 0.2-0.5 s of work on a large Alertmanager then overlaps with
    Textual's start-up instead of following it. `early`: the groups requests already sent
    (state/early.py), whose answers this poll takes instead of asking again.
    """
    future: Future[Prefetched] = Future()

    async def once() -> Prefetched:
        poller = Poller(clients.fork())
        attach(poller.clients, early or {})
        try:
            return Prefetched(await poller.poll(first_look=True), poller)
        finally:
            await poller.clients.aclose()

    def run() -> None:
        try:
            future.set_result(asyncio.run(once()))
        except BaseException as exc:  # handed to the UI, which falls back to polling
            future.set_exception(exc)

    threading.Thread(target=run, name="oncall-tui-prefetch", daemon=True).start()
    return future
