"""Silencing from the keyboard, driven by Pilot against a real Alertmanager HA pair.

Every test checks what the Alertmanager's own API holds after the keys, not only the screen.
The module has its own stack: silencing demo alerts must not change what other tests see.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.cli.demo import demo_context
from oncall_tui.config import ClusterConfig, Context, Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.dialogs.confirm import Ask, Confirm
from oncall_tui.ui.dialogs.silence_form import MatcherList, SilenceForm
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.silences import COLUMNS, SilencesScreen
from oncall_tui.ui.widgets.lines_view import LinesView
from oncall_tui.wire.alertmanager import Matcher, PostableAlert, PostableSilence, Silence
from tests.helpers import alert_row, terminal_sends, until
from tests.support import fault_proxy as fp

pytestmark = pytest.mark.stack
OPTIONS = ClientOptions(connect_timeout=2, read_timeout=5)
USER = "tester@oncall"


@pytest.fixture
async def peer(own: Stack) -> AsyncIterator[AlertmanagerPeer]:
    client = AlertmanagerPeer(own.alertmanager_urls[0], OPTIONS)
    yield client
    await client.aclose()


@pytest.fixture(autouse=True)
async def _no_silences_left(peer: AlertmanagerPeer) -> AsyncIterator[None]:
    yield
    for s in await peer.silences():
        if s.state != "expired":
            await peer.expire_silence(s.id)


def app_for(stack: Stack, read_only: bool = False, **silences: Any) -> OncallApp:
    settings = Settings.from_data({"user": USER, "silences": silences})
    context = msgspec.structs.replace(demo_context(stack, refresh=1), read_only=read_only)
    return OncallApp(settings, build_clients(context))


async def select(pilot: Pilot[None], app: OncallApp, alertname: str, state: str = "active") -> None:
    """Filter the board down to one alert: the cursor is then on it."""
    await pilot.press("escape")  # the board's esc clears an earlier filter
    await until(pilot, lambda: alert_row(app, alertname, state))
    await pilot.press("slash", *alertname, "enter")

    def on_it() -> bool:
        screen = app.screen
        current = screen.board.current if isinstance(screen, AlertsScreen) else None
        return current is not None and current.alert is not None and current.alert.name == alertname

    await until(pilot, on_it)


def form(app: OncallApp) -> SilenceForm:
    assert isinstance(app.screen, SilenceForm), app.screen
    return app.screen


def text_of(app: OncallApp, selector: str) -> str:
    widget = app.screen.query_one(selector)
    return widget.text if isinstance(widget, LinesView) else str(widget.render())


async def held(peer: AlertmanagerPeer, **where: str) -> list[Silence]:
    """Unexpired silences the server holds, optionally with a given comment."""
    return [
        s
        for s in await peer.silences()
        if s.state != "expired" and all(getattr(s, k) == v for k, v in where.items())
    ]


async def test_the_preview_says_the_boards_answer_until_the_alertmanagers_answer(
    own: Stack,
) -> None:
    """The form's preview answers at once from the board's data, then the servers' answer
    takes its place. The servers are made slow (the fault proxy holds each answer 4 s, after
    the board's first poll), so the board's answer is on screen long enough to be read, and
    what replaces it can only be the Alertmanager's (0.25.0) own."""
    with fp.FaultProxy(own.alertmanager_urls[0]) as proxy:
        settings = Settings.from_data({"user": USER})
        cluster = ClusterConfig(name="demo", peers=[proxy.url])
        app = OncallApp(settings, build_clients(Context(alertmanagers=[cluster], refresh=1)))
        async with app.run_test(size=(120, 35)) as pilot:
            await select(pilot, app, "ChurnAPIDown")
            proxy.set(fp.delay(4.0))
            try:
                await pilot.press("s")
                board_says = "Would silence about 1 alert now (demo) · from the board, asking the"
                await until(pilot, lambda: board_says in text_of(app, "#sf-preview-title"))
                assert "ChurnAPIDown" in text_of(app, "#sf-preview")
                servers_say = "Would silence 1 alert now (demo)"
                await until(pilot, lambda: text_of(app, "#sf-preview-title") == servers_say)
                assert "ChurnAPIDown" in text_of(app, "#sf-preview")
            finally:
                proxy.set(fp.PASS)


async def test_the_forms_first_frame_holds_the_boards_preview(
    own: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The board's answer is drawn with the form, not a worker's turn and a frame after it.
    What the form's first paint says is recorded."""
    first: list[str] = []
    paint = SilenceForm._compositor_refresh

    def recorded(screen: SilenceForm) -> None:
        if not first:
            first.append(str(screen.query_one("#sf-preview-title").render()))
        paint(screen)

    monkeypatch.setattr(SilenceForm, "_compositor_refresh", recorded)
    app = app_for(own)
    async with app.run_test(size=(120, 35)) as pilot:
        await select(pilot, app, "ChurnAPIDown")
        await pilot.press("s")
        await until(pilot, lambda: bool(first))
    assert first[0].startswith("Would silence about 1 alert now (demo)"), first


async def test_silence_extend_expire_from_the_keyboard(own: Stack, peer: AlertmanagerPeer) -> None:
    app = app_for(own)
    async with app.run_test(size=(120, 35)) as pilot:
        await select(pilot, app, "ChurnAPIDown")
        # The keys after the alert is selected: s, tab, "mnt", enter: six.
        await pilot.press("s")
        await until(pilot, lambda: "Would silence 1 alert now" in text_of(app, "#sf-preview-title"))
        assert "ChurnAPIDown" in text_of(app, "#sf-preview")
        assert "in 2h" in text_of(app, "#sf-end-echo")
        await pilot.press("tab", "m", "n", "t", "enter")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))

        (silence,) = await held(peer, comment="mnt")
        labels = {m.name: m.value for m in silence.matchers}
        assert labels["alertname"] == "ChurnAPIDown" and labels["service"] == "churn-api"
        assert silence.created_by == USER
        two_hours = datetime.now(UTC) + timedelta(hours=2)
        assert abs(silence.ends_at - two_hours) < timedelta(minutes=1)
        await until(pilot, lambda: alert_row(app, "ChurnAPIDown", "silenced"))

        await pilot.press("colon", *"silences", "enter")
        await until(pilot, lambda: isinstance(app.screen, SilencesScreen) and app.screen.shown)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, Ask))
        await pilot.press("enter")  # the default: 1h
        await until(pilot, lambda: isinstance(app.screen, SilencesScreen))

        async def extended() -> bool:
            (now_held,) = await held(peer, comment="mnt")
            return abs(now_held.ends_at - silence.ends_at - timedelta(hours=1)) < timedelta(
                seconds=2
            )

        await until(pilot, extended)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("y")

        async def expired() -> bool:
            return not await held(peer, comment="mnt")

        await until(pilot, expired)
        await until(pilot, lambda: "1 expired" in text_of(app, "#silences-status"))


async def test_a_failed_save_keeps_every_field_and_a_retry_creates_nothing_twice(
    own: Stack, peer: AlertmanagerPeer
) -> None:
    comment = f"db failover {uuid.uuid4().hex[:6]}"
    app = app_for(own)
    async with app.run_test(size=(120, 35)) as pilot:
        await select(pilot, app, "HighCPU")
        await pilot.press("s")
        await until(pilot, lambda: "Would silence 1 alert" in text_of(app, "#sf-preview-title"))
        await pilot.press(*"90m", "tab", *comment)  # typing replaces the default 2h
        # Turn off the first matcher row (alertname), as a user narrowing the silence would.
        app.screen.query_one("#sf-matchers").focus()
        await pilot.press("space")
        typed = form(app).form_input()
        assert typed.matchers[0][0] is False and typed.end == "90m" and typed.comment == comment
        rows = app.screen.query_one("#sf-matchers")
        drawn = [rows.render_line(y).text for y in range(2)]
        assert drawn[0].startswith("▐ ▌ alertname=") and drawn[1].startswith("▐X▌ "), drawn

        own.kill_peer(0)
        own.kill_peer(1)
        try:
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "not saved" in text_of(app, "#sf-status"))
            assert "refused" in text_of(app, "#sf-status").lower()
            assert form(app).form_input() == typed  # nothing the user typed is lost
        finally:
            own.start_peer(0)
            own.start_peer(1)

        # As if the first attempt had landed and only its answer was lost: the retry finds
        # that silence instead of making a second one.
        draft = form(app).checked
        assert draft is not None and draft.ok
        await peer.post_silence(draft.drafts[0].postable())
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen), timeout=30)
        assert len(await held(peer, comment=comment)) == 1


async def test_a_refusal_shows_the_servers_words(own: Stack, peer: AlertmanagerPeer) -> None:
    app = app_for(own)
    async with app.run_test(size=(120, 35)) as pilot:
        await select(pilot, app, "HighCPU")
        await pilot.press("s", "tab", *"refused", "tab", "tab", "tab", "tab")
        assert app.focused is not None and app.focused.id == "sf-add"
        # 0.25 parses foo:bar (a classic matcher name) but refuses it as a silence label name.
        await pilot.press(*'foo:bar="x"', "enter", "ctrl+s")
        await until(pilot, lambda: "invalid label" in text_of(app, "#sf-status"))
        assert isinstance(app.screen, SilenceForm)
        assert app.screen.query_one("#sf-comment", Input).value == "refused"
    assert await held(peer, comment="refused") == []


async def test_a_silence_above_the_limit_asks_twice(own: Stack, peer: AlertmanagerPeer) -> None:
    app = app_for(own, preview_limit=2)
    async with app.run_test(size=(120, 35)) as pilot:
        await select(pilot, app, "HighCPU")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SilenceForm))
        # Keep only team="ops": every alert of the ops team.
        rows = form(app).rows
        keep = next(k for k, t in rows.items() if t.startswith("team="))
        matchers = app.screen.query_one("#sf-matchers", MatcherList)
        for key in rows:
            if key != keep:
                matchers.deselect(key)
        await until(
            pilot,
            lambda: "more than 2" in text_of(app, "#sf-preview"),
        )
        await pilot.press("tab", *"wide", "ctrl+s")
        await until(pilot, lambda: "ctrl+s again" in text_of(app, "#sf-status"))
        assert await held(peer, comment="wide") == []
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
    (silence,) = await held(peer, comment="wide")
    assert silence.matchers == [Matcher("team", "ops")]


async def test_ack_shows_who_acked_on_the_board(own: Stack, peer: AlertmanagerPeer) -> None:
    app = app_for(own)
    async with app.run_test(size=(120, 35)) as pilot:
        await select(pilot, app, "PodRestarting")
        await pilot.press("a")
        await until(pilot, lambda: alert_row(app, "PodRestarting", "acked", f"ACK {USER}"))
        # A pending alert is in no Alertmanager yet: its ack is shown from the matchers.
        await select(pilot, app, "HighMemory", state="pending")
        await pilot.press("a")
        await until(pilot, lambda: alert_row(app, "HighMemory", "acked", f"ACK {USER}"))
    acks = await held(peer, comment=f"ACK by {USER}")
    assert len(acks) == 2
    fifteen = datetime.now(UTC) + timedelta(minutes=15)
    assert all(abs(s.ends_at - fifteen) < timedelta(minutes=1) for s in acks)


async def test_read_only_refuses_every_write_and_says_why(
    own: Stack, peer: AlertmanagerPeer
) -> None:
    app = app_for(own, read_only=True)
    before = len(await peer.silences())
    async with app.run_test(size=(120, 35)) as pilot:
        await select(pilot, app, "HighCPU")
        for key in ("s", "a"):
            await pilot.press(key)
            await pilot.pause(0.2)
            assert isinstance(app.screen, AlertsScreen)
        await pilot.press("colon", *"maintenance", "enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, AlertsScreen)
        shown = [str(n.message) for n in app._notifications]
        assert sum("read-only" in m for m in shown) == 3, shown
    assert len(await peer.silences()) == before


async def test_a_maintenance_window_is_pending_then_extended_and_ended_as_a_whole(
    own: Stack, peer: AlertmanagerPeer
) -> None:
    app = app_for(own)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: alert_row(app, "HighCPU"))
        await pilot.press("colon", *"maintenance", "enter")
        await until(pilot, lambda: isinstance(app.screen, SilenceForm))
        await pilot.press(*"db-upgrade", "tab", *"02:00", "tab", *"upgrade", "tab", *"22:00")
        app.screen.query_one("#sf-add").focus()
        await pilot.press(*'service="churn-api"', "enter", *'job="churn-batch"', "enter")
        await until(pilot, lambda: "Would silence" in text_of(app, "#sf-preview-title"))
        assert "PodRestarting" in text_of(app, "#sf-preview")
        await pilot.press("ctrl+s")
        # Matching many alerts: confirm.
        if isinstance(app.screen, SilenceForm) and "again" in text_of(app, "#sf-status"):
            await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        window = await held(peer, comment="[maintenance db-upgrade] upgrade")
        assert len(window) == 2 and {s.state for s in window} == {"pending"}
        assert {str(s.matchers[0]) for s in window} == {'service="churn-api"', 'job="churn-batch"'}
        assert all(s.ends_at - s.starts_at == timedelta(hours=4) for s in window)

        await pilot.press("colon", *"maintenance extend db-upgrade 1h", "enter")

        async def extended() -> bool:
            now_held = await held(peer, comment="[maintenance db-upgrade] upgrade")
            return len(now_held) == 2 and all(
                s.ends_at - s.starts_at == timedelta(hours=5) for s in now_held
            )

        await until(pilot, extended)
        await pilot.press("colon", *"maintenance end db-upgrade", "enter")
        await until(pilot, lambda: isinstance(app.screen, Confirm))
        assert "2 silence(s)" in str(app.screen.query_one(Static).render())
        await pilot.press("y")

        async def ended() -> bool:
            return not await held(peer, comment="[maintenance db-upgrade] upgrade")

        await until(pilot, ended)


async def test_edit_follows_the_new_id_and_the_view_flags_what_matters(
    own: Stack, peer: AlertmanagerPeer
) -> None:
    now = datetime.now(UTC)
    soon = PostableSilence([Matcher("alertname", "HighCPU")], now, now + timedelta(minutes=10),
                           "someone", "ends soon")  # fmt: skip
    nothing = PostableSilence([Matcher("alertname", "NoSuchAlert")], now, now + timedelta(hours=3),
                              "someone", "matches nothing")  # fmt: skip
    soon_id = await peer.post_silence(soon)
    await peer.post_silence(nothing)
    app = app_for(own)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: alert_row(app, "HighCPU"))
        await pilot.press("colon", *"silences", "enter", "H")  # H: hide expired ones
        await until(
            pilot, lambda: isinstance(app.screen, SilencesScreen) and len(app.screen.shown) == 2
        )
        screen = app.screen
        assert isinstance(screen, SilencesScreen)
        table = screen.query_one(DataTable)
        column = {name: i for i, name in enumerate(COLUMNS)}
        cells = {
            str(table.get_row_at(i)[column["COMMENT"]]): table.get_row_at(i)
            for i in range(table.row_count)
        }
        alerts, ends = column["ALERTS"], column["ENDS"]
        assert str(cells["matches nothing"][alerts]) == "matches nothing"
        assert "reverse" in str(cells["ends soon"][ends].style)  # ending within 15 minutes
        assert "reverse" not in str(cells["matches nothing"][ends].style)
        assert str(cells["ends soon"][alerts]) == "1"

        terminal_sends(app, "/state=active soon")  # in one chunk: nothing typed is lost
        await until(
            pilot, lambda: screen.query_one("#silences-filter", Input).value == "state=active soon"
        )
        await pilot.press("enter")
        await until(pilot, lambda: len(screen.shown) == 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SilenceForm))
        app.screen.query_one("#sf-add").focus()
        await pilot.press(*'team="ops"', "enter", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SilencesScreen))
        (edited,) = await held(peer, comment="ends soon")
        assert edited.id != soon_id and Matcher("team", "ops") in edited.matchers
        await until(pilot, lambda: (row := screen.current_row()) is not None
                    and row.silence.id == edited.id)  # fmt: skip
        assert (await peer.silence(soon_id)).state == "expired"


async def test_hostile_labels_reach_the_form_as_text_and_the_silence_exactly(
    own: Stack, peer: AlertmanagerPeer
) -> None:
    """A label with OSC 52 and markup: shown cleaned in the form, stored byte for byte."""
    hostile = "\x1b]52;c;ZXZpbA==\x07[bold red]x[/] \x9b31m"
    now = datetime.now(UTC)
    alert = PostableAlert(
        labels={"alertname": "HostileDrill", "note": hostile},
        starts_at=now,
        ends_at=now + timedelta(minutes=10),
    )
    for url in own.alertmanager_urls:
        target = AlertmanagerPeer(url, OPTIONS)
        await target.post_alerts([alert])
        await target.aclose()
    app = app_for(own)
    async with app.run_test(size=(120, 35)) as pilot:
        await select(pilot, app, "HostileDrill")
        await pilot.press("s")
        await until(pilot, lambda: "Would silence 1 alert" in text_of(app, "#sf-preview-title"))
        matchers = app.screen.query_one("#sf-matchers")
        shown = "\n".join(matchers.render_line(y).text for y in range(matchers.size.height))
        shown += text_of(app, "#sf-title") + text_of(app, "#sf-preview")
        assert "note=" in shown and "[bold red]x[/]" in shown  # markup stays text
        assert not any(c in shown for c in "\x1b\x07\x9b"), repr(shown)
        await pilot.press("tab", *"drill", "enter")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
    (silence,) = await held(peer, comment="drill")
    assert Matcher("note", hostile) in silence.matchers


async def _raw_silence(stack: Stack, silence_id: str) -> dict[str, Any]:
    """The silence as the server's own JSON: its startsAt/endsAt strings, not parsed."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{stack.alertmanager_urls[0]}/api/v2/silence/{silence_id}")
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body


async def test_a_comment_edit_keeps_id_start_and_end_and_a_matcher_edit_warns_first(
    own: Stack, peer: AlertmanagerPeer
) -> None:
    """Issue 12: the ID, start and end the server holds survive a comment-only edit made
    through the app; a matcher change makes a new silence, and the form says so first."""
    now = datetime.now(UTC)
    # An end off the minute and a start the server sets itself: to the millisecond.
    posted = PostableSilence([Matcher("alertname", "HighCPU")], now,
                             now + timedelta(hours=2, seconds=37, milliseconds=421),
                             "someone", "before the edit")  # fmt: skip
    first_id = await peer.post_silence(posted)
    before = await _raw_silence(own, first_id)
    app = app_for(own)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: alert_row(app, "HighCPU"))
        await pilot.press("colon", *"silences", "enter", "H")
        await until(
            pilot, lambda: isinstance(app.screen, SilencesScreen) and len(app.screen.shown) == 1
        )
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SilenceForm))
        assert f"silence {first_id[:8]} keeps its ID" in text_of(app, "#sf-edit")
        assert text_of(app, "#sf-start-echo") != "now"  # it shows the start it keeps
        await pilot.press("tab", "ctrl+u", *"after the edit")
        assert app.focused is not None and app.focused.id == "sf-comment"
        assert "keeps its ID" in text_of(app, "#sf-edit")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SilencesScreen))
        after = await _raw_silence(own, first_id)
        assert (after["id"], after["startsAt"], after["endsAt"]) == (
            before["id"], before["startsAt"], before["endsAt"],
        )  # fmt: skip
        assert after["comment"] == "after the edit" and after["status"]["state"] == "active"
        assert [s.id for s in await held(peer)] == [first_id]  # nothing new was made

        # A matcher change: Alertmanager cannot apply it in place; the form says so first.
        silences = app.screen
        assert isinstance(silences, SilencesScreen)
        await until(pilot, lambda: len(silences.shown) == 1 and silences.current_row() is not None)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SilenceForm))
        app.screen.query_one("#sf-add").focus()
        await pilot.press(*'team="ops"', "enter")
        warning = text_of(app, "#sf-edit")
        assert "this change makes a new silence" in warning, warning
        assert f"ID {first_id[:8]} will be expired" in warning
        assert app.screen.query_one("#sf-edit").has_class("new")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SilencesScreen))
    (replaced,) = await held(peer)
    assert replaced.id != first_id and Matcher("team", "ops") in replaced.matchers
    assert (await peer.silence(first_id)).state == "expired"


def screen_text(app: OncallApp, widget: Widget) -> str:
    """The text the screen shows inside `widget`'s region, its lines joined by spaces."""
    region = widget.region
    strips = app.screen._compositor.render_strips()
    lines = [s.crop(region.x, region.right).text.strip() for s in strips[region.y : region.bottom]]
    return " ".join(" ".join(lines).split())


async def test_a_field_that_does_not_parse_keeps_focus_and_its_error_reads_in_full_at_80x24(
    own: Stack, peer: AlertmanagerPeer
) -> None:
    app = app_for(own)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, app, "HighCPU")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SilenceForm))
        await pilot.press("2", "x", "enter")  # typing replaces the default 2h
        assert app.focused is not None and app.focused.id == "sf-end"
        echo = app.screen.query_one("#sf-end-echo")
        assert echo.region.right <= 80 and echo.region.bottom <= 24
        assert screen_text(app, echo) == (
            "✗ cannot read '2x' as a time or date (Unknown string format: 2x)"
        )
        await pilot.press("ctrl+s")
        assert app.focused.id == "sf-end"
        assert "fix the fields marked ✗ first" in screen_text(
            app, app.screen.query_one("#sf-status")
        )

        # In Starts, with Comment also missing: enter keeps the user where they typed.
        await pilot.press(*"3h", "tab", "tab", *"tomorrow 25:99", "enter")
        assert app.focused.id == "sf-start"
        shown = screen_text(app, app.screen.query_one("#sf-start-echo"))
        assert (
            shown
            == "✗ cannot read 'tomorrow 25:99' as a time or date (hour must be in 0..23: 25:99)"
        )
        assert "✗ comment: a comment is required" in screen_text(
            app, app.screen.query_one("#sf-problems")
        )
        await pilot.press("escape", "y")
    assert await held(peer) == []


async def test_tab_in_the_maintenance_form_goes_only_through_what_is_visible(own: Stack) -> None:
    app = app_for(own)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: alert_row(app, "HighCPU"))
        await pilot.press("colon", *"maintenance", "enter")
        await until(pilot, lambda: isinstance(app.screen, SilenceForm))
        seen: list[str | None] = []
        for _ in range(8):
            focused = app.focused
            assert focused is not None and focused.region.height > 0, (focused, seen)
            seen.append(focused.id)
            await pilot.press("tab")
        assert seen[:6] == ["sf-name", "sf-end", "sf-comment", "sf-start", "sf-author", "sf-add"]
        assert "sf-matchers" not in seen  # no rows yet: nothing to tab into
        # What is typed after tab from By lands in the add field.
        app.screen.query_one("#sf-author").focus()
        await pilot.press("tab", *'service="churn-api"', "enter")
        assert form(app).rows and list(form(app).rows.values()) == ['service="churn-api"']
        matchers = app.screen.query_one("#sf-matchers")
        assert matchers.display and matchers.region.height == 1
        matchers.focus()
        await pilot.press("d")  # the last row removed: the list hides and focus moves on
        assert not matchers.display and app.focused is not None and app.focused.id == "sf-add"


async def test_a_form_typed_and_saved_in_one_chunk_saves_every_character(
    own: Stack, peer: AlertmanagerPeer
) -> None:
    """`s⇥maintenance test^S` typed before the form has opened: the keys wait while it opens,
    then go in order. By hand in tmux the first form of a session saved "m"; here nothing
    was saved: ctrl+s was a priority binding, so it ran as the App replayed it, before the
    keys ahead of it had reached the fields."""
    app = app_for(own)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, app, "HighCPU")
        terminal_sends(app, "s\tmaintenance test\x13")
        saved: list[Silence] = []
        deadline = time.monotonic() + 15
        while not saved and time.monotonic() < deadline:  # until the server holds it
            await pilot.pause(0.2)
            saved = await held(peer, created_by=USER)
        try:
            assert [x.comment for x in saved] == ["maintenance test"]
        finally:
            for silence in saved:
                await peer.expire_silence(silence.id)


async def test_arrows_and_spaces_in_one_chunk_toggle_the_rows_they_reach(own: Stack) -> None:
    """`↓ space ↓ space` arriving as one chunk (typed fast, or over SSH or tmux) turns off
    the second and third rows. SelectionList toggled whichever row was highlighted when its
    own message for the space came: the arrow behind it had moved on, and the third row was
    toggled twice, so no row changed."""
    app = app_for(own)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, app, "HighCPU")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SilenceForm))
        matchers = app.screen.query_one(MatcherList)
        matchers.focus()
        await until(pilot, lambda: app.focused is matchers and matchers.highlighted == 0)
        keys = [matchers.get_option_at_index(i).value for i in range(matchers.option_count)]
        wanted = set(keys) - {keys[1], keys[2]}
        terminal_sends(app, "\x1b[B \x1b[B ")
        await until(pilot, lambda: set(matchers.selected) == wanted, timeout=5)
        await pilot.pause()
        assert set(matchers.selected) == wanted
        await pilot.press("escape", "y")


async def test_keys_after_tab_in_one_chunk_land_in_the_next_field(
    own: Stack, peer: AlertmanagerPeer
) -> None:
    """`30m⇥why⏎` typed fast (or arriving as one chunk over SSH or tmux) put `why` in Ends:
    tab is the screen's binding, run only once the key had bubbled up to the App, after the
    keys behind it were already inserted into the field it was leaving."""
    app = app_for(own)
    async with app.run_test(size=(80, 24)) as pilot:
        await select(pilot, app, "HighCPU")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SilenceForm))
        ends = app.screen.query_one("#sf-end", Input)
        comment = app.screen.query_one("#sf-comment", Input)
        await until(pilot, lambda: app.focused is ends)
        # A field focused by tab selects what it holds: what is typed next replaces it.
        terminal_sends(app, "\x1530m\tmaking room\x1b[Z1h\tdisk swap")  # \x1b[Z: shift+tab
        await until(pilot, lambda: comment.value == "disk swap", timeout=5)
        await pilot.pause()
        assert (ends.value, comment.value) == ("1h", "disk swap")
        assert app.focused is comment
        await pilot.press("escape", "y")
    assert await held(peer) == []
