"""A bulk extend in `:silences` that Alertmanager 0.28.0 refuses in part says which silence was
refused, through the real app on the contract server (tests/support/am_contract.py) in front
of the real 0.25 of the demo stack.

0.28's silence limit counts a new silence, and extending an expired one makes a new one (it
cannot be updated in place), while extending an active one updates it in place: with the
server at its limit, of two marked silences the active one is extended and the expired one
is refused with the server's words.
"""

from __future__ import annotations

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
from oncall_tui.ui.dialogs.confirm import Ask
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.silences import SilencesScreen
from tests.helpers import until
from tests.support.am_contract import ContractServer

pytestmark = pytest.mark.stack
VERSION = "0.28.0"
USER = "bulk@oncall"


@pytest.fixture
def two(stack: Stack) -> Iterator[tuple[str, str, str]]:
    """(comment word, an active silence's ID, an expired one's ID) on the real 0.25."""
    url = stack.alertmanager_urls[0]
    word = f"bulk-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    ids = []
    for which in ("active", "expired"):
        body = {"matchers": [{"name": "bulk_run", "value": word, "isRegex": False,
                              "isEqual": True}],
                "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat(),
                "createdBy": USER, "comment": f"{word} {which}"}  # fmt: skip
        answer = httpx.post(f"{url}/api/v2/silences", json=body, timeout=5)
        ids.append(answer.raise_for_status().json()["silenceID"])
    httpx.delete(f"{url}/api/v2/silence/{ids[1]}", timeout=5).raise_for_status()
    yield word, ids[0], ids[1]
    for s in httpx.get(f"{url}/api/v2/silences", timeout=5).json():
        if s["status"]["state"] != "expired" and s["createdBy"] == USER:
            httpx.delete(f"{url}/api/v2/silence/{s['id']}", timeout=5)


def unexpired(url: str, word: str) -> list[dict[str, Any]]:
    return [
        s
        for s in httpx.get(url + "/api/v2/silences", timeout=5).json()
        if s["status"]["state"] != "expired" and s["comment"].startswith(word)
    ]


async def test_bulk_extend_refused_in_part_by_0_28_names_the_refused_silence(
    stack: Stack, two: tuple[str, str, str]
) -> None:
    word, active, expired = two
    upstream = stack.alertmanager_urls[0]
    (before,) = unexpired(upstream, word)
    held = len(httpx.get(upstream + "/api/v2/silences", timeout=5).json())
    server = ContractServer(VERSION, upstream, max_silences=held)  # full: no new silence
    with server.running() as contract:
        context = msgspec.structs.replace(
            demo_context(stack, refresh=1),
            alertmanagers=[ClusterConfig(name="am28", peers=[contract.url])],
        )
        app = OncallApp(Settings.from_data({"user": USER}), build_clients(context))
        async with app.run_test(size=(160, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
            await pilot.press("colon", *"silences", "enter")

            def mine() -> int:
                screen = app.screen
                return isinstance(screen, SilencesScreen) and sum(
                    r.silence.comment.startswith(word) for r in screen.rows
                )

            await until(pilot, lambda: mine() == 2, "both silences listed")
            await pilot.press("slash", *word, "enter", "A")
            screen = app.screen
            assert isinstance(screen, SilencesScreen)
            assert len(screen.marked) == 2 and len(screen.shown) == 2
            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, Ask))
            await pilot.press("enter")  # the default: 1h

            def report() -> str:
                said = [n for n in app._notifications if "extend 2 silence(s)" in n.title]
                return said[-1].title + "\n" + str(said[-1].message) if said else ""

            await until(pilot, report, "the extend's report")
    lines = report().splitlines()
    assert lines[0] == "extend 2 silence(s): 1 of 2 done"
    (refused,) = [line for line in lines if line.startswith(f"am28 {expired[:8]}")]
    assert refused == (
        f"am28 {expired[:8]}: NOT written: HTTP 400: exceeded maximum number of silences: "
        f"{held} (limit: {held})"
    )
    (done,) = [line for line in lines if line.startswith(f"am28 {active[:8]}")]
    assert f"am28 {active[:8]}: active {active[:8]}, ends " in done
    # What the server holds: the active one an hour longer (same ID), the expired one not
    # brought back.
    (after,) = unexpired(upstream, word)
    assert after["id"] == active
    ends = datetime.fromisoformat(after["endsAt"]) - datetime.fromisoformat(before["endsAt"])
    assert abs(ends - timedelta(hours=1)) < timedelta(seconds=5)
    assert contract.violations == []
