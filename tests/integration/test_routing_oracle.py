"""Where an alert goes: the app's routing agrees with the real `amtool config routes test`.

amtool 0.25.0 (Debian's prometheus-alertmanager) walks the same tree Alertmanager 0.25.0
dispatches on; for each label set, the receivers it prints, in its order, are the oracle for
`domain.routing`. Two trees: the course's (the demo's alertmanager.yml, and the very text the
running demo serves at /api/v2/status, with every alert the demo has), and a larger one
(tests/data/routing/large.yml) with nested routes, `continue` at several depths, `matchers`
next to `match`/`match_re`, regexes (case folding, alternations), and time intervals.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from oncall_tui.demo.stack import Stack
from oncall_tui.domain.matchers import quote
from oncall_tui.domain.routing import RoutingConfig, parse_config
from tests.helpers import ROOT

PROVEN_VERSION = "0.25.0"
DEMO = ROOT / "oncall_tui" / "demo" / "files" / "alertmanager.yml"
LARGE = ROOT / "tests" / "data" / "routing" / "large.yml"

LARGE_TABLE: list[dict[str, str]] = [
    {},
    {"alertname": "X"},
    {"team": "db", "env": "prod", "severity": "critical", "alertname": "PostgresDown"},
    {"team": "db", "env": "staging", "alertname": "PostgresLag", "severity": "warning"},
    {"team": "db", "env": "dev", "alertname": "PostgresLag"},
    {"team": "db", "env": "prod", "alertname": "DiskFull", "severity": "page"},
    {"team": "db", "env": "prod", "alertname": "DiskFull"},
    {"team": "ml", "severity": "critical", "service": "churn-api", "region": "eu-west-1"},
    {"team": "data", "severity": "info", "service": "churn-api"},
    {"team": "ml", "service": "other"},
    {"severity": "critical", "region": "us-east-1"},
    {"severity": "critical", "region": "ap-south-1"},
    {"alertname": "Watchdog"},
    {"alertname": "WATCHDOG"},
    {"alertname": "DeadMansSwitch"},
    {"alertname": "deadmansswitch", "severity": "critical"},
    {"service": "a, b", "path": "/api/v2/users"},
    {"service": "a, b", "path": "/api/vx/users"},
    {"severity": "warning", "team": "web"},
    {"severity": "warn"},
    {"severity": "critical\n"},
]


def _amtool() -> str:
    found = shutil.which("amtool")
    if found is None:
        pytest.fail("amtool is missing: apt-get install -y prometheus-alertmanager", pytrace=False)
    return found


def amtool_receivers(config: Path, labels: Mapping[str, str]) -> list[str]:
    args = [f"{name}={quote(value)}" for name, value in labels.items()]
    done = subprocess.run(
        [_amtool(), "config", "routes", "test", f"--config.file={config}", *args],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    return done.stdout.strip().split(",")


def test_amtool_is_the_proven_version() -> None:
    out = subprocess.run([_amtool(), "--version"], capture_output=True, text=True, timeout=10)
    assert f"version {PROVEN_VERSION}" in (out.stdout + out.stderr)


def _generated() -> list[dict[str, str]]:
    """A cross product over the labels the large tree routes on."""
    axes = {
        "team": [None, "db", "ml"],
        "env": [None, "prod"],
        "severity": [None, "critical", "warning", "info"],
        "region": [None, "eu-west-1", "us-x"],
        "alertname": [None, "MySQLSlow", "watchdog"],
    }
    out = []
    for values in itertools.product(*axes.values()):
        labels = {k: v for k, v in zip(axes, values, strict=True) if v is not None}
        out.append(labels)
    return out[::3]  # every third: 72 label sets, each a separate amtool run


@pytest.mark.parametrize(
    ("path", "table"),
    [
        (LARGE, LARGE_TABLE + _generated()),
        (
            DEMO,
            [
                {"severity": "critical", "alertname": "HighCPU"},
                {"severity": "critical", "alertname": "DataDriftDetected"},
                {"severity": "warning", "alertname": "HighMemory"},
                {"severity": "warning", "alertname": "HighLatency"},
                {"severity": "info", "alertname": "Other"},
                {"alertname": "PodDown"},
            ],
        ),
    ],
    ids=["large", "course"],
)
def test_receivers_agree_with_amtool(path: Path, table: list[dict[str, str]]) -> None:
    config = parse_config(path.read_text())
    disagree = []
    for labels in table:
        ours = config.receivers_for(labels)
        theirs = amtool_receivers(path, labels)
        if ours != theirs:
            disagree.append(f"{labels}: app {ours} amtool {theirs}")
    assert not disagree, "\n".join(disagree)
    assert len(table) >= 6


def test_every_demo_alert_agrees_with_amtool_on_the_served_config(
    stack: Stack, tmp_path: Path
) -> None:
    """The configuration the running demo serves, and every alert it holds right now."""
    url = stack.alertmanager_urls[0]
    status = httpx.get(f"{url}/api/v2/status", timeout=10).json()
    served = tmp_path / "served.yml"
    served.write_text(status["config"]["original"])
    config: RoutingConfig = parse_config(served.read_text())
    alerts = httpx.get(f"{url}/api/v2/alerts", timeout=10).json()
    assert alerts, "the demo holds no alert"
    for alert in alerts:
        labels = alert["labels"]
        assert config.receivers_for(labels) == amtool_receivers(served, labels), labels
        # Alertmanager's own answer for the live alert, too.
        assert sorted(set(config.receivers_for(labels))) == sorted(
            {r["name"] for r in alert["receivers"]}
        ), labels
