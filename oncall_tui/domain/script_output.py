"""What `oncall-tui alerts` and `oncall-tui silences` print: records with stable keys, tables.

Pure functions over merged wire models, so the command line and its tests agree on one shape.
JSON records keep Alertmanager's own key names (`startsAt`, `isRegex`) so a script written
against `amtool ... -o json` reads them unchanged; `cluster` and `peers` say where an object
was seen. Table cells are cleaned of control characters: labels and comments are untrusted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from oncall_tui.domain.matcher_grammar import FilterError
from oncall_tui.domain.merge import MergedAlert
from oncall_tui.domain.sanitize import one_line
from oncall_tui.wire.alertmanager import Silence


def with_alertname(args: Sequence[str], parse: Callable[[str], object]) -> list[str]:
    """amtool's rule: a first argument that is not a matcher is the alert's name.

    amtool 0.25 (`cli/alert_query.go`, `cli/silence_query.go`) tries to parse the first
    argument and, when that fails, reads it as `alertname=<arg>`.
    """
    out = list(args)
    if out:
        try:
            parse(out[0])
        except FilterError:
            out[0] = f"alertname={out[0]}"
    return out


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert_record(merged: MergedAlert) -> dict[str, Any]:
    alert = merged.alert
    return {
        "cluster": merged.cluster,
        "fingerprint": alert.fingerprint,
        "labels": dict(sorted(alert.labels.items())),
        "annotations": dict(sorted(alert.annotations.items())),
        "state": alert.state,
        "startsAt": rfc3339(alert.starts_at),
        "endsAt": rfc3339(alert.ends_at),
        "receivers": sorted({r.name for r in alert.receivers}),
        "peers": sorted(merged.peers),
    }


@dataclass(frozen=True, slots=True)
class MergedSilence:
    """One silence of a cluster: the copy updated last, and which peers hold it."""

    silence: Silence
    cluster: str
    peers: tuple[str, ...]


def merge_silences(cluster: str, per_peer: Mapping[str, Iterable[Silence]]) -> list[MergedSilence]:
    """Silences are gossiped, but a peer may lag by a few hundred ms: take the union by ID."""
    best: dict[str, Silence] = {}
    holders: dict[str, list[str]] = {}
    floor = datetime.min.replace(tzinfo=UTC)
    for peer, silences in per_peer.items():
        for silence in silences:
            held = best.get(silence.id)
            if held is None or (silence.updated_at or floor) > (held.updated_at or floor):
                best[silence.id] = silence
            holders.setdefault(silence.id, []).append(peer)
    return [MergedSilence(best[i], cluster, tuple(holders[i])) for i in best]


def silence_record(merged: MergedSilence) -> dict[str, Any]:
    s = merged.silence
    return {
        "cluster": merged.cluster,
        "id": s.id,
        "matchers": [
            {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}
            for m in s.matchers
        ],
        "startsAt": rfc3339(s.starts_at),
        "endsAt": rfc3339(s.ends_at),
        "createdBy": s.created_by,
        "comment": s.comment,
        "state": s.state,
        "peers": sorted(merged.peers),
    }


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    cells = [list(header), *([one_line(c, 200) for c in row] for row in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def alerts_table(alerts: Iterable[MergedAlert]) -> str:
    rows = [
        (
            a.alert.name,
            a.alert.state,
            rfc3339(a.alert.starts_at) or "",
            a.alert.annotations.get("summary", ""),
        )
        for a in alerts
    ]
    return _table(("Alertname", "State", "Starts At", "Summary"), rows)


def silences_table(silences: Iterable[MergedSilence]) -> str:
    rows = [
        (
            s.silence.id,
            " ".join(str(m) for m in s.silence.matchers),
            rfc3339(s.silence.ends_at) or "",
            s.silence.created_by,
            s.silence.comment,
        )
        for s in silences
    ]
    return _table(("ID", "Matchers", "Ends At", "Created By", "Comment"), rows)


def alert_order(a: MergedAlert) -> tuple[str, str, str]:
    return (a.cluster, a.alert.name, a.fingerprint)


def silence_order(s: MergedSilence) -> tuple[str, str, str]:
    return (s.cluster, rfc3339(s.silence.ends_at) or "", s.silence.id)
