"""10,000 synthetic alerts in 500 groups for a real Alertmanager, and 1% churn between polls.

The demo's alertmanager.yml groups by alertname, cluster and service, so 50 alert names times
10 services, 20 alerts each, make 500 groups. Critical alerts route to `pagerduty`, warnings
to `email`, the rest to `default`: each alert sits in exactly one group.

The board sorts groups by severity, then by the start of their first alert, so the groups on
screen at start are known: the critical groups 0, 10, 20... in that order. Ages sit 30 minutes
past a whole day ("2d"), so no age on screen ticks during a run: an idle board has nothing new
to draw. Alerts end 3 hours from now, far past the end of a run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.procs import http_get
from oncall_tui.wire.alertmanager import PostableAlert

NAMES = 50
SERVICES = 10
PER_GROUP = 20
GROUPS = NAMES * SERVICES
CANARY = "SyntheticAlert00"  # group 0's name: the first group on the board
BATCH = 1000
# The root route's group_wait and group_interval: Alertmanager's defaults, as production
# routes have them. With the demo's 1 s, each peer holding 10,000 alerts spends about a
# quarter of a core re-checking its 500 groups every second (measured: 26-31% per cluster
# of 2 peers, 2-3% with these), and ten of them took most of a 2-core machine.
PRODUCTION_TIMINGS = ("30s", "5m")

Key = tuple[int, int]  # (group, index in group)


def severity(group: int) -> str:
    tenth = group % 10
    return "critical" if tenth == 0 else "warning" if tenth <= 3 else "info"


class AlertSet:
    """The alerts as they should be in Alertmanager; `revision` changes a summary."""

    def __init__(self, groups: int = GROUPS, per_group: int = PER_GROUP) -> None:
        self.groups = groups
        self.per_group = per_group
        now = datetime.now(UTC)
        self.base = now - timedelta(days=2, minutes=30)
        self.ends = now + timedelta(hours=3)
        self.revision: dict[Key, int] = {}

    @property
    def total(self) -> int:
        return self.groups * self.per_group

    def keys(self) -> list[Key]:
        return [(g, i) for g in range(self.groups) for i in range(self.per_group)]

    def alert(self, g: int, i: int) -> PostableAlert:
        service = f"svc-{g // NAMES:02d}"
        rev = self.revision.get((g, i), 0)
        rate = 5.0 + ((g * 7 + i * 13 + rev * 31) % 400) / 10
        return PostableAlert(
            labels={
                "alertname": f"SyntheticAlert{g % NAMES:02d}",
                "cluster": "bench",
                "service": service,
                "severity": severity(g),
                "team": ("ops", "ml", "data", "web")[g % 4],
                "namespace": f"{service}-prod",
                "instance": f"10.{g // 250}.{g % 250}.{i}:8080",
                "pod": f"{service}-7d9f8c6b5-{g:03d}{i:02d}",
                "job": service,
                "endpoint": "/predict",
            },
            annotations={
                "summary": f"Error rate {rate:.1f}% on {service} replica {i}",
                "description": f"Error rate is {rate:.1f}% (threshold: 5%) over 5 minutes.",
                "runbook_url": f"https://runbooks.example.com/SyntheticAlert{g % NAMES:02d}",
                "dashboard_url": f"https://grafana.example.com/d/{service}?var-i={i}",
            },
            starts_at=self.base + timedelta(seconds=g, milliseconds=10 * i),
            ends_at=self.ends,
            generator_url="http://prometheus:9090/graph?g0.expr=job%3Aerrors%3Aratio5m&g0.tab=1",
        )

    @property
    def shown(self) -> int:
        """Alerts on the board: every synthetic one and the Watchdog."""
        return self.total + 1

    def watchdog(self) -> PostableAlert:
        """The always-firing alert of a healthy pipeline: without it the app rightly warns
        that alerts may not reach Alertmanager, and that warning redraws the board."""
        return PostableAlert(
            labels={"alertname": "Watchdog", "severity": "none", "cluster": "bench"},
            annotations={"summary": "The alerting pipeline is working."},
            starts_at=self.base,
            ends_at=self.ends,
        )

    def all(self) -> list[PostableAlert]:
        return [*(self.alert(g, i) for g, i in self.keys()), self.watchdog()]

    def bump(self, keys: Iterable[Key]) -> list[PostableAlert]:
        """New summaries for `keys`: what re-posting them changes in Alertmanager."""
        out = []
        for key in keys:
            self.revision[key] = self.revision.get(key, 0) + 1
            out.append(self.alert(*key))
        return out

    # -- which alerts to change ----------------------------------------------------------------

    def random_share(self, rng: random.Random, share: float = 0.01) -> list[Key]:
        """`share` of all alerts, anywhere on the board (mostly off screen)."""
        return rng.sample(self.keys(), round(self.total * share))

    def on_screen_first(self, rng: random.Random, share: float = 0.01) -> list[Key]:
        """`share` of all alerts, starting with every alert of the first groups on screen."""
        n = round(self.total * share)
        top = [(g, i) for g in (0, 10) for i in range(self.per_group)][:n]
        rest = [k for k in self.keys() if k[0] not in (0, 10)]
        return top + rng.sample(rest, n - len(top))

    def off_screen(self, rng: random.Random, share: float = 0.01) -> list[Key]:
        """`share` of all alerts, only in info groups: never on the first screen."""
        pool = [k for k in self.keys() if severity(k[0]) == "info"]
        return rng.sample(pool, round(self.total * share))


class Poster:
    """Posts alerts with the project's own client, on a loop of its own (sync callers)."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.loop = asyncio.new_event_loop()
        self.peers = [AlertmanagerPeer(u, ClientOptions(read_timeout=60.0)) for u in urls]

    def post(self, alerts: Sequence[PostableAlert]) -> float:
        """Post to every peer (HA peers do not share alerts); returns the seconds it took."""
        start = time.perf_counter()

        async def run() -> None:
            for first in range(0, len(alerts), BATCH):
                batch = alerts[first : first + BATCH]
                await asyncio.gather(*(p.post_alerts(batch) for p in self.peers))

        self.loop.run_until_complete(run())
        return time.perf_counter() - start

    def close(self) -> None:
        async def run() -> None:
            await asyncio.gather(*(p.aclose() for p in self.peers))

        self.loop.run_until_complete(run())
        self.loop.close()


def groups_body(url: str) -> tuple[bytes, float]:
    """One GET /api/v2/alerts/groups, as the board does it, and the seconds it took."""
    start = time.perf_counter()
    status, body = http_get(url + "/api/v2/alerts/groups", timeout=30.0)
    if status != 200:
        raise RuntimeError(f"GET /api/v2/alerts/groups: HTTP {status}")
    return body, time.perf_counter() - start
