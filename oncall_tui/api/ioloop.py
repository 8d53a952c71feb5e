"""A second event loop, in a daemon thread, for the reads that move megabytes.

A poll of five clusters of two peers at 50,000 alerts reads ten bodies of /alerts/groups,
8.3 MB each. Read on the app's event loop, every 256 KiB climbs through h11, httpcore, anyio
and asyncio, and the changed groups are decoded between the reads: 500-700 ms of the main
thread's CPU a poll, time in which a key waits. Run here, those reads and decodes cost the
main thread one wake-up per peer; it keeps the keyboard and the screen.

`run(coro)` runs a coroutine on this loop and waits for it from any other loop; cancelling
the waiter cancels the coroutine. `call(fn, ...)` runs plain work there (decoding, merging,
building the board's changed groups): one thread for all of it, because Python runs one
thread at a time and the app's loop waits its turn behind every busy one, 5 ms each. With
asyncio's default pool busy (six threads on 2 cores), 10 ms of the loop's work took 60.

A coroutine run here must own what it touches: an httpx client is bound to the loop its
connections were made on (Endpoint keeps one per loop).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")

SWITCH_INTERVAL = 0.001  # seconds
_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()
_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def io_loop() -> asyncio.AbstractEventLoop:
    """The loop, started with its thread at first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            # The app's loop gives up the GIL at every select, even one that does not wait,
            # and then waits up to the switch interval to get it back from this thread while
            # it decodes: at Python's 5 ms, a key's dozen trips through the loop waited 15-20
            # ms (median, 50,000 alerts polled every 2 s); at 1 ms, 12-15.
            sys.setswitchinterval(SWITCH_INTERVAL)
            threading.Thread(target=loop.run_forever, name="oncall-tui-io", daemon=True).start()
            _loop = loop
        return _loop


def on_io_loop() -> bool:
    """True in a coroutine running on the I/O loop."""
    try:
        return asyncio.get_running_loop() is _loop
    except RuntimeError:
        return False


async def run(coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro` run on the I/O loop (at once, if already there)."""
    if on_io_loop():
        return await coro
    # The result is handed over in a box, not as the futures' result: the future that wakes
    # this task is alive until the task's step ends, and an 8 MB answer with it, after
    # its caller let it go.
    box: list[T] = []
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_boxed(coro, box), io_loop()))
    return box.pop()


async def _boxed(coro: Coroutine[Any, Any, T], box: list[T]) -> None:
    box.append(await coro)


async def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` on the I/O thread (at once, if already there)."""
    if on_io_loop():
        return fn(*args, **kwargs)
    return await run(_calling(fn, *args, **kwargs))


async def _calling(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return fn(*args, **kwargs)


def lanes(name: str, width: int) -> asyncio.Semaphore:
    """The running loop's semaphore called `name`, letting `width` holders in at once."""
    by_name = _lanes.setdefault(asyncio.get_running_loop(), {})
    lane = by_name.get(name)
    if lane is None:
        lane = by_name[name] = asyncio.Semaphore(width)
    return lane
