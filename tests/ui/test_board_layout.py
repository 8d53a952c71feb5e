"""The screen is laid out again only when something's height or the board's scrollbar
changes (a layout was 27 ms at 50,000 alerts, at every key typed in the filter): these
prove it still is when they do."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from oncall_tui.demo.stack import Stack
from oncall_tui.ui.widgets.status import StatusBar
from oncall_tui.ui.widgets.text_lines import show_text
from tests.helpers import board, demo_app, row_with, until


@pytest.mark.stack
async def test_the_scrollbar_comes_and_goes_as_the_filter_changes_the_boards_length(
    stack: Stack,
) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(80, 12)) as pilot:
        await until(pilot, lambda: row_with(app, "HighErrorRate"))
        view = board(app)
        await until(pilot, lambda: view.virtual_size.height > view.size.height, "a long board")
        await until(pilot, lambda: view.show_vertical_scrollbar, "the scrollbar")
        assert view.scrollable_content_region.width == view.size.width - 1
        # No horizontal scrollbar for the column the vertical one took: every row is a board row.
        assert not view.show_horizontal_scrollbar
        assert view.scrollable_content_region.height == view.size.height
        # The rows end before the scrollbar, a cut one with its … in view.
        strips = [view.render_line(y) for y in range(view.size.height)]
        assert {s.cell_length for s in strips} == {view.size.width - 1}
        assert any(s.text.rstrip().endswith("…") for s in strips)
        await pilot.press("slash")  # the field opens: a layout of its own
        await until(pilot, lambda: view.show_vertical_scrollbar, "the scrollbar, filter open")
        await pilot.press(*"HighErrorRate")
        await until(pilot, lambda: view.virtual_size.height <= view.size.height, "a short board")
        # Gone with the lines that needed it, not at some later layout.
        assert not view.show_vertical_scrollbar
        # The column the scrollbar took is the lines' again, and they are drawn in it.
        assert view.scrollable_content_region.width == view.size.width
        assert row_with(app, "HighErrorRate")
        await pilot.press(*["backspace"] * len("HighErrorRate"))
        await until(pilot, lambda: view.virtual_size.height > view.size.height, "long again")
        assert view.show_vertical_scrollbar
        assert view.scrollable_content_region.width == view.size.width - 1


class _Bar(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar()


async def test_the_status_line_takes_the_lines_its_text_needs_as_the_text_changes() -> None:
    app = _Bar()
    async with app.run_test(size=(40, 10)) as pilot:
        bar = app.query_one(StatusBar)
        heights = []
        for text in (
            Text(" demo  12 alerts"),
            Text(" demo  11 alerts"),  # same height: no layout asked, none needed
            Text(" demo  STALE since 03:00:00:\n connection refused"),
            Text(" demo  STALE since 03:00:02:\n connection reset"),
            Text(" demo  10 alerts"),
        ):
            bar.show(text)
            await pilot.pause()
            heights.append(bar.size.height)
            assert bar.render_line(0).text.startswith(text.plain.split("\n")[0])
        assert heights == [1, 1, 2, 2, 1]


class _Texts(App[None]):
    CSS = "Static { height: auto; } #cut { text-wrap: nowrap; text-overflow: ellipsis; }"

    def compose(self) -> ComposeResult:
        yield Static(id="wrap")
        yield Static(id="cut")


async def test_shown_text_takes_the_lines_it_needs_wrapped_or_cut() -> None:
    """show_text lays out only when the height changes: wide (non-ASCII) lines that wrap,
    line breaks, and a widget that cuts lines instead of wrapping them."""
    app = _Texts()
    async with app.run_test(size=(12, 12)) as pilot:
        wrap, cut = app.query_one("#wrap", Static), app.query_one("#cut", Static)
        seen = []
        for text in ("é", "ééééééééééééééé", "é\né", "ab", "界界界界界界界界", "a\nb\nc", "a"):
            show_text(wrap, Text(text))
            show_text(cut, Text(text))
            await pilot.pause()
            seen.append((wrap.size.height, cut.size.height))
        assert seen == [(1, 1), (2, 1), (2, 2), (1, 1), (2, 1), (3, 3), (1, 1)]
