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


def test_a_hangup_ends_the_app_and_every_demo_server(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / ".config"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
    }
    screen = TmuxScreen([sys.executable, "-m", "oncall_tui"], env=env, cwd=str(tmp_path))
    try:
        screen.wait_text("HighErrorRate", timeout=90)
        pid = screen.pid()
        servers = children(pid)
        assert len(servers) >= 4, servers  # exporter, Prometheus, two Alertmanagers
    finally:
        screen.close()
    deadline = time.monotonic() + 30
    while (alive(pid) or any(alive(s) for s in servers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid), "the app outlived its terminal"
    assert not [s for s in servers if alive(s)], "demo servers outlived the app"
