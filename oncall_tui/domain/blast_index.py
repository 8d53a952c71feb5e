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

    def hits(self, matchers: Sequence[LabelMatcher]) -> list[BoardAlert]:
        """The alerts `silence_plan.matching` finds (none for no matcher), looked up: each
        narrowing matcher's alerts by its label's index, intersected by identity in C, and
        only the other matchers checked alert by alert (at 50,000 alerts, checking a silence
        of three equality matchers on 25,000 candidates took 100-250 ms a key)."""
        if not matchers:
            return []
        equal = [m for m in matchers if m.op == "=" and m.value]
        rest = [m for m in matchers if not (m.op == "=" and m.value)]
        found: Sequence[BoardAlert] = self.alerts
        if equal:
            lists = sorted((self._index(m.name).get(m.value, []) for m in equal), key=len)
            found = lists[0]
            if len(lists) > 1 and found:
                keep = set(map(id, found))
                for other in lists[1:]:
                    keep.intersection_update(map(id, other))
                found = [a for a in found if id(a) in keep]
        if rest:
            return [a for a in found if matching(rest, a.labels)]
        return list(found)

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
