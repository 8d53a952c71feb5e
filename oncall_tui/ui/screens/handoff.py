"""`:handoff [4h]`: the shift handoff of a window, as `oncall-tui handoff --since` prints it.

The window and the next shift default to the config's `handoff:` key (12h each); the title
names the window. One read of the servers when it opens (and on `r`), through
state/handoff.py; the SLO figures are the SLO store's. The Markdown is made by domain/handoff.py, which escapes every
label and comment, and rendered with raw HTML off.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown, Static

from oncall_tui.domain import handoff as rules
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.state.context import ContextState
from oncall_tui.state.handoff import for_context
from oncall_tui.ui.widgets.keys_footer import KeysFooter


def _parser() -> MarkdownIt:
    return MarkdownIt("gfm-like", {"html": False})


class HandoffScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="handoff.back"),
        Binding("r", "reload", "Reload", id="handoff.reload"),
    ]
    DEFAULT_CSS = """
    HandoffScreen #handoff-title { height: 1; padding: 0 1; }
    """

    def __init__(self, state: ContextState, since_s: float, next_shift_s: float) -> None:
        super().__init__()
        self.state = state
        self.since_s = since_s
        self.next_shift_s = next_shift_s
        self.handoff: rules.Handoff | None = None
        self.problem = ""

    def compose(self) -> ComposeResult:
        yield Static(Text("handoff: reading the servers…"), id="handoff-title")
        with VerticalScroll():
            yield Markdown(id="handoff-body", parser_factory=_parser)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self.load()

    @work(exclusive=True, group="handoff", exit_on_error=False)
    async def load(self) -> None:
        try:
            found = await for_context(self.state, self.since_s, self.next_shift_s)
        except Exception as exc:  # a bug must not close the view: say it, keep the last one
            self.problem = f"cannot make the handoff: {exc}"
            self._title()
            return
        self.handoff, self.problem = found, ""
        self._title()
        await self.query_one("#handoff-body", Markdown).update(rules.markdown(found))

    def _title(self) -> None:
        text = Text("handoff", style="bold")
        text.append(f"  last {short_duration(self.since_s)}")
        if self.problem:
            text.append(f"  ✗ {one_line(self.problem, 200)}")
        elif self.handoff is not None and self.handoff.problems:
            text.append(f"  partial: {len(self.handoff.problems)} server(s) did not answer")
        else:
            text.append(" · r reloads")
        self.query_one("#handoff-title", Static).update(text)

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()
