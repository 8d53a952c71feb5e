"""`:health`: is the alerting pipeline itself working? One poll per context, on PollLoop.

Each poll reads every Alertmanager peer's `/metrics` and `/status`, Prometheus's `/metrics`,
its rules and its down targets, and turns them into plain verdicts (domain/pipeline.py).
Counters are kept between polls, so "failing now" clears on the first poll that sees a
notification go through after a mend.
The board's status line and a toast say it in words when paging may be failing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from oncall_tui.api import ioloop
from oncall_tui.api.alertmanager import AlertmanagerCluster
from oncall_tui.api.http import Endpoint
from oncall_tui.domain import pipeline as p
from oncall_tui.domain.board import BoardGroup
from oncall_tui.domain.per_group import PerGroup, union
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.alert_store import AlertStore
from oncall_tui.state.background import off_loop
from oncall_tui.state.polling import PollLoop, Subscribers
from oncall_tui.state.wiring import Clients
from oncall_tui.wire import errors


async def _metrics(endpoint: Endpoint, url: str) -> p.Metrics:
    """A server's own /metrics page, through its client (auth, TLS and proxy applied),
    asked, read and parsed in one trip to the I/O loop."""
    return await ioloop.run(_read_metrics(endpoint, url))


async def _read_metrics(endpoint: Endpoint, url: str) -> p.Metrics:
    response = await endpoint.request("GET", url.rstrip("/") + "/metrics")
    return p.parse_metrics(response.text, p.HEALTH_METRICS)


def _names_in(group: BoardGroup) -> frozenset[str]:
    return frozenset(a.name for a in group.alerts)


class HealthStore:
    def __init__(self, clients: Clients, alerts: AlertStore) -> None:
        self.clients = clients
        self.alerts = alerts
        self.watchdog = clients.context.watchdog_alert
        self.verdicts: tuple[p.Verdict, ...] = ()
        self.last_good: float | None = None
        self.polled = 0
        self._counters: dict[str, p.CounterHistory] = {}
        # The alert names of each cluster on the board, and the board they were read from.
        self._names: dict[str, frozenset[str]] = {}
        self._named: list[BoardGroup] | None = None
        self._group_names = PerGroup(_names_in)
        self.subscribers = Subscribers()
        self.loop = PollLoop(self._poll, clients.context.refresh, name="health")

    @property
    def headline(self) -> str:
        return p.headline(self.verdicts)

    def subscribe(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Polls only while someone listens (the board does, for its status line)."""
        remove = self.subscribers.add(callback)
        self.loop.start()
        return remove

    async def aclose(self) -> None:
        await self.loop.stop()

    def _history(self, key: str) -> p.CounterHistory:
        return self._counters.setdefault(key, p.CounterHistory.empty())

    def _alert_names(self, cluster: str) -> frozenset[str]:
        """The names of a cluster's alerts on the board. A quiet poll keeps the very same
        board list, so they are read again only when it changed (10,000 alerts: 2 ms)."""
        board = self.alerts.board_groups
        if board is not self._named:
            # Each group's names are read again only if the poll changed it.
            by_cluster: dict[str, list[frozenset[str]]] = {}
            for group, names in zip(board, self._group_names(board), strict=True):
                by_cluster.setdefault(group.cluster, []).append(names)
            self._named = board
            self._names = {name: union(sets) for name, sets in by_cluster.items()}
        return self._names.get(cluster, frozenset())

    async def _poll(self) -> bool:
        if not self.polled:
            # The board first: the servers' /metrics pages (asked, read and parsed, and the
            # HTTP client loaded for them) are not what an engineer opens the app for, and at
            # start-up they competed with the first poll's alerts for the one core Python
            # runs on. Not for ever: a first poll that hangs is what the health line must tell.
            await self.alerts.first_shown(timeout=self.clients.context.refresh)
        now = time.time()
        found: list[p.Verdict] = []
        results = await asyncio.gather(
            *(self._cluster(c, now) for c in self.clients.clusters),
            self._prometheus(now),
        )
        for part in results:
            found.extend(part)
        self.verdicts = tuple(found)
        self.last_good = now
        self.polled += 1
        self.subscribers.publish()
        return False

    async def _cluster(self, cluster: AlertmanagerCluster, now: float) -> list[p.Verdict]:
        backend = f"alertmanager {one_line(cluster.name, 40)}"
        pages = await asyncio.gather(
            *(_metrics(peer.endpoint, peer.url) for peer in cluster.peers),
            return_exceptions=True,
        )
        good = [m for m in pages if isinstance(m, dict)]
        out: list[p.Verdict] = []
        members: int | None = None
        try:
            statuses = await cluster.statuses()
            members = max((len(s.cluster.peers) for s in statuses.results.values()), default=0)
            members = members or None  # 0: clustering off, nothing to compare
        except errors.ApiError:
            pass
        out.append(p.peers_verdict(backend, len(good), len(cluster.peers), members))
        if not good:
            why = next((e for e in pages if isinstance(e, errors.ApiError)), None)
            out.append(
                p.Verdict(
                    backend,
                    "metrics",
                    p.BAD,
                    f"cannot read /metrics: {one_line(why.message if why else 'no answer', 200)}",
                )
            )
            return out
        # Per attempt (0.25+: `notification_requests_*`) when exposed: a receiver answering 500
        # fails every retry at once, while `notifications_failed_total` moves only when a
        # flush gives up (10 s or more later). Summed over the peers: each one sends.
        per_attempt = any(
            p.series(m, "alertmanager_notification_requests_failed_total") for m in good
        )
        failed_name, total_name = (
            (
                "alertmanager_notification_requests_failed_total",
                "alertmanager_notification_requests_total",
            )
            if per_attempt
            else ("alertmanager_notifications_failed_total", "alertmanager_notifications_total")
        )
        failed = _summed(p.by_label(m, failed_name, "integration") for m in good)
        total = _summed(p.by_label(m, total_name, "integration") for m in good)
        # Why flushes gave up (0.26+ labels `notifications_failed_total` with a reason).
        reasons = _summed(p.by_reason(m) for m in good)
        fh, th = self._history(f"{cluster.name}/failed"), self._history(f"{cluster.name}/total")
        fh.add(now, failed)
        th.add(now, total)
        rh = self._history(f"{cluster.name}/reasons")
        rh.add(now, reasons)
        used = [k for k, v in total.items() if v > 0 or failed.get(k, 0) > 0]
        out.extend(p.notification_verdicts(backend, fh, th, used, rh))
        reloads = [
            p.reload_verdict(backend, m, "alertmanager_config_last_reload_successful") for m in good
        ]
        out.append(next((v for v in reloads if v.level != p.OK), reloads[0]))
        names = await off_loop(self._alert_names, cluster.name)
        if self.alerts.last_good is not None:
            starts = [p.value(m, "process_start_time_seconds") for m in good]
            started = max((s for s in starts if s is not None), default=None)
            out.append(p.watchdog_verdict(backend, self.watchdog, names, started, time.time()))
        return out

    async def _prometheus(self, now: float) -> list[p.Verdict]:
        prometheus = self.clients.prometheus
        if prometheus is None:
            return []
        backend = "prometheus"
        out: list[p.Verdict] = []
        try:
            metrics = await _metrics(prometheus.endpoint, prometheus.url)
        except errors.ApiError as exc:
            out.append(
                p.Verdict(
                    backend,
                    "metrics",
                    p.UNKNOWN,
                    f"cannot read /metrics: {one_line(exc.message, 200)}",
                )
            )
        else:
            eh, dh = self._history("prom/errors"), self._history("prom/dropped")
            eh.add(now, {"all": p.value(metrics, "prometheus_notifications_errors_total") or 0.0})
            dh.add(now, {"all": p.value(metrics, "prometheus_notifications_dropped_total") or 0.0})
            out.extend(p.prometheus_notify_verdicts(backend, eh, dh, metrics))
            out.append(
                p.reload_verdict(backend, metrics, "prometheus_config_last_reload_successful")
            )
        rules = self.clients.rules
        try:
            groups = await rules.rules("alert") if rules is not None else []
            out.extend(p.rule_verdicts(backend, groups, datetime.now(UTC)))
            down = await prometheus.query("count by (job) (up == 0)")
            counts = {s.labels.get("job", ""): int(s.value) for s in down.samples}
            out.append(p.targets_verdict(backend, counts, p.rule_jobs(groups)))
        except errors.ApiError as exc:
            out.append(p.Verdict(backend, "rules", p.UNKNOWN, one_line(exc.message, 200)))
        return out


def _summed(pages: Iterable[dict[str, float]]) -> dict[str, float]:
    """Counters by key, summed over the peers' pages."""
    out: dict[str, float] = {}
    for page in pages:
        for key, v in page.items():
            out[key] = out.get(key, 0.0) + v
    return out
