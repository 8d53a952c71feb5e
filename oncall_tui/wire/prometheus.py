"""Prometheus HTTP API v1 answers as the rest of the app sees them: samples, series, rules.

Shared by the client (api/), the pure logic (domain/) and the views; no client code here.
Sample values arrive as strings ("NaN", "+Inf" included) and leave as floats.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import msgspec


def sample_value(text: str) -> float:
    """Prometheus's string sample to a float; NaN and +/-Inf come through as such."""
    try:
        return float(text)
    except ValueError:
        return math.nan


@dataclass(frozen=True, slots=True)
class Sample:
    labels: Mapping[str, str]
    timestamp: float
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class QueryResult:
    """An instant query's answer: a vector (`samples`) or a scalar/string (`scalar`)."""

    result_type: str
    samples: tuple[Sample, ...] = ()
    series: tuple[Series, ...] = ()
    scalar: float | None = None
    warnings: tuple[str, ...] = ()


class RuleAlert(msgspec.Struct, frozen=True, rename="camel"):
    labels: dict[str, str]
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    state: str = ""  # pending | firing
    active_at: datetime | None = None
    value: str = ""

    @property
    def float_value(self) -> float:
        return sample_value(self.value)


class Rule(msgspec.Struct, frozen=True, rename="camel"):
    name: str
    query: str
    type: str  # alerting | recording
    health: str = ""
    duration: float = 0.0
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    alerts: list[RuleAlert] = msgspec.field(default_factory=list)
    last_error: str = ""
    state: str = ""


class RuleGroup(msgspec.Struct, frozen=True, rename="camel"):
    name: str
    file: str
    rules: list[Rule]
    interval: float = 0.0
    # Prometheus's clock; "0001-01-01T00:00:00Z" before the first evaluation.
    last_evaluation: datetime | None = None
    evaluation_time: float = 0.0  # seconds the last evaluation took (Prometheus 2.x)


class BuildInfo(msgspec.Struct, frozen=True, rename="camel"):
    version: str = ""
    revision: str = ""
    branch: str = ""
    go_version: str = ""


class RuntimeInfo(msgspec.Struct, frozen=True, rename="camel"):
    start_time: str = ""
    storage_retention: str = ""
