"""The App: wires settings, clients, themes, screens and commands together, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from textual.app import App
from textual.binding import Binding
from textual.notifications import SeverityLevel

from ..api.fetch import Fetched
from ..config import ConfigError, Settings
from ..domain.board import BoardAlert
from ..domain.sanitize import clean
from ..domain.timespec import TimeSpecError, parse_duration
from ..factory import Clients, build_clients
from ..poller import Prefetched
from .dialogs.command import CommandPrompt
from .dialogs.help import HelpScreen, binding_ids, binding_rows
from .screens.alerts import AlertsScreen
from .screens.silences import SilencesScreen
from .silence_actions import SilenceActions
from .themes import DEFAULT_VARIABLES, load_themes


class OncallApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "oncall-tui"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
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
        self.clients = clients
        self.first = first
        self.connect = connect or self._connect
        self.problems: list[str] = []
        # Runbooks fetched this session (url -> Fetched), shared by every runbook screen.
        self.runbook_cache: dict[str, Fetched] = {}
        for _path, theme in load_themes():
            if isinstance(theme, str):
                self.problems.append(theme)
            else:
                self.register_theme(theme)
        if self.get_theme(settings.theme) is not None:
            self.theme = settings.theme
        else:
            self.problems.append(f"theme {settings.theme!r} not found")

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(DEFAULT_VARIABLES)

    def on_mount(self) -> None:
        if self.settings.keys:
            unknown = sorted(set(self.settings.keys) - binding_ids())
            if unknown:
                self.problems.append(
                    f"keys: unknown binding ids {', '.join(unknown)} (? lists them)"
                )
            self.set_keymap(self.settings.keys)
        self.push_screen(self._board(self.clients, self.first))
        for problem in self.problems:
            self.notify(problem, title="config", severity="warning")

    def _board(self, clients: Clients, first: Future[Prefetched] | None = None) -> AlertsScreen:
        self.writer = SilenceActions(clients, self.settings.silences, self.settings.user)
        return AlertsScreen(
            clients,
            bell_on_critical=self.settings.bell_on_critical,
            first=first,
            writer=self.writer,
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
        old = self.clients
        self.clients = clients
        await self.switch_screen(self._board(clients))
        await old.aclose()
        self.notify(f"context {name}", timeout=2)

    def action_help(self) -> None:
        rows = binding_rows(dict(self.screen.active_bindings), self.get_key_display)
        self.push_screen(HelpScreen(rows))

    def action_command(self) -> None:
        contexts = [f"ctx {name}" for name in sorted(self.settings.contexts)]
        themes = [f"theme {name}" for name in sorted(self.available_themes)]
        choices = [
            "alerts",
            "silences",
            "slo",
            "query",
            "maintenance",
            "maintenance end ",
            "maintenance extend ",
            *contexts,
            "sort severity",
            "sort age",
            "sort alertname",
            *themes,
        ]
        self.push_screen(CommandPrompt([*choices, "quit"]), self.run_command)

    async def run_command(self, text: str | None) -> None:
        if not text:
            return
        verb, _, rest = text.partition(" ")
        rest = rest.strip()
        if verb in ("q", "q!", "quit"):
            self.exit()
        elif verb in ("ctx", "context"):
            if rest:
                await self.switch_context(rest)
            else:
                names = ", ".join(sorted(self.settings.contexts)) or "none configured"
                self.notify(f"contexts: {names}", title=f"current: {self.clients.context.name}")
        elif verb == "alerts":
            await self._to_board()
        elif verb == "sort" and isinstance(self.screen, AlertsScreen):
            mode = rest if rest in ("severity", "age", "alertname") else f"label:{rest}"
            self.screen.set_sort(mode if rest else "severity")
        elif verb == "theme":
            if rest and self.get_theme(rest) is not None:
                self.theme = rest
            else:
                names = ", ".join(sorted(self.available_themes))
                self.notify(f"themes: {names}", title=f"current: {self.theme}")
        elif verb in ("silences", "silence", "sil"):
            await self._to_board()
            self.push_screen(SilencesScreen(self.clients, self.writer))
        elif verb in ("maintenance", "maint"):
            await self._maintenance(rest)
        elif verb == "slo":
            from .screens.slo import SLOScreen

            if isinstance(self.screen, SLOScreen):
                return
            await self._to_board()
            self.push_screen(SLOScreen(self.clients))
        elif verb == "query":
            from .screens.query import QueryScreen

            await self._to_board()
            self.push_screen(QueryScreen(self.clients))
        else:
            self.notify(f"unknown command {text!r} (? for help)", severity="error")

    async def _to_board(self) -> None:
        while len(self.screen_stack) > 2 and not isinstance(self.screen, AlertsScreen):
            await self.pop_screen()

    def _board_alerts(self) -> list[BoardAlert]:
        board = next((s for s in self.screen_stack if isinstance(s, AlertsScreen)), None)
        return board.all_alerts() if board is not None else []

    async def _maintenance(self, rest: str) -> None:
        """`:maintenance` opens the form; `:maintenance end NAME`, `:maintenance extend NAME 2h`."""
        action, _, args = rest.partition(" ")
        name, _, duration = args.strip().partition(" ")
        if not action:
            self.writer.open_maintenance(self.screen, self._board_alerts, self._saved)
            return
        if action not in ("end", "extend") or not name:
            self.notify("use :maintenance, :maintenance end NAME or :maintenance extend NAME 1h")
            return
        delta = None
        if action == "extend":
            try:
                delta = parse_duration(duration.strip() or self.settings.silences.extend_by)
            except TimeSpecError as exc:
                self.notify(str(exc), severity="error")
                return
        await self.writer.maintenance(self.screen, name, delta, self._saved)

    def _saved(self, report: object = None) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, AlertsScreen | SilencesScreen):
                screen.action_refresh()

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

        Overrides a private Textual method (pinned to textual<9); tests/test_app.py checks
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
        await self.clients.aclose()
