"""Synthetic Alertmanager /api/v2/alerts/groups bodies, shaped like the real ones."""

from __future__ import annotations

import json
from typing import Any


def alert_groups_body(n_alerts: int = 10_000, per_group: int = 20) -> bytes:
    """`n_alerts` alerts in groups of `per_group`, about 1.2 KB per alert as Alertmanager sends."""
    groups: list[dict[str, Any]] = []
    for g in range(0, n_alerts, per_group):
        alerts: list[dict[str, Any]] = []
        for i in range(g, min(g + per_group, n_alerts)):
            alerts.append(
                {
                    "annotations": {
                        "summary": f"High error rate on churn-api replica {i}",
                        "description": "Error rate is 7.9% (threshold: 5%) over the last five minutes "
                        "on this replica; check the upstream feature store and recent deploys.",
                        "runbook_url": "https://runbooks.example.com/HighErrorRate",
                        "dashboard_url": "https://grafana.example.com/d/churn-api/overview"
                        f"?var-pod=churn-api-7d9f8c6b5-{i:05d}&from=now-6h&to=now&refresh=30s",
                    },
                    "endsAt": "2026-11-28T19:04:05.123Z",
                    "fingerprint": f"{i:016x}",
                    "receivers": [{"name": "pagerduty"}, {"name": "ops-team-slack"}],
                    "startsAt": "2026-11-28T18:00:00.000Z",
                    "status": {
                        "inhibitedBy": [],
                        "silencedBy": [] if i % 7 else ["a1b2c3"],
                        "state": "active" if i % 7 else "suppressed",
                    },
                    "updatedAt": "2026-11-28T19:00:05.123Z",
                    "generatorURL": "http://prometheus:9090/graph?g0.expr=sum%28rate%28churn_api_requests_total%5B5m%5D%29%29&g0.tab=1",
                    "labels": {
                        "alertname": f"HighErrorRate{g // per_group % 40}",
                        "cluster": "eu-west-1",
                        "service": "churn-api",
                        "severity": "critical",
                        "team": "ops",
                        "namespace": "churn-mlops",
                        "instance": f"10.0.{i // 250}.{i % 250}:8080",
                        "pod": f"churn-api-7d9f8c6b5-{i:05d}",
                        "job": "churn-api",
                        "endpoint": "/predict",
                        "prometheus": "monitoring/kube-prometheus",
                    },
                }
            )
        groups.append(
            {
                "alerts": alerts,
                "labels": {
                    "alertname": alerts[0]["labels"]["alertname"],
                    "cluster": "eu-west-1",
                    "service": "churn-api",
                },
                "receiver": {"name": "pagerduty"},
            }
        )
    return json.dumps(groups).encode()
