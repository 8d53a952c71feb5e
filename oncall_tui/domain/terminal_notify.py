"""Terminal notifications and the window title, as the bytes a terminal reads.

Three notification escapes reach a desktop from a terminal, over SSH too:

- OSC 9 (iTerm2, WezTerm, Ghostty, kitty, foot, Windows Terminal ignore it harmlessly):
  ``ESC ] 9 ; text ST``, one text.
- OSC 777 (urxvt, foot, VTE-based terminals with Fedora's patch: GNOME Terminal, Tilix):
  ``ESC ] 777 ; notify ; title ; body ST``; a ``;`` in the title would end it early.
- OSC 99 (kitty's protocol): ``ESC ] 99 ; i=ID:d=0:u=2 ; title ST`` then
  ``ESC ] 99 ; i=ID:d=1:p=body ; body ST``.

Inside tmux an escape tmux does not know is dropped unless wrapped in a DCS passthrough:
``ESC P tmux ; <the sequence, every ESC doubled> ESC \\`` (tmux 3.3+ also wants
``set -g allow-passthrough on``). The title (OSC 2) is not wrapped: tmux keeps it as the
pane's title and, with ``set -g set-titles on``, passes it on to the outer terminal.

The text is untrusted (alert names, labels, summaries): every control character, C0, C1,
ESC, BEL and the 8-bit ST, is replaced before it is framed, and its length is capped, so
nothing inside can end the sequence or start another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from oncall_tui.domain.sanitize import one_line

Protocol = Literal["osc9", "osc777", "osc99", "off"]
Setting = Literal["auto", "osc9", "osc777", "osc99", "off"]

ESC = "\x1b"
ST = ESC + "\\"
TITLE_MAX = 80
BODY_MAX = 240
TEXT_MAX = 300  # OSC 9: title and body in one


def choose_protocol(setting: Setting, env: Mapping[str, str]) -> Protocol:
    """The configured protocol, or on `auto` the one the terminal is known to show.

    What the terminal says about itself: kitty sets KITTY_WINDOW_ID and TERM=xterm-kitty;
    foot, urxvt and VTE (VTE_VERSION) read OSC 777; iTerm2 (TERM_PROGRAM, or LC_TERMINAL,
    which SSH forwards), WezTerm, Ghostty and any terminal not recognised get OSC 9, the
    most widely read, which terminals that do not know it ignore.
    """
    if setting != "auto":
        return setting
    term = env.get("TERM", "")
    program = env.get("TERM_PROGRAM", "").lower()
    if env.get("KITTY_WINDOW_ID") or term == "xterm-kitty" or program == "kitty":
        return "osc99"
    if term.startswith(("foot", "rxvt-unicode")) or program == "foot" or env.get("VTE_VERSION"):
        return "osc777"
    return "osc9"


def safe_text(text: str, limit: int) -> str:
    """One line, no control character of any kind, at most `limit` characters."""
    return one_line(text, limit).strip()


def notification(
    protocol: Protocol, title: str, body: str, *, ident: int = 1, urgent: bool = False
) -> str:
    """The escape sequence that raises a notification ("" when off); `urgent` asks kitty
    for a critical notification (one that the desktop does not hide or time out)."""
    title = safe_text(title, TITLE_MAX)
    body = safe_text(body, BODY_MAX)
    if protocol == "osc9":
        text = safe_text(f"{title}: {body}" if body else title, TEXT_MAX)
        # ConEmu and Windows Terminal read `9;<digit>` as a command (9;4 is progress).
        if text[:1].isdigit():
            text = "alert " + text
        return f"{ESC}]9;{text}{ST}"
    if protocol == "osc777":
        return f"{ESC}]777;notify;{title.replace(';', ',')};{body.replace(';', ',')}{ST}"
    if protocol == "osc99":
        ident = abs(ident)
        head = f"{ESC}]99;i={ident}:d={0 if body else 1}:u={2 if urgent else 1};{title}{ST}"
        return head + (f"{ESC}]99;i={ident}:d=1:p=body;{body}{ST}" if body else "")
    return ""


def tmux_passthrough(sequence: str) -> str:
    """`sequence` wrapped so tmux passes it to the terminal it runs in."""
    if not sequence:
        return ""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"


def for_terminal(sequence: str, env: Mapping[str, str]) -> str:
    """Wrapped for tmux when the app runs inside it ($TMUX is set)."""
    return tmux_passthrough(sequence) if env.get("TMUX") else sequence


# The window title. xterm's title stack (CSI 22/23 t) saves and restores the user's own
# title; terminals without the stack ignore those, and get an empty title on exit.
PUSH_TITLE = f"{ESC}[22;0t"
POP_TITLE = f"{ESC}]2;{ST}{ESC}[23;0t"


def set_title(text: str) -> str:
    return f"{ESC}]2;{safe_text(text, TITLE_MAX)}{ST}"
