"""Acks "until resolved", kept by the running app: renewed while their alerts fire, expired
once they resolved. No Textual here.

The state is the silence itself (domain/acks.py reads it from annotations or the comment), so
whichever app runs, a restarted one included, picks up every such ack it can see. The keeper
runs after each poll of the context's AlertStore and decides from what that poll read, and
only from a cluster whose alerts and silences both answered and that the completeness ledger
trusts: a failed or doubtful read never expires an ack. A read-only context keeps nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from oncall_tui.domain.acks import EXPIRE, EXTEND, keep_decision, read_ack
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.matchers import FilterError, LabelMatcher
from oncall_tui.state import silences as silencing
from oncall_tui.state.alert_store import AlertStore
from oncall_tui.state.clock import server_now
from oncall_tui.state.polling import PollLoop
from oncall_tui.state.wiring import Clients
from oncall_tui.wire.alertmanager import Silence

# Alerts that no longer fire (or not yet): they keep no ack alive.
_NOT_FIRING = ("resolved", "pending")


def firing_count(silence: Silence, alerts: Sequence[BoardAlert]) -> int | None:
    """How many of the cluster's firing alerts the silence matches (None: cannot tell)."""
    try:
        matchers = [LabelMatcher.from_api(m) for m in silence.matchers]
    except FilterError:
        return None
    return sum(
        1
        for a in alerts
        if a.state not in _NOT_FIRING
        and (silence.id in a.silenced_by or all(m.matches(a.labels) for m in matchers))
    )


@dataclass
class _Misses:
    count: int = 0
    poll: int = -1  # the store's poll last counted: a poll is never counted twice


@dataclass
class AckKeeper:
    clients: Clients
    store: AlertStore
    lease: timedelta
    # What the keeper did, newest last: "extended abc12345 on demo: ..." (for views and tests).
    log: list[str] = field(default_factory=list)
    _misses: dict[tuple[str, str], _Misses] = field(default_factory=dict)
    _loop: PollLoop | None = None
    _unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        """Keep acks from now on: after each poll of the store (and every refresh interval)."""
        if self.clients.context.read_only or self._loop is not None:
            return
        self._loop = PollLoop(self.tick, self.clients.context.refresh, name="acks")
        self._loop.start()
        self._unsubscribe = self.store.subscribers.add(self._loop.wake)

    async def aclose(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._loop is not None:
            await self._loop.stop()

    def _trusted(self, cluster: str) -> bool:
        snapshot = self.store.snapshot
        return (
            snapshot is not None
            and snapshot.groups.get(cluster) is not None
            and snapshot.silences.get(cluster) is not None
            and not self.store.ledger.distrust.get(cluster)
        )

    def _by_cluster(self) -> dict[str, list[BoardAlert]]:
        alerts: dict[str, list[BoardAlert]] = {}
        for group in self.store.board_groups:
            for alert in group.alerts:
                alerts.setdefault(alert.cluster, []).append(alert)
        return alerts

    async def tick(self) -> bool:
        """Decide for every ack until resolved of every trusted cluster; True if a write failed."""
        failed, wrote = False, False
        poll = self.store.polls
        alerts: dict[str, list[BoardAlert]] | None = None  # by cluster, once an ack needs them
        seen: set[tuple[str, str]] = set()
        for cluster, silences in self.store.silences.items():
            if not self._trusted(cluster):
                seen |= {
                    k for k in self._misses if k[0] == cluster
                }  # a doubtful read forgets nothing
                continue
            for silence in silences or ():
                ack = read_ack(silence) if silence.state == "active" else None
                if ack is None or not ack.until_resolved:
                    continue
                key = (cluster, silence.id)
                seen.add(key)
                if alerts is None:
                    alerts = self._by_cluster()
                firing = firing_count(silence, alerts.get(cluster, []))
                misses = self._misses.setdefault(key, _Misses())
                if firing:
                    misses.count = 0
                elif firing == 0 and misses.poll != poll:
                    misses.count += 1
                misses.poll = poll
                now = server_now(self.clients, [cluster])
                decision = keep_decision(silence.ends_at, firing, misses.count, now, self.lease)
                if decision.action == EXTEND and decision.ends is not None:
                    outcome = await silencing.renew(self.clients, cluster, silence, decision.ends)
                elif decision.action == EXPIRE:
                    outcome = (await silencing.expire(self.clients, [key])).outcomes[0]
                else:
                    continue
                wrote = True
                failed |= not outcome.ok
                said = outcome.error or decision.why
                self.log.append(f"{decision.action} {silence.id[:8]} on {cluster}: {said}")
                del self.log[:-50]
        for gone in set(self._misses) - seen:
            del self._misses[gone]
        if wrote:
            self.store.refresh()  # the board shows the ack's new end, or the alert unacked
        return failed
