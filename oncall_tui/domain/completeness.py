"""Whether the board may be missing alerts, and what left it. Pure logic: no UI, no client.

Alertmanager drops an alert when it resolves, but also when nothing re-sends it: the
Prometheus that feeds it is down and the alert's `endsAt` passes (seconds in the demo,
minutes in production), or the peers that held it are shutting down. Only the first is
"resolved". `Ledger` tells them apart, poll after poll:

- an alert that leaves while every source answers, and answered the poll before, resolved:
  it moves to the "recently resolved" list with the time it left;
- an alert that leaves while a source fails or has just failed (Prometheus not answering,
  fewer peers answering than the poll before, a cluster just back, the count falling sharply,
  or still falling after such a poll) is *held*: the snapshot that lost it does not count as the truth, and
  the alert stays on the board, marked unconfirmed, until a later poll settles it.
  Prometheus, answering again and settled (each of its rule groups evaluated twice since it
  started), no longer holding the alert confirms it resolved; holding it keeps it. An alert
  Prometheus has no rule for is confirmed by a healthy poll that still lacks it.
- `concerns()` says, in words for a banner, why the board may be incomplete.

This module moves to `state/` with the rest of the board's store (issue 13): it imports
only the board's models.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter

import msgspec

from oncall_tui.domain.board import BoardAlert, BoardGroup, group_key, make_group
from oncall_tui.domain.per_group import KeyCensus

RESOLVED_CLUSTER = "(resolved)"
RESOLVED_RECEIVER = "recently resolved"
# Losing at least this share of a cluster's alerts, and at least SHARP_MIN of them, in one
# poll looks like a shutdown until the next poll agrees.
SHARP_SHARE = 0.5
SHARP_MIN = 3
DEFAULT_WINDOW = 30 * 60.0

Place = tuple[str, str, tuple[tuple[str, str], ...]]  # (cluster, receiver, group labels)


@dataclass(frozen=True, slots=True)
class ClusterPoll:
    """What one poll read from one Alertmanager cluster."""

    name: str
    groups: Sequence[BoardGroup] | None  # None: no peer answered
    peers_up: int
    peers_total: int
    reason: str = ""  # why it (or its peers) failed


@dataclass(frozen=True, slots=True)
class PrometheusRules:
    """Which alerts are Prometheus's to vouch for, and whether it can yet: read at the first
    poll and while held alerts wait for it."""

    names: frozenset[str]  # alert names of its alerting rules
    settled: bool  # every rule group evaluated twice since Prometheus started


@dataclass(frozen=True, slots=True)
class Poll:
    taken_at: float  # time.time()
    clusters: Sequence[ClusterPoll]
    prometheus_configured: bool = False
    prometheus_error: str = ""  # why the context's Prometheus did not answer
    # Labels of the alerts Prometheus holds (pending and firing); None when not read.
    prometheus_active: Sequence[Mapping[str, str]] | None = None
    rules: PrometheusRules | None = None


@dataclass(slots=True)
class Held:
    """An alert that left Alertmanager while the data could not be trusted."""

    alert: BoardAlert  # marked: `unconfirmed` says why
    places: tuple[Place, ...]
    left_at: float
    why: str
    poll: int  # the poll that lost it
    note: str = ""  # what the last check found, e.g. still firing in Prometheus


@dataclass(frozen=True, slots=True)
class Resolved:
    alert: BoardAlert  # state "resolved", `left_at` set
    left_at: float
    how: str = ""  # "" when a healthy poll saw it go; else what confirmed it


def clock(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


@dataclass
class Ledger:
    """Follows the alerts of every cluster of a context from poll to poll."""

    window: float = DEFAULT_WINDOW  # how long resolved alerts stay listed
    held: dict[str, Held] = field(default_factory=dict)
    resolved: dict[str, Resolved] = field(default_factory=dict)
    polls: int = 0
    prometheus_down_since: float | None = None
    prometheus_error: str = ""
    clusters_down: dict[str, tuple[float, str]] = field(default_factory=dict)  # since, why
    # What the last poll could not trust, per cluster ("" when it could).
    distrust: dict[str, str] = field(default_factory=dict)
    # Per cluster: its alerts' keys, as of its last answer.
    _keys: dict[str, KeyCensus] = field(default_factory=dict, compare=False, repr=False)
    _groups: dict[str, Sequence[BoardGroup]] = field(default_factory=dict)
    _peers: dict[str, int] = field(default_factory=dict)
    _rules: PrometheusRules | None = None
    _prometheus_failed_last: bool = False
    _decorated: dict[str, tuple[BoardGroup, tuple[BoardAlert, ...], BoardGroup]] = field(
        default_factory=dict
    )
    _resolved_group: BoardGroup | None = None
    _active: dict[str, list[Mapping[str, str]]] | None = None

    # -- reading polls ---------------------------------------------------------------------

    @property
    def wants_rules(self) -> bool:
        """Whether the next poll should read Prometheus's rules: not read yet, or an alert
        waits for them."""
        return self._rules is None or not self._rules.settled or bool(self.held)

    def observe(self, poll: Poll) -> None:
        self.polls += 1
        now = poll.taken_at
        failing = poll.prometheus_configured and bool(poll.prometheus_error)
        just_back = poll.prometheus_configured and self._prometheus_failed_last and not failing
        if failing:
            if self.prometheus_down_since is None:
                self.prometheus_down_since = now
            self.prometheus_error = poll.prometheus_error
        if poll.rules is not None:
            self._rules = poll.rules
        elif failing and self._rules is not None:
            # It may be restarting: it holds no alert until it has evaluated its rules again.
            self._rules = PrometheusRules(self._rules.names, settled=False)
        self._active = _by_name(poll.prometheus_active) if not failing else None
        for cluster in poll.clusters:
            self._observe_cluster(cluster, now, failing, just_back)
        self._confirm(poll, failing, just_back)
        self._prometheus_failed_last = failing
        if not failing:
            self.prometheus_down_since = None
            self.prometheus_error = ""
        for key in [k for k, r in self.resolved.items() if now - r.left_at > self.window]:
            del self.resolved[key]

    def _observe_cluster(
        self, cluster: ClusterPoll, now: float, failing: bool, just_back: bool
    ) -> None:
        name = cluster.name
        if cluster.groups is None:
            self.clusters_down.setdefault(name, (now, cluster.reason))
            self.clusters_down[name] = (self.clusters_down[name][0], cluster.reason)
            self.distrust[name] = f"no peer of {name} answered"
            return
        was_down = self.clusters_down.pop(name, None) is not None
        keys = self._keys.get(name)
        first = keys is None
        if keys is None:
            keys = self._keys[name] = KeyCensus(attrgetter("keys"))
        came, went = keys.update(cluster.groups)
        for key in [k for k, h in self.held.items() if k in keys]:
            del self.held[key]  # back in Alertmanager: what it says now is the truth
        for key in [k for k in self.resolved if k in keys]:
            del self.resolved[key]  # firing again
        why = self._why(cluster, failing, just_back, was_down)
        if not first:
            gone = frozenset(went)
            before = len(keys) - len(came) + len(went)
            if gone and not why and len(gone) >= max(SHARP_MIN, before * SHARP_SHARE):
                # Alertmanager told to stop empties /alerts/groups while it still answers
                # (its dispatcher stops first): a sharp fall waits for the next poll.
                why = f"{name}'s alerts fell from {before} to {len(keys)} in one poll"
            elif gone and not why and self.distrust.get(name):
                why = f"{name} kept losing alerts after a poll that could not be trusted"
            if gone:
                for key, (alert, places) in _locate(self._groups[name], gone).items():
                    resolved, said = self._verdict(alert, why)
                    if resolved:
                        self._resolve(alert, now, said if why else "")
                    else:
                        marked = replace_alert(alert, unconfirmed=why or said, left_at=now)
                        self.held[key] = Held(marked, places, now, why or said, self.polls)
        self.distrust[name] = why
        self._groups[name] = cluster.groups
        self._peers[name] = cluster.peers_up

    def _why(self, cluster: ClusterPoll, failing: bool, just_back: bool, was_down: bool) -> str:
        """Why this cluster's answer cannot tell resolved alerts from lost ones ("" if it can)."""
        if failing:
            return f"Prometheus was not answering ({self.prometheus_error})"
        if just_back:
            return "Prometheus had just come back"
        if was_down:
            return f"{cluster.name} had just come back"
        last = self._peers.get(cluster.name)
        if last is not None and cluster.peers_up < last:
            return (
                f"only {cluster.peers_up} of {cluster.peers_total} peers of {cluster.name} "
                f"answered (was {last})"
            )
        return ""

    def _vouches(self, name: str) -> bool:
        """Whether Prometheus can say if this alert still fires: answering, its rule, settled."""
        rules = self._rules
        return (
            self._active is not None and rules is not None and rules.settled and name in rules.names
        )

    def _verdict(self, alert: BoardAlert, why: str) -> tuple[bool, str]:
        """(resolved?, what says so or why not). Prometheus decides for its own alerts: an
        Alertmanager shutting down drops groups one by one while both peers still answer, and
        only Prometheus, which still fires them, tells that from a resolution."""
        if self._vouches(alert.name):
            assert self._active is not None
            if any(_within(a, alert.labels) for a in self._active.get(alert.name, ())):
                return False, "still firing in Prometheus"
            return True, "confirmed by Prometheus"
        rules = self._rules
        if rules is not None and alert.name in rules.names and not rules.settled:
            return False, "Prometheus is evaluating its rules again"
        return (False, why) if why else (True, "")

    def _confirm(self, poll: Poll, failing: bool, just_back: bool) -> None:
        """Settle held alerts the sources can now vouch for."""
        answered = {c.name for c in poll.clusters if c.groups is not None}
        for key, held in list(self.held.items()):
            if held.poll == self.polls:
                continue  # lost by this very poll
            cluster = held.alert.cluster
            why = "" if cluster in answered else f"no peer of {cluster} answered"
            why = why or self.distrust.get(cluster, "")
            if failing or just_back:
                why = why or "Prometheus had just failed"
            resolved, said = self._verdict(held.alert, why)
            if resolved:
                del self.held[key]
                self._resolve(held.alert, held.left_at, said or "confirmed by a healthy poll")
            else:
                held.note = said if said not in (why, held.why) else ""

    def _resolve(self, alert: BoardAlert, left_at: float, how: str = "") -> None:
        shown = replace_alert(
            alert,
            key=f"{RESOLVED_CLUSTER}/{alert.key}",
            state="resolved",
            unconfirmed="",
            left_at=left_at,
        )
        self.resolved.pop(alert.key, None)
        self.resolved[alert.key] = Resolved(shown, left_at, how)

    # -- what the board shows --------------------------------------------------------------

    def decorate(self, groups: Sequence[BoardGroup]) -> list[BoardGroup]:
        """The groups with held alerts put back in their places, and the resolved section."""
        by_place: dict[str, tuple[Place, list[BoardAlert]]] = {}
        for held in self.held.values():
            for place in held.places:
                by_place.setdefault(group_key(*place), (place, []))[1].append(held.alert)
        out: list[BoardGroup] = []
        cache: dict[str, tuple[BoardGroup, tuple[BoardAlert, ...], BoardGroup]] = {}
        for group in groups:
            found = by_place.pop(group.key, None)
            if found is None:
                out.append(group)
                continue
            out.append(self._with_held(group.key, group, tuple(found[1]), cache))
        for key, (place, alerts) in by_place.items():
            empty = make_group(*place, ())
            out.append(self._with_held(key, empty, tuple(alerts), cache))
        self._decorated = cache
        if self.resolved:
            gone = tuple(r.alert for r in sorted(self.resolved.values(), key=lambda r: -r.left_at))
            last = self._resolved_group
            if (
                last is None
                or len(last.alerts) != len(gone)
                or any(a is not b for a, b in zip(last.alerts, gone, strict=True))
            ):
                last = make_group(RESOLVED_CLUSTER, RESOLVED_RECEIVER, (), gone)
            self._resolved_group = last
            out.append(last)
        else:
            self._resolved_group = None
        return out

    def _with_held(
        self,
        key: str,
        base: BoardGroup,
        held: tuple[BoardAlert, ...],
        cache: dict[str, tuple[BoardGroup, tuple[BoardAlert, ...], BoardGroup]],
    ) -> BoardGroup:
        """The group plus its held alerts; the same object while neither changed."""
        last = self._decorated.get(key)
        if (
            last is not None
            and (last[0] is base or (not base.alerts and not last[0].alerts))
            and len(last[1]) == len(held)
            and all(a is b for a, b in zip(last[1], held, strict=True))
        ):
            cache[key] = last
            return last[2]
        present = {a.key for a in base.alerts}
        extra = [a for a in held if a.key not in present]
        built = make_group(base.cluster, base.receiver, base.labels, (*base.alerts, *extra))
        cache[key] = (base, held, built)
        return built

    def concerns(self) -> list[str]:
        """Why the board may be incomplete, one sentence each; empty when it is not."""
        lines = []
        held = len(self.held)
        marked = f"{held} alert{'s' if held != 1 else ''} that left Alertmanager"
        if self.prometheus_down_since is not None:
            line = (
                f"Prometheus is not answering since {clock(self.prometheus_down_since)} "
                f"({self.prometheus_error.rstrip('.')}): Alertmanager drops the alerts it no "
                "longer re-sends"
            )
            line += f"; {held} that left since are kept, marked ?." if held else "."
            lines.append(line)
        for name, (since, why) in sorted(self.clusters_down.items()):
            lines.append(
                f"Alertmanager {name}: no peer answers since {clock(since)}: {why.rstrip('.')}. "
                "Its alerts are shown as last seen."
            )
        if held and self.prometheus_down_since is None:
            whys = list(dict.fromkeys(h.why for h in self.held.values()))
            notes = list(dict.fromkeys(h.note for h in self.held.values() if h.note))
            line = f"{marked} are kept, marked ?, until confirmed resolved: {whys[0]}"
            if len(whys) > 1:
                line += f" (and {len(whys) - 1} other cause{'s' if len(whys) > 2 else ''})"
            line += f"; {notes[0]}." if notes else "."
            lines.append(line)
        return lines


def replace_alert(alert: BoardAlert, **changes: object) -> BoardAlert:
    return msgspec.structs.replace(alert, **changes)


def _by_name(
    active: Sequence[Mapping[str, str]] | None,
) -> dict[str, list[Mapping[str, str]]] | None:
    if active is None:
        return None
    found: dict[str, list[Mapping[str, str]]] = {}
    for labels in active:
        found.setdefault(labels.get("alertname", ""), []).append(labels)
    return found


def _within(found: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Prometheus's labels are a subset of Alertmanager's (which adds external labels)."""
    return all(labels.get(k) == v for k, v in found.items())


def _locate(
    groups: Sequence[BoardGroup], keys: Collection[str]
) -> dict[str, tuple[BoardAlert, tuple[Place, ...]]]:
    """Each wanted alert as last seen, and every group it sat in (one per receiver)."""
    found: dict[str, tuple[BoardAlert, tuple[Place, ...]]] = {}
    for group in groups:
        place = (group.cluster, group.receiver, group.labels)
        for alert in group.alerts:
            if alert.key not in keys:
                continue
            seen = found.get(alert.key)
            found[alert.key] = (alert, (place,)) if seen is None else (seen[0], (*seen[1], place))
    return found
