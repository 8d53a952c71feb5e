"""PromQL text as triage needs it: labels filled into templates, the threshold of a rule.

Pure string work, no parser: an alerting rule is nearly always `EXPR OP NUMBER` (maybe
several joined by `and`), and that is what the triage chart needs to draw.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# `{{ $labels.x }}`, `{{$labels.x}}` and `{{ .Labels.x }}` (Alertmanager's spelling).
_PLACEHOLDER = re.compile(r"\{\{-?\s*(?:\$labels|\.Labels)\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}")
_COMPARISONS = (">=", "<=", "==", "!=", ">", "<")
_SET_OPERATORS = ("and", "or", "unless")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:Inf|NaN)", re.I)


class MissingLabel(ValueError):
    """A template names a label the alert does not carry."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"the alert has no label {', '.join(names)}")
        self.names = names


def placeholders(template: str) -> list[str]:
    return [m.group(1) for m in _PLACEHOLDER.finditer(template)]


def fill_labels(
    template: str,
    labels: Mapping[str, str],
    escape: Callable[[str], str] | None = None,
) -> str:
    """`{{ $labels.x }}` replaced by the alert's label x (escaped for the target language).

    A PromQL string gets `promql_string_escape`, a URL gets percent-encoding: a label value
    is untrusted and must not be able to close the quotes it sits in.
    """
    missing = sorted({name for name in placeholders(template) if name not in labels})
    if missing:
        raise MissingLabel(missing)
    convert = escape or (lambda value: value)
    return _PLACEHOLDER.sub(lambda m: convert(labels[m.group(1)]), template)


def promql_string_escape(value: str) -> str:
    """A value safe inside a double- or single-quoted PromQL string."""
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")
    return out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def fill_query(template: str, labels: Mapping[str, str]) -> str:
    return fill_labels(template, labels, promql_string_escape)


@dataclass(frozen=True, slots=True)
class Clause:
    """`expr op threshold`: the series an alert compares and the line it must not cross."""

    expr: str
    op: str
    threshold: float

    def crossed(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return {
            ">": value > self.threshold,
            ">=": value >= self.threshold,
            "<": value < self.threshold,
            "<=": value <= self.threshold,
            "==": value == self.threshold,
            "!=": value != self.threshold,
        }[self.op]


_FLIP = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}


def _top_level(expr: str) -> list[tuple[int, str]]:
    """Positions of characters outside (), [], {} and quotes: (index, char)."""
    out: list[tuple[int, str]] = []
    depth = 0
    quote = ""
    i = 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch == "#":  # a comment runs to the end of the line
            if depth == 0:
                out.append((i, ch))
            end = expr.find("\n", i)
            i = len(expr) if end < 0 else end
            continue
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            out.append((i, ch))
        i += 1
    return out


def _split_set_operators(expr: str) -> list[str]:
    """`a > 1 and b > 2` -> ["a > 1", "b > 2"], splitting only outside brackets."""
    outside = {i for i, _ in _top_level(expr)}
    parts, start = [], 0
    for match in re.finditer(r"\b(?:and|or|unless)\b", expr):
        if match.start() in outside and match.end() - 1 in outside:
            parts.append(expr[start : match.start()])
            start = match.end()
            # `and on(x)` / `and ignoring(x)`: the modifier belongs to the operator
            modifier = re.match(r"\s*(?:on|ignoring)\s*\([^)]*\)", expr[start:])
            if modifier:
                start += modifier.end()
    parts.append(expr[start:])
    return [p.strip() for p in parts if p.strip()]


def _clause(expr: str) -> Clause | None:
    chars = _top_level(expr)
    text = "".join(ch for _, ch in chars)
    for op in _COMPARISONS:
        # Rightmost top-level comparison, not a part of a longer operator.
        for offset in range(len(text) - len(op), -1, -1):
            if text[offset : offset + len(op)] != op:
                continue
            before = text[offset - 1] if offset else ""
            after = text[offset + len(op)] if offset + len(op) < len(text) else ""
            if before in "<>=!" or after == "=":
                continue
            at = chars[offset][0]
            left, right = expr[:at].strip(), expr[at + len(op) :].strip()
            right = re.sub(r"^bool\b", "", right).strip()
            if _NUMBER.fullmatch(right) and left:
                return Clause(left, op, float(right))
            if _NUMBER.fullmatch(left) and right:
                return Clause(right, _FLIP[op], float(left))
            return None
    return None


def strip_comments(expr: str) -> str:
    chars = _top_level(expr)
    kept = {i for i, _ in chars}
    # Quoted and bracketed text is kept as is; only top-level comments are dropped.
    out, i = [], 0
    while i < len(expr):
        if i in kept and expr[i] == "#":
            end = expr.find("\n", i)
            i = len(expr) if end < 0 else end
            continue
        out.append(expr[i])
        i += 1
    return "".join(out)


def thresholds(expr: str) -> list[Clause]:
    """Each `EXPR OP NUMBER` clause of an alerting expression (joined by and/or/unless).

    `(sum(rate(errors[5m])) / sum(rate(all[5m]))) * 100 > 5` gives one clause whose
    `expr` is the left side and whose threshold is 5; an expression without a comparison
    to a number gives none (the chart then draws the expression without a line).
    """
    clauses = []
    for part in _split_set_operators(strip_comments(expr)):
        clause = _clause(part)
        if clause is not None:
            clauses.append(clause)
    return clauses


def series_name(labels: Mapping[str, str], *, metric: bool = True) -> str:
    """`name{a="1", b="2"}` as Prometheus prints a series (the caller sanitises it)."""
    name = labels.get("__name__", "") if metric else ""
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    if not rest:
        return name or "{}"
    return f"{name}{{{rest}}}"


def format_value(value: float) -> str:
    """A sample as an engineer reads it: 0.0523, 8, 1.2k, 3.4M, NaN, +Inf."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    magnitude = abs(value)
    if magnitude >= 1e15 or (0 < magnitude < 1e-4):
        return f"{value:.3g}"
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e4, "k")):
        if magnitude >= limit:
            return f"{value / limit:.3g}{suffix}"
    if value == int(value):
        return str(int(value))
    return f"{value:.4g}"


@dataclass(frozen=True, slots=True)
class QueryProblem:
    """Prometheus's complaint about a query, with the 0-based column it points at."""

    message: str
    line: int | None = None
    column: int | None = None


_POSITION = re.compile(r"(?:^|\s|:\s)(\d+):(\d+):\s")


def query_problem(detail: str) -> QueryProblem:
    """`invalid parameter "query": 1:39: parse error: ...` -> message and position."""
    text = detail.removeprefix('invalid parameter "query": ')
    match = _POSITION.search(detail)
    if match is None:
        return QueryProblem(text)
    return QueryProblem(text, int(match.group(1)), max(0, int(match.group(2)) - 1))
