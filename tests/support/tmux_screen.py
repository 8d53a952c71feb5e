"""Drive a program in a real terminal, as a user does: tmux, send-keys, capture-pane.

Each `TmuxScreen` runs its own tmux server (a private socket, no user config), so a test
never touches the user's tmux and is stopped whole by `close()`. Waits poll the screen with
a deadline; nothing sleeps a guessed time.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence


class ScreenTimeout(AssertionError):
    pass


class TmuxScreen:
    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        columns: int = 120,
        rows: int = 35,
    ) -> None:
        self.socket = f"oncall-test-{os.getpid()}-{time.monotonic_ns()}"
        # The tmux server inherits this environment; the program gets exactly `env` too.
        self._env = {**env, "TMUX": ""}
        command = " ".join(shlex.quote(a) for a in argv)
        self._tmux(
            "new-session", "-d", "-s", "t", "-x", str(columns), "-y", str(rows), "-c", cwd,
            *(f"-e{k}={v}" for k, v in env.items()),
            command,
        )  # fmt: skip
        # Keep the pane after the program exits so its last screen and exit status can be read.
        self._tmux("set-option", "-t", "t", "remain-on-exit", "on")
        self._tmux("set-option", "-s", "escape-time", "0")

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=self._env,
            timeout=20,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tmux {args[0]}: {done.stderr.strip()}")
        return done.stdout

    def pid(self) -> int:
        """The program's process ID (the pane's first process)."""
        return int(self._tmux("display-message", "-p", "-t", "t", "#{pane_pid}").strip())

    def text(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        """tmux key names: `Enter`, `Escape`, `Space`, `C-r`, `Up`, or one character."""
        for key in keys:
            self._tmux("send-keys", "-t", "t", key)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "t", "-l", text)

    def exit_status(self) -> int | None:
        """None while the program runs; its exit status once it has ended (-N: signal N)."""
        dead, status, signal = (
            self._tmux(
                "display-message",
                "-p",
                "-t",
                "t",
                "#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}",
            )
            .strip()
            .split(":")
        )
        if dead != "1":
            return None
        # Killed by a signal: no status, the signal's number instead (shown negated, as
        # subprocess does).
        return int(status) if status else -int(signal or 0)

    def wait_for(self, check: Callable[[str], object], what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.text()
            if check(screen):
                return screen
            time.sleep(0.05)
        raise ScreenTimeout(f"not within {timeout} s: {what}\n--- screen ---\n{screen}")

    def wait_text(self, *words: str, timeout: float = 20.0) -> str:
        return self.wait_for(
            lambda s: all(w in s for w in words), f"screen shows {words!r}", timeout
        )

    def wait_exit(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.exit_status()
            if status is not None:
                return status
            time.sleep(0.05)
        raise ScreenTimeout(f"the program did not exit within {timeout} s\n{self.text()}")

    def close(self) -> None:
        # Killing the server hangs up the program (SIGHUP), as closing a terminal does.
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=20)
