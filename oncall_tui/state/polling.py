"""The one polling helper every store uses, and how stores tell their views. No Textual here.

A `PollLoop` runs one poll at a time: the next starts only when the last one ended (a slow
server never piles up requests), and never sooner than the last one took (servers that need
5 s to answer a poll rest 5 s before the next, instead of 2 s at a 2 s refresh); failures
back off exponentially up to a ceiling, `wake()` polls now and `paused` stops polling until
woken. A store publishes to `Subscribers`, whose callbacks the views turn into messages that
coalesce (see ui/messages.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class Backoff:
    """Exponential backoff from the poll interval up to a ceiling; reset on success. The wait
    after a poll that answered is never shorter than that poll took."""

    interval: float
    ceiling: float = 120.0
    failures: int = 0
    took: float = 0.0  # seconds the last poll took

    def next_delay(self, failed: bool, took: float = 0.0) -> float:
        self.failures = self.failures + 1 if failed else 0
        self.took = took
        if not self.failures:
            # A server that answered slowly rests as long before the next poll. A failure
            # (a timeout too) backs off by its own rule instead, so a hang that clears is
            # read again as soon as that rule says.
            return float(max(self.interval, took))
        return float(
            min(max(self.ceiling, self.interval), self.interval * 2 ** (self.failures - 1))
        )

    @property
    def pace(self) -> float | None:
        """From one poll's start to the next, in whole seconds, when the last
        poll's length stretched it past the interval (and no failure did); else None."""
        if self.failures or self.took <= self.interval:
            return None
        return float(round(2 * self.took))


class PollLoop:
    """Calls `poll` (which returns True when the poll failed) in a loop, one at a time."""

    def __init__(
        self,
        poll: Callable[[], Awaitable[bool]],
        interval: float,
        *,
        on_crash: Callable[[BaseException], None] | None = None,
        name: str = "poll",
    ) -> None:
        self._poll = poll
        self.backoff = Backoff(interval)
        self.paused = False
        self.polls = 0
        self.name = name
        self._on_crash = on_crash
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._done = asyncio.Event()  # set after every poll, for `poll_now`

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def wake(self) -> None:
        """Poll now (and unpause)."""
        self.paused = False
        self._wake.set()

    def pause(self, paused: bool) -> None:
        self.paused = paused
        self._wake.set()

    async def poll_now(self) -> None:
        """Wake the loop and wait until that poll has ended."""
        self._done.clear()
        self.wake()
        await self._done.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            if self.paused:
                delay = 3600.0
            else:
                began = time.monotonic()
                try:
                    failed = await self._poll()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a bug must not stop polling for good
                    if self._on_crash is not None:
                        self._on_crash(exc)
                    failed = True
                self.polls += 1
                self._done.set()
                delay = self.backoff.next_delay(failed, time.monotonic() - began)
            self._wake.clear()
            # Not `asyncio.wait_for`: on Python 3.11 it returns the event's result instead of
            # raising when a cancel arrives as the event is set, and the loop polled on for
            # ever (`stop()` never returned; app exits hung under load). `asyncio.timeout`
            # tells its own timeout from a cancel.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()


Callback = Callable[[], object]


class Subscribers:
    """Who wants to hear that a store changed; each callback is called with no argument and
    reads the store (attributes down). Returns an unsubscribe function."""

    def __init__(self) -> None:
        self._callbacks: dict[int, Callback] = {}
        self._next = 0

    def add(self, callback: Callback) -> Callable[[], None]:
        key = self._next
        self._next += 1
        self._callbacks[key] = callback

        def remove() -> None:
            self._callbacks.pop(key, None)

        return remove

    def __len__(self) -> int:
        return len(self._callbacks)

    def publish(self) -> None:
        for callback in list(self._callbacks.values()):
            callback()
