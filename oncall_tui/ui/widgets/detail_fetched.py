"""The alert detail's sections fetched by the screen's workers: the silences, the alerting
rule, the SLO error budget and the alert's history from Prometheus's ALERTS.

Each takes what the worker left (None while loading, a str saying why there is nothing, or the
data) and a `Styler`, and returns a `rich.text.Text`. Untrusted strings go through
`one_line`/`clean_lines` into the Text, never markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from rich.text import Text

from oncall_tui.domain.acks import read_ack
from oncall_tui.domain.alert_facts import Rules, local_time, relative
from oncall_tui.domain.alert_history import History
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.sanitize import clean_lines, one_line
from oncall_tui.domain.slo import SLOReport
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.ui.widgets.detail_sections import NOT_IN_AM, field, is_pending
from oncall_tui.ui.widgets.slo_summary import Styler, brief, exhaustion, minutes, pct
from oncall_tui.wire.alertmanager import Silence

LOADING = "loading…"


def silences_text(
    alert: BoardAlert, silences: Mapping[str, Silence | str] | None, style: Styler
) -> Text:
    """The silences named by `silenced_by`; a str in `silences` is why one could not be read."""
    muted = style("muted")
    if is_pending(alert):
        return Text(NOT_IN_AM, style=muted)
    if not alert.silenced_by:
        return Text("not silenced", style=muted)
    if silences is None:
        return Text(LOADING, style=muted)
    now = datetime.now(UTC)
    text = Text()
    for silence_id in alert.silenced_by:
        found = silences.get(silence_id, "not fetched yet")
        if isinstance(found, str):
            field(text, style, "id", one_line(silence_id, 80))
            field(text, style, "error", Text(one_line(found), style=style("error")))
        else:
            field(text, style, "id", one_line(found.id, 80))
            field(text, style, "by", one_line(found.created_by, 200))
            comment = clean_lines(found.comment) or [""]
            field(text, style, "comment", comment[0])
            for line in comment[1:]:
                text.append(f"{'':<11}{line}\n")
            ack = read_ack(found)
            if ack is not None:  # annotations (0.32+) or the comment: the same words
                held = short_duration(ack.age(now).total_seconds())
                field(text, style, "ack", one_line(f"{ack.describe()} (held {held})", 400))
            ends = f"{relative(found.ends_at, now)}  ({local_time(found.ends_at)})"
            field(text, style, "ends", ends)
            field(text, style, "state", one_line(found.state, 40))
        text.append("\n")
    text.rstrip()
    return text


def rule_text(rules: Rules | str | None, style: Styler) -> Text:
    if rules is None:
        return Text(LOADING, style=style("muted"))
    if isinstance(rules, str):
        role = "muted" if rules in ("rule not found", "no Prometheus configured") else "error"
        return Text(one_line(rules), style=style(role))
    text = Text()
    for index, (group, rule) in enumerate(rules):
        if index:
            text.append("\n")
        field(text, style, "group", f"{one_line(group.name, 200)}  ({one_line(group.file, 400)})")
        field(text, style, "for", short_duration(rule.duration))
        health = Text(one_line(rule.health or "unknown", 40))
        if rule.health not in ("", "ok"):
            health.stylize(style("error"))
        field(text, style, "health", health)
        if rule.state:
            field(text, style, "state", one_line(rule.state, 40))
        if rule.last_error:
            field(text, style, "last error", Text(one_line(rule.last_error), style("error")))
        field(text, style, "expression")
        for line in clean_lines(rule.query):
            text.append(f"  {line}\n")
    text.rstrip()
    return text


def slo_text(slos: list[SLOReport] | str | None, style: Styler) -> Text:
    """One line per SLO whose labels the alert carries, and its budget."""
    muted = style("muted")
    if slos is None:
        return Text(LOADING, style=muted)
    if isinstance(slos, str):
        return Text(f"Prometheus: {one_line(slos)}", style=style("error"))
    if not slos:
        return Text("no SLO matches this alert's labels", style=muted)
    roles = {"page": "severity-critical", "ticket": "severity-warning", "ok": "name"}
    roles["nodata"] = "muted"
    text = Text()
    for report in slos:
        text.append_text(brief(report, lambda r: style(roles.get(r, r))))
        found = report.budget
        if found is not None:
            text.append(
                f"\n  budget {minutes(found.total_minutes)} · spent "
                f"{minutes(found.spent_minutes)} ({pct(found.spent_pct)}) · "
                f"{exhaustion(report.exhaustion_s)}"
            )
        text.append("\n")
    text.rstrip()
    return text


def history_text(history: list[History] | str | None, style: Styler) -> Text:
    """A timeline per window (oldest left, now right) and a one-line summary under it."""
    muted = style("muted")
    if history is None:
        return Text(LOADING, style=muted)
    if isinstance(history, str):
        return Text(one_line(history), style=style("error"))
    text = Text()
    for window in history:
        seconds = window.end - window.start
        span = f"{seconds / 3600:g}h" if seconds <= 86400 else short_duration(seconds)
        text.append(f"{span:<4}", style("key"))
        for cell in window.cells:
            text.append(cell, style("state-active") if cell != "·" else muted)
        text.append("\n    ")
        count = len(window.episodes)
        if not count and not window.firing_seconds:
            text.append(f"did not fire in the last {span}\n", muted)
            continue
        summary = f"{count} episode{'s' if count != 1 else ''}" if count else "fired"
        summary += f", firing {short_duration(window.firing_seconds)} in {span}"
        latest = window.episodes[-1] if window.episodes else None
        if latest is not None:
            began = datetime.fromtimestamp(latest.start, UTC)
            summary += f"; last began {local_time(began)}"
            summary += " (still active)" if latest.ongoing else ""
        text.append(summary + "\n", muted)
    text.append("█ firing  ▒ pending  · quiet; oldest left, now right", muted)
    return text
