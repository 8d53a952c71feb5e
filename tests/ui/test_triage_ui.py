"""Runbooks, triage, :query and alert history, driven by Pilot against the real stack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Markdown, Static

from oncall_tui.config import AuthConfig, Context, PrometheusConfig, RunbooksConfig
from oncall_tui.demo.stack import Stack
from oncall_tui.domain.board import BoardAlert
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.detail import AlertDetailScreen
from oncall_tui.ui.screens.query import QueryScreen
from oncall_tui.ui.screens.runbook import RunbookScreen
from oncall_tui.ui.screens.triage import TriageScreen
from oncall_tui.ui.widgets.chart import Chart
from oncall_tui.ui.widgets.query_result import ResultView
from tests.helpers import context_app, cursor_on, demo_app, markdown_text, plain, texts, until
from tests.support.runbook_server import Route, RunbookServer

TOKEN = "prometheus-token-do-not-leak-41c7"


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """`:query` history goes to a temporary XDG data dir, never the user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    yield tmp_path / "data"


def result_text(view: ResultView) -> str:
    return "\n".join(plain(s) for s in view.query(Static).results(Static))


@pytest.mark.stack
async def test_r_opens_the_runbook_and_a_promql_block_runs_inline(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await cursor_on(app, pilot, "HighErrorRate")
        await pilot.press("r")
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        await until(pilot, lambda: len(screen.fences) > 3)
        shown = markdown_text(app)
        assert "Runbook: HighErrorRate" in shown and "Investigation Steps" in shown
        assert "HighErrorRate.md" in plain(screen.query_one("#runbook-title", Static))
        # The first block is the error rate in percent: the demo serves exactly 8 %.
        await pilot.press("n", "enter")
        await until(
            pilot, lambda: 0 in screen.results and "series" in result_text(screen.results[0])
        )
        answer = result_text(screen.results[0])
        assert "1 series" in answer and "\n    8  {}" in "\n" + answer.split("\n", 1)[1]
        assert screen.results[0].query_one(Chart).display
        # The second block fills {{ $labels.service }} from the alert's labels.
        await pilot.press("n", "enter")
        await until(
            pilot, lambda: 1 in screen.results and "3 series" in result_text(screen.results[1])
        )
        assert 'job="churn-api"' in result_text(screen.results[1])
        assert 'status="500"' in result_text(screen.results[1])
        # A shell block is never run; `c` copies it.
        await pilot.press("n")
        fence = screen.fences[screen.selected]
        assert fence.lexer == "bash"
        await pilot.press("enter")
        assert "never run" in plain(screen.query_one("#runbook-hint", Static))
        assert screen.selected not in screen.results
        await pilot.press("c")
        assert app.clipboard == fence.code and "kubectl rollout history" in app.clipboard
        await pilot.press("escape")
        assert isinstance(app.screen, AlertsScreen)


@pytest.mark.stack
async def test_t_charts_the_rule_against_its_threshold(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await cursor_on(app, pilot, "HighErrorRate")
        await pilot.press("t")
        screen = app.screen
        assert isinstance(screen, TriageScreen)
        rule = screen.query_one("#triage-rule", Static)
        await until(pilot, lambda: "value now" in plain(rule))
        words = plain(rule)
        assert "churn_api_requests_total" in words and ") * 100 > 5" in words
        assert "value now  8   threshold > 5: crossed" in words
        chart = screen.query_one("#triage-chart", Chart)
        assert chart.threshold == 5.0 and chart.series
        assert "threshold 5" in chart.render().plain
        await until(pilot, lambda: len(screen.query_views) == 3)
        await until(pilot, lambda: "3 series" in result_text(screen.query_views[0][1]))
        assert plain(screen.query_views[0][0]) == "requests per second by status"
        await pilot.press("w")
        assert "[6h]" in plain(screen.query_one("#triage-window", Static))
        await until(pilot, lambda: chart.end - chart.start == 6 * 3600)


@pytest.mark.stack
async def test_query_with_a_typo_shows_prometheus_error_and_history_is_kept(
    stack: Stack, private_data_dir: Path
) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await pilot.press("colon", *"query", "enter")
        screen = app.screen
        assert isinstance(screen, QueryScreen)
        await pilot.press(*"sum(rate(churn_api_requests_total[5m]", "enter")
        error = screen.query_one("#query-error", Static)
        await until(pilot, lambda: "parse error" in plain(error))
        lines = plain(error).split("\n")
        assert lines[0] == "1:38: parse error: unclosed left parenthesis"
        assert lines[1] == "  sum(rate(churn_api_requests_total[5m]"
        assert lines[2] == "  " + " " * 37 + "^"
        await pilot.press(
            "ctrl+u", *"sum by (status) (rate(churn_api_requests_total[5m]))", "enter"
        )
        result = screen.query_one("#query-result", ResultView)
        await until(pilot, lambda: "3 series" in result_text(result))
        rows = result_text(result).split("\n")[1:]
        # 92 % answered 200, 6 % 500, 2 % 503 (the exporter's split): largest first.
        assert [r.split()[1] for r in rows] == [
            '{status="200"}',
            '{status="500"}',
            '{status="503"}',
        ]
        values = [float(r.split()[0]) for r in rows]
        assert values == sorted(values, reverse=True)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: '{status="503"}' in result_text(result).split("\n")[1])
        await pilot.press("ctrl+t")
        await until(pilot, lambda: "matrix" in result_text(result))
        assert result.query_one(Chart).display
        await pilot.press("ctrl+u", "up")
        assert screen.query_one("#query-input").value.startswith("sum by (status)")  # type: ignore[attr-defined]
        # Run again: the query stays in the box, and up brings the one before it, not itself.
        await pilot.press("enter")
        await until(pilot, lambda: "matrix" in result_text(result))
        await pilot.press("up")
        assert screen.query_one("#query-input").value == "sum(rate(churn_api_requests_total[5m]"  # type: ignore[attr-defined]
    saved = (private_data_dir / "oncall-tui" / "query_history").read_text().splitlines()
    assert saved == [
        "sum(rate(churn_api_requests_total[5m]",
        "sum by (status) (rate(churn_api_requests_total[5m]))",
    ]


@pytest.mark.stack
async def test_detail_view_shows_when_the_alert_fired(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await cursor_on(app, pilot, "HighErrorRate")
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, AlertDetailScreen)
        history = screen.query_one("#detail-history", Static)
        await until(pilot, lambda: "episode" in plain(history))
        lines = plain(history).split("\n")
        assert lines[0].startswith("24h") and lines[0].endswith("█")
        assert "1 episode, firing" in lines[1] and "(still active)" in lines[1]
        assert lines[2].startswith("7d")
        await pilot.press("t")
        assert isinstance(app.screen, TriageScreen)
        await pilot.press("escape", "r")
        assert isinstance(app.screen, RunbookScreen)


def hostile_alert(annotations: dict[str, str]) -> BoardAlert:
    labels = {"alertname": "Evil", "service": "x"}
    return BoardAlert(
        key="k",
        cluster="c",
        fingerprint="f",
        name="Evil",
        severity="critical",
        state="active",
        labels=labels,
        annotations=annotations,
        started=datetime.now(UTC),
    )


HOSTILE = (
    "# Evil \x1b[2J\x1b]0;owned\x07 title\n\n"
    "Click [here](file:///etc/passwd) or [there](https://evil.example/x).\n\n"
    "[@click=app.quit]quit[/] and [bold red]markup[/] stay text.\n\n"
    "<script>alert(1)</script><b>raw html</b>\n\n"
    '```promql\nup{x="{{ $labels.service }}\x1b]52;c;ZXZpbA==\x07"}\n```\n'
)


async def test_hostile_runbook_content_shows_as_text_and_never_acts(tmp_path: Path) -> None:
    (tmp_path / "Evil.md").write_text(HOSTILE)
    context = Context(
        name="x",
        prometheus=PrometheusConfig(url="http://127.0.0.1:9"),
        runbooks=RunbooksConfig(folders=[tmp_path]),
    )
    app = context_app(context)
    opened: list[str] = []
    app.open_url = lambda url, **_: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(RunbookScreen(hostile_alert({}), app.state))
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        await until(pilot, lambda: screen.fences)
        source = screen.query_one(Markdown).source
        assert not any(c in source for c in "\x1b\x07\x9b")
        shown = markdown_text(app)
        assert "[@click=app.quit]quit[/]" in shown and "[bold red]markup[/]" in shown
        assert "<script>alert(1)</script>" in shown, "raw HTML is shown as the text it is"
        screen.query_one(Markdown).post_message(
            Markdown.LinkClicked(screen.query_one(Markdown), "file:///etc/passwd")
        )
        await pilot.pause()
        assert "link (not opened): file:///etc/passwd" in plain(
            screen.query_one("#runbook-hint", Static)
        )
        assert opened == [] and app.is_running
        assert isinstance(app.screen, RunbookScreen), "no link loaded another document"


@pytest.mark.parametrize(
    ("route", "words"),
    [
        (Route(b"#" * 3_000_000), "too large"),
        (Route(b"# slow\n" * 100, drip_seconds=0.05), "took longer than 1 s"),
        (Route(b"%PDF-1.4", content_type="application/pdf"), "which oncall-tui does not show"),
    ],
)
async def test_runbook_over_http_caps_and_types(
    runbook_server: RunbookServer, route: Route, words: str
) -> None:
    runbook_server.routes["/Evil"] = route
    context = Context(
        name="x",
        prometheus=PrometheusConfig(url="http://127.0.0.1:9"),
        runbooks=RunbooksConfig(max_bytes=1_000_000, timeout=1.0),
    )
    app = context_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        alert = hostile_alert({"runbook_url": runbook_server.url + "/Evil"})
        await app.push_screen(RunbookScreen(alert, app.state))
        await until(pilot, lambda: words in texts(app), timeout=10)
        assert runbook_server.url + "/Evil" in texts(app), "the link is shown to open by hand"


async def test_the_context_credential_never_reaches_a_runbook_host(
    runbook_server: RunbookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROM_TOKEN", TOKEN)
    runbook_server.routes["/Evil.md"] = Route(b"# Evil runbook\n")
    context = Context(
        name="x",
        prometheus=PrometheusConfig(url="http://127.0.0.1:9"),
        auth=AuthConfig(type="bearer", source="env", env="PROM_TOKEN"),
    )
    app = context_app(context)
    assert app.clients.auth is not None, "the context does have a credential"
    async with app.run_test(size=(80, 24)) as pilot:
        alert = hostile_alert({"runbook_url": runbook_server.url + "/Evil.md"})
        await app.push_screen(RunbookScreen(alert, app.state))
        await until(pilot, lambda: "Evil runbook" in markdown_text(app))
    (sent,) = runbook_server.headers_for("/Evil.md")
    assert "authorization" not in sent
    assert all(TOKEN not in value for value in sent.values())


async def test_an_alert_without_a_runbook_says_where_it_looked() -> None:
    context = Context(name="x", prometheus=PrometheusConfig(url="http://127.0.0.1:9"))
    app = context_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(RunbookScreen(hostile_alert({}), app.state))
        await until(pilot, lambda: "names no runbook" in texts(app))
        assert "runbook_url, runbook" in texts(app)


async def test_a_runbook_folder_without_the_file_says_what_it_tried(tmp_path: Path) -> None:
    context = Context(
        name="x",
        prometheus=PrometheusConfig(url="http://127.0.0.1:9"),
        runbooks=RunbooksConfig(folders=[tmp_path]),
    )
    app = context_app(context)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(RunbookScreen(hostile_alert({}), app.state))
        await until(pilot, lambda: "No runbook found" in texts(app))
        assert f"no such file: {tmp_path / 'Evil.md'}" in texts(app)
