"""The one-line footer: the keys Textual's Footer would show, pressed by a click too."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from oncall_tui.ui.widgets.keys_footer import KeysFooter


class Field(Input):
    BINDINGS = [Binding("ctrl+u", "wipe", "Wipe")]

    def action_wipe(self) -> None:
        self.value = ""


class Keys(App[None]):
    BINDINGS = [
        Binding("a", "note('a')", "Do A"),
        Binding("x", "note('a')", "Same as A"),  # one key per action: the first
        Binding("b", "note('b')", "Do B"),  # check_action None: shown dim, a click rings
        Binding("c", "note('c')", "Hidden", show=False),
        Binding("h", "gone", "Gone"),  # check_action False: not shown at all
    ]

    def __init__(self) -> None:
        super().__init__()
        self.noted: list[str] = []
        self.bells = 0

    def compose(self) -> ComposeResult:
        yield Field(id="field")
        yield KeysFooter()

    def bell(self) -> None:
        self.bells += 1

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "gone":
            return False
        return None if parameters == ("b",) else True

    def action_note(self, what: str) -> None:
        self.noted.append(what)


def footer_line(app: Keys) -> str:
    footer = app.screen.query_one(KeysFooter)
    return "".join(s.text for s in footer.render_line(0)).rstrip()


async def test_the_footer_shows_each_shown_action_once_and_a_click_presses_its_key() -> None:
    app = Keys()
    async with app.run_test(size=(80, 10)) as pilot:
        app.set_focus(None)
        await pilot.pause()
        assert footer_line(app) == " a Do A  b Do B"
        footer = app.screen.query_one(KeysFooter)
        dim = {s.text.strip(): bool(s.style and s.style.dim) for s in footer.render_line(0)}
        assert dim["a"] is False and dim["b"] is True and dim["Do B"] is True
        assert footer.cells == len(" a Do A  b Do B ")
        row = footer.region.y
        await pilot.click(offset=(1, row))  # on "a"
        await pilot.pause()
        assert app.noted == ["a"]
        await pilot.click(offset=(8, row))  # the first cell of the disabled "b": a bell
        await pilot.pause()
        assert app.noted == ["a"] and app.bells == 1
        await pilot.click(offset=(40, row))  # past the keys: nothing
        await pilot.pause()
        assert app.noted == ["a"] and app.bells == 1


async def test_the_footer_follows_the_focused_widgets_bindings() -> None:
    app = Keys()
    async with app.run_test(size=(80, 10)) as pilot:
        app.set_focus(None)
        await pilot.pause()
        assert "Do A" in footer_line(app)
        app.set_focus(app.query_one("#field", Field))
        await pilot.pause()
        # The field's key joins; the app's letter keys leave, the field takes them as text.
        assert footer_line(app) == " ^u Wipe"
        app.set_focus(None)
        await pilot.pause()
        assert footer_line(app) == " a Do A  b Do B"
