"""A one-line text field that applies keys and pastes in the order they arrive.

Textual forwards every key to the focused Input at once, but runs the Input's own bindings
(ctrl+u, ctrl+w, backspace, the arrows...) only when the key has bubbled back up to the App.
When keys arrive together (a fast typist, a paste, tmux or SSH delivering one chunk), the
printable keys and pastes that followed ctrl+u are inserted first and ctrl+u then deletes
them: `ctrl+u team=ml` in one chunk left the board filter empty. `Field` runs its own
bindings as the key reaches it, so the edits happen in the order they were typed.

A paste keeps every character: line breaks and tabs become spaces (Textual's Input kept only
the first line), and control characters are shown as U+FFFD rather than sent to the terminal.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from oncall_tui.domain.sanitize import clean


def pasted_line(text: str) -> str:
    """A paste as one line: nothing dropped, nothing a terminal would execute."""
    body = text.rstrip("\r\n")  # a copied line usually brings its line break along
    flat = body.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return clean(flat, keep_newlines=False)


class Field(Input):
    async def _on_key(self, event: events.Key) -> None:
        # The focused widget's bindings as the App would see them (keymap applied); the
        # App already ran its priority bindings before forwarding the key here.
        for node, bindings in self.screen._modal_binding_chain:
            if node is not self:
                break
            for binding in bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority and await self.app.run_action(binding.action, self):
                    event.stop()
                    event.prevent_default()  # Input._on_key must not insert it as well
                    return

    def _on_paste(self, event: events.Paste) -> None:
        line = pasted_line(event.text)
        if line:
            if self.selection.is_empty:
                self.insert_text_at_cursor(line)
            else:
                self.replace(line, *self.selection)
        event.stop()
        event.prevent_default()
