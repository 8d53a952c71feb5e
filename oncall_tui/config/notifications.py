"""The `notifications:` key: which new alerts reach the user's desktop through the terminal.

By default any new critical alert raises a terminal notification (OSC 9, OSC 777 or kitty's
OSC 99, chosen from what the terminal says about itself) and the window title shows what
fires. `severities` and `matchers` (the board's filter syntax) widen or narrow what notifies:
an alert notifies when its severity is listed or it matches one of the matchers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oncall_tui.domain.terminal_notify import Setting


class NotificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol: Setting = Field(
        default="auto", description="auto, osc9, osc777, osc99, or off (no notification)"
    )
    severities: list[str] = Field(
        default_factory=lambda: ["critical"], description="new alerts of these severities notify"
    )
    matchers: list[str] = Field(
        default_factory=list, description="new alerts matching any of these filters notify"
    )
    title: bool = Field(default=True, description="the window title shows what fires")

    @field_validator("severities")
    @classmethod
    def _words(cls, value: list[str]) -> list[str]:
        for severity in value:
            if not severity.strip():
                raise ValueError("a severity must not be empty")
        return value

    @field_validator("matchers")
    @classmethod
    def _parses(cls, value: list[str]) -> list[str]:
        from oncall_tui.domain.matchers import FilterError, parse_filter

        for index, text in enumerate(value):
            try:
                if parse_filter(text).is_empty:
                    raise ValueError(f"[{index}]: an empty filter would match every alert")
            except FilterError as exc:
                raise ValueError(f"[{index}] column {exc.position + 1}: {exc.message}") from None
        return value
