"""Where alerts go, from the configuration each cluster serves: read on demand, kept a while.

The routing tree changes only when someone reloads Alertmanager, so one `/api/v2/status` per
cluster every CONFIG_TTL serves the `w` view, the detail's section and `:routes`. Which alerts
inhibit one now comes from the board's own poll (the AlertStore), never a second poll; the
silences are read when asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime

from oncall_tui.api.alertmanager import AlertmanagerCluster
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.routing import (
    RoutingConfig,
    RoutingError,
    Where,
    count_alerts,
    parse_config,
    where,
)
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.alert_store import AlertStore
from oncall_tui.state.wiring import Clients
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Silence

CONFIG_TTL = 60.0


class RoutingUnavailable(errors.ApiError):
    """No routing tree to walk: no such cluster, or its configuration cannot be read."""

    def __init__(self, what: str) -> None:
        super().__init__("config", what)


class RoutingBook:
    def __init__(self, clients: Clients, alerts: AlertStore) -> None:
        self.clients = clients
        self.alerts = alerts
        self._configs: dict[str, tuple[float, RoutingConfig]] = {}
        self._lock = asyncio.Lock()

    @property
    def cluster_names(self) -> list[str]:
        return [c.name for c in self.clients.clusters]

    def _cluster(self, name: str) -> AlertmanagerCluster:
        found = next((c for c in self.clients.clusters if c.name == name), None)
        if found is None:
            raise RoutingUnavailable(f"cluster {one_line(name, 80)} is not in this context")
        return found

    async def config(self, cluster: str, *, fresh: bool = False) -> RoutingConfig:
        """The cluster's routing tree, from the first peer that answers."""
        target = self._cluster(cluster)
        async with self._lock:
            kept = self._configs.get(cluster)
            now = time.monotonic()
            if kept is not None and not fresh and now - kept[0] < CONFIG_TTL:
                return kept[1]
            statuses = await target.statuses()
            texts = [s.config.original for s in statuses.results.values() if s.config.original]
            if not texts:
                raise RoutingUnavailable(f"{one_line(cluster, 80)} serves no configuration")
            try:
                config = await asyncio.to_thread(parse_config, texts[0])
            except RoutingError as exc:
                raise RoutingUnavailable(
                    f"cannot read {one_line(cluster, 80)}'s routing: {one_line(str(exc), 300)}"
                ) from None
            self._configs[cluster] = (now, config)
            return config

    def firing(self, cluster: str) -> list[Mapping[str, str]]:
        """Labels of the cluster's alerts the board holds that Alertmanager still has
        (silenced and inhibited ones inhibit too; resolved ones no longer do)."""
        return [
            a.labels
            for g in self.alerts.board_groups
            if g.cluster == cluster
            for a in g.alerts
            if not a.unconfirmed and a.state != "pending"
        ]

    def counts(self, cluster: str, config: RoutingConfig) -> dict[str, int]:
        """How many of the cluster's current alerts each route holds."""
        seen: dict[str, Mapping[str, str]] = {}
        for g in self.alerts.board_groups:
            if g.cluster != cluster:
                continue
            for a in g.alerts:
                if not a.unconfirmed and a.state != "pending":
                    seen.setdefault(a.fingerprint, a.labels)
        return count_alerts(config, seen.values())

    def cluster_for(self, alert: BoardAlert) -> str:
        """The alert's cluster; a pending alert (Prometheus's, no cluster yet) is routed on
        the context's first cluster: where it will go once it fires."""
        names = self.cluster_names
        if alert.cluster in names or not names:
            return alert.cluster
        return names[0]

    async def silences(self, cluster: str) -> list[Silence]:
        return await self._cluster(cluster).silences()

    async def where(self, alert: BoardAlert, now: datetime | None = None) -> Where:
        cluster = self.cluster_for(alert)
        config = await self.config(cluster)
        silences = await self.silences(cluster)
        return where(
            config,
            alert.labels,
            firing=self.firing(cluster),
            silences=silences,
            now=now or datetime.now().astimezone(),
        )
