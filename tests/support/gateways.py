"""Mimir/Cortex and Thanos Querier gateways in front of the REAL Prometheus and Alertmanager.

Neither engine installs here, so these gateways stand where they would and enforce what each
engine's documentation says it does; the data always comes from the real servers behind.
Every rule names its source. What a document does not pin down (an error's exact words or
status) is marked ASSUMED, and the client must not depend on it beyond showing it.

Mimir (`MimirGateway`), sources:
  [M-API]  Grafana Mimir HTTP API reference, grafana.com/docs/mimir/latest/references/http-api/
           ("Querier / Query-frontend": `<prometheus-http-prefix>/api/v1/...`, prefix
           `/prometheus`; "Alertmanager": `<alertmanager-http-prefix>/api/v2/...`, prefix
           `/alertmanager`; "Ruler": `GET <prometheus-http-prefix>/api/v1/rules` and
           `.../api/v1/alerts`; "Build information": `GET /api/v1/status/buildinfo`).
  [M-AUTH] Mimir "Authentication and authorization", grafana.com/docs/mimir/latest/manage/
           secure/authentication-and-authorization/: the tenant comes from `X-Scope-OrgID`;
           with `-tenant-federation.enabled=true` several tenants are separated by `|`.
  [M-FED]  Mimir "Tenant federation" (grafana.com/docs/enterprise-metrics/latest/
           tenant-management/tenant-federation/): a federated query's series carry a
           `__tenant_id__` label naming the tenant they came from.
  [M-REL]  Mimir release notes (2.15): "the ruler's `<prometheus-http-prefix>/api/v1/rules`
           endpoint now supports the `exclude_alerts`, `group_limit`, and `group_next_token`
           parameters"; the page's token comes back as `groupNextToken` (Prometheus HTTP API,
           prometheus.io/docs/prometheus/latest/querying/api/#rules).
  [M-ORG]  Without the header Mimir answers 401 with the body `no org id` (seen in
           grafana/mimir issue 8165, and FACTS.md).
  [M-422]  With rule evaluation off for the tenant the ruler API answers 422 (FACTS.md,
           first round); the error's words: ASSUMED.
  [M-AM]   The Alertmanager is one URL in front of a sharded ring ([M-API], "Alertmanager";
           Mimir architecture, "Alertmanager" component): the client sees one peer.
Cortex (`MimirGateway(cortex=True)`): [C-API] Cortex HTTP API reference, cortexmetrics.io/
  docs/api/: the Prometheus API is served under `/api/prom` (the legacy prefix Mimir dropped)
  and `/prometheus`; `X-Scope-OrgID` as Mimir.

Thanos Querier (`ThanosQuerier`), sources:
  [T-Q]    Thanos "Querier/Query" component docs, thanos.io/tip/components/query.md:
           deduplication over `--query.replica-label` (overridden per request by
           `replicaLabels[]`), the `dedup` parameter (default true), `partial_response`
           (default from `--query.partial-response`, on): with a store down the answer is
           HTTP 200 with the data of the others and `warnings`; off, the query fails
           (status and words ASSUMED: 422, as Prometheus answers an expression that cannot
           be executed). `GET /api/v1/stores` lists the stores.
  [T-RULES] Thanos "Rules API" proposal (thanos.io/tip/proposals-done/
           202001-thanos-rules-api.md) and the Querier docs: `/api/v1/rules` and
           `/api/v1/alerts` merge every ruler's (and Prometheus sidecar's) answer,
           deduplicated over the replica labels; partial answers warn as queries do.
  [T-TEN]  Thanos "Tenancy awareness in query path" (thanos.io/tip/proposals-done/
           202304-query-path-tenancy.md) and Querier flags: tenant from the `THANOS-TENANT`
           header (`--query.tenant-header`), `default-tenant` without one; with
           `--query.enforce-tenancy` only series whose `tenant_id` label is the tenant.
  The gateway evaluates PromQL on each store's real Prometheus and merges the answers;
  the real Querier merges raw series first. Identical for the replicas used here.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Answer = tuple[int, str, bytes]  # status, content type, body
JSON = "application/json"


def _json(status: int, payload: object) -> Answer:
    return status, JSON, json.dumps(payload).encode()


def _error(status: int, error_type: str, words: str) -> Answer:
    return _json(status, {"status": "error", "errorType": error_type, "error": words})


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def param(self, name: str, default: str = "") -> str:
        """A parameter from the query string or a form body (PromQL may be POSTed)."""
        for key, value in self.query + self.form():
            if key == name:
                return value
        return default

    def params(self, name: str) -> list[str]:
        return [v for k, v in self.query + self.form() if k == name]

    def form(self) -> list[tuple[str, str]]:
        if self.method != "POST" or not self.body:
            return []
        return urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True)


def forward(base: str, request: Request, path: str | None = None) -> Answer:
    """The request, sent on to the real server at `base`; its answer, whatever it is."""
    target = base.rstrip("/") + (path if path is not None else request.path)
    params = request.query + request.form()
    body = None
    if request.method == "POST":
        body = urllib.parse.urlencode(params).encode()
    elif params:
        target += "?" + urllib.parse.urlencode(params)
    outgoing = urllib.request.Request(target, data=body, method=request.method)
    if body is not None:
        outgoing.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(outgoing, timeout=10) as answer:
            return answer.status, answer.headers.get("Content-Type", JSON), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", JSON), exc.read()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up (the app closing mid-poll) is not the gateway's failure.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Gateway:
    """A threaded HTTP server on 127.0.0.1 answering with `handle`; it records every request
    (method, path, the headers it got) so tests can check what the client sent."""

    def __init__(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    parts.path,
                    urllib.parse.parse_qsl(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                with gateway.lock:
                    gateway.requests.append(request)
                status, ctype, body = gateway.handle(request)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.server = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def seen(self, fragment: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if fragment in r.path]

    def handle(self, request: Request) -> Answer:
        raise NotImplementedError


def _add_labels(answer: Answer, labels: Mapping[str, str]) -> list[dict[str, Any]] | None:
    """The series of a query answer with `labels` added; None for a scalar or an error."""
    status, _, body = answer
    if status != 200:
        return None
    data = json.loads(body).get("data") or {}
    if data.get("resultType") not in ("vector", "matrix"):
        return None
    found: list[dict[str, Any]] = data["result"]
    for series in found:
        series["metric"] = {**series["metric"], **labels}
    return found


# -- Mimir / Cortex ----------------------------------------------------------------------------


@dataclass
class MimirGateway(Gateway):
    """Mimir (or, with `cortex`, Cortex) in front of one Prometheus and one Alertmanager.

    `tenant` holds the real servers' data; any other tenant is valid and empty, as a new
    tenant of a real Mimir is. `rules_off` lists tenants whose rule evaluation is off.
    """

    prometheus: str
    alertmanager: str
    tenant: str = "team-a"
    rules_off: frozenset[str] = frozenset()
    cortex: bool = False
    version: str = "2.15.0"

    def __post_init__(self) -> None:
        Gateway.__init__(self)

    @property
    def prefixes(self) -> tuple[str, ...]:
        # [C-API] Cortex: /api/prom (legacy) and /prometheus; [M-API] Mimir: /prometheus.
        return ("/api/prom", "/prometheus") if self.cortex else ("/prometheus",)

    def handle(self, request: Request) -> Answer:
        org = request.headers.get("x-scope-orgid", "")
        if not org:
            return 401, "text/plain; charset=utf-8", b"no org id\n"  # [M-ORG]
        tenants = org.split("|")  # [M-AUTH] federation: tenants separated by |
        if request.path.startswith("/alertmanager/api/v2/"):
            return self._alertmanager(request, tenants)
        for prefix in self.prefixes:
            if request.path.startswith(prefix + "/api/v1/"):
                return self._prometheus(request, request.path.removeprefix(prefix), tenants)
        if request.path == "/api/v1/status/buildinfo":
            return self._buildinfo()
        return 404, "text/plain; charset=utf-8", b"404 page not found\n"

    def _buildinfo(self) -> Answer:
        if self.cortex:
            # Cortex's buildinfo is Prometheus-shaped: no `application`, no `features`.
            return _json(200, {"status": "success", "data": {"version": "1.16.0"}})
        # [M-API] "Build information": Mimir names itself and lists its features.
        return _json(
            200,
            {
                "status": "success",
                "data": {
                    "application": "Grafana Mimir",
                    "version": self.version,
                    "revision": "test",
                    "branch": "HEAD",
                    "goVersion": "go1.22",
                    "features": {"ruler_config_api": "true", "alertmanager_config_api": "true"},
                },
            },
        )

    def _alertmanager(self, request: Request, tenants: list[str]) -> Answer:
        # [M-AM] one URL fronts the ring; the tenant's Alertmanager answers as the real one.
        if len(tenants) > 1:
            return 400, "text/plain", b"multiple org IDs present\n"  # the AM is per tenant
        listing = request.path.endswith(("/alerts/groups", "/silences"))
        if tenants[0] != self.tenant and listing:
            return _json(200, [])
        path = request.path.removeprefix("/alertmanager")
        return forward(self.alertmanager, request, path)

    def _prometheus(self, request: Request, path: str, tenants: list[str]) -> Answer:
        if path == "/api/v1/status/buildinfo":
            return self._buildinfo()
        if path in ("/api/v1/rules", "/api/v1/alerts"):
            return self._ruler(request, path, tenants)
        if path in ("/api/v1/query", "/api/v1/query_range"):
            return self._query(request, path, tenants)
        if tenants == [self.tenant]:
            return forward(self.prometheus, request, path)
        return _json(200, {"status": "success", "data": []})

    def _query(self, request: Request, path: str, tenants: list[str]) -> Answer:
        if tenants == [self.tenant]:
            return forward(self.prometheus, request, path)
        kind = "matrix" if path.endswith("query_range") else "vector"
        merged: list[dict[str, Any]] = []
        for tenant in tenants:
            if tenant != self.tenant:
                continue  # an empty tenant adds no series
            answer = forward(self.prometheus, request, path)
            series = _add_labels(answer, {"__tenant_id__": tenant})  # [M-FED]
            if series is None:
                return answer
            merged += series
        return _json(200, {"status": "success", "data": {"resultType": kind, "result": merged}})

    def _ruler(self, request: Request, path: str, tenants: list[str]) -> Answer:
        if len(tenants) > 1:
            # The ruler is not federated (grafana/mimir issue 8165: "no valid org id found").
            return _error(500, "server_error", "no valid org id found")
        if tenants[0] in self.rules_off:
            # [M-422] status from FACTS.md; the words ASSUMED.
            return _error(422, "bad_data", "ruler evaluation is disabled for this tenant")
        if tenants[0] != self.tenant:
            key = "groups" if path.endswith("rules") else "alerts"
            return _json(200, {"status": "success", "data": {key: []}})
        if path.endswith("alerts"):
            return forward(self.prometheus, request, path)
        return self._paged_rules(request, path)

    def _paged_rules(self, request: Request, path: str) -> Answer:
        """[M-REL] `group_limit` groups per page and a `groupNextToken` to ask for the next."""
        upstream = Request("GET", path, [(k, v) for k, v in request.query if k == "type"], {}, b"")
        status, ctype, body = forward(self.prometheus, upstream)
        if status != 200:
            return status, ctype, body
        groups = json.loads(body)["data"]["groups"]
        limit = int(request.param("group_limit") or 0)
        token = request.param("group_next_token")
        keys = [_group_token(g) for g in groups]
        start = 0
        if token:
            if token not in keys:
                return _error(400, "bad_data", "invalid group_next_token")
            start = keys.index(token)
        end = start + limit if limit > 0 else len(groups)
        data: dict[str, Any] = {"groups": groups[start:end]}
        if end < len(groups):
            data["groupNextToken"] = keys[end]
        return _json(200, {"status": "success", "data": data})


def _group_token(group: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(f"{group['file']};{group['name']}".encode()).decode()


# -- Thanos Querier ----------------------------------------------------------------------------


@dataclass
class Store:
    """One StoreAPI behind the Querier: a real Prometheus (a sidecar adds its external labels)."""

    name: str
    url: str
    labels: dict[str, str] = field(default_factory=dict)
    up: bool = True


@dataclass
class ThanosQuerier(Gateway):
    stores: list[Store]
    replica_labels: tuple[str, ...] = ("replica",)  # --query.replica-label
    partial_default: bool = True  # --query.partial-response
    enforce_tenancy: bool = False  # --query.enforce-tenancy
    version: str = "0.34.1"

    def __post_init__(self) -> None:
        Gateway.__init__(self)

    def handle(self, request: Request) -> Answer:
        path = request.path
        if path == "/api/v1/status/buildinfo":
            return _json(200, {"status": "success", "data": {"version": self.version}})
        if path == "/api/v1/stores":  # [T-Q]
            listed = [{"name": s.name, "labelSets": [s.labels]} for s in self.stores if s.up]
            return _json(200, {"status": "success", "data": {"sidecar": listed}})
        if path in ("/api/v1/query", "/api/v1/query_range"):
            return self._query(request, path)
        if path in ("/api/v1/rules", "/api/v1/alerts"):
            return self._rules_or_alerts(request, path)
        return 404, "text/plain; charset=utf-8", b"404 page not found\n"

    # [T-Q] parameters ---------------------------------------------------------------------

    def _dedup(self, request: Request) -> tuple[str, ...]:
        if request.param("dedup", "true").lower() in ("false", "0"):
            return ()
        return tuple(request.params("replicaLabels[]")) or self.replica_labels

    def _partial(self, request: Request) -> bool:
        said = request.param("partial_response")
        return self.partial_default if not said else said.lower() in ("true", "1")

    def _tenant(self, request: Request) -> str:
        return request.headers.get("thanos-tenant", "default-tenant")  # [T-TEN]

    def _visible(self, request: Request, labels: Mapping[str, str]) -> bool:
        return not self.enforce_tenancy or labels.get("tenant_id") == self._tenant(request)

    def _gather(
        self, request: Request, ask: Callable[[Store], Answer]
    ) -> tuple[list[tuple[Store, Answer]], list[str], Answer | None]:
        """Every store's answer; a down store is a warning, or the whole answer's failure."""
        answers, warnings = [], []
        for store in self.stores:
            if not store.up:
                said = f"receive series from {store.name}: rpc error: connection refused"
                if not self._partial(request):
                    return [], [], _error(422, "execution", said)  # ASSUMED status
                warnings.append(said)
                continue
            answers.append((store, ask(store)))
        return answers, warnings, None

    def _query(self, request: Request, path: str) -> Answer:
        answers, warnings, failed = self._gather(request, lambda s: forward(s.url, request))
        if failed is not None:
            return failed
        kind = "matrix" if path.endswith("query_range") else "vector"
        dropped = self._dedup(request)
        merged: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
        for store, answer in answers:
            series = _add_labels(answer, store.labels)
            if series is None:
                return answer  # an error, or a scalar: every replica answers the same
            for one in series:
                if not self._visible(request, one["metric"]):
                    continue
                one["metric"] = {k: v for k, v in one["metric"].items() if k not in dropped}
                merged.setdefault(tuple(sorted(one["metric"].items())), one)
        payload: dict[str, Any] = {
            "status": "success",
            "data": {"resultType": kind, "result": list(merged.values())},
        }
        if warnings:
            payload["warnings"] = warnings  # [T-Q] partial: HTTP 200 with warnings
        return _json(200, payload)

    def _rules_or_alerts(self, request: Request, path: str) -> Answer:
        """[T-RULES] every ruler's groups or alerts, external labels added, merged over the
        replica labels."""
        answers, warnings, failed = self._gather(
            request, lambda s: forward(s.url, Request("GET", path, request.query, {}, b""))
        )
        if failed is not None:
            return failed
        dropped = set(self.replica_labels)
        key_name = "groups" if path.endswith("rules") else "alerts"
        merged: dict[str, Any] = {}
        for store, (status, ctype, body) in answers:
            if status != 200:
                return status, ctype, body
            shown = {k: v for k, v in store.labels.items() if k not in dropped}
            for item in json.loads(body)["data"][key_name] or []:
                if key_name == "groups":
                    for rule in item["rules"]:
                        rule["labels"] = {**rule.get("labels", {}), **shown}
                        for alert in rule.get("alerts", []):
                            alert["labels"] = {**alert["labels"], **shown}
                    key = f"{item['file']};{item['name']};{sorted(shown.items())}"
                else:
                    item["labels"] = {**item["labels"], **shown}
                    if not self._visible(request, {**item["labels"], **store.labels}):
                        continue
                    key = json.dumps(sorted(item["labels"].items()))
                merged.setdefault(key, item)
        payload: dict[str, Any] = {"status": "success", "data": {key_name: list(merged.values())}}
        if warnings:
            payload["warnings"] = warnings
        return _json(200, payload)
