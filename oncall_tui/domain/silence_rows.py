"""The silences view's rows: pure logic, so ordering, counts and the filter are unit tests.

Each row counts the current alerts of its cluster that its matchers match (for a pending or
expired silence too: what it would hit), so a silence that matches nothing stands out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall_tui.domain.acks import Ack, read_ack
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.matchers import FilterError, LabelMatcher, search_text
from oncall_tui.domain.silence_plan import maintenance_name
from oncall_tui.wire.alertmanager import Silence

ENDING_SOON = timedelta(minutes=15)
_ORDER = {"active": 0, "pending": 1, "expired": 2}


@dataclass(frozen=True, slots=True)
class SilenceRow:
    cluster: str
    silence: Silence
    matches: int | None  # None: a matcher Python cannot run (Go-only regex syntax)
    matchers: str  # as the user would type them

    @property
    def key(self) -> tuple[str, str]:
        return (self.cluster, self.silence.id)

    @property
    def maintenance(self) -> str | None:
        return maintenance_name(self.silence)

    @property
    def ack(self) -> Ack | None:
        return read_ack(self.silence)

    def old_ack(self, now: datetime, after: timedelta) -> Ack | None:
        """The ack, when it is still active and held longer than `after`."""
        ack = self.ack
        if ack is None or self.silence.state != "active" or not ack.is_old(now, after):
            return None
        return ack

    def ending_soon(self, now: datetime) -> bool:
        return self.silence.state == "active" and self.silence.ends_at - now <= ENDING_SOON

    def fields(self) -> dict[str, str]:
        """What the view's filter matches against: the matchers as labels, plus the silence's
        own facts under names of their own (createdBy, comment, state, maintenance...)."""
        s = self.silence
        found = {m.name: m.value for m in s.matchers}
        found.update(
            createdBy=s.created_by,
            comment=s.comment,
            state=s.state,
            id=s.id,
            cluster=self.cluster,
            maintenance=self.maintenance or "",
        )
        ack = self.ack
        if ack is not None:
            found.update(ack=ack.who, ticket=ack.ticket, note=ack.note)
        else:
            found.update(ack="")
        return found

    def text(self) -> str:
        return search_text(self.fields())


def _count(silence: Silence, alerts: Sequence[BoardAlert]) -> int | None:
    try:
        matchers = [LabelMatcher.from_api(m) for m in silence.matchers]
    except FilterError:
        return None
    return sum(1 for a in alerts if all(m.matches(a.labels) for m in matchers))


def _matchers_text(silence: Silence) -> str:
    return " ".join(str(m) for m in silence.matchers)


def build_rows(
    silences: Iterable[tuple[str, Silence]], alerts: Iterable[BoardAlert]
) -> list[SilenceRow]:
    """Active first (ending soonest first), then pending (starting soonest), then expired
    (most recent first); silences of the same time by cluster and ID. Alertmanager lists
    those in another order from one read to the next (0.25.0: three silences of the same
    times came in three orders over 30 reads), so a refresh swapped their rows and the
    cursor, kept on its silence, jumped between two presses of `j`."""
    by_cluster: dict[str, list[BoardAlert]] = {}
    for alert in alerts:
        by_cluster.setdefault(alert.cluster, []).append(alert)
    rows = [
        SilenceRow(cluster, s, _count(s, by_cluster.get(cluster, [])), _matchers_text(s))
        for cluster, s in silences
    ]

    def order(row: SilenceRow) -> tuple[int, float, str, str]:
        s = row.silence
        rank = _ORDER.get(s.state, 3)
        if rank == 0:
            when = s.ends_at.timestamp()
        elif rank == 1:
            when = s.starts_at.timestamp()
        else:
            when = -s.ends_at.timestamp()
        return rank, when, row.cluster, s.id

    return sorted(rows, key=order)


def state_counts(rows: Iterable[SilenceRow]) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.silence.state] = counts.get(row.silence.state, 0) + 1
    return counts
