"""The remaining error budget drawn in the terminal: a gauge bar and a small area chart.

Both return `rich.text.Text` built from figures only (no untrusted text), sized to a width.
"""

from __future__ import annotations

import math
from datetime import datetime

from rich.style import Style
from rich.text import Text

_EIGHTHS = " ▁▂▃▄▅▆▇█"
AXIS = 5  # "100%┤"


def gauge(remaining_pct: float | None, width: int, style: Style, empty: Style) -> Text:
    """``[█████░░░░] 62.0% left``; an overspent budget shows an empty bar and a negative %."""
    bar = max(4, width - 14)
    text = Text(no_wrap=True)
    if remaining_pct is None or not math.isfinite(remaining_pct):
        text.append("[" + "·" * bar + "]", empty)
        text.append(" no data", empty)
        return text
    filled = round(bar * min(max(remaining_pct, 0.0), 100.0) / 100.0)
    text.append("[")
    text.append("█" * filled, style)
    text.append("░" * (bar - filled), empty)
    text.append("]")
    text.append(f" {remaining_pct:5.1f}% left", style)
    return text


def _resample(values: list[float], width: int) -> list[float]:
    if len(values) <= width:
        return values
    return [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]


def budget_chart(
    points: tuple[tuple[float, float], ...],
    width: int,
    style: Style,
    axis: Style,
    rows: int = 3,
) -> Text:
    """Remaining budget (0-100 %) over time, oldest left, ``rows`` lines high plus a time axis."""
    width = max(8, width - AXIS)
    values = _resample([min(max(v, 0.0), 100.0) for _, v in points], width)
    text = Text(no_wrap=True)
    for row in range(rows):
        label = "100%┤" if row == 0 else ("  0%┤" if row == rows - 1 else "    │")
        text.append(label, axis)
        floor = (rows - 1 - row) * 8
        cells = []
        for value in values:
            level = round(value / 100.0 * rows * 8) - floor
            cells.append(_EIGHTHS[min(max(level, 0), 8)])
        text.append("".join(cells), style)
        text.append("\n")
    if points:
        start = datetime.fromtimestamp(points[0][0]).strftime("%m-%d %H:%M")
        end = "now"
        gap = max(1, len(values) - len(start) - len(end))
        text.append(" " * AXIS + start + " " * gap + end, axis)
    return text
