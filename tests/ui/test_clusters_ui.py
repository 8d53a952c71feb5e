"""Two clusters, two query backends (issue 15): the demo's `--clusters 2` stack, driven by
Pilot at 80 columns. Each cluster has its own real Prometheus (external label cluster=a /
cluster=b) notifying one Alertmanager; the context names both as backends, owner label
`cluster`. An alert's rule and history must come from its own cluster's Prometheus (a
FaultProxy in front of each records what it was asked), and with one Prometheus stopped the
board and the other cluster's views keep working while the stopped one is named."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from urllib.parse import unquote

import msgspec
import pytest
import yaml

from oncall_tui.cli.demo import context_yaml, demo_context
from oncall_tui.config import Context, Settings
from oncall_tui.demo.stack import Stack, StackOptions, find_binaries
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.detail import AlertDetailScreen
from oncall_tui.ui.widgets.status import StatusBar
from tests.helpers import (
    alert_row,
    board_alert,
    context_app,
    cursor_on,
    section,
    status,
    texts,
    until,
)
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.stack
SIZE = (80, 24)


@pytest.fixture(scope="module")
def clusters() -> Iterator[Stack]:
    """The demo's two clusters; HighCPU fires in both (the same rule, each its own pod data)."""
    with Stack(StackOptions(alertmanager_peers=1, clusters=2), find_binaries()) as stack:
        stack.wait_for_firing(timeout=30, min_alerts=6)
        yield stack


@pytest.fixture
def proxies(clusters: Stack) -> Iterator[dict[str, FaultProxy]]:
    found = {c: FaultProxy(url).start() for c, url in clusters.prometheus_urls.items()}
    try:
        yield found
    finally:
        for proxy in found.values():
            proxy.stop()


def through(context: Context, proxies: dict[str, FaultProxy]) -> OncallApp:
    backends = [msgspec.structs.replace(b, url=proxies[b.owner].url) for b in context.backends]
    return context_app(msgspec.structs.replace(context, backends=backends))


def history_asked(proxy: FaultProxy, since: int, alertname: str) -> bool:
    """Did this backend get the history range query of `alertname` (never asked by a poll)?"""
    return any(
        "/query_range" in r and f'ALERTS{{alertname="{alertname}"}}' in unquote(r)
        for r in proxy.requests[since:]
    )


def first_line(app: OncallApp) -> str:
    return status(app).split("\n")[0]


async def test_each_clusters_alert_asks_its_own_backend(
    clusters: Stack, proxies: dict[str, FaultProxy]
) -> None:
    app = through(demo_context(clusters, refresh=1), proxies)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await until(pilot, lambda: "2 backends: Prometheus" in status(app), "both engines")
        await until(pilot, lambda: "live" in first_line(app), "fresh")
        # At 80 columns the alerts and the freshness stay on the line.
        line = app.screen.query_one(StatusBar).text.split()[0]
        assert line.cell_len <= SIZE[0] and "alerts" in line.plain, line.plain
        for cluster in ("a", "b"):
            await cursor_on(app, pilot, "HighCPU", {"cluster": cluster})
            # Every row says its cluster: the two HighCPU are told apart on the board. (The
            # board scrolls to the cursor on its next repaint: slow on a loaded machine.)
            label = f"cluster={cluster}"
            await until(pilot, lambda: alert_row(app, "HighCPU", label), timeout=5)  # noqa: B023
        for cluster, other in (("a", "b"), ("b", "a")):
            await cursor_on(app, pilot, "HighCPU", {"cluster": cluster})
            marks = {c: len(p.requests) for c, p in proxies.items()}
            await pilot.press("enter")
            assert isinstance(app.screen, AlertDetailScreen)
            await until(pilot, lambda: "expression" in section(app, "rule"), "the rule")
            assert "container_cpu_usage_seconds_total" in section(app, "rule")
            await until(pilot, lambda: "episode" in section(app, "history"), "the history")
            headings = texts(app, ".detail-heading")
            assert f"History (from cluster={cluster}'s ALERTS)" in headings
            assert f"Rule (from cluster={cluster}'s backend)" in headings
            assert history_asked(proxies[cluster], marks[cluster], "HighCPU")
            assert not history_asked(proxies[other], marks[other], "HighCPU")
            # Its error budget is its own cluster's SLOs, never the other's.
            assert f"cluster={cluster}" in section(app, "slo")
            assert f"cluster={other}" not in section(app, "slo")
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, AlertsScreen))


async def test_one_backend_stopped_keeps_the_board_and_the_other(clusters: Stack) -> None:
    """Prometheus b really stopped: the board still lists both clusters' alerts (from the
    Alertmanager), the status line marks b DOWN at 80 columns, a's alert still shows its
    rule and history, and b's says its backend failed."""
    app = context_app(demo_context(clusters, refresh=1))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: board_alert(app, "HighCPU", labels={"cluster": "b"}), "b's")
        await until(pilot, lambda: "live" in first_line(app), "fresh")
        os.kill(clusters.pids["prometheus-b"], signal.SIGTERM)
        try:
            await until(pilot, lambda: "prometheus-b" not in clusters.pids, "b stopped")
            await until(pilot, lambda: "b DOWN" in first_line(app), "b named down")
            assert "alerts" in first_line(app)
            assert board_alert(app, "HighCPU", labels={"cluster": "a"})
            await cursor_on(app, pilot, "HighCPU", {"cluster": "a"})
            await pilot.press("enter")
            await until(pilot, lambda: "expression" in section(app, "rule"), "a's rule")
            await until(pilot, lambda: "episode" in section(app, "history"), "a's history")
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
            await cursor_on(app, pilot, "HighCPU", {"cluster": "b"})
            await pilot.press("enter")
            port = clusters.prometheus_urls["b"].rsplit(":", 1)[1]
            await until(pilot, lambda: "cluster=b" in section(app, "rule"), "b's rule: b failed")
            assert port in section(app, "rule") and "expression" not in section(app, "rule")
            assert "expression" not in section(app, "rule")
            await until(pilot, lambda: port in section(app, "history"), "b's history: b failed")
        finally:
            clusters.restart("prometheus-b")


def test_the_two_cluster_demo_config_loads_back(clusters: Stack) -> None:
    """What `demo --serve --clusters 2` prints is a config that names both backends."""
    context = demo_context(clusters)
    loaded = Settings.from_data(yaml.safe_load(context_yaml(context))).context()
    assert loaded.owner_label == "cluster"
    assert [(b.owner, b.url) for b in loaded.backends] == list(clusters.prometheus_urls.items())
    assert sorted((s.name, s.backend) for s in loaded.slos) == [
        ("availability", "a"),
        ("availability", "b"),
        ("latency", "a"),
        ("latency", "b"),
    ]
