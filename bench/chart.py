"""How long the triage chart takes to draw: prints figures, asserts nothing.

.venv/bin/python bench/chart.py
"""

from __future__ import annotations

import math
import statistics
import time

from oncall_tui.ui.widgets.chart import ChartSeries, render_chart


def main() -> None:
    end = 1_800_000_000.0
    for count, points, width, height in (
        (1, 240, 80, 12),
        (10, 1440, 120, 12),
        (50, 1440, 200, 30),
    ):
        step = 86400 / points
        series = [
            ChartSeries(
                f'{{pod="p-{k}"}}',
                [(end - 86400 + i * step, k + math.sin(i / 40)) for i in range(points)],
            )
            for k in range(count)
        ]
        runs = []
        for _ in range(7):
            began = time.perf_counter()
            render_chart(series, width, height, start=end - 86400, end=end, threshold=1.0)
            runs.append((time.perf_counter() - began) * 1000)
        print(
            f"{count:>3} series x {points} points into {width}x{height}: "
            f"median {statistics.median(runs):.1f} ms, max {max(runs):.1f} ms"
        )


if __name__ == "__main__":
    main()
