"""Writing silences to every cluster of a context, safely. No Textual here.

A silence is created once per cluster and read back before it counts as done. Before each
write the cluster's silences are searched for an identical request (same matchers, author
and comment, not expired): a retry after a timeout, when the first attempt may have landed,
finds it instead of creating a second one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from oncall_tui.api.alertmanager import UNEXPIRED as UNEXPIRED  # for the views
from oncall_tui.api.alertmanager import AlertmanagerCluster
from oncall_tui.domain.board import BoardAlert, board_alert
from oncall_tui.domain.clock_skew import server_now as shifted
from oncall_tui.domain.matchers import LabelMatcher
from oncall_tui.domain.merge import merge_alerts
from oncall_tui.domain.script_output import MergedSilence, merge_silences
from oncall_tui.domain.silence_plan import Draft, extended_end, find_same
from oncall_tui.domain.timespec import describe_moment
from oncall_tui.state.background import off_loop
from oncall_tui.state.clock import alertmanager_offset
from oncall_tui.state.wiring import Clients
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Alert, PostableSilence, Silence


@dataclass(slots=True)
class Outcome:
    """What one cluster did with one request: the stored silence, or the server's words.

    `what` names the request (its matchers, or the silence ID it acted on), so a bulk or
    maintenance write says which silence was written and which was refused.
    """

    cluster: str
    silence: Silence | None = None
    error: str = ""
    reused: bool = False  # an identical silence was already there
    what: str = ""

    @property
    def ok(self) -> bool:
        return self.silence is not None


@dataclass(slots=True)
class WriteReport:
    outcomes: list[Outcome] = field(default_factory=list)
    # The servers' clock minus ours: "ends in 2h" is said by the server's clock.
    offset_s: float | None = None

    @property
    def ok(self) -> bool:
        return bool(self.outcomes) and all(o.ok for o in self.outcomes)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def written(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok]

    def lines(self) -> list[str]:
        """One line per silence: what was written, or NOT written and the server's words."""
        out = []
        now = shifted(datetime.now(UTC), self.offset_s)
        for o in self.outcomes:
            where = f"{o.cluster} {o.what}" if o.what else o.cluster
            if o.silence is not None:
                what = "already there" if o.reused else o.silence.state
                until = describe_moment(o.silence.ends_at, now)
                out.append(f"{where}: {what} {o.silence.id[:8]}, ends {until}")
            else:
                out.append(f"{where}: NOT written: {o.error}")
        return out

    def summary(self) -> str:
        return "; ".join(self.lines())


def _words(exc: errors.ApiError) -> str:
    return exc.message


def _request_words(wanted: PostableSilence) -> str:
    return "{" + ", ".join(str(LabelMatcher.from_api(m)) for m in wanted.matchers) + "}"


async def _write_one(cluster: AlertmanagerCluster, wanted: PostableSilence) -> Outcome:
    what = _request_words(wanted)
    try:
        # An edit that Alertmanager answered with a new ID, then timed out on the way back,
        # left that new silence behind: it is found here too (the original is not counted).
        # Unfiltered: a matcher Alertmanager's filter cannot parse ("bad matcher format")
        # must still reach the write, which says what is wrong with it.
        # Only unexpired ones can be the same request (0.34+ is asked for just those).
        held = await cluster.silences(states=UNEXPIRED)
        others = [s for s in held if s.id != wanted.id]
        existing = find_same(others, wanted)
        if existing is not None:
            return Outcome(cluster.name, existing, reused=True, what=what)
        return Outcome(cluster.name, await cluster.write_silence(wanted, looked=True), what=what)
    except errors.ApiError as exc:
        return Outcome(cluster.name, error=_words(exc), what=what)


async def write(
    clients: Clients, drafts: Sequence[Draft], *, clusters: Iterable[str] | None = None
) -> WriteReport:
    """Create (or, for a draft that `replaces` an ID, update) each draft on each cluster.

    Clusters are written concurrently, the drafts of one cluster in order.
    """
    names = set(clusters) if clusters is not None else None
    chosen = [c for c in clients.clusters if names is None or c.name in names]

    async def per_cluster(cluster: AlertmanagerCluster) -> list[Outcome]:
        # An ack's facts go to annotations where every peer keeps them (0.32+), else into
        # the comment; asking the versions also lets the client send kept annotations.
        annotated = await cluster.annotations_supported()
        # Times typed relative to now follow this cluster's own clock, not the others'.
        offset = alertmanager_offset(clients, [cluster.name])
        return [
            await _write_one(cluster, d.on_clock(offset).postable(annotated=annotated))
            for d in drafts
        ]

    results = await asyncio.gather(*(per_cluster(c) for c in chosen))
    offset = alertmanager_offset(clients, [c.name for c in chosen])
    return WriteReport([o for outcomes in results for o in outcomes], offset)


def cluster_of(clients: Clients, name: str) -> AlertmanagerCluster:
    for cluster in clients.clusters:
        if cluster.name == name:
            return cluster
    raise KeyError(name)


async def expire(clients: Clients, targets: Sequence[tuple[str, str]]) -> WriteReport:
    """Expire (cluster, silence ID) pairs; an already expired one counts as done."""

    async def one(cluster_name: str, silence_id: str) -> Outcome:
        cluster = cluster_of(clients, cluster_name)
        what = silence_id[:8]
        try:
            current = await cluster.silence(silence_id)
            if current.state == "expired":
                return Outcome(cluster_name, current, reused=True, what=what)
            return Outcome(cluster_name, await cluster.expire_silence(silence_id), what=what)
        except errors.ApiError as exc:
            return Outcome(cluster_name, error=_words(exc), what=what)

    done = list(await asyncio.gather(*(one(c, i) for c, i in targets)))
    return WriteReport(done, alertmanager_offset(clients, {c for c, _ in targets}))


async def extend(
    clients: Clients, targets: Sequence[tuple[str, str]], delta: timedelta
) -> WriteReport:
    """Push each silence's end to max(now, end) + delta. Alertmanager may answer with a new
    ID (it does for an expired silence); the outcome holds the silence it kept."""

    async def one(cluster_name: str, silence_id: str) -> Outcome:
        cluster = cluster_of(clients, cluster_name)
        what = silence_id[:8]
        try:
            current = await cluster.silence(silence_id)
            # By the server's clock: ours may be minutes off (state/clock.py).
            now = shifted(datetime.now(UTC), alertmanager_offset(clients, [cluster_name]))
            expired = current.state == "expired"
            wanted = PostableSilence(
                matchers=current.matchers,
                starts_at=now if expired else current.starts_at,
                ends_at=extended_end(current.ends_at, delta, now),
                created_by=current.created_by,
                comment=current.comment,
                id=current.id,
                # 0.32+: an update replaces the silence whole; its annotations (an ack's
                # note and ticket) must go back with it.
                annotations=dict(current.annotations) or None,
            )
            return Outcome(cluster_name, await cluster.write_silence(wanted), what=what)
        except errors.ApiError as exc:
            return Outcome(cluster_name, error=_words(exc), what=what)

    done = list(await asyncio.gather(*(one(c, i) for c, i in targets)))
    return WriteReport(done, alertmanager_offset(clients, {c for c, _ in targets}))


async def renew(clients: Clients, cluster_name: str, current: Silence, ends: datetime) -> Outcome:
    """Move an active silence's end to `ends`, in place: same matchers and start, so
    Alertmanager keeps its ID; its comment and annotations go back unchanged."""
    cluster = cluster_of(clients, cluster_name)
    wanted = PostableSilence(
        matchers=current.matchers,
        starts_at=current.starts_at,
        ends_at=ends,
        created_by=current.created_by,
        comment=current.comment,
        id=current.id,
        annotations=dict(current.annotations) or None,
    )
    try:
        return Outcome(cluster_name, await cluster.write_silence(wanted), what=current.id[:8])
    except errors.ApiError as exc:
        return Outcome(cluster_name, error=_words(exc), what=current.id[:8])


@dataclass(slots=True)
class SilenceRead:
    """Silences and current alerts of every cluster, with the clusters that did not answer."""

    silences: list[tuple[str, Silence]] = field(default_factory=list)
    alerts: list[BoardAlert] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def read_all(
    clients: Clients, *, with_alerts: bool = True, states: Collection[str] | None = None
) -> SilenceRead:
    """Every cluster's silences (only those in `states` when given) and current alerts."""

    async def one(cluster: AlertmanagerCluster) -> SilenceRead:
        out = SilenceRead()
        try:
            silences, alerts = await asyncio.gather(
                cluster.silences(states=states), cluster.alerts() if with_alerts else _none()
            )
        except errors.ApiError as exc:
            out.errors.append(f"{cluster.name}: {exc.message}")
            return out
        out.silences = [(cluster.name, s) for s in silences]
        if alerts is not None:
            merged = merge_alerts(cluster.name, alerts.results)
            out.alerts = [board_alert(m) for m in merged]
        return out

    parts = await asyncio.gather(*(one(c) for c in clients.clusters))
    total = SilenceRead()
    for part in parts:
        total.silences += part.silences
        total.alerts += part.alerts
        total.errors += part.errors
    return total


async def _none() -> None:
    return None


async def preview_alerts(
    clients: Clients, filters: Sequence[str], *, clusters: Iterable[str] | None = None
) -> tuple[list[BoardAlert], list[str]]:
    """The alerts the servers hold that match `filters` (Alertmanager's own matching), from
    every peer of every cluster; clusters that did not answer are named in the second list."""

    async def one(cluster: AlertmanagerCluster) -> tuple[list[BoardAlert], str | None]:
        try:
            read = await cluster.alerts(filters)
        except errors.ApiError as exc:
            return [], f"{cluster.name}: {exc.message}"
        return await off_loop(_board_alerts, cluster.name, read.results), None

    names = set(clusters) if clusters is not None else None
    chosen = [c for c in clients.clusters if names is None or c.name in names]
    parts = await asyncio.gather(*(one(c) for c in chosen))
    alerts = [a for found, _ in parts for a in found]
    return alerts, [err for _, err in parts if err]


def _board_alerts(cluster: str, per_peer: Mapping[str, Sequence[Alert]]) -> list[BoardAlert]:
    return [board_alert(m) for m in merge_alerts(cluster, per_peer)]


async def every_peers_silences(
    cluster: AlertmanagerCluster,
    filters: Sequence[str] = (),
    states: Collection[str] | None = None,
) -> tuple[list[MergedSilence], list[str]]:
    """The silences every peer of `cluster` holds, merged (a silence not yet gossiped to a
    peer still counts), with a line for each peer that did not answer."""
    answers = await asyncio.gather(
        *(peer.silences(filters, states=states) for peer in cluster.peers),
        return_exceptions=True,
    )
    per_peer: dict[str, list[Silence]] = {}
    problems: list[str] = []
    for peer, answer in zip(cluster.peers, answers, strict=True):
        if isinstance(answer, errors.ApiError):
            problems.append(f"{cluster.name}: {peer.url}: {answer.message}")
        elif isinstance(answer, BaseException):
            raise answer
        else:
            per_peer[peer.url] = answer
    return merge_silences(cluster.name, per_peer), problems
