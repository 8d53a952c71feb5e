"""Fetch every SLO's figures from Prometheus: one query per figure, all sent at once.

The SLOs are the context's (config) and those found in Prometheus's recording rules (Sloth,
Pyrra). Each figure is computed by the server (an error ratio over a window, the time the
data begins) and the budget math is done in ``domain/slo.py``. A query that fails leaves its
figure as "no data" and says why; a Prometheus that is down fails the whole snapshot, and the
UI keeps the last good one, marked stale. No Textual here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TypeVar

from oncall_tui.api.prometheus import PrometheusClient
from oncall_tui.config import Context
from oncall_tui.domain.slo import (
    SLOReport,
    SLOSpec,
    parse_duration,
    remaining_series,
    sort_reports,
)
from oncall_tui.domain.slo_queries import (
    chart_step,
    coverage_expr,
    coverage_steps,
    discover,
    merge_specs,
)
from oncall_tui.state.engines import EngineBook
from oncall_tui.state.polling import PollLoop, Subscribers
from oncall_tui.state.wiring import Backend, Clients
from oncall_tui.wire import errors
from oncall_tui.wire.prometheus import QueryResult, RuleGroup

T = TypeVar("T")
SLO_REFRESH = 30.0
# Queries in flight at once per poll: enough to finish quickly, few enough to be polite.
CONCURRENCY = 8


def specs_from_config(context: Context) -> list[SLOSpec]:
    """The context's SLOs; with several backends each names the one holding its series
    (its `backend:` key, else its value of the owner label)."""
    label = context.owner_label if context.backends else ""
    specs = []
    for slo in context.slos:
        labels = slo.labels or ({"service": slo.service} if slo.service else {})
        spec = SLOSpec(
            name=slo.name,
            service=slo.service,
            window_s=parse_duration(slo.window),
            objective=slo.objective / 100.0,
            errors=slo.errors,
            total=slo.total,
            ratio=slo.ratio,
            labels=labels,
            description=slo.description,
        )
        owner = (slo.backend or slo.labels.get(label, "")) if label else ""
        specs.append(in_backend(spec, label, owner) if owner else spec)
    return specs


def in_backend(spec: SLOSpec, label: str, owner: str) -> SLOSpec:
    """The SLO as held by one backend: named by it, and linked to its alerts only."""
    labels = {**spec.labels, label: owner} if spec.labels else {}
    return replace(spec, backend=owner, backend_label=label, labels=MappingProxyType(labels))


@dataclass(frozen=True, slots=True)
class SLOSnapshot:
    taken_at: float
    reports: tuple[SLOReport, ...] = ()
    # Failures of Prometheus as a whole (down, rules unreadable); per-figure ones are in reports.
    errors: tuple[str, ...] = field(default=())
    # What this backend cannot tell (discovery from a placeholder rules API); not a failure.
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(slots=True)
class SLOReadings:
    """What the `:slo` view and the board's strip keep between polls: the last good reports
    (least budget left first), when they were taken, and why the latest poll failed."""

    reports: list[SLOReport] = field(default_factory=list)
    last_good: float | None = None
    last_error: str = ""
    polls: int = 0
    note: str = ""

    def take(self, snapshot: SLOSnapshot) -> None:
        self.polls += 1
        self.note = snapshot.note
        if snapshot.ok:
            self.reports = sort_reports(list(snapshot.reports))
            self.last_good = snapshot.taken_at
            self.last_error = ""
            return
        self.last_error = "; ".join(snapshot.errors)
        # Configured SLOs never vanish because their backend is down: with no good figures
        # to keep, show each one as "no data" with the reason.
        known = {r.spec.key for r in self.reports}
        missing = [r for r in snapshot.reports if r.spec.key not in known]
        if missing:
            self.reports = [*self.reports, *sort_reports(missing)]

    def source_failed(self, reason: str) -> bool:
        """The board saw Prometheus fail before this view's own poll did: mark the figures
        stale now rather than at the next SLO poll (up to 30 s later). True if it changed."""
        if self.last_error:
            return False
        self.last_error = reason
        return True


async def poll_safely(poller: SLOPoller, *, chart: bool = False) -> SLOSnapshot:
    """One poll; a bug in it becomes a failed snapshot, so the caller's loop keeps polling."""
    try:
        return await poller.poll(chart=chart)
    except Exception as exc:
        return SLOSnapshot(time.time(), errors=(f"internal error: {exc!r}",))


def _message(exc: Exception) -> str:
    if isinstance(exc, errors.ApiError):
        return exc.message
    return f"internal error: {type(exc).__name__}: {exc}"


def _value(result: QueryResult) -> float | None:
    """The one number an SLO query answers; None when it has no series."""
    if result.scalar is not None:
        return result.scalar
    if not result.samples:
        return None
    if len(result.samples) > 1:
        raise ValueError(
            f"the query returns {len(result.samples)} series, not one: aggregate it with sum()"
        )
    return result.samples[0].value


class SLOPoller:
    """Polls the SLOs of one context; remembers the last discovery and the retention."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        backends = clients.backends
        self.engines = backends[0].engines if backends else EngineBook(None, None)
        self.configured = specs_from_config(clients.context)
        self.discovered: list[SLOSpec] = []
        self.retention_s: float | None = None
        self._limit = asyncio.Semaphore(CONCURRENCY)
        # Several backends: what each discovered, named by the backend it was found in.
        self._discovered: dict[str, list[SLOSpec]] = {}

    @property
    def prometheus(self) -> PrometheusClient | None:
        return self.clients.prometheus

    async def poll(
        self, *, chart: bool = False, only: Callable[[SLOSpec], bool] | None = None
    ) -> SLOSnapshot:
        now = time.time()
        prometheus = self.prometheus
        if prometheus is None:
            return SLOSnapshot(now, errors=("no Prometheus in this context",))
        if len(self.clients.backends) > 1:
            return await self._poll_backends(now, chart, only)
        problems: list[str] = []
        note = ""
        engine = await self.engines.engine()
        rules_source: PrometheusClient | None = self.clients.rules or prometheus
        if engine is not None and engine.rules_placeholder:
            note = f"SLO discovery: {engine.name} cannot tell its recording rules"
            rules_source = None
        rules, runtime = await asyncio.gather(
            self._guard(rules_source.rules("record")) if rules_source else _none(),
            self._guard(prometheus.runtime_info()) if self.retention_s is None else _none(),
            return_exceptions=False,
        )
        if isinstance(rules, str) and "rule evaluation is off" in rules:
            note = f"SLO discovery: {rules}"  # Mimir's ruler is off: configured SLOs still work
        elif isinstance(rules, str):
            problems.append(f"rules: {rules}")
        elif rules is not None:
            self.discovered = discover(rules)
            if rules_source is not None and any(s.source == "pyrra" for s in self.discovered):
                # Pyrra's own burn alerts decide PAGE/TICKET for its SLOs: read the alerting
                # rules too, only when there is a Pyrra SLO (most servers have none).
                alerting = await self._guard(rules_source.rules("alert"))
                if isinstance(alerting, str):
                    problems.append(f"rules: {alerting}")
                elif alerting is not None:
                    self.discovered = discover([*rules, *alerting])
        if runtime is not None and not isinstance(runtime, str):
            self.retention_s = _retention(runtime.storage_retention)
        specs = merge_specs(self.configured, self.discovered)
        if only is not None:
            specs = [s for s in specs if only(s)]
        reports = await asyncio.gather(*(self._report(prometheus, s, now, chart) for s in specs))
        if reports and all(r.errors for r in reports):
            problems.append(reports[0].errors[0])
        return SLOSnapshot(now, tuple(reports), tuple(problems), note)

    def owner_of(self, spec: SLOSpec) -> str:
        """The backend holding an SLO's series: a configured one's `backend:` key, else its
        value of the owner label; a discovered one's, the backend it was found in."""
        return spec.backend

    async def _poll_backends(
        self, now: float, chart: bool, only: Callable[[SLOSpec], bool] | None
    ) -> SLOSnapshot:
        """Several backends: each SLO is asked of its own; one down fails only its SLOs."""
        backends = self.clients.backends
        label = self.clients.owner_label
        found = await asyncio.gather(*(self._discover(b) for b in backends))
        problems: list[str] = []
        notes: list[str] = []
        for backend, rules in zip(backends, found, strict=True):
            if isinstance(rules, str):
                problems.append(f"{backend.name}: rules: {rules}")
                continue
            if rules is None:
                notes.append(f"{backend.short}: cannot tell its recording rules")
                continue
            # The same SLO recorded in two clusters is two SLOs, each asked of its own.
            self._discovered[backend.owner] = [
                in_backend(spec, label, backend.owner) for spec in discover(rules)
            ]
        self.discovered = [s for specs in self._discovered.values() for s in specs]
        specs = merge_specs(self.configured, self.discovered)
        if only is not None:
            specs = [s for s in specs if only(s)]
        by_owner = {b.owner: b for b in backends}
        calls: list[Awaitable[SLOReport]] = []
        for spec in specs:
            owner = self.owner_of(spec)
            owning = by_owner.get(owner)
            if owning is None:
                said = f"no backend for {label}={owner}" if owner else f"no {label} label"
                calls.append(_failed(spec, now, f"{said}: give the SLO `backend:` or the label"))
            else:
                calls.append(self._report(owning.query, spec, now, chart))
        reports = await asyncio.gather(*calls)
        # A backend down shows on its own SLOs; the snapshot fails only when all are down.
        whole = ("; ".join(problems),) if len(problems) == len(backends) else ()
        note = f"SLO discovery: {'; '.join(notes)}" if notes else ""
        return SLOSnapshot(now, tuple(reports), whole, note)

    async def _discover(self, backend: Backend) -> list[RuleGroup] | str | None:
        """A backend's recording rules; None where its rules API is a placeholder."""
        engine = await backend.engines.engine()
        if engine is not None and engine.rules_placeholder:
            return None
        return await self._guard(backend.rules.rules("record"))

    async def _guard(self, call: Awaitable[T]) -> T | str:
        try:
            return await call
        except Exception as exc:  # reported on screen; polling goes on
            return _message(exc)

    async def _report(
        self, prometheus: PrometheusClient, spec: SLOSpec, now: float, chart: bool
    ) -> SLOReport:
        failed: list[str] = []

        async def figure(expr: str, at: float = now) -> float | None:
            async with self._limit:
                try:
                    result = await prometheus.query(expr, at)
                    for warning in result.warnings:
                        # Thanos's partial answer: a figure over some stores only.
                        said = f"partial: {warning}"
                        if said not in failed:
                            failed.append(said)
                    return _value(result)
                except (errors.ApiError, ValueError) as exc:
                    text = exc.message if isinstance(exc, errors.ApiError) else str(exc)
                    if text not in failed:
                        failed.append(text)
                    return None

        async def objective() -> float | None:
            if spec.objective is not None:
                return spec.objective
            return await figure(spec.objective_query) if spec.objective_query else None

        async def data_start() -> float | None:
            coarse, fine = coverage_steps(spec.window_s)
            first = await figure(coverage_expr(spec, spec.window_s, coarse))
            refined = await figure(coverage_expr(spec, coarse, fine), first or now)
            return refined if refined is not None else first

        window, goal, start, *ratios = await asyncio.gather(
            figure(spec.ratio_expr(spec.window)),
            objective(),
            data_start(),
            *(figure(spec.ratio_expr(w)) for w in spec.windows),
        )
        points: tuple[tuple[float, float], ...] = ()
        if chart and start is not None and goal is not None:
            points = await self._chart(prometheus, spec, now, start, goal, failed)
        return SLOReport(
            spec=spec,
            taken_at=now,
            objective=goal,
            error_ratio=window,
            ratios=dict(zip(spec.windows, ratios, strict=True)),
            covered_s=None if start is None else max(0.0, now - start),
            retention_s=self.retention_s,
            errors=tuple(failed),
            chart=points,
        )

    async def _chart(
        self,
        prometheus: PrometheusClient,
        spec: SLOSpec,
        now: float,
        start: float,
        objective: float,
        failed: list[str],
    ) -> tuple[tuple[float, float], ...]:
        """Remaining budget over the part of the window that holds data."""
        begin = max(now - spec.window_s, start)
        step = chart_step(now - begin)
        if now - begin < 2 * step:
            return ()
        async with self._limit:
            try:
                result = await prometheus.query_range(
                    spec.ratio_expr(spec.window), begin, now, step
                )
            except errors.ApiError as exc:
                failed.append(f"chart: {exc.message}")
                return ()
        if len(result.series) != 1:
            return ()
        return remaining_series(result.series[0].points, objective, spec.window_s, start)


async def _none() -> None:
    return None


async def _failed(spec: SLOSpec, now: float, why: str) -> SLOReport:
    return SLOReport(spec=spec, taken_at=now, errors=(why,))


def _retention(text: str) -> float | None:
    """``15d`` or ``15d or 10GiB`` (size limits say nothing of time): seconds, or None."""
    first = text.split(" or ", 1)[0].strip()
    try:
        return parse_duration(first)
    except ValueError:
        return None


class SLOStore:
    """The SLO readings of one context: one poll serves the board's strip, `:slo` and the
    alert detail, whichever are open. Charts are asked for only while a view wants them."""

    def __init__(self, clients: Clients, refresh: float | None = None) -> None:
        self.clients = clients
        self.poller = SLOPoller(clients)
        self.seen = SLOReadings()
        self.refresh_s = refresh or max(SLO_REFRESH, clients.context.refresh)
        self.loop = PollLoop(self._poll_once, self.refresh_s, name="slo")
        self.subscribers = Subscribers()
        self._chart_views = 0
        self._charted = False  # did the last good poll fetch charts
        self._outage = False  # the board saw Prometheus fail: poll again once it is back

    @property
    def configured(self) -> list[SLOSpec]:
        return self.poller.configured

    @property
    def available(self) -> bool:
        return self.clients.prometheus is not None

    def subscribe(
        self, callback: Callable[[], object], *, charts: bool = False
    ) -> Callable[[], None]:
        """Call `callback` after every SLO poll; the loop starts with the first subscriber."""
        remove = self.subscribers.add(callback)
        if charts:
            self._chart_views += 1
            if self.seen.polls and not self._charted:
                self.loop.wake()  # this view wants charts the last poll did not fetch
        if self.available:
            self.loop.start()

        def unsubscribe() -> None:
            remove()
            if charts:
                self._chart_views -= 1

        return unsubscribe

    def refresh(self) -> None:
        self.loop.wake()

    async def first_reading(self) -> None:
        """Wait for a first reading (the detail view opened before the strip's first poll)."""
        if not self.seen.polls and self.available:
            self.loop.start()
            await self.loop.poll_now()

    def matching(self, labels: Mapping[str, str]) -> list[SLOReport]:
        return [r for r in self.seen.reports if r.spec.matches(labels)]

    async def aclose(self) -> None:
        await self.loop.stop()

    async def _poll_once(self) -> bool:
        charts = self._chart_views > 0
        snapshot = await poll_safely(self.poller, chart=charts)
        self.seen.take(snapshot)
        if snapshot.ok:
            self._charted = charts
        self.subscribers.publish()
        return not snapshot.ok

    def prometheus_state(self, error: str) -> None:
        """What the board's own poll (every few seconds) saw of Prometheus: a failure marks
        the figures stale at once; the first answer after one brings a fresh SLO poll."""
        if error:
            self._outage = True
            if self.seen.source_failed(f"prometheus: {error}"):
                self.subscribers.publish()
        elif self._outage:
            self._outage = False
            self.loop.wake()
