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
