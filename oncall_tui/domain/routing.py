"""Where an alert goes: Alertmanager's routing tree, walked as Alertmanager walks it.

The tree comes from the configuration a cluster serves (`/api/v2/status` -> `config.original`,
the YAML with secrets already replaced by `<secret>`). A child route starts from its parent's
receiver, `group_by` and timers and overrides what it sets; `continue`, the time intervals and
the matchers are its own. An alert enters a route when every matcher matches; it then goes
down the first child that takes it, and on to the next child only while the one that took it
says `continue: true`; a route none of whose children take the alert is where it lands
(dispatch/route.go, `Route.Match`). Time intervals do not change the route taken (amtool's
`config routes test` ignores them too): they mute or allow the notifications of the route.

Receivers are described by the kinds of their integrations only: URLs, keys and tokens in the
configuration are never read out of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from oncall_tui.domain.matchers import FilterError, LabelMatcher
from oncall_tui.domain.time_intervals import IntervalError, TimeInterval, parse_intervals
from oncall_tui.wire.alertmanager import Silence

# Alertmanager's DefaultRouteOpts (dispatch/route.go).
DEFAULT_GROUP_WAIT = 30.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0
GROUP_BY_ALL = ("...",)

# The integrations a receiver can have, by their config key (`<kind>_configs`).
_CONFIG_SUFFIX = "_configs"

_DURATION = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
# Alertmanager 0.25's classic matcher parser (pkg/labels/parse.go).
_CLASSIC = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s:.*?))\s*$")


class RoutingError(ValueError):
    """A configuration that cannot be read as Alertmanager would read it."""


def parse_duration(text: Any) -> float:
    """A Prometheus duration (`1h30m`, `12h`, `1d`) in seconds."""
    raw = str(text).strip()
    if raw == "0":
        return 0.0
    pos, total = 0, 0.0
    for m in _DURATION.finditer(raw):
        if m.start() != pos:
            break
        total += int(m[1]) * _UNITS[m[2]]
        pos = m.end()
    if pos != len(raw) or not raw:
        raise RoutingError(f"not a duration: {raw!r}")
    return total


def parse_classic_matchers(text: str) -> list[LabelMatcher]:
    """One entry of a route's `matchers:` as Alertmanager 0.25 reads it (commas may join
    several matchers, braces are optional, values may be quoted)."""
    s = text.strip()
    s = s.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    inside = escaped = False
    for ch in s:
        if ch == "," and not inside:
            tokens.append("".join(token))
            token = []
            continue
        if ch == '"':
            if not escaped:
                inside = not inside
            else:
                escaped = False
        elif ch == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(ch)
    if (last := "".join(token)).strip():
        tokens.append(last)
    return [_classic_one(t) for t in tokens]


def _classic_one(token: str) -> LabelMatcher:
    m = _CLASSIC.match(token)
    if m is None:
        raise RoutingError(f"bad matcher format: {token}")
    raw = m[3]
    quoted = raw.startswith('"')
    if quoted:
        raw = raw[1:]
    value: list[str] = []
    escaped = False
    for i, ch in enumerate(raw):
        if escaped:
            escaped = False
            value.append("\n" if ch == "n" else ch if ch in '"\\' else "\\" + ch)
            continue
        if ch == "\\":
            if i < len(raw) - 1:
                escaped = True
                continue
            value.append("\\")
        elif ch == '"':
            if not quoted or i < len(raw) - 1:
                raise RoutingError(f"matcher value contains unescaped double quote: {m[3]}")
            quoted = False
        else:
            value.append(ch)
    if quoted:
        raise RoutingError(f"matcher value contains unescaped double quote: {m[3]}")
    try:
        return LabelMatcher(m[1], m[2], "".join(value))  # type: ignore[arg-type]
    except FilterError as exc:
        raise RoutingError(f"{token}: {exc.message}") from None


def _matchers(raw: Mapping[str, Any], prefix: str = "") -> tuple[LabelMatcher, ...]:
    """`match`, `match_re` and `matchers` (or `source_`/`target_` ones of an inhibit rule)."""
    out: list[LabelMatcher] = []
    try:
        for name, value in (raw.get(f"{prefix}match") or {}).items():
            out.append(LabelMatcher(str(name), "=", str(value)))
        for name, value in (raw.get(f"{prefix}match_re") or {}).items():
            out.append(LabelMatcher(str(name), "=~", str(value)))
    except FilterError as exc:
        raise RoutingError(exc.message) from None
    for entry in raw.get(f"{prefix}matchers") or ():
        out.extend(parse_classic_matchers(str(entry)))
    return tuple(out)


@dataclass(frozen=True)
class Integration:
    kind: str  # webhook, email, pagerduty, slack, ...
    count: int
    send_resolved: bool | None = None


@dataclass(frozen=True)
class ReceiverInfo:
    name: str
    integrations: tuple[Integration, ...] = ()

    def describe(self) -> str:
        if not self.integrations:
            return "no integrations: notifications go nowhere"
        return ", ".join(
            f"{i.kind}" + (f" ×{i.count}" if i.count > 1 else "") for i in self.integrations
        )


def _receiver(raw: Mapping[str, Any]) -> ReceiverInfo:
    integrations = []
    for key, value in raw.items():
        if str(key).endswith(_CONFIG_SUFFIX) and isinstance(value, list) and value:
            resolved = {bool(v.get("send_resolved")) for v in value if isinstance(v, Mapping)}
            integrations.append(
                Integration(
                    str(key).removesuffix(_CONFIG_SUFFIX),
                    len(value),
                    resolved.pop() if len(resolved) == 1 else None,
                )
            )
    return ReceiverInfo(str(raw.get("name", "")), tuple(integrations))


@dataclass(eq=False)
class Route:
    """One node of the tree, with what it inherited already applied."""

    path: tuple[int, ...]  # child indexes from the root: () is the root
    matchers: tuple[LabelMatcher, ...]
    receiver: str
    group_by: tuple[str, ...]
    group_wait: float
    group_interval: float
    repeat_interval: float
    continue_: bool = False
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    routes: list[Route] = field(default_factory=list)

    @property
    def key(self) -> str:
        return ".".join(map(str, self.path)) or "root"

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes where the alert lands, in Alertmanager's order (Route.Match)."""
        if not self.matches(labels):
            return []
        landed: list[Route] = []
        for child in self.routes:
            found = child.match(labels)
            landed.extend(found)
            if found and not child.continue_:
                break
        return landed or [self]

    def walk(self) -> Iterable[Route]:
        yield self
        for child in self.routes:
            yield from child.walk()


def _route(
    raw: Mapping[str, Any], parent: Route | None, path: tuple[int, ...], receivers: set[str]
) -> Route:
    receiver = str(raw.get("receiver") or (parent.receiver if parent else ""))
    if not receiver:
        raise RoutingError("the root route has no receiver")
    if receivers and receiver not in receivers:
        raise RoutingError(
            f"route {'.'.join(map(str, path)) or 'root'}: undefined receiver {receiver!r}"
        )
    group_by_raw = raw.get("group_by")
    if group_by_raw is not None:
        group_by = tuple(str(g) for g in group_by_raw)
        if "..." in group_by:
            group_by = GROUP_BY_ALL
    else:
        group_by = parent.group_by if parent else ()

    def timer(key: str, default: float) -> float:
        if raw.get(key) is not None:
            return parse_duration(raw[key])
        return getattr(parent, key) if parent else default

    node = Route(
        path=path,
        matchers=_matchers(raw) if parent is not None else (),
        receiver=receiver,
        group_by=group_by,
        group_wait=timer("group_wait", DEFAULT_GROUP_WAIT),
        group_interval=timer("group_interval", DEFAULT_GROUP_INTERVAL),
        repeat_interval=timer("repeat_interval", DEFAULT_REPEAT_INTERVAL),
        continue_=bool(raw.get("continue", False)),
        mute_time_intervals=tuple(str(n) for n in raw.get("mute_time_intervals") or ()),
        active_time_intervals=tuple(str(n) for n in raw.get("active_time_intervals") or ()),
    )
    node.routes = [
        _route(child, node, (*path, i), receivers)
        for i, child in enumerate(raw.get("routes") or ())
    ]
    return node


@dataclass(frozen=True)
class InhibitRule:
    index: int
    source: tuple[LabelMatcher, ...]
    target: tuple[LabelMatcher, ...]
    equal: tuple[str, ...]

    def describe(self) -> str:
        src = ", ".join(map(str, self.source)) or "any alert"
        tgt = ", ".join(map(str, self.target)) or "any alert"
        eq = f" with equal {', '.join(self.equal)}" if self.equal else ""
        return f"{{{src}}} mutes {{{tgt}}}{eq}"

    def inhibits(self, target: Mapping[str, str], source: Mapping[str, str]) -> bool:
        """Whether a firing `source` alert mutes `target` through this rule. An alert that
        matches both sides is muted only by a source that does not (inhibit.go,
        excludeTwoSidedMatch), so such alerts never mute each other."""
        if not all(m.matches(target) for m in self.target):
            return False
        if not all(m.matches(source) for m in self.source):
            return False
        if any(target.get(n, "") != source.get(n, "") for n in self.equal):
            return False
        two_sided = all(m.matches(target) for m in self.source)
        return not (two_sided and all(m.matches(source) for m in self.target))


@dataclass
class RoutingConfig:
    root: Route
    receivers: dict[str, ReceiverInfo]
    inhibit_rules: tuple[InhibitRule, ...]
    intervals: dict[str, TimeInterval]

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        return self.root.match(labels)

    def receivers_for(self, labels: Mapping[str, str]) -> list[str]:
        """The receivers in amtool's order (`amtool config routes test` prints these)."""
        return [r.receiver for r in self.match(labels)]

    def visited(self, labels: Mapping[str, str]) -> set[str]:
        """Keys of every route on the way to where the alert lands (the path to highlight)."""
        keys: set[str] = set()
        for landed in self.match(labels):
            path = landed.path
            keys.update(".".join(map(str, path[:i])) or "root" for i in range(len(path) + 1))
        return keys

    def route(self, key: str) -> Route | None:
        return next((r for r in self.root.walk() if r.key == key), None)

    def rules_targeting(self, labels: Mapping[str, str]) -> list[InhibitRule]:
        return [r for r in self.inhibit_rules if all(m.matches(labels) for m in r.target)]


def parse_config(text: str) -> RoutingConfig:
    """The routing part of an Alertmanager configuration (YAML text)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RoutingError(f"the configuration is not YAML: {exc}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("route"), Mapping):
        raise RoutingError("the configuration has no route")
    receivers = {
        str(r.get("name", "")): _receiver(r)
        for r in raw.get("receivers") or ()
        if isinstance(r, Mapping)
    }
    try:
        intervals = parse_intervals(raw.get("mute_time_intervals"))
        intervals.update(parse_intervals(raw.get("time_intervals")))
    except IntervalError as exc:
        raise RoutingError(f"time intervals: {exc}") from None
    root = _route(raw["route"], None, (), set(receivers))
    rules = tuple(
        InhibitRule(
            i,
            _matchers(r, "source_"),
            _matchers(r, "target_"),
            tuple(str(n) for n in r.get("equal") or ()),
        )
        for i, r in enumerate(raw.get("inhibit_rules") or ())
    )
    return RoutingConfig(root, receivers, rules, intervals)


# -- one alert's answer ------------------------------------------------------------------------


@dataclass(frozen=True)
class IntervalState:
    name: str
    holds: bool | None  # None: the interval is not defined
    changes_at: datetime | None  # None: not within the horizon (or undefined)


@dataclass(frozen=True)
class Landing:
    """One route the alert lands on, and whether its notifications go out now."""

    route: Route
    receiver: ReceiverInfo
    mute: tuple[IntervalState, ...]
    active: tuple[IntervalState, ...]

    @property
    def muted_now(self) -> bool:
        if any(s.holds for s in self.mute):
            return True
        return bool(self.active) and not any(s.holds for s in self.active)


@dataclass(frozen=True)
class Inhibition:
    rule: InhibitRule
    by: tuple[Mapping[str, str], ...]  # the firing alerts muting it through this rule now


@dataclass(frozen=True)
class Where:
    landings: tuple[Landing, ...]
    inhibitions: tuple[Inhibition, ...]
    silences: tuple[Silence, ...]

    @property
    def receivers(self) -> list[str]:
        return [landing.route.receiver for landing in self.landings]


def _interval_state(config: RoutingConfig, name: str, now: datetime) -> IntervalState:
    interval = config.intervals.get(name)
    if interval is None:
        return IntervalState(name, None, None)
    return IntervalState(name, interval.contains(now), interval.next_change(now))


def matching_silences(silences: Sequence[Silence], labels: Mapping[str, str]) -> list[Silence]:
    """Active and pending silences whose every matcher matches the labels."""
    found = []
    for silence in silences:
        if silence.status.state == "expired":
            continue
        try:
            matchers = [LabelMatcher.from_api(m) for m in silence.matchers]
        except FilterError:
            continue
        if all(m.matches(labels) for m in matchers):
            found.append(silence)
    return found


def where(
    config: RoutingConfig,
    labels: Mapping[str, str],
    *,
    firing: Sequence[Mapping[str, str]] = (),
    silences: Sequence[Silence] = (),
    now: datetime,
) -> Where:
    """Everything about where `labels` go: landings, inhibition, silences."""
    landings = tuple(
        Landing(
            route,
            config.receivers.get(route.receiver, ReceiverInfo(route.receiver)),
            tuple(_interval_state(config, n, now) for n in route.mute_time_intervals),
            tuple(_interval_state(config, n, now) for n in route.active_time_intervals),
        )
        for route in config.match(labels)
    )
    inhibitions = tuple(
        Inhibition(rule, tuple(src for src in firing if rule.inhibits(labels, src)))
        for rule in config.rules_targeting(labels)
    )
    return Where(landings, inhibitions, tuple(matching_silences(silences, labels)))


def count_alerts(config: RoutingConfig, alerts: Iterable[Mapping[str, str]]) -> dict[str, int]:
    """How many of `alerts` each route holds (lands on it or passes through it)."""
    counts: dict[str, int] = {}
    for labels in alerts:
        for key in config.visited(labels):
            counts[key] = counts.get(key, 0) + 1
    return counts
