"""The base of every dialog: it closes once, and only while it is the screen on top.

Keys arrive in chunks over SSH and tmux, and a dialog's close (Enter's submit, a binding's
`dismiss`) runs from a message handled a moment after the key. Under load a command prompt
was seen to handle its submit a second time after it had closed: Textual's `dismiss` pops
whatever screen is on top, so the late close removed the *next* prompt the user had opened
(their typing then went to the board, where letters are commands), or, with only the board
left, crashed the app. A dialog now closes once: a second close, or a close of a dialog no
longer on the stack, is dropped; a dialog that closes with another screen over it (a save
finishing under the help screen) closes those above it first, never a stranger.
"""

from __future__ import annotations

import logging
from typing import TypeVar

from textual.await_complete import AwaitComplete
from textual.screen import ModalScreen

ResultT = TypeVar("ResultT")
log = logging.getLogger(__name__)


class Dialog(ModalScreen[ResultT]):
    _closing_once = False

    def dismiss(self, result: ResultT | None = None) -> AwaitComplete:
        if self._closing_once or self not in self.app.screen_stack:
            log.info("ignored a late close of %s", type(self).__name__)
            done: AwaitComplete = AwaitComplete.nothing()  # type: ignore[no-untyped-call]
            return done
        self._closing_once = True
        if not self.is_active:
            self.pop_until_active()
        return super().dismiss(result)
