"""Layer restrictions in PagerDuty's shape: the hours of a day or a week a layer covers.

A `daily_restriction` starts every day at `start_time_of_day`, a `weekly_restriction` every
week on `start_day_of_week` (ISO: 1 Monday ... 7 Sunday) at that time; each lasts
`duration_seconds`. Both are read on the schedule's wall clock, as turns are: a 09:00-17:00
restriction is 09:00-17:00 on a DST day too (a night across the change is an hour shorter or
longer), and a start the change skips happens at the offset before it. Outside every one of
its restrictions a layer has no one, and the layers below it show through. Restrictions mask
a rotation; they do not move its handoffs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)


@dataclass(frozen=True)
class Restriction:
    kind: Literal["daily", "weekly"]
    start: timedelta  # since local midnight
    duration: timedelta
    day_of_week: int = 1  # ISO, weekly only

    @property
    def period(self) -> timedelta:
        return DAY if self.kind == "daily" else WEEK

    def _first_day(self, day: date) -> date:
        """The latest day on or before `day` on which an occurrence starts."""
        if self.kind == "daily":
            return day
        return day - timedelta(days=(day.isoweekday() - self.day_of_week) % 7)

    def occurrences(self, zone: ZoneInfo, after: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Every [start, end) in UTC that ends after `after`, in order, without end."""
        # Back far enough that an occurrence running at `after` is included.
        lookback = self.duration // self.period + 1
        day = self._first_day(after.astimezone(zone).date()) - lookback * self.period
        while True:
            begin = _instant(zone, day, self.start)
            end = _instant(zone, day, self.start + self.duration)
            if end > after:
                yield begin, end
            day += self.period


def _instant(zone: ZoneInfo, day: date, offset: timedelta) -> datetime:
    """Local `day` at midnight plus `offset` on the wall clock, as a UTC instant."""
    wall = datetime.combine(day, datetime.min.time()) + offset
    # fold=0: a skipped wall time gets the offset before the change; a repeated one, the first.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def covers(restrictions: Sequence[Restriction], zone: ZoneInfo, at: datetime) -> bool:
    """Whether `at` lies in one of the restrictions (no restriction: always)."""
    if not restrictions:
        return True
    for restriction in restrictions:
        for begin, end in restriction.occurrences(zone, at):
            if begin <= at < end:
                return True
            if begin > at:
                break
    return False


def boundaries(
    restrictions: Sequence[Restriction], zone: ZoneInfo, after: datetime, before: datetime
) -> list[datetime]:
    """The instants in (after, before] at which coverage may start or end."""
    found: set[datetime] = set()
    for restriction in restrictions:
        for begin, end in restriction.occurrences(zone, after):
            if begin > before:
                break
            found.update(b for b in (begin, end) if after < b <= before)
    return sorted(found)
