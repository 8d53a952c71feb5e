"""The demo's alerting rules say what their expressions compute, checked by Prometheus itself.

`promtool check rules` validates every rule file; `promtool test rules` evaluates the rules
on series with known rates and compares the annotations Prometheus renders. HighErrorRate
once said "Error rate is 800%" (an expression already in percent fed to
humanizePercentage); these tests read the text a user reads on the board.
"""

from __future__ import annotations

import re
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from oncall_tui.demo.stack import find_binaries

FILES = Path(str(resources.files("oncall_tui.demo") / "files"))
RULE_FILES = sorted((FILES / "rules").glob("*.yml"))
API = {"team": "ops", "service": "churn-api"}
ML = {"team": "ml", "service": "churn-api"}
NS = 'namespace="churn-mlops"'


def _alert(
    labels: dict[str, str], summary: str, description: str, runbook: str = ""
) -> dict[str, Any]:
    annotations = {"summary": summary, "description": description}
    if runbook:
        annotations["runbook_url"] = f"https://runbooks.example.com/{runbook}"
    return {"exp_labels": labels, "exp_annotations": annotations}


# Counters grow by a fixed amount a minute, so every rate and ratio is known exactly:
# 8 % of requests are 5xx, 15 % of predictions low-confidence, a pod burns 0.9 cores.
SERIES = [
    ('churn_api_requests_total{status="500"}', "0+8x70"),
    ('churn_api_requests_total{status="200"}', "0+92x70"),
    ("churn_api_predictions_total", "0+100x70"),
    ("churn_api_low_confidence_predictions_total", "0+15x70"),
    (f'container_cpu_usage_seconds_total{{{NS}, container="api", pod="api-1"}}', "0+54x70"),
    (f'kube_pod_container_status_restarts_total{{{NS}, pod="api-2"}}', "0+1x70"),
    ('churn_missing_features_total{feature="tenure"}', "0+120x70"),
    ('up{job="churn-api", instance="api:8000"}', "0x70"),
]
EXPECTED: dict[str, list[dict[str, Any]]] = {
    "ChurnAPIDown": [
        _alert({"severity": "critical", **API, "job": "churn-api", "instance": "api:8000"},
               "Churn API is down", "Prometheus cannot scrape api:8000 (up == 0)",
               "ChurnAPIDown"),
    ],
    "HighErrorRate": [
        _alert({"severity": "critical", **API}, "High error rate on Churn API",
               "8.0% of requests failed with a 5xx over the last 5 minutes (threshold: 5%)",
               "HighErrorRate"),
    ],
    "HighLowConfidencePredictions": [
        _alert({"severity": "warning", **ML}, "High rate of low-confidence predictions",
               "15.0% of predictions over the last 5 minutes have confidence < 0.7 "
               "(threshold: 10%)", "LowConfidence"),
    ],
    "HighCPU": [
        _alert({"severity": "warning", **API, "pod": "api-1"}, "High CPU usage on api-1",
               "Pod uses 0.90 CPU cores over the last 5 minutes (threshold: 0.8)"),
    ],
    "PodRestarting": [
        _alert({"severity": "warning", **API, "namespace": "churn-mlops", "pod": "api-2"},
               "Pod api-2 is restarting",
               "Pod restarted about 15 times in the last 15 minutes"),
    ],
    "HighMissingFeatureRate": [
        _alert({"severity": "warning", **ML, "feature": "tenure"},
               "High rate of missing feature: tenure",
               "Feature tenure missing from 2 requests/s over the last 5 minutes "
               "(threshold: 1/s)", "MissingFeatures"),
    ],
    "ErrorBudgetBurn": [
        _alert({"severity": "critical", **API}, "Burning error budget faster than it accrues",
               "8% of requests over the last hour were not 2xx, above the 0.1% error budget "
               "(burn rate above 1)"),
    ],
    "ErrorBudgetBurnFast": [
        _alert({"severity": "critical", "service": "churn-api"}, "Fast error budget burn",
               "5xx share above the 0.1% error budget (burn rate above 1) in both the 5m and "
               "the 1h window"),
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def promtool() -> str:
    return find_binaries().promtool


def test_every_demo_rule_file_is_valid(promtool: str) -> None:
    done = subprocess.run(
        [promtool, "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(RULE_FILES) == 5 and done.stdout.count("SUCCESS") == 5  # watchdog.yml too


def test_the_annotations_prometheus_renders_say_what_the_expressions_compute(
    promtool: str, tmp_path: Path
) -> None:
    spec = {
        "rule_files": [str(p) for p in RULE_FILES],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in SERIES],
                "alert_rule_test": [
                    {"eval_time": "65m", "alertname": name, "exp_alerts": alerts}
                    for name, alerts in EXPECTED.items()
                ],
            }
        ],
    }
    path = tmp_path / "demo_rules_test.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    done = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _rules() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def test_no_rule_claims_a_duration_or_unit_its_expression_lacks() -> None:
    """Checks that need no series: a value already in percent is not humanized as a ratio,
    and a runbook's "for N minutes" matches the rule's `for`."""
    for rule in _rules():
        text = " ".join(rule.get("annotations", {}).values())
        if re.search(r"\*\s*100\b", rule["expr"]):
            assert "humanizePercentage" not in text, rule["alert"]
        runbook = FILES / "runbooks" / f"{rule['alert']}.md"
        if not runbook.exists():
            continue
        symptoms = runbook.read_text().split("## Symptoms", 1)[1].split("##", 1)[0]
        for amount, unit in re.findall(r"\bfor (\d+) ?(minutes?|hours?|h|m|days?)\b", symptoms):
            if unit.startswith("day"):
                continue  # "not updated for 7 days" is the expression's threshold
            seconds = int(amount) * (3600 if unit.startswith("h") else 60)
            assert _seconds(rule.get("for", "0s")) == seconds, (rule["alert"], amount, unit)


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhd])", duration))
