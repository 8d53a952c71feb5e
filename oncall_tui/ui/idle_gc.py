"""The cyclic collector's full passes, run when nobody is typing.

A full (generation 2) collection walks every tracked object not frozen at start-up
(screens/alerts.py `_settle_memory`): 70-110 ms with 10,000 alerts, and Python starts one in
whatever it is doing, a key press or a refresh included; that was the board's worst key
latency. Python's own trigger for full passes is turned off; they run as often as before (one
per `threshold2` collections of generation 1, counted here) but only once no key has come
for a second. Generations 0 and 1 are left to Python, at a higher threshold (YOUNG): they
are short.

`settle()` asks for one more: the first full pass after it also freezes what is alive then
(gc.freeze), so later passes skip the session's modules and first board. It waits for a quiet
second like the others: run 2 s after the first board, it held the GIL 370-440 ms at 50,000
alerts, while the bench (and a user) pressed keys.

Only while an app runs is the process's collector changed; when the last one stops, the
thresholds are given back.
"""

from __future__ import annotations

import gc
import time
from typing import Any

QUIET = 1.0  # seconds without a key before a full pass may run
NEVER = 1_000_000_000  # a threshold Python's count never reaches
# Objects allocated before a young (generation 0) collection, Python's 700 raised: a poll of
# 50,000 alerts with 1% changed allocates some 100,000 objects, and each young collection
# also walks what survived the last ones. Held 5x2 stack, main thread per poll: 96-136 ms
# at 700, 75-90 at 3,000; at 10,000 a young pass took up to 100 ms, a key's whole budget.
YOUNG = 3_000


class IdleCollector:
    def __init__(self) -> None:
        self.last_key = time.monotonic()
        self.full_passes = 0  # run here, for the tests and the bench
        self._due = 0  # generation-1 collections since the last full pass
        self._every = 10
        self._on = False
        self.settle_due = False
        self.settled = False  # frozen once: what was alive then stays out of full passes

    def start(self) -> None:
        if self._on:
            return
        self._on = True
        if not _running:  # the first app of the process (tests run several at once)
            _saved[:] = gc.get_threshold()
            gc.set_threshold(max(_saved[0], YOUNG), _saved[1], NEVER)
        self._every = max(_saved[2], 1)
        _running.append(self)
        gc.callbacks.append(self._counted)

    def stop(self) -> None:
        if not self._on:
            return
        self._on = False
        _running.remove(self)
        if self._counted in gc.callbacks:
            gc.callbacks.remove(self._counted)
        if not _running:
            gc.set_threshold(*_saved)

    def key(self) -> None:
        self.last_key = time.monotonic()

    def settle(self) -> None:
        """Freeze what is alive after the next full pass (once per session)."""
        if not self.settled:
            self.settle_due = True

    def unsettle(self) -> None:
        """What was frozen goes back under the collector (the settled board was let go)."""
        self.settle_due = False
        if self.settled:
            self.settled = False
            gc.unfreeze()

    def tick(self) -> bool:
        """Run a full pass if one is due and nobody typed for QUIET seconds; whether it ran."""
        if not self._on or (self._due < self._every and not self.settle_due):
            return False
        if time.monotonic() - self.last_key < QUIET:
            return False
        gc.collect()  # resets _due through the callback
        self.full_passes += 1
        if self.settle_due:
            self.settle_due, self.settled = False, True
            gc.freeze()
        return True

    def _counted(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop":
            return
        generation = info.get("generation")
        if generation == 1:
            self._due += 1
        elif generation == 2:
            self._due = 0


_running: list[IdleCollector] = []
_saved: list[int] = list(gc.get_threshold())
