"""Several query backends in one context, each owning the alerts of its cluster (issue 15).

Two real backends: a demo Prometheus whose extra rules fire alerts labelled `cluster=eu`,
and VictoriaMetrics + vmalert (cluster `us`, its alerts labelled by vmalert), both notifying
this module's own Alertmanager. A FaultProxy in front of each server records what it was
asked: an alert's history, rules, triage and SLO queries must reach its own backend only,
and with `us` gone the board and `eu`'s views keep working.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import msgspec
import pytest

from oncall_tui.cli.checks import check_contexts
from oncall_tui.config import Context
from oncall_tui.config.schema import named
from oncall_tui.demo.procs import http_get
from oncall_tui.demo.stack import Stack, StackOptions, find_binaries
from oncall_tui.state.alerts import Poller
from oncall_tui.state.lookups import Lookups, NotConfigured
from oncall_tui.state.slo import SLOPoller
from oncall_tui.state.wiring import build_clients
from oncall_tui.wire import errors
from tests.support.fault_proxy import FaultProxy
from tests.support.victoria import VictoriaStack, running

DEADLINE = 40.0
EU_RULES = """groups:
  - name: eu
    interval: 1s
    rules:
      - alert: EuCanary
        expr: vector(1)
        labels: {cluster: eu, severity: warning}
      - alert: EuSlowBurn
        expr: vector(1)
        for: 1h
        labels: {cluster: eu, severity: info}
"""
RATIO = (
    'sum(rate(churn_api_requests_total{status=~"5.."}[{{window}}]))'
    " / sum(rate(churn_api_requests_total[{{window}}]))"
)


@pytest.fixture(scope="module")
def eu() -> Iterator[Stack]:
    stack = Stack(StackOptions(alertmanager_peers=1, extra_rules={"eu": EU_RULES}), find_binaries())
    stack.start(timeout=30)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def us(eu: Stack) -> Iterator[VictoriaStack]:
    with running(eu, label="us") as started:
        yield started


@pytest.fixture
def proxies(eu: Stack, us: VictoriaStack) -> Iterator[dict[str, FaultProxy]]:
    assert eu.prometheus_url
    found = {
        "eu": FaultProxy(eu.prometheus_url).start(),
        "us": FaultProxy(us.vm_url).start(),
        "us-rules": FaultProxy(us.vmalert_url).start(),
    }
    try:
        yield found
    finally:
        for proxy in found.values():
            proxy.stop()


def context(eu: Stack, proxies: dict[str, FaultProxy]) -> Context:
    return named(
        Context.from_data(
            {
                "alertmanagers": [{"peers": eu.alertmanager_urls}],
                "owner_label": "cluster",
                "backends": [
                    {"cluster": "eu", "url": proxies["eu"].url},
                    {
                        "cluster": "us",
                        "url": proxies["us"].url,
                        "rules_url": proxies["us-rules"].url,
                    },
                ],
                "slos": [
                    {
                        "name": "eu-avail",
                        "objective": 99,
                        "ratio": RATIO,
                        "labels": {"cluster": "eu"},
                    },
                    {"name": "us-avail", "objective": 99, "ratio": RATIO, "backend": "us"},
                ],
                "refresh": 1,
            }
        ),
        "regions",
    )


def alert_of(stack: Stack, cluster: str) -> dict[str, str]:
    """Labels of an alert of `cluster` active in the Alertmanager, waiting by a deadline."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        status, body = http_get(stack.alertmanager_urls[0] + "/api/v2/alerts", timeout=2)
        if status == 200:
            for alert in json.loads(body):
                labels: dict[str, str] = alert["labels"]
                if labels.get("cluster") == cluster and labels["alertname"] != "Watchdog":
                    return labels
        time.sleep(0.2)
    raise AssertionError(f"no alert with cluster={cluster} reached the Alertmanager")


def asked(proxy: FaultProxy, since: int) -> list[str]:
    return [r for r in proxy.requests[since:] if r.startswith("/api/v1/")]


def test_each_alerts_questions_reach_its_own_backend(
    eu: Stack, us: VictoriaStack, proxies: dict[str, FaultProxy]
) -> None:
    eu_alert, us_alert = alert_of(eu, "eu"), alert_of(eu, "us")
    clients = build_clients(context(eu, proxies))
    lookups = Lookups(clients)
    windows = [(3600.0, 60.0, 60)]

    async def ask(labels: dict[str, str]) -> list[str]:
        names = {r.name for g in await lookups.alert_rules(labels) for r in g.rules}
        end = time.time()
        await lookups.query_range("up", end - 600, end, 60, labels=labels)  # a triage query
        try:
            await lookups.history(labels["alertname"], labels, windows)
        except NotConfigured as exc:  # "no history yet" is an answer from the right backend
            assert "backend" not in exc.message
        return sorted(names)

    async def run() -> None:
        marks = {k: len(p.requests) for k, p in proxies.items()}
        names = await ask(eu_alert)
        assert "EuCanary" in names
        assert asked(proxies["eu"], marks["eu"])
        assert not asked(proxies["us"], marks["us"]) and not asked(
            proxies["us-rules"], marks["us-rules"]
        )
        marks = {k: len(p.requests) for k, p in proxies.items()}
        names = await ask(us_alert)
        assert "EuCanary" not in names and us_alert["alertname"] in names
        assert any("query_range" in r for r in asked(proxies["us"], marks["us"]))
        assert any("rules" in r for r in asked(proxies["us-rules"], marks["us-rules"]))
        assert not asked(proxies["eu"], marks["eu"])
        with pytest.raises(NotConfigured, match="no backend for cluster=ap"):
            await lookups.alert_rules({"alertname": "X", "cluster": "ap"})
        with pytest.raises(NotConfigured, match="no cluster label"):
            await lookups.history("X", {"alertname": "X"}, windows)
        # SLOs: each asked of its own backend.
        marks = {k: len(p.requests) for k, p in proxies.items()}
        snapshot = await SLOPoller(clients).poll()
        assert snapshot.ok, snapshot.errors
        by_name = {r.spec.name: r for r in snapshot.reports}
        assert not by_name["eu-avail"].errors and not by_name["us-avail"].errors
        assert any("/query" in r for r in asked(proxies["eu"], marks["eu"]))
        assert any("/query" in r for r in asked(proxies["us"], marks["us"]))
        # The demo's recorded SLOs are in both clusters: two SLOs, each in its own backend,
        # linked to its own cluster's alerts, never one key for both.
        found = {(r.spec.name, r.spec.backend): r.spec for r in snapshot.reports}
        for owner in ("eu", "us"):
            spec = found[("availability", owner)]
            assert spec.discovered and spec.where == f"cluster={owner}"
            assert spec.labels.get("cluster") == owner
        assert len({r.spec.key for r in snapshot.reports}) == len(snapshot.reports)
        await clients.aclose()

    asyncio.run(run())


def test_one_backend_down_leaves_the_board_and_the_others_views(
    eu: Stack, us: VictoriaStack, proxies: dict[str, FaultProxy]
) -> None:
    eu_alert, us_alert = alert_of(eu, "eu"), alert_of(eu, "us")
    clients = build_clients(context(eu, proxies))
    proxies["us"].stop()
    proxies["us-rules"].stop()

    async def run() -> None:
        snapshot = await Poller(clients).poll()
        assert snapshot.groups and all(g is not None for g in snapshot.groups.values())
        assert "cluster=us" in snapshot.prometheus_error
        assert "cluster=eu" not in snapshot.prometheus_error
        assert snapshot.pending is not None
        assert "EuSlowBurn" in {a.labels["alertname"] for a in snapshot.pending}
        assert snapshot.prometheus_active is None  # not whole: the ledger must not trust it
        lookups = Lookups(clients)
        assert await lookups.alert_rules(eu_alert)
        end = time.time()
        assert await lookups.query_range("up", end - 600, end, 60, labels=eu_alert)
        with pytest.raises(errors.ApiError):
            await lookups.alert_rules(us_alert)
        slo = await SLOPoller(clients).poll()
        assert slo.ok  # one backend down fails its own SLOs, not the snapshot
        by_name = {r.spec.name: r for r in slo.reports}
        assert not by_name["eu-avail"].errors and by_name["us-avail"].errors
        await clients.aclose()

    asyncio.run(run())


def test_check_config_describes_every_backend(
    eu: Stack, us: VictoriaStack, proxies: dict[str, FaultProxy]
) -> None:
    lines, ok = asyncio.run(check_contexts([build_clients(context(eu, proxies))]))
    text = "\n".join(lines)
    assert ok, text
    eu_line = next(ln for ln in lines if "prometheus   cluster=eu" in ln)
    us_line = next(ln for ln in lines if "prometheus   cluster=us" in ln)
    assert "Prometheus, version 2." in eu_line, text
    assert "VictoriaMetrics + vmalert" in us_line, text
    assert any("rules" in ln and "cluster=us" in ln and "vmalert" in ln for ln in lines), text
    # What works is told per backend: both say it, each under its own line.
    assert text.count("pending alerts: works") == 2, text


def test_a_backend_that_cannot_tell_pending_alerts_is_named(
    eu: Stack, us: VictoriaStack, proxies: dict[str, FaultProxy]
) -> None:
    """`us` without its rules_url: VictoriaMetrics' placeholder rules API. Its silence must
    read "cannot tell" under its name, while `eu`'s pending alerts stay on the board."""
    alert_of(eu, "eu")
    spec = context(eu, proxies)
    second = msgspec.structs.replace(spec.backends[1], rules_url=None)
    clients = build_clients(msgspec.structs.replace(spec, backends=[spec.backends[0], second]))

    async def run() -> None:
        try:
            snapshot = await Poller(clients).poll(rules=True)
        finally:
            await clients.aclose()
        assert snapshot.ok, snapshot.errors
        assert snapshot.pending_unknown.startswith("cluster=us: VictoriaMetrics cannot tell")
        assert "cluster=eu" not in snapshot.pending_unknown
        pending = {(a.labels["alertname"], a.labels["cluster"]) for a in snapshot.pending or ()}
        assert ("EuSlowBurn", "eu") in pending
        # Not whole: neither the ledger's list of active alerts nor its rules.
        assert snapshot.prometheus_active is None and snapshot.rules is None

    asyncio.run(run())
