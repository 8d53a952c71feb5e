"""The real app, driven by Pilot through the Mimir and Thanos gateways (tests/support/
gateways.py, each rule sourced there) in front of the session's real servers: the board, the
status line naming the engine, a detail's rule and history, `:query` and `:slo`; partial
answers shown as partial, Mimir's 401 in words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from textual.widgets import Static

from oncall_tui.cli.demo import demo_context
from oncall_tui.config import ClusterConfig, Context
from oncall_tui.config.schema import PrometheusConfig
from oncall_tui.demo.stack import Stack
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.detail import AlertDetailScreen
from oncall_tui.ui.screens.query import QueryScreen
from oncall_tui.ui.screens.slo import SLOScreen
from oncall_tui.ui.widgets.query_result import ResultView
from tests.helpers import context_app, cursor_on, plain, section, status, until
from tests.support.gateways import MimirGateway, Store, ThanosQuerier

pytestmark = pytest.mark.stack


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`:query` history goes to a temporary XDG data dir, never the user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def mimir(stack: Stack) -> Iterator[MimirGateway]:
    gateway = MimirGateway(stack.prometheus_url or "", stack.alertmanager_urls[0]).start()
    yield gateway
    gateway.stop()


@pytest.fixture
def thanos(stack: Stack) -> Iterator[ThanosQuerier]:
    url = stack.prometheus_url or ""
    gateway = ThanosQuerier(
        [Store("sidecar-a", url, {"replica": "A"}), Store("sidecar-b", url, {"replica": "B"})]
    ).start()
    yield gateway
    gateway.stop()


def through_mimir(stack: Stack, gateway: MimirGateway, tenant: str | None) -> OncallApp:
    headers = {"X-Scope-OrgID": tenant} if tenant else {}
    context = msgspec.structs.replace(
        demo_context(stack, refresh=1),
        name="mimir",
        alertmanagers=[
            ClusterConfig(
                name="mimir", peers=[gateway.url], path_prefix="/alertmanager", headers=headers
            )
        ],
        prometheus=PrometheusConfig(url=gateway.url, path_prefix="/prometheus", headers=headers),
    )
    return context_app(context)


def through_thanos(stack: Stack, gateway: ThanosQuerier) -> OncallApp:
    context: Context = msgspec.structs.replace(
        demo_context(stack, refresh=1), name="thanos", prometheus=PrometheusConfig(url=gateway.url)
    )
    return context_app(context)


def result_text(app: OncallApp) -> str:
    view = app.screen.query_one("#query-result", ResultView)
    return "\n".join(plain(s) for s in view.query(Static).results(Static))


def slo_text(app: OncallApp) -> str:
    if not isinstance(app.screen, SLOScreen):
        return ""
    return "\n".join(plain(s) for s in app.screen.query(".slo-card").results(Static))


async def test_every_view_through_mimir(stack: Stack, mimir: MimirGateway) -> None:
    stack.wait_for_firing()
    app = through_mimir(stack, mimir, "team-a")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await until(pilot, lambda: "Grafana Mimir" in status(app), "the engine named")
        # One URL in front of the ring: one peer, nothing to merge.
        await until(pilot, lambda: "mimir 1/1 peers" in status(app), "one peer")
        await cursor_on(app, pilot, "HighErrorRate")
        await pilot.press("enter")
        assert isinstance(app.screen, AlertDetailScreen)
        await until(pilot, lambda: "expression" in section(app, "rule"), "the rule, via the ruler")
        assert "churn_api_requests_total" in section(app, "rule")
        history = app.screen.query_one("#detail-history", Static)
        await until(pilot, lambda: "episode" in plain(history), "history through the gateway")
        await pilot.press("escape", "colon", *"query", "enter")
        assert isinstance(app.screen, QueryScreen)
        await pilot.press(*'up{job="churn-api"}', "enter")
        await until(pilot, lambda: "2 series" in result_text(app), "a query through /prometheus")
        assert "PARTIAL" not in result_text(app)
        await pilot.press("escape", "colon", *"slo", "enter")
        await until(pilot, lambda: "availability" in slo_text(app), ":slo through the gateway")
        assert "partial" not in slo_text(app).lower()
    assert all(r.headers.get("x-scope-orgid") == "team-a" for r in mimir.requests)


async def test_mimir_without_a_tenant_says_what_to_add(stack: Stack, mimir: MimirGateway) -> None:
    app = through_mimir(stack, mimir, None)
    async with app.run_test(size=(200, 40)) as pilot:
        await until(pilot, lambda: "X-Scope-OrgID" in status(app), "the 401 explained")
        assert "no org id" in status(app) and "tenant" in status(app)


async def test_thanos_partial_answers_say_partial_never_ok(
    stack: Stack, thanos: ThanosQuerier
) -> None:
    stack.wait_for_firing()
    thanos.stores[1].up = False
    app = through_thanos(stack, thanos)
    async with app.run_test(size=(200, 40)) as pilot:
        await until(pilot, lambda: "Thanos Querier" in status(app), "the engine named")
        await until(pilot, lambda: "pending alerts partial" in status(app), "pending: partial")
        await pilot.press("colon", *"query", "enter")
        await pilot.press(*'up{job="churn-api"}', "enter")
        await until(pilot, lambda: "PARTIAL: 2 series" in result_text(app), ":query partial")
        assert "partial: receive series from sidecar-b" in result_text(app)
        await pilot.press("escape", "colon", *"slo", "enter")
        await until(pilot, lambda: "partial" in slo_text(app).lower(), ":slo partial")
