"""Incidents, as the course runs them: a SEV suggested from what fired, a timeline of what
the app saw and did, the workflow step, a status update and a post-mortem draft.

Pure: the store in `state/incidents.py` keeps the files, the views draw. Every string that
came from a server (labels, annotations, comments) or the keyboard is cleaned of control
characters, and escaped when it goes into Markdown, so an export is safe to render.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from oncall_tui.domain.sanitize import clean_lines, one_line
from oncall_tui.domain.severity import rank

# The course's incident workflow, in order.
STEPS = ("detection", "triage", "investigation", "mitigation", "resolution", "post-mortem")
# Where a declared incident starts: someone on call has looked and judged its severity.
FIRST_STEP = "triage"


@dataclass(frozen=True, slots=True)
class Sev:
    level: int
    definition: str
    response: str
    example: str
    update_every_s: float  # how often a status update is due

    @property
    def name(self) -> str:
        return f"SEV-{self.level}"


# The course's severity table.
SEVS = {
    1: Sev(1, "Critical user impact", "Immediate", "API down, data loss", 30 * 60),
    2: Sev(2, "Significant degradation", "< 15 minutes", "High latency, errors", 60 * 60),
    3: Sev(3, "Minor impact", "< 1 hour", "Non-critical feature broken", 4 * 3600),
    4: Sev(4, "No user impact", "Next business day", "Monitoring gap, tech debt", 24 * 3600),
}

# Event kinds, as the timeline names them.
DECLARED, FIRED, RESOLVED, ACK, SILENCE, RUNBOOK, QUERY, NOTE, STEP = (
    "declared",
    "fired",
    "resolved",
    "ack",
    "silence",
    "runbook",
    "query",
    "note",
    "step",
)


class Event(msgspec.Struct, frozen=True, kw_only=True):
    at: float  # unix time
    kind: str
    text: str
    # The labels (or equality matchers) it is about; empty for a query typed at the prompt.
    labels: dict[str, str] = {}


class Incident(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    sev: int
    sev_reason: str
    declared_at: float
    commander: str
    labels: dict[str, str]  # what it was declared from: the alert's labels or the group's
    context: str = ""
    roles: dict[str, str] = {}
    step: str = FIRST_STEP
    timeline: tuple[Event, ...] = ()

    @property
    def open(self) -> bool:
        return STEPS.index(self.step) < STEPS.index("resolution")


# -- the SEV ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SLOBurn:
    """What the SLO store says of one SLO the alert carries the labels of."""

    name: str
    state: str  # page | ticket | ok | no data
    remaining_pct: float | None


def suggest_sev(severities: Iterable[str], burns: Sequence[SLOBurn] = ()) -> tuple[int, str]:
    """The course's table applied: a critical alert is user impact (SEV-1); a warning is
    minor impact (SEV-3) unless an SLO it belongs to burns at paging speed or has no budget
    left, which is significant degradation (SEV-2); info and anything else, SEV-4 (SEV-3
    when an SLO burns)."""
    worst = min((rank(s) for s in severities), default=4)
    paging = [b for b in burns if b.state == "page"]
    spent = [b for b in burns if b.remaining_pct is not None and b.remaining_pct <= 0]
    ticket = [b for b in burns if b.state == "ticket"]
    if worst == 0:
        level, why = 1, "critical alert: user impact"
    elif worst <= 2:
        level, why = 3, "warning: minor impact"
    else:
        level, why = 4, "no critical or warning alert"
    if paging or spent:
        names = ", ".join(b.name for b in [*paging, *spent])
        if level > 2:
            level, why = 2, f"{why}, but SLO {names} burns its budget fast or has none left"
        else:
            why += f"; SLO {names} burning"
    elif ticket and level > 3:
        level, why = 3, f"{why}, but SLO {', '.join(b.name for b in ticket)} burns slowly"
    elif ticket:
        why += f"; SLO {', '.join(b.name for b in ticket)} burning slowly"
    return level, why


def title_for(alertname: str, labels: Mapping[str, str], summary: str = "") -> str:
    where = labels.get("service") or labels.get("job") or labels.get("instance") or ""
    text = f"{alertname}" + (f" on {where}" if where else "") + (f": {summary}" if summary else "")
    return one_line(text, 120)


def incident_id(declared_at: float, title: str) -> str:
    """Sortable and a safe file name: 20240101-0315-churnapidown."""
    stamp = datetime.fromtimestamp(declared_at, UTC).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "incident"
    return f"{stamp}-{slug}"


def declare(
    *,
    title: str,
    sev: tuple[int, str],
    commander: str,
    labels: Mapping[str, str],
    at: float,
    context: str = "",
    seen: Iterable[Event] = (),
) -> Incident:
    """A new incident, its timeline seeded with what the app saw of these alerts before."""
    declared = Event(at=at, kind=DECLARED, text=f"declared {SEVS[sev[0]].name}: {title}")
    timeline = sorted([*(e for e in seen if e.at <= at), declared], key=lambda e: e.at)
    return Incident(
        id=incident_id(at, title),
        title=one_line(title, 120),
        sev=sev[0],
        sev_reason=sev[1],
        declared_at=at,
        commander=one_line(commander, 120),
        labels=dict(labels),
        context=context,
        roles={"incident commander": one_line(commander, 120)},
        timeline=tuple(timeline),
    )


def relates(event: Event, incident: Incident) -> bool:
    """An event is about the incident when its labels agree with the incident's on every
    label they share and they share the alert name; an event with no labels (a query at the
    prompt) is about every open incident."""
    if not event.labels:
        return True
    shared = set(event.labels) & set(incident.labels)
    if any(event.labels[k] != incident.labels[k] for k in shared):
        return False
    return "alertname" in shared or (bool(shared) and "alertname" not in incident.labels)


def add_event(incident: Incident, event: Event) -> Incident:
    if event in incident.timeline:
        return incident
    timeline = sorted([*incident.timeline, event], key=lambda e: e.at)
    return msgspec.structs.replace(incident, timeline=tuple(timeline))


def add_events(incident: Incident, events: Sequence[Event]) -> Incident:
    """`add_event` for each of `events` in turn, with one sort: the same timeline."""
    known = {_identity(e) for e in incident.timeline}
    timeline = list(incident.timeline)
    for event in events:
        key = _identity(event)
        if key not in known:
            known.add(key)
            timeline.append(event)
    if len(timeline) == len(incident.timeline):
        return incident
    timeline.sort(key=lambda e: e.at)
    return msgspec.structs.replace(incident, timeline=tuple(timeline))


def _identity(event: Event) -> tuple[float, str, str, frozenset[tuple[str, str]]]:
    return event.at, event.kind, event.text, frozenset(event.labels.items())


def add_note(incident: Incident, text: str, at: float, who: str = "") -> Incident:
    note = one_line(text, 2000) + (f" ({one_line(who, 80)})" if who else "")
    return add_event(incident, Event(at=at, kind=NOTE, text=note))


def advance(incident: Incident, at: float) -> Incident:
    """The next workflow step (the last one stays)."""
    index = STEPS.index(incident.step)
    if index + 1 >= len(STEPS):
        return incident
    step = STEPS[index + 1]
    moved = msgspec.structs.replace(incident, step=step)
    return add_event(moved, Event(at=at, kind=STEP, text=f"step: {step}"))


def set_sev(incident: Incident, level: int, at: float) -> Incident:
    """The commander's judgement over the suggestion (kept within SEV-1..SEV-4)."""
    level = min(max(level, 1), 4)
    if level == incident.sev:
        return incident
    moved = msgspec.structs.replace(
        incident, sev=level, sev_reason=f"set by hand (suggested: {incident.sev_reason})"
    )
    return add_event(moved, Event(at=at, kind=STEP, text=f"severity: {SEVS[level].name}"))


# -- rendering ----------------------------------------------------------------------------------

STATUS = {
    "detection": "INVESTIGATING",
    "triage": "INVESTIGATING",
    "investigation": "INVESTIGATING",
    "mitigation": "IDENTIFIED",
    "resolution": "MONITORING",
    "post-mortem": "RESOLVED",
}


def clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _impact(incident: Incident) -> str:
    who = incident.labels.get("service") or incident.labels.get("job") or "the service"
    return f"{incident.title} ({SEVS[incident.sev].definition.lower()} on {who})"


def status_update(incident: Incident, now: float, details: int = 5) -> str:
    """The course's communication template, filled from the incident. Plain text, cleaned."""
    sev = SEVS[incident.sev]
    recent = [e for e in incident.timeline if e.kind != STEP][-details:]
    lines = [
        f"Incident Update - {one_line(incident.title, 120)}",
        "",
        f"Status: {STATUS[incident.step]}",
        f"Severity: {sev.name} ({sev.definition}; respond {sev.response.lower()})",
        f"Impact: {one_line(_impact(incident), 200)}",
        f"Users Affected: {'Unknown' if incident.open else 'None now'}",
        "ETA: Unknown" if incident.open else "ETA: resolved",
        "",
        "Details:",
        *(f"- {clock(e.at)} {one_line(e.text, 300)}" for e in recent),
        "",
        f"Next Update: {clock(now + sev.update_every_s) if incident.open else 'none (resolved)'}",
    ]
    return "\n".join(lines)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~&])")


def md(text: str, limit: int = 2000) -> str:
    """Untrusted text as inert Markdown: one line, controls replaced, every character that
    Markdown or HTML would read escaped (no links, no tags, no emphasis, no table breaks)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", one_line(text, limit))
    # No tag survives: `<` and `>` as entities (a `&` of the text's own is escaped above).
    return escaped.replace("<", "&lt;").replace(">", "&gt;")


def markdown(incident: Incident, now: float) -> str:
    """The post-mortem draft: header, impact, timeline with times, notes, the status update
    and the course's post-incident checklist."""
    sev = SEVS[incident.sev]
    out = [
        f"# Post-mortem: {md(incident.title)}",
        "",
        f"- **Severity**: {sev.name}: {sev.definition} (response: {sev.response})",
        f"- **Why this SEV**: {md(incident.sev_reason)}",
        f"- **Declared**: {clock(incident.declared_at)}",
        f"- **Step**: {md(incident.step)}",
        *(f"- **{md(role).capitalize()}**: {md(who)}" for role, who in incident.roles.items()),
    ]
    if incident.context:
        out.append(f"- **Context**: {md(incident.context)}")
    out += ["", "## Alert", ""]
    out += [f"- `{md(k, 200)}` = {md(v, 500)}" for k, v in sorted(incident.labels.items())]
    out += ["", "## Timeline (UTC)", "", "| Time | What | Detail |", "|---|---|---|"]
    out += [f"| {clock(e.at)} | {md(e.kind)} | {md(e.text)} |" for e in incident.timeline]
    notes = [e for e in incident.timeline if e.kind == NOTE]
    if notes:
        out += ["", "## Notes", ""]
        out += [f"- {clock(e.at)}: {md(e.text)}" for e in notes]
    out += ["", "## Last status update", "", "```text"]
    # Inside a fence nothing is read as Markdown; only a fence of its own could end it.
    out += [line.replace("```", "'''") for line in clean_lines(status_update(incident, now), 60)]
    out += ["```", "", "## Root cause", "", "_To be written._", "", "## Post-Incident", ""]
    out += [
        "- [ ] Write post-mortem",
        "- [ ] Identify root cause",
        "- [ ] Create action items (tickets)",
        "- [ ] Update runbook if needed",
        "- [ ] Review and improve monitoring",
        "",
    ]
    return "\n".join(out)


def encode(incident: Incident) -> bytes:
    return msgspec.json.encode(incident)


def decode(data: bytes) -> Incident:
    found = msgspec.json.decode(data, type=Incident)
    if found.step not in STEPS or found.sev not in SEVS:
        raise msgspec.ValidationError(f"unknown step {found.step!r} or SEV {found.sev!r}")
    return found
