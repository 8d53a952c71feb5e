"""VictoriaMetrics and vmalert for real: every view works, or says exactly why not.

VictoriaMetrics single-node answers `/api/v1/rules` and `/api/v1/alerts` with an empty
success unless started with `-vmalert.proxyURL` (FACTS.md, and seen here: 1.79.5 answers
`{"groups":[]}` and `{"alerts":[]}`). The app must then say "cannot tell", never "none";
with `prometheus.rules_url` pointing at vmalert it reads vmalert's own endpoints.
A second VictoriaMetrics whose vmalert does not remote-write holds no ALERTS_FOR_STATE:
history must say so. vmalert notifies this module's own Alertmanager pair (cluster label
`vm` / `vm-bare`), so the session stack's alerts are left alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest

from oncall_tui.cli.checks import check_contexts
from oncall_tui.config import ClusterConfig, Context
from oncall_tui.config.schema import PrometheusConfig, named
from oncall_tui.demo.exporter import ExporterRates
from oncall_tui.demo.stack import Stack, StackOptions, find_binaries
from oncall_tui.domain.alert_history import History
from oncall_tui.state.alerts import Poller
from oncall_tui.state.lookups import CannotTell, Lookups
from oncall_tui.state.slo import SLOPoller
from oncall_tui.state.wiring import build_clients
from tests.support.victoria import VictoriaStack, running

T = TypeVar("T")
DEADLINE = 40.0


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Stack]:
    stack = Stack(StackOptions(alertmanager_peers=2), find_binaries())
    stack.start(timeout=30)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def vm(own_stack: Stack) -> Iterator[VictoriaStack]:
    with running(own_stack, label="vm") as started:
        yield started


@pytest.fixture(scope="module")
def vm_bare(own_stack: Stack) -> Iterator[VictoriaStack]:
    """vmalert without -remoteWrite.url: no ALERTS_FOR_STATE, no recorded SLO series."""
    with running(own_stack, label="vm-bare", remote_write=False) as started:
        yield started


def context(stack: Stack, url: str, rules_url: str | None = None, name: str = "vm") -> Context:
    return named(
        Context(
            alertmanagers=[ClusterConfig(peers=stack.alertmanager_urls)],
            prometheus=PrometheusConfig(url=url, rules_url=rules_url),
            refresh=1,
        ),
        name,
    )


async def probe_until(
    probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], what: str, timeout: float = DEADLINE
) -> T:
    """Poll `probe` until `ok` holds; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: still {value!r} after {timeout} s")
        await asyncio.sleep(0.5)


async def test_check_config_names_each_engine(vm: VictoriaStack, own_stack: Stack) -> None:
    entries = [
        build_clients(context(own_stack, vm.vm_url, name="alone")),
        build_clients(context(own_stack, vm.vm_url, vm.vmalert_url, name="paired")),
        build_clients(context(own_stack, vm.vmalert_url, name="wrong")),
        build_clients(context(own_stack, own_stack.prometheus_url or "", name="prom")),
    ]
    lines, ok = await check_contexts(entries)
    text = "\n".join(lines)
    by = {n: [ln for ln in lines if ln.startswith(n)] for n in ("alone", "paired", "wrong", "prom")}
    assert not ok, text  # "wrong" points the query URL at vmalert
    assert any("VictoriaMetrics;" in ln and ln.split()[1] == "ok" for ln in by["alone"]), text
    assert any("pending alerts: cannot tell" in ln and "rules_url" in ln for ln in by["alone"])
    assert any("VictoriaMetrics + vmalert" in ln for ln in by["paired"]), text
    assert any("pending alerts: works (from vmalert)" in ln for ln in by["paired"]), text
    assert any("rules_url" in ln and "vmalert: rules and alerts" in ln for ln in by["paired"]), text
    assert any("FAILED" in ln and "vmalert answers no PromQL" in ln for ln in by["wrong"]), text
    assert any("Prometheus, version 2." in ln for ln in by["prom"]), text
    assert any("alert history: works" in ln for ln in by["prom"]), text


async def test_pending_alerts_cannot_tell_without_vmalert(
    vm: VictoriaStack, own_stack: Stack
) -> None:
    clients = build_clients(context(own_stack, vm.vm_url))
    try:
        poller = Poller(clients)
        snapshot = await poller.poll(rules=True)
        assert snapshot.ok, snapshot.errors
        assert snapshot.pending == ()
        assert "cannot tell pending alerts" in snapshot.pending_unknown
        assert "rules_url" in snapshot.pending_unknown
        # Neither an empty list the completeness ledger would trust, nor rules it would read.
        assert snapshot.prometheus_active is None and snapshot.rules is None
    finally:
        await clients.aclose()


async def test_pending_alerts_from_vmalert(vm: VictoriaStack, own_stack: Stack) -> None:
    """HighMemory and ModelNotUpdated have long `for:`: vmalert holds them pending."""
    clients = build_clients(context(own_stack, vm.vm_url, vm.vmalert_url))
    try:
        poller = Poller(clients)
        snapshot = await probe_until(
            lambda: poller.poll(rules=True),
            lambda s: (
                {"HighMemory", "ModelNotUpdated"}
                <= {a.labels["alertname"] for a in s.pending or ()}
            ),
            "both long-`for:` alerts pending in vmalert",
        )
        assert snapshot.pending_unknown == ""
        assert all(a.labels.get("cluster") == "vm" for a in snapshot.pending or ())
        assert snapshot.rules is not None and "HighErrorRate" in snapshot.rules.names
        # And the alerts vmalert fired reached the real Alertmanager pair.
        groups = await probe_until(
            lambda: poller.poll(),
            lambda s: any(
                a.alert.labels.get("cluster") == "vm"
                for gs in s.groups.values()
                for g in gs or ()
                for a in g.alerts
            ),
            "vmalert's alerts in Alertmanager",
        )
        assert groups.ok
    finally:
        await clients.aclose()


async def test_rule_expression_through_vmalert_and_not_without(
    vm: VictoriaStack, own_stack: Stack
) -> None:
    paired = build_clients(context(own_stack, vm.vm_url, vm.vmalert_url))
    alone = build_clients(context(own_stack, vm.vm_url))
    try:
        groups = await Lookups(paired).alert_rules()
        rules = {r.name: r for g in groups for r in g.rules}
        assert "churn_api_requests_total" in rules["HighErrorRate"].query
        assert rules["HighErrorRate"].type == "alerting"
        with pytest.raises(CannotTell, match="VictoriaMetrics cannot tell its rules"):
            await Lookups(alone).alert_rules()
    finally:
        await asyncio.gather(paired.aclose(), alone.aclose())


async def test_query_runs_on_victoriametrics(vm: VictoriaStack, own_stack: Stack) -> None:
    lookups = Lookups(build_clients(context(own_stack, vm.vm_url, vm.vmalert_url)))
    try:
        result = await probe_until(
            lambda: lookups.query('up{job="churn-api"}'),
            lambda r: len(r.samples) == 2,
            "both scrape targets in VictoriaMetrics",
        )
        assert sorted(s.value for s in result.samples) == [0.0, 1.0]
    finally:
        await lookups.clients.aclose()


async def test_history_from_alerts_for_state_written_by_vmalert(
    vm: VictoriaStack, own_stack: Stack
) -> None:
    """vmalert remote-writes ALERTS for every alert, but ALERTS_FOR_STATE only for rules
    with a `for:` (seen here: 2 series, HighMemory's and ModelNotUpdated's, both pending
    for 1h): the for-0 ChurnAPIDown has a timeline, HighMemory an episode too."""
    lookups = Lookups(build_clients(context(own_stack, vm.vm_url, vm.vmalert_url)))
    down = {
        "alertname": "ChurnAPIDown",
        "cluster": "vm",
        "job": "churn-api",
        "severity": "critical",
        "service": "churn-api",
        "team": "ops",
        "alertgroup": "churn_api",
        "instance": own_stack.down_instance or "",
    }
    memory = {
        "alertname": "HighMemory",
        "cluster": "vm",
        "severity": "warning",
        "service": "churn-api",
        "team": "ops",
        "alertgroup": "churn_infrastructure",
        "pod": "churn-api-7d9f8b6c5-x2k4p",
    }

    def history(name: str, labels: dict[str, str]) -> Callable[[], Awaitable[list[History]]]:
        return lambda: lookups.history(name, labels, [(600.0, 5.0, 60)])

    try:
        fired = await probe_until(
            history("ChurnAPIDown", down),
            lambda h: "█" in h[0].cells,
            "ChurnAPIDown firing in ALERTS",
        )
        assert fired[0].firing_seconds > 0
        held = await probe_until(
            history("HighMemory", memory),
            lambda h: bool(h[0].episodes),
            "HighMemory's episode in ALERTS_FOR_STATE",
        )
        assert held[0].episodes[-1].ongoing
        assert "▒" in held[0].cells  # pending, not firing
    finally:
        await lookups.clients.aclose()


async def test_history_says_plainly_without_alerts_for_state(
    vm_bare: VictoriaStack, own_stack: Stack
) -> None:
    lookups = Lookups(build_clients(context(own_stack, vm_bare.vm_url, vm_bare.vmalert_url)))
    labels = {"alertname": "ChurnAPIDown", "cluster": "vm-bare"}
    try:
        # Wait until vmalert fires: before that "no history" would be true for another reason.
        await probe_until(
            lambda: lookups.clients.rules.alerts(),  # type: ignore[union-attr]
            lambda alerts: any(a.labels.get("alertname") == "ChurnAPIDown" for a in alerts),
            "ChurnAPIDown firing in the bare vmalert",
        )
        with pytest.raises(CannotTell) as raised:
            await lookups.history("ChurnAPIDown", labels, [(600.0, 5.0, 60)])
        message = raised.value.message
        assert "no ALERTS_FOR_STATE" in message
        assert "does not remote-write" in message
    finally:
        await lookups.clients.aclose()


async def test_slo_discovered_from_vmalert_figures_from_victoriametrics(
    vm: VictoriaStack, own_stack: Stack
) -> None:
    clients = build_clients(context(own_stack, vm.vm_url, vm.vmalert_url))
    try:
        poller = SLOPoller(clients)
        snapshot = await probe_until(
            lambda: poller.poll(),
            lambda s: any(r.error_ratio is not None for r in s.reports),
            "an SLO figure recorded by vmalert",
        )
        assert snapshot.note == ""
        names = {(r.spec.service, r.spec.name) for r in snapshot.reports}
        assert ("churn-api", "availability") in names, names
        figures = [r for r in snapshot.reports if r.spec.name == "availability"]
        # The exporter fails a known share of requests (ExporterRates, the single source).
        expected = ExporterRates().error_ratio
        assert figures[0].error_ratio == pytest.approx(expected, abs=0.02)
    finally:
        await clients.aclose()


async def test_slo_discovery_cannot_tell_without_vmalert(
    vm: VictoriaStack, own_stack: Stack
) -> None:
    clients = build_clients(context(own_stack, vm.vm_url))
    try:
        snapshot = await SLOPoller(clients).poll()
        assert snapshot.ok, snapshot.errors
        assert "VictoriaMetrics cannot tell its recording rules" in snapshot.note
        assert snapshot.reports == ()
    finally:
        await clients.aclose()
