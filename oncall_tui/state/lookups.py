"""What a view asks of the servers once, on demand: silences by ID, alerting rules, PromQL,
an alert's firing history. Screens call these instead of a client; each returns its result
or raises a typed error (`wire.errors.ApiError`, `NotConfigured` among them) whose message
the view shows.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from oncall_tui.api.prometheus import PrometheusClient
from oncall_tui.domain.alert_history import History, build_history, history_queries
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.engines import EngineBook
from oncall_tui.state.wiring import Backend, Clients
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Silence
from oncall_tui.wire.engine import HISTORY, RULES
from oncall_tui.wire.prometheus import QueryResult, RuleGroup

RULES_TTL = 30.0


class NotConfigured(errors.ApiError):
    """The context has no server of this kind (no Prometheus, an unknown cluster)."""

    def __init__(self, what: str) -> None:
        super().__init__("config", what)


class CannotTell(NotConfigured):
    """The backend answers, but its answer means nothing here (VictoriaMetrics' placeholder
    rules API, no ALERTS_FOR_STATE): the message says why, never "none"."""


class _Held:
    """What the lookups keep per query backend: its engine and its rules for RULES_TTL."""

    def __init__(self, engines: EngineBook) -> None:
        self.engines = engines
        self.rules: tuple[float, list[RuleGroup]] | None = None
        self.lock = asyncio.Lock()


class Lookups:
    """Questions about an alert (`labels`) go to the backend that owns it; questions about
    no alert (`:query`) go to the first backend. Each backend's engine is its own
    (`Backend.engines`, shared with the board's poll)."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self._held = {id(b): _Held(b.engines) for b in clients.backends}

    # -- what the context has ----------------------------------------------------------------

    @property
    def has_prometheus(self) -> bool:
        return self.clients.prometheus is not None

    @property
    def prometheus_url(self) -> str | None:
        prometheus = self.clients.prometheus
        return prometheus.url if prometheus is not None else None

    def cluster_peers(self, cluster: str) -> int | None:
        """How many peers the named cluster has; None when it is not in this context."""
        found = next((c for c in self.clients.clusters if c.name == cluster), None)
        return None if found is None else len(found.peers)

    def _backend(self, labels: Mapping[str, str] | None = None) -> Backend:
        """The backend that owns the alert with `labels` (the first one for no alert)."""
        backends = self.clients.backends
        if not backends:
            raise NotConfigured("no Prometheus configured")
        if labels is None:
            return backends[0]
        found = self.clients.backend_for(labels)
        if found is None:
            label = self.clients.owner_label
            value = labels.get(label)
            known = ", ".join(b.owner for b in backends)
            said = (
                f"the alert has no {label} label"
                if value is None
                else f"no backend for {label}={one_line(value, 80)}"
            )
            raise NotConfigured(f"{said}: the query backends are {label}={known}")
        return found

    def owner_of(self, labels: Mapping[str, str]) -> str:
        """Which of several backends answers for the alert (`cluster=b`); "" when the
        context has one backend, or none owns the alert (its views say why)."""
        if len(self.clients.backends) < 2:
            return ""
        found = self.clients.backend_for(labels)
        return found.short if found is not None else ""

    def backend_name(self, labels: Mapping[str, str] | None = None) -> str:
        """Which backend answers for the alert, for a view's heading."""
        try:
            return self._backend(labels).name
        except NotConfigured as exc:
            return exc.message

    @contextmanager
    def _naming(self, backend: Backend) -> Iterator[None]:
        """With several backends, a failure says which one failed (its type is kept)."""
        try:
            yield
        except NotConfigured:
            raise
        except errors.ApiError as exc:
            if len(self.clients.backends) > 1 and not exc.message.startswith(backend.name):
                exc.message = f"{backend.name}: {exc.message}"
                exc.args = (f"{exc.server}: {exc.message}",)
            raise

    # -- Alertmanager ------------------------------------------------------------------------

    async def silences(self, cluster: str, ids: Sequence[str]) -> dict[str, Silence | str]:
        """Each silence by ID, or why it could not be read (one failing does not sink all)."""
        found = next((c for c in self.clients.clusters if c.name == cluster), None)
        if found is None:
            raise NotConfigured(f"cluster {one_line(cluster, 80)} is not in this context")
        target = found

        async def one(silence_id: str) -> Silence | str:
            try:
                return await target.silence(silence_id)
            except errors.ApiError as exc:
                return exc.message

        answers = await asyncio.gather(*(one(i) for i in ids))
        return dict(zip(ids, answers, strict=True))

    # -- Prometheus --------------------------------------------------------------------------

    async def alert_rules(self, labels: Mapping[str, str] | None = None) -> list[RuleGroup]:
        """The alerting rules of the backend owning the alert, kept for RULES_TTL: the
        detail and triage views of one alert (and of its neighbours) ask for them in turn."""
        backend = self._backend(labels)
        held = self._held[id(backend)]
        async with held.lock:
            now = time.monotonic()
            if held.rules is not None and now - held.rules[0] < RULES_TTL:
                return held.rules[1]
            engine = await held.engines.engine()
            if engine is not None and engine.rules_placeholder:
                why = engine.capabilities.get(RULES)
                raise CannotTell(
                    f"{engine.name} cannot tell its rules" + (f": {why.why}" if why else "")
                )
            with self._naming(backend):
                groups = await backend.rules.rules("alert")
            held.rules = (now, groups)
            return groups

    async def query(
        self,
        expr: str,
        at: datetime | float | None = None,
        *,
        labels: Mapping[str, str] | None = None,
    ) -> QueryResult:
        backend = self._backend(labels)
        with self._naming(backend):
            return await backend.query.query(expr, at)

    async def query_range(
        self,
        expr: str,
        start: float,
        end: float,
        step: float,
        *,
        labels: Mapping[str, str] | None = None,
    ) -> QueryResult:
        backend = self._backend(labels)
        with self._naming(backend):
            return await backend.query.query_range(expr, start, end, step)

    async def history(
        self,
        alertname: str,
        labels: Mapping[str, str],
        windows: Sequence[tuple[float, float, int]],
    ) -> list[History]:
        """When the alert fired in each (window, step, cells), from ALERTS and ALERTS_FOR_STATE."""
        backend = self._backend(labels)
        with self._naming(backend):
            return await self._history(backend, alertname, labels, windows)

    async def _history(
        self,
        backend: Backend,
        alertname: str,
        labels: Mapping[str, str],
        windows: Sequence[tuple[float, float, int]],
    ) -> list[History]:
        prometheus = backend.query
        alerts_query, for_state_query = history_queries(alertname)
        # Whole seconds: the last step then falls on `end` itself, not a step before it.
        end = float(math.ceil(datetime.now(UTC).timestamp()))
        found = []
        seen_for_state = False
        partial: list[str] = []
        for window, step, cells in windows:
            start = end - window
            alerts = await prometheus.query_range(alerts_query, start, end, step)
            for_state = await prometheus.query_range(for_state_query, start, end, step)
            seen_for_state = seen_for_state or bool(for_state.series)
            partial += [*alerts.warnings, *for_state.warnings]
            found.append(
                build_history(
                    [(s.labels, s.points) for s in alerts.series],
                    [(s.labels, s.points) for s in for_state.series],
                    labels,
                    start=start,
                    end=end,
                    step=step,
                    cells=cells,
                )
            )
        if not seen_for_state:
            await self._history_absent(prometheus, self._held[id(backend)].engines)
        if partial:
            raise CannotTell(
                "history is partial (the server warned: "
                f"{one_line('; '.join(dict.fromkeys(partial)), 200)})"
            )
        return found

    async def _history_absent(self, prometheus: PrometheusClient, engines: EngineBook) -> None:
        """No ALERTS_FOR_STATE for this alert: say plainly when the backend holds none at
        all (vmalert without remote write), rather than drawing an empty timeline."""
        engine = await engines.engine()
        if engine is not None and engine.works(HISTORY):
            return  # it writes them: none yet is an empty timeline, not "cannot tell"
        anything = await prometheus.query("count(ALERTS_FOR_STATE)")
        if anything.samples:
            return
        why = engine.capabilities.get(HISTORY) if engine is not None else None
        name = engine.name if engine is not None else prometheus.url
        raise CannotTell(
            f"no alert history: {name} holds no ALERTS_FOR_STATE series"
            + (f" ({why.why})" if why and why.why else "")
        )
