"""PromQL for the SLO figures, and SLOs discovered in Sloth or Pyrra recording rules.

Every figure is one query computed by the server: the error ratio over the window and over
each burn window, the objective when it is recorded, and when the data begins. Nothing here
talks to a server; ``slo_poller.py`` sends these queries, all at once.

Discovery reads ``/api/v1/rules``:
- Sloth records ``slo:sli_error:ratio_rate<window>`` and ``slo:objective:ratio`` (and
  ``slo:time_period:days``), labelled ``sloth_id``, ``sloth_service``, ``sloth_slo``.
- Rules in Sloth's naming without ``sloth_id`` (the demo's own) are grouped by their labels.
- Pyrra records ``<metric>:burnrate<window>`` (an error ratio, despite the name) labelled
  ``slo``; the objective is in its ``pyrra_objective`` rule (a bare number) or its alerts' thresholds
  (``> (14 * (1-0.99))``), the window in ``pyrra_window`` or ``<metric>:increase<window>``.
A window no rule records is computed from the 5m rule's expression with its ``[5m]`` ranges
widened, so it stays an exact ratio of events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from oncall_tui.domain.slo import (
    DEFAULT_WINDOW,
    PAGE,
    TICKET,
    BurnAlert,
    SLOSpec,
    format_duration,
    parse_duration,
)
from oncall_tui.wire.prometheus import Rule, RuleGroup

SLOTH_RATIO = re.compile(r"^slo:sli_error:ratio_rate(\w+)$")
PYRRA_BURN = re.compile(r"^(.+):burnrate(\w+)$")
PYRRA_INCREASE = re.compile(r"^(.+):increase(\w+)$")
# `vector(0.99)` (Sloth) or a bare `0.99` (Pyrra's generic rules record pyrra_objective so).
_VECTOR = re.compile(r"^\s*(?:vector\(\s*([0-9.eE+-]+)\s*\)|([0-9.eE+-]+))\s*$")
# Pyrra's ErrorBudgetBurn: `a:burnrate5m{..} > (14 * (1-0.995)) and a:burnrate1h{..} > (...)`.
_PYRRA_FACTOR = re.compile(r">\s*\(\s*([0-9.]+)\s*\*\s*\(\s*1\s*-\s*0?\.\d+\s*\)\s*\)")
_PYRRA_BURN_IN_EXPR = re.compile(r":burnrate(\w+)\s*[{\s>]")
_OBJECTIVE_IN_ALERT = re.compile(r"\(\s*1\s*-\s*(0?\.\d+)\s*\)")
_SLOTH_ID_IN_EXPR = re.compile(r'sloth_id\s*=\s*"([^"]+)"')
_RANGE_5M = re.compile(r"\[5m\]")
PYRRA_DEFAULT_WINDOW = "4w"
# Points in the remaining-budget chart; a terminal row is rarely wider.
CHART_POINTS = 120


def selector(metric: str, labels: Mapping[str, str]) -> str:
    """``metric{a="x",b="y"}`` with values escaped as PromQL strings."""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _vector_value(expr: str) -> float | None:
    match = _VECTOR.match(expr)
    if not match:
        return None
    try:
        return float(match.group(1) or match.group(2))
    except ValueError:
        return None


def _widened(expr_5m: str) -> str:
    """The 5m ratio's expression with a ``{{window}}`` placeholder for its ranges."""
    return _RANGE_5M.sub("[{{window}}]", expr_5m) if _RANGE_5M.search(expr_5m) else ""


def _window_s(text: str, default: str) -> float:
    try:
        return parse_duration(text)
    except ValueError:
        return parse_duration(default)


# -- the figures ------------------------------------------------------------------------------


def coverage_expr(spec: SLOSpec, span_s: float, step_s: float) -> str:
    """The time of the first data of the SLI within ``span_s`` before the query time, to
    ``step_s``: ``timestamp`` of the 5m ratio at each step of a subquery, the earliest."""
    # A discovered SLO's recorded 5m series starts with its rule; its raw expression may reach
    # further back, and the window's ratio is computed from the raw data.
    raw = spec.ratio or spec.errors
    inner = replace(spec, recorded={}).ratio_expr("5m") if raw else spec.ratio_expr("5m")
    return (
        f"min_over_time(timestamp(({inner}))[{format_duration(span_s)}:{format_duration(step_s)}])"
    )


def coverage_steps(window_s: float) -> tuple[float, float]:
    """A coarse step over the window, then a fine one inside the coarse step that found data:
    two cheap queries (at most 720 points each) instead of one per second of a month."""
    coarse = max(60.0, round(window_s / 720.0))
    return coarse, max(1.0, round(coarse / 720.0))


def chart_step(span_s: float, points: int = CHART_POINTS) -> float:
    return max(1.0, span_s / points)


# -- discovery --------------------------------------------------------------------------------


@dataclass
class _Found:
    source: str
    labels: dict[str, str]
    recorded: dict[str, str] = field(default_factory=dict)
    expr_5m: str = ""
    objective: float | None = None
    objective_query: str = ""
    window: str = ""
    burn_alerts: list[BurnAlert] = field(default_factory=list)


def _rules(groups: Iterable[RuleGroup]) -> list[Rule]:
    return [rule for group in groups for rule in group.rules]


def discover(groups: Iterable[RuleGroup]) -> list[SLOSpec]:
    """Every SLO the rules describe, Sloth's and Pyrra's, sorted by service and name."""
    rules = _rules(groups)
    found = [*_sloth(rules), *_pyrra(rules)]
    specs = [spec for spec in (_spec(f) for f in found) if spec is not None]
    return sorted(specs, key=lambda s: (s.source, *s.key))


def _spec(found: _Found) -> SLOSpec | None:
    labels = found.labels
    if found.source == "sloth":
        service, name = labels.get("sloth_service", ""), labels.get("sloth_slo", "")
        link = {"sloth_id": labels["sloth_id"]}
        default = DEFAULT_WINDOW
    elif found.source == "pyrra":
        name = labels["slo"]
        service = labels.get("service") or labels.get("job") or labels.get("namespace") or ""
        link = {"slo": name}
        default = PYRRA_DEFAULT_WINDOW
    else:
        service = labels.get("service", "")
        name = labels.get("slo") or ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        link = {"service": service} if service else dict(labels)
        default = DEFAULT_WINDOW
    if not found.recorded and not found.expr_5m:
        return None
    return SLOSpec(
        name=name,
        service=service,
        window_s=_window_s(found.window or default, default),
        objective=found.objective,
        objective_query=found.objective_query,
        ratio=_widened(found.expr_5m),
        recorded=dict(found.recorded),
        labels=link,
        source=found.source,
        burn_alerts=tuple(sorted(found.burn_alerts, key=lambda a: -a.factor)),
    )


def _sloth(rules: list[Rule]) -> list[_Found]:
    by_id: dict[str, _Found] = {}
    plain: dict[tuple[tuple[str, str], ...], _Found] = {}
    for rule in rules:
        match = SLOTH_RATIO.match(rule.name) if rule.type == "recording" else None
        if not match:
            continue
        window = match.group(1)
        sloth_id = rule.labels.get("sloth_id")
        if sloth_id is None:
            # Sloth's period rule carries only sloth_window; its expression names the id.
            in_expr = _SLOTH_ID_IN_EXPR.search(rule.query)
            if in_expr and rule.labels.keys() <= {"sloth_window"}:
                sloth_id = in_expr.group(1)
                entry = by_id.setdefault(sloth_id, _Found("sloth", {"sloth_id": sloth_id}))
                entry.recorded[window] = selector(rule.name, {"sloth_id": sloth_id})
                continue
            ident = {k: v for k, v in rule.labels.items() if k != "sloth_window"}
            key = tuple(sorted(ident.items()))
            entry = plain.setdefault(key, _Found("rules", ident))
            entry.recorded[window] = selector(rule.name, ident)
        else:
            entry = by_id.setdefault(sloth_id, _Found("sloth", {"sloth_id": sloth_id}))
            entry.labels.update(
                {k: v for k, v in rule.labels.items() if k in ("sloth_service", "sloth_slo")}
            )
            entry.recorded[window] = selector(rule.name, {"sloth_id": sloth_id})
        if window == "5m":
            entry.expr_5m = rule.query
    for rule in rules:
        if rule.type != "recording":
            continue
        sloth_id = rule.labels.get("sloth_id")
        if sloth_id is not None:
            targets = [by_id[sloth_id]] if sloth_id in by_id else []
        else:
            targets = [f for f in plain.values() if f.labels.items() >= rule.labels.items()]
        for entry in targets:
            _sloth_meta(entry, rule)
    return [*by_id.values(), *plain.values()]


def _sloth_meta(entry: _Found, rule: Rule) -> None:
    value = _vector_value(rule.query)
    if rule.name == "slo:objective:ratio":
        entry.objective = value
        if value is None:
            entry.objective_query = selector(rule.name, entry_selector(entry))
    elif rule.name == "slo:time_period:days" and value:
        entry.window = f"{round(value)}d"


def entry_selector(entry: _Found) -> dict[str, str]:
    return {"sloth_id": entry.labels["sloth_id"]} if "sloth_id" in entry.labels else entry.labels


def _pyrra(rules: list[Rule]) -> list[_Found]:
    by_slo: dict[str, _Found] = {}
    for rule in rules:
        match = PYRRA_BURN.match(rule.name) if rule.type == "recording" else None
        name = rule.labels.get("slo")
        if not match or not name:
            continue
        entry = by_slo.setdefault(name, _Found("pyrra", dict(rule.labels)))
        window = match.group(2)
        entry.recorded[window] = selector(rule.name, {"slo": name})
        if window == "5m":
            entry.expr_5m = rule.query
    for rule in rules:
        owner = by_slo.get(rule.labels.get("slo", ""))
        if owner is None:
            continue
        entry = owner
        value = _vector_value(rule.query)
        increase = PYRRA_INCREASE.match(rule.name) if rule.type == "recording" else None
        if rule.name == "pyrra_objective" and value is not None:
            entry.objective = value
        elif rule.name == "pyrra_window" and value:
            entry.window = format_duration(value)
        elif increase and not entry.window:
            entry.window = increase.group(2)
        elif rule.type == "alerting":
            burn = pyrra_burn_alert(rule.query, rule.labels)
            if burn is not None and burn not in entry.burn_alerts:
                entry.burn_alerts.append(burn)
            threshold = _OBJECTIVE_IN_ALERT.search(rule.query)
            if threshold and entry.objective is None:
                entry.objective = float(threshold.group(1))
    return list(by_slo.values())


def pyrra_burn_alert(expr: str, labels: Mapping[str, str]) -> BurnAlert | None:
    """One of Pyrra's generated ErrorBudgetBurn alerts as a multiwindow rule, or None.

    Pyrra labels each with its `short` and `long` windows and a `severity` (critical pages,
    warning opens a ticket); the factor is in the expression. Without the labels the windows
    are read from the recorded series the expression compares.
    """
    factor = _PYRRA_FACTOR.search(expr)
    if factor is None:
        return None
    short, long = labels.get("short", ""), labels.get("long", "")
    if not (short and long):
        named = _PYRRA_BURN_IN_EXPR.findall(expr)
        if len(named) != 2:
            return None
        short, long = sorted(named, key=parse_duration)
    try:
        parse_duration(short)
        parse_duration(long)
    except ValueError:
        return None
    severity = PAGE if labels.get("severity", "critical") == "critical" else TICKET
    return BurnAlert(long, short, float(factor.group(1)), severity)


def merge_specs(configured: list[SLOSpec], discovered: list[SLOSpec]) -> list[SLOSpec]:
    """The config's SLOs, then the discovered ones the config does not already name."""
    names = {spec.key for spec in configured}
    return [*configured, *(spec for spec in discovered if spec.key not in names)]
