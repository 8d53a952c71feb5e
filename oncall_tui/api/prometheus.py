"""Prometheus HTTP API v1 (and the engines that speak it: Mimir, Thanos, VictoriaMetrics).

Sample values arrive as strings ("NaN", "+Inf" included) and leave as floats.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar
from urllib.parse import urlsplit

import msgspec

from oncall_tui.api import ioloop
from oncall_tui.api.decoding import decode
from oncall_tui.api.http import ClientOptions, Endpoint
from oncall_tui.domain.engines import explain
from oncall_tui.wire import errors
from oncall_tui.wire.engine import EngineFacts
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

T = TypeVar("T")
API = "/api/v1"
# Longer expressions go in a POST body: URLs past a few KB are cut by proxies.
MAX_GET_QUERY = 1500
# Rule groups per page where the server pages (Mimir's ruler, Prometheus 3); others ignore it.
RULES_PAGE = 200
MAX_RULE_PAGES = 100


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


# vmalert 1.79 answers `{"alerts": null}` (and null groups) before its first evaluation.
class _Rules(msgspec.Struct, frozen=True):
    groups: list[RuleGroup] | None
    groupNextToken: str = ""


class _Alerts(msgspec.Struct, frozen=True):
    alerts: list[RuleAlert] | None


def _time(value: datetime | float) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC).timestamp() if value.tzinfo else value.timestamp()
    return f"{value:.3f}"


class PrometheusClient:
    """One Prometheus-compatible server."""

    def __init__(
        self,
        url: str,
        options: ClientOptions,
        path_prefix: str = "",
        query_params: dict[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.path_prefix = path_prefix
        self.endpoint = Endpoint(self.url + path_prefix + API, options)
        # Sent with every query: Thanos's `dedup`, `partial_response`, `replicaLabels[]`.
        self.query_params = dict(query_params or {})

    def __repr__(self) -> str:
        return f"PrometheusClient({self.url!r})"

    async def _call(
        self,
        path: str,
        params: dict[str, str],
        read: Callable[[_Envelope], T],
        *,
        post: bool = False,
    ) -> T:
        """`read` of the answer's envelope. Asked, decoded and read on the I/O loop, as the
        Alertmanager peers' answers are: a Prometheus holding thousands of alerts answers
        /alerts with megabytes every poll, which were decoded on the app's loop."""
        return await ioloop.run(self._called(path, params, read, post))

    async def _called(
        self, path: str, params: dict[str, str], read: Callable[[_Envelope], T], post: bool
    ) -> T:
        try:
            if post:
                response = await self.endpoint.request("POST", path, data=params)
            else:
                response = await self.endpoint.request("GET", path, params=params)
        except errors.ServerError as exc:
            said = explain(exc.status, exc.detail, path)
            if said == exc.detail:
                raise
            raise type(exc)(exc.server, exc.status, said) from None
        envelope = decode(self.url, response.content, _Envelope)
        if envelope.status != "success":
            raise errors.ServerError(self.url, response.status_code, envelope.error)
        return read(envelope)

    async def query(self, expr: str, at: datetime | float | None = None) -> QueryResult:
        """Instant query; long expressions are POSTed."""
        params = {**self.query_params, "query": expr}
        if at is not None:
            params["time"] = _time(at)
        long = len(expr) > MAX_GET_QUERY
        return await self._call("/query", params, partial(_query_result, self.url), post=long)

    async def query_range(
        self, expr: str, start: datetime | float, end: datetime | float, step: float
    ) -> QueryResult:
        params = {
            **self.query_params,
            "query": expr,
            "start": _time(start),
            "end": _time(end),
            "step": f"{step:g}",
        }
        long = len(expr) > MAX_GET_QUERY
        return await self._call("/query_range", params, partial(_query_result, self.url), post=long)

    async def rules(self, kind: str | None = None) -> list[RuleGroup]:
        """Rule groups; `kind` is "alert" or "record" to ask for one type only.

        Servers that page (Mimir's ruler, Prometheus 3) answer `group_limit` groups and a
        `groupNextToken`; every page is read. Others ignore the parameter and answer all.
        """
        params = {"group_limit": str(RULES_PAGE)}
        if kind:
            params["type"] = kind
        groups: list[RuleGroup] = []
        for _ in range(MAX_RULE_PAGES):
            page = await self._call("/rules", params, partial(_data, self.url, _Rules))
            groups.extend(page.groups or ())
            if not page.groupNextToken:
                return groups
            params["group_next_token"] = page.groupNextToken
        raise errors.BadResponse(self.url, f"more than {MAX_RULE_PAGES} pages of rules")

    async def alerts(self) -> list[RuleAlert]:
        """Alerts Prometheus holds, PENDING ones included (Alertmanager never sees those)."""
        return (await self.alerts_answer())[0]

    async def alerts_answer(self) -> tuple[list[RuleAlert], tuple[str, ...]]:
        """The alerts and the server's warnings: a Thanos Querier whose rulers did not all
        answer says so in `warnings` (HTTP 200): the list is then partial."""

        def read(envelope: _Envelope) -> tuple[list[RuleAlert], tuple[str, ...]]:
            found = decode(self.url, envelope.data, _Alerts).alerts or []
            return found, tuple(envelope.warnings)

        return await self._call("/alerts", {}, read)

    async def build_info(self) -> BuildInfo:
        return await self._call("/status/buildinfo", {}, partial(_data, self.url, BuildInfo))

    async def runtime_info(self) -> RuntimeInfo:
        """Start time and storage retention ("15d", "15d or 10GiB"); Prometheus only."""
        return await self._call("/status/runtimeinfo", {}, partial(_data, self.url, RuntimeInfo))

    async def engine_facts(self) -> EngineFacts:
        """What this URL says about itself, for `domain.engines.identify`: build info and
        its headers, then only what tells the remaining candidates apart."""
        status, info, said, headers = 0, {}, "", frozenset[str]()
        try:
            response = await self.endpoint.request("GET", "/status/buildinfo")
            status = response.status_code
            headers = frozenset(k.lower() for k in response.headers)
            with contextlib.suppress(msgspec.DecodeError):
                envelope = msgspec.json.decode(response.content, type=_Envelope)
                found = msgspec.json.decode(envelope.data)
                info = found if isinstance(found, dict) else {}
        except errors.ServerError as exc:
            status, said = exc.status, exc.detail
        except errors.ApiError as exc:
            return EngineFacts(self.url + self.path_prefix, buildinfo_error=exc.message)
        flags: str | None = None
        stores: bool | None = None
        query_ok: bool | None = None
        victoria = "x-server-hostname" in headers or "unsupported path requested" in said
        if victoria:
            flags = await self._root_text("/flags")
        if "unsupported path requested" in said:
            try:
                await self.query("1")
                query_ok = True
            except errors.ApiError:
                query_ok = False
        elif status == 200 and not victoria and "application" not in info:
            try:
                await self.endpoint.request("GET", "/stores")
                stores = True
            except errors.ApiError:
                stores = False
        elif status != 200 and not said:
            try:
                await self.query("1")
                query_ok = True
            except errors.ApiError:
                query_ok = False
        return EngineFacts(
            # With its prefix: Cortex is known by `/api/prom`, a vmselect by `/select/`.
            self.url + self.path_prefix,
            buildinfo_status=status,
            buildinfo=info,
            buildinfo_error=said,
            headers=headers,
            flags=flags,
            stores=stores,
            query_ok=query_ok,
        )

    async def _root_text(self, path: str) -> str | None:
        """A path at the server's root (VictoriaMetrics' `/flags`), whatever the prefix.
        Read on the I/O loop, as every request of the endpoint is (api/ioloop.py), with the
        client it already has there."""
        return await ioloop.run(self._read_root(path))

    async def _read_root(self, path: str) -> str | None:
        parts = urlsplit(self.url)
        client = self.endpoint.client
        import httpx  # loaded with the client

        try:
            response = await client.get(f"{parts.scheme}://{parts.netloc}{path}")
        except httpx.HTTPError:
            return None
        return response.text[:65536] if response.is_success else None

    async def aclose(self) -> None:
        await self.endpoint.aclose()


def _data(server: str, kind: type[T], envelope: _Envelope) -> T:
    return decode(server, envelope.data, kind)


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
