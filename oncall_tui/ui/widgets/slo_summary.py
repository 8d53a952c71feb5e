"""SLO figures as text: the full card of the `:slo` view, and one line for the board's strip
and the alert detail. Names and services come from config or Prometheus rules: untrusted, so
they pass through `one_line` into `Text`, never markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rich.style import Style
from rich.text import Text

from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.slo import (
    NO_DATA,
    OK,
    PAGE,
    TICKET,
    WINDOWS,
    SLOReport,
    SLOSpec,
    parse_duration,
)
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.ui.widgets.budget_chart import budget_chart, gauge

# A role name -> Style lookup, from the owner's component classes.
Styler = Callable[[str], Style]
NO = "no data"


def state_role(state: str) -> str:
    return {PAGE: "page", TICKET: "ticket", OK: "ok"}.get(state, "nodata")


def pct(value: float | None, digits: int = 1) -> str:
    return NO if value is None or not math.isfinite(value) else f"{value:.{digits}f}%"


def minutes(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return NO
    if abs(value) < 100:
        return f"{value:.1f} min"
    sign = "-" if value < 0 else ""
    return sign + short_duration(abs(value) * 60)


def burn(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def exhaustion(seconds: float | None) -> str:
    if seconds is None:
        return NO
    if seconds <= 0:
        return "budget exhausted"
    if math.isinf(seconds):
        return "not burning"
    return f"exhausted in {short_duration(seconds)}"


def title(report: SLOReport) -> str:
    spec = report.spec
    name = one_line(spec.name, 60) or "(unnamed)"
    parts = [name, one_line(spec.service, 40), one_line(spec.where, 40)]
    return " · ".join(p for p in parts if p)


def short_name(spec: SLOSpec) -> str:
    """The name alone, with its backend's value where there are several: `availability (b)`."""
    name = one_line(spec.name, 30) or "(unnamed)"
    return f"{name} ({one_line(spec.backend, 20)})" if spec.backend else name


def source(report: SLOReport) -> str:
    spec = report.spec
    return "config" if not spec.discovered else f"discovered ({spec.source})"


def card(report: SLOReport, width: int, style: Styler, *, chart: bool = True) -> Text:
    """Every figure of one SLO, its gauge and its chart, for the `:slo` view."""
    spec = report.spec
    role = style(state_role(report.state))
    muted = style("muted")
    text = Text()
    text.append(title(report), style("name"))
    goal = report.objective
    objective = f"{goal * 100:.6g}%" if goal is not None and math.isfinite(goal) else NO
    text.append(f"  {objective} over {spec.window}", muted)
    text.append(f"  {source(report)}", muted)
    text.append(f"  {report.state.upper()}", role + Style(bold=True))
    sli = report.sli
    # On the title line: the burn rates below then fit 80 columns.
    text.append(f"  SLI {pct(sli * 100 if sli is not None else None, 3)}\n")
    text.append_text(gauge(report.remaining_pct, width, role, muted))
    text.append("\n")
    found = report.budget
    if found is None:
        text.append(f"budget {NO}", muted)
    else:
        text.append(f"budget {minutes(found.total_minutes)} · spent ")
        text.append(f"{minutes(found.spent_minutes)} ({pct(found.spent_pct)})", role)
        text.append(f" · left {minutes(found.remaining_minutes)} · ")
        text.append(exhaustion(report.exhaustion_s), role)
    text.append("\n")
    text.append("burn")
    burns = report.burns
    covered = report.covered_s
    partial = False
    for window in WINDOWS:
        text.append(f" {window} ", muted)
        text.append(burn(burns[window]))
        if covered is not None and parse_duration(window) > covered and burns[window] is not None:
            text.append("*", muted)  # a rate over less data than the window
            partial = True
    if partial:
        text.append("\n* over the data there is, shorter than the window", muted)
    for note in report.notes():
        text.append(f"\n⚠ {note}", style("warn"))
    for error in report.errors[:3]:
        text.append(f"\n✗ {one_line(error, 300)}", style("error"))
    if chart and report.chart:
        text.append("\n")
        text.append_text(budget_chart(report.chart, width, role, muted))
    return text


def brief(report: SLOReport, style: Styler, compact: int = 0) -> Text:
    """One line: name, state, budget left, the fastest burn. `compact` 1 drops the service
    and the burn, 2 also the word "left": narrow terminals keep every SLO in view."""
    role = style(state_role(report.state))
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(title(report) if not compact else short_name(report.spec))
    text.append(f" {report.state.upper()}", role + Style(bold=True))
    text.append(f" {pct(report.remaining_pct)}{'' if compact > 1 else ' left'}", role)
    known = [(w, b) for w, b in report.burns.items() if b is not None]
    if known and not compact:
        # As shown (one decimal): equal rates name the shortest window, not a float's noise.
        window, fastest = max(known, key=lambda wb: round(wb[1], 1))
        text.append(f" burn {burn(fastest)}× ({window})")
    if report.state == NO_DATA and report.errors:
        text.append(f" ✗ {one_line(report.errors[0], 80)}", style("error"))
    return text
