"""The demo stack itself: servers up, the expected alerts, exact rates, clean shutdown.

Plain httpx on purpose: the project's API clients are tested elsewhere against this stack.
Every wait polls a condition until a deadline; nothing sleeps a guessed time.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml

from oncall_tui.demo.exporter import LATENCY_BUCKETS, ExporterRates, parse_args, render
from oncall_tui.demo.procs import pid_alive
from oncall_tui.demo.stack import MissingBinaries, Stack, StackOptions, find_binaries
from tests.helpers import wait_until

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
RATES = ExporterRates()  # the stack fixture runs the exporter with the defaults
FIRING = {
    "ChurnAPIDown", "HighErrorRate", "DataDriftDetected", "HighLowConfidencePredictions",
    "HighPredictionLatency", "HighMissingFeatureRate", "HighCPU", "PodRestarting",
    "ErrorBudgetBurn", "ErrorBudgetBurnFast",
}  # fmt: skip
PENDING = {"ModelNotUpdated", "HighMemory"}
INACTIVE = {"LowThroughput", "PVCAlmostFull"}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """No proxies from the environment: everything here is on loopback."""
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        yield client


def am_alerts(http: httpx.Client, url: str) -> list[dict[str, Any]]:
    resp = http.get(f"{url}/api/v2/alerts")
    resp.raise_for_status()
    alerts: list[dict[str, Any]] = resp.json()
    return alerts


def prom_query(http: httpx.Client, url: str, expr: str, at: str | None = None) -> list[Any]:
    params = {"query": expr} | ({"time": at} if at else {})
    body = http.post(f"{url}/api/v1/query", data=params).json()
    assert body["status"] == "success", body
    result: list[Any] = body["data"]["result"]
    return result


@pytest.mark.stack
def test_peers_see_each_other(stack: Stack, http: httpx.Client) -> None:
    def peers(url: str) -> set[str]:
        return {p["name"] for p in http.get(f"{url}/api/v2/status").json()["cluster"]["peers"]}

    def both_see_two() -> list[set[str]] | None:
        seen = [peers(u) for u in stack.alertmanager_urls]
        return seen if all(len(s) == 2 for s in seen) else None

    seen = wait_until(both_see_two, 15, "both Alertmanagers to list 2 cluster peers")
    assert seen[0] == seen[1]
    status = http.get(f"{stack.alertmanager_urls[0]}/api/v2/status").json()
    assert status["cluster"]["status"] == "ready"
    assert status["versionInfo"]["version"]


@pytest.mark.stack
def test_expected_alerts_are_active_and_high_latency_inhibited(
    stack: Stack, http: httpx.Client
) -> None:
    for url in stack.alertmanager_urls:

        def complete(url: str = url) -> dict[str, list[dict[str, Any]]] | None:
            by_name: dict[str, list[dict[str, Any]]] = {}
            for a in am_alerts(http, url):
                by_name.setdefault(a["labels"]["alertname"], []).append(a)
            return by_name if FIRING | {"HighLatency"} <= by_name.keys() else None

        by_name = wait_until(complete, 20, f"all expected alerts on {url}")
        for name in FIRING:
            assert all(a["status"]["state"] == "active" for a in by_name[name]), name
        assert not (PENDING | INACTIVE) & by_name.keys()

        down = by_name["ChurnAPIDown"]
        assert [a["labels"]["instance"] for a in down] == [stack.down_instance]
        assert down[0]["labels"]["cluster"] == "demo"
        assert down[0]["labels"]["service"] == "churn-api"
        assert down[0]["annotations"]["runbook_url"].endswith("/ChurnAPIDown")
        (latency,) = by_name["HighLatency"]
        assert latency["status"]["state"] == "suppressed"
        assert latency["status"]["inhibitedBy"] == [down[0]["fingerprint"]]

        hot = {p for p, cores in RATES.pod_cpu_cores.items() if cores > 0.8}
        assert {a["labels"]["pod"] for a in by_name["HighCPU"]} == hot
        missing = {f for f, per_s in RATES.missing_features_per_second.items() if per_s > 1}
        assert {a["labels"]["feature"] for a in by_name["HighMissingFeatureRate"]} == missing
        restarting = {p for p, r in RATES.pod_restarts_per_second.items() if r > 0}
        assert {a["labels"]["pod"] for a in by_name["PodRestarting"]} == restarting


@pytest.mark.stack
def test_pending_alerts_are_visible_in_prometheus(stack: Stack, http: httpx.Client) -> None:
    assert stack.prometheus_url

    def states() -> dict[str, str] | None:
        alerts = http.get(f"{stack.prometheus_url}/api/v1/alerts").json()["data"]["alerts"]
        found = {a["labels"]["alertname"]: a["state"] for a in alerts}
        return found if found.keys() >= (FIRING | PENDING) else None

    found = wait_until(states, 15, "Prometheus to list firing and pending alerts")
    assert {n for n, s in found.items() if s == "pending"} == PENDING
    assert not INACTIVE & found.keys()
    rules = http.get(f"{stack.prometheus_url}/api/v1/rules", params={"type": "alert"}).json()
    durations = {r["name"]: r["duration"] for g in rules["data"]["groups"] for r in g["rules"]}
    assert durations["ModelNotUpdated"] == 3600
    assert durations["HighErrorRate"] == 0


def covered_sample_time(http: httpx.Client, url: str, window_s: int) -> str | None:
    """A sample time at which ``rate(...[window])`` needs no partial extrapolation.

    Mirrors Prometheus 2.x: the window is [t - w, t]; rate() extrapolates fully to the
    window's start only if the first sample lies within 1.1 average intervals of it.
    """
    raw = prom_query(http, url, f'churn_api_requests_total{{status="200"}}[{window_s + 5}s]')
    if not raw:
        return None
    stamps = [round(float(t) * 1000) for t, _ in raw[0]["values"]]
    end = stamps[-1]
    inside = [t for t in stamps if t >= end - window_s * 1000]
    if len(inside) < 3:
        return None
    average = (inside[-1] - inside[0]) / (len(inside) - 1)
    if inside[0] - (end - window_s * 1000) >= 1.1 * average:
        return None
    return f"{end / 1000:.3f}"


@pytest.mark.stack
def test_prometheus_rates_match_the_exporter_exactly(stack: Stack, http: httpx.Client) -> None:
    url = stack.prometheus_url
    assert url
    window = 60  # full from the start: the stack backfills the past at the scrape interval
    at = wait_until(lambda: covered_sample_time(http, url, window), 30, f"{window}s of 1 s samples")

    def value(expr: str) -> float:
        (sample,) = prom_query(http, url, expr, at)
        return float(sample["value"][1])

    assert value(f"sum(rate(churn_api_requests_total[{window}s]))") == pytest.approx(
        RATES.rps, rel=1e-6
    )
    errors = value(
        f'sum(rate(churn_api_requests_total{{status=~"5.."}}[{window}s]))'
        f" / sum(rate(churn_api_requests_total[{window}s]))"
    )
    assert errors == pytest.approx(RATES.error_ratio, rel=1e-6)
    by_status = prom_query(http, url, "sum by (status) (irate(churn_api_requests_total[5s]))")
    assert {s["metric"]["status"]: float(s["value"][1]) for s in by_status} == pytest.approx(
        RATES.status_rps, rel=1e-6
    )
    cpu = prom_query(http, url, "sum by (pod) (irate(container_cpu_usage_seconds_total[5s]))")
    assert {s["metric"]["pod"]: float(s["value"][1]) for s in cpu} == pytest.approx(
        dict(RATES.pod_cpu_cores), rel=1e-6
    )


def histogram_quantile(q: float, buckets: tuple[tuple[float, float], ...]) -> float:
    """Prometheus's linear interpolation inside the bucket that holds the q-th rank."""
    below, lower = 0.0, 0.0
    for upper, share in buckets:
        if below + share >= q:
            return lower + (upper - lower) * (q - below) / share
        below, lower = below + share, upper
    raise AssertionError("quantile beyond the last finite bucket")


@pytest.mark.stack
def test_slo_recording_rules_and_latency_sli(stack: Stack, http: httpx.Client) -> None:
    url = stack.prometheus_url
    assert url

    def slo_errors() -> dict[str, float] | None:
        result = prom_query(http, url, 'slo:sli_error:ratio_rate1h{service="churn-api"}')
        return {s["metric"]["slo"]: float(s["value"][1]) for s in result} or None

    errors = wait_until(slo_errors, 15, "the SLO recording rules")
    slow = sum(share for le, share in LATENCY_BUCKETS if le > 0.5)
    assert errors == pytest.approx({"availability": RATES.error_ratio, "latency": slow}, rel=1e-6)
    for window in ("5m", "30m", "2h", "6h", "1d", "3d"):
        assert prom_query(http, url, f"slo:sli_error:ratio_rate{window}"), window
    budget = prom_query(http, url, "slo:error_budget:ratio")
    assert {s["metric"]["slo"]: float(s["value"][1]) for s in budget} == pytest.approx(
        {"availability": 0.001, "latency": 0.05}
    )
    (p95,) = prom_query(http, url, "churn_api:request_latency_seconds:p95_rate5m")
    assert float(p95["value"][1]) == pytest.approx(histogram_quantile(0.95, LATENCY_BUCKETS))
    assert float(p95["value"][1]) > 0.5


def test_exporter_counters_are_rate_times_elapsed() -> None:
    start = 1_700_000_000_000
    page = render(RATES, start, start + 10_000)
    line = next(x for x in page.splitlines() if x.startswith('churn_api_requests_total{status="2'))
    _, value, stamp = line.rsplit(" ", 2)
    assert float(value) == pytest.approx(RATES.success_rps * (RATES.history_seconds + 10))
    assert int(stamp) == start + 10_000
    assert "# TYPE churn_api_request_latency_seconds histogram" in page


def test_rates_reach_the_exporter_through_its_flags() -> None:
    custom = ExporterRates(rps=7.5, error_ratio=0.02, drift_score=0.1, history_seconds=60.0)
    assert ExporterRates.from_namespace(parse_args(custom.to_args())) == custom


def test_missing_binaries_say_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCALL_TUI_PROMETHEUS_BIN", "/nonexistent/prometheus")
    with pytest.raises(MissingBinaries) as err:
        find_binaries()
    assert "sudo apt-get install prometheus prometheus-alertmanager" in str(err.value)
    assert "brew install prometheus alertmanager" in str(err.value)


def ports_of(stack: Stack) -> list[tuple[int, bool]]:
    """(port, also UDP) for every server port the stack opened."""
    urls = [*stack.alertmanager_urls, stack.prometheus_url, stack.exporter_url]
    web = [(int(u.rsplit(":", 1)[1]), False) for u in urls if u]
    return web + [(int(a.rsplit(":", 1)[1]), True) for a in stack.cluster_addresses]


def port_free(port: int, udp: bool) -> bool:
    """Nothing listens there: a server could bind it (SO_REUSEADDR ignores TIME_WAIT)."""
    kinds = [socket.SOCK_STREAM, socket.SOCK_DGRAM] if udp else [socket.SOCK_STREAM]
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def test_stop_ends_every_pid_it_started_and_frees_ports() -> None:
    demo = Stack(StackOptions(alertmanager_peers=2)).start()
    try:
        ports, workdir = ports_of(demo), demo.workdir
        old = demo.kill_peer(1)
        assert not pid_alive(old)
        new = demo.start_peer(1)
        assert new != old and set(demo.pids.values()) <= set(demo.started_pids)
        assert len(demo.started_pids) == 6  # sink, exporter, prometheus, 2 peers, 1 restart
    finally:
        demo.stop()
    demo.stop()  # idempotent
    assert not [p for p in demo.started_pids if pid_alive(p)]
    assert demo.pids == {}
    assert all(port_free(p, udp) for p, udp in ports)
    assert not workdir.exists()


def test_group_timings_reach_the_running_alertmanager(http: httpx.Client) -> None:
    """The benchmarks' Alertmanagers run with the defaults' group_wait and group_interval,
    as Alertmanager itself reads them from its config (0.25, Debian's)."""
    timed = Stack(
        StackOptions(alertmanager_peers=1, with_prometheus=False, group_timings=("30s", "5m"))
    )
    with timed:
        status = http.get(f"{timed.alertmanager_urls[0]}/api/v2/status").json()
    route = yaml.safe_load(status["config"]["original"])["route"]
    assert (route["group_wait"], route["group_interval"]) == ("30s", "5m")


CHILD = """
import json, sys, threading
from oncall_tui.demo.procs import exit_on_termination_signals
from oncall_tui.demo.stack import Stack
if sys.argv[1] == "clean":
    exit_on_termination_signals()
s = Stack().start()
ports = [int(u.rsplit(":", 1)[1]) for u in [*s.alertmanager_urls, s.prometheus_url]]
print(json.dumps({"pids": s.started_pids, "workdir": str(s.workdir), "ports": ports}), flush=True)
threading.Event().wait()
"""


@pytest.mark.parametrize(
    ("sig", "mode"),
    [(signal.SIGKILL, "plain"), (signal.SIGTERM, "plain"), (signal.SIGHUP, "clean")],
    ids=["sigkill", "sigterm", "sighup-with-exit-handler"],
)
def test_children_die_with_their_parent(sig: signal.Signals, mode: str) -> None:
    """However the parent goes, its servers go too; with the handler it also cleans up."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    info: dict[str, Any] = {}
    try:
        assert child.stdout is not None and child.stderr is not None
        ready, _, _ = select.select([child.stdout], [], [], 30)
        line = child.stdout.readline() if ready else b""
        assert line, f"child printed nothing; stderr: {child.stderr.read()!r}"
        info = json.loads(line)
        assert len(info["pids"]) == 5 and all(pid_alive(p) for p in info["pids"])
        child.send_signal(sig)
        child.wait(15)
        wait_until(
            lambda: not [p for p in info["pids"] if pid_alive(p)],
            15,
            f"the children of a parent killed by {sig.name} to exit",
        )
        # A zombie leader can outlive its threads' sockets by a moment: wait, do not assert.
        wait_until(lambda: all(port_free(p, False) for p in info["ports"]), 5, "free ports")
        if mode == "clean":
            assert not Path(info["workdir"]).exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for pid in info.get("pids", []):  # never leak servers if the test fails
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if info.get("workdir"):
            shutil.rmtree(info["workdir"], ignore_errors=True)
