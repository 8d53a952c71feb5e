"""domain.routing and domain.time_intervals without a server (amtool is the oracle for the
receivers in tests/integration/test_routing_oracle.py; these cover what amtool does not
print: inherited timers, time intervals, inhibition, silences, secrets)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from oncall_tui.domain.routing import (
    RoutingError,
    count_alerts,
    parse_classic_matchers,
    parse_config,
    parse_duration,
    where,
)
from oncall_tui.wire.alertmanager import Matcher, Silence, SilenceStatus
from tests.helpers import ROOT

LARGE = (ROOT / "tests" / "data" / "routing" / "large.yml").read_text()
# A Tuesday, 10:00 UTC (11:00 in Berlin: inside "office"); not the 1st or last of a month.
TUESDAY = datetime(2025, 6, 10, 10, 0, tzinfo=UTC)


def test_timers_and_group_by_are_inherited_and_overridden() -> None:
    config = parse_config(LARGE)
    root = config.root
    assert (root.group_wait, root.group_interval, root.repeat_interval) == (10, 300, 4 * 3600)
    db = root.routes[0]
    assert db.group_by == ("alertname", "cluster", "instance")
    assert (db.group_wait, db.group_interval) == (10, 120)
    oncall = db.routes[0]
    assert (oncall.group_interval, oncall.repeat_interval, oncall.group_by) == (
        120,
        1800,
        db.group_by,
    )
    assert config.route("1.0") is not None and config.route("1.0").group_by == ("...",)  # type: ignore[union-attr]
    # Time intervals are the route's own, never inherited.
    assert db.routes[1].mute_time_intervals == ("weekends",)
    assert not db.routes[1].routes


def test_receivers_show_kinds_never_secrets() -> None:
    config = parse_config(LARGE)
    described = " ".join(r.describe() for r in config.receivers.values())
    assert "pagerduty" in described and "webhook ×2" in described
    for secret in ("FAKE", "token", "slack.invalid", "127.0.0.1", "example.invalid"):
        assert secret not in described
    assert config.receivers["fallback"].describe().startswith("no integrations")


def test_time_intervals_now_and_next_change() -> None:
    config = parse_config(LARGE)
    office = config.intervals["office"]
    assert office.contains(TUESDAY)
    # 17:30 Berlin (summer time) is 15:30 UTC.
    assert office.next_change(TUESDAY) == datetime(2025, 6, 10, 15, 30, tzinfo=UTC)
    weekends = config.intervals["weekends"]
    assert not weekends.contains(TUESDAY)
    assert weekends.next_change(TUESDAY) == datetime(2025, 6, 14, 0, 0, tzinfo=UTC)
    maintenance = config.intervals["maintenance"]
    assert maintenance.contains(datetime(2025, 1, 31, 12, tzinfo=UTC))  # -1: last day
    assert maintenance.contains(datetime(2025, 10, 1, tzinfo=UTC))
    assert not maintenance.contains(datetime(2025, 6, 1, tzinfo=UTC))  # June: not listed
    late = config.intervals["late-shift"]
    assert late.contains(datetime(2025, 6, 10, 23, 59, tzinfo=UTC))
    assert not late.contains(datetime(2025, 6, 11, 0, 0, tzinfo=UTC))


def test_where_tells_muting_inhibition_and_silences() -> None:
    config = parse_config(LARGE)
    labels = {"team": "ml", "severity": "warning", "service": "x", "cluster": "c1"}
    silence = Silence(
        id="s1",
        matchers=[Matcher(name="team", value="ml|data", is_regex=True)],
        starts_at=TUESDAY,
        ends_at=TUESDAY,
        created_by="me",
        comment="",
        status=SilenceStatus(state="active"),
    )
    expired = Silence(
        id="s2",
        matchers=[Matcher(name="team", value="ml")],
        starts_at=TUESDAY,
        ends_at=TUESDAY,
        created_by="me",
        comment="",
        status=SilenceStatus(state="expired"),
    )
    firing = [
        {"alertname": "ClusterDown", "cluster": "c1"},
        {"alertname": "ClusterDown", "cluster": "c2"},
    ]
    found = where(config, labels, firing=firing, silences=[silence, expired], now=TUESDAY)
    assert found.receivers == ["ml-slack", "warnings"]
    ml, warnings = found.landings
    assert [s.name for s in ml.active] == ["office", "late-shift"]
    assert not ml.muted_now  # office holds on Tuesday 11:00 in Berlin
    assert warnings.mute[0].holds is False and not warnings.muted_now
    assert [s.id for s in found.silences] == ["s1"]
    rules = {i.rule.index: i.by for i in found.inhibitions}
    assert rules[0] == (firing[0],)  # same cluster only
    assert rules[1] == ()  # could mute it, but no critical alert fires now
    night = where(config, labels, now=datetime(2025, 6, 10, 20, 0, tzinfo=UTC))
    assert night.landings[0].muted_now


def test_an_alert_matching_both_sides_does_not_inhibit_its_kind() -> None:
    config = parse_config(
        """
route: {receiver: r}
receivers: [{name: r}]
inhibit_rules:
  - source_matchers: ['severity=~"warning|critical"']
    target_matchers: ['severity="warning"']
"""
    )
    rule = config.inhibit_rules[0]
    assert not rule.inhibits({"severity": "warning", "a": "1"}, {"severity": "warning", "a": "2"})
    assert rule.inhibits({"severity": "warning"}, {"severity": "critical"})


def test_counts_and_path() -> None:
    config = parse_config(LARGE)
    labels = {"severity": "critical", "region": "eu-west-1"}
    assert config.visited(labels) == {"root", "2", "2.0", "2.1"}
    counts = count_alerts(config, [labels, {"alertname": "x"}])
    assert counts["root"] == 2 and counts["2.1"] == 1 and "0" not in counts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('foo="bar"', ['foo="bar"']),
        ('{foo="a,b", x!~"y"}', ['foo="a,b"', 'x!~"y"']),
        ("foo=bar baz", ['foo="bar baz"']),
        ('foo="a\\"b"', ['foo="a\\"b"']),
    ],
)
def test_classic_matchers(text: str, expected: list[str]) -> None:
    assert [str(m) for m in parse_classic_matchers(text)] == expected


@pytest.mark.parametrize("bad", ['foo="a"b"', "=x", 'foo="open'])
def test_bad_matchers_refused(bad: str) -> None:
    with pytest.raises(RoutingError):
        parse_classic_matchers(bad)


def test_durations() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("0s") == 0
    with pytest.raises(RoutingError):
        parse_duration("5 minutes")
