"""Typed times under clock skew, through the real app on two real Alertmanager 0.25.0 clusters
(the session's stack and this module's own), each behind tests/support/skew_proxy.py: one
stamps its answers two minutes ahead of ours, the other two minutes behind.

A time typed relative to now ("2h") follows the clock of each cluster written to; a time the
user named (an ISO instant) is their wall time and is written unshifted to both. The real
servers behind still judge every silence by their own (unshifted) clock.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest

from oncall_tui.cli.demo import demo_context
from oncall_tui.config import ClusterConfig, Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.dialogs.silence_form import SilenceForm
from oncall_tui.ui.screens.alerts import AlertsScreen
from tests.helpers import alert_row, status, until
from tests.support.skew_proxy import skew_proxy

pytestmark = pytest.mark.stack
SHIFT = timedelta(minutes=2)
USER = "typed-skew@oncall"
NAME = "SkewTypedProbe"
VERSION = "0.25.0"  # both clusters: Debian bookworm's Alertmanager


@pytest.fixture
def servers(stack: Stack, own: Stack) -> Iterator[tuple[str, str, str]]:
    """(run label, first peer of the session's stack, first peer of this module's own),
    each holding the probe alert; alerts resolved and silences expired afterwards."""
    run = uuid.uuid4().hex[:12]
    urls = [stack.alertmanager_urls[0], own.alertmanager_urls[0]]

    def post(ends: datetime) -> None:
        body = [{"labels": {"alertname": NAME, "skew_run": run, "severity": "info"},
                 "startsAt": (ends - timedelta(hours=2)).isoformat(),
                 "endsAt": ends.isoformat()}]  # fmt: skip
        for url in urls:
            httpx.post(f"{url}/api/v2/alerts", json=body, timeout=10).raise_for_status()

    post(datetime.now(UTC) + timedelta(hours=1))
    yield run, urls[0], urls[1]
    post(datetime.now(UTC) - timedelta(seconds=1))
    for url in urls:
        for s in httpx.get(f"{url}/api/v2/silences", timeout=5).json():
            if s["status"]["state"] != "expired" and s["createdBy"] == USER:
                httpx.delete(f"{url}/api/v2/silence/{s['id']}", timeout=5)


def held(url: str, comment: str) -> dict[str, Any]:
    silence: dict[str, Any]
    (silence,) = [
        s
        for s in httpx.get(url + "/api/v2/silences", timeout=5).json()
        if s["createdBy"] == USER and s["comment"] == comment
    ]
    return silence


def ends_at(url: str, comment: str) -> datetime:
    return datetime.fromisoformat(str(held(url, comment)["endsAt"]))


async def test_relative_times_follow_each_clusters_clock_named_ones_do_not_0_25(
    stack: Stack, servers: tuple[str, str, str]
) -> None:
    run, ahead_url, behind_url = servers
    assert VERSION in httpx.get(ahead_url + "/api/v2/status", timeout=5).text
    with contextlib.ExitStack() as proxies:
        ahead = proxies.enter_context(skew_proxy(ahead_url, SHIFT.total_seconds()))
        behind = proxies.enter_context(skew_proxy(behind_url, -SHIFT.total_seconds()))
        clusters = [ClusterConfig(name="ahead", peers=[ahead]),
                    ClusterConfig(name="behind", peers=[behind])]  # fmt: skip
        context = msgspec.structs.replace(demo_context(stack, refresh=1), alertmanagers=clusters)
        app = OncallApp(Settings.from_data({"user": USER}), build_clients(context))
        # An instant named by the user, in UTC, three hours on (to the minute, as typed).
        named = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
        async with app.run_test(size=(160, 40)) as pilot:
            await until(pilot, lambda: alert_row(app, NAME), "the probe on the board")
            await until(
                pilot,
                lambda: (
                    "ahead 2m ahead of this host" in status(app)
                    and "behind 2m behind this host" in status(app)
                ),
                "both clocks named",
            )
            await pilot.press("slash", *f"skew_run={run}", "enter")

            def on_probe() -> bool:
                screen = app.screen
                line = screen.board.current if isinstance(screen, AlertsScreen) else None
                return line is not None and line.alert is not None and line.alert.name == NAME

            await until(pilot, on_probe, "the cursor on the probe")
            pressed: datetime | None = None
            for end, comment in (("2h", "relative"), (named.strftime("%Y-%m-%dT%H:%MZ"), "named")):
                await pilot.press("s")
                await until(pilot, lambda: isinstance(app.screen, SilenceForm))
                await pilot.press(*end, "tab", *comment)  # typing replaces the default end
                pressed = pressed or datetime.now(UTC)
                await pilot.press("ctrl+s")
                await until(pilot, lambda: isinstance(app.screen, AlertsScreen), f"{comment} saved")
    assert pressed is not None
    # "2h" by each server's clock: two minutes later on the one ahead, earlier on the other
    # (before, both took the median of the two offsets, ours).
    for url, shift in ((ahead_url, SHIFT), (behind_url, -SHIFT)):
        want = pressed + shift + timedelta(hours=2)
        assert abs(ends_at(url, "relative") - want) < timedelta(seconds=10), (url, shift)
    # The named instant is the user's: unshifted, on both.
    assert ends_at(ahead_url, "named") == named
    assert ends_at(behind_url, "named") == named
