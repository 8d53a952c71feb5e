"""Rows of the alert list, built from merged Alertmanager groups and Prometheus's pending alerts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from ..api.prometheus import RuleAlert
from .merge import MergedGroup, unique_alerts
from .severity import rank

# Labels every row shows in its own column, so the label summary leaves them out.
SHOWN = frozenset({"alertname", "severity"})


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    severity: str
    name: str
    state: str  # active | silenced | inhibited | unprocessed | pending
    cluster: str
    labels: tuple[tuple[str, str], ...]
    started: datetime | None
    summary: str
    peers: int

    def sort_key(self) -> tuple[int, float, str]:
        started = self.started.timestamp() if self.started else float("inf")
        return (rank(self.severity), started, self.name)


def _extra_labels(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k not in SHOWN))


def build_rows(
    groups: Mapping[str, list[MergedGroup] | None], pending: Iterable[RuleAlert] = ()
) -> list[Row]:
    """Every alert once, then the pending ones; most severe and oldest first."""
    rows = []
    for cluster_groups in groups.values():
        for merged in unique_alerts(cluster_groups or ()):
            alert = merged.alert
            rows.append(
                Row(
                    key=f"{merged.cluster}/{alert.fingerprint}",
                    severity=alert.labels.get("severity", ""),
                    name=alert.name,
                    state=alert.state,
                    cluster=merged.cluster,
                    labels=_extra_labels(alert.labels),
                    started=alert.starts_at,
                    summary=alert.annotations.get("summary", ""),
                    peers=len(merged.peers),
                )
            )
    for held in pending:
        labels = held.labels
        rows.append(
            Row(
                key="pending/" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
                severity=labels.get("severity", ""),
                name=labels.get("alertname", ""),
                state="pending",
                cluster="prometheus",
                labels=_extra_labels(labels),
                started=held.active_at,
                summary=held.annotations.get("summary", ""),
                peers=0,
            )
        )
    rows.sort(key=Row.sort_key)
    return rows
