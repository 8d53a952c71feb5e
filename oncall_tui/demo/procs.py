"""Process, port and HTTP helpers for the demo stack; standard library only.

Split from ``stack.py`` so the launcher reads as the order of start-up.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType

WORKDIR_PREFIX = "oncall-tui-demo-"
_PR_SET_PDEATHSIG = 1
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def reserve_port(udp_too: bool = False) -> socket.socket:
    """A socket bound to a free loopback port; close it just before the server binds it."""
    while True:
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        if not udp_too:
            return tcp
        try:  # memberlist gossips over UDP on the same port number
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.bind(("127.0.0.1", tcp.getsockname()[1]))
            return tcp
        except OSError:
            tcp.close()


def pdeathsig_preexec(sig: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A preexec_fn asking for ``sig`` when the forking thread dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, not in the child
    parent, sig = os.getpid(), int(sig)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_orphaned_workdirs(min_age: float = 60.0) -> None:
    """Remove temporary dirs of stacks whose owner died without stopping (e.g. SIGKILL)."""
    for d in Path(tempfile.gettempdir()).glob(WORKDIR_PREFIX + "*"):
        try:
            owner = int((d / "owner.pid").read_text())
            old = time.time() - d.stat().st_mtime > min_age
        except (OSError, ValueError):
            continue
        if old and not pid_alive(owner):
            shutil.rmtree(d, ignore_errors=True)


def http_get(url: str, timeout: float = 1.0) -> tuple[int, bytes]:
    """GET without proxies (a proxy env var must not capture loopback); (status, body)."""
    try:
        with _NO_PROXY.open(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def signal_child(popen: subprocess.Popen[bytes], sig: int) -> None:
    """Signal a child we started unless it was already reaped (its PID may be reused)."""
    if popen.poll() is None:
        popen.send_signal(sig)


def stop_child(popen: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop one child we started: SIGTERM, wait up to `timeout`, then SIGKILL and reap it."""
    signal_child(popen, signal.SIGTERM)
    try:
        popen.wait(timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait()


def exit_on_termination_signals() -> None:
    """Make SIGTERM and SIGHUP raise SystemExit, so ``with Stack()`` and atexit clean up.

    Python's default for both is to die at once: the children still go (PDEATHSIG), but
    the temporary directory stays until a later ``start()`` sweeps it. Call from the main
    thread, e.g. in ``oncall-tui demo`` before starting the stack.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
