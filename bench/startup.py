"""Start-up: the app against amtool, alternated, and where the app's start-up time goes.

- `race`: amtool printing every alert and the app showing them, one after the other in turns
  (amtool first on even rounds, the app first on odd ones), so a burst of load from elsewhere
  hits both; first frame, alerts on screen, all counted, peak RSS per app run.
- `breakdown`: the app run by bench/trace_start.py, which notes when each phase ends
  (interpreter, imports, first request, decode, board build, first paint).
- `imports`: `python -X importtime` over the modules the app imports before its first frame.
- `import_cpu`: the CPU that importing them takes, in all and by block (Textual, the config's
  models, the HTTP client): a floor under the start that no overlap can lower.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.am_load import CANARY
from bench.pty_app import PtyApp, run_counted

ROOT = Path(__file__).resolve().parents[1]
COLS, ROWS = 120, 35
# What `oncall-tui` imports before its first frame (cli/main.py's _run_app, then the app).
APP_MODULES = (
    "oncall_tui.cli.main, oncall_tui.state.alerts, oncall_tui.state.wiring, oncall_tui.ui.app"
)
_GOTO = re.compile(rb"\x1b\[(\d+);1H")


def app_start(argv: Sequence[str], env: dict[str, str], total: int) -> dict[str, Any]:
    """One start of the app in a pty: first frame, alerts on screen, all counted, peak RSS."""
    app = PtyApp(argv, cols=COLS, rows=ROWS, env=env, cwd=str(ROOT))
    try:
        # The first frame says "loading", or already shows the board when the data was
        # in before the UI was up (the groups are asked for early: api/early.py).
        _, shown = app.wait_for_any([b"loading", CANARY.encode()], timeout=60)
        frame = shown - app.started
        first = app.wait_for(CANARY.encode(), timeout=60)
        counted = app.wait_for(f"{total} alerts".encode(), timeout=60)
        app.quiet_for(0.3, 5)
        return {
            "frame": frame,
            "first": first,
            "counted": counted,
            "bytes": app.size,
            "hwm_kb": app.status_kb("VmHWM"),
            "board_top": board_top(bytes(app.buf)),
            "spawned": app.started,
        }
    finally:
        app.close()


def board_top(screen: bytes) -> int:
    """The screen row (1-based) of the board's first line: the first group's header.

    The status line can take two rows (a paging warning), so the row is read off the screen
    rather than assumed.
    """
    at = screen.find(f"alertname={CANARY}".encode())
    rows = [int(m.group(1)) for m in _GOTO.finditer(screen, 0, max(at, 0))]
    return rows[-1] if rows else 3


def race(
    argv: Sequence[str], env: dict[str, str], url: str, total: int, runs: int
) -> tuple[list[dict[str, Any]], list[dict[str, float]]]:
    """`runs` rounds of amtool and the app, alternating which goes first."""
    amtool = shutil.which("amtool")
    query = [amtool or "amtool", "alert", "query", f"--alertmanager.url={url}"]
    apps: list[dict[str, Any]] = []
    tools: list[dict[str, float]] = []
    for round_ in range(runs):
        steps: list[Callable[[], None]] = [lambda: apps.append(app_start(argv, env, total))]
        if amtool:
            steps.insert(0, lambda: tools.append(run_counted(query)))
        for step in steps if round_ % 2 == 0 else reversed(steps):
            step()
    return apps, tools


def breakdown(argv: Sequence[str], env: dict[str, str], total: int, runs: int) -> dict[str, Any]:
    """Phases of start-up, each the minimum over `runs` traced starts (ms)."""
    assert list(argv[1:3]) == ["-m", "oncall_tui"], argv
    per_run: list[dict[str, float]] = []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
            out = Path(f.name)
        try:
            traced = [sys.executable, str(ROOT / "bench" / "trace_start.py"), str(out), *argv[3:]]
            seen = app_start(traced, env, total)
            events = dict(json.loads(line) for line in out.read_text().splitlines())
        finally:
            out.unlink(missing_ok=True)
        per_run.append(_phases(events, seen))
    phases = {k: min(r[k] for r in per_run) for k in per_run[0]}
    return {"phases": phases, "runs": per_run}


def _phases(ev: dict[str, float], seen: dict[str, Any]) -> dict[str, float]:
    spawned = seen["spawned"]

    def ms(a: float, b: float) -> float:
        return (b - a) * 1000

    ready = max(ev["decoded"], ev["app"])
    return {
        "interpreter": ms(spawned, ev["interpreter"]),
        "imports": ms(ev["interpreter"], ev["app"]),
        # The request leaves early (api/early.py) when the context allows, else with the
        # prefetch's first poll.
        "prefetch_at": ms(spawned, ev.get("early", ev["prefetch"])),
        "request": ms(ev.get("early", ev["prefetch"]), ev["response"]),
        "decode": ms(ev["response"], ev["decoded"]),
        "data_at": ms(spawned, ev["decoded"]),
        "app_at": ms(spawned, ev["app"]),
        "first_frame": seen["frame"] * 1000,
        "wait_for_data": max(0.0, ms(max(ev["app"], spawned + seen["frame"]), ev["decoded"])),
        # A start whose first board had no group to make has neither (0).
        "merge": ms(ev["merge0"], ev["merge1"]) if "merge1" in ev else 0.0,
        "prepare": ms(ev["prep0"], ev["prep1"]) if "prep1" in ev else 0.0,
        "build": ms(ev["build0"], ev["build1"]),
        "view": ms(ev["view0"], ev["view1"]),
        "paint": ms(ev["view1"], spawned + seen["first"]),
        "build_after_ready": ms(ready, ev["build0"]),
        "on_screen": seen["first"] * 1000,
    }


def imports(runs: int = 3) -> dict[str, Any]:
    """`-X importtime` of the app's first-screen modules: the fastest of `runs`."""
    best: dict[str, Any] | None = None
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {APP_MODULES}"],
            capture_output=True,
            text=True,
            check=False,
            cwd=str(ROOT),
        )
        rows = []
        for line in proc.stderr.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                self_us, _cumulative, name = line.removeprefix("import time:").split("|")
                rows.append((int(self_us), name.strip()))
        total = sum(s for s, _ in rows) / 1000
        if best is None or total < best["total_ms"]:
            by_package: Counter[str] = Counter()
            for self_us, name in rows:
                by_package[name.split(".")[0]] += self_us
            best = {
                "total_ms": total,
                "modules": len(rows),
                "top": [(name, us / 1000) for name, us in by_package.most_common(8)],
            }
    assert best is not None
    return best


# What the first paint has imported, as blocks, each timed alone in a fresh interpreter
# (so each includes what it shares with the others, asyncio for one).
IMPORT_BLOCKS = {
    "all": f"{APP_MODULES}, oncall_tui.config.schema, anyio._backends._asyncio",
    "Textual": "textual.app",
    "config schema": "oncall_tui.config.schema",
    "httpx + anyio": "httpx, anyio._backends._asyncio",
}


def import_cpu(runs: int = 3) -> dict[str, float]:
    """CPU ms (process time, the least of `runs`) to import each block in a new interpreter:
    the part of start-up no ordering can hide, since it runs on the one core Python has."""
    out = {}
    for name, modules in IMPORT_BLOCKS.items():
        code = (
            f"import time; t = time.process_time(); import {modules}; "
            "print((time.process_time() - t) * 1000)"
        )
        times = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=str(ROOT),
                ).stdout
            )
            for _ in range(runs)
        ]
        out[name] = min(times)
    return out


def interpreter(runs: int = 5) -> float:
    """ms of `python -c pass` (the venv's interpreter with site), the fastest of `runs`."""
    times = []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append((time.monotonic() - start) * 1000)
    return min(times)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
