"""Alertmanager's time intervals (`time_intervals`, and the older `mute_time_intervals`).

A route's `mute_time_intervals` stop its notifications while any of them holds, its
`active_time_intervals` allow them only while one holds. Alertmanager evaluates each interval
in its `location` (UTC when absent, not the server's local zone), with `start_time` included
and `end_time` excluded; every field given must match, and a named interval holds when any
of its entries does. The answer "does it hold now, and when does that next change" is what an
on-call engineer needs; it is given in local time by the view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# How far ahead `next_change` looks, minute by minute (8 days covers every weekly pattern).
HORIZON = timedelta(days=8)


class IntervalError(ValueError):
    """A time interval Alertmanager would refuse (or that this parser does not know)."""


Range = tuple[int, int]


def _ranges(values: Any, parse_one: Any, what: str) -> tuple[Range, ...]:
    out = []
    for raw in values or ():
        text = str(raw).strip().lower()
        first, sep, last = text.partition(":")
        lo = parse_one(first)
        hi = parse_one(last) if sep else lo
        out.append((lo, hi))
    return tuple(out)


def _weekday(text: str) -> int:
    if text not in WEEKDAYS:
        raise IntervalError(f"unknown weekday {text!r}")
    return WEEKDAYS.index(text)


def _month(text: str) -> int:
    if text in MONTHS:
        return MONTHS.index(text) + 1
    try:
        number = int(text)
    except ValueError:
        raise IntervalError(f"unknown month {text!r}") from None
    if not 1 <= number <= 12:
        raise IntervalError(f"month {number} out of range")
    return number


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise IntervalError(f"not a number: {text!r}") from None


def _minutes(text: str) -> int:
    hours, _, minutes = str(text).partition(":")
    try:
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise IntervalError(f"bad time {text!r}: use HH:MM") from None
    if not 0 <= value <= 24 * 60:
        raise IntervalError(f"time {text!r} out of range")
    return value


@dataclass(frozen=True)
class IntervalEntry:
    """One entry of a named interval: every field given must match."""

    times: tuple[Range, ...] = ()  # minutes of the day, [start, end)
    weekdays: tuple[Range, ...] = ()  # 0 = sunday
    days_of_month: tuple[Range, ...] = ()  # negative counts from the month's end
    months: tuple[Range, ...] = ()
    years: tuple[Range, ...] = ()
    location: str = "UTC"

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> IntervalEntry:
        location = str(raw.get("location") or "UTC")
        _zone(location)
        return cls(
            times=tuple(
                (_minutes(t.get("start_time", "00:00")), _minutes(t.get("end_time", "24:00")))
                for t in raw.get("times") or ()
            ),
            weekdays=_ranges(raw.get("weekdays"), _weekday, "weekday"),
            days_of_month=_ranges(raw.get("days_of_month"), _int, "day of month"),
            months=_ranges(raw.get("months"), _month, "month"),
            years=_ranges(raw.get("years"), _int, "year"),
            location=location,
        )

    def contains(self, when: datetime) -> bool:
        t = when.astimezone(_zone(self.location))
        if self.times:
            minute = t.hour * 60 + t.minute
            if not any(lo <= minute < hi for lo, hi in self.times):
                return False
        if self.weekdays:
            day = (t.weekday() + 1) % 7  # Python: monday = 0
            if not any(lo <= day <= hi for lo, hi in self.weekdays):
                return False
        if self.days_of_month and not any(_day_in(t, lo, hi) for lo, hi in self.days_of_month):
            return False
        if self.months and not any(lo <= t.month <= hi for lo, hi in self.months):
            return False
        return not self.years or any(lo <= t.year <= hi for lo, hi in self.years)

    def describe(self) -> str:
        parts = []
        if self.times:
            parts.append(", ".join(f"{_hhmm(lo)}-{_hhmm(hi)}" for lo, hi in self.times))
        if self.weekdays:
            parts.append(
                ", ".join(
                    WEEKDAYS[lo][:3] + (f"-{WEEKDAYS[hi][:3]}" if hi != lo else "")
                    for lo, hi in self.weekdays
                )
            )
        for name, ranges in (
            ("days", self.days_of_month),
            ("months", self.months),
            ("years", self.years),
        ):
            if ranges:
                parts.append(
                    f"{name} "
                    + ", ".join(f"{lo}" + (f"-{hi}" if hi != lo else "") for lo, hi in ranges)
                )
        parts.append(self.location)
        return " ".join(parts) if len(parts) > 1 else f"always ({self.location})"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _zone(name: str) -> tzinfo:
    if name in ("UTC", ""):
        return UTC
    if name == "Local":
        local = datetime.now().astimezone().tzinfo
        return local or UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise IntervalError(f"unknown location {name!r}") from None


def _day_in(t: datetime, lo: int, hi: int) -> bool:
    """Alertmanager's days_of_month: negative days count back from the month's last day."""
    next_month = (t.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = (next_month - timedelta(days=1)).day
    start = lo if lo > 0 else last + lo + 1
    end = hi if hi > 0 else last + hi + 1
    return max(start, 1) <= t.day <= min(end, last)


@dataclass(frozen=True)
class TimeInterval:
    name: str
    entries: tuple[IntervalEntry, ...]

    def contains(self, when: datetime) -> bool:
        return any(e.contains(when) for e in self.entries)

    def next_change(self, when: datetime, horizon: timedelta = HORIZON) -> datetime | None:
        """The first minute after `when` at which `contains` answers differently, or None
        when it does not change within `horizon`. Fields are minute-granular, so stepping by
        minutes from the next whole minute finds the exact boundary."""
        now = self.contains(when)
        t = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
        end = when + horizon
        while t <= end:
            if self.contains(t) != now:
                return t
            t += timedelta(minutes=1)
        return None


def parse_intervals(raw: Sequence[Mapping[str, Any]] | None) -> dict[str, TimeInterval]:
    """`time_intervals` (or `mute_time_intervals`) of a config, by name."""
    out: dict[str, TimeInterval] = {}
    for item in raw or ():
        name = str(item.get("name", ""))
        entries = tuple(IntervalEntry.parse(e) for e in item.get("time_intervals") or ())
        out[name] = TimeInterval(name, entries)
    return out
