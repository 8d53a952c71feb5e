"""The alert list: every alert of the context, polled in the background.

The poll loop is a worker owned by this screen: the next poll starts only when the last one
ended, failures back off, and the last good data stays on screen marked stale with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ...domain.board import Row, build_rows
from ...domain.merge import MergedGroup
from ...domain.sanitize import one_line
from ...domain.timefmt import short_duration
from ...factory import Clients
from ...poller import Backoff, ClusterHealth, Snapshot, poll

# (title, width); the label list goes last since it is the longest and least read.
COLUMNS = (
    ("SEVERITY", 9), ("ALERT", 26), ("STATE", 9), ("AGE", 6), ("CLUSTER", 10),
    ("SUMMARY", 40), ("LABELS", 60),
)


def safe(text: str, style: str = "", limit: int = 200) -> Text:
    """Untrusted text as a Rich Text: never parsed as markup, controls replaced."""
    return Text(one_line(text, limit), style=style, no_wrap=True, overflow="ellipsis")


class StatusBar(Static):
    """Context, cluster health and how fresh the data is."""


class AlertsScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+r", "refresh", "Refresh", id="alerts.refresh"),
        Binding("p", "pause", "Pause", id="alerts.pause"),
        Binding("q", "app.quit", "Quit", id="app.quit"),
    ]

    def __init__(self, clients: Clients) -> None:
        super().__init__()
        self.clients = clients
        self.groups: dict[str, list[MergedGroup] | None] = {}
        self.health: tuple[ClusterHealth, ...] = ()
        self.last_good: float | None = None
        self.last_error: str = ""
        self.paused = False
        self.rows: list[Row] = []
        self._wake = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        table: DataTable[Text] = DataTable(id="alerts", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#alerts", DataTable)
        for title, width in COLUMNS:
            table.add_column(title, key=title, width=width)
        self.update_status()
        self.set_interval(1.0, self.update_status)
        self.poll_loop()

    @work(exclusive=True, group="poll", exit_on_error=False)
    async def poll_loop(self) -> None:
        backoff = Backoff(self.clients.context.refresh)
        while True:
            if not self.paused:
                try:
                    snapshot = await poll(self.clients)
                except Exception as exc:  # a bug must not stop polling for good
                    self.last_error = f"internal error: {type(exc).__name__}: {exc}"
                    self.update_status()
                    delay = backoff.next_delay(failed=True)
                else:
                    self.apply(snapshot)
                    delay = backoff.next_delay(failed=not snapshot.ok)
            else:
                delay = 3600.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    def apply(self, snapshot: Snapshot) -> None:
        """Keep each cluster's last good groups; replace only what answered."""
        for name, groups in snapshot.groups.items():
            if groups is not None or name not in self.groups:
                self.groups[name] = groups
        self.health = snapshot.health
        if snapshot.ok:
            self.last_good = snapshot.taken_at
            self.last_error = ""
        else:
            self.last_error = "; ".join(snapshot.errors)
        pending = snapshot.pending if snapshot.pending is not None else ()
        self.rows = build_rows(self.groups, pending)
        self.fill_table()
        self.update_status()

    def fill_table(self) -> None:
        table = self.query_one("#alerts", DataTable)
        keep = None
        if table.row_count and table.cursor_row < len(table.rows):
            keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        now = datetime.now(UTC)
        for row in self.rows:
            age = short_duration((now - row.started).total_seconds()) if row.started else "-"
            table.add_row(
                safe(row.severity or "-", self.severity_style(row.severity)),
                safe(row.name, "bold"),
                safe(row.state, self.state_style(row.state)),
                Text(age),
                safe(row.cluster),
                safe(row.summary, limit=160),
                safe(" ".join(f"{k}={v}" for k, v in row.labels), limit=300),
                key=row.key,
            )
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep))

    def _var(self, name: str) -> str:
        return self.app.theme_variables.get(name, "")

    def severity_style(self, severity: str) -> str:
        name = severity.lower()
        if name in ("critical", "warning", "info"):
            return f"bold {self._var('severity-' + name)}"
        return ""

    def state_style(self, state: str) -> str:
        return self._var(f"state-{state}")

    def update_status(self) -> None:
        context = self.clients.context
        parts = [Text(f" {context.name} ", style="reverse bold")]
        for health in self.health:
            total = len(health.peers_up) + len(health.peers_down)
            style = "" if not health.peers_down else self._var("severity-warning")
            parts.append(Text(f"  {health.name} {len(health.peers_up)}/{total} peers up", style=style))
        if context.read_only:
            parts.append(Text("  read-only", style="bold"))
        for warning in self.clients.warnings:
            parts.append(Text(f"  ⚠ {warning}", style=self._var("severity-critical")))
        if self.clients.credential_error:
            parts.append(safe(f"  auth: {self.clients.credential_error}", self._var("stale")))
        parts.append(Text(f"  {len(self.rows)} alerts"))
        if self.last_good is None and not self.last_error:
            parts.append(Text("  loading…"))
        elif self.last_good is not None:
            stamp = datetime.fromtimestamp(self.last_good).strftime("%H:%M:%S")
            age = short_duration(time.time() - self.last_good)
            parts.append(Text(f"  updated {stamp} ({age} ago)"))
        if self.paused:
            parts.append(Text("  PAUSED", style="bold"))
        if self.last_error:
            parts.append(safe(f"  STALE: {self.last_error}", f"bold {self._var('stale')}", 300))
        self.query_one(StatusBar).update(Text.assemble(*parts))

    def action_refresh(self) -> None:
        self.paused = False
        self._wake.set()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self._wake.set()
        self.update_status()
