"""Merge what the peers of an HA cluster report into one view, deduplicated by fingerprint.

Alertmanager peers do not share alerts: each gets its own copy from Prometheus, and an alert
routed to two receivers appears in two groups. One alert is one fingerprint per cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from oncall_tui.wire.alertmanager import Alert, AlertGroup


class MergedAlert(msgspec.Struct, frozen=True, gc=False):
    """One alert of a cluster: the freshest copy, and which peers hold it."""

    alert: Alert
    cluster: str
    peers: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        return self.alert.fingerprint


class MergedGroup(msgspec.Struct, frozen=True, gc=False):
    """An Alertmanager group (route receiver + group labels) across the peers of a cluster."""

    cluster: str
    receiver: str
    labels: tuple[tuple[str, str], ...]
    alerts: tuple[MergedAlert, ...]

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        return (self.cluster, self.receiver, self.labels)


def _fresher(a: Alert, b: Alert) -> Alert:
    """The copy updated last wins: it reflects the latest silence/inhibition state."""
    a_time, b_time = a.updated_at, b.updated_at
    if a_time is None or b_time is None:
        return a if b_time is None else b
    # Compared as instants (two `replace` calls an alert were two thirds of a merge's time);
    # only a naive time next to an aware one is compared by their wall-clock readings.
    if (a_time.tzinfo is None) != (b_time.tzinfo is None):
        a_time, b_time = a_time.replace(tzinfo=None), b_time.replace(tzinfo=None)
    return b if b_time > a_time else a


def merge_alerts(cluster: str, per_peer: Mapping[str, Iterable[Alert]]) -> list[MergedAlert]:
    """All alerts of a cluster, one per fingerprint, in first-seen order."""
    best: dict[str, Alert] = {}
    holders: dict[str, list[str]] = {}
    for peer, alerts in per_peer.items():
        for alert in alerts:
            fp = alert.fingerprint
            if fp in best:
                best[fp] = _fresher(best[fp], alert)
                if peer not in holders[fp]:
                    holders[fp].append(peer)
            else:
                best[fp] = alert
                holders[fp] = [peer]
    return [MergedAlert(best[fp], cluster, tuple(holders[fp])) for fp in best]


def merge_groups(cluster: str, per_peer: Mapping[str, Iterable[AlertGroup]]) -> list[MergedGroup]:
    """Groups of a cluster keyed by (receiver, group labels), alerts merged within each."""
    return GroupMerger(cluster).merge(per_peer)


class GroupMerger:
    """merge_groups for one cluster, poll after poll, redoing only groups whose input changed.

    The peers' decoders hand back the very same AlertGroup object for a group whose JSON did
    not change, so an identity check tells which merged groups can be reused as they are.
    """

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self._last: dict[GroupKey, tuple[tuple[tuple[str, AlertGroup], ...], MergedGroup]] = {}
        # Each peer's groups as last merged, and what they made.
        self._inputs: dict[str, list[AlertGroup]] = {}
        self._out: list[MergedGroup] = []

    def merge(self, per_peer: Mapping[str, Iterable[AlertGroup]]) -> list[MergedGroup]:
        inputs = {peer: list(groups) for peer, groups in per_peer.items()}
        if inputs.keys() == self._inputs.keys() and all(
            _identical(groups, self._inputs[peer]) for peer, groups in inputs.items()
        ):
            return list(self._out)  # every peer sent the very groups of last time
        out = self._merge(inputs)
        self._inputs, self._out = inputs, out
        return list(out)

    def _merge(self, per_peer: Mapping[str, Iterable[AlertGroup]]) -> list[MergedGroup]:
        sources: dict[GroupKey, list[tuple[str, AlertGroup]]] = {}
        for peer, groups in per_peer.items():
            for group in groups:
                key = (group.receiver.name, tuple(sorted(group.labels.items())))
                sources.setdefault(key, []).append((peer, group))
        fresh: dict[GroupKey, tuple[tuple[tuple[str, AlertGroup], ...], MergedGroup]] = {}
        out = []
        for key, items in sources.items():
            inputs = tuple(items)
            cached = self._last.get(key)
            if cached is not None and _same(cached[0], inputs):
                merged = cached[1]
            else:
                peers: dict[str, list[Alert]] = {}
                for peer, group in inputs:
                    peers.setdefault(peer, []).extend(group.alerts)
                merged = MergedGroup(
                    self.cluster, key[0], key[1], tuple(merge_alerts(self.cluster, peers))
                )
            fresh[key] = (inputs, merged)
            out.append(merged)
        self._last = fresh
        return out


GroupKey = tuple[str, tuple[tuple[str, str], ...]]


def _identical(a: list[AlertGroup], b: list[AlertGroup]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _same(old: tuple[tuple[str, AlertGroup], ...], new: tuple[tuple[str, AlertGroup], ...]) -> bool:
    return len(old) == len(new) and all(
        a[0] == b[0] and a[1] is b[1] for a, b in zip(old, new, strict=True)
    )


def unique_alerts(groups: Iterable[MergedGroup]) -> list[MergedAlert]:
    """Every alert once, though it may sit in several groups (one per receiver it routes to)."""
    seen: dict[tuple[str, str], MergedAlert] = {}
    for group in groups:
        for alert in group.alerts:
            seen.setdefault((alert.cluster, alert.fingerprint), alert)
    return list(seen.values())
