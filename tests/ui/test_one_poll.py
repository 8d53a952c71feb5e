"""At most one poll of each kind of data per context, whatever views are open.

The real Alertmanager and Prometheus (0.25 and 2.42 here) sit behind pass-through proxies
that record every request; the app opens the board, then `:slo`, the alert detail,
`:silences`, `:health` and `:routes` in turn (a `:` view replaces the one before it, over the
board, which stays open and keeps its status line fed), and the requests the servers
received are counted against the polls the stores made.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import msgspec
import pytest

from oncall_tui.cli.demo import demo_context
from oncall_tui.config import ClusterConfig, PrometheusConfig
from oncall_tui.demo.stack import Stack
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.detail import AlertDetailScreen
from oncall_tui.ui.screens.health import HealthScreen
from oncall_tui.ui.screens.routes import RoutesScreen
from oncall_tui.ui.screens.silences import SilencesScreen
from oncall_tui.ui.screens.slo import SLOScreen
from tests.helpers import context_app, until
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.stack


@pytest.fixture
def proxies(stack: Stack) -> Iterator[tuple[FaultProxy, FaultProxy]]:
    assert stack.prometheus_url is not None
    with FaultProxy(stack.alertmanager_urls[0]) as am, FaultProxy(stack.prometheus_url) as prom:
        yield am, prom


def count(requests: list[str], path: str, **query: str) -> int:
    found = 0
    for target in requests:
        parts = urlsplit(target)
        params = parse_qs(parts.query)
        if parts.path == path and all(params.get(k) == [v] for k, v in query.items()):
            found += 1
    return found


async def test_every_view_open_still_makes_one_poll_of_each_kind(
    stack: Stack, proxies: tuple[FaultProxy, FaultProxy]
) -> None:
    am, prom = proxies
    context = msgspec.structs.replace(
        demo_context(stack, refresh=1),
        alertmanagers=[ClusterConfig(name="demo", peers=[am.url])],
        prometheus=PrometheusConfig(url=prom.url),
    )
    app = context_app(context)
    async with app.run_test(size=(120, 35)) as pilot:
        board = app.screen
        assert isinstance(board, AlertsScreen)
        await until(pilot, lambda: board.polls >= 2 and app.state.slo.seen.polls >= 1)
        await app.run_command("slo")
        await until(pilot, lambda: isinstance(app.screen, SLOScreen) and app.screen.is_mounted)
        await app.run_command("alerts")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AlertDetailScreen))
        await app.run_command("silences")
        await until(pilot, lambda: isinstance(app.screen, SilencesScreen))
        await app.run_command("health")
        await until(pilot, lambda: isinstance(app.screen, HealthScreen) and app.screen.is_mounted)
        await app.run_command("routes")
        await until(pilot, lambda: isinstance(app.screen, RoutesScreen))
        polls_before = app.state.alerts.polls
        await until(pilot, lambda: app.state.alerts.polls >= polls_before + 3)

        alerts, slo = app.state.alerts.loop, app.state.slo.loop
        # Count between polls: the loops are idle for a second after each.
        await until(pilot, lambda: alerts.polls == app.state.alerts.polls)
        am_requests, prom_requests = list(am.requests), list(prom.requests)
        alert_polls, slo_polls = alerts.polls, slo.polls
        health_polls = app.state.health.loop.polls

    groups = count(am_requests, "/api/v2/alerts/groups")
    silences = count(am_requests, "/api/v2/silences")
    # One read of groups and of silences per poll of the alert store (the start-up prefetch
    # is not used in tests); `:silences` reads no more than the board does.
    assert alert_polls - 1 <= groups <= alert_polls + 1, (groups, alert_polls)
    assert alert_polls - 1 <= silences <= alert_polls + 1, (silences, alert_polls)
    assert count(am_requests, "/api/v2/alerts") == 0  # :silences used the board's alerts
    # The SLO figures: one rules read per SLO poll, for the strip, :slo and the detail
    # together (three views used to make three polls).
    record_rules = count(prom_requests, "/api/v1/rules", type="record")
    assert slo_polls - 1 <= record_rules <= slo_polls + 1, (record_rules, slo_polls)
    assert slo_polls <= 3, slo_polls  # the strip's, :slo's (charts) and at most one more
    # The pipeline's health: one read of each /metrics page per health poll, for the board's
    # status line and `:health` together (counted between polls; one may be under way).
    for requests in (am_requests, prom_requests):
        assert health_polls - 1 <= count(requests, "/metrics") <= health_polls + 1, health_polls
    # /status: the health poll's, plus `:routes`'s one read of the tree (kept CONFIG_TTL).
    assert count(am_requests, "/api/v2/status") <= health_polls + 2, health_polls
    # Alerting rules: the health poll's, plus the detail's one lookup (kept RULES_TTL) and the
    # board's word on held alerts.
    assert count(prom_requests, "/api/v1/rules", type="alert") <= health_polls + 3, health_polls
