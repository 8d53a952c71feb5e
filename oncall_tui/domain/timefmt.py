"""Short human durations, as an on-call engineer reads them: 45s, 12m, 3h, 2d."""

from __future__ import annotations

import math


def short_duration(seconds: float) -> str:
    """The largest whole unit, with a second unit below a day: 45s, 12m, 1h05m, 3d."""
    if math.isnan(seconds) or seconds < 0:
        return "-"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h" if days < 7 and hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"
