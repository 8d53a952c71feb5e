"""The `oncall:` key of a context: schedules and escalation policies in PagerDuty's shape.

The keys are the course's (`schedules[].layers[].rotation_virtual_start`,
`rotation_turn_length_seconds`, `users[].user`, `restrictions[].type/start_time_of_day/
duration_seconds/start_day_of_week`; `escalation_policies[].num_loops`, `escalation_rules[]
.escalation_delay_in_minutes`, `targets[].type/id`), inline or in a YAML file named by
`oncall.file` (relative to the config file). `team_label` names the alert label whose value
picks a policy through `teams`; `default_policy` pages for alerts without a team.
"""

# No `from __future__ import annotations` here: see config/strict.py.

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from msgspec import Meta, field

from oncall_tui.config.strict import KeyProblem, Strict

if TYPE_CHECKING:  # imported when used: a config without schedules needs no zoneinfo
    from oncall_tui.domain import oncall as d
    from oncall_tui.domain.restrictions import Restriction

DAY_S = 86400
NonEmpty = Annotated[str, Meta(min_length=1)]


class LayerUser(Strict, frozen=True, kw_only=True):
    user: NonEmpty


def _time_of_day(value: Any) -> Any:
    """`"08:00:00"` or `"08:00"`, quoted. YAML 1.1 reads unquoted 22:00:00 as 79200 but 22:00
    as 1320 (base 60): a number cannot be told apart, so it is refused rather than read as
    the wrong hour."""
    if not isinstance(value, str | time):
        raise ValueError(f'write the time quoted, e.g. "22:00:00" (YAML read {value!r})')
    try:
        return time.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value  # msgspec says it is not a time


class RestrictionConfig(Strict, frozen=True, kw_only=True):
    """The hours a layer covers, on the schedule's wall clock (PagerDuty's restrictions)."""

    type: Literal["daily_restriction", "weekly_restriction"]
    start_time_of_day: time
    duration_seconds: Annotated[int, Meta(gt=0, le=7 * DAY_S)]
    start_day_of_week: Annotated[int, Meta(ge=1, le=7)] | None = None  # 1 Monday; weekly only

    before = {"start_time_of_day": _time_of_day}

    def __post_init__(self) -> None:
        if self.type == "daily_restriction" and self.duration_seconds > DAY_S:
            raise ValueError("a daily_restriction lasts at most 86400 seconds (a day)")
        if self.type == "weekly_restriction" and self.start_day_of_week is None:
            raise ValueError("a weekly_restriction needs start_day_of_week (1 Monday ... 7 Sunday)")

    def restriction(self) -> "Restriction":
        from oncall_tui.domain.restrictions import Restriction

        start = self.start_time_of_day
        return Restriction(
            "daily" if self.type == "daily_restriction" else "weekly",
            timedelta(hours=start.hour, minutes=start.minute, seconds=start.second),
            timedelta(seconds=self.duration_seconds),
            self.start_day_of_week or 1,
        )


def _date_time(value: Any) -> Any:
    """ISO 8601 text (seconds and offset optional), or a YAML date (its midnight)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value  # a Unix time, or msgspec says it is not a date and time
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value


class LayerConfig(Strict, frozen=True, kw_only=True):
    """One rotation. A start without an offset is read in the schedule's time zone."""

    rotation_virtual_start: datetime
    rotation_turn_length_seconds: Annotated[int, Meta(gt=0)]  # 604800: a week
    users: Annotated[list[LayerUser], Meta(min_length=1)]
    start: datetime | None = None  # the layer has no one before
    end: datetime | None = None  # the layer has no one from
    # The layer has no one outside them; none: always on.
    restrictions: list[RestrictionConfig] = field(default_factory=list)

    before = {"rotation_virtual_start": _date_time, "start": _date_time, "end": _date_time}


class ScheduleConfig(Strict, frozen=True, kw_only=True):
    name: NonEmpty
    time_zone: str = "UTC"
    # Later layers override earlier ones.
    layers: Annotated[list[LayerConfig], Meta(min_length=1)]

    def __post_init__(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise KeyProblem(
                "time_zone", f"{self.time_zone!r} is not a time zone (e.g. Europe/Berlin, UTC)"
            ) from None


class TargetConfig(Strict, frozen=True, kw_only=True):
    type: Literal["schedule", "user"]
    id: NonEmpty  # a schedule's name, or a user


class EscalationRuleConfig(Strict, frozen=True, kw_only=True):
    escalation_delay_in_minutes: Annotated[int, Meta(ge=0, le=7 * 24 * 60)]
    targets: Annotated[list[TargetConfig], Meta(min_length=1)]


class EscalationPolicyConfig(Strict, frozen=True, kw_only=True):
    name: NonEmpty
    escalation_rules: Annotated[list[EscalationRuleConfig], Meta(min_length=1)]
    num_loops: Annotated[int, Meta(ge=0, le=9)] = 0  # repeats after the last rule


class OncallConfig(Strict, frozen=True, kw_only=True):
    file: Path | None = None  # a YAML file holding the keys below
    schedules: list[ScheduleConfig] = field(default_factory=list)
    escalation_policies: list[EscalationPolicyConfig] = field(default_factory=list)
    team_label: NonEmpty = "team"
    teams: dict[str, str] = field(default_factory=dict)  # label value -> policy
    default_policy: str | None = None

    @classmethod
    def prepare(cls, data: dict[str, Any], config_dir: Path | None) -> dict[str, Any]:
        """`file: rota.yaml` (relative to the config file): the keys are read from there."""
        if not data.get("file"):
            return data
        path = Path(str(data["file"])).expanduser()
        if not path.is_absolute() and config_dir is not None:
            path = config_dir / path
        inline = sorted(set(data) - {"file"})
        if inline:
            raise ValueError(f"give {', '.join(inline)} in {path} or here, not both")
        import yaml  # only for a rota kept in its own file

        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ValueError(f"{path} is not YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict) or "file" in loaded:
            raise ValueError(f"{path} must be a mapping of the oncall keys (without `file`)")
        return {**loaded, "file": path}

    def __post_init__(self) -> None:
        schedules = [s.name for s in self.schedules]
        policies = [p.name for p in self.escalation_policies]
        for kind, names in (("schedule", schedules), ("escalation policy", policies)):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"{kind} names must differ: {', '.join(twice)}")
        for policy in self.escalation_policies:
            for number, rule in enumerate(policy.escalation_rules):
                for target in rule.targets:
                    if target.type == "schedule" and target.id not in schedules:
                        raise ValueError(
                            f"escalation policy {policy.name!r} rule {number}: no schedule "
                            f"named {target.id!r} (known: {', '.join(schedules) or 'none'})"
                        )
        wanted = [("teams", v) for v in self.teams.values()]
        if self.default_policy is not None:
            wanted.append(("default_policy", self.default_policy))
        for key, name in wanted:
            if name not in policies:
                raise ValueError(
                    f"{key}: no escalation policy named {name!r} "
                    f"(known: {', '.join(policies) or 'none'})"
                )

    def book(self) -> "d.Book":
        """The domain's view of these settings."""
        from oncall_tui.domain import oncall as d

        return d.Book(
            schedules=tuple(_schedule(s) for s in self.schedules),
            policies=tuple(
                d.Policy(
                    p.name,
                    tuple(
                        d.Rule(
                            r.escalation_delay_in_minutes,
                            tuple(d.Target(t.type, t.id) for t in r.targets),
                        )
                        for r in p.escalation_rules
                    ),
                    p.num_loops,
                )
                for p in self.escalation_policies
            ),
            team_label=self.team_label,
            teams=tuple(self.teams.items()),
            default_policy=self.default_policy,
        )


def _schedule(config: ScheduleConfig) -> "d.Schedule":
    from zoneinfo import ZoneInfo

    from oncall_tui.domain import oncall as d

    zone = ZoneInfo(config.time_zone)

    def aware(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)

    layers = tuple(
        d.Layer(
            users=tuple(u.user for u in layer.users),
            virtual_start=aware(layer.rotation_virtual_start) or layer.rotation_virtual_start,
            turn_length=timedelta(seconds=layer.rotation_turn_length_seconds),
            start=aware(layer.start),
            end=aware(layer.end),
            restrictions=tuple(r.restriction() for r in layer.restrictions),
        )
        for layer in config.layers
    )
    return d.Schedule(config.name, zone, layers)
