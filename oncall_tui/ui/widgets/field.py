"""A one-line text field that applies keys and pastes in the order they arrive.

Textual forwards every key to the focused Input at once, but runs the Input's own bindings
(ctrl+u, ctrl+w, backspace, the arrows...) only when the key has bubbled back up to the App.
When keys arrive together (a fast typist, a paste, tmux or SSH delivering one chunk), the
printable keys and pastes that followed ctrl+u are inserted first and ctrl+u then deletes
them: `ctrl+u team=ml` in one chunk left the board filter empty. `Field` runs its own
bindings as the key reaches it, so the edits happen in the order they were typed.

The same race moved typing into the wrong field: tab, shift+tab and esc are bindings of the
screen or the App, which ran only after the keys behind them were inserted here, so `30m⇥why`
left `30mwhy` in a form's Ends. A key that Input does not type runs the bindings of the whole
chain at once, as the App would later; and a key that reaches a field after the focus left it
goes on to the widget focused now.

Enter has the same race: what its Submitted message makes happen (the filter hands the focus
to the board, a prompt opens a view) comes after the keys queued behind it, so `/HighCPU⏎s`
left `HighCPUs` in the filter. After an enter, the field asks the App to hold the keys that
follow (those already queued here are given back to it, first) until a message posted behind
the Submitted one has bubbled up to the App: every handler of the submit has run by then.

A paste keeps every character: line breaks and tabs become spaces (Textual's Input kept only
the first line), and control characters are shown as U+FFFD rather than sent to the terminal.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Input

from oncall_tui.domain.sanitize import clean


def pasted_line(text: str) -> str:
    """A paste as one line: nothing dropped, nothing a terminal would execute."""
    body = text.rstrip("\r\n")  # a copied line usually brings its line break along
    flat = body.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return clean(flat, keep_newlines=False)


@runtime_checkable
class KeyHolder(Protocol):
    """The App's side (ui/app.py): hold keys until told, and take back keys held late."""

    def hold_keys_until_settled(self) -> None: ...

    def give_back(self, key: events.Key) -> bool: ...


class Field(Input):
    class Settled(Message):
        """Posted behind an enter's Submitted: reaching the App, every handler has run."""

    def _watch_value(self, value: str) -> None:
        # Input sets its virtual size to (content width, 1) at every change of the value,
        # and each layout sets it back to its own figure: every key typed asked for a
        # layout of the whole screen (27 ms at 50,000 alerts, with the board's filter).
        # Set quietly first, Input's own assignment finds nothing to change.
        self.set_reactive(Input.virtual_size, Size(self.content_width, 1))
        super()._watch_value(value)

    async def _on_key(self, event: events.Key) -> None:
        app = self.app
        if isinstance(app, KeyHolder) and app.give_back(events.Key(event.key, event.character)):
            # Queued here behind an enter whose submit is still being handled.
            event.stop()
            event.prevent_default()
            return
        screen = self.screen
        focused = screen.focused
        if focused is not None and focused is not self and screen is self.app.screen:
            # Forwarded here before a tab or enter moved the focus on: it was typed for
            # the field focused now.
            focused._forward_event(events.Key(event.key, event.character))
            event.stop()
            event.prevent_default()
            return
        # The bindings as the App would run them (keymap applied) once the key bubbled up
        # to it; it already ran its priority bindings. A printable key is the field's to
        # type unless the field itself binds it; any other key runs the chain's bindings.
        for node, bindings in screen._modal_binding_chain:
            if node is not self and event.is_printable:
                break
            for binding in bindings.key_to_bindings.get(event.key, ()):
                if binding.priority:
                    continue
                submit = node is self and binding.action == "submit"
                if submit and isinstance(app, KeyHolder):
                    app.hold_keys_until_settled()
                if await app.run_action(binding.action, node):
                    if submit:
                        self.post_message(self.Settled())
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
