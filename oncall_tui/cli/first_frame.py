"""A frame on the terminal before Textual is imported: what is being asked, and from where.

Importing the UI takes 0.3-0.5 s and a large Alertmanager as long again to answer; over SSH
at night a blank terminal for a second looks like a hang. This draws, with nothing but the
standard library, what the app's first frame says (name, context, the servers asked,
"loading…") on the alternate screen; keys typed meanwhile are not echoed and stay queued
for the app. Textual then takes the terminal over and repaints.

Only on a terminal (stdin and stdout a tty, TERM not dumb). The frame leaves the alternate
screen in the very write that Textual's driver enters it again, so nothing flickers and the
shell's cursor is where it was when the app quits (a second "enter the alternate screen"
would save the frame's cursor in its place); on an error before that, it leaves it itself,
and the error is printed on the normal screen.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from oncall_tui.domain.sanitize import one_line

ENTER = "\x1b[?1049h\x1b[?25l\x1b[H"  # the alternate screen (cleared as entered), no cursor
LEAVE = "\x1b[?25h\x1b[?1049l"  # cursor shown, the normal screen and its cursor back
BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def lines(context: str, servers: Sequence[str], width: int) -> list[str]:
    """The frame's text, each line cut to the width."""
    hosts = [urlsplit(url).netloc or url for url in servers]
    asked = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more" if len(hosts) > 3 else "")
    noun = "Alertmanager" if len(hosts) == 1 else "Alertmanagers"
    out = [
        f" oncall-tui · {context}",
        f" asking {len(hosts)} {noun} ({asked}) for alerts" if hosts else "",
        "",
        "   loading…",
    ]
    return [one_line(line, max(width, 2)) for line in out]


def render(context: str, servers: Sequence[str], width: int) -> str:
    head, asked, _, loading = lines(context, servers, width)
    # Rows by cursor position, as Textual writes them: no CR or LF (a pty's ONLCR adds one).
    return f"{ENTER}{BOLD}{head}{RESET}\x1b[2;1H{DIM}{asked}{RESET}\x1b[4;1H{loading}"


class FirstFrame:
    """`show` draws it; `hand_to(app)` before `app.run()`; `leave()` after, always."""

    def __init__(self) -> None:
        self._fd: int | None = None
        self._saved: list[Any] | None = None
        self.shown = False

    @classmethod
    def show(cls, context: str, servers: Sequence[str]) -> FirstFrame:
        frame = cls()
        fd = _terminal()
        if fd is None:
            return frame
        try:
            import termios
        except ImportError:  # not a POSIX terminal: no frame
            return frame
        try:
            frame._saved = termios.tcgetattr(fd)
            quiet = termios.tcgetattr(fd)
            quiet[3] &= ~(termios.ECHO | termios.ICANON)  # keys queue, unechoed, for the app
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
            frame._fd = fd
            _write(render(context, servers, os.get_terminal_size(fd).columns))
            frame.shown = True
        except (OSError, ValueError, termios.error):
            frame._restore_modes()
        return frame

    def hand_to(self, app: Any) -> None:
        """Give the app's driver the frame's leaving, and the terminal its modes back (the
        driver keeps them to restore on quitting)."""
        self._restore_modes()
        if self.shown:
            app.driver_class = self._driver(app.driver_class)

    def leave(self) -> None:
        """Leave the frame's alternate screen, unless the app's driver already did."""
        self._restore_modes()
        if self.shown:
            self.shown = False
            with contextlib.suppress(OSError, ValueError):
                _write(LEAVE)

    def _driver(self, base: type[Any]) -> type[Any]:
        frame = self

        class LeavingTheFrame(base):  # type: ignore[misc]
            def start_application_mode(self) -> None:
                if frame.shown:  # the first start only, not a resume after ctrl+z
                    frame.shown = False
                    _write(LEAVE)  # Textual's own "\x1b[?1049h" follows at once
                super().start_application_mode()

        return LeavingTheFrame

    def _restore_modes(self) -> None:
        fd, saved, self._fd, self._saved = self._fd, self._saved, None, None
        if fd is None or saved is None:
            return
        import termios

        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, saved)


def _terminal() -> int | None:
    """stdin's descriptor when the app will draw on a terminal: Textual reads stdin and
    draws on stderr (stdout stays free for a pipe)."""
    if os.environ.get("TERM", "") in ("", "dumb"):
        return None
    stdin, stderr = sys.__stdin__, sys.__stderr__
    try:
        if stdin is None or stderr is None or not (stdin.isatty() and stderr.isatty()):
            return None
        return stdin.fileno()
    except (ValueError, OSError):
        return None


def _write(text: str) -> None:
    stderr = sys.__stderr__  # where Textual draws
    if stderr is not None:
        stderr.write(text)
        stderr.flush()
