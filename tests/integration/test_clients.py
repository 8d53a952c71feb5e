"""The API clients against the real Alertmanager HA pair and Prometheus of the test stack."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import pytest
from msgspec.structs import replace

from oncall_tui.api.alertmanager import AlertmanagerCluster, AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.api.prometheus import PrometheusClient
from oncall_tui.demo.stack import Stack
from oncall_tui.domain.merge import merge_groups, unique_alerts
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Matcher, PostableSilence
from tests.helpers import eventually
from tests.support import fault_proxy as fp

pytestmark = pytest.mark.stack
T = TypeVar("T")
OPTIONS = ClientOptions(connect_timeout=2, read_timeout=5)


@pytest.fixture
async def cluster(stack: Stack) -> AsyncIterator[AlertmanagerCluster]:
    peers = [AlertmanagerPeer(url, OPTIONS) for url in stack.alertmanager_urls]
    cluster = AlertmanagerCluster("demo", peers)
    yield cluster
    await cluster.aclose()


@pytest.fixture
async def prometheus(stack: Stack) -> AsyncIterator[PrometheusClient]:
    assert stack.prometheus_url
    client = PrometheusClient(stack.prometheus_url, OPTIONS)
    yield client
    await client.aclose()


def silence_for(alertname: str, minutes: int = 30, **extra: str) -> PostableSilence:
    now = datetime.now(UTC)
    matchers = [Matcher("alertname", alertname)] + [Matcher(k, v) for k, v in extra.items()]
    return PostableSilence(
        matchers=matchers,
        starts_at=now,
        ends_at=now + timedelta(minutes=minutes),
        created_by="pytest@oncall-tui",
        comment="test silence",
    )


async def test_the_first_look_reads_one_peer_and_passes_over_one_that_is_down(
    stack: Stack,
) -> None:
    """The start-up's first board comes from one peer of each cluster (both peers of the
    stack's HA pair, Alertmanager 0.25.0, hold the same alerts); a first peer that does not
    answer is passed over for the next, and the cluster fails only when none answers."""
    with fp.FaultProxy(stack.alertmanager_urls[0]) as proxy:
        second = stack.alertmanager_urls[1]
        cluster = AlertmanagerCluster(
            "demo", [AlertmanagerPeer(proxy.url, OPTIONS), AlertmanagerPeer(second, OPTIONS)]
        )
        try:
            read = await cluster.first_look()
            assert list(read.results) == [proxy.url] and not read.errors
            assert sum(len(g.alerts) for g in read.results[proxy.url]) > 0
            proxy.set(fp.REFUSE)
            read = await cluster.first_look()
            assert list(read.results) == [second] and list(read.errors) == [proxy.url]
            assert isinstance(read.errors[proxy.url], errors.ConnectFailed)
            lone = AlertmanagerCluster("lone", [AlertmanagerPeer(proxy.url, OPTIONS)])
            with pytest.raises(errors.ClusterUnavailable):
                await lone.first_look()
            await lone.aclose()
        finally:
            await cluster.aclose()


async def test_groups_are_read_from_both_peers_and_merged(cluster: AlertmanagerCluster) -> None:
    async def both_peers_hold_high_error_rate() -> list[tuple[str, ...]] | None:
        read = await cluster.alert_groups()
        assert not read.errors
        merged = unique_alerts(merge_groups(cluster.name, read.results))
        holders = [m.peers for m in merged if m.alert.name == "HighErrorRate"]
        return holders if holders and len(holders[0]) == 2 else None

    holders = await eventually(both_peers_hold_high_error_rate)
    assert len(holders) == 1, "one alert, though both peers and two receivers hold it"
    assert set(holders[0]) == {p.url for p in cluster.peers}


async def test_alert_filters_and_state_flags(cluster: AlertmanagerCluster) -> None:
    peer = cluster.peers[0]
    critical = await peer.alerts(['severity="critical"'])
    assert critical and {a.labels["severity"] for a in critical} == {"critical"}
    regex = await peer.alerts(['alertname=~"High.*"'])
    assert regex and all(a.name.startswith("High") for a in regex)

    async def inhibited() -> set[str]:
        return {a.name for a in await peer.alerts() if a.state == "inhibited"}

    # HighLatency is inhibited by ChurnAPIDown in the demo's inhibit rules.
    assert "HighLatency" in await eventually(inhibited)
    shown = await peer.alerts(inhibited=False)
    assert "HighLatency" not in {a.name for a in shown}
    groups = await peer.alert_groups(receiver="pagerduty")
    assert groups and {g.receiver.name for g in groups} == {"pagerduty"}


async def test_status_and_receivers(cluster: AlertmanagerCluster) -> None:
    statuses = await cluster.statuses()
    assert len(statuses.results) == 2
    for status in statuses.results.values():
        assert status.version_info.version.startswith("0.")
        assert status.cluster.status == "ready"
        assert len(status.cluster.peers) == 2
        assert "inhibit_rules" in status.config.original
    names = {r.name for r in await cluster.receivers()}
    assert {"pagerduty", "ml-team-slack", "ops-team-slack", "email", "default"} <= names


async def test_silence_written_once_is_read_back_and_gossiped(cluster: AlertmanagerCluster) -> None:
    stored = await cluster.write_silence(silence_for("DataDriftDetected", team="ml"))
    assert stored.state == "active"
    assert stored.created_by == "pytest@oncall-tui"

    async def held_by(peer: AlertmanagerPeer) -> bool:
        try:
            return (await peer.silence(stored.id)).id == stored.id
        except errors.NotFound:
            return False

    for peer in cluster.peers:  # the other peer learns it by gossip
        await eventually(partial(held_by, peer))

    async def silenced_on_second_peer() -> tuple[str, ...] | None:
        alerts = await cluster.peers[1].alerts(['alertname="DataDriftDetected"'])
        found = [a for a in alerts if a.state == "silenced"]
        return found[0].status.silenced_by if found else None

    assert stored.id in await eventually(silenced_on_second_peer)
    expired = await cluster.expire_silence(stored.id)
    assert expired.state == "expired"
    listed = {s.id: s.state for s in await cluster.silences()}
    assert listed[stored.id] == "expired"


async def test_server_refusals_carry_the_servers_words(cluster: AlertmanagerCluster) -> None:
    now = datetime.now(UTC)
    backwards = PostableSilence(
        matchers=[Matcher("alertname", "X")],
        starts_at=now,
        ends_at=now - timedelta(hours=1),
        created_by="pytest",
        comment="backwards",
    )
    with pytest.raises(errors.ServerError) as caught:
        await cluster.write_silence(backwards)
    assert caught.value.status == 400
    assert "start time must be before end time" in caught.value.detail
    empty = PostableSilence(
        matchers=[Matcher("alertname", ".*", is_regex=True)],
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        created_by="pytest",
        comment="matches everything",
    )
    with pytest.raises(errors.ServerError, match="must not match the empty string"):
        await cluster.write_silence(empty)
    with pytest.raises(ValueError, match="createdBy"):
        await cluster.peers[0].post_silence(replace(silence_for("X"), created_by=" "))
    with pytest.raises(errors.NotFound):
        await cluster.silence("00000000-0000-0000-0000-000000000000")
    with pytest.raises(errors.NotFound, match="silence not found"):
        await cluster.expire_silence("00000000-0000-0000-0000-000000000000")


async def test_prometheus_known_answers_from_the_exporter(
    stack: Stack, prometheus: PrometheusClient
) -> None:
    rates = stack.options.rates

    async def total_rate() -> float | None:
        result = await prometheus.query("sum(rate(churn_api_requests_total[30s]))")
        return result.samples[0].value if result.samples else None

    assert await eventually(total_rate) == pytest.approx(rates.rps, rel=1e-3)
    ratio = await prometheus.query(
        'sum(rate(churn_api_requests_total{status=~"5.."}[30s])) / sum(rate(churn_api_requests_total[30s]))'
    )
    assert ratio.result_type == "vector"
    assert ratio.samples[0].value == pytest.approx(rates.error_ratio, rel=1e-3)
    drift = await prometheus.query("churn_data_drift_score")
    assert drift.samples[0].value == pytest.approx(rates.drift_score)


async def test_prometheus_values_nan_inf_scalar_range_and_post(
    prometheus: PrometheusClient,
) -> None:
    nan = await prometheus.query("0/0")
    assert nan.result_type == "scalar" and nan.scalar is not None and math.isnan(nan.scalar)
    inf = await prometheus.query("vector(1)/0")
    assert inf.samples[0].value == math.inf
    long_expr = " + ".join(["vector(1)"] * 300)  # ~3.5 KB: sent as a POST body
    assert len(long_expr) > 1500
    assert (await prometheus.query(long_expr)).samples[0].value == 300
    end = time.time()
    ranged = await prometheus.query_range("vector(2)", end - 60, end, 15)
    assert ranged.result_type == "matrix" and len(ranged.series[0].points) == 5
    assert all(v == 2 for _, v in ranged.series[0].points)


async def test_prometheus_errors_rules_alerts_buildinfo(prometheus: PrometheusClient) -> None:
    with pytest.raises(errors.ServerError) as caught:
        await prometheus.query("sum(rate(churn_api_requests_total[5m])")
    assert caught.value.status == 400 and "parse error" in caught.value.detail
    groups = await prometheus.rules("alert")
    rules = {r.name: r for g in groups for r in g.rules}
    assert "churn_api_requests_total" in rules["HighErrorRate"].query
    assert rules["HighErrorRate"].labels["severity"] == "critical"
    assert rules["ChurnAPIDown"].annotations["runbook_url"].endswith("ChurnAPIDown")
    pending = [a for a in await prometheus.alerts() if a.state == "pending"]
    assert pending, "the demo keeps some alerts in their `for:` period"
    assert (await prometheus.build_info()).version.startswith("2.")


async def test_unreachable_and_hanging_servers_are_typed_errors() -> None:
    import socket

    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_url = f"http://127.0.0.1:{dead.getsockname()[1]}"
    dead.close()
    peer = AlertmanagerPeer(dead_url, OPTIONS)
    with pytest.raises(errors.ConnectFailed):
        await peer.alerts()
    with pytest.raises(errors.ClusterUnavailable) as caught:
        await AlertmanagerCluster("gone", [peer]).alert_groups()
    assert dead_url in caught.value.errors
    # A server that accepts and never answers: a hang no real server can be made to do.
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen()
    try:
        slow = AlertmanagerPeer(
            f"http://127.0.0.1:{hang.getsockname()[1]}", ClientOptions(read_timeout=0.3)
        )
        with pytest.raises(errors.Timeout, match=r"read timeout after 0\.3s"):
            await slow.alerts()
        await slow.aclose()
    finally:
        hang.close()
    await peer.aclose()


async def test_silence_update_keeps_or_replaces_the_id_as_alertmanager_decides(
    cluster: AlertmanagerCluster,
) -> None:
    first = await cluster.write_silence(silence_for("HighCPU", minutes=30))
    longer = PostableSilence(
        id=first.id,
        matchers=first.matchers,
        starts_at=first.starts_at,
        ends_at=first.ends_at + timedelta(hours=1),
        created_by=first.created_by,
        comment="extended by an hour",
    )
    extended = await cluster.write_silence(longer)
    assert extended.id == first.id, "same matchers, active: Alertmanager keeps the ID"
    assert extended.ends_at == first.ends_at + timedelta(hours=1)
    assert extended.comment == "extended by an hour"

    narrower = replace(
        longer, matchers=[*first.matchers, Matcher("pod", "churn-api-.*", is_regex=True)]
    )
    replaced = await cluster.write_silence(narrower)
    assert replaced.id != first.id, "changed matchers: a new silence, the old one expired"
    assert (await cluster.silence(first.id)).state == "expired"
    await cluster.expire_silence(replaced.id)
