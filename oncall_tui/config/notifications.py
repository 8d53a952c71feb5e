"""The `notifications:` key: which new alerts reach the user's desktop through the terminal.

By default any new critical alert raises a terminal notification (OSC 9, OSC 777 or kitty's
OSC 99, chosen from what the terminal says about itself) and the window title shows what
fires. `severities` and `matchers` (the board's filter syntax) widen or narrow what notifies:
an alert notifies when its severity is listed or it matches one of the matchers.
"""

# No `from __future__ import annotations` here: see config/strict.py.

from msgspec import field

from oncall_tui.config.strict import KeyProblem, Strict
from oncall_tui.domain.terminal_notify import Setting


class NotificationSettings(Strict, frozen=True, kw_only=True):
    protocol: Setting = "auto"  # auto, osc9, osc777, osc99, or off (no notification)
    severities: list[str] = field(default_factory=lambda: ["critical"])  # these notify when new
    matchers: list[str] = field(default_factory=list)  # new alerts matching any of these notify
    title: bool = True  # the window title shows what fires

    def __post_init__(self) -> None:
        for severity in self.severities:
            if not severity.strip():
                raise KeyProblem("severities", "a severity must not be empty")
        if self.matchers:
            self._check_matchers()

    def _check_matchers(self) -> None:
        from oncall_tui.domain.matchers import FilterError, parse_filter

        for index, text in enumerate(self.matchers):
            try:
                empty = parse_filter(text).is_empty
            except FilterError as exc:
                raise KeyProblem(
                    "matchers", f"[{index}] column {exc.position + 1}: {exc.message}"
                ) from None
            if empty:
                raise KeyProblem("matchers", f"[{index}]: an empty filter would match every alert")
