"""An alert's runbook, inline: Markdown with a table of contents, runnable PromQL blocks.

Where the runbook is read from is decided by rules (`domain/runbook_policy.py`): a local
file only inside the runbook folders, a fetch never to a link-local or cloud metadata
address; a refused link is listed with the rule that refused it, and nothing of it is shown.
The view says where the runbook came from (a configured folder, the alert's annotation, the
config's url_template).

The runbook is untrusted: its source is cleaned of control characters before the Markdown
widget sees it, raw HTML is shown as text, links are shown and never opened, shell blocks
are never run (`c` copies a block with OSC 52, which works over SSH). PromQL blocks run
against the context's Prometheus with `{{ $labels.x }}` filled from the alert; the answer is
mounted right under the block.
"""

from __future__ import annotations

import contextlib
import math
import time

from markdown_it import MarkdownIt
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownFence, MarkdownTableOfContents

from oncall_tui.config import Context
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.html_text import html_to_text
from oncall_tui.domain.incidents import QUERY, RUNBOOK
from oncall_tui.domain.promql import MissingLabel, fill_query
from oncall_tui.domain.runbooks import Candidate, candidates, document_kind, is_promql
from oncall_tui.domain.sanitize import clean, one_line
from oncall_tui.state.context import ContextState
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.query_result import ResultView
from oncall_tui.wire.documents import Fetched, FetchError, Refusal, RefusedLink

RANGE_SECONDS = 3600.0


def _parser() -> MarkdownIt:
    # html off: raw HTML in a runbook is shown as the text it is, never silently dropped.
    return MarkdownIt("gfm-like", {"html": False})


def runbook_candidates(alert: BoardAlert, context: Context) -> list[Candidate]:
    config = context.runbooks
    return candidates(
        alert.name,
        alert.labels,
        alert.annotations,
        annotation_names=config.annotations,
        folders=config.folders,
        url_template=config.url_template,
    )


class RunbookScreen(Screen[None]):
    CSS_PATH = "triage.tcss"
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="runbook.back"),
        Binding("n", "block(1)", "Next block", id="runbook.next_block"),
        Binding("N", "block(-1)", "Prev block", id="runbook.previous_block"),
        Binding("enter,x", "run", "Run PromQL", id="runbook.run"),
        Binding("c", "copy", "Copy block", id="runbook.copy"),
        Binding("o", "contents", "Contents", id="runbook.contents"),
        Binding("t", "triage", "Triage", id="runbook.triage"),
    ]

    def __init__(self, alert: BoardAlert, state: ContextState) -> None:
        super().__init__()
        self.alert = alert
        self.state = state
        self.context = state.context
        self.fetched: Fetched | None = None
        self.source: Candidate | None = None
        self.problems: list[tuple[Candidate, str, bool]] = []  # (where, why, nothing there)
        self.refused: list[tuple[Candidate, Refusal]] = []  # nothing of these was opened
        self.fences: list[MarkdownFence] = []
        self.selected = -1
        self.results: dict[int, ResultView] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="runbook-title")
        yield Static(id="runbook-source")
        with Horizontal(id="runbook-main"):
            yield VerticalScroll(id="runbook-body")
        yield Static(id="runbook-hint")
        yield KeysFooter()

    def on_mount(self) -> None:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append("Runbook ", "bold")
        title.append(one_line(self.alert.name, 80) or "(no alertname)", "bold")
        title.append("  loading…")
        self.query_one("#runbook-title", Static).update(title)
        self.query_one("#runbook-body").focus()
        self.load()

    # -- loading ---------------------------------------------------------------------------------

    @work(exclusive=True, group="runbook-load", exit_on_error=False)
    async def load(self) -> None:
        found = runbook_candidates(self.alert, self.context)
        async with self.state.runbooks.reader() as fetcher:
            for candidate in found:
                if candidate.refusal is not None:
                    self.refused.append((candidate, candidate.refusal))
                    continue
                try:
                    if candidate.kind == "file":
                        fetched = await fetcher.read_file(candidate.location)
                    else:
                        fetched = await fetcher.fetch(candidate.location)
                except RefusedLink as exc:
                    self.refused.append((candidate, exc.refusal))
                    continue
                except FetchError as exc:
                    self.problems.append((candidate, exc.message, exc.missing))
                    continue
                except Exception as exc:  # a bug must say so, not leave "loading…" for ever
                    why = f"internal error: {type(exc).__name__}: {exc}"
                    self.problems.append((candidate, why, False))
                    continue
                self.fetched, self.source = fetched, candidate
                self.state.incidents.record(
                    RUNBOOK, f"runbook opened: {candidate.location}", self.alert.labels
                )
                break
        await self._show(found)

    async def _show(self, found: list[Candidate]) -> None:
        body = self.query_one("#runbook-body", VerticalScroll)
        title = self.query_one("#runbook-title", Static)
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append("Runbook ", "bold")
        head.append(one_line(self.alert.name, 80) or "(no alertname)", "bold")
        notes = Text()
        fetched, source = self.fetched, self.source
        failed = fetched is None or source is None
        for candidate, refusal in self.refused:  # first: a refusal is what the user must see
            notes.append(f"✗ Refused by the {refusal.rule} rule", "bold")
            notes.append(f" ({one_line(candidate.provenance, 300)})\n")
            notes.append(f"  {one_line(refusal.why, 600)}.\n  {one_line(refusal.allow, 300)}\n")
            notes.append(f"  link: {one_line(candidate.link, 300)}\n")
        if failed and self.refused:
            notes.append("No runbook shown: nothing refused was opened or fetched.\n")
        for candidate, problem, missing in self.problems:
            if failed or not missing:  # a runbook was found: absent local copies are no news
                notes.append(f"✗ {one_line(candidate.link, 300)}\n  {one_line(problem, 500)}\n")
        if fetched is None or source is None:
            if self.refused:
                head.append("  refused: nothing shown", "bold")
            title.update(head)
            self.query_one("#runbook-source", Static).display = False
            if not found:
                names = ", ".join(self.context.runbooks.annotations)
                notes.append(
                    f"This alert names no runbook (annotations: {names}), and no runbook "
                    "folder or url_template in the config finds one."
                )
            elif not self.refused:
                notes.append("No runbook found in any of these places.")
            await body.mount(Static(notes, id="runbook-problems"))
            return
        head.append(f"  {one_line(source.link, 200)}")
        title.update(head)
        self._source(source, fetched)
        if notes:
            await body.mount(Static(notes, id="runbook-problems"))
        text = clean(fetched.text)
        kind = document_kind(fetched.content_type, fetched.final)
        if kind == "html":
            await body.mount(Static(Text(clean(html_to_text(text))), id="runbook-text"))
        elif kind == "markdown":
            markdown = Markdown(id="runbook-doc", open_links=False, parser_factory=_parser)
            await body.mount(markdown)
            contents = MarkdownTableOfContents(markdown, id="runbook-toc")
            contents.display = False
            await self.query_one("#runbook-main").mount(contents, before=body)
            await markdown.update(text)
            self.fences = list(markdown.query(MarkdownFence))
        else:
            media = one_line(fetched.content_type or "unknown", 80)
            message = (
                f"This runbook is {media}, which oncall-tui does not show. "
                f"Open it yourself: {one_line(source.link, 1000)}"
            )
            await body.mount(Static(Text(message), id="runbook-text"))
        self._hint()

    def _source(self, source: Candidate, fetched: Fetched) -> None:
        line = Text(one_line(source.provenance, 300))
        if source.kind == "url" and fetched.final != fetched.location:
            line.append(f" · redirected to {one_line(fetched.final, 300)}")
        widget = self.query_one("#runbook-source", Static)
        widget.set_class(source.source == "annotation", "-from-alert")
        widget.update(line)

    # -- blocks ----------------------------------------------------------------------------------

    def _hint(self, extra: str = "") -> None:
        hint = Text(no_wrap=True, overflow="ellipsis")
        runnable = sum(1 for f in self.fences if is_promql(f.lexer))
        if self.fences:
            where = f"block {self.selected + 1}/{len(self.fences)}" if self.selected >= 0 else ""
            hint.append(f"{where or f'{len(self.fences)} blocks'} · {runnable} PromQL · ")
            hint.append("n/N select · enter run PromQL · c copy · o contents")
        if extra:
            hint.append(("  " if self.fences else "") + one_line(extra, 500))
        self.query_one("#runbook-hint", Static).update(hint)

    def action_block(self, step: int) -> None:
        if not self.fences:
            self._hint("no code blocks in this runbook")
            return
        if self.selected >= 0:
            self.fences[self.selected].remove_class("-selected")
        self.selected = (self.selected + step) % len(self.fences)
        fence = self.fences[self.selected]
        fence.add_class("-selected")
        self.query_one("#runbook-body", VerticalScroll).scroll_to_widget(fence, top=True)
        language = one_line(fence.lexer or "text", 20)
        self._hint(f"({language})" if is_promql(fence.lexer) else f"({language}, never run)")

    def _current(self) -> MarkdownFence | None:
        if not self.fences:
            return None
        if self.selected < 0:
            self.action_block(1)
        return self.fences[self.selected]

    def action_copy(self) -> None:
        fence = self._current()
        if fence is None:
            self.notify("no code block to copy", severity="warning")
            return
        code = fence.code
        if is_promql(fence.lexer):
            with contextlib.suppress(MissingLabel):
                code = fill_query(code, self.alert.labels)
        self.app.copy_to_clipboard(code)
        self.notify(f"copied block {self.selected + 1} ({len(code)} characters)", timeout=3)

    def action_run(self) -> None:
        fence = self._current()
        if fence is None:
            return
        if not is_promql(fence.lexer):
            self._hint("shell and other blocks are never run by oncall-tui: c copies it")
            return
        self.run_block(self.selected)

    @work(group="runbook-query", exit_on_error=False)
    async def run_block(self, index: int) -> None:
        fence = self.fences[index]
        view = self.results.get(index)
        if view is None:
            view = ResultView(classes="runbook-result")
            self.results[index] = view
            await fence.parent.mount(view, after=fence)  # type: ignore[union-attr]
        lookups = self.state.lookups
        if not lookups.has_prometheus:
            view.note("no Prometheus configured in this context", error=True)
            return
        try:
            query = fill_query(fence.code, self.alert.labels)
        except MissingLabel as exc:
            view.note(str(exc), error=True)
            return
        view.note("running…")
        self.state.incidents.record(QUERY, f"runbook query: {query}", self.alert.labels)
        end = float(math.ceil(time.time()))  # whole seconds: the last step lands on now
        start = end - RANGE_SECONDS
        try:
            instant = await lookups.query(query, at=end, labels=self.alert.labels)
            history = None
            if instant.result_type == "vector" and instant.samples:
                history = await lookups.query_range(
                    query, start, end, RANGE_SECONDS / 240, labels=self.alert.labels
                )
        except Exception as exc:  # the server's words go on screen; the app stays up
            view.show_error(query, exc)
            return
        view.show(instant=instant, history=history, start=start, end=end, note=f"last 1h · {query}")
        self.query_one("#runbook-body", VerticalScroll).scroll_to_widget(fence, top=True)

    # -- the rest --------------------------------------------------------------------------------

    def action_contents(self) -> None:
        contents = self.query("#runbook-toc")
        if not contents:
            return
        toc = contents.first(MarkdownTableOfContents)
        toc.display = not toc.display
        if toc.display:
            # The contents' tree is built once the runbook has rendered; a key pressed before
            # that (a fast typist, a paste that landed here) just shows the empty panel.
            for tree in toc.query("Tree"):
                tree.focus()
        else:
            self.query_one("#runbook-body").focus()

    @on(Markdown.TableOfContentsUpdated)
    def _contents(self, event: Markdown.TableOfContentsUpdated) -> None:
        event.stop()
        for toc in self.query("#runbook-toc").results(MarkdownTableOfContents):
            toc.table_of_contents = event.table_of_contents

    @on(Markdown.TableOfContentsSelected)
    def _jump(self, event: Markdown.TableOfContentsSelected) -> None:
        event.stop()
        block = self.query_one(f"#{event.block_id}")
        self.query_one("#runbook-body", VerticalScroll).scroll_to_widget(block, top=True)

    @on(Markdown.LinkClicked)
    def _link(self, event: Markdown.LinkClicked) -> None:
        # Never followed: the user sees where it points and can open it deliberately.
        event.stop()
        self._hint(f"link (not opened): {event.href}")

    def action_triage(self) -> None:
        from oncall_tui.ui.screens.triage import TriageScreen

        self.app.push_screen(TriageScreen(self.alert, self.state))

    def action_back(self) -> None:
        self.dismiss()
