"""An idle app sleeps (ui/quiet_driver.py), in a real terminal (tmux) against the session's
Alertmanager 0.25.0 (the demo stack's, FACTS.md).

Textual's input thread woke ten times a second to see whether it should stop: a quarter of an
idle app's CPU. Each thread's wake-ups are read from /proc while nobody types and the next
poll is a minute away. Then, after a suspend and a resume (a new input thread), the keys that
depend on the thread waking on time still work: a lone ESC (a key only once nothing follows
it) closes the help, and `q` quits.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import pytest

from oncall_tui.demo.stack import Stack
from tests.helpers import pty_env, wait_until
from tests.support.tmux_screen import TmuxScreen

WINDOW = 3.0
# Textual's own input thread alone: 10 a second. The busiest thread here, the main one with
# its one-second timers (the status line's, the idle collector's), woke 3.3-4 times a second.
MOST_PER_SECOND = 7


def wakeups(pid: int) -> dict[str, int]:
    """Voluntary context switches (each a sleep that ended) of each thread of `pid`."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                found[task.name] = int(line.split()[1])
    return found


def settled(pid: int) -> None:
    """Until a second passes with every thread at most at the idle rate. Once the first
    board is on screen the app does what start-up put off (the health checks' first round,
    the HTTP client's import, the incident book's first board): then it is idle."""

    def quiet_second() -> bool:
        before = wakeups(pid)
        time.sleep(1.0)  # the span measured
        after = wakeups(pid)
        return max(after[tid] - before.get(tid, 0) for tid in after) <= MOST_PER_SECOND

    wait_until(quiet_second, 30, "the work put off until the first board to end")


@pytest.mark.stack
def test_an_idle_app_sleeps_and_still_answers_esc_and_q(stack: Stack) -> None:
    url = stack.alertmanager_urls[0]
    with tempfile.TemporaryDirectory() as home:
        argv = [sys.executable, "-m", "oncall_tui", "--alertmanager", url, "--refresh", "60"]
        screen = TmuxScreen(argv, env=pty_env(home), cwd=home)
        try:
            screen.wait_text("● live", timeout=60)
            pid = screen.pid()
            settled(pid)
            before, started = wakeups(pid), time.monotonic()
            time.sleep(WINDOW)  # the window measured, not a wait for something
            after, took = wakeups(pid), time.monotonic() - started
            woke = {tid: after[tid] - before.get(tid, 0) for tid in after}
            assert max(woke.values()) <= MOST_PER_SECOND * took, woke

            # A suspend (ctrl+z in a shell) ends the input thread. tmux continues a stopped
            # pane at once, as `fg` would: the app resumes with new threads.
            threads = set(woke)
            os.kill(pid, signal.SIGTSTP)
            wait_until(lambda: set(wakeups(pid)) - threads, 20, "new threads after the resume")
            screen.wait_text("● live")
            screen.keys("?")
            screen.wait_text("esc closes this help")
            screen.keys("Escape")
            screen.wait_for(lambda text: "esc closes this help" not in text, "the help closed")
            screen.keys("q")
            assert screen.wait_exit(timeout=20) == 0
        finally:
            screen.close()
