"""domain.pipeline without a server: metrics text, counters between polls, verdict words."""

from __future__ import annotations

from oncall_tui.domain import pipeline as p

PAGE = """# HELP alertmanager_notifications_failed_total x
# TYPE alertmanager_notifications_failed_total counter
alertmanager_notifications_failed_total{integration="webhook"} 3
alertmanager_notifications_failed_total{integration="email"} 0
alertmanager_config_last_reload_successful 0
weird_metric{a="x\\"y",b="2"} NaN
"""


def test_parse_and_sum() -> None:
    metrics = p.parse_metrics(PAGE)
    assert p.by_label(metrics, "alertmanager_notifications_failed_total", "integration") == {
        "webhook": 3.0,
        "email": 0.0,
    }
    assert (
        p.reload_verdict("am", metrics, "alertmanager_config_last_reload_successful").level == p.BAD
    )
    assert p.value(metrics, "absent") is None


def test_failing_now_then_mended() -> None:
    failed, sent = p.CounterHistory.empty(), p.CounterHistory.empty()
    for at, f, s in ((0, 0, 10), (5, 3, 14), (10, 3, 15)):
        failed.add(at, {"webhook": f})
        sent.add(at, {"webhook": s})
        verdict = p.notification_verdicts("am", failed, sent, ["webhook"])[0]
        if at == 5:
            assert verdict.level == p.BAD
            assert "3 notifications to webhook failed in the last 10m" in verdict.words
            assert p.headline([verdict]).startswith("am: paging may be failing")
    assert verdict.level == p.WARN and not p.headline([verdict])


def test_counter_reset_and_window() -> None:
    history = p.CounterHistory.empty()
    history.add(0, {"k": 5})
    history.add(1, {"k": 2})  # restarted: counts from zero
    assert history.last_step("k") == 2
    history.add(700, {"k": 2})
    history.add(1400, {"k": 2})
    assert history.in_window("k") == 0


def test_watchdog_and_peers() -> None:
    assert p.watchdog_verdict("am", "Watchdog", ["A"]).level == p.BAD
    assert p.watchdog_verdict("am", "Watchdog", ["Watchdog"]).level == p.OK
    # A fresh Alertmanager has no Watchdog until Prometheus's first evaluations: not a finding.
    young = p.watchdog_verdict("am", "Watchdog", ["A"], started=1000.0, now=1030.0)
    assert young.level == p.UNKNOWN and "started 30s ago" in young.words
    assert p.watchdog_verdict("am", "Watchdog", ["A"], started=1000.0, now=1121.0).level == p.BAD
    assert p.peers_verdict("am", 1, 2, None).level == p.WARN
    assert p.peers_verdict("am", 2, 2, 1).level == p.WARN
    assert p.peers_verdict("am", 0, 2, None).level == p.BAD


def test_a_quiet_poll_keeps_failing_until_a_notification_goes_through() -> None:
    """Between two flushes nothing is sent: the receiver is no better than at the last try.
    Polled every second with a flush every two (the demo's Watchdog), the verdict used to
    flap between failing and not on every other poll."""
    failed, sent = p.CounterHistory.empty(), p.CounterHistory.empty()
    levels = []
    # (failed, sent): fails, quiet, fails, quiet, then mended (a success), then quiet again.
    for at, (f, s) in enumerate(((0, 10), (2, 12), (2, 12), (4, 14), (4, 14), (4, 15), (4, 15))):
        failed.add(at, {"webhook": f})
        sent.add(at, {"webhook": s})
        levels.append(p.notification_verdicts("am", failed, sent, ["webhook"])[0].level)
    assert levels == [p.OK, p.BAD, p.BAD, p.BAD, p.BAD, p.WARN, p.WARN]


def test_failing_checks_ignore_the_counts() -> None:
    """What the board's toast compares: the same failure with a bigger count is no news."""
    one = p.Verdict("am", "notifications: webhook", p.BAD, "3 failed")
    more = p.Verdict("am", "notifications: webhook", p.BAD, "7 failed")
    other = p.Verdict("am", "watchdog", p.BAD, "no Watchdog")
    assert p.failing([one]) == p.failing([more]) == {("am", "notifications: webhook")}
    assert p.failing([more, other]) - p.failing([one]) == {("am", "watchdog")}
    assert p.failing([p.Verdict("am", "peers", p.OK, "2 of 2")]) == frozenset()


def page_027(attempts: int, failed: int, server_errors: int, client_errors: int) -> str:
    """A /metrics page in Alertmanager 0.27.0's shape (as recorded in prymitive/karma's
    internal/mock/0.27.0/metrics): per-attempt counters without a reason, and failed flushes
    labelled with one (0.26+; 0.25, installed here, has no `reason` label)."""
    return f"""\
alertmanager_notification_requests_failed_total{{integration="webhook"}} {failed}
alertmanager_notification_requests_total{{integration="webhook"}} {attempts}
alertmanager_notifications_failed_total{{integration="email",reason="serverError"}} 0
alertmanager_notifications_failed_total{{integration="webhook",reason="clientError"}} {client_errors}
alertmanager_notifications_failed_total{{integration="webhook",reason="contextCanceled"}} 0
alertmanager_notifications_failed_total{{integration="webhook",reason="other"}} 0
alertmanager_notifications_failed_total{{integration="webhook",reason="serverError"}} {server_errors}
alertmanager_notifications_total{{integration="webhook"}} {attempts}
"""


def test_failure_reasons_of_alertmanager_0_26_and_later() -> None:
    failed, sent, reasons = (p.CounterHistory.empty() for _ in range(3))
    for at, page in enumerate((page_027(10, 0, 0, 0), page_027(16, 6, 2, 1))):
        metrics = p.parse_metrics(page)
        failed.add(
            at,
            p.by_label(metrics, "alertmanager_notification_requests_failed_total", "integration"),
        )
        sent.add(at, p.by_label(metrics, "alertmanager_notification_requests_total", "integration"))
        reasons.add(at, p.by_reason(metrics))
    (verdict,) = p.notification_verdicts("am", failed, sent, ["webhook"], reasons)
    assert verdict.level == p.BAD
    assert verdict.words.endswith("(of 6 sent); reasons: serverError 2, clientError 1"), verdict
    # 0.25's page has no reason: nothing said, nothing guessed.
    assert p.by_reason(p.parse_metrics(PAGE)) == {}
