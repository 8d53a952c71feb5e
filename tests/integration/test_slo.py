"""Error budgets: the math by hand, and known answers from a real Prometheus fed by the
demo exporter at fixed rates (5 % errors against 99.9 % is a burn rate of 50)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from oncall_tui.cli.demo import DEMO_SLOS
from oncall_tui.config import Context, PrometheusConfig, SLOConfig, load_settings
from oncall_tui.demo.exporter import LATENCY_BUCKETS, ExporterRates, continued, layout
from oncall_tui.demo.stack import Stack, StackOptions
from oncall_tui.domain.slo import (
    NO_DATA,
    OK,
    PAGE,
    TICKET,
    WINDOWS,
    SLOReport,
    SLOSpec,
    budget,
    burn_rate,
    format_duration,
    multiwindow_state,
    parse_duration,
    spent_from_downtime,
    time_to_exhaustion,
)
from oncall_tui.domain.slo_queries import discover
from oncall_tui.state.slo import SLOPoller, SLOSnapshot
from oncall_tui.state.wiring import build_clients
from oncall_tui.wire.prometheus import Rule, RuleGroup

ROOT = Path(__file__).resolve().parents[2]
DAYS_30 = 30 * 86400.0


# -- the math ----------------------------------------------------------------------------------


def test_seed_worked_example_15_minutes_down_in_30_days() -> None:
    found = spent_from_downtime(0.999, DAYS_30, 15)
    assert found.total_minutes == pytest.approx(43.2)
    assert round(found.spent_pct, 1) == 34.7
    assert round(found.remaining_pct, 1) == 65.3
    # The same from an error ratio: 15 minutes down in the 15 days the data covers.
    covered = 15 * 86400.0
    same = budget(0.999, DAYS_30, 15 * 60 / covered, covered)
    assert same is not None and same.spent_minutes == pytest.approx(15)
    assert same.spent_pct == pytest.approx(found.spent_pct)


def test_full_window_spent_is_ratio_over_budget_and_exhaustion() -> None:
    found = budget(0.999, DAYS_30, 0.0005, DAYS_30 * 2)  # coverage beyond the window: the window
    assert found is not None and found.spent_pct == pytest.approx(50.0)
    assert burn_rate(0.05, 0.999) == pytest.approx(50.0)
    assert time_to_exhaustion(found, 0.001) == pytest.approx(21.6 * 60 / 0.001)
    assert time_to_exhaustion(found, 0.0) == math.inf
    gone = budget(0.999, DAYS_30, 0.01, DAYS_30)
    assert gone is not None and gone.remaining_pct < 0 and time_to_exhaustion(gone, 0.01) == 0


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, -math.inf])
def test_no_data_is_never_a_figure(bad: float | None) -> None:
    assert budget(0.999, DAYS_30, bad, 3600) is None
    assert budget(0.999, DAYS_30, 0.01, bad) is None
    assert burn_rate(bad, 0.999) is None
    assert time_to_exhaustion(None, 0.1) is None
    report = SLOReport(
        SLOSpec("a", "s", DAYS_30, 0.999), 0.0, 0.999, bad, dict.fromkeys(WINDOWS, bad)
    )
    assert report.remaining_pct is None and report.state == NO_DATA and report.sli is None
    assert burn_rate(0.01, 1.0) is None and budget(1.0, DAYS_30, 0.0, 1.0) is None


def burns(**values: float) -> dict[str, float | None]:
    out: dict[str, float | None] = dict.fromkeys(WINDOWS, 0.5)
    out.update({k.removeprefix("w"): v for k, v in values.items()})
    return out


def test_multiwindow_states_of_the_workbook() -> None:
    assert multiwindow_state(burns(w1h=15, w5m=15)) == PAGE
    assert multiwindow_state(burns(w1h=15, w5m=2)) == OK, "both windows must exceed"
    assert multiwindow_state(burns(w6h=7, w30m=7)) == PAGE
    assert multiwindow_state(burns(w1d=4, w2h=4)) == TICKET
    assert multiwindow_state(burns(w3d=1.5, w6h=1.5)) == TICKET
    assert multiwindow_state(burns(w3d=1.5, w6h=0.9)) == OK
    assert multiwindow_state({**burns(w1h=15), "5m": None}) == OK, "a missing window is not met"
    assert multiwindow_state(dict.fromkeys(WINDOWS)) == NO_DATA
    assert multiwindow_state(dict.fromkeys(WINDOWS, math.nan)) == NO_DATA


def test_durations_round_trip() -> None:
    assert parse_duration("30d") == DAYS_30
    assert parse_duration("1h30m") == 5400
    assert format_duration(DAYS_30) == "30d" and format_duration(5400) == "1h30m"
    with pytest.raises(ValueError):
        parse_duration("30 days")


def test_example_config_and_demo_share_the_churn_api_slos() -> None:
    demo = load_settings(ROOT / "config.example.yaml").context("demo")
    assert demo.slos == list(DEMO_SLOS)
    assert [(s.name, s.objective, s.window) for s in demo.slos] == [
        ("availability", 99.9, "30d"),
        ("latency", 95.0, "30d"),
    ]


def test_pyrra_rules_are_discovered() -> None:
    expr = 'sum(rate(http_requests_total{code=~"5..",job="api"}[{w}])) / sum(rate(http_requests_total{job="api"}[{w}]))'
    rules = [
        Rule(
            f"http_requests:burnrate{w}",
            expr.replace("{w}", w),
            "recording",
            labels={"job": "api", "slo": "api-errors"},
        )
        for w in ("5m", "30m", "1h", "2h", "6h", "1d", "4d")
    ]
    rules.append(
        Rule(
            "http_requests:increase4w",
            "sum(increase(x[4w]))",
            "recording",
            labels={"slo": "api-errors"},
        )
    )
    alert = 'http_requests:burnrate5m{slo="api-errors"} > (14 * (1-0.99)) and http_requests:burnrate1h{slo="api-errors"} > (14 * (1-0.99))'
    rules.append(
        Rule(
            "ErrorBudgetBurn",
            alert,
            "alerting",
            labels={"slo": "api-errors", "severity": "critical"},
        )
    )
    (spec,) = discover([RuleGroup("api-errors", "pyrra.yml", rules)])
    assert (spec.source, spec.name, spec.service, spec.objective) == (
        "pyrra",
        "api-errors",
        "api",
        0.99,
    )
    assert spec.window == "28d" and spec.labels == {"slo": "api-errors"}
    assert spec.ratio_expr("1h") == 'http_requests:burnrate1h{slo="api-errors"}'
    assert "[3d]" in spec.ratio_expr("3d"), "a window Pyrra does not record is computed"


def test_exporter_rate_change_keeps_counters_continuous() -> None:
    old_rates, new_rates = ExporterRates(), ExporterRates(error_ratio=0.5)
    old, new = layout(old_rates, 0), layout(new_rates, 0)
    joined = continued(old, new, 100.0)
    before = {
        x.text: x.per_second * 100 + x.constant for x in old.lines if x.per_second is not None
    }
    after = {
        x.text: x.per_second * 100 + x.constant for x in joined.lines if x.per_second is not None
    }
    assert after == pytest.approx(before)
    slope = {x.text: x.per_second for x in joined.lines if x.per_second is not None}
    assert slope['churn_api_requests_total{status="500",endpoint="/predict"}'] == pytest.approx(
        new_rates.status_rps["500"]
    )


# -- known answers from the real Prometheus -----------------------------------------------------

RATES = ExporterRates(error_ratio=0.05)
SLOW = sum(share for le, share in LATENCY_BUCKETS if le > 0.5)  # 0.20: 4x a 5 % budget


@pytest.fixture(scope="module")
def slo_stack() -> Iterator[Stack]:
    sloth = (ROOT / "tests" / "data" / "sloth-churn-api.yml").read_text()
    options = StackOptions(alertmanager_peers=1, rates=RATES, extra_rules={"sloth": sloth})
    with Stack(options) as demo:
        yield demo


def context(stack: Stack, slos: list[SLOConfig] | None = None) -> Context:
    assert stack.prometheus_url
    return Context(
        name="slo-test",
        prometheus=PrometheusConfig(url=stack.prometheus_url),
        slos=list(DEMO_SLOS) if slos is None else slos,
    )


async def poll_until(poller: SLOPoller, ready: object, timeout: float = 30.0) -> SLOSnapshot:
    """Poll until ``ready(snapshot)``: recording rules need an evaluation or two."""
    deadline = time.monotonic() + timeout
    snapshot = await poller.poll()
    while not ready(snapshot):  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {snapshot}")
        await _pause()
        snapshot = await poller.poll()
    return snapshot


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.2)  # polling interval of a condition wait, not a guessed delay


def by_name(snapshot: SLOSnapshot) -> dict[str, SLOReport]:
    return {r.spec.name: r for r in snapshot.reports}


@pytest.mark.stack
async def test_known_answers_from_the_exporter_rates(slo_stack: Stack) -> None:
    clients = build_clients(context(slo_stack))
    try:
        snap = await poll_until(
            SLOPoller(clients),
            lambda s: s.ok and all(r.ratios.get("5m") is not None for r in s.reports),
        )
    finally:
        await clients.aclose()
    found = by_name(snap)
    avail, latency = found["availability"], found["latency"]
    assert avail.spec.source == "config" and avail.objective == pytest.approx(0.999)
    for window in WINDOWS:
        assert avail.burns[window] == pytest.approx(50.0, rel=1e-6), window
        assert latency.burns[window] == pytest.approx(SLOW / 0.05, rel=1e-6), window
    assert avail.sli == pytest.approx(0.95, rel=1e-9) and avail.state == PAGE
    assert latency.sli == pytest.approx(1 - SLOW) and latency.state == TICKET  # 4x: 1d and 2h > 3
    # The data: the exporter's hour of backfilled history plus the seconds since it started.
    assert avail.covered_s is not None
    # To the 5 s the data start is found to, less the first sample and rate()'s second one.
    assert RATES.history_seconds - 10 < avail.covered_s < RATES.history_seconds + 300
    spent = 0.05 * avail.covered_s / 60
    left = avail.budget
    assert left is not None and left.total_minutes == pytest.approx(43.2)
    assert left.spent_minutes == pytest.approx(spent, rel=1e-3)
    assert avail.exhaustion_s == pytest.approx((43.2 - spent) * 60 / 0.05, rel=1e-3)
    assert any(n.startswith("data covers ") and "of the 30d window" in n for n in avail.notes())
    assert any("retention (15d)" in n for n in avail.notes())


@pytest.mark.stack
async def test_sloth_rules_are_discovered_without_config(slo_stack: Stack) -> None:
    clients = build_clients(context(slo_stack, slos=[]))
    try:
        poller = SLOPoller(clients)
        snap = await poll_until(
            poller,
            lambda s: any(
                r.spec.source == "sloth" and all(r.ratios.get(w) is not None for w in WINDOWS)
                for r in s.reports
            ),
        )
    finally:
        await clients.aclose()
    (sloth,) = [r for r in snap.reports if r.spec.source == "sloth"]
    assert (sloth.spec.service, sloth.spec.name) == ("churn-api", "requests-availability")
    assert sloth.spec.discovered and sloth.spec.window == "30d"
    assert sloth.spec.labels == {"sloth_id": "churn-api-requests-availability"}
    assert sloth.objective == pytest.approx(0.995)
    for window in WINDOWS:
        assert sloth.burns[window] == pytest.approx(10.0, rel=1e-6), window
    assert sloth.state == PAGE  # 10x over 6h and 30m
    # The demo's own Sloth-named rules (no sloth_id) are found too, grouped by their labels.
    rules = {r.spec.name for r in snap.reports if r.spec.source == "rules"}
    assert rules == {"availability", "latency"}


@pytest.mark.stack
async def test_nan_zero_denominator_and_missing_series_are_no_data(slo_stack: Stack) -> None:
    total = "sum(rate(churn_api_requests_total[{{window}}]))"
    errors = 'sum(rate(churn_api_requests_total{status=~"5.."}[{{window}}]))'
    slos = [
        SLOConfig(name="nan", objective=99.9, errors=f"{errors} * 0", total=f"{total} * 0"),
        SLOConfig(name="inf", objective=99.9, errors=errors, total=f"{total} * 0"),
        SLOConfig(name="missing", objective=99.9, ratio="sum(rate(no_such_metric[{{window}}]))"),
        SLOConfig(name="many", objective=99.9, ratio="rate(churn_api_requests_total[{{window}}])"),
    ]
    clients = build_clients(context(slo_stack, slos=slos))
    try:
        snap = await SLOPoller(clients).poll()
    finally:
        await clients.aclose()
    found = by_name(snap)
    for name in ("nan", "inf", "missing", "many"):
        report = found[name]
        assert report.remaining_pct is None and report.budget is None, name
        assert report.state == NO_DATA, name
    assert "aggregate it with sum()" in found["many"].errors[0]


@pytest.mark.stack
async def test_prometheus_down_fails_the_snapshot_not_the_caller() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = Context(name="down", prometheus=PrometheusConfig(url=f"http://127.0.0.1:{port}"))
    ctx = msgspec.structs.replace(ctx, slos=list(DEMO_SLOS))
    clients = build_clients(ctx)
    try:
        snap = await SLOPoller(clients).poll()
    finally:
        await clients.aclose()
    assert not snap.ok and snap.errors
    assert all(r.state == NO_DATA for r in snap.reports)
