"""The alert board against a real Alertmanager holding 10,000 alerts, side by side with amtool.

Starts its own Alertmanager (the demo stack, no Prometheus), posts 10,000 alerts in 500 groups,
then measures the real program in a 120x35 pseudo-terminal (TERM=xterm-256color):

- start to alerts on screen (a known alert name in the terminal output) vs `amtool alert
  query` on the same Alertmanager until it has printed every alert;
- bytes written to the terminal per idle minute and per refresh (nothing changed, 1% changed);
- idle CPU (utime+stime from /proc) and peak RSS (VmHWM);
- key-press-to-screen latency (j/k, until the repainted cursor row arrives), p50/p95/max,
  also for the presses made while a refresh of 10,000 alerts was in flight;

and, headless in a second process (`bench/inproc.py`, `App.run_test`), the main-thread time per
refresh and the longest stall of the event loop during one.

A benchmark prints figures and asserts nothing. Loopback only; every process it starts is
stopped by PID (the stack by `Stack`, the app and amtool here). About 4-5 minutes; `--quick`
about 1 minute, with shorter windows scaled to a minute (and said so).
Run: .venv/bin/python bench/board.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.am_load import CANARY, AlertSet, Key, Poster, groups_body  # noqa: E402
from bench.pty_app import CLK_TCK, PtyApp, run_counted  # noqa: E402
from bench.tap import Tap  # noqa: E402
from oncall_tui.demo.procs import exit_on_termination_signals, pdeathsig_preexec  # noqa: E402
from oncall_tui.demo.stack import Stack, StackOptions  # noqa: E402

COLS, ROWS = 120, 35
BOARD_TOP = 3  # screen row of the board's first line: status line, column titles, board
BUSY_TAIL = 0.5  # a press up to this long after a poll's response counts as "during refresh"
SETTLE = 0.8  # after a poll's response, time for the app to apply and draw it


@dataclass(frozen=True)
class Plan:
    name: str
    amtool_runs: int
    start_runs: int
    idle_window: float
    change_rounds: int
    screen_rounds: int
    key_window: float
    inproc_quiet: int
    inproc_changed: int


FULL = Plan("full", 5, 5, 60.0, 8, 4, 30.0, 8, 8)
QUICK = Plan("quick", 1, 1, 15.0, 3, 2, 10.0, 3, 3)


@dataclass
class Results:
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (nearest rank), or nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class MachineLoad:
    """CPU the rest of the machine used while we ran: /proc/stat busy time minus our own."""

    def __init__(self) -> None:
        self.busy0, self.ours0, self.t0 = self._busy(), self._ours(), time.monotonic()

    @staticmethod
    def _busy() -> float:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        return (user + nice + system + irq + softirq + steal) / CLK_TCK

    @staticmethod
    def _ours() -> float:
        t = os.times()  # children: every process we started and waited for
        return t.user + t.system + t.children_user + t.children_system

    def others(self) -> tuple[float, float]:
        """(CPU-seconds used by other processes, wall seconds) since we began."""
        busy = self._busy() - self.busy0
        ours = self._ours() - self.ours0
        return max(0.0, busy - ours), time.monotonic() - self.t0


def sleep_until(when: float) -> None:
    delay = when - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def log(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True)


def app_argv(urls: Sequence[str], refresh: float) -> list[str]:
    argv = [sys.executable, "-m", "oncall_tui"]
    for url in urls:
        argv += ["--alertmanager", url]
    return [*argv, "--refresh", f"{refresh:g}"]


def app_env() -> dict[str, str]:
    """The user's environment minus anything that would make the app read a config file."""
    env = dict(os.environ)
    env.pop("ONCALL_TUI_CONFIG", None)
    env["XDG_CONFIG_HOME"] = str(Path("/nonexistent-oncall-tui-bench"))
    return env


# -- the phases --------------------------------------------------------------------------------


def machine() -> list[str]:
    cpus = len(os.sched_getaffinity(0))
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    amtool = shutil.which("amtool")
    am_version = ""
    if amtool:
        out = subprocess.run([amtool, "--version"], capture_output=True, text=True, check=False)
        am_version = (out.stdout or out.stderr).split("\n")[0]
    return [
        f"machine:  {cpus} CPUs usable (nproc), {os.cpu_count()} online; {model}",
        f"python:   {platform.python_version()} ({sys.executable})",
        f"textual:  {version('textual')}, rich {version('rich')}, httpx {version('httpx')}, "
        f"msgspec {version('msgspec')}",
        f"amtool:   {am_version or 'not found'}",
        f"terminal: pty {COLS}x{ROWS}, TERM=xterm-256color (nothing answers terminal queries)",
    ]


def load(stack: Stack, alerts: AlertSet, poster: Poster, res: Results) -> None:
    took = poster.post(alerts.all())
    log(f"posted {alerts.total} alerts in {took:.1f} s; waiting until all are active")
    stack.wait_for_firing(timeout=180, min_alerts=alerts.total)
    body, secs = groups_body(stack.alertmanager_urls[0])
    groups = json.loads(body)
    count = sum(len(g["alerts"]) for g in groups)
    res.figures["groups_body"] = (len(body), secs, len(groups), count)
    log(
        f"Alertmanager holds {count} alerts in {len(groups)} groups; "
        f"/api/v2/alerts/groups is {len(body) / 1e6:.1f} MB, answered in {secs * 1000:.0f} ms"
    )


def amtool_phase(url: str, plan: Plan, res: Results) -> None:
    amtool = shutil.which("amtool")
    if amtool is None:
        res.notes.append("amtool not found: no amtool column")
        return
    runs = [
        run_counted([amtool, "alert", "query", f"--alertmanager.url={url}"])
        for _ in range(plan.amtool_runs)
    ]
    extended = run_counted(
        [amtool, "alert", "query", "-o", "extended", f"--alertmanager.url={url}"]
    )
    res.figures["amtool"] = runs
    res.figures["amtool_extended"] = extended
    walls = ", ".join(f"{r['wall'] * 1000:.0f}" for r in runs)
    log(
        f"amtool alert query: {walls} ms wall, {runs[0]['lines']} lines, "
        f"{runs[0]['bytes'] / 1e6:.2f} MB; -o extended {extended['wall'] * 1000:.0f} ms"
    )


def start_phase(urls: Sequence[str], refresh: float, total: int, plan: Plan, res: Results) -> None:
    starts = []
    for _ in range(plan.start_runs):
        app = PtyApp(app_argv(urls, refresh), cols=COLS, rows=ROWS, env=app_env(), cwd=str(ROOT))
        try:
            frame = app.wait_for(b"loading", timeout=60)
            first = app.wait_for(CANARY.encode(), timeout=60)
            counted = app.wait_for(f"{total} alerts".encode(), timeout=60)
            app.quiet_for(0.3, 5)
            starts.append(
                {
                    "frame": frame,
                    "first": first,
                    "counted": counted,
                    "bytes": app.size,
                    "hwm_kb": app.status_kb("VmHWM"),
                }
            )
        finally:
            app.close()
    res.figures["starts"] = starts
    log(
        "start to alerts on screen: "
        + ", ".join(f"{s['first'] * 1000:.0f}" for s in starts)
        + " ms "
        f"(first frame {starts[0]['frame'] * 1000:.0f} ms, "
        f"first screen {starts[0]['bytes'] / 1e3:.1f} KB)"
    )


class Churn(threading.Thread):
    """After every poll, re-posts 1% of the alerts (off screen) so each refresh has work."""

    def __init__(
        self, tap: Tap, poster: Poster, pick: Callable[[], list[Key]], alerts: AlertSet
    ) -> None:
        super().__init__(daemon=True, name="churn")
        self.tap, self.poster, self.pick, self.alerts = tap, poster, pick, alerts
        self.stop = threading.Event()
        self.posts = 0

    def run(self) -> None:
        while not self.stop.is_set():
            n = self.tap.completed()
            try:
                done = self.tap.wait_completed(n + 1, timeout=30)
            except TimeoutError:
                continue
            sleep_until((done.done or time.monotonic()) + SETTLE)
            if self.stop.is_set():
                return
            self.poster.post(self.alerts.bump(self.pick()))
            self.posts += 1


def session_phase(
    stack: Stack, alerts: AlertSet, poster: Poster, refresh: float, plan: Plan, res: Results
) -> None:
    """One run of the app behind the tap: idle, 1% changed, on-screen changes, keys."""
    urls = stack.alertmanager_urls
    am_pid = stack.pids["alertmanager-0"]
    tap = Tap(urls[0])
    rng = random.Random(20240601)
    app = PtyApp(
        app_argv([tap.url, *urls[1:]], refresh), cols=COLS, rows=ROWS, env=app_env(), cwd=str(ROOT)
    )
    try:
        app.wait_for(CANARY.encode(), timeout=60)
        app.wait_for(f"{alerts.total} alerts".encode(), timeout=60)
        tap.wait_completed(2, timeout=60)
        app.quiet_for(0.5, 10)
        res.figures["rss_loaded_kb"] = app.status_kb("VmRSS")

        # -- idle: nothing changes in Alertmanager ------------------------------------------------
        log(f"idle window: {plan.idle_window:.0f} s, polling every {refresh:g} s")
        p0, c0, a0, t0 = tap.completed(), app.cpu_seconds(), proc_cpu(am_pid), time.monotonic()
        time.sleep(plan.idle_window)
        p1, c1, a1, t1 = tap.completed(), app.cpu_seconds(), proc_cpu(am_pid), time.monotonic()
        idle_bytes = app.bytes_between(t0, t1)
        window = t1 - t0
        polls = tap.polls()
        server = [e.done - e.sent for e in polls[1:] if e.done is not None]
        res.figures["idle"] = {
            "window": window,
            "bytes": idle_bytes,
            "polls": p1 - p0,
            "cpu": c1 - c0,
            "am_cpu": a1 - a0,
            "poll_wall": server,
            "poll_bytes": statistics.median(e.size for e in polls if e.done is not None),
        }
        log(
            f"idle: {idle_bytes} bytes in {window:.1f} s over {p1 - p0} polls; app CPU "
            f"{(c1 - c0) / window * 100:.1f}% of a core, Alertmanager {(a1 - a0) / window * 100:.1f}%"
        )

        # -- refreshes that bring changes ---------------------------------------------------------
        def rounds(pick: Callable[[], list[Key]], count: int) -> list[dict[str, float]]:
            out = []
            last = tap.wait_completed(tap.completed(), timeout=30)
            sleep_until((last.done or time.monotonic()) + SETTLE)
            for _ in range(count):
                start, cpu = time.monotonic(), app.cpu_seconds()
                poster.post(alerts.bump(pick()))
                posted = time.monotonic()
                n = tap.completed()
                polled = tap.wait_completed(n + 1, timeout=30)
                if polled.sent < posted:  # began before the post was in: the next one has it
                    polled = tap.wait_completed(n + 2, timeout=30)
                sleep_until((polled.done or time.monotonic()) + SETTLE)
                end = time.monotonic()
                out.append({"bytes": app.bytes_between(start, end), "cpu": app.cpu_seconds() - cpu})
            return out

        res.figures["changed"] = rounds(lambda: alerts.random_share(rng), plan.change_rounds)
        log(
            "1% changed (anywhere): bytes per refresh "
            + ", ".join(str(r["bytes"]) for r in res.figures["changed"])
        )
        res.figures["changed_screen"] = rounds(
            lambda: alerts.on_screen_first(rng), plan.screen_rounds
        )
        log(
            "1% changed (incl. every alert of the first screen): bytes per refresh "
            + ", ".join(str(r["bytes"]) for r in res.figures["changed_screen"])
        )

        # -- keys while refreshes of 10,000 alerts (1% changed, off screen) go on ----------------
        churn = Churn(tap, Poster(urls), lambda: alerts.off_screen(rng), alerts)
        churn.start()
        expect = {b"j": f"\x1b[{BOARD_TOP + 1};1H".encode(), b"k": f"\x1b[{BOARD_TOP};1H".encode()}
        samples: list[tuple[float, bool]] = []
        keys_rng = random.Random(7)
        polls_before = tap.completed()
        end = time.monotonic() + plan.key_window
        while time.monotonic() < end:
            key = b"j" if len(samples) % 2 == 0 else b"k"
            pressed = time.monotonic()
            latency = app.press(key, expect[key], timeout=3.0)
            samples.append((latency, tap.busy(pressed, BUSY_TAIL)))
            time.sleep(keys_rng.uniform(0.005, 0.030))
        churn.stop.set()
        churn.join(timeout=35)
        churn.poster.close()
        res.figures["keys"] = samples
        res.figures["key_polls"] = tap.completed() - polls_before
        res.figures["key_churn_posts"] = churn.posts
        res.figures["hwm_kb"] = app.status_kb("VmHWM")
        res.figures["rss_end_kb"] = app.status_kb("VmRSS")
        res.figures["session_cpu"] = app.cpu_seconds()
        busy = [s for s, b in samples if b]
        log(
            f"keys: {len(samples)} presses, {len(busy)} during a refresh, over "
            f"{res.figures['key_polls']} polls ({churn.posts} with 1% changed)"
        )
    finally:
        app.close()
        tap.close()


def inproc_phase(
    url: str, alerts: AlertSet, poster: Poster, refresh: float, plan: Plan, res: Results
) -> None:
    """The headless run: poll 1 cold, then quiet polls, then polls after a 1% change."""
    polls = 1 + plan.inproc_quiet + plan.inproc_changed
    rng = random.Random(99)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "inproc.py"), url, f"{refresh:g}", str(polls)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
        env=app_env(),
        preexec_fn=pdeathsig_preexec(signal.SIGKILL),
    )
    records: list[dict[str, Any]] = []
    changed_polls: set[int] = set()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            rec = json.loads(line)
            if rec.get("end"):
                break
            records.append(rec)
            k = rec["poll"]
            if k >= 1 + plan.inproc_quiet and k < polls:
                poster.post(alerts.bump(alerts.random_share(rng)))
                changed_polls.add(k + 1)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0 or len(records) < polls:
        err = proc.stderr.read() if proc.stderr else ""
        res.notes.append(f"in-process run ended early ({proc.returncode}): {err[-500:]}")
    for rec in records:
        rec["kind"] = (
            "cold" if rec["poll"] == 1 else "changed" if rec["poll"] in changed_polls else "quiet"
        )
    res.figures["inproc"] = records
    log(
        "headless polls done: "
        + ", ".join(f"{r['kind']} {r['cpu_ms']:.0f}ms/{r['stall_ms']:.0f}ms" for r in records)
    )


# -- the report --------------------------------------------------------------------------------


def report(res: Results, plan: Plan, refresh: float, total: int) -> None:
    f = res.figures
    rows: list[tuple[str, str, str, str, str]] = []

    def row(
        name: str, ours: str, amtool: str = "", target: str = "", met: bool | None = None
    ) -> None:
        rows.append(
            (name, ours, amtool, target, "" if met is None else ("met" if met else "NOT MET"))
        )

    amtool = f.get("amtool") or []
    am_wall = statistics.median(r["wall"] for r in amtool) if amtool else float("nan")
    starts = f["starts"]
    first = statistics.median(s["first"] for s in starts)
    counted = statistics.median(s["counted"] for s in starts)
    spread = (
        ""
        if len(starts) < 2
        else (
            f" ({min(s['first'] for s in starts) * 1000:.0f}-{max(s['first'] for s in starts) * 1000:.0f})"
        )
    )
    am_spread = (
        ""
        if len(amtool) < 2
        else (
            f" ({min(r['wall'] for r in amtool) * 1000:.0f}-{max(r['wall'] for r in amtool) * 1000:.0f})"
        )
    )
    row(
        "start -> alerts on screen, ms (median)",
        f"{first * 1000:.0f}{spread}",
        f"{am_wall * 1000:.0f}{am_spread}",
        "< amtool",
        first < am_wall,
    )
    row(
        "start -> all 10,000 counted (status line), ms",
        f"{counted * 1000:.0f}",
        f"{am_wall * 1000:.0f}",
    )
    row(
        "start -> first frame ('loading'), ms",
        f"{starts[0]['frame'] * 1000:.0f}",
        f"{amtool[0]['first_byte'] * 1000:.0f} (1st byte)" if amtool else "",
    )
    if "amtool_extended" in f:
        row("amtool -o extended, wall ms", "", f"{f['amtool_extended']['wall'] * 1000:.0f}")

    inproc = f.get("inproc") or []
    for kind in ("cold", "quiet", "changed"):
        recs = [r for r in inproc if r["kind"] == kind]
        if not recs:
            continue
        cpu = [r["cpu_ms"] for r in recs]
        blocked = [r["blocked_ms"] for r in recs]
        stall = [r["stall_ms"] for r in recs]
        apply = [r["apply_ms"] for r in recs]
        label = {
            "cold": "first poll (all new)",
            "quiet": "refresh, nothing changed",
            "changed": "refresh, 1% changed",
        }[kind]
        row(f"main-thread CPU per {label}, ms", _med_max(cpu))
        row("  event loop blocked (sum of stalls), ms", _med_max(blocked))
        row("  longest single stall, ms", _med_max(stall))
        row("  AlertsScreen.apply, ms", _med_max(apply))
        gen2 = [r for r in recs if r.get("gc_gen2")]
        row(
            "  full GC (gen 2) pauses: refreshes with one / longest ms",
            f"{len(gen2)} of {len(recs)} / {max((r['gc_max_ms'] for r in recs), default=0):.1f}",
        )
    if amtool:
        row(
            "CPU ms: app per refresh (1% chg) / amtool per run",
            _med_max([r["cpu"] * 1000 for r in f.get("changed", [])]),
            f"{statistics.median(r['cpu'] for r in amtool) * 1000:.0f}",
        )

    keys = f["keys"]
    all_lat = [lat * 1000 for lat, _ in keys]
    busy_lat = [lat * 1000 for lat, b in keys if b]
    lost = sum(1 for v in all_lat if v == float("inf"))
    for label, values in (("all presses", all_lat), ("presses during a refresh", busy_lat)):
        p50, p95, top = pct(values, 50), pct(values, 95), max(values, default=float("nan"))
        row(f"key -> screen, {label} (n={len(values)}), p50 ms", f"{p50:.1f}")
        row("  p95 ms", f"{p95:.1f}", "", "< 20", p95 < 20)
        row("  max ms", f"{top:.1f}", "", "< 100", top < 100)
        row(
            "  presses over 20 ms / over 100 ms",
            f"{sum(1 for v in values if v > 20)} / {sum(1 for v in values if v > 100)}",
        )
    if lost:
        res.notes.append(f"{lost} key presses got no answer within 3 s (counted as infinite)")

    idle = f["idle"]
    per_min = idle["bytes"] * 60 / idle["window"]
    scaled = (
        "" if idle["window"] >= 59 else f" (x{60 / idle['window']:.1f} of {idle['window']:.0f} s)"
    )
    row("bytes to the terminal per idle minute", f"{per_min:.0f}{scaled}", "", "0", per_min == 0)
    row(
        "bytes per refresh, nothing changed",
        f"{idle['bytes'] / max(1, idle['polls']):.0f} ({idle['polls']} polls)",
    )
    changed = [r["bytes"] for r in f["changed"]]
    row(
        "bytes per refresh, 1% changed (random alerts)",
        _med_max(changed, "{:.0f}"),
        "",
        "< 2048",
        max(changed) < 2048,
    )
    screen = [r["bytes"] for r in f["changed_screen"]]
    row(
        "bytes per refresh, 1% changed incl. all on screen",
        _med_max(screen, "{:.0f}"),
        "",
        "(2048)",
        None,
    )
    row(
        f"idle CPU, % of one core (polling every {refresh:g} s)",
        f"{idle['cpu'] / idle['window'] * 100:.1f}",
        "",
        "",
        None,
    )
    row(
        "  Alertmanager CPU meanwhile, % of one core",
        f"{idle['am_cpu'] / idle['window'] * 100:.1f}",
    )
    row(
        "  poll wall via tap (request->last byte), ms",
        _med_max([w * 1000 for w in idle["poll_wall"]]),
    )
    hwm = max([f["hwm_kb"], *[s["hwm_kb"] for s in starts]]) * 1024 / 1e6
    row(
        "peak RSS (VmHWM), MB",
        f"{hwm:.0f}",
        f"{max(r['maxrss_kb'] for r in amtool) * 1024 / 1e6:.0f}" if amtool else "",
        "< 150",
        hwm < 150,
    )
    row(
        "  RSS after load / at end, MB",
        f"{f['rss_loaded_kb'] * 1024 / 1e6:.0f} / {f['rss_end_kb'] * 1024 / 1e6:.0f}",
    )

    size, secs, groups, count = f["groups_body"]
    print()
    print(
        f"Alertmanager: {count} alerts in {groups} groups; /api/v2/alerts/groups "
        f"{size / 1e6:.1f} MB in {secs * 1000:.0f} ms. Plan: {plan.name}; app --refresh "
        f"{refresh:g}."
    )
    widths = [
        max(len(r[i]) for r in [("figure", "oncall-tui", "amtool", "target", ""), *rows])
        for i in range(5)
    ]
    header = ("figure", "oncall-tui", "amtool", "target", "")
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    print()
    print("Notes:")
    print(
        f"- 'during a refresh': pressed between the poll's request and {BUSY_TAIL:g} s after "
        "its response\n  (seen by a loopback relay in front of Alertmanager); each such "
        "refresh had 1% of the\n  alerts changed off screen, so it decoded and rebuilt them."
    )
    print(
        "- key latency: write 'j'/'k' to the pty, time until the repainted cursor row is read "
        "back;\n  closed loop, 5-30 ms between an answer and the next press."
    )
    print(
        "- Alertmanager shares the machine's CPUs with the app here (it burns about one core "
        "for\n  ~0.3 s per poll) and the relay copies each 8 MB answer: key figures are "
        "pessimistic."
    )
    print(
        "- main-thread figures: headless run_test in a separate process; CPU is "
        "time.thread_time\n  from poll start to the next composed frame (includes the 1 ms "
        "probe's own wakeups)."
    )
    print(
        "- MB = 10^6 bytes. Bytes per refresh count everything read from the pty from the "
        "post\n  that changed the alerts to 0.8 s after the next poll's response."
    )
    for note in res.notes:
        print(f"- {note}")


def _med_max(values: Sequence[float], fmt: str = "{:.1f}") -> str:
    if not values:
        return "-"
    return f"{fmt.format(statistics.median(values))} (max {fmt.format(max(values))})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 1 minute, shorter windows")
    parser.add_argument("--refresh", type=float, default=2.0, help="the app's poll interval")
    parser.add_argument("--peers", type=int, default=1, help="Alertmanager HA peers (1 or 2)")
    parser.add_argument("--json", metavar="FILE", help="also write the raw figures here")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    exit_on_termination_signals()
    began = time.monotonic()
    load_meter = MachineLoad()
    print("oncall-tui board benchmark: 10,000 alerts, real Alertmanager, real terminal")
    for line in machine():
        print(line)
    res = Results()
    alerts = AlertSet()
    with Stack(StackOptions(alertmanager_peers=args.peers, with_prometheus=False)) as stack:
        urls = stack.alertmanager_urls
        log(f"Alertmanager {', '.join(urls)} (pid {', '.join(map(str, stack.pids.values()))})")
        poster = Poster(urls)
        try:
            load(stack, alerts, poster, res)
            amtool_phase(urls[0], plan, res)
            start_phase(urls, args.refresh, alerts.total, plan, res)
            session_phase(stack, alerts, poster, args.refresh, plan, res)
            if args.peers == 1:
                inproc_phase(urls[0], alerts, poster, args.refresh, plan, res)
            else:
                res.notes.append(
                    "no headless main-thread figures: that run is made with 1 peer only"
                )
        finally:
            poster.close()
    if args.peers > 1:
        res.notes.append(
            f"{args.peers} HA peers, each holding the same 10,000 alerts; amtool queries one peer"
        )
    others, wall = load_meter.others()
    cpus = len(os.sched_getaffinity(0))
    share = others / (wall * cpus) * 100
    res.figures["other_load"] = (others, wall)
    res.notes.append(
        f"other processes on this machine used {others:.1f} CPU-s during the run, {share:.0f}% of "
        f"its {cpus} CPUs"
        + (" (busy: figures noisier than on an idle machine)" if share > 5 else "")
        + f"; load average at the end {Path('/proc/loadavg').read_text().split()[0]}"
    )
    report(res, plan, args.refresh, alerts.total)
    if args.json:
        Path(args.json).write_text(json.dumps(res.figures, indent=1, default=str))
    print(f"\n(whole run {time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
