"""The `w` view: where the alert under the cursor goes, and whether it is muted now.

The answer comes from the cluster's own configuration (state/routing.py); the worker belongs
to this screen, so leaving it cancels the read.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.routing import Where
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.context import ContextState
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.routing_text import routing_text
from oncall_tui.ui.widgets.styles import component_style
from oncall_tui.wire.errors import ApiError

ROLES = ("key", "muted", "error", "name", "ok", "warn")


def why(exc: Exception) -> str:
    return exc.message if isinstance(exc, ApiError) else f"internal error: {type(exc).__name__}"


class WhereScreen(Screen[None]):
    CSS_PATH = "routing.tcss"
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="where.back"),
        Binding("ctrl+r", "refresh", "Refresh", id="where.refresh"),
    ]
    COMPONENT_CLASSES = {f"routing--{role}" for role in ROLES}

    def __init__(self, alert: BoardAlert, state: ContextState) -> None:
        super().__init__()
        self.alert = alert
        self.state = state
        self.found: Where | str | None = None

    def compose(self) -> ComposeResult:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append(f"where {one_line(self.alert.name, 80)} goes", style="bold")
        cluster = self.state.routing.cluster_for(self.alert)
        if cluster != self.alert.cluster:
            title.append(f"  {one_line(self.alert.state, 20)}: once it fires, on", style="bold")
        title.append(f"  cluster {one_line(cluster, 40)}")
        yield Static(title, classes="routing-title")
        with VerticalScroll(classes="routing-body"):
            yield Static(id="where-body")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self.show()
        self.fetch()

    def _style(self, name: str) -> Style:
        return component_style(self, f"routing--{name}")

    def show(self) -> None:
        self.query_one("#where-body", Static).update(routing_text(self.found, self._style))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self.call_later(self.show)

    @work(exclusive=True, group="where", exit_on_error=False)
    async def fetch(self) -> None:
        try:
            self.found = await self.state.routing.where(self.alert)
        except Exception as exc:  # shown on the screen, which stays usable
            self.found = why(exc)
        self.show()

    def action_refresh(self) -> None:
        self.found = None
        self.show()
        self.fetch()

    def action_back(self) -> None:
        self.dismiss()
