"""The silence form reads matcher rows as the Alertmanagers written to read them: the classic
grammar of 0.25.0 (the real server of the demo stack) and the UTF-8 grammar with classic
fallback of 0.27.0 (the contract server, tests/support/am_contract.py, in front of it).

`"grammar_probe"="yes"` (a quoted name) is the telling row: 0.25's parser refuses it, 0.27's
reads the name grammar_probe, which 0.25's storage behind the contract server accepts.
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
from textual.widgets import Static

from oncall_tui.cli.demo import demo_context
from oncall_tui.config import ClusterConfig, Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.dialogs.silence_form import SilenceForm
from oncall_tui.ui.screens.alerts import AlertsScreen
from tests.helpers import alert_row, until
from tests.support.am_contract import ContractServer

pytestmark = pytest.mark.stack
USER = "grammar@oncall"
NAME = "FormGrammarProbe"


@pytest.fixture
def posted(stack: Stack) -> Iterator[str]:
    """One alert of this test's own on the real 0.25; it and its silences go afterwards."""
    url = stack.alertmanager_urls[0]
    run = uuid.uuid4().hex[:12]

    def post(ends: datetime) -> None:
        body = [{"labels": {"alertname": NAME, "grammar_run": run, "severity": "info"},
                 "startsAt": (ends - timedelta(hours=2)).isoformat(),
                 "endsAt": ends.isoformat()}]  # fmt: skip
        httpx.post(f"{url}/api/v2/alerts", json=body, timeout=10).raise_for_status()

    post(datetime.now(UTC) + timedelta(hours=1))
    yield run
    post(datetime.now(UTC) - timedelta(seconds=1))
    for s in httpx.get(f"{url}/api/v2/silences", timeout=5).json():
        if s["status"]["state"] != "expired" and s["createdBy"] == USER:
            httpx.delete(f"{url}/api/v2/silence/{s['id']}", timeout=5)


def held(upstream: str, run: str) -> list[dict[str, Any]]:
    return [
        s
        for s in httpx.get(upstream + "/api/v2/silences", timeout=5).json()
        if s["createdBy"] == USER
        and s["status"]["state"] != "expired"
        and {"name": "grammar_run", "value": run, "isRegex": False, "isEqual": True}
        in s["matchers"]
    ]


def on_probe(app: OncallApp) -> bool:
    screen = app.screen
    current = screen.board.current if isinstance(screen, AlertsScreen) else None
    return current is not None and current.alert is not None and current.alert.name == NAME


def said(form: SilenceForm, selector: str) -> str:
    return str(form.query_one(selector, Static).render())


@pytest.mark.parametrize("version", ["0.25.0", "0.27.0"])
async def test_form_rows_are_read_with_the_peers_grammar(
    stack: Stack, posted: str, version: str
) -> None:
    upstream = stack.alertmanager_urls[0]
    with contextlib.ExitStack() as servers:
        url = upstream
        if version != "0.25.0":
            url = servers.enter_context(ContractServer(version, upstream).running()).url
        context = msgspec.structs.replace(
            demo_context(stack, refresh=1), alertmanagers=[ClusterConfig(name="am", peers=[url])]
        )
        app = OncallApp(Settings.from_data({"user": USER}), build_clients(context))
        async with app.run_test(size=(120, 35)) as pilot:
            await until(pilot, lambda: alert_row(app, NAME), "the probe on the board")
            await pilot.press("slash", *f"grammar_run={posted}", "enter")
            await until(pilot, lambda: on_probe(app), "the cursor on the probe")
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, SilenceForm))
            form = app.screen
            assert isinstance(form, SilenceForm)
            await pilot.press("tab", *"grammar test")  # the comment, after the end
            form.query_one("#sf-add").focus()
            await pilot.press(*'"grammar_probe"="yes"', "enter")
            if version == "0.25.0":
                await until(pilot, lambda: "bad matcher format" in said(form, "#sf-problems"))
                assert "row 3: column 1" in said(form, "#sf-problems")
                await pilot.press("ctrl+s")
                await until(pilot, lambda: "fix the fields" in said(form, "#sf-status"))
                assert app.screen is form
            else:
                await until(pilot, lambda: "Preview:" not in said(form, "#sf-preview-title"))
                assert not form.query_one("#sf-problems").display
                await pilot.press("ctrl+s")
                await until(pilot, lambda: isinstance(app.screen, AlertsScreen), "saved")
    got = held(upstream, posted)
    if version == "0.25.0":
        assert got == []
        return
    (silence,) = got
    assert {"name": "grammar_probe", "value": "yes", "isRegex": False, "isEqual": True} in (
        silence["matchers"]
    )
