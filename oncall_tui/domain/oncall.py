"""Who is on call: PagerDuty-style schedules with layers, and escalation chains.

A layer hands over every `turn_length` seconds from `virtual_start`, cycling through its users.
Turns are counted in the schedule's own wall-clock time (zoneinfo), so a daily or weekly handoff
at 09:00 stays at 09:00 across a DST change (that turn is an hour shorter or longer), as
PagerDuty does. A handoff at a wall-clock time the change skips happens at the same offset as
before the change (02:30 on a spring-forward night is 03:30). Later layers override earlier
ones wherever they have someone: a layer has no one outside its optional `start`/`end`, nor
outside its restrictions (domain/restrictions.py), and there the layers below show through.

An escalation policy notifies its first rule's targets when the alert starts, and each rule's
`delay_minutes` later the next rule's; after the last rule's delay it starts over, `num_loops`
times (PagerDuty's loops). A schedule target is whoever is on call at that moment.
Pure: no clock is read here, every function takes the instant it is asked about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from oncall_tui.domain.restrictions import Restriction, boundaries, covers

# How far ahead "next" looks: a year of turns covers any sane rotation.
HORIZON = timedelta(days=400)
MAX_CANDIDATES = 10_000


@dataclass(frozen=True)
class Layer:
    users: tuple[str, ...]
    virtual_start: datetime  # aware
    turn_length: timedelta
    start: datetime | None = None  # the layer has no one before this instant
    end: datetime | None = None  # ...nor from this instant on
    restrictions: tuple[Restriction, ...] = ()  # none: every hour of every day

    def active(self, at: datetime) -> bool:
        at = at.astimezone(UTC)
        return (self.start is None or at >= self.start) and (self.end is None or at < self.end)


@dataclass(frozen=True)
class Schedule:
    name: str
    time_zone: ZoneInfo
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class Target:
    kind: str  # "schedule" or "user"
    id: str


@dataclass(frozen=True)
class Rule:
    delay_minutes: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Policy:
    name: str
    rules: tuple[Rule, ...]
    num_loops: int = 0  # how many times the rules repeat after the last one


@dataclass(frozen=True)
class OnCall:
    """Who a schedule names at an instant, and when that changes (None: never, or unknown)."""

    user: str | None
    until: datetime | None
    next_user: str | None


@dataclass(frozen=True)
class Notified:
    """One target of one step: the schedule or user named, and the person it reaches."""

    target: Target
    person: str | None  # None: the schedule has no one then, or is unknown


@dataclass(frozen=True)
class Step:
    index: int  # 0-based rule number
    at: datetime
    notified: tuple[Notified, ...]
    loop: int = 0  # 0: the first pass through the rules

    @property
    def people(self) -> str:
        return ", ".join(n.person or f"nobody on {n.target.id}" for n in self.notified)

    @property
    def names(self) -> str:
        return ", ".join(n.target.id for n in self.notified)


# -- layers ---------------------------------------------------------------------------------


def _wall(at: datetime, zone: ZoneInfo) -> datetime:
    return at.astimezone(zone).replace(tzinfo=None)


def _handoff(layer: Layer, zone: ZoneInfo, turn: int) -> datetime:
    """The instant turn number `turn` begins (turn 0 at virtual_start), as an aware datetime."""
    wall = _wall(layer.virtual_start, zone) + turn * layer.turn_length
    # In UTC: datetimes sharing a tzinfo compare by wall clock, blind to the repeated hour.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def turn_at(layer: Layer, zone: ZoneInfo, at: datetime) -> int:
    """The number of the turn running at `at` (negative before virtual_start)."""
    at = at.astimezone(UTC)
    elapsed = _wall(at, zone) - _wall(layer.virtual_start, zone)
    turn = elapsed // layer.turn_length
    # Wall clocks repeat an hour in autumn: settle on real instants so turns never go backwards.
    while _handoff(layer, zone, turn) > at:
        turn -= 1
    while _handoff(layer, zone, turn + 1) <= at:
        turn += 1
    return turn


def layer_user(layer: Layer, zone: ZoneInfo, at: datetime) -> str | None:
    if not layer.active(at) or not layer.users or not covers(layer.restrictions, zone, at):
        return None
    return layer.users[turn_at(layer, zone, at) % len(layer.users)]


def _layer_changes(
    layer: Layer, zone: ZoneInfo, after: datetime, before: datetime
) -> list[datetime]:
    """The instants in (after, before] when this layer's answer may change."""
    found = [b for b in (layer.start, layer.end) if b is not None and after < b <= before]
    found += [b for b in boundaries(layer.restrictions, zone, after, before) if layer.active(b)]
    turn = turn_at(layer, zone, after) + 1
    while len(found) < MAX_CANDIDATES:
        instant = _handoff(layer, zone, turn)
        if instant > before or (layer.end is not None and instant >= layer.end):
            break
        if layer.start is None or instant >= layer.start:
            found.append(instant)
        elif layer.start is not None:
            turn = turn_at(layer, zone, layer.start)  # jump over the turns before it starts
        turn += 1
    return found


# -- schedules ------------------------------------------------------------------------------


def on_call_at(schedule: Schedule, at: datetime) -> str | None:
    """Who is on call: the last layer that has someone at `at`."""
    for layer in reversed(schedule.layers):
        user = layer_user(layer, schedule.time_zone, at)
        if user is not None:
            return user
    return None


def on_call(schedule: Schedule, at: datetime, horizon: timedelta = HORIZON) -> OnCall:
    """Who is on call at `at`, until when, and who comes next."""
    at = at.astimezone(UTC)
    now = on_call_at(schedule, at)
    candidates = sorted(
        {
            instant
            for layer in schedule.layers
            for instant in _layer_changes(layer, schedule.time_zone, at, at + horizon)
        }
    )
    for instant in candidates:
        user = on_call_at(schedule, instant)
        if user != now:
            return OnCall(now, instant, user)
    return OnCall(now, None, None)


# -- escalation -----------------------------------------------------------------------------


def chain(policy: Policy, schedules: Sequence[Schedule], started: datetime) -> list[Step]:
    """Each step of the policy for an alert that started at `started`, every loop: when, and who."""
    by_name = {s.name: s for s in schedules}
    steps = []
    at = started
    for loop in range(policy.num_loops + 1):
        for index, rule in enumerate(policy.rules):
            notified = []
            for target in rule.targets:
                if target.kind == "user":
                    notified.append(Notified(target, target.id))
                else:
                    schedule = by_name.get(target.id)
                    person = on_call_at(schedule, at) if schedule is not None else None
                    notified.append(Notified(target, person))
            steps.append(Step(index, at, tuple(notified), loop))
            at += timedelta(minutes=rule.delay_minutes)
    return steps


def next_step(steps: Sequence[Step], now: datetime) -> Step | None:
    """The first step still ahead of `now` (None: the chain has run out)."""
    return next((s for s in steps if s.at > now), None)


# -- the book: every schedule and policy of a context ---------------------------------------


@dataclass(frozen=True)
class Book:
    """A context's schedules and policies, and which label value picks which policy."""

    schedules: tuple[Schedule, ...] = ()
    policies: tuple[Policy, ...] = ()
    team_label: str = "team"
    teams: tuple[tuple[str, str], ...] = ()  # label value -> policy name
    default_policy: str | None = None

    @property
    def empty(self) -> bool:
        return not self.schedules and not self.policies

    def policy(self, name: str) -> Policy | None:
        return next((p for p in self.policies if p.name == name), None)

    def policy_for(self, labels: Mapping[str, str] | None) -> Policy | None:
        """The policy paging for an alert with these labels: its team's, else the default."""
        team = (labels or {}).get(self.team_label)
        name = dict(self.teams).get(team, self.default_policy) if team else self.default_policy
        return self.policy(name) if name else None
