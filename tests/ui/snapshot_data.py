"""Fixed data for the snapshot tests: the demo stack's answers, recorded once.

scripts/record_snapshot_data.py wrote tests/data/snapshots/*.json from the real servers and
moved every timestamp so that the moment of recording is FIXED_NOW; the tests freeze the
clock there. This module turns those files into what the stores hold (`feed`: alerts, SLOs,
health verdicts, the incident book) and what the on-demand reads answer (`FixedLookups`,
`fixed_preview`), with no server and no poll; the demo's on-call schedules are in the context.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from oncall_tui.cli.demo import DEMO_REFRESH, DEMO_SLOS, DEMO_TRIAGE, demo_runbooks
from oncall_tui.config import ClusterConfig, Context, PrometheusConfig, RunbooksConfig, Settings
from oncall_tui.config.oncall import OncallConfig
from oncall_tui.demo.stack import delivering
from oncall_tui.domain.alert_history import History, build_history, history_queries
from oncall_tui.domain.board import BoardAlert, board_alert
from oncall_tui.domain.completeness import PrometheusRules
from oncall_tui.domain.engines import identify
from oncall_tui.domain.handoff import Handoff, assemble
from oncall_tui.domain.incidents import Incident
from oncall_tui.domain.matchers import parse_filter
from oncall_tui.domain.merge import GroupMerger, merge_alerts
from oncall_tui.domain.pipeline import Verdict
from oncall_tui.domain.routing import RoutingConfig, parse_config
from oncall_tui.domain.script_output import merge_silences
from oncall_tui.domain.slo import SLOReport
from oncall_tui.domain.slo_queries import discover, merge_specs
from oncall_tui.state.alerts import ClusterHealth, Snapshot
from oncall_tui.state.context import ContextState
from oncall_tui.state.incidents import IncidentBook
from oncall_tui.state.lookups import Lookups
from oncall_tui.state.routing import RoutingBook
from oncall_tui.state.slo import SLOSnapshot, specs_from_config
from oncall_tui.state.wiring import Clients
from oncall_tui.ui.screens.detail import HISTORY_WINDOWS as HISTORY_WINDOWS
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Alert, AlertGroup, Silence
from oncall_tui.wire.engine import EngineFacts
from oncall_tui.wire.prometheus import QueryResult, RuleAlert, RuleGroup, Sample, Series
from oncall_tui.wire.prometheus import sample_value as value_of

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "snapshots"
# 2026-03-02 03:14:00 UTC: a night shift. Tests run with TZ=UTC, so local times read as UTC.
FIXED_NOW = 1772421240.0
USER = "alice"
# What `:query` runs in its snapshot, and the range windows recorded (triage's default, 1h).
QUERY = "sum by (status) (rate(churn_api_requests_total[5m]))"
RANGE_WINDOWS = (3600.0,)
# Closed loopback ports: nothing polls, and a request that slipped through would fail loudly.
PEERS = ("http://127.0.0.1:1", "http://127.0.0.1:2")
PROMETHEUS = "http://127.0.0.1:3"
CLUSTER = "demo"
# The view prints the folder, which must be absolute (a relative one is refused): a copy of
# the demo's runbooks at one fixed place, so that the path on screen is the same everywhere.
RUNBOOKS = Path("/tmp/oncall-tui-snapshots/runbooks")
# `:incidents` prints where the book is kept: the recorded book is copied there, likewise.
INCIDENTS = Path("/tmp/oncall-tui-snapshots/incidents")


@cache
def recorded(name: str) -> Any:
    return json.loads((DATA / f"{name}.json").read_text())


def wire(value: object, kind: type[T]) -> T:
    """Recorded JSON to the wire model the client would have decoded."""
    return msgspec.json.decode(msgspec.json.encode(value), type=kind)


def settings(theme: str) -> Settings:
    return Settings(theme=theme, user=USER)


def context() -> Context:
    """The demo's context (its SLOs, triage queries, runbooks and on-call schedules) on servers
    nobody runs."""
    return Context(
        name=CLUSTER,
        alertmanagers=[ClusterConfig(name=CLUSTER, peers=list(PEERS))],
        prometheus=PrometheusConfig(url=PROMETHEUS),
        refresh=DEMO_REFRESH,
        slos=list(DEMO_SLOS),
        triage=DEMO_TRIAGE["triage"],
        runbooks=RunbooksConfig(folders=[RUNBOOKS]),
        oncall=OncallConfig.from_data(recorded("oncall")),
    )


def place_runbooks() -> None:
    """Copy the package's demo runbooks to RUNBOOKS, and the recorded incidents to INCIDENTS."""
    _place(demo_runbooks().glob("*.md"), RUNBOOKS)
    _place((DATA / "incidents").glob("*.json"), INCIDENTS)


def _place(sources: Iterable[Path], folder: Path) -> None:
    """Atomic per file, so parallel runs (which write the same bytes) never see half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in sources:
        partial = folder / f".{source.name}.{os.getpid()}"
        partial.write_bytes(source.read_bytes())
        os.replace(partial, folder / source.name)


# -- what the stores hold ----------------------------------------------------------------------


def silences() -> tuple[Silence, ...]:
    return wire(recorded("silences"), tuple[Silence, ...])


def alert_snapshot() -> Snapshot:
    """One poll of the demo as the AlertStore would have made it."""
    per_peer = {
        url: wire(body, list[AlertGroup])
        for url, body in zip(PEERS, recorded("groups"), strict=True)
    }
    held = wire(recorded("prometheus_alerts")["data"]["alerts"], tuple[RuleAlert, ...])
    rules = alert_rules()
    return Snapshot(
        taken_at=FIXED_NOW,
        groups={CLUSTER: GroupMerger(CLUSTER).merge(per_peer)},
        health=(ClusterHealth(CLUSTER, PEERS, ()),),
        pending=tuple(a for a in held if a.state == "pending"),
        silences={CLUSTER: silences()},
        prometheus_active=tuple(a.labels for a in held),
        rules=PrometheusRules(
            names=frozenset(r.name for g in rules for r in g.rules), settled=True
        ),
    )


def alert_rules() -> list[RuleGroup]:
    return wire(recorded("alert_rules")["data"]["groups"], list[RuleGroup])


def slo_snapshot(ctx: Context) -> SLOSnapshot:
    """The SLO figures the poller read; the budgets and burn rates are domain/slo's math."""
    discovered = discover(wire(recorded("record_rules")["data"]["groups"], list[RuleGroup]))
    specs = merge_specs(specs_from_config(ctx), discovered)
    figures = {(f["service"], f["name"]): f for f in recorded("slo")}
    reports = []
    for spec in specs:
        found = figures[(spec.service, spec.name)]
        reports.append(
            SLOReport(
                spec=spec,
                taken_at=FIXED_NOW,
                objective=found["objective"],
                error_ratio=found["error_ratio"],
                ratios=found["ratios"],
                covered_s=found["covered_s"],
                retention_s=found["retention_s"],
                errors=tuple(found["errors"]),
                chart=tuple((t, v) for t, v in found["chart"]),
            )
        )
    return SLOSnapshot(FIXED_NOW, tuple(reports))


def feed(state: ContextState) -> None:
    """Fill the context's stores as their first polls would have, and answer its reads."""
    state.engines.known = identify(EngineFacts(PROMETHEUS, 200, recorded("buildinfo")["data"]))
    state.lookups = FixedLookups(state.clients)
    state.routing = FixedRouting(state.clients, state.alerts)
    state.incidents = FixedIncidents(INCIDENTS, context=CLUSTER)
    state.alerts.apply(alert_snapshot())
    state.slo.seen.take(slo_snapshot(state.context))
    health = recorded("health")
    state.health.verdicts = tuple(Verdict(**v) for v in health["verdicts"])
    state.health.last_good = health["taken_at"]
    state.health.polled = 1


class FixedIncidents(IncidentBook):
    """The recorded book (copied to INCIDENTS), read only: parallel runs share the copy, and
    what the board's first poll records (the alerts firing) is in it already."""

    def save(self, incident: Incident) -> Incident:
        return incident


# -- what the on-demand reads answer -----------------------------------------------------------


def query_result(body: Mapping[str, Any]) -> QueryResult:
    data = body["data"]
    if data["resultType"] == "matrix":
        series = tuple(
            Series(s["metric"], tuple((t, value_of(v)) for t, v in s["values"]))
            for s in data["result"]
        )
        return QueryResult("matrix", series=series)
    samples = tuple(
        Sample(s["metric"], s["value"][0], value_of(s["value"][1])) for s in data["result"]
    )
    return QueryResult("vector", samples=samples)


class FixedRouting(RoutingBook):
    """The demo's routing tree as its stack renders it (sink URLs on a fixed port), and the
    recorded silences: the routing views need no server."""

    async def config(self, cluster: str, *, fresh: bool = False) -> RoutingConfig:
        text = (resources.files("oncall_tui.demo.files") / "alertmanager.yml").read_text()
        return parse_config(delivering(text, "http://127.0.0.1:9"))

    async def silences(self, cluster: str) -> list[Silence]:
        return list(silences())


class FixedLookups(Lookups):
    """The recorded answers; a read that was not recorded fails with the query, on screen."""

    async def silences(self, cluster: str, ids: Sequence[str]) -> dict[str, Silence | str]:
        known = {s.id: s for s in silences()}
        return {i: known.get(i, "not recorded") for i in ids}

    async def alert_rules(self, labels: Mapping[str, str] | None = None) -> list[RuleGroup]:
        return alert_rules()

    async def query(
        self,
        expr: str,
        at: datetime | float | None = None,
        *,
        labels: Mapping[str, str] | None = None,
    ) -> QueryResult:
        body = recorded("promql")["instant"].get(expr)
        if body is None:
            raise errors.BadResponse(PROMETHEUS, f"not recorded: {expr}")
        return query_result(body)

    async def query_range(
        self,
        expr: str,
        start: float,
        end: float,
        step: float,
        *,
        labels: Mapping[str, str] | None = None,
    ) -> QueryResult:
        body = recorded("promql")["range"].get(f"{end - start:g} {expr}")
        if body is None:
            raise errors.BadResponse(PROMETHEUS, f"not recorded: {end - start:g} s of {expr}")
        return query_result(body)

    async def history(
        self,
        alertname: str,
        labels: Mapping[str, str],
        windows: Sequence[tuple[float, float, int]],
    ) -> list[History]:
        alerts_query, for_state_query = history_queries(alertname)
        found = []
        for window, step, cells in windows:
            alerts = await self.query_range(alerts_query, FIXED_NOW - window, FIXED_NOW, step)
            for_state = await self.query_range(for_state_query, FIXED_NOW - window, FIXED_NOW, step)
            found.append(
                build_history(
                    [(s.labels, s.points) for s in alerts.series],
                    [(s.labels, s.points) for s in for_state.series],
                    labels,
                    start=FIXED_NOW - window,
                    end=FIXED_NOW,
                    step=step,
                    cells=cells,
                )
            )
        return found


async def fixed_preview(
    clients: Clients, filters: Sequence[str], *, clusters: Iterable[str] | None = None
) -> tuple[list[BoardAlert], list[str]]:
    """The silence form's preview as Alertmanager answers `/api/v2/alerts?filter=...`:
    the recorded alerts of each peer that the matchers select, merged across the peers."""
    wanted = parse_filter(" ".join(filters))
    per_peer = {
        url: [a for a in wire(body, list[Alert]) if wanted.matches(a.labels)]
        for url, body in zip(PEERS, recorded("alerts"), strict=True)
    }
    return [board_alert(m) for m in merge_alerts(CLUSTER, per_peer)], []


async def fixed_handoff(state: ContextState, since_s: float, next_shift_s: float) -> Handoff:
    """What state/handoff.py's `for_context` makes of the recorded answers: each peer's alerts
    merged, the silences, the SLO store's reports, no incident. The handoff's `ALERTS` and
    `ALERTS_FOR_STATE` over the window were not recorded (the stack was minutes old, nothing
    had resolved yet), so no episode."""
    per_peer = {
        url: wire(body, list[Alert]) for url, body in zip(PEERS, recorded("alerts"), strict=True)
    }
    return assemble(
        context=state.context.name,
        since=FIXED_NOW - since_s,
        now=FIXED_NOW,
        next_shift_s=next_shift_s,
        firing=merge_alerts(CLUSTER, per_peer),
        silences=merge_silences(CLUSTER, {PEERS[0]: list(silences())}),
        slos=state.slo.seen.reports,
    )
