"""The `oncall:` key of a context: schedules and escalation policies in PagerDuty's shape.

The keys are the course's (`schedules[].layers[].rotation_virtual_start`,
`rotation_turn_length_seconds`, `users[].user`, `restrictions[].type/start_time_of_day/
duration_seconds/start_day_of_week`; `escalation_policies[].num_loops`, `escalation_rules[]
.escalation_delay_in_minutes`, `targets[].type/id`), inline or in a YAML file named by
`oncall.file` (relative to the config file). `team_label` names the alert label whose value
picks a policy through `teams`; `default_policy` pages for alerts without a team.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from oncall_tui.domain import oncall as d
from oncall_tui.domain.restrictions import Restriction

DAY_S = 86400


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerUser(_Strict):
    user: str = Field(min_length=1)


class RestrictionConfig(_Strict):
    """The hours a layer covers, on the schedule's wall clock (PagerDuty's restrictions)."""

    type: Literal["daily_restriction", "weekly_restriction"]
    start_time_of_day: time = Field(description='"08:00:00", quoted (YAML reads 8:00 as 480)')
    duration_seconds: int = Field(gt=0, le=7 * DAY_S)
    start_day_of_week: int | None = Field(
        default=None, ge=1, le=7, description="1 Monday ... 7 Sunday; weekly only"
    )

    @field_validator("start_time_of_day", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        # YAML 1.1 reads unquoted 22:00:00 as 79200 but 22:00 as 1320 (base 60): a number
        # cannot be told apart, so it is refused rather than read as the wrong hour.
        if not isinstance(value, str | time):
            raise ValueError(f'write the time quoted, e.g. "22:00:00" (YAML read {value!r})')
        return value

    @model_validator(mode="after")
    def _fits(self) -> RestrictionConfig:
        if self.type == "daily_restriction" and self.duration_seconds > DAY_S:
            raise ValueError("a daily_restriction lasts at most 86400 seconds (a day)")
        if self.type == "weekly_restriction" and self.start_day_of_week is None:
            raise ValueError("a weekly_restriction needs start_day_of_week (1 Monday ... 7 Sunday)")
        return self

    def restriction(self) -> Restriction:
        start = self.start_time_of_day
        return Restriction(
            "daily" if self.type == "daily_restriction" else "weekly",
            timedelta(hours=start.hour, minutes=start.minute, seconds=start.second),
            timedelta(seconds=self.duration_seconds),
            self.start_day_of_week or 1,
        )


class LayerConfig(_Strict):
    """One rotation. A start without an offset is read in the schedule's time zone."""

    rotation_virtual_start: datetime
    rotation_turn_length_seconds: int = Field(gt=0, description="604800: a week")
    users: list[LayerUser] = Field(min_length=1)
    start: datetime | None = Field(default=None, description="the layer has no one before")
    end: datetime | None = Field(default=None, description="the layer has no one from")
    restrictions: list[RestrictionConfig] = Field(
        default_factory=list, description="the layer has no one outside them; none: always on"
    )


class ScheduleConfig(_Strict):
    name: str = Field(min_length=1)
    time_zone: str = "UTC"
    layers: list[LayerConfig] = Field(min_length=1, description="later layers override earlier")

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (e.g. Europe/Berlin, UTC)") from None
        return value


class TargetConfig(_Strict):
    type: Literal["schedule", "user"]
    id: str = Field(min_length=1, description="a schedule's name, or a user")


class EscalationRuleConfig(_Strict):
    escalation_delay_in_minutes: int = Field(ge=0, le=7 * 24 * 60)
    targets: list[TargetConfig] = Field(min_length=1)


class EscalationPolicyConfig(_Strict):
    name: str = Field(min_length=1)
    escalation_rules: list[EscalationRuleConfig] = Field(min_length=1)
    num_loops: int = Field(default=0, ge=0, le=9, description="repeats after the last rule")


class OncallConfig(_Strict):
    file: Path | None = Field(default=None, description="a YAML file holding the keys below")
    schedules: list[ScheduleConfig] = Field(default_factory=list)
    escalation_policies: list[EscalationPolicyConfig] = Field(default_factory=list)
    team_label: str = Field(default="team", min_length=1)
    teams: dict[str, str] = Field(default_factory=dict, description="label value -> policy")
    default_policy: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_file(cls, raw: Any, info: ValidationInfo) -> Any:
        if not isinstance(raw, dict) or not raw.get("file"):
            return raw
        path = Path(str(raw["file"])).expanduser()
        base = (info.context or {}).get("config_dir")
        if not path.is_absolute() and isinstance(base, Path):
            path = base / path
        inline = sorted(set(raw) - {"file"})
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

    @model_validator(mode="after")
    def _names_resolve(self) -> OncallConfig:
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
        return self

    def book(self) -> d.Book:
        """The domain's view of these settings."""
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


def _schedule(config: ScheduleConfig) -> d.Schedule:
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
