"""What reaches the user outside the app's window: desktop notifications and the title.

After every poll of the board's store: new alerts the config asks for raise one terminal
notification (a storm is summarised in one), and the window title shows what fires. The
bytes come from domain/terminal_notify.py, which cleans the untrusted text; this module
only writes them, through Textual's driver as Textual itself writes the bell and OSC 52,
so they are queued in order with the frames and never split one. A headless app (Pilot
tests) writes nothing; `sent` keeps the last sequences for the tests either way.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

from textual.app import App

from oncall_tui.config import Settings
from oncall_tui.domain.board import BoardAlert, BoardGroup
from oncall_tui.domain.new_alerts import (
    FiringTally,
    NewAlertWatch,
    notify_rule,
    summarise,
    title_text,
)
from oncall_tui.domain.terminal_notify import (
    POP_TITLE,
    PUSH_TITLE,
    choose_protocol,
    for_terminal,
    notification,
    set_title,
)
from oncall_tui.state.alert_store import AlertStore
from oncall_tui.state.background import off_loop
from oncall_tui.state.context import ContextState


class TerminalSignals:
    def __init__(
        self, app: App[Any], settings: Settings, env: Mapping[str, str] | None = None
    ) -> None:
        config = settings.notifications
        self.app = app
        self.env = dict(os.environ if env is None else env)
        self.protocol = choose_protocol(config.protocol, self.env)
        self.rule = notify_rule(config.severities, config.matchers)
        self.show_title = config.title
        self.sent: deque[str] = deque(maxlen=64)
        self.watch = NewAlertWatch(self.rule)
        self.context = ""
        self.skip: frozenset[str] = frozenset()
        self._ident = 0
        self._title = ""
        # The board and staleness the title was last counted from, and its counts: a quiet
        # poll keeps the same board, so 10,000 alerts are not counted again.
        self._counted: tuple[object, bool] | None = None
        self._counts = ""
        self._tally = FiringTally()
        self._unsubscribe: Callable[[], None] | None = None
        self._following: AlertStore | None = None
        self._due: AlertStore | None = None  # the store a look is queued for

    def follow(self, state: ContextState) -> None:
        """Watch this context's store; a context switched to starts a fresh watch."""
        self.stop()
        watchdog = state.context.watchdog_alert
        self.skip = frozenset({watchdog} if watchdog else ())
        self.watch = NewAlertWatch(self.rule, self.skip)
        self.context = state.context.name
        self._counted = None
        self._tally = FiringTally(self.skip)
        store = self._following = state.alerts
        polled = store.subscribers.add(lambda: self._queue(store))
        shown = store.on_shown.add(lambda: self._queue(store))

        def unsubscribe() -> None:
            polled()
            shown()

        self._unsubscribe = unsubscribe

    def _queue(self, store: AlertStore) -> None:
        """Look at the store in a turn of the loop of its own, not in the poll's: the new
        alerts and the counts take 10-20 ms at 10,000 alerts, that keys waited for on top of
        the store's own work. Not before the first board is drawn (the store says when):
        the first poll's counts and news wait for its alerts to be on screen."""
        if store.shown_once and self._due is not store:
            self._due = store
            self.app.call_later(self._look, store)

    async def _look(self, store: AlertStore) -> None:
        if self._due is store:
            self._due = None
        if store is self._following:
            await self._polled(store)

    def stop(self) -> None:
        self._following = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def close(self) -> None:
        """On exit: the user's own title back (or none), not our last counts."""
        self.stop()
        if self._title:
            self._write(POP_TITLE)
            self._title = ""

    async def _polled(self, store: AlertStore) -> None:
        snapshot = store.snapshot
        if snapshot is None:
            return
        answered = [name for name, groups in snapshot.groups.items() if groups is not None]
        groups, stale = store.board_groups, bool(store.last_error)
        count = self.show_title and store.last_good is not None
        last = self._counted
        recount = count and (last is None or last[0] is not groups or last[1] != stale)
        # Both read every changed group (10-25 ms each at 50,000 alerts): off the loop.
        new, tally = await off_loop(self._read, self.watch, self._tally, groups, answered, recount)
        if store is not self._following:
            return  # the context changed meanwhile
        if new and self.protocol != "off":
            message = summarise(new, self.context)
            self._ident += 1
            sequence = notification(
                self.protocol, message.title, message.body, ident=self._ident, urgent=message.urgent
            )
            self._write(for_terminal(sequence, self.env))
        if count:
            if tally is not None:
                self._counted = (groups, stale)
                self._counts = title_text(tally, self.context, stale=stale)
            title = self._counts
            if title != self._title:
                self._write(set_title(title) if self._title else PUSH_TITLE + set_title(title))
                self._title = title

    @staticmethod
    def _read(
        watch: NewAlertWatch,
        tally: FiringTally,
        groups: list[BoardGroup],
        answered: list[str],
        recount: bool,
    ) -> tuple[list[BoardAlert], Counter[str] | None]:
        return watch.observe(groups, answered), tally(groups) if recount else None

    def _write(self, sequence: str) -> None:
        self.sent.append(sequence)
        # Textual has no public way to write to the terminal; its own bell() and
        # copy_to_clipboard() write through the driver like this (textual is pinned <9).
        driver = self.app._driver
        if driver is not None and not self.app.is_headless:
            driver.write(sequence)
