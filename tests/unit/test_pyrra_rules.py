"""SLOs discovered from rules Pyrra generated (tests/data/pyrra, see its README), and Pyrra's own
burn thresholds (14/7/2/1) deciding PAGE/TICKET. The real Prometheus 2.42.0 serving these
rules is tests/integration/test_pyrra.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from oncall_tui.domain.slo import (
    MULTIWINDOW,
    PAGE,
    PYRRA_MULTIWINDOW,
    TICKET,
    WINDOWS,
    BurnAlert,
    SLOReport,
    multiwindow_state,
)
from oncall_tui.domain.slo_queries import discover, pyrra_burn_alert
from oncall_tui.wire.prometheus import Rule, RuleGroup

DATA = Path(__file__).resolve().parents[1] / "data" / "pyrra"


def groups(*names: str) -> list[RuleGroup]:
    out = []
    for name in names:
        for group in yaml.safe_load((DATA / name).read_text())["groups"]:
            rules = [
                Rule(
                    r.get("record") or r["alert"],
                    str(r["expr"]),
                    "recording" if "record" in r else "alerting",
                    labels={k: str(v) for k, v in (r.get("labels") or {}).items()},
                )
                for r in group["rules"]
            ]
            out.append(RuleGroup(group["name"], name, rules))
    return out


def test_generated_rules_give_objective_window_and_pyrras_own_alerts() -> None:
    (spec,) = discover(groups("http-rules.yaml", "http-generic.yaml"))
    assert (spec.source, spec.name, spec.objective, spec.window) == ("pyrra", "http", 0.995, "28d")
    assert spec.burn_alerts == PYRRA_MULTIWINDOW
    assert spec.windows == (*WINDOWS, "4d")
    assert spec.ratio_expr("4d") == 'http_requests:burnrate4d{slo="http"}'


def test_bare_number_objective_is_read_without_the_alerts() -> None:
    recording_only = [
        RuleGroup(g.name, g.file, [r for r in g.rules if r.type == "recording"])
        for g in groups("http-rules.yaml", "http-generic.yaml")
    ]
    (spec,) = discover(recording_only)
    assert spec.objective == 0.995 and spec.window == "28d"
    assert spec.burn_alerts == () and spec.alert_rules == MULTIWINDOW


def test_a_steady_burn_of_6_5_pages_by_the_workbook_but_is_a_ticket_for_pyrra() -> None:
    (spec,) = discover(groups("http-rules.yaml", "http-generic.yaml"))
    ratios = {w: 6.5 * 0.005 for w in spec.windows}
    report = SLOReport(spec=spec, taken_at=0.0, objective=0.995, ratios=ratios)
    assert report.burns["4d"] == pytest.approx(6.5)
    assert report.state == TICKET
    assert multiwindow_state(report.burns) == PAGE  # the workbook's 6x over 6h/30m
    fast = SLOReport(spec=spec, taken_at=0.0, objective=0.995, ratios={w: 0.05 for w in ratios})
    assert fast.state == PAGE  # 10x > 7x


def test_burn_alert_without_window_labels_reads_the_expression() -> None:
    expr = 'x:burnrate6h{slo="a"} > (1 * (1-0.99)) and x:burnrate4d{slo="a"} > (1 * (1-0.99))'
    assert pyrra_burn_alert(expr, {"severity": "warning"}) == BurnAlert("4d", "6h", 1.0, TICKET)
    assert pyrra_burn_alert("up == 0", {}) is None
