"""Durations and moments as an on-call engineer types them: `2h`, `1h30m`, `tomorrow 06:00`.

Durations follow Prometheus's `model.ParseDuration`, which amtool uses for `--duration`:
units y w d h m s ms, largest first, each at most once (`1h30m`, `1w`, `90m`). Moments are
a duration from now (`2h`, `+2h`), `now`, a time of day (`22:00`: the next one), a day word
with a time (`today 22:00`, `tonight 23:30`, `tomorrow 06:00`), or a date read by
python-dateutil (`2026-12-01 22:00`, `Dec 1 22:00`, with `Z` or an offset when given; local
time otherwise).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from oncall_tui.domain.timefmt import short_duration

_UNITS = (("y", 365 * 86400.0), ("w", 7 * 86400.0), ("d", 86400.0), ("h", 3600.0),
          ("m", 60.0), ("s", 1.0), ("ms", 0.001))  # fmt: skip
_DURATION = re.compile("".join(rf"(?:(?P<{u}>\d+){u})?" for u, _ in _UNITS))
_DAY_WORDS = {"today": 0, "tonight": 0, "tomorrow": 1}
MAX_SPAN = timedelta(days=3650)


class TimeSpecError(ValueError):
    """What is wrong with a duration or a moment, in words for the form."""


def parse_duration(text: str) -> timedelta:
    """`1h30m` -> 1:30:00. Raises TimeSpecError for anything amtool would refuse."""
    spec = text.strip().lstrip("+").strip()
    if not spec:
        raise TimeSpecError("empty duration: write 30m, 2h, 1d, 1w or 1h30m")
    if spec == "0":
        return timedelta(0)
    match = _DURATION.fullmatch(spec)
    if match is None or not any(match.groupdict().values()):
        raise TimeSpecError(
            f"not a duration: {spec!r} (units y w d h m s ms, largest first: 1h30m, 2d, 1w)"
        )
    seconds = sum(int(match[u]) * size for u, size in _UNITS if match[u])
    if seconds > MAX_SPAN.total_seconds():
        raise TimeSpecError(f"duration too long: {spec} (at most 10 years)")
    return timedelta(seconds=seconds)


def local_zone() -> tzinfo:
    from dateutil import tz  # dateutil is imported when a time is read, not at start

    return tz.tzlocal()


def _day_word(words: list[str], now_local: datetime) -> tuple[datetime | None, list[str]]:
    if words and words[0].lower() in _DAY_WORDS:
        day = now_local + timedelta(days=_DAY_WORDS[words[0].lower()])
        return day, words[1:]
    return None, words


def parse_moment(
    text: str,
    now: datetime,
    *,
    zone: tzinfo | None = None,
    future: bool = True,
    after: datetime | None = None,
) -> datetime:
    """The moment `text` names, as an aware UTC datetime.

    A bare time of day is the next such time after `after` (default: now) when `future`: an
    end of `02:00` after a start of `22:00` is the next morning. Raises TimeSpecError.
    """
    zone = zone or local_zone()
    spec = " ".join(text.split())
    if not spec:
        raise TimeSpecError("empty: write 2h, 22:00, tomorrow 06:00 or 2026-12-01 22:00")
    if spec.lower() == "now":
        return now.astimezone(UTC)
    if spec.startswith("-"):
        raise TimeSpecError(f"{spec!r} is in the past: write a duration from now, like 2h")
    if spec.isdigit():
        raise TimeSpecError(f"{spec!r} needs a unit: {spec}m, {spec}h or {spec}d")
    if spec[0] == "+" or (_DURATION.fullmatch(spec) and spec != "0"):
        return (now + parse_duration(spec)).astimezone(UTC)
    now_local = now.astimezone(zone)
    day, rest = _day_word(spec.split(" "), now_local)
    if day is not None and not rest:
        raise TimeSpecError(f"{spec!r}: add a time, like {spec} 06:00")
    default = (day or now_local).replace(hour=0, minute=0, second=0, microsecond=0)
    from dateutil import parser as dateparser

    try:
        parsed = dateparser.parse(" ".join(rest), default=default.replace(tzinfo=None))
    except (dateparser.ParserError, ValueError, OverflowError) as exc:
        raise TimeSpecError(f"cannot read {spec!r} as a time or date ({exc})") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    moment = parsed.astimezone(UTC)
    time_only = day is None and not re.search(r"\d{4}|[a-zA-Z]{3}|\d+[-/.]\d+", spec)
    reference = max(now, after) if after is not None else now
    if future and time_only and moment <= reference:
        # 06:00 typed at 23:00 means tomorrow morning
        moment += timedelta(days=(reference - moment).days + 1)
    if abs(moment - now) > MAX_SPAN:
        raise TimeSpecError(f"{spec!r} is more than 10 years away")
    return moment


def describe_moment(moment: datetime, now: datetime, *, zone: tzinfo | None = None) -> str:
    """`Sat 28 Nov 22:30 CET (21:30 UTC), in 2h`: local and UTC, so nobody converts at 3 a.m."""
    local = moment.astimezone(zone or local_zone())
    utc = moment.astimezone(UTC)
    name = local.strftime("%Z") or local.strftime("%z")
    same_day = local.date() == utc.date()
    utc_text = utc.strftime("%H:%M UTC" if same_day else "%a %H:%M UTC")
    where = f"{local.strftime('%a %d %b %H:%M')} {name}"
    if name != "UTC":
        where += f" ({utc_text})"
    seconds = (moment - now).total_seconds()
    when = "now" if abs(seconds) < 30 else (
        f"in {short_duration(seconds)}" if seconds > 0 else f"{short_duration(-seconds)} ago"
    )  # fmt: skip
    return f"{where}, {when}"
