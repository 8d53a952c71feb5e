"""When did this alert fire before: a compact timeline from Prometheus's `ALERTS` and
`ALERTS_FOR_STATE` series (range queries over 24h and 7d).

`ALERTS{alertstate="firing"|"pending"}` is present while the alert is in that state;
`ALERTS_FOR_STATE`'s value is the unix time the alert became active, so each distinct value
is one episode even when two episodes touch. A series belongs to the alert when every label
it carries (bar `__name__` and `alertstate`) is one of the alert's: the alert in
Alertmanager may carry external labels that the TSDB's series do not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from oncall_tui.domain.promql import promql_string_escape

FIRING, PENDING, QUIET = "█", "▒", "·"
# `__tenant_id__` is added by Mimir to every series of a federated (`a|b`) query: it names
# the tenant, and the alert itself never carries it.
_IGNORED = frozenset({"__name__", "alertstate", "__tenant_id__"})


@dataclass(frozen=True, slots=True)
class Episode:
    start: float  # unix time the alert became active
    last_seen: float
    ongoing: bool


@dataclass(frozen=True, slots=True)
class History:
    start: float
    end: float
    cells: str
    firing_seconds: float
    episodes: tuple[Episode, ...]


def history_queries(alertname: str) -> tuple[str, str]:
    name = promql_string_escape(alertname)
    return f'ALERTS{{alertname="{name}"}}', f'ALERTS_FOR_STATE{{alertname="{name}"}}'


def belongs(series_labels: Mapping[str, str], alert_labels: Mapping[str, str]) -> bool:
    return all(alert_labels.get(k) == v for k, v in series_labels.items() if k not in _IGNORED)


Points = Sequence[tuple[float, float]]


def build_history(
    alerts: Sequence[tuple[Mapping[str, str], Points]],
    for_state: Sequence[tuple[Mapping[str, str], Points]],
    alert_labels: Mapping[str, str],
    *,
    start: float,
    end: float,
    step: float,
    cells: int,
) -> History:
    """The timeline (`cells` characters from `start` to `end`) and the episodes in it."""
    width = (end - start) / cells
    states = [QUIET] * cells
    firing_times: set[float] = set()
    for labels, points in alerts:
        if not belongs(labels, alert_labels):
            continue
        state = FIRING if labels.get("alertstate") == "firing" else PENDING
        for t, value in points:
            if math.isnan(value) or t < start or t > end:
                continue
            cell = min(cells - 1, int((t - start) / width))
            if states[cell] != FIRING:
                states[cell] = state
            if state == FIRING:
                firing_times.add(t)
    seen: dict[float, float] = {}
    for labels, points in for_state:
        if not belongs(labels, alert_labels):
            continue
        for t, value in points:
            if not math.isnan(value) and start <= t <= end:
                seen[value] = max(seen.get(value, t), t)
    episodes = tuple(
        Episode(active_at, last, ongoing=end - last <= 2 * step)
        for active_at, last in sorted(seen.items())
    )
    firing = len(firing_times) * step
    if episodes:
        # A sample stands for a whole step: one sample of a 1-minute-old alert at a 10-minute
        # step is not 10 minutes of firing. The episodes (active since ... last seen) bound it.
        lived = sum(max(0.0, e.last_seen - max(e.start, start)) for e in episodes)
        if lived > 0:
            firing = min(firing, lived)
    return History(start, end, "".join(states), firing, episodes)
