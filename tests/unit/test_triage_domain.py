"""Pure logic of runbooks and triage: thresholds, templates, runbook places, HTML, history,
the chart's drawing and the query history file."""

from __future__ import annotations

import math
import stat
from pathlib import Path

import pytest
from rich.text import Text

from oncall_tui.domain.alert_history import FIRING, PENDING, QUIET, build_history, history_queries
from oncall_tui.domain.html_text import html_to_text
from oncall_tui.domain.promql import (
    Clause,
    MissingLabel,
    fill_query,
    format_value,
    query_problem,
    thresholds,
)
from oncall_tui.domain.runbooks import candidates, document_kind, is_promql, raw_url
from oncall_tui.state.history import QueryHistory, history_path
from oncall_tui.ui.widgets.chart import ChartSeries, render_chart

RULES = Path(__file__).resolve().parents[2] / "oncall_tui" / "demo" / "files" / "rules"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('up{job="churn-api"} == 0', [Clause('up{job="churn-api"}', "==", 0.0)]),
        (
            "(sum(rate(a[5m])) / sum(rate(b[5m]))) * 100 > 5",
            [Clause("(sum(rate(a[5m])) / sum(rate(b[5m]))) * 100", ">", 5.0)],
        ),
        ("0.5 < histogram_quantile(0.95, x)", [Clause("histogram_quantile(0.95, x)", ">", 0.5)]),
        ("a > 0.001\nand\nb > 0.001", [Clause("a", ">", 0.001), Clause("b", ">", 0.001)]),
        ('x{le=">5"} >= bool 1e3', [Clause('x{le=">5"}', ">=", 1000.0)]),
        ("rate(x[5m]) # > 9 is a comment\n > 0", [Clause("rate(x[5m])", ">", 0.0)]),
        ("absent(up)", []),
        ("a > b", []),
    ],
)
def test_threshold_of_an_alerting_expression(expr: str, expected: list[Clause]) -> None:
    found = thresholds(expr)
    assert [(c.expr.strip(), c.op, c.threshold) for c in found] == [
        (c.expr, c.op, c.threshold) for c in expected
    ]


def test_every_demo_rule_with_a_number_yields_its_threshold() -> None:
    import yaml

    found = {}
    for path in RULES.glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    found[rule["alert"]] = [c.threshold for c in thresholds(rule["expr"])]
    assert found["HighErrorRate"] == [5.0]
    assert found["ChurnAPIDown"] == [0.0]
    assert found["HighLatency"] == [0.5]
    assert found["ErrorBudgetBurnFast"] == [0.001, 0.001]
    assert found["ModelNotUpdated"] == [604800.0]


def test_crossed_follows_the_operator() -> None:
    assert Clause("x", ">", 5).crossed(8) and not Clause("x", ">", 5).crossed(5)
    assert Clause("x", "==", 0).crossed(0) and not Clause("x", "<", 1).crossed(math.nan)


def test_labels_are_filled_and_cannot_break_out_of_quotes() -> None:
    labels = {"service": 'churn"} or vector(1) #', "pod": "p-1"}
    query = fill_query(
        'rate(x{service="{{ $labels.service }}", pod="{{$labels.pod}}"}[5m])', labels
    )
    assert query == 'rate(x{service="churn\\"} or vector(1) #", pod="p-1"}[5m])'
    with pytest.raises(MissingLabel, match="no label feature"):
        fill_query('x{feature="{{ $labels.feature }}"}', labels)


def test_prometheus_error_position() -> None:
    problem = query_problem(
        'invalid parameter "query": 1:39: parse error: unclosed left parenthesis'
    )
    assert (problem.line, problem.column) == (1, 38)
    assert problem.message == "1:39: parse error: unclosed left parenthesis"
    assert query_problem("query timed out").column is None


def test_values_read_like_an_engineer_says_them() -> None:
    assert [format_value(v) for v in (8.0, 0.0523, 18.4, 12_345, 3.4e6, math.nan, math.inf)] == [
        "8",
        "0.0523",
        "18.4",
        "1.23k",
        "3.4M",
        "NaN",
        "+Inf",
    ]


def test_runbook_places_in_order(tmp_path: Path) -> None:
    found = candidates(
        "HighErrorRate",
        {"alertname": "HighErrorRate", "service": "churn api/v2"},
        {
            "runbook_url": "https://github.com/org/runbooks/blob/main/HighErrorRate.md",
            "runbook": "file:///srv/runbooks/HighErrorRate.md",
            "other": "https://ignored.example.com",
        },
        folders=[tmp_path],
        url_template="https://wiki.example.com/{{ $labels.service }}/{{ $labels.alertname }}",
    )
    assert [(c.kind, c.location) for c in found] == [
        ("file", str(tmp_path / "HighErrorRate.md")),
        ("file", str(tmp_path / "HighErrorRate.markdown")),
        ("url", "https://raw.githubusercontent.com/org/runbooks/main/HighErrorRate.md"),
        ("file", "/srv/runbooks/HighErrorRate.md"),
        ("url", "https://wiki.example.com/churn%20api%2Fv2/HighErrorRate"),
    ]
    assert found[2].link == "https://github.com/org/runbooks/blob/main/HighErrorRate.md"


def test_alertname_cannot_walk_out_of_a_runbook_folder(tmp_path: Path) -> None:
    for name in ("../../etc/passwd", "..", "a/b", "x\x1b[2J"):
        assert candidates(name, {}, {}, folders=[tmp_path]) == []
    assert candidates("A", {}, {"runbook_url": "javascript:alert(1)"}) == []


def test_gitlab_and_github_enterprise_blobs_become_raw() -> None:
    assert (
        raw_url("https://gitlab.com/g/p/-/blob/main/rb/X.md")
        == "https://gitlab.com/g/p/-/raw/main/rb/X.md"
    )
    assert (
        raw_url("https://github.corp.example/o/r/blob/v1/X.md")
        == "https://github.corp.example/o/r/raw/v1/X.md"
    )
    assert raw_url("https://runbooks.example.com/X") == "https://runbooks.example.com/X"


def test_document_kinds() -> None:
    assert document_kind("text/plain; charset=utf-8", "https://raw.example/X.md") == "markdown"
    assert document_kind("text/html", "https://wiki.example/X") == "html"
    assert document_kind("application/pdf", "https://x/X.pdf") == "other"
    assert document_kind("", "/srv/X.md") == "markdown"
    assert is_promql("promql") and is_promql("PromQL") and not is_promql("bash")


def test_html_is_readable_text_with_links_written_out() -> None:
    text = html_to_text(
        "<html><head><style>p{}</style><script>steal()</script></head><body>"
        "<h2>Mitigation</h2><p>Roll back, see <a href='https://x.example/d'>the dashboard</a>.</p>"
        "<ul><li>scale up</li><li>page <b>ops</b></li></ul><pre>kubectl get\n  pods</pre></body></html>"
    )
    assert "steal" not in text and "p{}" not in text
    assert "## Mitigation" in text
    assert "Roll back, see the dashboard <https://x.example/d>." in text
    assert "- scale up\n- page ops" in text
    assert "kubectl get\n  pods" in text


def test_history_timeline_and_episodes() -> None:
    labels = {"alertname": "HighErrorRate", "service": "churn-api", "cluster": "eu"}
    start, end, step = 0.0, 4800.0, 60.0
    firing = [(t, 1.0) for t in range(3600, 4801, 60)]
    pending = [(t, 1.0) for t in range(3000, 3600, 60)]
    other = [(t, 1.0) for t in range(0, 4801, 60)]
    history = build_history(
        [
            (
                {
                    "__name__": "ALERTS",
                    "alertname": "HighErrorRate",
                    "alertstate": "firing",
                    "service": "churn-api",
                },
                firing,
            ),
            (
                {
                    "__name__": "ALERTS",
                    "alertname": "HighErrorRate",
                    "alertstate": "pending",
                    "service": "churn-api",
                },
                pending,
            ),
            (
                {
                    "__name__": "ALERTS",
                    "alertname": "HighErrorRate",
                    "alertstate": "firing",
                    "service": "other",
                },
                other,
            ),
        ],
        [
            (
                {"alertname": "HighErrorRate", "service": "churn-api"},
                [(t, 3000.0) for t in range(3000, 4801, 60)],
            )
        ],
        labels,
        start=start,
        end=end,
        step=step,
        cells=8,
    )
    assert history.cells == QUIET * 5 + PENDING + FIRING * 2
    assert history.firing_seconds == len(firing) * step
    assert len(history.episodes) == 1 and history.episodes[0].start == 3000.0
    assert history.episodes[0].ongoing
    assert history_queries('a"b') == (
        'ALERTS{alertname="a\\"b"}',
        'ALERTS_FOR_STATE{alertname="a\\"b"}',
    )


def test_one_coarse_sample_of_a_young_alert_is_not_a_whole_step_of_firing() -> None:
    labels = {"alertname": "HighErrorRate"}
    # Over 7 days at a 600 s step, an alert active since 60 s before the only sample.
    history = build_history(
        [({"alertname": "HighErrorRate", "alertstate": "firing"}, [(6000.0, 1.0)])],
        [({"alertname": "HighErrorRate"}, [(6000.0, 5940.0)])],
        labels,
        start=0.0,
        end=6000.0,
        step=600.0,
        cells=10,
    )
    assert history.firing_seconds == 60.0


def test_chart_draws_series_threshold_axis_and_a_clean_legend() -> None:
    series = [
        ChartSeries(
            '{status="500"}\x1b]52;c;ZXZpbA==\x07[bold]x[/]', [(t, 8.0) for t in range(0, 3601, 15)]
        ),
        ChartSeries("low", [(t, 1.0 if t % 900 else math.nan) for t in range(0, 3601, 15)]),
    ]
    text = render_chart(series, 80, 14, start=0, end=3600, threshold=5.0)
    assert isinstance(text, Text)
    plain = text.plain
    assert "\x1b" not in plain and "\x07" not in plain
    assert "[bold]x[/]" in plain, "labels are text, never markup"
    assert "╌" in plain and "threshold 5" in plain
    assert any(0x2800 < ord(c) <= 0x28FF for c in plain), "braille dots"
    lines = plain.split("\n")
    assert len(lines) == 14
    assert lines[0].lstrip().startswith("8.")  # the top tick is the largest value
    assert render_chart([], 80, 10, start=0, end=60).plain == "no data in this window"


def test_query_history_survives_restarts_and_is_private(tmp_path: Path) -> None:
    path = history_path({"XDG_DATA_HOME": str(tmp_path)})
    assert path == tmp_path / "oncall-tui" / "query_history"
    first = QueryHistory(path)
    first.add("up")
    first.add("sum(rate(x[5m]))")
    first.add("up")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert QueryHistory(path).entries == ["sum(rate(x[5m]))", "up"]


def test_a_flat_line_with_float_noise_is_drawn_flat() -> None:
    noisy = [
        ChartSeries("ratio", [(t, 8.0 + (1e-12 if t % 30 else -1e-12)) for t in range(0, 3601, 15)])
    ]
    lines = render_chart(noisy, 60, 8, start=0, end=3600).plain.split("\n")
    assert lines[0].split()[0] == "8.8" and lines[5].split()[0] == "7.2"
    plotted = [
        i for i, line in enumerate(lines[:6]) if any(0x2800 < ord(c) <= 0x28FF for c in line)
    ]
    assert plotted in ([2, 3], [2], [3]), "a thin line mid-chart, not noise blown up to full height"
