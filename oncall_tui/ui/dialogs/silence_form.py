"""The silence form: matchers to toggle and edit, when, why, and a live blast-radius preview.

The form stays open until the silence is saved and read back on every cluster; when a
server refuses or cannot be reached, every field stays as typed and the server's words are
shown. Saving again never makes a second silence (silencing.write looks for it first).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import attrgetter

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.strip import Strip
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from oncall_tui.config import SilenceDefaults
from oncall_tui.domain.blast_index import BlastIndex
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.clock_skew import server_now as shifted
from oncall_tui.domain.matcher_grammar import Grammar
from oncall_tui.domain.matchers import LabelMatcher
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.silence_plan import (
    Checked,
    FormInput,
    Preview,
    assess,
    check,
    edit_note,
)
from oncall_tui.domain.timespec import describe_moment
from oncall_tui.state import silences as silencing
from oncall_tui.state.clock import alertmanager_offset
from oncall_tui.state.versions import grammar_of, learn_grammar
from oncall_tui.state.wiring import Clients
from oncall_tui.ui.dialogs.base import Dialog
from oncall_tui.ui.dialogs.confirm import Confirm
from oncall_tui.ui.widgets.alert_lines import alert_line
from oncall_tui.ui.widgets.field import Field
from oncall_tui.ui.widgets.keys_footer import KeysFooter
from oncall_tui.ui.widgets.lines_view import LinesView
from oncall_tui.ui.widgets.text_lines import show_text

SHOWN_ALERTS = 60


class MatcherList(SelectionList[int]):
    """Matcher rows: space turns one on or off, enter edits it below, delete removes it."""

    BINDINGS = [
        Binding("enter", "edit", "Edit matcher", id="silence.edit_matcher"),
        Binding("delete,d", "remove", "Remove matcher", id="silence.remove_matcher"),
    ]

    def render_line(self, y: int) -> Strip:
        """An off row's box is drawn empty: its X hidden only by colour stayed readable in
        16 colours, with NO_COLOR and in a screen reader's or tmux's copy of the text."""
        strip = super().render_line(y)
        index = self.scroll_offset.y + y
        if index >= self.option_count or self.get_option_at_index(index).value in self.selected:
            return strip
        segments = list(strip)
        # SelectionList draws [left, inner "X", right, " ", prompt...]: blank the inner one.
        if len(segments) > 1 and cell_len(segments[1].text) == 1:
            segments[1] = Segment(" ", segments[1].style)
            return Strip(segments, strip.cell_length)
        return strip

    def on_focus(self) -> None:
        if self.highlighted is None and self.option_count:
            self.highlighted = 0  # space then toggles the first row, not nothing

    def action_select(self) -> None:
        """Space (or a click) turns the highlighted row on or off at once. SelectionList
        posts itself a message and toggles whichever row is highlighted when it comes: keys
        read in one chunk, `↓ space ↓ space`, had moved on by then, and the last row was
        toggled twice."""
        if self.highlighted is not None:
            row = self.get_option_at_index(self.highlighted)
            if not row.disabled:
                self.toggle(row)

    def action_edit(self) -> None:
        self.screen.edit_matcher()  # type: ignore[attr-defined]

    def action_remove(self) -> None:
        self.screen.remove_matcher()  # type: ignore[attr-defined]


def _prompt(text: str) -> Text:
    """A matcher row as shown: labels are untrusted, so no control character reaches the
    terminal (the row keeps the exact text for the silence)."""
    return Text(one_line(text, 300) or "(empty)")


def _row(label: str, field: Input, echo: str | None = None) -> Horizontal:
    parts: list[Label | Input | Static] = [Label(label, classes="sf-label"), field]
    if echo:
        parts.append(Static(id=echo, classes="sf-echo"))
    return Horizontal(*parts, classes="sf-row")


class SilenceForm(Dialog["silencing.WriteReport | None"]):
    CSS_PATH = "silence_form.tcss"
    BINDINGS = [
        # Not priority: a priority binding runs as the App reads the key, before the keys
        # typed ahead of it reach the field (`⇥maintenance test^S` in one chunk saved with
        # no comment). A Field runs it in its turn; other widgets let it bubble up.
        Binding("ctrl+s", "submit", "Save", id="silence.save"),
        Binding("escape", "cancel", "Cancel", id="silence.cancel"),
    ]

    def __init__(
        self,
        clients: Clients,
        form: FormInput,
        *,
        defaults: SilenceDefaults,
        board_alerts: Callable[[], Sequence[BoardAlert]] = list,
        clusters: Sequence[str] | None = None,
        title: str = "New silence",
        comments: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.clients = clients
        self.initial = form
        self.defaults = defaults
        self.board_alerts = board_alerts
        self.clusters = list(clusters) if clusters is not None else None
        self.title_text = title
        self.comments = comments if comments is not None else []
        self._ids = itertools.count()
        self.rows: dict[int, str] = {}
        self.editing: int | None = None
        self.checked: Checked | None = None
        self.shown: Preview | None = None
        self._blast: BlastIndex | None = None  # the board's alerts when the form opened
        self.confirmed = 0  # the alert count the user agreed to silence above the limit
        self.saving = False
        self.result_text = ""

    @property
    def grammar(self) -> Grammar:
        """Rows are read as the Alertmanagers written to read matchers (their versions)."""
        return grammar_of(self.clients, self.clusters)

    @property
    def maintenance(self) -> bool:
        return self.initial.is_maintenance

    def compose(self) -> ComposeResult:
        form = self.initial
        what = "Matcher sets, one silence each" if self.maintenance else "Matchers"
        with Vertical(id="sf"):
            yield Static(Text(one_line(self.title_text, 300), style="bold"), id="sf-title")
            if self.maintenance:
                yield _row("Name", Field(form.name or "", id="sf-name", compact=True))
            yield _row("Ends", Field(form.end, id="sf-end", compact=True), "sf-end-echo")
            yield _row(
                "Comment",
                Field(
                    form.comment,
                    placeholder="why (required)",
                    id="sf-comment",
                    compact=True,
                    suggester=SuggestFromList(self.comments, case_sensitive=False),
                ),
            )
            yield _row(
                "Starts",
                Field(form.start, placeholder="now", id="sf-start", compact=True),
                "sf-start-echo",
            )
            yield _row("By", Field(form.created_by, id="sf-author", compact=True))
            yield Static(f"{what} · space on/off · enter edit · d remove", classes="sf-section")
            yield MatcherList(id="sf-matchers", compact=True)
            placeholder = (
                'add a set: service="x" job=~"y.*"' if self.maintenance else 'add: team="ml"'
            )
            yield _row("+", Field(placeholder=placeholder, id="sf-add", compact=True))
            yield Static(id="sf-problems")
            yield Static(id="sf-edit")
            yield Static(id="sf-preview-title", classes="sf-section")
            yield LinesView(id="sf-preview")  # its warnings, then the first alerts hit
            yield Static(id="sf-status")
        yield KeysFooter()

    def on_mount(self) -> None:
        matchers = self.query_one(MatcherList)
        for enabled, text in self.initial.matchers:
            self._add_row(matchers, text, enabled)
        self._show_matchers()
        first = "#sf-name" if self.maintenance and not self.initial.name else "#sf-end"
        self.query_one(first, Input).focus()
        # Not _changed: the form is not counted as mounted until this returns. The preview
        # drawn now is in the form's first frame, not a worker's turn and a frame later
        # (headless at 50,000 alerts, its first count painted 121-147 ms after `s`, not 140-194).
        self._check_and_show()
        self._learn_versions()

    @work(exclusive=True, group="versions", exit_on_error=False)
    async def _learn_versions(self) -> None:
        """The rows are read as the servers' versions read matchers: ask the versions not
        known yet (classic until then), then read the rows again."""
        await learn_grammar(self.clients, self.clusters)
        self._changed()

    # -- the rows ----------------------------------------------------------------------------

    def _add_row(self, matchers: MatcherList, text: str, enabled: bool = True) -> None:
        key = next(self._ids)
        self.rows[key] = text
        matchers.add_option(Selection(_prompt(text), key, enabled, id=f"m{key}"))

    def _show_matchers(self) -> None:
        """An empty list is hidden: drawn 0 lines high it still took focus on tab and
        swallowed what was typed (the maintenance form starts without rows)."""
        matchers = self.query_one(MatcherList)
        empty = matchers.option_count == 0
        if empty and matchers.has_focus:
            self.query_one("#sf-add", Input).focus()
        matchers.display = not empty

    def form_input(self) -> FormInput:
        matchers = self.query_one(MatcherList)
        selected = set(matchers.selected)
        name = self.query_one("#sf-name", Input).value if self.maintenance else None
        return FormInput(
            matchers=tuple((key in selected, text) for key, text in self.rows.items()),
            end=self.query_one("#sf-end", Input).value,
            start=self.query_one("#sf-start", Input).value,
            comment=self.query_one("#sf-comment", Input).value,
            created_by=self.query_one("#sf-author", Input).value,
            name=name,
            editing=self.initial.editing,
        )

    def edit_matcher(self) -> None:
        matchers = self.query_one(MatcherList)
        if matchers.highlighted is None:
            return
        key = matchers.get_option_at_index(matchers.highlighted).value
        self.editing = key
        field = self.query_one("#sf-add", Input)
        field.value = self.rows[key]
        field.focus()

    def remove_matcher(self) -> None:
        matchers = self.query_one(MatcherList)
        if matchers.highlighted is None:
            return
        key = matchers.get_option_at_index(matchers.highlighted).value
        matchers.remove_option(f"m{key}")
        del self.rows[key]
        self._show_matchers()
        self._changed()

    @on(Input.Submitted, "#sf-add")
    def _add_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        matchers = self.query_one(MatcherList)
        if self.editing is not None and self.editing in self.rows:
            self.rows[self.editing] = text
            matchers.replace_option_prompt(f"m{self.editing}", _prompt(text))
            matchers.select(self.editing)
            self.editing = None
        elif text:
            self._add_row(matchers, text)
            self._show_matchers()
            matchers.highlighted = matchers.option_count - 1  # in view, even below the fold
        event.input.value = ""
        self._changed()

    @on(Input.Submitted, "#sf-end")
    def _end_done(self) -> None:
        """Enter on an end that does not parse stays there: its error is shown beside it."""
        self._changed()
        if self.checked is not None and self.checked.problem("end"):
            return
        self.query_one("#sf-comment", Input).focus()

    @on(Input.Submitted, "#sf-comment, #sf-start, #sf-author, #sf-name")
    def _submit_from_field(self) -> None:
        self.action_submit()

    @on(Input.Changed)
    @on(SelectionList.SelectedChanged)
    def _any_change(self) -> None:
        self._changed()

    # -- checking and the preview --------------------------------------------------------------

    def _changed(self) -> None:
        if self.is_mounted:
            self._check_and_show()

    def _check_and_show(self) -> None:
        if not self.saving:
            self._status("")  # what it said was about the form as it was
        offset = alertmanager_offset(self.clients, self.clusters)
        now = shifted(datetime.now(UTC), offset)
        self.checked = check(self.form_input(), now, grammar=self.grammar, offset_s=offset)
        self._echo(now)
        self._show_edit_note(now)
        self._show_problems(final=False)
        # At once, what the board's data says; the Alertmanagers' answer replaces it.
        sets = self._preview_sets()
        self._show_preview(self._assess(self._board_hits(sets)) if sets else None, "", interim=True)
        self.refresh_preview()  # and the last one asked, if still waiting, is dropped

    def _echo(self, now: datetime) -> None:
        checked = self.checked
        texts: dict[str, str] = {}
        if checked and checked.ends is not None and checked.starts is not None:
            texts["end"] = describe_moment(checked.ends, now)
            starts = checked.starts
            # An edit keeps a running silence's start: say when that was, not "now".
            texts["start"] = "now" if starts == now else describe_moment(starts, now)
        for name in ("end", "start"):
            echo = self.query_one(f"#sf-{name}-echo", Static)
            problem = checked.problem(name) if checked else ""
            text = Text(texts.get(name, f"✗ {problem}" if problem else ""))
            if echo.has_class("bad") != bool(problem):
                # A bad echo wraps (silence_form.tcss): the new styles apply only after
                # this, so show_text would measure the text with the old ones.
                echo.set_class(bool(problem), "bad")
                echo.update(text)
            else:
                show_text(echo, text)

    def _show_edit_note(self, now: datetime) -> None:
        """Before saving an edit: whether Alertmanager keeps the silence's ID or replaces it."""
        note = self.query_one("#sf-edit", Static)
        if self.checked is None:
            return
        text, new = edit_note(self.initial.editing, self.checked, now)
        show_text(note, Text(("⚠ " if new else "") + text))
        note.set_class(new, "new")
        note.display = bool(text)

    def _show_problems(self, *, final: bool) -> None:
        """Matcher problems as you type; the rest (a missing comment) once you try to save."""
        checked = self.checked
        lines = []
        if checked:
            for problem in checked.problems:
                if problem.field in ("end", "start"):
                    continue
                if final or problem.field.startswith(("matcher", "set")) or problem.field == "name":
                    where = problem.field.replace("matcher:", "row ").replace("set:", "set ")
                    lines.append(f"✗ {where}: {problem.message}")
        problems = self.query_one("#sf-problems", Static)
        show_text(problems, Text("\n".join(lines)))
        problems.display = bool(lines)

    @work(exclusive=True, group="preview", exit_on_error=False)
    async def refresh_preview(self) -> None:
        """The Alertmanagers' answer to the form's matchers, after a pause in the typing."""
        sets = self._preview_sets()
        if not sets:
            return
        await asyncio.sleep(0.25)  # debounce typing: one server query per pause
        found: dict[str, BoardAlert] = {}
        problems: list[str] = []
        for matchers in sets:
            alerts, errors = await silencing.preview_alerts(
                self.clients, [str(m) for m in matchers], clusters=self.clusters
            )
            problems += errors
            found.update((a.key, a) for a in alerts)
        source = ""
        if problems:
            # The servers did not all answer: fall back on the board's last data, and say so.
            source = "from the board's last data: " + "; ".join(problems)
            found.update(self._board_hits(sets))
        self._show_preview(self._assess(found), source)

    def _preview_sets(self) -> list[Sequence[LabelMatcher]]:
        checked = self.checked
        return [s for s in (checked.sets if checked else ()) if s]

    def _board_hits(self, sets: Sequence[Sequence[LabelMatcher]]) -> dict[str, BoardAlert]:
        if self._blast is None:
            alerts = self.board_alerts()
            if self.clusters is not None:  # what the form writes to, as the servers asked
                alerts = [a for a in alerts if a.cluster in self.clusters]
            self._blast = BlastIndex(alerts)
        return {a.key: a for matchers in sets for a in self._blast.hits(matchers)}

    def _assess(self, found: dict[str, BoardAlert]) -> Preview:
        return assess(
            found.values(),
            limit=self.defaults.preview_limit,
            spread_labels=self.defaults.spread_labels,
        )

    def _show_preview(self, shown: Preview | None, source: str, *, interim: bool = False) -> None:
        self.shown = shown
        title = self.query_one("#sf-preview-title", Static)
        body = self.query_one("#sf-preview", LinesView)
        if shown is None:
            show_text(title, Text("Preview: no valid matchers yet"))
            body.show(())
            return
        where = ", ".join(shown.clusters) or "any cluster"
        count = len(shown.alerts)
        about = "about " if interim else ""
        heading = Text(f"Would silence {about}{count} alert{'s' * (count != 1)} now ({where})")
        if interim:
            heading.append(" · from the board, asking the Alertmanagers…", style="italic")
        if source:
            heading.append(f" · {source}", style="italic")
        show_text(title, heading)
        rows = [("lines--warning", Text(f"⚠ {one_line(w)}")) for w in shown.warnings]
        # The first few only: a sort of the 50,000 a broad matcher finds took 40 ms a key.
        for alert in heapq.nsmallest(SHOWN_ALERTS, shown.alerts, key=attrgetter("name", "key")):
            rows.append(("", alert_line(alert)))
        if count > SHOWN_ALERTS:
            rows.append(("", Text(f"… and {count - SHOWN_ALERTS} more")))
        body.show(rows)

    # -- saving ----------------------------------------------------------------------------------

    def _status(self, message: str, *, bad: bool = False) -> None:
        status = self.query_one("#sf-status", Static)
        show_text(status, Text(message))
        status.set_class(bad, "bad")  # colour and weight: the same lines

    def action_submit(self) -> None:
        if self.saving:
            return
        offset = alertmanager_offset(self.clients, self.clusters)
        now = shifted(datetime.now(UTC), offset)
        self.checked = check(self.form_input(), now, grammar=self.grammar, offset_s=offset)
        self._show_edit_note(now)
        self._show_problems(final=True)
        checked = self.checked
        if not checked.ok:
            self._status("fix the fields marked ✗ first", bad=True)
            self._focus_problem(checked)
            return
        count = len(self.shown.alerts) if self.shown else 0
        limit = self.defaults.preview_limit
        if count > limit and self.confirmed != count:
            self.confirmed = count
            self._status(
                f"this silences {count} alerts (more than {limit}): ctrl+s again to confirm",
                bad=True,
            )
            return
        self.saving = True
        self._status("saving…")
        self._save(checked)

    def _focus_problem(self, checked: Checked) -> None:
        """Focus goes to a field marked ✗: the one the user is in if it is one of them."""
        fields = {"sf-name": "name", "sf-end": "end", "sf-comment": "comment",
                  "sf-start": "start", "sf-author": "author"}  # fmt: skip
        focused = self.focused
        if focused is not None and checked.problem(fields.get(focused.id or "", "")):
            return
        order = [("name", "#sf-name"), ("end", "#sf-end"), ("comment", "#sf-comment"),
                 ("start", "#sf-start"), ("author", "#sf-author")]  # fmt: skip
        for name, selector in order:
            if checked.problem(name):
                self.query_one(selector, Input).focus()
                return
        matchers = self.query_one(MatcherList)
        keys = list(self.rows)
        for problem in checked.problems:
            kind, _, index = problem.field.partition(":")
            if kind in ("matcher", "set") and index.isdigit() and int(index) < len(keys):
                matchers.highlighted = int(index)
                break
        matchers.focus()

    @work(exclusive=True, group="save", exit_on_error=False)
    async def _save(self, checked: Checked) -> None:
        try:
            report = await silencing.write(self.clients, checked.drafts, clusters=self.clusters)
        except Exception as exc:  # a bug must not lose the form
            self.saving = False
            self._status(f"not saved: internal error: {type(exc).__name__}: {exc}", bad=True)
            return
        self.saving = False
        if report.ok:
            comment = self.query_one("#sf-comment", Input).value.strip()
            if comment and comment not in self.comments:
                self.comments.insert(0, comment)
            self.dismiss(report)
            return
        # Per silence, with the server's words: a maintenance refused half-way says which set
        # was written. The form keeps every field; saving again finds the written ones (no
        # second copy) and retries the rest.
        written = len(report.written)
        head = (
            f"{written} of {len(report.outcomes)} written, the rest NOT (nothing typed is lost;"
            " save again to retry the rest):"
            if written
            else "not saved, nothing lost (save again to retry):"
        )
        self._status("\n".join([head, *report.lines()]), bad=True)

    def action_cancel(self) -> None:
        if self.editing is not None:
            self.editing = None
            self.query_one("#sf-add", Input).value = ""
            return
        if self.form_input() == self.initial or self.saving:
            self.dismiss(None)
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(Confirm("Discard this silence? What you typed is lost."), answer)
