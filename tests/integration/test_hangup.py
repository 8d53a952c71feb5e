"""Closing the terminal (SIGHUP, as an SSH session dropping) ends the app and its demo.

The app runs in a real terminal (tmux) on the demo stack it starts itself; killing the tmux
server hangs the terminal up. The process must end by itself (no driver thread left keeping
Python alive) and every server the demo started must be gone.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.support.tmux_screen import TmuxScreen

ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def children(pid: int) -> list[int]:
    """PIDs whose parent is `pid` (the demo's servers and exporter)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize(
    ("when", "unbuffered"), [("starting", False), ("settled", True)], ids=["starting", "settled"]
)
def test_a_hangup_ends_the_app_and_every_demo_server(
    tmp_path: Path, when: str, unbuffered: bool
) -> None:
    """`settled`: every demo alert on the board, and PYTHONUNBUFFERED=1 (set in many container
    images and shells). The kernel sends SIGCONT with a hangup, and Textual's SIGCONT handler
    restarted the terminal mid-shutdown: its new writer died on the gone terminal, the
    shutdown waited for ever on the full queue, and the app and its servers stayed."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / ".config"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        **({"PYTHONUNBUFFERED": "1"} if unbuffered else {}),
    }
    screen = TmuxScreen([sys.executable, "-m", "oncall_tui"], env=env, cwd=str(tmp_path))
    try:
        screen.wait_text("HighErrorRate", timeout=90)
        if when == "settled":
            screen.wait_text("ChurnAPIDown", "● live", timeout=60)
        pid = screen.pid()
        servers = children(pid)
        assert len(servers) >= 4, servers  # exporter, Prometheus, two Alertmanagers
    finally:
        screen.close()
    deadline = time.monotonic() + 30
    while (alive(pid) or any(alive(s) for s in servers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    app_left, servers_left = alive(pid), [s for s in servers if alive(s)]
    for survivor in [pid] * app_left + servers_left:  # never leave them running
        os.kill(survivor, 9)
    assert not app_left, "the app outlived its terminal"
    assert not servers_left, "demo servers outlived the app"
