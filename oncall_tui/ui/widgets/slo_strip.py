"""A one-line strip on the board: the SLOs in trouble (paging, ticketing, budget gone).

It polls on its own, slower timer in a worker of its own, so a slow Prometheus never holds up
the board; when Prometheus fails the last figures stay, marked stale. Hidden when the context
has no Prometheus or no SLO.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual import work
from textual.widgets import Static

from ...domain.sanitize import one_line
from ...factory import Clients
from ...poller import Backoff
from ...slo_poller import SLO_REFRESH, SLOPoller, SLOReadings, SLOSnapshot, poll_safely
from .slo_summary import brief
from .styles import component_style

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

    def __init__(self, clients: Clients, *, refresh: float | None = None, id: str | None = None):
        super().__init__(id=id)
        self.clients = clients
        self.refresh_s = refresh or max(SLO_REFRESH, clients.context.refresh)
        self.seen = SLOReadings()
        self.text = Text()

    def on_mount(self) -> None:
        self.display = False
        if self.clients.prometheus is not None:
            self.poll_loop()

    @work(exclusive=True, group="slo-strip", exit_on_error=False)
    async def poll_loop(self) -> None:
        poller = SLOPoller(self.clients)
        backoff = Backoff(self.refresh_s)
        while True:
            snapshot = await poll_safely(poller)
            self.apply(snapshot)
            with contextlib.suppress(TimeoutError):
                delay = backoff.next_delay(failed=not snapshot.ok)
                await asyncio.wait_for(asyncio.Event().wait(), timeout=delay)

    def apply(self, snapshot: SLOSnapshot) -> None:
        self.seen.take(snapshot)
        self.show()

    def _style(self, role: str) -> Style:
        return component_style(self, f"slo-strip--{role}")

    def show(self) -> None:
        self.display = bool(self.seen.reports)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" SLO ", self._style("label"))
        trouble = [r for r in self.seen.reports if r.in_trouble]
        if not trouble:
            text.append(f" ✓ {len(self.seen.reports)} within budget", self._style("ok"))
        for report in trouble:
            text.append("  ")
            text.append_text(brief(report, self._style_for))
        if self.seen.last_error and self.seen.last_good is not None:
            stamp = datetime.fromtimestamp(self.seen.last_good).strftime("%H:%M:%S")
            text.append(f"  STALE since {stamp}: {one_line(self.seen.last_error, 120)}", self._style("bad"))
        if text != self.text:
            self.text = text
            self.update(text)

    def _style_for(self, role: str) -> Style:
        return self._style(role if role in ROLES else "muted")
