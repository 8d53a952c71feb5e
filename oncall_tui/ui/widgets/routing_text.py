"""Where an alert goes, drawn as Text: the `w` view and the alert detail's "Routing" section.

Every name in here (receivers, matchers, label values, interval names) comes from the server's
configuration or the alert: each goes through `one_line` into a `rich.text.Text`, never markup.
Receivers are described by the kinds of their integrations only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from oncall_tui.domain.alert_facts import local_time, relative
from oncall_tui.domain.routing import IntervalState, Route, Where
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.ui.widgets.detail_sections import field
from oncall_tui.ui.widgets.slo_summary import Styler

LOADING = "loading…"


def matchers_text(route: Route) -> str:
    if not route.path:
        return "(root: every alert)"
    return one_line("{" + ", ".join(map(str, route.matchers)) + "}", 300)


def timers_text(route: Route) -> str:
    group_by = "all labels" if route.group_by == ("...",) else ", ".join(route.group_by) or "-"
    return (
        f"group_by {one_line(group_by, 200)} · wait {short_duration(route.group_wait)}"
        f" · interval {short_duration(route.group_interval)}"
        f" · repeat {short_duration(route.repeat_interval)}"
    )


def _interval(state: IntervalState, now: datetime) -> str:
    name = one_line(state.name, 60)
    if state.holds is None:
        return f"{name} (not defined in the configuration)"
    now_word = "holds now" if state.holds else "does not hold now"
    if state.changes_at is None:
        return f"{name} {now_word}; no change within 8 days"
    change = "ends" if state.holds else "starts"
    return (
        f"{name} {now_word}; {change} {relative(state.changes_at, now)}"
        f" ({local_time(state.changes_at)})"
    )


def routing_text(found: Where | str | None, style: Styler) -> Text:
    """None while loading; a str says why there is no answer."""
    muted = style("muted")
    if found is None:
        return Text(LOADING, style=muted)
    if isinstance(found, str):
        return Text(one_line(found), style=style("error"))
    now = datetime.now(UTC)
    text = Text()
    for landing in found.landings:
        route = landing.route
        field(text, style, "receiver", Text(one_line(route.receiver, 120), style=style("name")))
        field(text, style, "sends via", one_line(landing.receiver.describe(), 200))
        path = " › ".join(("root", *(str(i + 1) for i in route.path)))
        field(text, style, "route", f"{path}  {matchers_text(route)}")
        if route.continue_:
            field(text, style, "", "continue: true (later siblings are tried too)")
        field(text, style, "timers", timers_text(route))
        for state in landing.mute:
            field(text, style, "muted by", _interval(state, now))
        for state in landing.active:
            field(text, style, "active in", _interval(state, now))
        if landing.muted_now:
            field(text, style, "now", Text("MUTED: no notification goes out", style=style("error")))
        text.append("\n")
    if not found.inhibitions:
        field(text, style, "inhibit", "no inhibit rule targets this alert")
    for inhibition in found.inhibitions:
        rule = inhibition.rule
        field(text, style, "inhibit", f"rule {rule.index + 1}: {one_line(rule.describe(), 300)}")
        if inhibition.by:
            for source in inhibition.by[:5]:
                name = source.get("alertname", "?")
                field(
                    text,
                    style,
                    "",
                    Text(f"  inhibited NOW by {one_line(name, 80)}", style=style("error")),
                )
            if len(inhibition.by) > 5:
                field(text, style, "", f"  and {len(inhibition.by) - 5} more")
        else:
            field(text, style, "", Text("  no firing alert triggers it now", style=muted))
    if not found.silences:
        field(text, style, "silences", "none match")
    for silence in found.silences:
        ends = relative(silence.ends_at, now)
        field(
            text,
            style,
            "silence",
            f"{one_line(silence.id, 40)} {one_line(silence.state, 20)}, ends {ends}"
            f" · by {one_line(silence.created_by, 60)} · {one_line(silence.comment, 120)}",
        )
    text.rstrip()
    return text
