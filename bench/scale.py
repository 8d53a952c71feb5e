"""Issue 18's second point: 50,000 alerts across 5 clusters of 2 Alertmanager peers each.

`bench/board.py --scale` runs it after the 10,000-alert figures: five demo stacks (2 peers and
a webhook sink each, no Prometheus) on loopback, 10,000 alerts posted to both peers of each,
then, in alternated rounds, `amtool alert query` on each cluster one after another against
the app (a config file naming the five clusters) until all 50,005 alerts are counted; then
keys during refreshes. The servers share the machine's CPUs with the app, at the lowest
priority (bench.pty_app.lowest_priority), so their CPU over each phase is printed as a share
of the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.am_load import PRODUCTION_TIMINGS, AlertSet, Poster
from bench.pty_app import CLK_TCK, PtyApp, lowest_priority, run_counted
from bench.report import Table, pct
from bench.startup import COLS, ROOT, ROWS, app_start, board_top
from oncall_tui.demo.stack import Stack, StackOptions

CLUSTERS = 5
PEERS = 2
PER_CLUSTER = 10_000
OPENINGS = 3  # of the silence form, each closed with esc but the last


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def _config(stacks: list[Stack], refresh: float) -> str:
    lines = ["current_context: scale", "contexts:", "  scale:", f"    refresh: {refresh:g}"]
    lines.append("    alertmanagers:")
    for i, stack in enumerate(stacks):
        lines.append(f"      - name: c{i}")
        lines.append(f"        peers: [{', '.join(stack.alertmanager_urls)}]")
    return "\n".join(lines) + "\n"


def _share(cpu: float, wall: float) -> float:
    return cpu / (wall * len(os.sched_getaffinity(0))) * 100


def scale_phase(
    rounds: int, key_window: float, log: Callable[[str], None], env: dict[str, str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    alerts = AlertSet()
    shown = alerts.shown * CLUSTERS
    with ExitStack() as stacks_ctx, tempfile.TemporaryDirectory() as tmp:
        stacks = [
            stacks_ctx.enter_context(
                Stack(
                    StackOptions(
                        alertmanager_peers=PEERS,
                        with_prometheus=False,
                        group_timings=PRODUCTION_TIMINGS,
                    )
                )
            )
            for _ in range(CLUSTERS)
        ]
        am_pids = [p for s in stacks for n, p in s.pids.items() if n.startswith("alertmanager")]
        lowest_priority(p for s in stacks for p in s.pids.values())
        began = time.monotonic()
        for stack in stacks:
            poster = Poster(stack.alertmanager_urls)
            try:
                poster.post(alerts.all())
            finally:
                poster.close()
        for stack in stacks:
            stack.wait_for_firing(timeout=300, min_alerts=alerts.shown)
        log(
            f"{CLUSTERS} clusters x {PEERS} peers hold {shown} alerts ({time.monotonic() - began:.0f} s)"
        )
        config = Path(tmp) / "config.yaml"
        config.write_text(_config(stacks, 2.0))
        argv = [sys.executable, "-m", "oncall_tui", "--config", str(config)]
        amtool = shutil.which("amtool")
        apps: list[dict[str, Any]] = []
        tools: list[dict[str, float]] = []
        app_cpu = tool_cpu = app_wall = tool_wall = 0.0

        def run_app() -> None:
            nonlocal app_cpu, app_wall
            c0, t0 = _cpu(am_pids), time.monotonic()
            apps.append(app_start(argv, env, shown))
            app_cpu += _cpu(am_pids) - c0
            app_wall += time.monotonic() - t0

        def run_tools() -> None:
            nonlocal tool_cpu, tool_wall
            if amtool is None:
                return
            c0, t0 = _cpu(am_pids), time.monotonic()
            runs = [
                run_counted(
                    [amtool, "alert", "query", f"--alertmanager.url={s.alertmanager_urls[0]}"]
                )
                for s in stacks
            ]
            tools.append(
                {
                    "wall": sum(r["wall"] for r in runs),
                    "maxrss_kb": max(r["maxrss_kb"] for r in runs),
                    "lines": sum(r["lines"] for r in runs),
                }
            )
            tool_cpu += _cpu(am_pids) - c0
            tool_wall += time.monotonic() - t0

        for i in range(rounds):
            for step in (run_tools, run_app) if i % 2 == 0 else (run_app, run_tools):
                step()
        out["starts"], out["amtool"] = apps, tools
        out["am_share_app"] = _share(app_cpu, app_wall)
        out["am_share_amtool"] = _share(tool_cpu, tool_wall) if tool_wall else float("nan")
        log(
            "50k start to all counted: "
            + ", ".join(f"{a['counted'] * 1000:.0f}" for a in apps)
            + " ms; amtool x5: "
            + ", ".join(f"{t['wall'] * 1000:.0f}" for t in tools)
            + " ms"
        )
        # One app for the keys, then the filter and the preview (one start and load less).
        app = PtyApp(argv, cols=COLS, rows=ROWS, env=env, cwd=str(ROOT))
        try:
            app.wait_for(f"{shown} alerts".encode(), timeout=120)
            app.quiet_for(0.5, 10)
            out.update(_keys(app, key_window, am_pids))
            log(f"50k keys: {len(out['keys'])} presses")
            out.update(_filter_and_preview(app))
        finally:
            app.close()
        log(
            f"50k filter: {len(out['filter'])} keys; silence preview: {len(out['preview'])} changes"
        )
        from bench.board import run_inproc

        everywhere = Poster([url for stack in stacks for url in stack.alertmanager_urls])
        try:
            out["polls"], out["polls_note"] = run_inproc(
                str(config), alerts, everywhere, 2.0, 1, 3, env
            )
        finally:
            everywhere.close()
        log(
            "50k headless polls: "
            + ", ".join(
                f"{r['kind']} {r['cpu_ms']:.0f}ms/{r['stall_ms']:.0f}ms" for r in out["polls"]
            )
        )
    return out


_MATCH = re.compile(rb"(\d+) of (\d+) alerts match")
# The form's first answer is the board's ("Would silence about N"), then the servers'.
_WOULD = re.compile(rb"Would silence (?:about )?(\d+) alerts?")


def _answer(app: PtyApp, key: bytes, pattern: re.Pattern[bytes], old: bytes | None) -> float:
    """Write `key`; seconds until `pattern` is written with a first group other than `old`
    (inf after 10 s). The board's filter line and the form's preview heading are rewritten
    whole when their numbers change, so their arrival is the answer to the key."""
    start, t0 = app.size, time.monotonic()
    os.write(app.master, key)
    deadline = t0 + 10.0
    while time.monotonic() < deadline:
        with app.cond:
            found = [m for m in pattern.finditer(app.buf, start) if m.group(1) != old]
            if found:
                return app._time_of(found[0].end()) - t0
            app.cond.wait(0.05)
    return float("inf")


def _number(app: PtyApp, pattern: re.Pattern[bytes]) -> bytes | None:
    with app.cond:
        found = list(pattern.finditer(app.buf))
    return found[-1].group(1) if found else None


def _settle(app: PtyApp, keys: bytes) -> None:
    """Write `keys` and wait until the app has answered them and then written nothing for
    0.5 s. (Waiting for quiet alone returned at once while the app had not begun to answer:
    the key measured next then waited for their work too.)"""
    start = app.size
    os.write(app.master, keys)
    deadline = time.monotonic() + 10.0
    with app.cond:
        while len(app.buf) == start and time.monotonic() < deadline:
            app.cond.wait(0.05)
    app.quiet_for(0.5, 10)


def _filter_and_preview(app: PtyApp) -> dict[str, Any]:
    """The filter and the silence form's preview, key to answer, on the 50,005 alerts.

    Filter: `/svc-0`, then `3` and backspace in turn (50,000 and 5,000 of them match in
    turn, each refiltered from all). The form: `s` on the first group opens it (its preview
    asks all ten peers), three times, then space on its first matcher, on and off in turn,
    each answered by the preview's count.
    """
    filtering: list[float] = []
    previewing: list[float] = []
    _settle(app, b"/svc-0")
    for i in range(20):
        press = b"3" if i % 2 == 0 else b"\x7f"
        # Each key changes the count, so the line is rewritten: its new number answers.
        filtering.append(_answer(app, press, _MATCH, _number(app, _MATCH)))
    _settle(app, b"\x1b")  # esc: the filter is cleared
    opening: list[float] = []
    for i in range(OPENINGS):
        if i:
            _settle(app, b"\x1b")  # esc: the form, unchanged, closes
        opening.append(_answer(app, b"s", _WOULD, None))
        app.quiet_for(0.5, 10)
    for _ in range(4):  # from the end time to the matchers
        _settle(app, b"\t")
    for _ in range(10):
        previewing.append(_answer(app, b" ", _WOULD, _number(app, _WOULD)))
    return {"filter": filtering, "form_open": opening, "preview": previewing}


def _keys(app: PtyApp, window: float, am_pids: list[int]) -> dict[str, Any]:
    """j/k for `window` seconds while the app polls five clusters every 2 s (no changes)."""
    top = board_top(bytes(app.buf))
    expect = {b"j": f"\x1b[{top + 1};1H".encode(), b"k": f"\x1b[{top};1H".encode()}
    samples: list[float] = []
    c0, a0, t0 = app.cpu_seconds(), _cpu(am_pids), time.monotonic()
    while time.monotonic() < t0 + window:
        key = b"j" if len(samples) % 2 == 0 else b"k"
        samples.append(app.press(key, expect[key], timeout=3.0))
        time.sleep(0.01)
    wall = time.monotonic() - t0
    if len(samples) % 2:  # back on the first group: the silence form opens on it (below)
        app.press(b"k", expect[b"k"], timeout=3.0)
    return {
        "keys": samples,
        "key_app_cpu": (app.cpu_seconds() - c0) / wall * 100,
        "key_am_share": _share(_cpu(am_pids) - a0, wall),
        "hwm_kb": app.status_kb("VmHWM"),
    }


def scale_rows(t: Table, s: dict[str, Any]) -> None:
    firsts = [a["counted"] * 1000 for a in s["starts"]]
    walls = [r["wall"] * 1000 for r in s["amtool"]]
    first = statistics.median(firsts)
    wall = statistics.median(walls) if walls else float("nan")
    t.row(
        f"50k/5x2: start -> all {CLUSTERS * (PER_CLUSTER + 1)} counted, ms (median)",
        f"{first:.0f}",
        f"{wall:.0f} (5 in turn)",
    )
    t.row(
        "  ratio to amtool querying the five",
        f"{first / wall:.2f}x",
        "1.00x",
        "<= 0.6x",
        first / wall <= 0.6,
    )
    frame = statistics.median(a["frame"] * 1000 for a in s["starts"])
    t.row("  first frame, ms", f"{frame:.0f}", "", "< 300", frame < 300)
    t.row(
        "  Alertmanagers' CPU, % of the machine",
        f"{s['am_share_app']:.0f} (app runs)",
        f"{s['am_share_amtool']:.0f}",
    )
    keys = [k * 1000 for k in s["keys"]]
    p95, top = pct(keys, 95), max(keys, default=float("nan"))
    t.row(
        f"  key -> screen polling every 2 s (n={len(keys)}), p95 ms",
        f"{p95:.1f}",
        "",
        "< 20",
        p95 < 20,
    )
    t.row("  max ms", f"{top:.1f}", "", "< 100", top < 100)
    t.row(
        "  app CPU / Alertmanagers' share meanwhile, %",
        f"{s['key_app_cpu']:.0f} / {s['key_am_share']:.0f}",
    )
    # Opening the form builds a screen of some 30 widgets: held to the first frame's target,
    # on the median of its openings as the first frame's is.
    opens = [k * 1000 for k in s.get("form_open", [])]
    opened = statistics.median(opens) if opens else float("nan")
    t.row(
        f"  silence form opens: s -> its first count, ms (median of {len(opens)})",
        f"{opened:.0f} ({min(opens, default=0):.0f}-{max(opens, default=0):.0f})",
        "",
        "< 300 (a first frame)",
        opened < 300,
    )
    for name, what in (
        ("filter", "filter, key -> count of matches"),
        ("preview", "silence preview, key in the form -> count"),
    ):
        answers = [k * 1000 for k in s.get(name, [])]
        worst = max(answers, default=float("nan"))
        t.row(
            f"  {what} (n={len(answers)}), median / max ms",
            f"{statistics.median(answers) if answers else float('nan'):.0f} / {worst:.0f}",
            "",
            "< 100",
            worst < 100,
        )
    changed = [r for r in s.get("polls", []) if r["kind"] == "changed"]
    cpu = [r["cpu_ms"] for r in changed]
    worst_cpu = max(cpu, default=float("nan"))
    t.row(
        f"  main thread per poll of all clusters, 1% changed (n={len(cpu)}), median / max ms",
        f"{statistics.median(cpu) if cpu else float('nan'):.0f} / {worst_cpu:.0f}",
        "",
        "< 100",
        worst_cpu < 100,
    )
    stalls = [r["stall_ms"] for r in changed]
    t.row("    longest stall of the event loop, max ms", f"{max(stalls, default=float('nan')):.0f}")
    if s.get("polls_note"):
        t.row("    note", s["polls_note"][:80])
    hwm = max([s["hwm_kb"], *[a["hwm_kb"] for a in s["starts"]]]) * 1024 / 1e6
    amtool_rss = max((r["maxrss_kb"] for r in s["amtool"]), default=0) * 1024 / 1e6
    t.row("  peak RSS, MB", f"{hwm:.0f}", f"{amtool_rss:.0f}", "< 400", hwm < 400)
