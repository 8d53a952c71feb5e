"""The status line: context, cluster health, how many alerts, how fresh the data is.

While the data is fresh it says "live" and does not change, so an idle board writes nothing
to the terminal; once stale it shows the time of the last good refresh, its age and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from rich.style import Style
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from oncall_tui.config import Context
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.state.alerts import ClusterHealth
from oncall_tui.state.engines import BackendState
from oncall_tui.ui.widgets.styles import component_style
from oncall_tui.ui.widgets.text_lines import show_text


class StatusBar(Static):
    """One line at the top of the board; redrawn only when its text changes."""

    COMPONENT_CLASSES = {"status--context", "status--bad", "status--warn", "status--ok"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = Text()

    def show(self, text: Text) -> None:
        # A layout of the screen only when the line's height changes (text_lines): each
        # key typed in the filter rewrites the counts, and a layout was 10-27 ms of it at
        # 50,000 alerts, also when the line wraps (five clusters' health at 120 columns).
        # An unchanged line is not redrawn: show_text compares it with what is shown.
        self.text = text
        show_text(self, text)


def status_text(
    owner: Widget,
    *,
    context: Context,
    health: Sequence[ClusterHealth],
    last_good: float | None,
    last_error: str,
    paused: bool,
    warnings: Sequence[str],
    matched: int,
    total: int,
    filtered: bool,
    hidden: Sequence[str],
    filter_text: str = "",
    sort: str,
    now: float,
    backends: Sequence[BackendState] = (),
    owner_label: str = "",
    pace: float | None = None,
) -> Text:
    """The line; at 80 columns the backends are only counted (and the one down named) so
    that the alerts and the freshness stay in view."""
    bar = owner.query_one(StatusBar)

    def style(name: str) -> Style:
        return component_style(bar, name) if name else Style()

    def build(short: bool) -> tuple[Text, int]:
        core = 0  # how long the line is up to its freshness (what must stay in view)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {one_line(context.name, 40)} ", style("status--context"))
        for cluster in health:
            total_peers = len(cluster.peers_up) + len(cluster.peers_down)
            look = (
                "status--ok"
                if not cluster.peers_down
                else ("status--warn" if cluster.peers_up else "status--bad")
            )
            text.append(
                f"  {one_line(cluster.name, 30)} {len(cluster.peers_up)}/{total_peers} peers",
                style(look),
            )
        # Which engine answers queries: what it cannot tell is in the warnings below.
        for part, role in backends_phrase(backends, owner_label, short=short):
            text.append(part, style(role))
        if context.read_only:
            text.append("  read-only")
        shown = f"{matched}/{total}" if filtered or hidden else f"{total}"
        text.append(f"  {shown} alerts")
        if filtered and filter_text:
            text.append(f" /{one_line(filter_text, 40)}", style("status--warn"))
        if hidden:
            text.append(f" (hiding {', '.join(hidden)})")
        if sort != "severity":
            text.append(f"  sort: {sort}")
        if paused:
            text.append("  PAUSED", style("status--warn"))
        if last_good is None and not last_error:
            text.append("  loading…")
        elif last_error:
            if last_good is None:
                text.append("  NO DATA", style("status--bad"))
            else:
                stamp = datetime.fromtimestamp(last_good).strftime("%H:%M:%S")
                age = short_duration(now - last_good)
                text.append(f"  STALE since {stamp} ({age} ago)", style("status--bad"))
            core = text.cell_len
            reason = one_line(last_error, 300)
            if owner.size.width and text.cell_len + 2 + len(reason) > owner.size.width:
                # On a narrow terminal the reason gets a line of its own rather than being cut.
                text.append(":\n ", style("status--bad"))
                text.append(reason, style("status--bad"))
            else:
                text.append(f": {reason}", style("status--bad"))
        elif paused:
            stamp = datetime.fromtimestamp(last_good or now).strftime("%H:%M:%S")
            text.append(f" (as of {stamp})", style("status--warn"))
        # No clock while fresh: a ticking time would rewrite this line on every poll.
        elif pace is None:
            text.append(f"  ● live (every {context.refresh:g}s)", style("status--ok"))
        else:  # the servers answer slower than the refresh: each poll is followed by a rest
            text.append(f"  ● live (every {pace:g}s, slow)", style("status--warn"))
        core = core or text.cell_len
        for warning in warnings:
            text.append(f"  ⚠ {one_line(warning, 200)}", style("status--bad"))
        # Which peer is down while its cluster still answers (no error names it then); last, so
        # that on a narrow terminal the staleness and its reason are cut off after it, not before.
        for cluster in health:
            if cluster.peers_up and cluster.peers_down:
                down = ", ".join(
                    one_line(urlsplit(url).netloc, 40) for url, _ in cluster.peers_down
                )
                text.append(f"  {one_line(cluster.name, 30)} down: {down}", style("status--warn"))
        return text, core

    text, core = build(short=False)
    if len(backends) > 1 and owner.size.width and core > owner.size.width:
        text, _ = build(short=True)
    return text


def backends_phrase(
    backends: Sequence[BackendState], label: str, *, short: bool = False
) -> list[tuple[str, str]]:
    """Each query backend's engine, as (text, style role) parts: the only one by its engine
    name; several counted, their engines named (or, `short`, only counted), and each one the
    latest poll could not reach named as DOWN."""
    if len(backends) == 1:
        only = backends[0]
        if not only.engine:
            return []
        return [(f"  {one_line(only.engine, 50)}", "status--warn" if only.limited else "")]
    if not backends:
        return []
    limited = any(b.limited for b in backends)
    parts = [(f"  {len(backends)} backends", "status--warn" if limited else "")]
    engines = list(dict.fromkeys(one_line(b.engine, 40) for b in backends if b.engine))
    if engines and not short:
        parts.append((": " + ", ".join(engines), "status--warn" if limited else ""))
    down = [one_line(b.owner, 20) for b in backends if b.down]
    if down:
        named = ", ".join(down if short or not label else (f"{label}={d}" for d in down))
        parts.append((f" ({named} DOWN)", "status--bad"))
    return parts
