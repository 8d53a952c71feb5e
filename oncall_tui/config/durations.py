"""The one check behind every config duration that must be longer than zero."""

from __future__ import annotations

from oncall_tui.domain.timespec import TimeSpecError, parse_duration


def positive_duration(value: str) -> str:
    """`value` unchanged if it reads as a duration longer than zero; else ValueError, which
    the config reports with the key's path."""
    try:
        if parse_duration(value).total_seconds() <= 0:
            raise ValueError(f"{value!r} must be longer than zero")
    except TimeSpecError as exc:
        raise ValueError(str(exc)) from None
    return value
