"""The `handoff:` key: the windows `:handoff` and `oncall-tui handoff` use when none is given.

Durations as amtool reads them (`12h`, `1h30m`, `1d`); `:handoff 4h` and `--since 4h` win.
"""

# No `from __future__ import annotations` here: see config/strict.py.

from oncall_tui.config.durations import positive_duration
from oncall_tui.config.strict import Strict, key
from oncall_tui.domain.timespec import parse_duration


class HandoffSettings(Strict, frozen=True, kw_only=True):
    since: str = "12h"  # the window the handoff looks back on
    next_shift: str = "12h"  # silences ending within this much of now are listed

    def __post_init__(self) -> None:
        for name in ("since", "next_shift"):
            with key(name):
                positive_duration(getattr(self, name))

    @property
    def since_s(self) -> float:
        return parse_duration(self.since).total_seconds()

    @property
    def next_shift_s(self) -> float:
        return parse_duration(self.next_shift).total_seconds()
