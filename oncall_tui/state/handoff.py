"""Reads for the handoff (`oncall-tui handoff` and `:handoff`): one pass over the servers.

Alertmanager: every peer's alerts and silences, merged as the board and `oncall-tui
alerts|silences` merge them (by fingerprint, by ID). Prometheus: `ALERTS` and
`ALERTS_FOR_STATE` over the window, on every query backend. A server that does not answer
becomes a line in `problems`; the rest of the handoff is still made.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from oncall_tui.api.alertmanager import AlertmanagerCluster
from oncall_tui.domain.handoff import AlertEpisode, Handoff, assemble, episodes_from
from oncall_tui.domain.incidents import Incident
from oncall_tui.domain.merge import MergedAlert, merge_alerts
from oncall_tui.domain.script_output import MergedSilence
from oncall_tui.domain.slo import SLOReport
from oncall_tui.state.incidents import IncidentBook
from oncall_tui.state.silences import every_peers_silences
from oncall_tui.state.slo import SLOPoller, poll_safely
from oncall_tui.state.wiring import Backend, Clients
from oncall_tui.wire import errors

if TYPE_CHECKING:
    from oncall_tui.state.context import ContextState

# Prometheus refuses a range query of more than 11,000 points; fewer is faster, and a step
# near the rule evaluation interval still sees every episode of a minute or more.
MAX_POINTS = 5000
MIN_STEP = 15.0
DEFAULT_NEXT_SHIFT_S = 12 * 3600.0
DEFAULT_SINCE_S = 12 * 3600.0


def step_for(window_s: float) -> float:
    return max(MIN_STEP, float(math.ceil(window_s / MAX_POINTS)))


async def _cluster(
    cluster: AlertmanagerCluster,
) -> tuple[list[MergedAlert], list[MergedSilence], list[str]]:
    problems: list[str] = []
    alerts: list[MergedAlert] = []
    try:
        # Every state, as `/api/v2/alerts` gives by default: an acked alert still fires.
        read = await cluster.alerts()
        alerts = merge_alerts(cluster.name, read.results)
        problems += [f"{cluster.name}: {url}: {e.message}" for url, e in read.errors.items()]
    except errors.ClusterUnavailable as exc:
        problems.append(f"{cluster.name}: {exc.message}")
    silences, trouble = await every_peers_silences(cluster)
    return alerts, silences, problems + trouble


async def _episodes(
    backend: Backend, start: float, end: float, step: float
) -> tuple[list[AlertEpisode], list[str]]:
    try:
        alerts, for_state = await asyncio.gather(
            backend.query.query_range('ALERTS{alertstate="firing"}', start, end, step),
            backend.query.query_range("ALERTS_FOR_STATE", start, end, step),
        )
    except errors.ApiError as exc:
        return [], [f"alert history: {backend.name}: {exc.message}"]
    found = episodes_from(
        [(s.labels, s.points) for s in alerts.series],
        [(s.labels, s.points) for s in for_state.series],
        start=start,
        end=end,
        step=step,
    )
    warned = dict.fromkeys([*alerts.warnings, *for_state.warnings])
    return found, [f"alert history: {backend.name}: partial: {w}" for w in warned]


async def slo_once(clients: Clients) -> tuple[list[SLOReport], list[str]]:
    """One SLO poll, for the command line (the app reads its SLO store instead)."""
    if clients.prometheus is None:
        return [], []
    snapshot = await poll_safely(SLOPoller(clients))
    return list(snapshot.reports), [f"SLOs: {e}" for e in snapshot.errors]


async def gather(
    clients: Clients,
    *,
    since_s: float,
    next_shift_s: float = DEFAULT_NEXT_SHIFT_S,
    slos: Sequence[SLOReport] = (),
    slo_problems: Sequence[str] = (),
    incidents: IncidentBook | None = None,
    now: float | None = None,
) -> Handoff:
    # Whole seconds: the last step then falls on `end` itself (as in lookups.history).
    end = float(math.ceil(now if now is not None else time.time()))
    start = end - since_s
    step = step_for(since_s)
    clusters, histories = await asyncio.gather(
        asyncio.gather(*(_cluster(c) for c in clients.clusters)),
        asyncio.gather(*(_episodes(b, start, end, step) for b in clients.backends)),
    )
    problems: list[str] = []
    alerts: list[MergedAlert] = []
    silences: list[MergedSilence] = []
    for found_alerts, found_silences, trouble in clusters:
        alerts += found_alerts
        silences += found_silences
        problems += trouble
    episodes: list[AlertEpisode] = []
    for found, trouble in histories:
        episodes += found
        problems += trouble
    problems += slo_problems
    held: list[Incident] = []
    if incidents is not None:
        held, bad = incidents.load()
        problems += [f"incident file: {b}" for b in bad]
    return assemble(
        context=clients.context.name,
        since=start,
        now=end,
        next_shift_s=next_shift_s,
        episodes=sorted(episodes, key=lambda e: (e.start, e.alertname)),
        firing=alerts,
        silences=silences,
        slos=slos,
        incidents=held,
        problems=problems,
    )


async def for_context(
    state: ContextState,
    since_s: float = DEFAULT_SINCE_S,
    next_shift_s: float = DEFAULT_NEXT_SHIFT_S,
) -> Handoff:
    """The handoff for the app: SLOs from the context's SLO store (the poll `:slo` and the
    board's strip share), incidents from its book."""
    if state.slo.available:
        await state.slo.first_reading()
    seen = state.slo.seen
    return await gather(
        state.clients,
        since_s=since_s,
        next_shift_s=next_shift_s,
        slos=seen.reports,
        slo_problems=[f"SLOs: {seen.last_error}"] if seen.last_error else [],
        incidents=state.incidents,
    )
