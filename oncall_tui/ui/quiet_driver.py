"""Textual's POSIX terminal driver, with an input thread that sleeps until there is input.

Textual's input thread wakes ten times a second to see whether it should stop. In an idle
app polling every 10 s that was a quarter of the process's CPU (1.6 of 6.1 ms a second, the
threads' `schedstat` in /proc, 10,000 alerts on the board): the bastion's cores are shared.
This one waits on stdin and on a pipe that `disable_input` writes to (quit, suspend), and
wakes on time only while the key parser may be waiting out an escape sequence (a lone ESC is
a key once `ESCAPE_DELAY` passes with nothing after it), and once every few seconds in case a
stop was asked for in the instant the thread started.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
import time
from codecs import getincrementaldecoder

from textual import constants
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

# While the parser may hold an unfinished sequence: Textual's own cadence.
TICK = 0.1
# After input, the parser's timeouts are over by then (ESCDELAY is the user's to set).
AWAKE_AFTER_INPUT = constants.ESCAPE_DELAY + 2 * TICK
# Otherwise: only so that a stop asked for as the thread started is not missed for ever.
IDLE_WAIT = 5.0
READ_SIZE = 4096


class QuietDriver(LinuxDriver):
    """LinuxDriver whose input thread blocks until a key, a resize report or a stop."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Each input thread's pipe (a suspend ends the thread; a resume starts another).
        # The lock keeps a stop from writing to a descriptor the thread is closing.
        self._wake_lock = threading.Lock()
        self._wake_write: int | None = None

    def disable_input(self) -> None:
        with self._wake_lock:
            if self._wake_write is not None:
                with contextlib.suppress(OSError):  # full: it is being woken already
                    os.write(self._wake_write, b"x")
        super().disable_input()

    def run_input_thread(self) -> None:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        with self._wake_lock:
            self._wake_write = wake_write
        try:
            self._read_input(wake_read)
        finally:
            with self._wake_lock:
                self._wake_write = None
                os.close(wake_read)
                os.close(wake_write)

    def _read_input(self, wake: int) -> None:
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        last_input = 0.0
        # select(), as Textual: macOS kqueue does not take terminal devices.
        with selectors.SelectSelector() as selector:
            selector.register(self.fileno, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not self.exit_event.is_set():
                recent = time.monotonic() - last_input < AWAKE_AFTER_INPUT
                ready = {key.fd for key, _ in selector.select(TICK if recent else IDLE_WAIT)}
                if wake in ready:
                    break
                if self.fileno in ready:
                    last_input = time.monotonic()
                    data = os.read(self.fileno, READ_SIZE)
                    if not data:  # end of input (a pipe): wait for the stop alone
                        selector.unregister(self.fileno)
                    for event in parser.feed(decode(data)) if data else ():
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
        for event in parser.tick():
            self.process_message(event)
        with contextlib.suppress(Exception):  # what a half-read sequence leaves is dropped
            for _event in parser.feed(""):
                pass
