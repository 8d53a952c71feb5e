"""ui/widgets/lines_view.py: the silence form's preview rows. A change draws again only the
rows that changed and never lays the screen out while the scrollbar stays (at 50,000 alerts a
layout of the form and a redraw of its whole list were 40-60 ms of every key in it)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Static

from oncall_tui.ui.widgets.lines_view import LinesView, Row


class Box(App[None]):
    CSS = "#sf-preview { height: 6; } #sf-preview > .lines--warning { color: red; }"

    def compose(self) -> ComposeResult:
        yield Static("above")
        yield LinesView(id="sf-preview")


def preview_rows(warnings: int, alerts: int) -> list[Row]:
    out: list[Row] = [("lines--warning", Text(f"⚠ warning {i}")) for i in range(warnings)]
    out += [("", Text(f"alert {i} " + "x" * 60)) for i in range(alerts)]
    return out


def shown(view: LinesView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


async def test_rows_are_cut_to_the_width_beside_the_scrollbar_and_warnings_take_their_style() -> (
    None
):
    app = Box()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(LinesView)
        view.show(preview_rows(2, 10))
        await pilot.pause()
        assert view.show_vertical_scrollbar and not view.show_horizontal_scrollbar
        lines = shown(view)
        assert lines[:3] == ["⚠ warning 0", "⚠ warning 1", "alert 0 " + "x" * 30 + "…"]
        assert {view.render_line(y).cell_length for y in range(6)} == {39}
        warning = view.render_line(0)
        assert [
            s.text
            for s in warning
            if s.style and s.style.color and s.style.color.triplet == (255, 0, 0)
        ] == ["⚠ warning 0"]
        assert view.text.splitlines()[0] == "⚠ warning 0"


async def test_a_warning_more_redraws_the_rows_that_moved_and_lays_nothing_out() -> None:
    app = Box()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(LinesView)
        view.show(preview_rows(2, 10))
        await pilot.pause()
        layouts: list[bool] = []
        asked: list[Region] = []
        layout, refresh = app.screen._refresh_layout, view.refresh

        def laid_out(*args: Any, **kwargs: Any) -> None:
            layouts.append(True)
            layout(*args, **kwargs)

        def refreshed(*regions: Region, **kwargs: Any) -> LinesView:
            asked.extend(regions)
            return refresh(*regions, **kwargs)

        app.screen._refresh_layout = laid_out  # type: ignore[method-assign]
        view.refresh = refreshed  # type: ignore[method-assign]
        view.show(preview_rows(2, 10))  # the same rows: nothing to draw
        assert asked == []
        view.show(preview_rows(2, 11))  # a row more, below the box: only the scrolled size changes
        assert all(r.y >= 6 for r in asked)
        view.show(preview_rows(3, 11))  # a warning more: the rows from the third on move down
        await pilot.pause()
        assert sorted({r.y for r in asked if r.height == 1}) == [2, 3, 4, 5]
        assert shown(view)[2:4] == ["⚠ warning 2", "alert 0 " + "x" * 30 + "…"]
        assert layouts == []
        assert view.virtual_size.height == 14
