"""Pure work on the board's data, run off the app's event loop.

What follows the board (the new-alert watch, the window title's counts, the incident book's
fired and resolved alerts, the health store's alert names) reads every changed group after
each poll: at 50,000 alerts with 1% changed, 10-25 ms each that the keyboard waited for.
They run on the I/O thread (api/ioloop.py), one call after another in the order asked, and
the loop takes their results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from oncall_tui.api import ioloop

T = TypeVar("T")
P = ParamSpec("P")


async def off_loop(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` on the I/O thread; its result here."""
    return await ioloop.call(fn, *args, **kwargs)
