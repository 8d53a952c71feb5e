"""Texts for `:oncall` and the detail's escalation section, drawn from a domain `Book`.

Names of schedules, policies and people come from the config (trusted), but an alert's label
values do not: everything is appended to a `rich.text.Text` as plain text, never markup, and
label values go through `one_line` first. Times are shown in the terminal's local time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

from rich.style import Style
from rich.text import Text

from oncall_tui.domain import oncall as d
from oncall_tui.domain.sanitize import one_line

Styler = Callable[[str], Style]
# Alert states in which nothing is paged, so nothing escalates.
STOPPED = {
    "resolved": "resolved: the chain stopped",
    "pending": "pending: paging starts when it fires",
    "silenced": "silenced: no page is sent, so nothing escalates",
    "inhibited": "inhibited: no page is sent, so nothing escalates",
    "muted": "muted by a time interval: no page is sent now",
}
NOT_CONFIGURED = "no on-call schedules or escalation policies: see `oncall:` in config.example.yaml"


def clock(instant: datetime, now: datetime) -> str:
    """03:15 today, `Tue 03:15` within a week, `Tue 12 Mar 03:15` further away."""
    local, today = instant.astimezone(), now.astimezone()
    days = abs((local.date() - today.date()).days)
    if days == 0:
        return local.strftime("%H:%M")
    return local.strftime("%a %H:%M" if days < 7 else "%a %d %b %H:%M")


def who(step: d.Step) -> str:
    """`Ops Primary: frank` for a schedule, the user alone for a user target."""
    return ", ".join(
        n.target.id if n.target.kind == "user" else f"{n.target.id}: {n.person or 'nobody on call'}"
        for n in step.notified
    )


def oncall_text(book: d.Book, now: datetime, style: Styler) -> Text:
    """Every schedule: who is on call now and next; every policy: its steps."""
    out = Text()
    if book.empty:
        out.append(NOT_CONFIGURED, style=style("muted"))
        return out
    if book.schedules:
        out.append("Schedules\n", style=style("name"))
    for schedule in book.schedules:
        shift = d.on_call(schedule, now)
        out.append(f"  {schedule.name}", style=style("name"))
        out.append(f"  ({schedule.time_zone.key})\n", style=style("key"))
        out.append("    now   ", style=style("key"))
        out.append(shift.user or "nobody", style=Style() if shift.user else style("error"))
        if shift.until is not None:
            out.append(f"  until {clock(shift.until, now)}", style=style("muted"))
        out.append("\n")
        if shift.until is not None:
            out.append("    next  ", style=style("key"))
            out.append(shift.next_user or "nobody")
            out.append(f"  from {clock(shift.until, now)}\n", style=style("muted"))
    if book.policies:
        out.append("\n" if book.schedules else "")
        out.append("Escalation policies\n", style=style("name"))
    for policy in book.policies:
        teams = [team for team, name in book.teams if name == policy.name]
        out.append(f"  {policy.name}", style=style("name"))
        label = ", ".join(f"{book.team_label}={t}" for t in teams)
        if policy.name == book.default_policy:
            label = ", ".join(filter(None, [label, "default"]))
        if label:
            out.append(f"  ({label})", style=style("key"))
        out.append("\n")
        for step in d.chain(replace(policy, num_loops=0), book.schedules, now):
            minutes = int((step.at - now).total_seconds() // 60)
            out.append(f"    {f'+{minutes} min':>8}  ", style=style("key"))
            out.append(f"{who(step)}\n")
        if policy.num_loops:
            out.append(
                f"    {'':>8}  then repeats {times(policy.num_loops)}\n", style=style("muted")
            )
    out.rstrip()
    return out


def escalation_text(
    book: d.Book,
    labels: Mapping[str, str],
    started: datetime,
    now: datetime,
    style: Styler,
    *,
    acked_by: str | None = None,
    state: str = "active",
) -> Text:
    """The alert's escalation chain with clock times, and where it stands now."""
    out = Text()
    if not book.policies:
        out.append(NOT_CONFIGURED, style=style("muted"))
        return out
    policy = book.policy_for(labels)
    team = labels.get(book.team_label)
    if policy is None:
        where = f"{book.team_label}={one_line(team, 80)}" if team else f"no {book.team_label} label"
        out.append(f"no escalation policy for {where} (oncall.teams)", style=style("muted"))
        return out
    out.append(policy.name, style=style("name"))
    out.append(
        f"  ({book.team_label}={one_line(team, 80)})" if team else "  (default policy)",
        style=style("key"),
    )
    out.append("\n")
    steps = d.chain(policy, book.schedules, started)
    ahead = d.next_step(steps, now)
    stopped = STOPPED.get(state)
    if acked_by is not None:
        stopped = f"acked by {one_line(acked_by, 80)}: the chain stopped"
    if stopped is not None:
        out.append(stopped + "\n", style=style("key"))
    elif ahead is not None:
        out.append(f"escalates to {ahead.names} ({ahead.people}) at {clock(ahead.at, now)}")
        if policy.num_loops:
            out.append(f" (loop {ahead.loop + 1} of {policy.num_loops + 1})")
        out.append(" unless acked\n", style=style("key"))
    else:
        out.append("every step has been paged\n", style=style("error"))
    # One pass of the rules is shown: the one running now (the first once stopped).
    last = policy.num_loops
    shown = 0 if stopped is not None else (ahead.loop if ahead is not None else last)
    if shown:
        out.append(f"  {'…':>5}  ", style=style("key"))
        out.append(
            f"{times(shown, 'loop')} paged from {clock(steps[0].at, now)}\n", style=style("muted")
        )
    for step in steps:
        if step.loop != shown:
            continue
        # Past steps of a live chain were paged; once acked, when is not known, so say nothing.
        paged = stopped is None and step.at <= now
        out.append(f"  {clock(step.at, now):>5}  ", style=style("key"))
        out.append(who(step), style=Style() if paged else style("muted"))
        out.append("  paged\n" if paged else "\n", style=style("muted"))
    if shown < last and steps:
        out.append(f"  {'…':>5}  ", style=style("key"))
        out.append(
            f"repeats {more(last - shown)} until {clock(steps[-1].at, now)}\n",
            style=style("muted"),
        )
    out.rstrip()
    return out


def times(count: int, noun: str = "time") -> str:
    """`once`, `2 times`; `1 loop`, `2 loops`."""
    if noun == "time" and count == 1:
        return "once"
    return f"{count} {noun}{'' if count == 1 else 's'}"


def more(count: int) -> str:
    """`once more`, `2 more times`."""
    return "once more" if count == 1 else f"{count} more times"
