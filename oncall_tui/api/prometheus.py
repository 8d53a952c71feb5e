"""Prometheus HTTP API v1 (and the engines that speak it: Mimir, Thanos, VictoriaMetrics).

Sample values arrive as strings ("NaN", "+Inf" included) and leave as floats.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import msgspec

from oncall_tui.api.decoding import decode
from oncall_tui.api.http import ClientOptions, Endpoint
from oncall_tui.wire import errors
from oncall_tui.wire.prometheus import (
    BuildInfo,
    QueryResult,
    RuleAlert,
    RuleGroup,
    RuntimeInfo,
    Sample,
    Series,
    sample_value,
)

API = "/api/v1"
# Longer expressions go in a POST body: URLs past a few KB are cut by proxies.
MAX_GET_QUERY = 1500


class _Envelope(msgspec.Struct, frozen=True):
    status: str
    data: msgspec.Raw = msgspec.Raw(b"null")
    errorType: str = ""
    error: str = ""
    warnings: list[str] = msgspec.field(default_factory=list)


class _QueryData(msgspec.Struct, frozen=True):
    resultType: str
    result: msgspec.Raw


class _RawVectorSample(msgspec.Struct, frozen=True):
    metric: dict[str, str]
    value: tuple[float, str]


class _RawSeries(msgspec.Struct, frozen=True):
    metric: dict[str, str]
    values: list[tuple[float, str]] = msgspec.field(default_factory=list)


class _Rules(msgspec.Struct, frozen=True):
    groups: list[RuleGroup]


class _Alerts(msgspec.Struct, frozen=True):
    alerts: list[RuleAlert]


def _time(value: datetime | float) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).timestamp() if value.tzinfo else value.timestamp()
    return f"{value:.3f}"


class PrometheusClient:
    """One Prometheus-compatible server."""

    def __init__(self, url: str, options: ClientOptions, path_prefix: str = "") -> None:
        self.url = url.rstrip("/")
        self.endpoint = Endpoint(self.url + path_prefix + API, options)

    def __repr__(self) -> str:
        return f"PrometheusClient({self.url!r})"

    async def _call(self, path: str, params: dict[str, str], *, post: bool = False) -> _Envelope:
        if post:
            response = await self.endpoint.request("POST", path, data=params)
        else:
            response = await self.endpoint.request("GET", path, params=params)
        envelope = decode(self.url, response.content, _Envelope)
        if envelope.status != "success":
            raise errors.ServerError(self.url, response.status_code, envelope.error)
        return envelope

    async def query(self, expr: str, at: datetime | float | None = None) -> QueryResult:
        """Instant query; long expressions are POSTed."""
        params = {"query": expr}
        if at is not None:
            params["time"] = _time(at)
        envelope = await self._call("/query", params, post=len(expr) > MAX_GET_QUERY)
        return _query_result(self.url, envelope)

    async def query_range(
        self, expr: str, start: datetime | float, end: datetime | float, step: float
    ) -> QueryResult:
        params = {"query": expr, "start": _time(start), "end": _time(end), "step": f"{step:g}"}
        envelope = await self._call("/query_range", params, post=len(expr) > MAX_GET_QUERY)
        return _query_result(self.url, envelope)

    async def rules(self, kind: str | None = None) -> list[RuleGroup]:
        """Rule groups; `kind` is "alert" or "record" to ask for one type only."""
        envelope = await self._call("/rules", {"type": kind} if kind else {})
        return decode(self.url, envelope.data, _Rules).groups

    async def alerts(self) -> list[RuleAlert]:
        """Alerts Prometheus holds, PENDING ones included (Alertmanager never sees those)."""
        return decode(self.url, (await self._call("/alerts", {})).data, _Alerts).alerts

    async def build_info(self) -> BuildInfo:
        envelope = await self._call("/status/buildinfo", {})
        return decode(self.url, envelope.data, BuildInfo)

    async def runtime_info(self) -> RuntimeInfo:
        """Start time and storage retention ("15d", "15d or 10GiB"); Prometheus only."""
        envelope = await self._call("/status/runtimeinfo", {})
        return decode(self.url, envelope.data, RuntimeInfo)

    async def aclose(self) -> None:
        await self.endpoint.aclose()


def _query_result(server: str, envelope: _Envelope) -> QueryResult:
    parsed = decode(server, envelope.data, _QueryData)
    kind = parsed.resultType
    warnings = tuple(envelope.warnings)
    if kind == "vector":
        raw = decode(server, parsed.result, list[_RawVectorSample])
        samples = tuple(Sample(s.metric, s.value[0], sample_value(s.value[1])) for s in raw)
        return QueryResult(kind, samples=samples, warnings=warnings)
    if kind == "matrix":
        series = tuple(
            Series(s.metric, tuple((t, sample_value(v)) for t, v in s.values))
            for s in decode(server, parsed.result, list[_RawSeries])
        )
        return QueryResult(kind, series=series, warnings=warnings)
    if kind in ("scalar", "string"):
        point = decode(server, parsed.result, tuple[float, str])
        value = sample_value(point[1]) if kind == "scalar" else math.nan
        return QueryResult(kind, scalar=value, warnings=warnings)
    raise errors.BadResponse(server, f"unknown result type {kind!r}")
