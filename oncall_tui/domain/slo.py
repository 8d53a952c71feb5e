"""Error budgets the way the SRE workbook defines them: pure math, no I/O.

An SLO with objective ``o`` over a window ``W`` allows a share ``1 - o`` of bad events; its
budget, read as minutes of full outage, is ``(1 - o) * W`` (30 days at 99.9 % is 43.2 min).
The budget spent is the window's error ratio times the time the data covers, in the same
minutes: 15 minutes down is 15 / 43.2 = 34.7 % spent, however young the window is. With the
window fully covered this is the usual ``ratio / (1 - o)``.

A figure that cannot be had (no series, NaN, a zero denominator: +Inf) is ``None`` and shows
as "no data": never as 100 % nor as 0 %.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from oncall_tui.domain import timespec
from oncall_tui.domain.timefmt import short_duration

# The burn-rate windows of the workbook's multiwindow, multi-burn-rate alerts.
WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
DEFAULT_WINDOW = "30d"
# "Current" burn, for the time to exhaustion: long enough not to flicker, short enough to react.
CURRENT = "1h"

PAGE, TICKET, OK, NO_DATA = "page", "ticket", "ok", "no data"
STATES = (PAGE, TICKET, OK, NO_DATA)


@dataclass(frozen=True, slots=True)
class BurnAlert:
    """Alert when the burn rate exceeds ``factor`` over both the long and the short window."""

    long: str
    short: str
    factor: float
    severity: str


# SRE workbook, table 5-8: 2 % of a 30-day budget in 1 h, 5 % in 6 h page; 10 % in 1 d,
# 10 % in 3 d open a ticket.
MULTIWINDOW: tuple[BurnAlert, ...] = (
    BurnAlert("1h", "5m", 14.4, PAGE),
    BurnAlert("6h", "30m", 6.0, PAGE),
    BurnAlert("1d", "2h", 3.0, TICKET),
    BurnAlert("3d", "6h", 1.0, TICKET),
)

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration: ``30d``, ``1h30m``, ``4w``. ValueError otherwise
    (TimeSpecError is one): the same reader as the silence form's."""
    seconds = timespec.parse_duration(text).total_seconds()
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a duration such as 5m, 1h or 30d")
    return seconds


def format_duration(seconds: float) -> str:
    """A duration PromQL accepts, in the largest exact units: 2592000 -> ``30d``."""
    rest = round(seconds)
    if rest <= 0:
        raise ValueError("a PromQL duration must be positive")
    out = ""
    for unit in ("d", "h", "m", "s"):
        size = int(_UNITS[unit])
        count, rest = divmod(rest, size)
        if count:
            out += f"{count}{unit}"
    return out


def known(value: float | None) -> bool:
    """A usable figure: present and finite (NaN and +/-Inf come from empty or zero totals)."""
    return value is not None and math.isfinite(value)


def usable(value: float | None) -> float | None:
    """The figure if it is usable, else None."""
    return value if value is not None and math.isfinite(value) else None


def burn_rate(error_ratio: float | None, objective: float | None) -> float | None:
    """How many times faster than sustainable the budget burns: ratio / (1 - objective)."""
    ratio, goal = usable(error_ratio), usable(objective)
    if ratio is None or goal is None or not 0 < goal < 1:
        return None
    return ratio / (1.0 - goal)


# Pyrra's generated ErrorBudgetBurn alerts for a 4-week window (slo/rules.go, `Windows`):
# 14x over 1h and 5m, 7x over 6h and 30m are critical; 2x over 1d and 2h, 1x over 4d and 6h
# are warnings. Discovery reads the real ones from the rules; these are for tests and docs.
PYRRA_MULTIWINDOW: tuple[BurnAlert, ...] = (
    BurnAlert("1h", "5m", 14.0, PAGE),
    BurnAlert("6h", "30m", 7.0, PAGE),
    BurnAlert("1d", "2h", 2.0, TICKET),
    BurnAlert("4d", "6h", 1.0, TICKET),
)


def multiwindow_state(
    burns: Mapping[str, float | None], rules: Sequence[BurnAlert] = MULTIWINDOW
) -> str:
    """``page``, ``ticket``, ``ok``, or ``no data`` when no window has a figure.

    A condition with a window that has no figure is not met (the workbook's alerts would
    not fire either); both windows must exceed the factor. ``rules``: the workbook's, or
    the SLO's own (Pyrra's generated alerts).
    """
    if not any(known(v) for v in burns.values()):
        return NO_DATA
    for severity in (PAGE, TICKET):
        for rule in rules:
            if rule.severity != severity:
                continue
            long, short = usable(burns.get(rule.long)), usable(burns.get(rule.short))
            if long is not None and short is not None and min(long, short) > rule.factor:
                return severity
    return OK


def budget_minutes(objective: float, window_s: float) -> float:
    """The whole budget as minutes of full outage: 30 d at 99.9 % is 43.2."""
    return (1.0 - objective) * window_s / 60.0


@dataclass(frozen=True, slots=True)
class Budget:
    """An error budget over one window, in minutes of full outage."""

    total_minutes: float
    spent_minutes: float

    @property
    def remaining_minutes(self) -> float:
        return self.total_minutes - self.spent_minutes

    @property
    def spent_pct(self) -> float:
        return 100.0 * self.spent_minutes / self.total_minutes

    @property
    def remaining_pct(self) -> float:
        return 100.0 - self.spent_pct


def budget(
    objective: float | None, window_s: float, error_ratio: float | None, covered_s: float | None
) -> Budget | None:
    """The budget given the window's error ratio and how much of it the data covers.

    ``covered_s`` beyond the window counts as the whole window. None when any input is
    missing, NaN or infinite, or the objective is not strictly between 0 and 1.
    """
    goal, ratio, covered = usable(objective), usable(error_ratio), usable(covered_s)
    if goal is None or ratio is None or covered is None or not 0 < goal < 1 or window_s <= 0:
        return None
    covered = min(max(covered, 0.0), window_s)
    return Budget(budget_minutes(goal, window_s), ratio * covered / 60.0)


def spent_from_downtime(objective: float, window_s: float, down_minutes: float) -> Budget:
    """The seed's worked example: minutes of full outage against the window's budget."""
    return Budget(budget_minutes(objective, window_s), down_minutes)


def time_to_exhaustion(remaining: Budget | None, error_ratio: float | None) -> float | None:
    """Seconds until the budget is gone at ``error_ratio``: 0 when already gone, +Inf when
    nothing fails, None without figures. Every failing request costs budget at the rate
    ``error_ratio`` minutes per minute (full outage costs one minute per minute)."""
    ratio = usable(error_ratio)
    if remaining is None or ratio is None:
        return None
    if remaining.remaining_minutes <= 0:
        return 0.0
    if ratio <= 0:
        return math.inf
    return remaining.remaining_minutes * 60.0 / ratio


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class SLOSpec:
    """One SLO: from the config, or discovered in Sloth or Pyrra recording rules.

    The SLI is an error ratio, as ``errors``/``total`` queries or a single ``ratio``
    query, each with a ``{{window}}`` placeholder. Discovered SLOs read the ratios their
    rules record (``recorded``: window -> series selector) and fall back to ``ratio``.
    ``objective`` is a ratio (0.999); discovered SLOs may give ``objective_query`` instead.
    ``labels`` link the SLO to alerts: an alert matches when it carries all of them.
    """

    name: str
    service: str
    window_s: float
    objective: float | None = None
    errors: str = ""
    total: str = ""
    ratio: str = ""
    labels: Mapping[str, str] = field(default_factory=_frozen)
    source: str = "config"  # config | sloth | pyrra | rules
    objective_query: str = ""
    recorded: Mapping[str, str] = field(default_factory=_frozen)
    description: str = ""
    # The SLO's own burn alerts (Pyrra's generated ones); empty: the workbook's MULTIWINDOW.
    burn_alerts: tuple[BurnAlert, ...] = ()
    # Which query backend holds its series, by the context's owner label (`cluster`, `b`);
    # empty with a single backend. Part of the key: the same SLO in two clusters is two.
    backend: str = ""
    backend_label: str = ""

    @property
    def alert_rules(self) -> tuple[BurnAlert, ...]:
        return self.burn_alerts or MULTIWINDOW

    @property
    def windows(self) -> tuple[str, ...]:
        """The burn windows to measure: the usual ones and any the SLO's own alerts use."""
        extra = {w for rule in self.burn_alerts for w in (rule.long, rule.short)} - set(WINDOWS)
        return (*WINDOWS, *sorted(extra, key=parse_duration))

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.service, self.name, self.backend)

    @property
    def where(self) -> str:
        """The backend as the user reads it (`cluster=b`), "" with a single backend."""
        return f"{self.backend_label}={self.backend}" if self.backend else ""

    @property
    def discovered(self) -> bool:
        return self.source != "config"

    @property
    def window(self) -> str:
        return format_duration(self.window_s)

    def ratio_expr(self, window: str) -> str:
        """The PromQL of the error ratio over ``window`` (``5m``, ``30d``)."""
        if window in self.recorded:
            return self.recorded[window]
        if self.ratio:
            return self.ratio.replace("{{window}}", window)
        errors = self.errors.replace("{{window}}", window)
        total = self.total.replace("{{window}}", window)
        return f"({errors})\n/\n({total})"

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Does an alert with these labels belong to this SLO?"""
        return bool(self.labels) and all(labels.get(k) == v for k, v in self.labels.items())


@dataclass(frozen=True, slots=True)
class SLOReport:
    """Every figure of one SLO at one time; ``None`` figures show as "no data"."""

    spec: SLOSpec
    taken_at: float
    objective: float | None = None
    error_ratio: float | None = None  # over the whole window (the part the data covers)
    ratios: Mapping[str, float | None] = field(default_factory=dict)  # burn window -> ratio
    covered_s: float | None = None  # how much of the window holds data
    retention_s: float | None = None
    errors: tuple[str, ...] = ()  # queries that failed, in the server's words
    chart: tuple[tuple[float, float], ...] = ()  # (unix time, remaining %) over the window

    @property
    def sli(self) -> float | None:
        ratio = usable(self.error_ratio)
        return None if ratio is None else 1.0 - ratio

    @property
    def burns(self) -> dict[str, float | None]:
        return {w: burn_rate(self.ratios.get(w), self.objective) for w in self.spec.windows}

    @property
    def budget(self) -> Budget | None:
        return budget(self.objective, self.spec.window_s, self.error_ratio, self.covered_s)

    @property
    def state(self) -> str:
        return multiwindow_state(self.burns, self.spec.alert_rules)

    @property
    def exhaustion_s(self) -> float | None:
        current = usable(self.ratios.get(CURRENT))
        if current is None:
            current = self.ratios.get("5m")
        return time_to_exhaustion(self.budget, current)

    @property
    def remaining_pct(self) -> float | None:
        found = self.budget
        return found.remaining_pct if found is not None else None

    @property
    def in_trouble(self) -> bool:
        """Worth a place on the board's strip: paging, ticketing, or the budget gone."""
        left = self.remaining_pct
        return self.state in (PAGE, TICKET) or (left is not None and left <= 0)

    def notes(self) -> list[str]:
        """What makes the figures less than they seem: short data, short retention."""
        out = []
        window = self.spec.window_s
        retention, covered = usable(self.retention_s), usable(self.covered_s)
        if retention is not None and retention < window:
            out.append(
                f"window {self.spec.window} is longer than Prometheus's retention "
                f"({format_duration(retention)}): older data is gone"
            )
        if covered is not None and covered < 0.99 * window:
            out.append(f"data covers {short_duration(covered)} of the {self.spec.window} window")
        return out


def remaining_series(
    points: tuple[tuple[float, float], ...],
    objective: float,
    window_s: float,
    data_start: float,
) -> tuple[tuple[float, float], ...]:
    """Remaining budget (%) at each (time, window error ratio) point; unknown points dropped."""
    out = []
    for at, ratio in points:
        found = budget(objective, window_s, ratio, at - data_start)
        if found is not None:
            out.append((at, found.remaining_pct))
    return tuple(out)


def sort_reports(reports: list[SLOReport]) -> list[SLOReport]:
    """Least budget left first; SLOs without figures last, by name."""

    def key(report: SLOReport) -> tuple[int, float, str, str, str]:
        left = report.remaining_pct
        return (left is None, left if left is not None else 0.0, *report.spec.key)

    return sorted(reports, key=key)
