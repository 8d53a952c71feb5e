"""The app headless (`App.run_test`), with the poll path timed from inside. Run by board.py.

`python -m bench.inproc URL REFRESH POLLS` runs the real OncallApp against URL (or against the
current context of a config file given in its place) and prints one JSON line per poll, after
the frame that follows it was composed, then exits:

- poll_ms: `Poller.poll` wall time (request, response, decode; the loop runs meanwhile)
- apply_ms: `AlertStore.apply` (board groups, ledger, incidents) plus `BoardView.reload`
  (the board's lines): the work a refresh does in one go on the main thread
- render_ms: from the end of apply to the end of the next screen refresh
- cpu_ms: main-thread CPU (time.thread_time) in the app's loop's callbacks (every task
  step, timer, I/O callback) from the poll's start to that refresh, the probe's own left
  out: its answers and the loop's wake-ups to read them (`_read_from_self`). Subtracting
  the probe's cost as measured on a bare loop before the app started, as this did before,
  took too much off on a busy loop (several asks answered in one wake-up), so the figure
  read lower than the sum of its parts. cpu_raw_ms: the whole thread's CPU over the span,
  probe and loop included; probe_ms: the probe's callbacks and wake-ups, timed
- blocked_ms / stall_ms: sum / max of the waits of a callback asked for from another thread
  every 5 ms, over the same span: how long the event loop, so the keyboard, was kept waiting
- decoded / reused: groups decoded anew / reused by the peer's GroupDecoder
- gc_ms / gc_max_ms / gc_gen2: time in Python's cyclic garbage collector over the same span,
  its longest pause, and how many full (generation 2) collections ran

The parent reads the lines to know when a poll is over; it changes alerts between polls, then
writes a line to stdin, REFRESH after the last poll ended, and the next poll starts then (the
store's refresh, as `ctrl+r` does): a poll slower than REFRESH makes the app wait as long
before the next (state/polling.py), which only lengthened the bench.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oncall_tui.config import Settings, load_settings, resolve_context
from oncall_tui.state.alert_store import AlertStore
from oncall_tui.state.alerts import Poller, Snapshot
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.widgets.board import BoardView

PROBE_EVERY = 0.005  # seconds between the probe's asks


class Probe:
    """From a thread, asks the event loop every 5 ms to run a callback, as a key press or a
    timer does, and notes how long it took to run: the time the loop, so the keyboard, was
    kept waiting. A task that slept 1 ms in a loop did the same, but cost the main thread
    about 100 ms of CPU every poll of 50,000 alerts, counted in cpu_ms as the app's."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (ran at, wait in s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._thread = threading.Thread(target=self._run, args=(loop,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        ran = threading.Event()
        while not self._stop.wait(PROBE_EVERY):
            ran.clear()
            asked = time.perf_counter()

            def answer(asked: float = asked) -> None:
                now = time.perf_counter()
                self.samples.append((now, now - asked))
                ran.set()

            loop.call_soon_threadsafe(answer)
            ran.wait(30)

    def between(self, t0: float, t1: float) -> list[float]:
        """The waits of the asks that overlapped [t0, t1]."""
        return [lag for ran, lag in self.samples if ran >= t0 and ran - lag <= t1]


class LoopCpu:
    """Main-thread CPU in `loop`'s callbacks, the probe's answers and the loop's wake-ups to
    read them timed apart (the I/O thread's wake-ups are a few a poll)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.app = 0.0
        self.probe = 0.0
        original = asyncio.Handle._run
        wake = getattr(loop, "_read_from_self", None)

        def timed(handle: asyncio.Handle) -> None:
            if handle._loop is not loop:  # type: ignore[attr-defined]
                original(handle)
                return
            began = time.thread_time()
            try:
                original(handle)
            finally:
                spent = time.thread_time() - began
                callback = handle._callback  # type: ignore[attr-defined]
                if getattr(callback, "__name__", "") == "answer" or callback == wake:
                    self.probe += spent
                else:
                    self.app += spent

        asyncio.Handle._run = timed  # type: ignore[method-assign, assignment]


class GcWatch:
    """Every collection of the cyclic GC: (ended at, seconds, generation)."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float, int]] = []
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            now = time.perf_counter()
            self.pauses.append((now, now - self._start, info["generation"]))

    def between(self, t0: float, t1: float) -> list[tuple[float, float, int]]:
        return [p for p in self.pauses if t0 <= p[0] <= t1]


async def main(url: str, refresh: float, polls: int) -> None:
    if Path(url).is_file():  # a config file: its current context (bench/scale.py's five)
        context = resolve_context(load_settings(Path(url)), refresh=refresh)
    else:
        context = resolve_context(Settings(), alertmanagers=[url], refresh=refresh)
    clients = build_clients(context)
    app = OncallApp(Settings(), clients)
    probe = Probe()
    loop_cpu = LoopCpu(asyncio.get_running_loop())
    gcs = GcWatch()
    done = asyncio.Event()
    records: list[dict[str, Any]] = []
    current: dict[str, Any] = {}

    stores: list[AlertStore] = []
    loop = asyncio.get_running_loop()

    def next_polls() -> None:
        """Each line on stdin: poll now."""
        for _ in sys.stdin:
            if stores:
                loop.call_soon_threadsafe(stores[0].refresh)

    threading.Thread(target=next_polls, daemon=True, name="next polls").start()
    original_poll = Poller.poll
    original_apply = AlertStore.apply
    original_reload = BoardView.reload

    async def poll(self: Poller, **kwargs: Any) -> Snapshot:
        current.clear()
        current.update(
            t0=time.perf_counter(), c0=time.thread_time(), a0=loop_cpu.app, p0=loop_cpu.probe
        )
        snapshot = await original_poll(self, **kwargs)
        current["t1"] = time.perf_counter()
        return snapshot

    def apply(self: AlertStore, snapshot: Snapshot) -> None:
        if not stores:
            stores.append(self)
        started = time.perf_counter()
        original_apply(self, snapshot)
        current["store_ms"] = (time.perf_counter() - started) * 1000
        peer = self.clients.clusters[0].peers[0]
        current["decoded"] = peer.groups_decoder.decoded
        current["reused"] = peer.groups_decoder.reused

    def reload(self: BoardView, *args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        original_reload(self, *args, **kwargs)
        if "t1" not in current or "a1" in current:
            return  # not a poll's (a key, a resize), or that poll's already counted
        current["a1"] = time.perf_counter()
        rec = dict(current)
        rec["apply_ms"] = rec.get("store_ms", 0.0) + (rec["a1"] - started) * 1000
        rec["lines"] = len(self._lines)
        self.call_after_refresh(finish, rec)

    def finish(rec: dict[str, Any]) -> None:
        rec["t2"], rec["c2"] = time.perf_counter(), time.thread_time()
        rec["a2"], rec["p2"] = loop_cpu.app, loop_cpu.probe
        # The probe's ask that spans this refresh has not been answered yet: report a bit later.
        asyncio.get_running_loop().call_later(0.05, report, rec)

    def report(rec: dict[str, Any]) -> None:
        t2, c2 = rec["t2"], rec["c2"]
        lags = probe.between(rec["t0"], t2)
        collections = gcs.between(rec["t0"], t2)
        out = {
            "poll": len(records) + 1,
            "poll_ms": (rec["t1"] - rec["t0"]) * 1000,
            "apply_ms": rec["apply_ms"],
            "render_ms": (t2 - rec["a1"]) * 1000,
            "cpu_ms": (rec["a2"] - rec["a0"]) * 1000,
            "cpu_raw_ms": (c2 - rec["c0"]) * 1000,
            "probe_ms": (rec["p2"] - rec["p0"]) * 1000,
            "blocked_ms": sum(lags) * 1000,
            "stall_ms": max(lags, default=0.0) * 1000,
            "decoded": rec["decoded"],
            "reused": rec["reused"],
            "lines": rec["lines"],
            "gc_ms": sum(p[1] for p in collections) * 1000,
            "gc_max_ms": max((p[1] for p in collections), default=0.0) * 1000,
            "gc_gen2": sum(1 for p in collections if p[2] == 2),
        }
        records.append(out)
        print(json.dumps(out), flush=True)
        if len(records) >= polls:
            done.set()

    Poller.poll = poll  # type: ignore[method-assign]
    AlertStore.apply = apply  # type: ignore[method-assign]
    BoardView.reload = reload  # type: ignore[method-assign]
    async with app.run_test(size=(120, 35)):
        probe.start(asyncio.get_running_loop())
        try:
            await asyncio.wait_for(done.wait(), timeout=polls * (refresh + 10) + 30)
        finally:
            probe.stop()
    print(json.dumps({"end": True, "maxrss_note": "headless"}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
