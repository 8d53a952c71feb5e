"""A terminal line chart for Prometheus range results: braille dots, a threshold line, a
time axis in local time and a legend.

In-house rather than plotext/textual-plotext: plotext draws by emitting ANSI strings that
would have to be parsed back (and series labels, which are untrusted, would travel through
that path), it pulls in a second rendering model, and this needs little: one Rich `Text`
built from a dot grid. Drawing 10 series of 1,440 points into 120x12 cells takes a few
milliseconds; the work is done only when the data or the size changes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from oncall_tui.domain.promql import format_value
from oncall_tui.domain.sanitize import one_line
from oncall_tui.ui.widgets.styles import component_style

# Braille dot bits, by (column 0/1, row 0..3) within one character cell.
_DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
PALETTE_SIZE = 6


@dataclass(frozen=True, slots=True)
class ChartSeries:
    label: str  # untrusted: cleaned when drawn
    points: Sequence[tuple[float, float]]  # (unix time, value); NaN leaves a gap


_PLAIN = Style()


@dataclass(frozen=True, slots=True)
class ChartStyles:
    series: tuple[Style, ...] = (_PLAIN,)
    threshold: Style = _PLAIN
    axis: Style = _PLAIN


def _bounds(series: Sequence[ChartSeries], threshold: float | None) -> tuple[float, float] | None:
    values = [v for s in series for _, v in s.points if math.isfinite(v)]
    if threshold is not None and math.isfinite(threshold):
        values.append(threshold)
    if not values:
        return None
    low, high = min(values), max(values)
    # A flat line with float noise (8 +/- 1e-12) is drawn flat, not as noise blown up.
    if high - low <= max(abs(low), abs(high)) * 1e-6:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.05
    return (0.0 if low >= 0 and low - pad < 0 else low - pad), high + pad


def _segments(points: Sequence[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Runs of finite points; a NaN or a gap over 3 steps breaks the line."""
    if len(points) > 2:
        steps = sorted(b[0] - a[0] for a, b in itertools.pairwise(points))
        step = steps[len(steps) // 2] or 1.0
    else:
        step = math.inf
    runs: list[list[tuple[float, float]]] = [[]]
    last_t: float | None = None
    for t, v in points:
        broken = not math.isfinite(v) or (last_t is not None and t - last_t > 3 * step)
        if broken and runs[-1]:
            runs.append([])
        if math.isfinite(v):
            runs[-1].append((t, v))
        last_t = t
    return [run for run in runs if run]


def _time_labels(start: float, end: float, width: int) -> str:
    fmt = "%H:%M" if end - start <= 36 * 3600 else "%a %H:%M"
    sample = datetime.fromtimestamp(start).strftime(fmt)
    slots = max(2, min(6, width // (len(sample) + 4)))
    row = [" "] * width
    for i in range(slots):
        t = start + (end - start) * i / (slots - 1)
        label = datetime.fromtimestamp(t).astimezone().strftime(fmt)
        at = round((width - 1) * i / (slots - 1))
        at = min(max(0, at - len(label) // 2), width - len(label))
        if all(c == " " for c in row[max(0, at - 1) : at + len(label) + 1]):
            row[at : at + len(label)] = label
    return "".join(row)


def render_chart(
    series: Sequence[ChartSeries],
    width: int,
    height: int,
    *,
    start: float,
    end: float,
    threshold: float | None = None,
    styles: ChartStyles = ChartStyles(),
    legend_rows: int = 4,
) -> Text:
    """The chart as lines of Text: plot, time axis, legend. Labels are cleaned here."""
    text = Text(no_wrap=True, overflow="crop")
    shown = [s for s in series if any(math.isfinite(v) for _, v in s.points)]
    legend = min(len(shown), legend_rows) + (1 if len(shown) > legend_rows else 0)
    legend += 1 if threshold is not None else 0
    plot_h = max(2, height - 1 - legend)
    bounds = _bounds(shown, threshold)
    if bounds is None or width < 12 or end <= start:
        text.append("no data in this window", styles.axis)
        return text
    low, high = bounds
    ticks = [format_value(high), format_value((high + low) / 2), format_value(low)]
    axis_w = max(len(t) for t in ticks) + 1
    plot_w = max(4, width - axis_w - 1)
    dots_w, dots_h = plot_w * 2, plot_h * 4
    bits = [[0] * plot_w for _ in range(plot_h)]
    owner = [[-1] * plot_w for _ in range(plot_h)]

    def x_of(t: float) -> int:
        return min(dots_w - 1, max(0, round((t - start) / (end - start) * (dots_w - 1))))

    def y_of(v: float) -> int:
        return min(dots_h - 1, max(0, round((high - v) / (high - low) * (dots_h - 1))))

    def dot(x: int, y: int, index: int) -> None:
        row, col = y // 4, x // 2
        bits[row][col] |= _DOTS[x % 2][y % 4]
        owner[row][col] = index

    for index, one in enumerate(shown):
        for run in _segments(one.points):
            previous: tuple[int, int] | None = None
            for t, v in run:
                if t < start or t > end:
                    continue
                here = (x_of(t), y_of(v))
                if previous is None:
                    dot(*here, index)
                else:
                    # Bresenham between neighbouring samples.
                    (x0, y0), (x1, y1) = previous, here
                    dx, dy = abs(x1 - x0), -abs(y1 - y0)
                    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
                    err = dx + dy
                    while True:
                        dot(x0, y0, index)
                        if (x0, y0) == (x1, y1):
                            break
                        e2 = 2 * err
                        if e2 >= dy:
                            err += dy
                            x0 += sx
                        if e2 <= dx:
                            err += dx
                            y0 += sy
                previous = here
    threshold_row = y_of(threshold) // 4 if threshold is not None else -1
    palette = styles.series or (Style(),)
    tick_rows = {0: ticks[0], plot_h // 2: ticks[1], plot_h - 1: ticks[2]}
    for row in range(plot_h):
        text.append(f"{tick_rows.get(row, ''):>{axis_w - 1}} ", styles.axis)
        text.append("┤" if row in tick_rows else "│", styles.axis)
        for col in range(plot_w):
            if bits[row][col]:
                text.append(chr(0x2800 + bits[row][col]), palette[owner[row][col] % len(palette)])
            elif row == threshold_row:
                text.append("╌", styles.threshold)
            else:
                text.append(" ")
        text.append("\n")
    text.append(" " * axis_w + "└", styles.axis)
    text.append(_time_labels(start, end, plot_w), styles.axis)
    for index, one in enumerate(shown[:legend_rows]):
        latest = next((v for _, v in reversed(one.points) if math.isfinite(v)), math.nan)
        value = format_value(latest)
        text.append("\n")
        text.append(" ● ", palette[index % len(palette)])
        label = one_line(one.label, max(8, width - len(value) - 6)) or "{}"
        text.append(label)
        text.append(f"  {value}", styles.axis)
    if len(shown) > legend_rows:
        text.append(f"\n   … {len(shown) - legend_rows} more series", styles.axis)
    if threshold is not None:
        text.append("\n")
        text.append(" ╌ ", styles.threshold)
        text.append(f"threshold {format_value(threshold)}", styles.axis)
    return text


class Chart(Widget):
    """Draws `render_chart` at the widget's size; redrawn only when data or size change."""

    DEFAULT_CSS = """
    Chart { height: 14; width: 1fr; }
    Chart > .chart--series-0 { color: $primary; }
    Chart > .chart--series-1 { color: $warning; }
    Chart > .chart--series-2 { color: $success; }
    Chart > .chart--series-3 { color: $accent; }
    Chart > .chart--series-4 { color: $secondary; }
    Chart > .chart--series-5 { color: $foreground; }
    Chart > .chart--threshold { color: $error; text-style: bold; }
    Chart > .chart--axis { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "chart--threshold",
        "chart--axis",
        *(f"chart--series-{i}" for i in range(PALETTE_SIZE)),
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.series: Sequence[ChartSeries] = ()
        self.start = 0.0
        self.end = 0.0
        self.threshold: float | None = None
        self._cache: tuple[tuple[object, ...], Text] | None = None

    def set_data(
        self,
        series: Sequence[ChartSeries],
        start: float,
        end: float,
        threshold: float | None = None,
    ) -> None:
        self.series, self.start, self.end, self.threshold = series, start, end, threshold
        self._cache = None
        self.refresh()

    def _style(self, name: str) -> Style:
        return component_style(self, name)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache = None

    def render(self) -> Text:
        key = (self.size.width, self.size.height)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        styles = ChartStyles(
            series=tuple(self._style(f"chart--series-{i}") for i in range(PALETTE_SIZE)),
            threshold=self._style("chart--threshold"),
            axis=self._style("chart--axis"),
        )
        text = render_chart(
            self.series,
            self.size.width,
            self.size.height,
            start=self.start,
            end=self.end,
            threshold=self.threshold,
            styles=styles,
            legend_rows=max(1, min(4, self.size.height // 4)),
        )
        self._cache = (key, text)
        return text
