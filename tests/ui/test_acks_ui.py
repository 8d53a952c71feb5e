"""Acks from the keyboard (`A`: with a note or ticket, until resolved), on the real
Alertmanager 0.25.0 HA pair: what the board and :silences show, and what the server holds.

The module has its own stack: acking demo alerts must not change what other tests see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual.widgets import Input, Static

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.cli.demo import demo_context
from oncall_tui.config import Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.domain.acks import read_ack
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.dialogs.ack import AckDialog
from oncall_tui.ui.screens.silences import SilencesScreen
from oncall_tui.wire.alertmanager import Silence
from tests.helpers import alert_row, cursor_on, until

pytestmark = pytest.mark.stack
USER = "acker@oncall"


@pytest.fixture
async def peer(own: Stack) -> AsyncIterator[AlertmanagerPeer]:
    client = AlertmanagerPeer(own.alertmanager_urls[0], ClientOptions(read_timeout=5))
    yield client
    for s in await client.silences():
        if s.state != "expired":
            await client.expire_silence(s.id)
    await client.aclose()


def app_for(stack: Stack, **silences: str) -> OncallApp:
    settings = Settings.from_data({"user": USER, "silences": silences})
    return OncallApp(settings, build_clients(demo_context(stack, refresh=1)))


async def acks(peer: AlertmanagerPeer) -> list[Silence]:
    return [s for s in await peer.silences() if s.state == "active" and read_ack(s) is not None]


async def test_ack_with_a_ticket_until_resolved_on_0_25(own: Stack, peer: AlertmanagerPeer) -> None:
    app = app_for(own, ack_old_after="1s")
    async with app.run_test(size=(80, 24)) as pilot:
        await cursor_on(app, pilot, "PodRestarting")
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, AckDialog), "the ack dialog")
        # A duration the server cannot take is said in the dialog, which stays open.
        until_field = app.screen.query_one("#ack-until", Input)
        until_field.value = "soon"
        await pilot.press("enter")
        problem = app.screen.query_one("#ack-problem", Static)
        await until(pilot, lambda: "until:" in str(problem.render()), "the problem shown")
        assert await acks(peer) == []
        until_field.value = "resolved"
        app.screen.query_one("#ack-note", Input).focus()
        await pilot.press(*"INC-77 on it", "enter")
        # 80 columns: the state column says for how long it is owned, the row by whom.
        await until(
            pilot, lambda: alert_row(app, "PodRestarting", "acked ", f"ACK {USER} INC-77 ↻")
        )

        (held,) = await acks(peer)  # Alertmanager 0.25.0: everything in the comment
        assert held.comment == f"ACK by {USER} | until resolved | ticket INC-77 | note: on it"

        # :silences flags acks held longer than `ack_old_after` (1 s here), in the row too.
        await app.run_command("silences")
        await until(pilot, lambda: isinstance(app.screen, SilencesScreen) and app.screen.shown)
        screen = app.screen
        assert isinstance(screen, SilencesScreen)
        status = screen.query_one("#silences-status", Static)
        await until(pilot, lambda: "held over 1s" in str(status.render()), "the old-ack flag")
        cells = [str(c) for c in screen.table.get_row_at(0)]
        assert any(c.startswith("OLD ACK ") for c in cells), cells
