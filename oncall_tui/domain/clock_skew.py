"""How far a server's clock is from ours, from its HTTP `Date` header.

`Date` has one-second resolution and is stamped while the server answers, so the offset is
measured against the middle of the request (sent .. received) and is good to about a second:
plenty for the 30 s beyond which the app warns. A silence made on a host whose clock drifted
must start and end by the server's clock, or it starts late and ends early.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Beyond this, the status line names the offset.
WARN_S = 30.0


def offset_from_date(date_header: str, sent: float, received: float) -> float | None:
    """Server clock minus ours, in seconds; None when the header is missing or not a date.

    `sent` and `received` are this host's `time.time()` around the request.
    """
    if not date_header:
        return None
    try:
        stamped = parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError):
        return None
    if stamped.tzinfo is None:
        stamped = stamped.replace(tzinfo=UTC)
    return stamped.timestamp() - (sent + received) / 2.0


def server_now(local_now: datetime, offset_s: float | None) -> datetime:
    """What the server's clock says when ours says `local_now` (ours when unknown)."""
    return local_now if offset_s is None else local_now + timedelta(seconds=offset_s)


def describe(offset_s: float) -> str:
    """`2m ahead of this host`-like words for a status line.

    Whole minutes from a minute on: `Date` has one-second resolution, so seconds would make
    the status line flicker between polls (1m 59s, 2m 0s) and rewrite the terminal for nothing.
    """
    ahead = offset_s >= 0
    total = round(abs(offset_s))
    amount = f"{round(abs(offset_s) / 60)}m" if total >= 60 else f"{total}s"
    return f"{amount} {'ahead of' if ahead else 'behind'} this host"


def skew_note(offsets: dict[str, float | None], warn_s: float = WARN_S) -> str:
    """One line naming every server whose clock is more than `warn_s` off; "" when none."""
    off = [(name, o) for name, o in sorted(offsets.items()) if o is not None and abs(o) > warn_s]
    if not off:
        return ""
    return "clock: " + "; ".join(f"{name} {describe(o)}" for name, o in off)
