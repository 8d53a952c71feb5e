"""The alert detail screen, driven by Pilot against the real stack: what a user reads there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from oncall_tui.api.alertmanager import AlertmanagerCluster, AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack
from oncall_tui.domain.alert_facts import relative, safe_link
from oncall_tui.domain.board import BoardAlert
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.detail import AlertDetailScreen
from oncall_tui.ui.widgets.board import BoardView
from oncall_tui.wire.alertmanager import Matcher, PostableAlert, PostableSilence
from tests.helpers import board_alert, demo_app, section, until


def screen_text(app: OncallApp) -> str:
    if not isinstance(app.screen, AlertDetailScreen):
        return ""
    return "\n".join(
        s.content.plain for s in app.screen.query(Static) if isinstance(s.content, Text)
    )


async def open_detail(app: OncallApp, pilot: Pilot[None], alert: BoardAlert) -> None:
    screen = app.screen
    assert isinstance(screen, AlertsScreen)
    await app.push_screen(AlertDetailScreen(alert, app.state, screen.model))
    await pilot.pause()


@pytest.mark.stack
async def test_inhibited_alert_names_the_alert_that_inhibits_it(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: board_alert(app, "HighLatency", "inhibited"))
        await until(pilot, lambda: board_alert(app, "ChurnAPIDown"))
        alert = board_alert(app, "HighLatency", "inhibited")
        assert alert is not None
        await open_detail(app, pilot, alert)
        inhibitors = section(app, "inhibitors")
        assert "ChurnAPIDown" in inhibitors and "critical" in inhibitors
        assert "service=churn-api" in inhibitors
        assert "not on the board" not in inhibitors
        title = app.screen.query_one("#detail-title", Static).content
        assert isinstance(title, Text) and "HighLatency" in title.plain
        assert "inhibited" in title.plain

        def severity_coloured() -> bool:
            title = app.screen.query_one("#detail-title", Static).content
            assert isinstance(title, Text)
            return any(
                title.plain[span.start : span.end].strip() == "WARNING"
                and not isinstance(span.style, str)
                and span.style.color is not None
                for span in title.spans
            )

        await until(pilot, severity_coloured)  # the theme's $severity-warning, once CSS applies
        where = section(app, "where")
        assert "demo" in where and "of 2 peers" in where
        assert "receivers" in where
        assert "ago" in section(app, "timing")
        await pilot.press("escape")
        assert isinstance(app.screen, AlertsScreen)


@pytest.mark.stack
async def test_silenced_alert_shows_its_silence(stack: Stack) -> None:
    cluster = AlertmanagerCluster(
        "demo", [AlertmanagerPeer(url, ClientOptions()) for url in stack.alertmanager_urls]
    )
    now = datetime.now(UTC)
    stored = await cluster.write_silence(
        PostableSilence(
            matchers=[Matcher(name="alertname", value="DataDriftDetected")],
            starts_at=now,
            ends_at=now + timedelta(hours=2),
            created_by="detail-test-author",
            comment="drift is expected [bold]during[/] the retrain",
        )
    )
    try:
        app = demo_app(stack)
        async with app.run_test(size=(80, 24)) as pilot:

            def silenced() -> BoardAlert | None:
                alert = board_alert(app, "DataDriftDetected", "silenced")
                return alert if alert and stored.id in alert.silenced_by else None

            await until(pilot, silenced)
            alert = silenced()
            assert alert is not None
            await open_detail(app, pilot, alert)
            await until(pilot, lambda: "detail-test-author" in section(app, "silences"))
            shown = section(app, "silences")
            assert stored.id in shown
            assert "drift is expected [bold]during[/] the retrain" in shown, "text, not markup"
            assert "in 1h59m" in shown or "in 2h" in shown
            assert "active" in shown
            await pilot.press("q")
            assert isinstance(app.screen, AlertsScreen), "q goes back, it does not quit"
    finally:
        await cluster.expire_silence(stored.id)
        await cluster.aclose()


@pytest.mark.stack
async def test_opened_from_the_board_shows_rule_links_and_copies_matchers(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: board_alert(app, "HighErrorRate"))
        view = app.screen.query_one(BoardView)
        await until(pilot, lambda: view._lines)
        index = next(
            i
            for i, line in enumerate(view._lines)
            if line.alert is not None and line.alert.name == "HighErrorRate"
        )
        view.move_to(index)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AlertDetailScreen))
        await until(pilot, lambda: "expression" in section(app, "rule"))
        rule = section(app, "rule")
        assert "churn_api_requests_total" in rule
        # Prometheus 2.42 answers the expression as it parsed it: one line, normalised.
        assert "\nexpression\n  (sum(rate(churn_api_requests_total{" in rule
        assert "for        0s" in rule and "health     ok" in rule
        assert "churn_api" in rule and ".yml" in rule
        links = section(app, "links")
        assert "https://runbooks.example.com/HighErrorRate" in links
        assert "generator" in links
        assert "HighErrorRate" in section(app, "labels")
        assert "High error rate on Churn API" in section(app, "annotations")
        await pilot.press("y")
        assert app.clipboard.startswith('{alertname="HighErrorRate", ')
        assert 'severity="critical"' in app.clipboard
        await pilot.press("escape")
        assert isinstance(app.screen, AlertsScreen)


@pytest.mark.stack
async def test_pending_alert_shows_what_applies_and_its_rule(stack: Stack) -> None:
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: board_alert(app, "ModelNotUpdated", "pending"))
        alert = board_alert(app, "ModelNotUpdated", "pending")
        assert alert is not None
        await open_detail(app, pilot, alert)
        await until(pilot, lambda: "expression" in section(app, "rule"))
        rule = section(app, "rule")
        assert "for        1h" in rule
        assert "churn_model_last_updated_timestamp" in rule
        assert "pending alerts are not sent to Alertmanager" in section(app, "where")
        assert "pending alerts are not in Alertmanager" in section(app, "silences")
        timing = section(app, "timing")
        assert "pending" in timing and "if still true" in timing
        assert "internal error" not in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, AlertsScreen)


@pytest.mark.stack
async def test_hostile_text_stays_text_and_only_web_links_are_clickable(stack: Stack) -> None:
    now = datetime.now(UTC)
    hostile = PostableAlert(
        labels={"alertname": "DetailHostile", "severity": "info", "device": "[sda]"},
        annotations={
            "summary": "disk [/] full \x1b[31mred",
            "description": "line one\nline [bold]two\x07\nline three",
            "dashboard": "javascript:alert(1)",
            "grafana_url": "https://grafana.example.com/d/abc?x=1",
        },
        starts_at=now,
        ends_at=now + timedelta(minutes=5),
    )
    for url in stack.alertmanager_urls:
        peer = AlertmanagerPeer(url, ClientOptions())
        await peer.post_alerts([hostile])
        await peer.aclose()
    app = demo_app(stack)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: board_alert(app, "DetailHostile"))
        alert = board_alert(app, "DetailHostile")
        assert alert is not None
        await open_detail(app, pilot, alert)
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text
        assert "disk [/] full \ufffd[31mred" in text
        annotations = section(app, "annotations")
        assert "line one\n" in annotations and "line [bold]two\ufffd\n" in annotations
        assert "[sda]" in section(app, "labels")
        content = app.screen.query_one("#detail-links", Static).content
        assert isinstance(content, Text)
        links = {
            content.plain[span.start : span.end]: span.style.link
            for span in content.spans
            if not isinstance(span.style, str) and span.style.link
        }
        assert links == {
            "https://grafana.example.com/d/abc?x=1": "https://grafana.example.com/d/abc?x=1"
        }
        assert "javascript:alert(1)  (not a web link)" in content.plain
        await until(pilot, lambda: "rule not found" in section(app, "rule"))


def test_link_and_relative_helpers() -> None:
    assert safe_link("https://x.example/a") == "https://x.example/a"
    assert safe_link("HTTP://x.example") == "HTTP://x.example"
    for bad in (
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://",
        "http://a b",
        "https://a\x1b",
    ):
        assert safe_link(bad) is None, bad
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert relative(now - timedelta(minutes=12), now) == "12m ago"
    assert relative(now + timedelta(minutes=3), now) == "in 3m"
