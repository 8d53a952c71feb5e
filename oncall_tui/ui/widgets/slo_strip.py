"""A one-line strip on the board: the SLOs in trouble (paging, ticketing, budget gone).

It draws the context's SLO store (one poll for the strip, `:slo` and the detail), on its own
slower timer, so a slow Prometheus never holds up the board; when Prometheus fails the last
figures stay, marked stale. Hidden when the context has no Prometheus or no SLO.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual import on
from textual.widgets import Static

from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.slo import NO_DATA
from oncall_tui.state.slo import SLOReadings, SLOStore
from oncall_tui.ui.messages import StoreChanged, follow
from oncall_tui.ui.widgets.slo_summary import brief, short_name
from oncall_tui.ui.widgets.styles import component_style

ROLES = ("page", "ticket", "ok", "nodata", "muted", "error", "bad", "label")


class SLOStrip(Static):
    DEFAULT_CSS = """
    SLOStrip { height: 1; background: $panel; }
    SLOStrip > .slo-strip--label { color: $text-muted; text-style: bold; }
    SLOStrip > .slo-strip--page { color: $error; }
    SLOStrip > .slo-strip--ticket { color: $warning; }
    SLOStrip > .slo-strip--ok { color: $success; }
    SLOStrip > .slo-strip--nodata { color: $text-muted; }
    SLOStrip > .slo-strip--muted { color: $text-muted; }
    SLOStrip > .slo-strip--error { color: $error; }
    SLOStrip > .slo-strip--bad { color: $stale; text-style: bold; }
    """
    COMPONENT_CLASSES = {f"slo-strip--{role}" for role in ROLES}

    def __init__(self, store: SLOStore, *, id: str | None = None):
        super().__init__(id=id)
        self.store = store
        self.text = Text()
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def seen(self) -> SLOReadings:
        return self.store.seen

    def on_mount(self) -> None:
        self.display = False
        if self.store.available:
            self.show()
            self._unsubscribe = follow(self, self.store, self.store.subscribe)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_resize(self) -> None:
        self.show()

    @on(StoreChanged)
    def _store_changed(self, event: StoreChanged) -> None:
        event.stop()
        self.show()

    def _style(self, role: str) -> Style:
        return component_style(self, f"slo-strip--{role}")

    def line(self, compact: int) -> Text:
        """The strip at a level of detail: 0 full, 1 and 2 shorter (narrow terminals)."""
        seen = self.seen
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" SLO ", self._style("label"))
        # Staleness first: on a narrow terminal the end of the line is what gets cut.
        if seen.last_error:
            if seen.last_good is None:
                text.append(" NO DATA", self._style("bad"))
            else:
                stamp = datetime.fromtimestamp(seen.last_good).strftime("%H:%M:%S")
                text.append(f" STALE since {stamp}", self._style("bad"))
        reports = seen.reports
        if not reports:
            names = ", ".join(one_line(s.name, 30) for s in self.store.configured)
            text.append(f" {names}: {'no data' if seen.last_error else 'loading…'}")
        trouble = [r for r in reports if r.in_trouble]
        missing = [r for r in reports if r.state == NO_DATA and not r.in_trouble]
        fine = len(reports) - len(trouble) - len(missing)
        for report in trouble:
            text.append("  ")
            text.append_text(brief(report, self._style_for, compact))
        if fine and (not trouble or not compact):
            text.append(f"  ✓ {fine} within budget", self._style("ok"))
        for report in missing:
            name = short_name(report.spec)
            text.append(f"  {name}: no data", self._style("nodata"))
            if report.errors and not compact:
                text.append(f" ({one_line(report.errors[0], 60)})", self._style("nodata"))
        if seen.last_error:
            text.append(f"  · {one_line(seen.last_error, 120)}", self._style("bad"))
        return text

    def show(self) -> None:
        self.display = bool(self.seen.reports) or bool(self.store.configured)
        width = self.size.width or 80
        for compact in (0, 1, 2):
            text = self.line(compact)
            if text.cell_len <= width:
                break
        if text != self.text:
            self.text = text
            self.update(text)

    def _style_for(self, role: str) -> Style:
        return self._style(role if role in ROLES else "muted")
