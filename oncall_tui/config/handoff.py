"""The `handoff:` key: the windows `:handoff` and `oncall-tui handoff` use when none is given.

Durations as amtool reads them (`12h`, `1h30m`, `1d`); `:handoff 4h` and `--since 4h` win.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oncall_tui.config.durations import positive_duration
from oncall_tui.domain.timespec import parse_duration


class HandoffSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    since: str = Field(default="12h", description="the window the handoff looks back on")
    next_shift: str = Field(
        default="12h", description="silences ending within this much of now are listed"
    )

    @field_validator("since", "next_shift")
    @classmethod
    def _duration(cls, value: str) -> str:
        return positive_duration(value)

    @property
    def since_s(self) -> float:
        return parse_duration(self.since).total_seconds()

    @property
    def next_shift_s(self) -> float:
        return parse_duration(self.next_shift).total_seconds()
