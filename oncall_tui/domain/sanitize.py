"""Untrusted text (labels, annotations, comments, server messages) made safe to display.

Terminal control sequences must never reach the terminal: C0 controls (ESC, BEL, BS, CR...),
DEL and the C1 range are replaced. Markup escaping is the UI's job (it wraps text in
rich.text.Text); this module only guarantees there is nothing a terminal would execute.
"""

from __future__ import annotations

import re

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(text: str, *, keep_newlines: bool = True) -> str:
    """Replace control characters (and bidi overrides) with U+FFFD; tabs and newlines stay."""
    pattern = _CONTROLS if keep_newlines else _ONE_LINE
    return pattern.sub("\N{REPLACEMENT CHARACTER}", text)


def one_line(text: str, limit: int = 500) -> str:
    """A single display line: newlines and tabs become spaces, then controls are replaced."""
    flat = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    flat = clean(flat, keep_newlines=False)
    return flat if len(flat) <= limit else flat[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"
