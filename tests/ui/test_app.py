"""The app, driven by Pilot against the real stack: what a user sees on the alert board."""

from __future__ import annotations

import gc
import re
import socket
import weakref
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input, Static

import oncall_tui.ui
from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.cli.demo import demo_context
from oncall_tui.config import ClusterConfig, Context, Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.state.alerts import Poller
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.dialogs.command import CommandPrompt
from oncall_tui.ui.dialogs.help import HelpScreen
from oncall_tui.ui.dialogs.silence_form import SilenceForm
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.silences import SilencesScreen
from oncall_tui.ui.widgets.field import pasted_line
from oncall_tui.wire.alertmanager import PostableAlert
from tests.helpers import alert_row, board, demo_app, row_with, rows, status, terminal_sends, until

pytestmark = pytest.mark.stack


async def test_board_shows_groups_and_alerts_most_severe_first(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(140, 40)) as pilot:
        # HighLatency turns inhibited once ChurnAPIDown fires, a few seconds into the stack.
        await until(pilot, lambda: row_with(app, "HighLatency", "inhibited"))
        lines = rows(app)
        assert "critical" in lines[0], "groups with a critical alert come first"
        # A group of one alert is drawn as one line, with its receiver and cluster.
        assert row_with(app, "HighErrorRate", "→ pagerduty @demo")
        assert alert_row(app, "critical", "HighErrorRate", "active", "High error rate on Churn API")
        assert row_with(app, "pending", "ModelNotUpdated")
        assert "demo 2/2 peers" in status(app) and "live" in status(app)
        await pilot.press("p")
        assert "PAUSED" in status(app)


async def test_80x24_keeps_name_severity_and_age(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        line = alert_row(app, "critical", "HighErrorRate")
        assert line is not None
        words = [w for w in line.split() if w != "✚"]
        assert words[:3] == ["critical", "HighErrorRate", "active"], line
        assert words[3][-1] in "smhd", line


async def test_filter_as_you_type_with_errors_and_escape(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        await pilot.press("slash")
        for key in 'severity="critical"':
            await pilot.press(key)
        assert not row_with(app, "DataDriftDetected")
        assert row_with(app, "HighErrorRate")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        assert f"{screen.model.matched}/{screen.model.total} alerts" in status(app)
        assert screen.model.matched < screen.model.total
        # On the way, `nolabel=` is a real matcher (the empty string, as Alertmanager reads it),
        # true of every alert here, so the last good filter is still severity="critical".
        await pilot.press("space", *'nolabel=~"("')
        assert screen.filter_error.startswith("✗ column 31: invalid regular expression")
        assert row_with(app, "HighErrorRate"), "the last good filter stays applied"
        await pilot.press("escape")
        assert screen.model.filter is None or screen.model.filter.is_empty
        assert row_with(app, "DataDriftDetected")


async def test_free_text_and_hide_inhibited(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: row_with(app, "HighLatency", "inhibited"))
        await pilot.press("I")
        assert not row_with(app, "HighLatency")
        assert "hiding inhibited" in status(app)
        await pilot.press("slash", *"drift", "enter")
        assert row_with(app, "DataDriftDetected")
        assert not row_with(app, "HighErrorRate")


async def test_hostile_alert_text_is_shown_as_text(stack: Stack) -> None:
    now = datetime.now(UTC)
    hostile = PostableAlert(
        labels={"alertname": "DiskFull", "severity": "warning", "device": "[sda]"},
        annotations={"summary": "disk [sda] [/] full \x1b[31mred\x1b]52;c;ZXZpbA==\x07 [bold]x"},
        starts_at=now,
        ends_at=now + timedelta(minutes=10),
    )
    for url in stack.alertmanager_urls:
        peer = AlertmanagerPeer(url, ClientOptions())
        await peer.post_alerts([hostile])
        await peer.aclose()
    app = demo_app(stack)
    async with app.run_test(size=(160, 35)) as pilot:
        await until(pilot, lambda: row_with(app, "DiskFull"))
        line = row_with(app, "DiskFull", "disk")
        assert line is not None
        assert "disk [sda] [/] full \ufffd[31mred\ufffd]52;c;ZXZpbA==\ufffd [bold]x" in line
        assert not any("\x1b" in r or "\x07" in r for r in rows(app))


async def test_a_dead_cluster_is_marked_and_the_app_keeps_running() -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{dead.getsockname()[1]}"
    dead.close()
    context = Context(name="broken", alertmanagers=[ClusterConfig(name="gone", peers=[url])])
    app = OncallApp(Settings(), build_clients(context))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, AlertsScreen) and "NO DATA" in status(app)
        )
        assert "gone 0/1 peers" in status(app)
        assert "Connection refused" in status(app)
        await pilot.press("ctrl+r")
        assert app.is_running


async def test_a_bug_in_one_poll_does_not_stop_polling(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_poll = Poller.poll
    calls = {"n": 0}

    async def flaky_poll(self: Poller, **options):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom in the first poll")
        return await real_poll(self, **options)

    monkeypatch.setattr(Poller, "poll", flaky_poll)
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen) and "boom" in status(app))
        assert "internal error: RuntimeError" in status(app)
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        await until(pilot, lambda: "boom" not in status(app))


async def test_help_lists_bindings_and_context_switch(stack: Stack) -> None:
    settings = Settings.from_data(
        {
            "current_context": "demo",
            "contexts": {
                "demo": {"alertmanagers": stack.alertmanager_urls, "refresh": 1},
                "other": {"alertmanagers": ["http://127.0.0.1:9"], "refresh": 1},
            },
            "keys": {"alerts.refresh": "ctrl+r,f5"},
        }
    )
    app = OncallApp(settings, build_clients(settings.context()))
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert any(r[2] == "alerts.refresh" and "f5" in r[0] for r in app.screen.rows)
        await pilot.press("escape")
        await pilot.press("colon", *"ctx other", "enter")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen) and "other" in status(app))
        await until(pilot, lambda: "NO DATA" in status(app))
        await pilot.press("colon", *"ctx demo", "enter")
        await until(pilot, lambda: row_with(app, "HighErrorRate"))


@pytest.mark.parametrize("where", ["board", "filter field"])
async def test_ctrl_c_quits_like_q(stack: Stack, where: str) -> None:
    """Textual's ctrl+c only toasts "Press [b]ctrl+q[/b] to quit"; here it quits, even from
    a field (where Textual would copy)."""
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        if where == "filter field":
            await pilot.press("slash", "x")
            assert app.focused is not None and app.focused.id == "filter"
        await pilot.press("ctrl+c")
        await until(pilot, lambda: app._exit, timeout=5)
    assert app.return_code == 0
    # The board may announce alerts still arriving on a fresh stack; no toast about quitting.
    said = [f"{n.title} {n.message}" for n in app._notifications]
    assert not [m for m in said if "quit" in m or "ctrl+q" in m], said


async def test_keys_and_pastes_arriving_together_are_all_kept(stack: Stack) -> None:
    """Issue 12: text within ~50 ms after ctrl+u was lost. Textual ran the field's ctrl+u
    only after the keys behind it were inserted, so it deleted them too."""
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        terminal_sends(app, "/old words")  # typed straight after /, before it opened
        field = app.screen.query_one("#filter", Input)

        async def holds(value: str) -> None:
            await until(pilot, lambda: field.value == value, timeout=5)
            await pilot.pause()  # anything still queued would change it now
            assert field.value == value

        await holds("old words")
        terminal_sends(app, "\x15team=ml")
        await holds("team=ml")
        # ctrl+u then a bracketed paste of two lines: every character, one line.
        terminal_sends(app, '\x15\x1b[200~severity="critical"\nHigh\x1b[201~')
        await holds('severity="critical" High')
        terminal_sends(app, "\x15abc\x7fd x\x17yz")  # backspace and ctrl+w: in order too
        await holds("abd yz")
        # The same in a plain paste event straight after ctrl+u, from Pilot.
        await pilot.press("ctrl+u")
        app.post_message(events.Paste("alertname=HighErrorRate"))
        await holds("alertname=HighErrorRate")
        await until(pilot, lambda: alert_row(app, "HighErrorRate") and len(
            [r for r in rows(app) if "HighCPU" in r]) == 0)  # fmt: skip


async def test_keys_typed_as_a_screen_opens_reach_that_screen(stack: Stack) -> None:
    """`:silences⏎` and `s` with an end typed at once (one chunk over SSH) reach the prompt
    and the form: the keys wait while each screen opens, instead of hitting the board."""
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        before = len(app._notifications)
        terminal_sends(app, ":silences\r")
        await until(pilot, lambda: isinstance(app.screen, SilencesScreen), timeout=5)
        assert len(app._notifications) == before  # no "unknown command: nces"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen), timeout=5)
        terminal_sends(app, "s45m")
        await until(
            pilot,
            lambda: isinstance(app.screen, SilenceForm) and bool(app.screen.query("#sf-end")),
            timeout=5,
        )
        form = app.screen
        ends = form.query_one("#sf-end", Input)
        await until(pilot, lambda: ends.value == "45m", timeout=5)
        assert app.focused is ends


async def test_a_key_queued_before_the_held_ones_are_released_waits_behind_them(
    stack: Stack,
) -> None:
    """`:theme oncall-light⏎` in one chunk: the letters are held while the prompt opens. The
    release ran on the screen's task after a repaint and re-posted them behind the Enter the
    terminal had already queued on the App, so the prompt submitted nothing and the letters
    reached the board (in CI, `i` declared an incident). Made deterministic here: the release
    is kept back until that Enter is queued."""
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        depth = len(app.screen_stack)
        release, gate = app._release_keys, {"open": False}

        def not_yet(force: int = 0) -> None:
            if gate["open"]:
                release(force)
            else:  # as if the prompt had not got its focus yet
                app.call_after_refresh(app._release_keys)

        app._release_keys = not_yet  # type: ignore[method-assign]
        terminal_sends(app, ":")
        await until(
            pilot, lambda: isinstance(app.screen, CommandPrompt) and app.focused is not None
        )
        terminal_sends(app, "theme oncall-light")
        await until(pilot, lambda: len(app._held_keys or ()) == len("theme oncall-light"))
        enter = events.Key("enter", "\r")
        enter.set_sender(app)
        app.post_message(enter)  # the terminal's Enter, queued on the App first
        gate["open"] = True
        app._release_keys()
        await until(pilot, lambda: app.theme == "oncall-light", timeout=10)
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen) and app._held_keys is None)
        await pilot.pause()
        assert len(app.screen_stack) == depth  # no letter opened anything on the board


async def test_keys_after_enter_in_one_chunk_go_where_the_submit_put_the_focus(
    stack: Stack,
) -> None:
    """`/alertname="HighCPU"⏎s` in one chunk left `HighCPUs` in the filter: the filter's
    submit hands the focus to the board only once its Submitted message is handled, after
    the `s` queued behind the enter had been typed into the field."""
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: row_with(app, "HighCPU"))
        board_screen = app.screen
        terminal_sends(app, '/alertname="HighCPU"\rs')
        await until(
            pilot,
            lambda: isinstance(app.screen, SilenceForm) and bool(app.screen.query("#sf-title")),
            timeout=10,
        )
        assert board_screen.query_one("#filter", Input).value == 'alertname="HighCPU"'
        assert "HighCPU" in str(app.screen.query_one("#sf-title", Static).render())
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is board_screen)


def test_every_text_field_is_a_field_and_a_paste_keeps_every_character() -> None:
    """A plain Input would bring the ctrl+u race back: the UI builds only Fields."""
    ui = Path(oncall_tui.ui.__file__).parent
    plain = [
        f"{path.relative_to(ui)}:{number}"
        for path in ui.rglob("*.py")
        if path.name != "field.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"(?<![\w.])Input\(|\(Input\)", line)
    ]
    assert plain == []
    assert pasted_line("team=ml\n") == "team=ml"
    assert pasted_line('a="1"\r\nb\tc\x1b[2J') == 'a="1" b c\N{REPLACEMENT CHARACTER}[2J'


async def crash_report(use_textual_default: bool) -> str:
    from textual.app import App

    context = Context(name="x", alertmanagers=[ClusterConfig(peers=["http://127.0.0.1:9"])])
    app = OncallApp(Settings(), build_clients(context))
    async with app.run_test(size=(80, 24)):
        try:
            token = "-".join(["s3cr3t", "built", "at", "runtime"])
            raise RuntimeError(f"crash on purpose ({len(token)})")
        except RuntimeError:
            # What Textual calls on an unhandled exception.
            (App._fatal_error if use_textual_default else OncallApp._fatal_error)(app)
        renderables = list(app._exit_renderables)
    with app.console.capture() as captured:
        for renderable in renderables:
            app.console.print(renderable)
    return captured.get()


async def test_a_crash_report_shows_no_local_variables() -> None:
    """Textual's default crash report prints locals, where a credential could sit."""
    assert "s3cr3t-built-at-runtime" in await crash_report(use_textual_default=True)
    ours = await crash_report(use_textual_default=False)
    assert "crash on purpose" in ours
    assert "s3cr3t-built-at-runtime" not in ours


async def test_commands_with_markup_are_shown_as_text_not_run(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: alert_row(app, "HighErrorRate"))
        await pilot.press("colon", *"[/]", "enter")
        await pilot.press("colon", *"sort [@click=app.quit]x[/]", "enter")
        await pilot.pause(0.1)
        assert app.is_running
        messages = [n.message for n in app._notifications]
        assert "unknown command '[/]' (? for help)" in messages
        assert "sorted by label [@click=app.quit]x[/]" in messages
        assert all(not n.markup for n in app._notifications)


async def test_the_prefetched_first_poll_is_shown_and_a_failed_one_falls_back(stack: Stack) -> None:
    from concurrent.futures import Future

    from oncall_tui.state.alerts import prefetch

    clients = build_clients(demo_context(stack, refresh=60))
    first = prefetch(clients)
    app = OncallApp(Settings(), clients, first=first)
    async with app.run_test(size=(120, 35)) as pilot:
        # refresh=60: only the prefetched snapshot can have filled the board this soon.
        await until(pilot, lambda: alert_row(app, "HighErrorRate"), timeout=10)
        assert first.done() and isinstance(app.screen, AlertsScreen)
        assert app.screen.polls == 1
        # The board took over the prefetch's decode caches: the next poll reuses them.
        prefetched = first.result().poller.clients.clusters[0].peers[0].groups_decoder
        assert clients.clusters[0].peers[0].groups_decoder is prefetched

    failed: Future[object] = Future()
    failed.set_exception(RuntimeError("prefetch blew up"))
    app = OncallApp(Settings(), build_clients(demo_context(stack, refresh=60)), first=failed)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: alert_row(app, "HighErrorRate"), timeout=10)
        assert "prefetch blew up" not in status(app)


async def test_theme_switch_redraws_the_board_in_the_new_colours(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: alert_row(app, "HighErrorRate"))
        await pilot.press("p")  # no poll: the row's text, and so its cache key, stay the same
        await pilot.press("j")  # row 0 off the cursor: the cursor bar has one colour for all text
        view = board(app)
        before = view.render_line(0)
        await pilot.press("colon", *"theme oncall-light", "enter")
        await until(pilot, lambda: app.theme == "oncall-light")
        await pilot.pause(0.1)
        after = view.render_line(0)
        assert after.text == before.text

        def severity_colour(strip: object) -> object:
            segment = next(s for s in strip if s.text.strip() == "critical")  # type: ignore[attr-defined]
            return segment.style.color

        assert severity_colour(after) != severity_colour(before)


async def test_the_settled_board_is_freed_when_the_context_switches(stack: Stack) -> None:
    """The first board's objects leave the GC's full passes (gc.freeze) once drawn; a
    context switch puts them back, so the old board and its widgets are collected."""
    settings = Settings.from_data(
        {
            "current_context": "demo",
            "contexts": {
                "demo": {"alertmanagers": stack.alertmanager_urls, "refresh": 1},
                "other": {"alertmanagers": ["http://127.0.0.1:9"], "refresh": 1},
            },
        }
    )
    app = OncallApp(settings, build_clients(settings.context()))
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        first = weakref.ref(app.screen)
        await until(pilot, lambda: gc.get_freeze_count() > 0, "the board to settle")
        await pilot.press("colon", *"ctx other", "enter")
        await until(pilot, lambda: app.screen is not first() and "other" in status(app))
        await until(pilot, lambda: gc.collect() >= 0 and first() is None, "the old board freed")
