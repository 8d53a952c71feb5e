"""Run a program in a pseudo-terminal and keep every byte it writes to the terminal.

The strongest proof that untrusted text cannot drive the user's terminal is the byte stream
itself: what the real program, started as a user starts it, sends to a real (pseudo) terminal.
`PtyProgram` starts it in its own session with the pty as its controlling terminal and a fixed
window size, reads continuously (a full pty buffer would block the child), waits for
conditions with deadlines, and always reaps the child: SIGTERM, then SIGKILL, by PID only.

`terminal_sequences` splits the bytes into escape sequences and text so a test can compare the
kinds of sequences a run emitted with those of a harmless baseline run.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence


class PtyProgram:
    """A child process on a pty of `columns` x `rows`; `output` holds all it wrote so far."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        columns: int = 120,
        rows: int = 35,
        cwd: str | None = None,
    ) -> None:
        self.output = bytearray()
        self.eof = False
        master, slave = os.openpty()
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._master = master
        try:
            self.proc = subprocess.Popen(
                list(argv),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
                # After setsid (start_new_session) the pty becomes the controlling terminal,
                # as it is for a program a user starts in a terminal.
                preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
            )
        except BaseException:
            os.close(master)
            os.close(slave)
            raise
        # Only the child holds the slave now: its exit gives us EOF (EIO) on the master.
        os.close(slave)

    # -- reading ---------------------------------------------------------------------------

    def _read_some(self, timeout: float) -> bool:
        """Read what is available within `timeout`; False once the terminal is closed."""
        if self.eof:
            return False
        ready, _, _ = select.select([self._master], [], [], max(0.0, timeout))
        if not ready:
            return True
        try:
            chunk = os.read(self._master, 65536)
        except OSError as err:
            if err.errno != errno.EIO:  # Linux: EIO once the slave side is closed
                raise
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.output.extend(chunk)
        return True

    def read_until(self, done: Callable[[bytes], bool], timeout: float, what: str = "") -> None:
        """Keep reading until `done(output)` holds; fail with the output's tail after `timeout`."""
        deadline = time.monotonic() + timeout
        while not done(bytes(self.output)):
            left = deadline - time.monotonic()
            if left <= 0 or not self._read_some(min(left, 0.2)):
                if done(bytes(self.output)):
                    return
                state = "exited" if self.proc.poll() is not None else "still running"
                raise AssertionError(
                    f"not seen within {timeout} s: {what or done!r}; the program is {state} "
                    f"(code {self.proc.returncode}); last output: {bytes(self.output[-3000:])!r}"
                )

    def write(self, data: bytes) -> None:
        os.write(self._master, data)

    def local_modes(self) -> int:
        """The terminal's local modes (ECHO, ICANON...) as the program left them."""
        return int(termios.tcgetattr(self._master)[3])

    # -- ending ----------------------------------------------------------------------------

    def wait_exit(self, timeout: float) -> int:
        """Drain the terminal until the child exits; kill it (and fail) after `timeout`."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read_some(0.05)
        if self.proc.poll() is None:
            self.kill()
            raise AssertionError(f"the program did not exit within {timeout} s; killed")
        # Whatever it wrote just before exiting is still in the pty buffer.
        drain_until = time.monotonic() + 2.0
        while self._read_some(0.05) and time.monotonic() < drain_until:
            pass
        return self.proc.returncode

    def kill(self) -> None:
        """Stop exactly this child (and its session): SIGTERM, then SIGKILL."""
        if self.proc.poll() is None:
            for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, sig)  # its own session: its PID is the group
                try:
                    self.proc.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue

    def close(self) -> None:
        self.kill()
        with contextlib.suppress(OSError):
            os.close(self._master)

    def __enter__(self) -> PtyProgram:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ECMA-48: CSI, the string sequences (OSC, DCS, SOS, PM, APC: ended by ST or, for OSC, BEL),
# and two-byte escapes. Anything else starting with ESC is reported as a bare ESC.
_SEQUENCE = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"
    rb"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
    rb"|\x1b[ -/]*[0-~]"
    rb"|\x1b"
)


def terminal_sequences(data: bytes) -> list[bytes]:
    """Every escape sequence in `data`, in order."""
    return _SEQUENCE.findall(data)


def sequence_kind(sequence: bytes) -> bytes:
    """What a sequence does, without its arguments: `ESC[?…h`, `ESC[…H`, `ESC]8`, `ESCP`.

    Colours and cursor positions differ between runs; the kinds of sequence must not.
    """
    if sequence.startswith(b"\x1b["):
        private = sequence[2:3] if sequence[2:3] in (b"?", b">", b"<", b"=") else b""
        # Mode switches are told apart by number: 1049h (alternate screen) is not 2004h.
        if sequence[-1:] in (b"h", b"l") or sequence[-1:] == b"p":
            return sequence
        return b"\x1b[" + private + b"\xe2\x80\xa6" + sequence[-1:]
    if sequence[1:2] in (b"]", b"P", b"X", b"^", b"_"):
        number = re.match(rb"\x1b.(\d*)", sequence)
        return sequence[:2] + (number.group(1) if number else b"")
    return sequence


def kinds(data: bytes) -> Counter[bytes]:
    return Counter(sequence_kind(s) for s in terminal_sequences(data))


def visible_text(data: bytes, errors: str = "strict") -> str:
    """The bytes with every escape sequence removed, decoded as UTF-8 (strictly by default).

    Text of one row is split by colour changes; without the sequences it reads as on screen.
    """
    return _SEQUENCE.sub(b"", data).decode("utf-8", errors)


_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def unexpected_osc(data: bytes) -> list[bytes]:
    """The OSC sequences in `data` other than Textual's pointer shape (OSC 22) and the app's
    window title (OSC 2 with no control character in it): what untrusted text may never cause."""
    found = []
    for sequence in terminal_sequences(data):
        if not sequence.startswith(b"\x1b]") or sequence.startswith(b"\x1b]22;"):
            continue
        title = sequence[4:].removesuffix(b"\x1b\\").decode("utf-8", "replace")
        if not sequence.startswith(b"\x1b]2;") or _CONTROL.search(title):
            found.append(sequence)
    return found
