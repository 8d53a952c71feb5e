"""The health checks parse only the series they read from each /metrics page
(domain/pipeline.py HEALTH_METRICS): those series come out the same as from the whole page.

Against the test stack's real servers: Debian's prometheus-alertmanager 0.25.0 and
prometheus 2.42.0 (FACTS.md), whose pages are what the checks were written against.
"""

from __future__ import annotations

import httpx
import pytest

from oncall_tui.demo.stack import Stack
from oncall_tui.domain import pipeline as p

# What state/health.py and domain/pipeline.py read of each server, by name.
READ = {
    "alertmanager": (
        "alertmanager_config_last_reload_successful",
        "alertmanager_notifications_total",
        "alertmanager_notifications_failed_total",
        "alertmanager_notification_requests_total",
        "alertmanager_notification_requests_failed_total",
        "process_start_time_seconds",
    ),
    "prometheus": (
        "prometheus_config_last_reload_successful",
        "prometheus_notifications_errors_total",
        "prometheus_notifications_dropped_total",
        "prometheus_notifications_queue_length",
        "prometheus_notifications_queue_capacity",
    ),
}


@pytest.mark.stack
@pytest.mark.parametrize("server", ["alertmanager", "prometheus"])
def test_the_series_the_checks_read_are_the_whole_pages(stack: Stack, server: str) -> None:
    url = stack.alertmanager_urls[0] if server == "alertmanager" else stack.prometheus_url
    assert url is not None
    page = httpx.get(f"{url}/metrics", timeout=10).text
    whole = p.parse_metrics(page)
    some = p.parse_metrics(page, p.HEALTH_METRICS)
    assert len(some) < len(whole) / 4, "most of the page is skipped"
    for name in READ[server]:
        assert p.series(whole, name), f"{name} is on the real page"
        assert p.series(some, name) == p.series(whole, name), name
