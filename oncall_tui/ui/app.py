"""The App: wires settings, clients, themes and screens together, and does nothing else."""

from __future__ import annotations

from textual.app import App

from ..config import Settings
from ..factory import Clients
from .screens.alerts import AlertsScreen
from .themes import DEFAULT_VARIABLES, load_themes


class OncallApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "oncall-tui"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, settings: Settings, clients: Clients) -> None:
        super().__init__()
        self.settings = settings
        self.clients = clients
        self.theme_problems: list[str] = []
        for _path, theme in load_themes():
            if isinstance(theme, str):
                self.theme_problems.append(theme)
            else:
                self.register_theme(theme)
        if self.get_theme("oncall-dark") is not None:
            self.theme = "oncall-dark"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(DEFAULT_VARIABLES)

    def on_mount(self) -> None:
        self.push_screen(AlertsScreen(self.clients))
        for problem in self.theme_problems:
            self.notify(problem, title="theme skipped", severity="warning")

    async def on_unmount(self) -> None:
        await self.clients.aclose()
