"""The `:slo` view: one card per SLO (gauge, budget, burn rates, state, chart), least budget
left first. The poll loop is a worker owned by this screen: leaving the view stops it. When
Prometheus fails, the last good figures stay on screen, marked stale with the reason.
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

from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.slo import PAGE, TICKET
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.state.context import ContextState
from oncall_tui.state.slo import SLOReadings
from oncall_tui.ui.messages import StoreChanged, follow
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.slo_summary import card
from oncall_tui.ui.widgets.styles import component_style

ROLES = ("page", "ticket", "ok", "nodata", "muted", "name", "warn", "error", "bad", "good")


class SLOScreen(Screen[None]):
    CSS_PATH = "slo.tcss"
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="slo.back"),
        Binding("ctrl+r", "refresh", "Refresh", id="slo.refresh"),
    ]
    COMPONENT_CLASSES = {f"slo--{role}" for role in ROLES}

    def __init__(self, state: ContextState) -> None:
        super().__init__()
        self.state = state
        self.store = state.slo
        self._drawn = False
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def seen(self) -> SLOReadings:
        return self.store.seen

    def compose(self) -> ComposeResult:
        yield Static(id="slo-status")
        with VerticalScroll(id="slo-body"):
            yield Static(Text("loading…"), id="slo-empty")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#slo-body").focus()
        self.show()
        self._unsubscribe = follow(
            self, self.store, lambda call: self.store.subscribe(call, charts=True)
        )
        self._drawn = True

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_resize(self) -> None:
        if self._drawn:
            self.show()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._drawn:
            self.call_later(self.show)

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.store.refresh()

    @on(StoreChanged)
    def _store_changed(self, event: StoreChanged) -> None:
        event.stop()
        self.show()

    # -- drawing ---------------------------------------------------------------------------------

    def _style(self, role: str) -> Style:
        return component_style(self, f"slo--{role}")

    def status_text(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {one_line(self.state.context.name, 40)} ", self._style("name"))
        text.append(" SLOs")
        count = len(self.seen.reports)
        pages = sum(r.state == PAGE for r in self.seen.reports)
        tickets = sum(r.state == TICKET for r in self.seen.reports)
        text.append(f"  {count} SLO{'s' if count != 1 else ''}")
        if pages:
            text.append(f" · {pages} page", self._style("page"))
        if tickets:
            text.append(f" · {tickets} ticket", self._style("ticket"))
        if self.seen.last_error:
            if self.seen.last_good is None:
                text.append("  NO DATA", self._style("bad"))
            else:
                stamp = datetime.fromtimestamp(self.seen.last_good).strftime("%H:%M:%S")
                text.append(f"  STALE since {stamp}", self._style("bad"))
            text.append(f": {one_line(self.seen.last_error, 300)}", self._style("bad"))
        elif self.seen.last_good is not None:
            stamp = datetime.fromtimestamp(self.seen.last_good).strftime("%H:%M:%S")
            every = short_duration(self.store.refresh_s)
            text.append(f"  ● {stamp} (every {every})", self._style("good"))
        else:
            text.append("  loading…")
        if self.seen.note:
            text.append(f"  ⚠ {one_line(self.seen.note, 200)}", self._style("bad"))
        return text

    def show(self) -> None:
        self.query_one("#slo-status", Static).update(self.status_text())
        body = self.query_one("#slo-body", VerticalScroll)
        empty = self.query_one("#slo-empty", Static)
        cards = list(body.query(".slo-card").results(Static))
        if not self.seen.reports:
            empty.display = True
            if self.seen.last_good is not None:
                empty.update(
                    Text(
                        "No SLOs: add `slos:` to this context in the config, or record them "
                        "with Sloth or Pyrra rules in Prometheus.",
                        style=self._style("muted"),
                    )
                )
            elif self.seen.last_error:
                empty.update(Text(one_line(self.seen.last_error, 500), style=self._style("error")))
            return
        empty.display = False
        if len(cards) != len(self.seen.reports):
            for old in cards:
                old.remove()
            cards = [Static(classes="slo-card") for _ in self.seen.reports]
            body.mount_all(cards)
        width = max(30, body.size.width - 4 if body.size.width else self.size.width - 4)
        for widget, report in zip(cards, self.seen.reports, strict=True):
            widget.update(card(report, width, self._style))

    def card_texts(self) -> list[str]:
        """What each card says, as plain text (for tests and screen readers)."""
        return [card(r, 100, self._style).plain for r in self.seen.reports]
