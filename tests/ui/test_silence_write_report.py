"""A maintenance window refused half-way by Alertmanager 0.28.0's silence limit, through the
real app: the contract server (tests/support/am_contract.py) stands in front of the real 0.25
of the demo stack and answers a POST over `max_silences` as 0.28.0 does, 400 with the bare
string `exceeded maximum number of silences: N (limit: M)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from textual.widgets import Input, Static

from oncall_tui.cli.demo import demo_context
from oncall_tui.config import ClusterConfig, Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.dialogs.silence_form import SilenceForm
from oncall_tui.ui.screens.alerts import AlertsScreen
from tests.helpers import plain, until
from tests.support.am_contract import ContractServer

pytestmark = pytest.mark.stack
VERSION = "0.28.0"
USER = "limits@oncall"


@pytest.fixture
def run(stack: Stack) -> Iterator[str]:
    """A label value of this test's own; its silences are expired afterwards."""
    value = uuid.uuid4().hex[:12]
    yield value
    url = stack.alertmanager_urls[0]
    for s in httpx.get(f"{url}/api/v2/silences", timeout=5).json():
        if s["status"]["state"] != "expired" and s["createdBy"] == USER:
            httpx.delete(f"{url}/api/v2/silence/{s['id']}", timeout=5)


def held(upstream: str, run: str) -> list[dict[str, Any]]:
    every = httpx.get(upstream + "/api/v2/silences", timeout=5).json()
    return [
        s
        for s in every
        if s["createdBy"] == USER
        and s["status"]["state"] != "expired"
        and any(m["value"] == run for m in s["matchers"])
    ]


async def test_maintenance_over_the_0_28_silence_limit_says_which_set_was_written(
    stack: Stack, run: str
) -> None:
    upstream = stack.alertmanager_urls[0]
    count = len(httpx.get(upstream + "/api/v2/silences", timeout=5).json())
    server = ContractServer(VERSION, upstream, max_silences=count + 1)
    with server.running() as contract:
        context = msgspec.structs.replace(
            demo_context(stack, refresh=1),
            alertmanagers=[ClusterConfig(name="am28", peers=[contract.url])],
        )
        app = OncallApp(Settings.from_data({"user": USER}), build_clients(context))
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
            await pilot.press("colon", *"maintenance", "enter")
            await until(pilot, lambda: isinstance(app.screen, SilenceForm))
            await pilot.press(*"limits", "tab", *"2h", "tab", *"kernel upgrade")
            app.screen.query_one("#sf-add").focus()
            first, second = f'first_set="{run}"', f'second_set="{run}"'
            await pilot.press(*first, "enter", *second, "enter")
            form = app.screen
            assert isinstance(form, SilenceForm)
            typed = form.form_input()
            await pilot.press("ctrl+s")
            if "again to confirm" in str(form.query_one("#sf-status", Static).render()):
                await pilot.press("ctrl+s")

            def said() -> str:
                return plain(form.query_one("#sf-status", Static))

            await until(pilot, lambda: "NOT written" in said(), "the refusal shown")
            words = f"exceeded maximum number of silences: {count + 1} (limit: {count + 1})"
            lines = said().splitlines()
            assert lines[0].startswith("1 of 2 written"), lines
            assert any(
                f"am28 {{{first}}}: active" in line for line in lines
            ), lines  # fmt: skip
            # The server's own words, after the status it came with.
            assert f"am28 {{{second}}}: NOT written: HTTP 400: {words}" in lines, lines
            # The form is still up with everything the user typed.
            assert form.form_input() == typed
            assert form.query_one("#sf-comment", Input).value == "kernel upgrade"
            assert app.screen is form
            (written,) = held(upstream, run)
            assert written["matchers"][0]["name"] == "first_set"

            # The limit lifted, saving again writes only what was refused: no second copy.
            contract.max_silences = 0
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, AlertsScreen), "saved")
        assert contract.violations == []
    names = sorted(s["matchers"][0]["name"] for s in held(upstream, run))
    assert names == ["first_set", "second_set"]
