"""`oncall-tui demo`: start the real demo stack, point the app at it, stop it on the way out.

Every process the demo starts is stopped when the app quits, on Ctrl+C, on SIGTERM or SIGHUP
(an SSH session dropping), and on a crash; after a SIGKILL the kernel stops them
(PR_SET_PDEATHSIG, see demo/stack.py).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import yaml

from oncall_tui.config import (
    BackendConfig,
    ClusterConfig,
    Context,
    PrometheusConfig,
    RunbooksConfig,
    Settings,
    SLOConfig,
    TriageQuery,
    TriageRule,
)
from oncall_tui.config.oncall import OncallConfig

if TYPE_CHECKING:
    from oncall_tui.demo.stack import Stack

DEMO_REFRESH = 5.0
FIRST_ALERT_TIMEOUT = 30.0
# The churn-api SLOs of the course section (availability 99.9 %, p95 latency under 500 ms,
# read as "at most 5 % of requests slower than 0.5 s"); config.example.yaml has the same.
DEMO_SLOS = (
    SLOConfig(
        name="availability",
        service="churn-api",
        objective=99.9,
        window="30d",
        errors='sum(rate(churn_api_requests_total{status=~"5.."}[{{window}}]))',
        total="sum(rate(churn_api_requests_total[{{window}}]))",
        labels={"service": "churn-api"},
        description="share of requests answered without a 5xx",
    ),
    SLOConfig(
        name="latency",
        service="churn-api",
        objective=95.0,
        window="30d",
        errors=(
            "sum(rate(churn_api_request_latency_seconds_count[{{window}}]))"
            ' - sum(rate(churn_api_request_latency_seconds_bucket{le="0.5"}[{{window}}]))'
        ),
        total="sum(rate(churn_api_request_latency_seconds_count[{{window}}]))",
        labels={"service": "churn-api"},
        description="p95 under 500 ms: at most 5 % of requests slower than 0.5 s",
    ),
)


def _rotation(name: str, *users: str) -> dict[str, Any]:
    return {
        "name": name,
        "time_zone": "America/New_York",
        "layers": [
            {
                "rotation_virtual_start": "2023-12-01T00:00:00-05:00",
                "rotation_turn_length_seconds": 604800,
                "users": [{"user": user} for user in users],
            }
        ],
    }


def _policy(name: str, primary: str, backup: str) -> dict[str, Any]:
    return {
        "name": name,
        "escalation_rules": [
            {"escalation_delay_in_minutes": 15, "targets": [{"type": "schedule", "id": primary}]},
            {"escalation_delay_in_minutes": 15, "targets": [{"type": "schedule", "id": backup}]},
            {
                "escalation_delay_in_minutes": 30,
                "targets": [{"type": "user", "id": "engineering-manager@example.com"}],
            },
        ],
    }


# The course's ML rotation and escalation, and the same for the ops team, picked by the
# demo rules' `team` label (ChurnAPIDown is ops).
DEMO_ONCALL = OncallConfig.from_data(
    {
        "schedules": [
            _rotation(
                "ML Team Primary", "alice@example.com", "bob@example.com", "charlie@example.com"
            ),
            _rotation("ML Team Backup", "david@example.com", "eve@example.com"),
            _rotation("Ops Primary", "frank@example.com", "grace@example.com"),
            _rotation("Ops Backup", "heidi@example.com", "ivan@example.com"),
        ],
        "escalation_policies": [
            _policy("ML Escalation", "ML Team Primary", "ML Team Backup"),
            _policy("Ops Escalation", "Ops Primary", "Ops Backup"),
        ],
        "team_label": "team",
        "teams": {"ml": "ML Escalation", "ops": "Ops Escalation"},
    }
)


def demo_context(stack: Stack, refresh: float | None = None) -> Context:
    """A context for a running stack: its HA pair as one cluster, and its Prometheus; with
    several clusters, each one's Prometheus a backend owning the alerts labelled with it."""
    prometheus = stack.prometheus_url
    backends = stack.prometheus_urls
    if len(backends) > 1:
        return Context(
            name="demo",
            alertmanagers=[ClusterConfig(name="demo", peers=stack.alertmanager_urls)],
            owner_label="cluster",
            backends=[BackendConfig(owner=c, url=u) for c, u in backends.items()],
            refresh=refresh or DEMO_REFRESH,
            # Each SLO in every cluster, asked of that cluster's Prometheus.
            slos=[msgspec.structs.replace(slo, backend=c) for c in backends for slo in DEMO_SLOS],
            oncall=DEMO_ONCALL,
            **DEMO_TRIAGE,
        )
    return Context(
        name="demo",
        alertmanagers=[ClusterConfig(name="demo", peers=stack.alertmanager_urls)],
        prometheus=PrometheusConfig(url=prometheus) if prometheus else None,
        refresh=refresh or DEMO_REFRESH,
        slos=list(DEMO_SLOS) if prometheus else [],
        oncall=DEMO_ONCALL,
        **DEMO_TRIAGE,
    )


def demo_runbooks() -> Path:
    """The demo's runbook folder, as installed (package data, found by importlib.resources).

    A runbook folder is a path in the config, so it must be a real directory: wheels install
    unpacked, and a zipped install is refused here rather than showing no runbooks.
    """
    folder = resources.files("oncall_tui.demo") / "files" / "runbooks"
    if not isinstance(folder, Path) or not folder.is_dir():
        raise RuntimeError(f"the demo's runbooks are not a folder on disk: {folder}")
    return folder


# The shipped runbooks (the course's template, one per churn-api alert) and triage queries.
DEMO_TRIAGE: dict[str, Any] = {
    "runbooks": RunbooksConfig(folders=[demo_runbooks()]),
    "triage": [
        TriageRule(
            matchers='service="churn-api"',
            queries=[
                TriageQuery(
                    name="requests per second by status",
                    query='sum by (status) (rate(churn_api_requests_total{job="{{ $labels.service }}"}[5m]))',
                ),
                TriageQuery(
                    name="p95 latency (seconds)",
                    query="histogram_quantile(0.95, sum by (le) "
                    "(rate(churn_api_request_latency_seconds_bucket[5m])))",
                ),
                TriageQuery(
                    name="pod restarts (15m)",
                    query="sum by (pod) (increase(kube_pod_container_status_restarts_total"
                    '{namespace="churn-mlops"}[15m]))',
                ),
            ],
        )
    ],
}


def context_yaml(context: Context) -> str:
    """The config file a user would write for this context."""
    body: dict[str, object] = {
        "alertmanagers": [{"name": c.name, "peers": c.peers} for c in context.alertmanagers],
        "refresh": context.refresh,
    }
    if context.prometheus:
        body["prometheus"] = {"url": context.prometheus.url}
    if context.backends:
        label = context.owner_label
        body["owner_label"] = label
        body["backends"] = [{label: b.owner, "url": b.url} for b in context.backends]
    if context.slos:
        body["slos"] = [msgspec.to_builtins(slo) for slo in context.slos]  # defaults left out
    if context.runbooks.folders:
        body["runbooks"] = {"folders": [str(f) for f in context.runbooks.folders]}
    if context.triage:
        body["triage"] = [msgspec.to_builtins(rule) for rule in context.triage]
    if context.oncall.schedules or context.oncall.escalation_policies:
        body["oncall"] = msgspec.to_builtins(msgspec.structs.replace(context.oncall, file=None))
    return yaml.safe_dump(
        {"current_context": context.name, "contexts": {context.name: body}}, sort_keys=False
    )


def demo_config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where `demo --serve` keeps its config: the user's state dir, not the stack's temp dir."""
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "oncall-tui" / "demo.yaml"


def _serve(stack: Stack, context: Context) -> int:
    """Print the stack's config (stdout: `demo --serve > demo.yaml` works) and keep a copy.

    The stack's work dir is removed when the demo stops, so the copy goes to the state dir,
    where it outlives the demo; what does not outlive it are the servers it names, and both
    the file and the message say so.
    """
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    text = (
        f"# The oncall-tui demo stack started {started} (pid {os.getpid()}).\n"
        "# Its servers stop with `oncall-tui demo --serve`; so does this config's use.\n"
        + context_yaml(context)
    )
    kept = demo_config_path()
    path: Path | None = kept
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"oncall-tui: could not keep a copy at {kept}: {exc}", file=sys.stderr)
        path = None
    sys.stdout.write(text)
    sys.stdout.flush()
    if path is not None:
        where = (
            f"\nConfig for this stack (above, on stdout) also written to {path}.\n"
            "That file stays after the demo stops (the next `demo --serve` overwrites it), "
            "but the servers it names stop with the demo: it is only useful while this runs.\n"
            f"  oncall-tui --config {path}\n"
            f"  oncall-tui --config {path} check-config\n"
        )
    else:
        where = "\nConfig for this stack: above, on stdout (save it to a file to use it).\n"
    print(f"{where}Press Ctrl+C to stop the stack.", file=sys.stderr, flush=True)
    threading.Event().wait()
    return 0


def run_demo(
    args: argparse.Namespace,
    settings: Settings,
    run_app: Callable[[Context, Settings], int],
) -> int:
    """Start the stack, run the app (or --serve / --check) against it, always stop it."""
    from oncall_tui.demo.exporter import ExporterRates
    from oncall_tui.demo.procs import exit_on_termination_signals
    from oncall_tui.demo.stack import MissingBinaries, Stack, StackError, StackOptions

    rates = ExporterRates()
    if getattr(args, "error_ratio", None) is not None:
        rates = dataclasses.replace(rates, error_ratio=args.error_ratio)
    # SIGTERM and SIGHUP must unwind through `finally` so the stack is stopped.
    exit_on_termination_signals()
    clusters = getattr(args, "clusters", 1) or 1
    stack = Stack(StackOptions(rates=rates, clusters=clusters))
    try:
        what = (
            "Prometheus, two clustered Alertmanagers, a churn-api exporter"
            if clusters == 1
            else f"{clusters} clusters (each a Prometheus and a churn-api exporter), "
            "two clustered Alertmanagers"
        )
        print(f"Starting the demo stack ({what})...", file=sys.stderr, flush=True)
        stack.start()
        print(stack.describe(), file=sys.stderr)
        print("Waiting for the first alert to fire...", file=sys.stderr, flush=True)
        took = stack.wait_for_firing(FIRST_ALERT_TIMEOUT)
        print(f"First alert active after {took:.1f} s.", file=sys.stderr, flush=True)
        context = demo_context(stack, getattr(args, "refresh", None))
        if getattr(args, "check", False):
            from oncall_tui.cli.checks import check_context
            from oncall_tui.state.wiring import build_clients

            lines, ok = asyncio.run(check_context(build_clients(context)))
            print("\n".join(lines))
            return 0 if ok else 1
        if getattr(args, "serve", False):
            return _serve(stack, context)
        return run_app(context, settings)
    except MissingBinaries as exc:
        print(f"oncall-tui: {exc}", file=sys.stderr)
        return 1
    except StackError as exc:
        print(f"oncall-tui: the demo stack failed: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
