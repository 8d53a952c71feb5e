"""Record the fixed data of the snapshot tests from the real demo stack, into tests/data/snapshots/.

Starts the demo stack (two Alertmanagers as an HA pair, Prometheus, the exporter), waits
until the board has firing, pending and inhibited alerts, writes an ack, a silence that
matches nothing, a pending maintenance window and an expired silence, then saves the raw
JSON of every endpoint the views read, the SLO figures as the app's own SLOPoller computed
them, and the PromQL answers the views ask for. Every timestamp is then moved so that the
moment of recording becomes FIXED_NOW: the tests freeze the clock there.

Run: .venv/bin/python scripts/record_snapshot_data.py   (then re-run the snapshot tests
with --snapshot-update and look at what changed).
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oncall_tui.cli.demo import DEMO_ONCALL, DEMO_TRIAGE, demo_context  # noqa: E402
from oncall_tui.demo.stack import Stack, StackOptions, find_binaries  # noqa: E402
from oncall_tui.domain.alert_history import history_queries  # noqa: E402
from oncall_tui.domain.promql import fill_query, thresholds  # noqa: E402
from oncall_tui.domain.silence_plan import ack_comment, maintenance_comment  # noqa: E402
from oncall_tui.state.context import ContextState  # noqa: E402
from oncall_tui.state.slo import SLOPoller  # noqa: E402
from oncall_tui.state.wiring import build_clients  # noqa: E402
from tests.ui import snapshot_data  # noqa: E402
from tests.ui.snapshot_data import (  # noqa: E402
    DATA,
    FIXED_NOW,
    HISTORY_WINDOWS,
    QUERY,
    RANGE_WINDOWS,
    USER,
)

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def silence(
    am: str, matchers: list[tuple[str, str]], start: datetime, end: datetime, comment: str
) -> str:
    body = {
        "matchers": [
            {"name": n, "value": v, "isRegex": False, "isEqual": True} for n, v in matchers
        ],
        "startsAt": iso(start),
        "endsAt": iso(end),
        "createdBy": USER,
        "comment": comment,
    }
    return str(post(f"{am}/api/v2/silences", body)["silenceID"])


def states(am: str) -> set[str]:
    found = set()
    for group in get(f"{am}/api/v2/alerts/groups"):
        for alert in group["alerts"]:
            found.add(alert["status"]["state"])
            if alert["status"]["inhibitedBy"]:
                found.add("inhibited")
            if alert["status"]["silencedBy"]:
                found.add("silenced")
    return found


def wait_for_board(stack: Stack) -> None:
    """Firing, inhibited and pending alerts, as the README's screenshots show them."""
    am, prom = stack.alertmanager_urls[0], stack.prometheus_url
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pending = any(
            a["state"] == "pending" for a in get(f"{prom}/api/v1/alerts")["data"]["alerts"]
        )
        if pending and {"active", "inhibited"} <= states(am):
            return
        time.sleep(1)
    raise SystemExit("the demo never showed firing, inhibited and pending alerts together")


def write_silences(stack: Stack) -> None:
    am = stack.alertmanager_urls[0]
    now = datetime.now(UTC)
    labels = next(
        a["labels"]
        for g in get(f"{am}/api/v2/alerts/groups")
        for a in g["alerts"]
        if a["labels"]["alertname"] == "HighCPU"
    )
    # The ack as `a` writes it (15 minutes), written a minute ago: ends in 14 minutes.
    silence(
        am,
        sorted(labels.items()),
        now - timedelta(minutes=1),
        now + timedelta(minutes=14),
        ack_comment(USER),
    )
    silence(
        am,
        [("job", "churn-batch")],
        now,
        now + timedelta(hours=4),
        "batch backfill rerun, noisy until done",
    )
    tonight = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
    for matchers in ([("service", "churn-api")], [("job", "churn-batch")]):
        silence(
            am,
            matchers,
            tonight,
            tonight + timedelta(hours=4),
            maintenance_comment("db-upgrade", "postgres 16 upgrade"),
        )
    gone = silence(
        am,
        [("alertname", "ModelNotUpdated")],
        now - timedelta(hours=2),
        now + timedelta(hours=1),
        "retraining job rescheduled",
    )
    urllib.request.urlopen(
        urllib.request.Request(f"{am}/api/v2/silence/{gone}", method="DELETE"), timeout=10
    ).close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "silenced" not in states(am):
        time.sleep(0.5)
    time.sleep(2)  # both peers have gossiped the silences


def promql(stack: Stack, now: float) -> dict[str, Any]:
    """The answers the views ask for: triage's rule and queries, the history, :query."""
    prom = stack.prometheus_url
    rules = get(f"{prom}/api/v1/rules?type=alert")["data"]["groups"]
    rule = next(r for g in rules for r in g["rules"] if r["name"] == "HighErrorRate")
    labels = {"service": "churn-api"}
    ranged = [c.expr for c in thresholds(rule["query"])] or [rule["query"]]
    for triage in DEMO_TRIAGE["triage"]:
        ranged += [fill_query(q.query, labels) for q in triage.queries]
    answers: dict[str, Any] = {"instant": {}, "range": {}}
    for window in RANGE_WINDOWS:
        for expr in ranged:
            params = {"query": expr, "start": now - window, "end": now, "step": window / 240}
            answers["range"][f"{window:g} {expr}"] = get(
                f"{prom}/api/v1/query_range?{urlencode(params)}"
            )
    for window, step, _ in HISTORY_WINDOWS:
        for expr in history_queries("HighErrorRate"):
            params = {"query": expr, "start": now - window, "end": now, "step": step}
            answers["range"][f"{window:g} {expr}"] = get(
                f"{prom}/api/v1/query_range?{urlencode(params)}"
            )
    answers["instant"][QUERY] = get(
        f"{prom}/api/v1/query?{urlencode({'query': QUERY, 'time': now})}"
    )
    return answers


async def slo_figures(stack: Stack) -> list[dict[str, Any]]:
    """Each SLO's figures as the app's poller computed them (the math is redone in the test)."""
    clients = build_clients(demo_context(stack))
    try:
        snapshot = await SLOPoller(clients).poll(chart=True)
    finally:
        await clients.aclose()
    return [
        {
            "service": r.spec.service,
            "name": r.spec.name,
            "taken_at": r.taken_at,
            "objective": r.objective,
            "error_ratio": r.error_ratio,
            "ratios": dict(r.ratios),
            "covered_s": r.covered_s,
            "retention_s": r.retention_s,
            "errors": list(r.errors),
            "chart": [list(p) for p in r.chart],
        }
        for r in snapshot.reports
    ]


async def health(stack: Stack) -> dict[str, Any]:
    """`:health`'s verdicts as the app's HealthStore made them: the board's first poll (the
    watchdog check reads it), then two health polls one refresh apart (the notification checks
    compare two readings of the counters)."""
    state = ContextState(build_clients(demo_context(stack)))
    try:
        state.alerts.loop.start()
        await state.alerts.loop.poll_now()
        await state.health._poll()
        await asyncio.sleep(state.context.refresh)
        await state.health._poll()
    finally:
        await state.aclose()
    return {
        "taken_at": state.health.last_good,
        "verdicts": [
            {"backend": v.backend, "check": v.check, "level": v.level, "words": v.words}
            for v in state.health.verdicts
        ],
    }


def incident_book() -> None:
    """`:incidents`' book, made by the app's IncidentBook from the recorded board (no server):
    HighErrorRate declared as `i` declares it (SEV from its severity and the SLOs it burns)
    seconds after it fired, its timeline seeded with the board's FIRED events; and one from
    the day before, ChurnAPIDown, taken to its post-mortem. Written as the app writes them."""
    from oncall_tui.domain import incidents as rules
    from oncall_tui.domain.incidents import SLOBurn
    from oncall_tui.state.incidents import IncidentBook

    state = ContextState(build_clients(snapshot_data.context()))
    snapshot_data.feed(state)  # the board's first poll: its FIRED events seed the timeline
    folder = DATA / "incidents"
    for old in folder.glob("*.json"):
        old.unlink()
    book = IncidentBook(folder, context=state.context.name)
    book.seen = list(state.incidents.seen)  # the fed book is the tests' read-only one
    alert = next(
        a for g in state.alerts.board_groups for a in g.alerts if a.name == "HighErrorRate"
    )
    burns = [
        SLOBurn(r.spec.name, r.state, r.remaining_pct) for r in state.slo.matching(alert.labels)
    ]
    book.declare(
        title=rules.title_for(alert.name, alert.labels, alert.annotations.get("summary", "")),
        sev=rules.suggest_sev([alert.severity], burns),
        commander=USER,
        labels=alert.labels,
        at=FIXED_NOW - 4,
    )
    book.seen.clear()  # yesterday's incident saw none of tonight's alerts
    at = FIXED_NOW - 26 * 3600
    labels = {"alertname": "ChurnAPIDown", "service": "churn-api", "severity": "critical"}
    before = book.declare(
        title=rules.title_for("ChurnAPIDown", labels, "churn-api is down"),
        sev=rules.suggest_sev(["critical"]),
        commander="bob",
        labels=labels,
        at=at,
    )
    note = "pods OOM-killed after the model reload; memory limit raised"
    for minutes in (4, 11, 25, 52):  # to investigation, mitigation, resolution, post-mortem
        book.update(before.id, lambda i, m=minutes: rules.advance(i, at + 60 * m))
        if minutes == 25:
            book.update(before.id, lambda i: rules.add_note(i, note, at + 60 * 25, "bob"))


def shift(value: Any, by: float, key: str = "") -> Any:
    """Every timestamp moved by `by` seconds: RFC 3339 strings, Prometheus's [time, "value"]
    pairs and the SLO figures' unix times."""
    if isinstance(value, dict):
        return {k: shift(v, by, k) for k, v in value.items()}
    if isinstance(value, list):
        if (
            key in ("value", "chart_point")
            and len(value) == 2
            and isinstance(value[0], float | int)
        ):
            return [round(value[0] + by, 3), value[1]]
        inner = {"values": "value", "chart": "chart_point"}.get(key, key)
        return [shift(v, by, inner) for v in value]
    if isinstance(value, str) and ISO.match(value):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.year < 1000:  # "0001-01-01T00:00:00Z": never evaluated
            return value
        return iso(moment + timedelta(seconds=by))
    if key == "taken_at" and isinstance(value, float):
        return value + by
    return value


def version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0]


def main() -> None:
    """Everything, or (`--only health,oncall`) only the named files, the others kept."""
    only = set(sys.argv[sys.argv.index("--only") + 1].split(",")) if "--only" in sys.argv else None
    if only is None or "incidents" in only:
        incident_book()
        print(f"incidents made from the recorded board in {DATA / 'incidents'}")
        if only == {"incidents"}:
            return
    binaries = find_binaries()
    with Stack(StackOptions(alertmanager_peers=2), binaries) as stack:
        stack.wait_for_firing(timeout=60, min_alerts=3)
        wait_for_board(stack)
        write_silences(stack)
        prom = stack.prometheus_url
        assert prom is not None
        verdicts = asyncio.run(health(stack))
        now = time.time()
        recorded: dict[str, Any] = {
            "health": verdicts,
            # The demo's schedules (settings, not server data): kept here so that the snapshot
            # of `:oncall` does not move when the demo's rotations change.
            "oncall": msgspec.to_builtins(DEMO_ONCALL),
            "groups": [get(f"{am}/api/v2/alerts/groups") for am in stack.alertmanager_urls],
            "alerts": [get(f"{am}/api/v2/alerts") for am in stack.alertmanager_urls],
            "silences": get(f"{stack.alertmanager_urls[0]}/api/v2/silences"),
            "prometheus_alerts": get(f"{prom}/api/v1/alerts"),
            "alert_rules": get(f"{prom}/api/v1/rules?type=alert"),
            "record_rules": get(f"{prom}/api/v1/rules?type=record"),
            "buildinfo": get(f"{prom}/api/v1/status/buildinfo"),
            "promql": promql(stack, now),
            "slo": asyncio.run(slo_figures(stack)),
        }
        by = FIXED_NOW - now
        DATA.mkdir(parents=True, exist_ok=True)
        for name, body in recorded.items():
            if only is not None and name not in only:
                continue
            path = DATA / f"{name}.json"
            moved = body if name == "oncall" else shift(body, by)  # settings: no clock in them
            path.write_text(json.dumps(moved, indent=1, sort_keys=True) + "\n")
        print(f"recorded at {iso(datetime.fromtimestamp(now, UTC))}, moved to FIXED_NOW")
        print(version(binaries.alertmanager))
        print(version(binaries.prometheus))


if __name__ == "__main__":
    main()
