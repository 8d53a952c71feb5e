"""Mimir/Cortex and Thanos Querier, as their documentation states them, in front of the REAL
Prometheus and Alertmanager of the session stack, driven through the real clients and stores.

Each gateway rule names its source in tests/support/gateways.py ([M-API], [T-Q], ...); the
tests below name the rule they hold the app to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import msgspec
import pytest

from oncall_tui.api import prometheus as prometheus_api
from oncall_tui.cli.checks import check_contexts
from oncall_tui.config import ClusterConfig, Context
from oncall_tui.config.schema import PrometheusConfig, named
from oncall_tui.demo.stack import Stack
from oncall_tui.state.alerts import Poller, Snapshot
from oncall_tui.state.lookups import CannotTell, Lookups
from oncall_tui.state.slo import SLOPoller
from oncall_tui.state.wiring import build_clients
from oncall_tui.wire import errors
from oncall_tui.wire.prometheus import QueryResult
from tests.helpers import eventually
from tests.support.gateways import MimirGateway, Store, ThanosQuerier

pytestmark = pytest.mark.stack
T = TypeVar("T")


@pytest.fixture(scope="module")
def mimir(stack: Stack) -> Iterator[MimirGateway]:
    gateway = MimirGateway(
        stack.prometheus_url or "",
        stack.alertmanager_urls[0],
        tenant="team-a",
        rules_off=frozenset({"no-rules"}),
    ).start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def cortex(stack: Stack) -> Iterator[MimirGateway]:
    gateway = MimirGateway(stack.prometheus_url or "", stack.alertmanager_urls[0], cortex=True)
    yield gateway.start()
    gateway.stop()


@pytest.fixture
def thanos(stack: Stack) -> Iterator[ThanosQuerier]:
    """Two sidecars in front of the stack's Prometheus, an HA pair told apart by `replica`."""
    url = stack.prometheus_url or ""
    gateway = ThanosQuerier(
        [
            Store("sidecar-a", url, {"replica": "A", "tenant_id": "team-a"}),
            Store("sidecar-b", url, {"replica": "B", "tenant_id": "team-a"}),
        ]
    ).start()
    yield gateway
    gateway.stop()


def mimir_context(
    gateway: MimirGateway, tenant: str | None = "team-a", prefix: str = "/prometheus"
) -> Context:
    headers = {"X-Scope-OrgID": tenant} if tenant else {}
    return named(
        Context(
            alertmanagers=[
                ClusterConfig(peers=[gateway.url], path_prefix="/alertmanager", headers=headers)
            ],
            prometheus=PrometheusConfig(url=gateway.url, path_prefix=prefix, headers=headers),
            refresh=1,
        ),
        "mimir",
    )


def thanos_context(
    gateway: ThanosQuerier,
    stack: Stack,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Context:
    return named(
        Context(
            alertmanagers=[ClusterConfig(peers=stack.alertmanager_urls)],
            prometheus=PrometheusConfig(
                url=gateway.url, query_params=params or {}, headers=headers or {}
            ),
            refresh=1,
        ),
        "thanos",
    )


# -- Mimir -------------------------------------------------------------------------------------


async def test_mimir_prefixes_and_tenant_reach_every_server(
    mimir: MimirGateway, stack: Stack
) -> None:
    """[M-API] prefixes, [M-AUTH] the tenant header on every request, [M-AM] one URL."""
    stack.wait_for_firing()
    clients = build_clients(mimir_context(mimir))
    try:
        poller = Poller(clients)
        snapshot = await eventually(
            lambda: _if(poller.poll(rules=True), lambda s: "HighErrorRate" in _names(s))
        )
        assert snapshot.ok, snapshot.errors
        # One URL fronts the ring: one peer, nothing to merge.
        assert [h.peers_up for h in snapshot.health] == [(mimir.url,)]
        assert snapshot.rules is not None and "HighErrorRate" in snapshot.rules.names
        result = await Lookups(clients).query('up{job="churn-api"}')
        assert sorted(s.value for s in result.samples) == [0.0, 1.0]
        assert all("__tenant_id__" not in s.labels for s in result.samples)
        assert mimir.seen("/prometheus/api/v1/query") and mimir.seen("/alertmanager/api/v2/")
        assert all(r.headers.get("x-scope-orgid") == "team-a" for r in mimir.requests)
    finally:
        await clients.aclose()


async def test_mimir_without_a_tenant_is_explained_in_words(mimir: MimirGateway) -> None:
    """[M-ORG] 401 `no org id`: the app says what it means and what to add."""
    clients = build_clients(mimir_context(mimir, tenant=None))
    try:
        with pytest.raises(errors.ServerError) as raised:
            await Lookups(clients).query("up")
        assert raised.value.status == 401
        assert "X-Scope-OrgID" in raised.value.message and "tenant" in raised.value.message
        snapshot = await Poller(clients).poll()
        assert not snapshot.ok and "X-Scope-OrgID" in snapshot.prometheus_error
        lines, ok = await check_contexts([clients])
        text = "\n".join(lines)
        assert not ok, text
        assert "Mimir or Cortex (no tenant sent)" in text and "X-Scope-OrgID" in text, text
    finally:
        await clients.aclose()


async def test_federated_tenants_carry_tenant_id_and_history_still_matches(
    mimir: MimirGateway, stack: Stack
) -> None:
    """[M-AUTH] `a|b`, [M-FED] `__tenant_id__` on every series of a federated query."""
    stack.wait_for_firing()
    lookups = Lookups(build_clients(mimir_context(mimir, tenant="team-a|team-b")))
    try:
        result = await _two_targets(lookups)
        assert {s.labels["__tenant_id__"] for s in result.samples} == {"team-a"}
        direct = Lookups(build_clients(_demo(stack)))
        firing = await direct.query('ALERTS{alertname="ChurnAPIDown",alertstate="firing"}')
        await direct.clients.aclose()
        labels = {k: v for k, v in firing.samples[0].labels.items() if k != "alertstate"}
        history = await eventually(
            lambda: _if(
                lookups.history("ChurnAPIDown", labels, [(600.0, 5.0, 60)]),
                lambda h: "█" in h[0].cells,
            )
        )
        assert history[0].firing_seconds > 0
    finally:
        await lookups.clients.aclose()


async def test_rules_are_read_page_by_page(
    mimir: MimirGateway, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[M-REL] `group_limit` / `group_next_token`: every page read, nothing twice."""
    monkeypatch.setattr(prometheus_api, "RULES_PAGE", 2)
    clients = build_clients(mimir_context(mimir))
    direct = build_clients(
        named(Context(prometheus=PrometheusConfig(url=stack.prometheus_url or "")), "p")
    )
    try:
        before = len(mimir.seen("/api/v1/rules"))
        assert clients.prometheus is not None and direct.prometheus is not None
        paged = await clients.prometheus.rules("alert")
        whole = await direct.prometheus.rules("alert")
        assert [(g.file, g.name) for g in paged] == [(g.file, g.name) for g in whole]
        assert len(whole) > 2
        asked = mimir.seen("/api/v1/rules")[before:]
        assert len(asked) == -(-len(whole) // 2)
        assert all(r.param("group_limit") == "2" for r in asked)
        assert [bool(r.param("group_next_token")) for r in asked] == [False] + [True] * (
            len(asked) - 1
        )
    finally:
        await clients.aclose()
        await direct.aclose()


async def test_ruler_off_for_the_tenant_is_said_and_the_board_goes_on(
    mimir: MimirGateway, stack: Stack
) -> None:
    """[M-422]: rules and pending alerts cannot be had; the words say why."""
    clients = build_clients(mimir_context(mimir, tenant="no-rules"))
    try:
        with pytest.raises(errors.ServerError) as raised:
            await Lookups(clients).alert_rules()
        assert raised.value.status == 422
        assert "rule evaluation is off for this tenant" in raised.value.message
        snapshot = await Poller(clients).poll()
        assert "422" in snapshot.prometheus_error
        # Its own (empty) Alertmanager answered: the board itself works.
        assert snapshot.groups["mimir"] == []
    finally:
        await clients.aclose()


async def test_check_config_names_mimir_and_cortex(
    mimir: MimirGateway, cortex: MimirGateway
) -> None:
    """[M-API] build info names Mimir; [C-API] Cortex is known by its `/api/prom` prefix."""
    entries = [
        build_clients(mimir_context(mimir)),
        build_clients(named(mimir_context(cortex, prefix="/api/prom"), "cortex")),
    ]
    try:
        lines, ok = await check_contexts(entries)
        text = "\n".join(lines)
        assert ok, text
        assert any(ln.startswith("mimir") and "Grafana Mimir" in ln for ln in lines), text
        assert any(ln.startswith("cortex") and "Cortex" in ln for ln in lines), text
        assert cortex.seen("/api/prom/api/v1/")
    finally:
        for entry in entries:
            await entry.aclose()


# -- Thanos ------------------------------------------------------------------------------------


async def test_thanos_dedups_by_default_and_not_when_told(
    thanos: ThanosQuerier, stack: Stack
) -> None:
    """[T-Q] `dedup` (default on) over the replica label; `replicaLabels[]` per request."""
    deduped = Lookups(build_clients(thanos_context(thanos, stack)))
    raw = Lookups(build_clients(thanos_context(thanos, stack, {"dedup": "false"})))
    other = Lookups(build_clients(thanos_context(thanos, stack, {"replicaLabels[]": "none"})))
    try:
        one = await deduped.query('up{job="churn-api"}')
        assert len(one.samples) == 2 and not one.warnings
        assert all("replica" not in s.labels for s in one.samples)
        both = await raw.query('up{job="churn-api"}')
        assert sorted(s.labels["replica"] for s in both.samples) == ["A", "A", "B", "B"]
        assert len((await other.query('up{job="churn-api"}')).samples) == 4
        assert any(r.param("dedup") == "false" for r in thanos.seen("/api/v1/query"))
    finally:
        for lookups in (deduped, raw, other):
            await lookups.clients.aclose()


async def test_thanos_rules_and_alerts_merged_across_rulers(
    thanos: ThanosQuerier, stack: Stack
) -> None:
    """[T-RULES]: two replicas' rules and alerts, merged into one of each."""
    stack.wait_for_firing()
    clients = build_clients(thanos_context(thanos, stack))
    direct = build_clients(
        named(Context(prometheus=PrometheusConfig(url=stack.prometheus_url or "")), "p")
    )
    try:
        assert clients.prometheus is not None and direct.prometheus is not None
        merged = await clients.prometheus.rules("alert")
        whole = await direct.prometheus.rules("alert")
        assert sorted(g.name for g in merged) == sorted(g.name for g in whole)
        alerts = await clients.prometheus.alerts()
        assert len(alerts) == len(await direct.prometheus.alerts())
        lines, ok = await check_contexts([clients])
        assert ok and any("Thanos Querier" in ln for ln in lines), lines
    finally:
        await clients.aclose()
        await direct.aclose()


async def test_thanos_partial_answer_is_partial_everywhere_never_ok(
    thanos: ThanosQuerier, stack: Stack
) -> None:
    """[T-Q] a store down: HTTP 200 with `warnings`. Queries, pending alerts, history and
    SLO figures all say "partial"; with `partial_response=false` the query fails instead."""
    stack.wait_for_firing()
    thanos.stores[1].up = False
    clients = build_clients(thanos_context(thanos, stack))
    strict = build_clients(thanos_context(thanos, stack, {"partial_response": "false"}))
    try:
        lookups = Lookups(clients)
        result = await lookups.query('up{job="churn-api"}')
        assert len(result.samples) == 2 and result.warnings
        assert "sidecar-b" in result.warnings[0]
        snapshot = await Poller(clients).poll()
        assert snapshot.ok  # the Alertmanagers answered: the board works
        assert snapshot.pending_partial.startswith("pending alerts partial")
        assert snapshot.prometheus_active is None  # not trusted to clear held alerts
        with pytest.raises(CannotTell, match="history is partial"):
            await lookups.history(
                "HighErrorRate", {"alertname": "HighErrorRate"}, [(600.0, 5.0, 60)]
            )
        context = msgspec.structs.replace(
            thanos_context(thanos, stack), slos=build_clients(_demo(stack)).context.slos
        )
        slo_clients = build_clients(context)
        try:
            slo = await SLOPoller(slo_clients).poll()
            assert slo.reports and all(
                any(e.startswith("partial: ") and "sidecar-b" in e for e in r.errors)
                for r in slo.reports
            ), [r.errors for r in slo.reports]
        finally:
            await slo_clients.aclose()
        with pytest.raises(errors.ServerError, match="sidecar-b"):
            await Lookups(strict).query("up")
    finally:
        thanos.stores[1].up = True
        await clients.aclose()
        await strict.aclose()


async def test_thanos_tenant_header_is_sent_and_enforced(
    thanos: ThanosQuerier, stack: Stack
) -> None:
    """[T-TEN] `THANOS-TENANT`: with enforcement, only that tenant's series."""
    thanos.enforce_tenancy = True
    mine = Lookups(
        build_clients(thanos_context(thanos, stack, headers={"THANOS-TENANT": "team-a"}))
    )
    theirs = Lookups(
        build_clients(thanos_context(thanos, stack, headers={"THANOS-TENANT": "team-b"}))
    )
    try:
        assert len((await mine.query('up{job="churn-api"}')).samples) == 2
        assert (await theirs.query('up{job="churn-api"}')).samples == ()
        await mine.alert_rules()
        asked = thanos.seen("/api/v1/")
        assert {r.headers.get("thanos-tenant") for r in asked} >= {"team-a", "team-b"}
    finally:
        thanos.enforce_tenancy = False
        await mine.clients.aclose()
        await theirs.clients.aclose()


def _names(snapshot: Snapshot) -> set[str]:
    return {
        a.alert.labels["alertname"]
        for groups in snapshot.groups.values()
        for g in groups or ()
        for a in g.alerts
    }


async def _two_targets(lookups: Lookups) -> QueryResult:
    """Both scrape targets' `up`, once Prometheus has scraped them (a fresh stack has not)."""
    return await eventually(
        lambda: _if(lookups.query('up{job="churn-api"}'), lambda r: len(r.samples) == 2)
    )


def _demo(stack: Stack) -> Context:
    from oncall_tui.cli.demo import demo_context

    return demo_context(stack)


async def _if(awaitable: Awaitable[T], ok: Callable[[T], bool]) -> T | None:
    value = await awaitable
    return value if ok(value) else None
