"""`:health`: the alerting pipeline, per cluster and backend, each check with a plain verdict.

Draws the context's HealthStore (state/health.py) on every poll; never polls itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from oncall_tui.domain import pipeline as p
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.context import ContextState
from oncall_tui.ui.messages import StoreChanged, follow
from oncall_tui.ui.screens.where import ROLES
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.styles import component_style

MARKS = {p.OK: ("✓", "ok"), p.WARN: ("!", "warn"), p.BAD: ("✗", "error"), p.UNKNOWN: ("?", "muted")}


class HealthScreen(Screen[None]):
    CSS_PATH = "routing.tcss"
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="health.back"),
        Binding("ctrl+r", "refresh", "Refresh", id="health.refresh"),
    ]
    COMPONENT_CLASSES = {f"routing--{role}" for role in ROLES}

    def __init__(self, state: ContextState) -> None:
        super().__init__()
        self.state = state
        self.store = state.health
        self._unsubscribe: Callable[[], None] | None = None
        # Held, not queried: popped in the tick it was pushed, the screen's children are gone
        # before on_mount runs (a query raised NoMatches), and a late redraw finds none either.
        self._title = Static(id="health-title", classes="routing-title")
        self._body = Static(Text("checking…"), id="health-body")
        self._scroll = VerticalScroll(self._body, classes="routing-body")
        self._gone = False

    def compose(self) -> ComposeResult:
        yield self._title
        yield self._scroll
        yield KeysFooter()

    def on_mount(self) -> None:
        if self._gone:  # unmounted already: following the store would outlive the screen
            return
        self._scroll.focus()
        self._unsubscribe = follow(self, self.store, self.store.subscribe)
        self.show()

    def on_unmount(self) -> None:
        self._gone = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @on(StoreChanged)
    def _changed(self, event: StoreChanged) -> None:
        event.stop()
        self.show()

    def _style(self, name: str) -> Style:
        return component_style(self, f"routing--{name}")

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self.call_later(self.show)

    def show(self) -> None:
        store = self.store
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append("alerting pipeline", style="bold")
        if store.last_good is not None:
            stamp = datetime.fromtimestamp(store.last_good).strftime("%H:%M:%S")
            title.append(f"  checked {stamp}, every {store.loop.backoff.interval:g}s")
        headline = store.headline
        if headline:
            title.append("  PAGING MAY BE FAILING", style=self._style("error"))
        elif store.verdicts:
            title.append("  paging looks healthy", style=self._style("ok"))
        self._title.update(title)
        body = Text()
        backend = None
        for verdict in store.verdicts:
            if verdict.backend != backend:
                backend = verdict.backend
                if body:
                    body.append("\n")
                body.append(one_line(backend, 80) + "\n", style=self._style("name"))
            mark, role = MARKS.get(verdict.level, ("?", "muted"))
            body.append(f"  {mark} ", style=self._style(role))
            body.append(f"{one_line(verdict.check, 40):<28}", style=self._style("key"))
            body.append(
                one_line(verdict.words, 400) + "\n",
                style=self._style(role) if role == "error" else Style(),
            )
        if not store.verdicts:
            body.append("checking…")
        body.rstrip()
        self._body.update(body)

    def action_refresh(self) -> None:
        self.store.loop.wake()

    def action_back(self) -> None:
        self.dismiss()
