"""The board's alerts indexed by label value: a silence preview in milliseconds at 50,000.

The silence form shows, at once as you type, what the board's own data says a silence would
hit, before the Alertmanagers' answer (asked after a pause in the typing) replaces it. A
silence nearly always has an equality matcher (`alertname="X"`, from the group it was
opened on); its alerts are then looked up by that label's value instead of matching every
alert on the board. A missing label is the empty string to a matcher, so only a matcher
with a non-empty value narrows; the others are checked on what it leaves.
"""

from __future__ import annotations

from collections.abc import Sequence

from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.matchers import LabelMatcher
from oncall_tui.domain.silence_plan import matching


class BlastIndex:
    """One snapshot of the board's alerts; a label is indexed the first time it narrows."""

    def __init__(self, alerts: Sequence[BoardAlert]) -> None:
        self.alerts = alerts
        self._by: dict[str, dict[str, list[BoardAlert]]] = {}

    def candidates(self, matchers: Sequence[LabelMatcher]) -> Sequence[BoardAlert]:
        """A superset of the alerts every matcher matches (all of them if none narrows)."""
        equal = [m for m in matchers if m.op == "=" and m.value]
        if not equal:
            return self.alerts
        # alertname first: what a silence opened on a group nearly always names.
        best = next((m for m in equal if m.name == "alertname"), equal[0])
        return self._index(best.name).get(best.value, [])

    def hits(self, matchers: Sequence[LabelMatcher]) -> list[BoardAlert]:
        """The alerts `silence_plan.matching` finds (none for no matcher), looked up."""
        return [a for a in self.candidates(matchers) if matching(matchers, a.labels)]

    def _index(self, label: str) -> dict[str, list[BoardAlert]]:
        index = self._by.get(label)
        if index is None:
            index = {}
            for alert in self.alerts:
                value = alert.labels.get(label)
                if value:
                    index.setdefault(value, []).append(alert)
            self._by[label] = index
        return index
