"""Untrusted text (labels, annotations, comments, server messages) made safe to display.

Terminal control sequences must never reach the terminal: C0 controls (ESC, BEL, BS, CR...),
DEL and the C1 range are replaced. Markup escaping is the UI's job (it wraps text in
rich.text.Text); this module only guarantees there is nothing a terminal would execute.
"""

from __future__ import annotations

import re

# Unicode's Bidi_Control characters, all twelve: the embeddings, overrides and isolates, and
# also the marks (ALM U+061C, LRM U+200E, RLM U+200F), which are as invisible and reorder the
# text around them in a terminal that lays out bidi text.
_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROLS = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")
_ONE_LINE = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")


def clean(text: str, *, keep_newlines: bool = True) -> str:
    """Replace control characters (and bidi controls) with U+FFFD; tabs and newlines stay."""
    pattern = _CONTROLS if keep_newlines else _ONE_LINE
    return pattern.sub("\N{REPLACEMENT CHARACTER}", text)


def one_line(text: str, limit: int = 500) -> str:
    """A single display line: newlines and tabs become spaces, then controls are replaced."""
    if len(text) <= limit and text.isprintable():
        # Nothing to change: isprintable() is false for every character replaced below (Cc,
        # Cf such as the bidi controls, Zl, Zp). Most labels take this path, 10x faster.
        return text
    # Cut before cleaning: a 1 MB label costs nothing when only 500 characters are shown.
    cut = text[: 2 * limit + 2]  # "\r\n" becomes one space: keep enough to fill the line
    flat = cut.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    flat = clean(flat, keep_newlines=False)
    if len(cut) < len(text) or len(flat) > limit:
        return flat[: limit - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return flat


def clean_lines(text: str, max_lines: int = 200, width: int = 1000) -> list[str]:
    """A multi-line value as display lines, bounded: a 40,000-line annotation must not
    freeze the screen that shows it. The last line says how much was left out."""
    lines: list[str] = []
    rest = text.strip()
    while rest and len(lines) < max_lines:
        line, _, rest = rest.partition("\n")
        lines.append(one_line(line, width))
    if rest:
        more = rest.count("\n") + 1
        lines.append(
            f"\N{HORIZONTAL ELLIPSIS} {more} more line{'s' if more != 1 else ''} not shown"
        )
    return lines
