"""The shift handoff: what happened in the window and what the next person inherits.

Pure assembly and rendering over what the servers said (gathered in `state/handoff.py`):
alert episodes from Prometheus's `ALERTS` / `ALERTS_FOR_STATE` range queries (the episode
logic of `alert_history.py`), what Alertmanager still holds, acks (silences whose comment
says so), silences created, expired and ending during the next shift, SLOs, the noisiest
alerts and open incidents. Alertmanager keeps no creation time for a silence: "created in
the window" means its `startsAt` falls in it (an edit keeps the start, so this holds).

Labels, comments and titles are untrusted: Markdown goes through `incidents.md`, which
escapes everything Markdown or HTML would read.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from oncall_tui.domain.alert_history import Points, build_history
from oncall_tui.domain.incidents import SEVS, Incident, clock, md
from oncall_tui.domain.merge import MergedAlert
from oncall_tui.domain.script_output import MergedSilence, alert_record, rfc3339, silence_record
from oncall_tui.domain.silence_plan import acked_by
from oncall_tui.domain.slo import OK, SLOReport

# Labels that are the series' and not the alert's (as in alert_history).
_NOT_IDENTITY = frozenset({"__name__", "alertstate", "__tenant_id__"})
NOISIEST = 5


@dataclass(frozen=True, slots=True)
class AlertEpisode:
    alertname: str
    labels: Mapping[str, str]
    start: float  # when it became active (pending, then firing)
    last_seen: float
    ongoing: bool


@dataclass(frozen=True, slots=True)
class Handoff:
    context: str
    since: float
    now: float
    next_until: float  # the end of the next shift
    episodes: tuple[AlertEpisode, ...] = ()
    firing: tuple[MergedAlert, ...] = ()
    silences: tuple[MergedSilence, ...] = ()  # those that touch the window or are in force
    slos: tuple[SLOReport, ...] = ()
    incidents: tuple[Incident, ...] = ()
    problems: tuple[str, ...] = ()  # what could not be read: the handoff is partial


def _identity(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k not in _NOT_IDENTITY))


def episodes_from(
    alerts: Sequence[tuple[Mapping[str, str], Points]],
    for_state: Sequence[tuple[Mapping[str, str], Points]],
    *,
    start: float,
    end: float,
    step: float,
) -> list[AlertEpisode]:
    """Every episode that fired in [start, end]: one per distinct `ALERTS_FOR_STATE` value
    of each alert (a pending alert that never fired is not an episode). An alert with
    `ALERTS` but no `ALERTS_FOR_STATE` (a backend that does not write it) is split into
    episodes where its firing samples stop for more than two steps."""
    firing: dict[tuple[tuple[str, str], ...], list[float]] = {}
    for labels, points in alerts:
        if labels.get("alertstate") != "firing":
            continue
        times = firing.setdefault(_identity(labels), [])
        times += [t for t, v in points if not math.isnan(v) and start <= t <= end]
    by_alert: dict[tuple[tuple[str, str], ...], list[tuple[Mapping[str, str], Points]]] = {}
    for labels, points in for_state:
        by_alert.setdefault(_identity(labels), []).append((labels, points))
    found: list[AlertEpisode] = []
    for ident, times in firing.items():
        times.sort()
        labels = dict(ident)
        name = labels.get("alertname", "")
        if ident in by_alert:
            history = build_history(
                [], by_alert[ident], labels, start=start, end=end, step=step, cells=1
            )
            for e in history.episodes:
                if any(e.start - step <= t <= e.last_seen + step for t in times):
                    found.append(AlertEpisode(name, labels, e.start, e.last_seen, e.ongoing))
            continue
        run_start = prev = None
        for t in times:
            if run_start is None or prev is None or t - prev > 2 * step:
                if run_start is not None and prev is not None:
                    found.append(AlertEpisode(name, labels, run_start, prev, False))
                run_start = t
            prev = t
        if run_start is not None and prev is not None:
            found.append(AlertEpisode(name, labels, run_start, prev, end - prev <= 2 * step))
    found.sort(key=lambda e: (e.start, e.alertname, _identity(e.labels)))
    return found


def _at(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def assemble(
    *,
    context: str,
    since: float,
    now: float,
    next_shift_s: float,
    episodes: Iterable[AlertEpisode] = (),
    firing: Iterable[MergedAlert] = (),
    silences: Iterable[MergedSilence] = (),
    slos: Iterable[SLOReport] = (),
    incidents: Iterable[Incident] = (),
    problems: Iterable[str] = (),
) -> Handoff:
    """Keep what concerns the shift: silences that ended before the window are history,
    closed incidents are the post-mortem's business."""
    kept = [s for s in silences if _at(s.silence.ends_at) >= since]
    kept.sort(key=lambda s: (_at(s.silence.starts_at), s.cluster, s.silence.id))
    return Handoff(
        context=context,
        since=since,
        now=now,
        next_until=now + next_shift_s,
        episodes=tuple(episodes),
        firing=tuple(sorted(firing, key=lambda a: (a.alert.name, a.cluster, a.fingerprint))),
        silences=tuple(kept),
        slos=tuple(slos),
        incidents=tuple(
            i
            for i in incidents
            if i.open and (not i.context or not context or i.context == context)
        ),
        problems=tuple(problems),
    )


# -- the sections -------------------------------------------------------------------------------


def resolved(h: Handoff) -> list[AlertEpisode]:
    return [e for e in h.episodes if not e.ongoing]


def acks(h: Handoff) -> list[MergedSilence]:
    return [s for s in h.silences if acked_by(s.silence) is not None]


def created(h: Handoff) -> list[MergedSilence]:
    return [s for s in h.silences if h.since <= _at(s.silence.starts_at) <= h.now]


def expired(h: Handoff) -> list[MergedSilence]:
    return [
        s
        for s in h.silences
        if s.silence.state == "expired" and h.since <= _at(s.silence.ends_at) <= h.now
    ]


def ending(h: Handoff) -> list[MergedSilence]:
    """In force now and ending before the next shift does."""
    return [
        s
        for s in h.silences
        if s.silence.state == "active" and _at(s.silence.ends_at) <= h.next_until
    ]


def noisiest(h: Handoff, limit: int = NOISIEST) -> list[tuple[str, int]]:
    counts = Counter(e.alertname for e in h.episodes)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]


def burning(h: Handoff) -> list[SLOReport]:
    return [r for r in h.slos if r.in_trouble]


def silence_kinds(h: Handoff, s: MergedSilence) -> list[str]:
    kinds = []
    for kind, members in (
        ("ack", acks(h)),
        ("created", created(h)),
        ("expired", expired(h)),
        ("endsNextShift", ending(h)),
    ):
        if any(m.silence.id == s.silence.id and m.cluster == s.cluster for m in members):
            kinds.append(kind)
    return kinds


# -- JSON ---------------------------------------------------------------------------------------


def _ts(at: float) -> str | None:
    return rfc3339(datetime.fromtimestamp(at, UTC))


def _num(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 6)


def record(h: Handoff) -> dict[str, Any]:
    """Everything, as plain data: each silence and alert in the shape `oncall-tui silences`
    and `oncall-tui alerts` print, so a script reads them alike."""
    return {
        "context": h.context,
        "since": _ts(h.since),
        "until": _ts(h.now),
        "nextShiftUntil": _ts(h.next_until),
        "episodes": [
            {
                "alertname": e.alertname,
                "labels": dict(sorted(e.labels.items())),
                "activeAt": _ts(e.start),
                "lastSeen": _ts(e.last_seen),
                "ongoing": e.ongoing,
            }
            for e in h.episodes
        ],
        "firing": [alert_record(a) for a in h.firing],
        "acks": [
            {
                "cluster": s.cluster,
                "silenceId": s.silence.id,
                "by": acked_by(s.silence),
                "at": rfc3339(s.silence.starts_at),
                "endsAt": rfc3339(s.silence.ends_at),
                "state": s.silence.state,
            }
            for s in acks(h)
        ],
        "silences": [{**silence_record(s), "handoff": silence_kinds(h, s)} for s in h.silences],
        "slos": [
            {
                "service": r.spec.service,
                "name": r.spec.name,
                "state": r.state,
                "budgetRemainingPct": _num(r.remaining_pct),
                "burnRates": {w: _num(v) for w, v in r.burns.items()},
            }
            for r in h.slos
        ],
        "noisiest": [{"alertname": n, "episodes": c} for n, c in noisiest(h)],
        "incidents": [
            {
                "id": i.id,
                "title": i.title,
                "sev": SEVS[i.sev].name,
                "step": i.step,
                "declaredAt": _ts(i.declared_at),
                "commander": i.commander,
            }
            for i in h.incidents
        ],
        "problems": list(h.problems),
    }


# -- Markdown -----------------------------------------------------------------------------------


def _labels(labels: Mapping[str, str], skip: Iterable[str] = ("alertname",)) -> str:
    shown = [(k, v) for k, v in sorted(labels.items()) if k not in set(skip)]
    return ", ".join(f"{md(k, 100)}={md(v, 200)}" for k, v in shown) or "-"


def _matchers(s: MergedSilence) -> str:
    return md(", ".join(str(m) for m in s.silence.matchers), 400)


def _duration(seconds: float) -> str:
    minutes = max(0, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def _pct(value: float | None) -> str:
    return "no data" if value is None or not math.isfinite(value) else f"{value:.1f} %"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> list[str]:
    if not rows:
        return [f"_{empty}_", ""]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return [*out, ""]


SECTIONS = (
    "Still firing",
    "Resolved in the window",
    "Acks",
    "Silences",
    "SLOs",
    "Noisiest alerts",
    "Open incidents",
)


def markdown(h: Handoff) -> str:
    out = [
        f"# Handoff: {md(h.context) or 'context'}",
        "",
        f"From {clock(h.since)} to {clock(h.now)}; next shift until {clock(h.next_until)}.",
        "",
    ]
    if h.problems:
        out += ["**Partial: not everything could be read.**", ""]
        out += [f"- {md(p, 400)}" for p in h.problems] + [""]
    out += [f"## {SECTIONS[0]} ({len(h.firing)})", ""]
    out += _table(
        ["Alert", "State", "Since", "Labels"],
        [
            [
                md(a.alert.name, 200),
                md(a.alert.state, 40),
                clock(_at(a.alert.starts_at)) if a.alert.starts_at else "-",
                _labels(a.alert.labels),
            ]
            for a in h.firing
        ],
        "nothing fires",
    )
    done = resolved(h)
    out += [f"## {SECTIONS[1]} ({len(done)} of {len(h.episodes)} episodes)", ""]
    out += _table(
        ["Alert", "Active at", "Last seen", "Lasted", "Labels"],
        [
            [
                md(e.alertname, 200),
                clock(e.start),
                clock(e.last_seen),
                _duration(e.last_seen - e.start),
                _labels(e.labels),
            ]
            for e in done
        ],
        "no episode resolved",
    )
    acked = acks(h)
    out += [f"## {SECTIONS[2]} ({len(acked)})", ""]
    out += _table(
        ["Who", "When", "Until", "State", "Matchers"],
        [
            [
                md(acked_by(s.silence) or "", 200),
                clock(_at(s.silence.starts_at)),
                clock(_at(s.silence.ends_at)),
                md(s.silence.state, 40),
                _matchers(s),
            ]
            for s in acked
        ],
        "no acks",
    )
    out += [f"## {SECTIONS[3]}", ""]
    for title, members in (
        ("Created in the window", created(h)),
        ("Expired in the window", expired(h)),
        ("Ending during the next shift", ending(h)),
    ):
        out += [f"### {title} ({len(members)})", ""]
        out += _table(
            ["ID", "By", "Ends", "Matchers", "Comment"],
            [
                [
                    md(s.silence.id[:8], 20),
                    md(s.silence.created_by, 100),
                    clock(_at(s.silence.ends_at)),
                    _matchers(s),
                    md(s.silence.comment, 200),
                ]
                for s in members
            ],
            "none",
        )
    hot = burning(h)
    out += [f"## {SECTIONS[4]} ({len(hot)} burning of {len(h.slos)})", ""]
    out += _table(
        ["SLO", "State", "Budget left"],
        [
            [
                f"{md(r.spec.service, 100)}/{md(r.spec.name, 100)}",
                md(r.state),
                _pct(r.remaining_pct),
            ]
            for r in sorted(h.slos, key=lambda r: (r.state == OK, r.remaining_pct or 0.0))
        ],
        "no SLO configured or discovered",
    )
    out += [f"## {SECTIONS[5]}", ""]
    out += _table(
        ["Alert", "Episodes"],
        [[md(name, 200), str(count)] for name, count in noisiest(h)],
        "no episodes",
    )
    out += [f"## {SECTIONS[6]} ({len(h.incidents)})", ""]
    out += _table(
        ["ID", "SEV", "Step", "Declared", "Title"],
        [
            [md(i.id, 100), SEVS[i.sev].name, md(i.step), clock(i.declared_at), md(i.title)]
            for i in h.incidents
        ],
        "no open incidents",
    )
    return "\n".join(out).rstrip() + "\n"
