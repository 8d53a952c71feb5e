"""How a store's news reaches a view: a message that coalesces, and the subscription.

A store calls back after every poll; the view gets a `StoreChanged` in its queue. A burst
of polls (a slow view, a refresh storm) leaves one message: a newer one replaces an older
one of the same store still waiting, so the view draws the latest data once.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message
from textual.widget import Widget


class StoreChanged(Message):
    def __init__(self, store: object) -> None:
        super().__init__()
        self.store = store

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StoreChanged) and message.store is self.store


def follow(
    widget: Widget, store: object, subscribe: Callable[[Callable[[], object]], Callable[[], None]]
) -> Callable[[], None]:
    """Post `StoreChanged(store)` to `widget` after every update; call the result on unmount."""
    return subscribe(lambda: widget.post_message(StoreChanged(store)))
