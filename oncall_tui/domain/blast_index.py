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


class BlastIndex:
    """One snapshot of the board's alerts; a label is indexed the first time it narrows."""

    def __init__(self, alerts: Sequence[BoardAlert]) -> None:
        self.alerts = alerts
        self._by: dict[str, dict[str, list[BoardAlert]]] = {}

    def hits(self, matchers: Sequence[LabelMatcher]) -> list[BoardAlert]:
        """The alerts every matcher matches (none for no matcher), in the board's order,
        looked up: by the alertname matcher's index when there is one (what a silence opened
        on a group nearly always names), else by whichever equality matcher's index holds
        the fewest; the other matchers are checked on those alone. Taking the first equality
        matcher instead, a silence's alertname turned off at 50,000 alerts left its
        `cluster="x"`, which every alert has, and each key checked 50,000 alerts (20-65 ms)."""
        if not matchers:
            return []
        equal = [m for m in matchers if m.op == "=" and m.value]
        if not equal:
            return _kept(self.alerts, matchers)
        named = [m for m in equal if m.name == "alertname"]
        if named:
            best = named[0]
            found = self._index([best.name])[best.name].get(best.value, [])
        else:
            indexes = self._index([m.name for m in equal])
            found, best = min(
                ((indexes[m.name].get(m.value, []), m) for m in equal), key=lambda f: len(f[0])
            )
        return _kept(found, [m for m in matchers if m is not best])

    def _index(self, labels: Sequence[str]) -> dict[str, dict[str, list[BoardAlert]]]:
        """The index of each of `labels`, those not made yet made in one pass."""
        new: dict[str, dict[str, list[BoardAlert]]] = {
            label: {} for label in labels if label not in self._by
        }
        if new:
            for alert in self.alerts:
                alert_labels = alert.labels
                for label, index in new.items():
                    value = alert_labels.get(label)
                    if value:
                        index.setdefault(value, []).append(alert)
            self._by.update(new)
        return self._by


def _kept(alerts: Sequence[BoardAlert], matchers: Sequence[LabelMatcher]) -> list[BoardAlert]:
    """The alerts every matcher matches, one pass a matcher, equality first (the cheapest,
    and it narrows most). Alert by alert, each matcher cost four calls an alert: 25,000
    candidates took 300 ms."""
    kept = list(alerts)
    for matcher in sorted(matchers, key=lambda m: m.op != "="):
        if matcher.op == "=":
            # LabelMatcher's own test for "=" (matchers._tester), inline: through its call,
            # three equality matchers on 25,000 alerts took 14 ms instead of 5.
            name, value = matcher.name, matcher.value
            kept = [a for a in kept if a.labels.get(name, "") == value]
        else:
            test = matcher.matches
            kept = [a for a in kept if test(a.labels)]
    return kept
