"""The keys of the screen, on one line at the bottom: Textual's Footer, as one widget.

Textual's Footer makes a widget of each key, styles each apart, sets and then removes each
key's "-compact" class when it mounts, and makes them all again whenever the screen's
bindings change (a focus change). That was about 150 ms of the CPU of every start-up (the
app to a settled screen: 1290 ms with it, 1130 without), while the first poll's board
groups were being made on the other thread, and 65 ms more for each screen that opens.
Here the line is one widget: its keys are read again when the bindings change and it is
repainted only if they differ, one Text drawn from them (styled at each paint, so that a
change of theme shows). It looks the same (the footer's theme variables, a key's padding,
a disabled key dimmed), and a click on a key presses it, as there.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.widget import Widget

# (what the key shows, its description, the key, enabled) of each key on the line
Items = list[tuple[str, str, str, bool]]
_DIM = Style(dim=True)


class KeysFooter(Widget):
    """The screen's shown bindings (one key per action), as Textual's Footer lays them out."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keys-footer--key", "keys-footer--description"}
    DEFAULT_CSS = """
    KeysFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        .keys-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .keys-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._items: Items = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._show_keys()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: Any) -> None:
        if self.is_attached:
            self._show_keys()

    def _show_keys(self) -> None:
        items: Items = []
        seen: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            shown = self.app.get_key_display(binding)
            items.append((shown, binding.description, binding.key, enabled))
        if items != self._items:
            self._items = items
            self.refresh()

    @property
    def cells(self) -> int:
        """How many cells the keys take."""
        return sum(_width(shown, text) for shown, text, *_ in self._items)

    def render(self) -> Text:
        # Styled here, not when the keys change: a change of theme restyles the line.
        key_style = self.get_component_rich_style("keys-footer--key")
        text_style = self.get_component_rich_style("keys-footer--description")
        line = Text(no_wrap=True, overflow="crop", end="")
        for shown, text, _key, enabled in self._items:
            dim = Style() if enabled else _DIM
            line.append(f" {shown} ", key_style + dim)
            if text:
                line.append(f"{text} ", text_style + dim)
        return line

    def on_click(self, event: events.Click) -> None:
        end = 0
        for shown, text, key, enabled in self._items:
            start, end = end, end + _width(shown, text)
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                event.stop()
                return


def _width(shown: str, text: str) -> int:
    """The cells of one key on the line: " key " and "description "."""
    return cell_len(shown) + 2 + (cell_len(text) + 1 if text else 0)
