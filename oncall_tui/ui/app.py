"""The App: wires settings, clients, themes, screens and commands together, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel

from oncall_tui.config import ConfigError, Settings
from oncall_tui.domain.sanitize import clean
from oncall_tui.domain.timespec import parse_duration
from oncall_tui.state.alerts import Prefetched
from oncall_tui.state.context import ContextState
from oncall_tui.state.wiring import Clients, build_clients
from oncall_tui.ui.idle_gc import IdleCollector
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.silence_actions import SilenceActions
from oncall_tui.ui.terminal_signals import TerminalSignals
from oncall_tui.ui.themes import DEFAULT_VARIABLES, load_themes
from oncall_tui.ui.widgets.field import Field


class ReleaseHeld(Message):
    """Keys held while a screen opened may go now (if no newer hold began since)."""

    def __init__(self, generation: int) -> None:
        super().__init__()
        self.generation = generation


class OncallApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "oncall-tui"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        # Textual's own ctrl+c only shows a toast ("Press [b]ctrl+q[/b]..."): a terminal user
        # presses it to leave, from any screen or field, so it quits like `q` (priority: an
        # Input's copy binding must not swallow it; the terminal's own selection copies).
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.interrupt"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("colon", "command", "Command", id="app.command"),
    ]

    def __init__(
        self,
        settings: Settings,
        clients: Clients,
        connect: Callable[[str], Clients] | None = None,
        first: Future[Prefetched] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.connect = connect or self._connect
        # Every store of the current context: the screens read these, never a client.
        self.state = self._state(clients, first)
        self.problems: list[str] = []
        # Desktop notifications of new alerts and the window title: beyond the app's window.
        self.signals = TerminalSignals(self, settings)
        self._forwarded: dict[int, object] = {}
        self.idle_gc = IdleCollector()  # full collections when nobody types (ui/idle_gc.py)
        for _path, theme in load_themes():
            if isinstance(theme, str):
                self.problems.append(theme)
            else:
                self.register_theme(theme)
        if self.get_theme(settings.theme) is not None:
            self.theme = settings.theme
        else:
            self.problems.append(f"theme {settings.theme!r} not found")

    def get_driver_class(self) -> Any:
        """Textual's POSIX driver, with an input thread that sleeps while nobody types."""
        found = super().get_driver_class()
        if (found.__module__, found.__name__) == ("textual.drivers.linux_driver", "LinuxDriver"):
            from oncall_tui.ui.quiet_driver import QuietDriver

            return QuietDriver
        return found

    # -- keys typed while a screen opens ------------------------------------------------------------

    # Over SSH a user's `:silences⏎` or `s30m` arrives as one chunk. Textual forwards every
    # queued key to the focused widget at once and gives a new screen its focus only later,
    # so they went to the old screen (`:silences` ran `nces`; letters on the board are
    # commands). So: while a screen opens, keys wait and are replayed in order once it has
    # its focus (never longer than HOLD_KEYS_MAX); and a key that was forwarded to a widget
    # of a screen that has since gone, and that no widget took, goes to the screen now shown.
    # A backstop only: on a busy machine a screen can take longer than half a second to
    # mount and focus, and keys released before that were lost.
    HOLD_KEYS_MAX = 3.0
    _held_keys: list[events.Key] | None = None
    _hold_generation = 0
    _given_back = 0
    _awaiting_settle = False

    def push_screen(self, *args: Any, **kwargs: Any) -> Any:
        self._hold_keys()
        return super().push_screen(*args, **kwargs)

    def pop_screen(self) -> Any:
        self._hold_keys()
        return super().pop_screen()

    def switch_screen(self, screen: Any) -> Any:
        self._hold_keys()
        return super().switch_screen(screen)

    def hold_keys_until_settled(self) -> None:
        """A field's enter: keys wait until its Field.Settled reaches the App (or for
        HOLD_KEYS_MAX), so they go where the submit put the focus."""
        self._hold_keys()
        self._awaiting_settle = True

    def give_back(self, key: events.Key) -> bool:
        """A key a widget got while keys are held: held too, after the others it gave back
        (queued there before the hold, so typed before any key held here since)."""
        if self._held_keys is None:
            return False
        key.set_sender(self)
        self._held_keys.insert(self._given_back, key)
        self._given_back += 1
        return True

    def on_field_settled(self, message: Field.Settled) -> None:
        self._awaiting_settle = False
        self._release_keys()

    def _hold_keys(self) -> None:
        if self._held_keys is not None:
            return
        self._held_keys = []
        self._given_back = 0
        self._hold_generation += 1
        generation = self._hold_generation
        self.call_after_refresh(self._release_keys)
        self.set_timer(self.HOLD_KEYS_MAX, lambda: self._release_keys(force=generation))

    def _release_keys(self, force: int = 0) -> None:
        if self._held_keys is None or (force and force != self._hold_generation):
            return
        if self._awaiting_settle and not force:
            return  # on_field_settled calls again
        self._awaiting_settle = False
        screen = self.screen
        settled = screen.is_mounted and (screen.focused is not None or not screen.focus_chain)
        if not force and not settled:
            # Not settled yet: its on_mount gives the focus. A screen with nothing to focus
            # is settled once mounted.
            self.call_after_refresh(self._release_keys)
            return
        # Released through the App's own queue, never from here: this runs on the screen's
        # task after a repaint, and a key the terminal has already queued on the App (the
        # Enter after `:theme x`) would be handled before keys re-posted from here, so the
        # prompt submitted nothing and its letters reached the board. Until the release
        # message is read, such a key is held too, behind the others.
        self.post_message(ReleaseHeld(self._hold_generation))

    async def _on_release_held(self, message: ReleaseHeld) -> None:
        if self._held_keys is None or message.generation != self._hold_generation:
            return
        held, self._held_keys = self._held_keys, None
        for key in held:
            again = events.Key(key.key, key.character)
            again.set_sender(self)
            await self.on_event(again)  # in place, in order: held again if one opens a screen

    def _replay(self, key: events.Key) -> None:
        again = events.Key(key.key, key.character)
        again.set_sender(self)
        self.post_message(again)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.idle_gc.key()
            if not self.screen_stack:
                return  # shutting down: no screen is left to take a key (it crashed here)
            if event.is_forwarded:
                # Back from the widgets, untaken: was it sent to a screen that has gone?
                sent_to = self._forwarded.pop(id(event), None)
                if sent_to is not None and sent_to is not self.screen:
                    if self._held_keys is not None:
                        self._held_keys.append(event)
                    else:
                        self._replay(event)
                    return
            elif self._held_keys is None:
                self._forwarded[id(event)] = self.screen
                while len(self._forwarded) > 256:  # keys a widget took never come back
                    del self._forwarded[next(iter(self._forwarded))]
            if self._held_keys is not None:
                self._held_keys.append(event)
                return
        await super().on_event(event)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(DEFAULT_VARIABLES)

    def on_mount(self) -> None:
        self._exit_on_hangup()
        self.idle_gc.start()
        self.set_interval(1.0, self.idle_gc.tick, name="idle full GC")
        if self.settings.keys:
            self.set_keymap(self.settings.keys)
            # After the first frame: finding every id imports every module of the package.
            self.call_after_refresh(self._check_keys)
        self.push_screen(self._board(self.state))
        for problem in self.problems:
            self.notify(problem, title="config", severity="warning")

    def _exit_on_hangup(self) -> None:
        """SIGHUP (the SSH session dropped) and SIGTERM end the app the way `q` does.

        Raised in the middle of Textual's loop (Python's default, or SystemExit from a
        handler), they skipped the driver's shutdown: its input thread, which Python waits
        for at exit, kept the process alive for ever after the terminal had gone.
        """
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._terminated, sig)
        self._resume_only_after_suspend()

    def _resume_only_after_suspend(self) -> None:
        """A hangup comes with a SIGCONT from the kernel. Textual's SIGCONT handler, meant
        for `fg` after a suspend, restarted the terminal there and then: in the middle of
        whatever the main thread was doing, with a new writer thread that died on the gone
        terminal. The shutdown then waited for ever on the writer's full queue, and the app
        and its demo servers outlived the window. Only a SIGCONT after a suspend resumes."""
        driver = self._driver
        resume = getattr(driver, "_sigcont_application", None)
        if driver is None or resume is None or self.is_headless:
            return

        def on_sigcont(*args: object) -> None:
            if getattr(driver, "_must_signal_resume", False):  # set by its SIGTSTP handler
                resume(*args)

        with contextlib.suppress(ValueError):  # not the main thread (tests)
            signal.signal(signal.SIGCONT, on_sigcont)

    def _terminated(self, sig: int) -> None:
        self.exit(return_code=128 + sig)

    def _check_keys(self) -> None:
        from oncall_tui.ui.dialogs.help import binding_ids

        unknown = sorted(set(self.settings.keys) - binding_ids())
        if unknown:
            self.notify(
                f"keys: unknown binding ids {', '.join(unknown)} (? lists them)",
                title="config",
                severity="warning",
            )

    @property
    def clients(self) -> Clients:
        return self.state.clients

    def _state(self, clients: Clients, first: Future[Prefetched] | None = None) -> ContextState:
        return ContextState(
            clients,
            first=first,
            recently_resolved=self.settings.board.recently_resolved_s,
            allow_insecure_keyring=self.settings.allow_insecure_keyring,
            ack_lease=parse_duration(self.settings.silences.ack_lease),
        )

    def _board(self, state: ContextState) -> AlertsScreen:
        self.writer = SilenceActions(
            state.clients, self.settings.silences, self.settings.user, state.incidents.record
        )
        state.incidents.user = self.writer.user
        self.signals.follow(state)
        return AlertsScreen(
            state, bell_on_critical=self.settings.bell_on_critical, writer=self.writer
        )

    def _connect(self, name: str) -> Clients:
        context = self.settings.context(name)
        return build_clients(context, allow_insecure_keyring=self.settings.allow_insecure_keyring)

    async def switch_context(self, name: str) -> None:
        """Point the board at another context without restarting."""
        try:
            clients = self.connect(name)
        except ConfigError as exc:
            self.notify(str(exc), title="cannot switch context", severity="error")
            return
        old = self.state
        self.state = self._state(clients)
        await self.switch_screen(self._board(self.state))
        await old.aclose()
        self.notify(f"context {name}", timeout=2)

    # The help, the prompt and the commands (with the views they open) are imported when
    # first asked for: the board's first frame does not wait for them.

    def action_help(self) -> None:
        from oncall_tui.ui.commands import command_help
        from oncall_tui.ui.dialogs.help import HelpScreen, binding_rows

        rows = binding_rows(dict(self.screen.active_bindings), self.get_key_display)
        self.push_screen(HelpScreen(rows, command_help()))

    def action_command(self) -> None:
        from oncall_tui.ui.commands import command_choices
        from oncall_tui.ui.dialogs.command import CommandPrompt

        self.push_screen(CommandPrompt(command_choices(self)), self.run_command)

    async def run_command(self, text: str | None) -> None:
        from oncall_tui.ui.commands import run_command

        await run_command(self, text)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast is plain text: messages quote user input and server words.

        Textual parses toast messages as markup by default, so `:[/]` crashed the app and a
        `[@click=...]` in a label could become a live action. Markup is never honoured here.
        """
        super().notify(
            clean(message), title=clean(title), severity=severity, timeout=timeout, markup=False
        )

    def _fatal_error(self) -> None:
        """Textual's crash report, without local variables: they may hold a credential.

        Overrides a private Textual method (pinned to textual<9); tests/ui/test_app.py checks
        that a crash report shows no locals.
        """
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    async def on_unmount(self) -> None:
        self.idle_gc.stop()
        self.signals.close()
        await self.state.aclose()
