"""Run a program in a pseudo-terminal and watch, with timestamps, every byte it writes.

A reader thread drains the terminal all the time (a full pty buffer would stall the app) and
keeps the whole output with the time each read returned. Nothing answers the terminal's
queries, as with a terminal that supports none of them: Textual does not wait for answers.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from oncall_tui.demo.procs import pdeathsig_preexec

CLK_TCK = os.sysconf("SC_CLK_TCK")


def lowest_priority(pids: Iterable[int]) -> None:
    """Give the servers the lowest CPU priority (nice 19), so they take only the CPU that the
    app and the bench leave idle, as if they ran on machines of their own: users' servers do
    not share their terminal's cores, and ten Alertmanagers given an equal share with the app
    on two cores set its slowest key answers (j/k at 50,000 alerts, p95: 36 ms at equal
    priority, 10-19 at nice 19, the servers at 50-60% of the machine each time). They still
    use every idle cycle, and the bench prints their share.

    Each thread is reniced (Linux nices threads, not processes), and the server's autogroup
    too where the kernel groups each session apart (the demo stack starts each server in a
    session of its own, and a session's group competes as a whole)."""
    for pid in pids:
        for _ in range(20):  # the kernel takes one autogroup change a 100 ms from a user
            try:
                Path(f"/proc/{pid}/autogroup").write_text("19")
                break
            except BlockingIOError:
                time.sleep(0.1)
            except OSError:  # no autogroups here, or the server is gone
                break
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PROCESS, int(task.name), 19)


class PtyApp:
    """One child on a 120x35 xterm-256color pty (by default)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cols: int = 120,
        rows: int = 35,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        child_env = dict(env if env is not None else os.environ)
        child_env.update(TERM="xterm-256color", COLORTERM="")
        for name in ("COLUMNS", "LINES", "TEXTUAL", "NO_COLOR"):
            child_env.pop(name, None)
        self.master = master
        self.buf = bytearray()
        self.marks: list[tuple[int, float]] = []  # (buffer length after a read, when)
        self.cond = threading.Condition()
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=child_env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=pdeathsig_preexec(signal.SIGKILL),
        )
        os.close(slave)
        self.pid = self.popen.pid
        self.rusage: object | None = None
        self._reader = threading.Thread(target=self._read, daemon=True, name="pty-reader")
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO once the child has closed the terminal
                data = b""
            now = time.monotonic()
            with self.cond:
                if data:
                    self.buf += data
                    self.marks.append((len(self.buf), now))
                else:
                    self.marks.append((len(self.buf), -1.0))
                self.cond.notify_all()
            if not data:
                return

    # -- output ----------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        with self.cond:
            return len(self.buf)

    def _time_of(self, offset: int) -> float:
        """When the byte at `offset` (exclusive end) had been read."""
        for end, when in self.marks:
            if end >= offset and when >= 0:
                return when
        return float("nan")

    def wait_for(self, pattern: bytes, start: int = 0, timeout: float = 30.0) -> float:
        """Seconds from `started` until `pattern` appeared at or after offset `start`."""
        return self.wait_for_any([pattern], start, timeout)[1] - self.started

    def wait_for_any(
        self, patterns: Sequence[bytes], start: int = 0, timeout: float = 30.0
    ) -> tuple[int, float]:
        """(end offset, monotonic time) of the first of `patterns` written after `start`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [p + len(pat) for pat in patterns if (p := self.buf.find(pat, start)) >= 0]
                if found:
                    end = min(found)
                    return end, self._time_of(end)
                if self.marks and self.marks[-1][1] < 0:
                    raise EOFError(f"the app exited; last output: {bytes(self.buf[-400:])!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{patterns!r} not seen within {timeout} s")
                self.cond.wait(left)

    def bytes_between(self, t0: float, t1: float) -> int:
        """Bytes whose read returned within [t0, t1) (monotonic)."""
        with self.cond:
            total, prev = 0, 0
            for end, when in self.marks:
                if when >= 0 and t0 <= when < t1:
                    total += end - prev
                prev = end
            return total

    def quiet_for(self, seconds: float, timeout: float) -> bool:
        """Wait until nothing was written for `seconds`; False if that never happened."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.cond:
                last = self.marks[-1][1] if self.marks else self.started
            idle = time.monotonic() - last
            if idle >= seconds:
                return True
            time.sleep(min(seconds - idle, 0.05) + 0.001)
        return False

    # -- input -----------------------------------------------------------------------------------

    def press(self, key: bytes, expect: bytes, timeout: float = 5.0) -> float:
        """Write `key`; seconds until output holding `expect` arrived (inf on timeout)."""
        start_offset = self.size
        t0 = time.monotonic()
        os.write(self.master, key)
        try:
            _, when = self.wait_for_any([expect], start_offset, timeout)
        except TimeoutError:
            return float("inf")
        return when - t0

    # -- the process -----------------------------------------------------------------------------

    def cpu_seconds(self) -> float:
        """utime + stime of the child so far, from /proc/PID/stat."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def status_kb(self, name: str) -> int:
        """A /proc/PID/status field in kB (VmHWM: peak RSS, VmRSS: RSS now)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
        return 0

    def close(self, timeout: float = 3.0) -> None:
        """Stop the child we started, by its PID: SIGTERM, then SIGKILL."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)


def run_counted(argv: Sequence[str], timeout: float = 60.0) -> dict[str, float]:
    """Run a command to the end reading its stdout: wall, first byte, bytes, lines, CPU, peak RSS."""
    start = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=pdeathsig_preexec(signal.SIGKILL),
    )
    assert proc.stdout is not None
    first = None
    size = lines = 0
    deadline = start + timeout
    while True:
        chunk = proc.stdout.read1(65536)
        if not chunk:
            break
        if first is None:
            first = time.monotonic() - start
        size += len(chunk)
        lines += chunk.count(b"\n")
        if time.monotonic() > deadline:
            proc.kill()
            break
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall": wall,
        "first_byte": first if first is not None else float("nan"),
        "bytes": size,
        "lines": lines,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kb": usage.ru_maxrss,
        "rc": proc.returncode,
    }
