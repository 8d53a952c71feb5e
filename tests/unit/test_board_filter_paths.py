"""The board's filter shortcuts (whole groups taken or left by their shared labels and joined
texts, cached sort orders and search texts) show exactly what checking each alert shows.

The reference is the plain definition: an alert is shown when it is not in a hidden state and
`Filter.matches(labels, annotations)` holds; a group's alerts in the sort's order; `matched`
counts distinct alerts that are not resolved.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from oncall_tui.domain.board import BoardAlert, BoardGroup, BoardModel, alert_sort_key
from oncall_tui.domain.matchers import parse_filter

T0 = datetime(2026, 12, 1, tzinfo=UTC)
STATES = ("active", "active", "active", "silenced", "inhibited", "resolved")
FILTERS = [
    "svc",
    "svc-0",
    "svc-01",
    "svc-02",
    "SVC-02 replica",
    "replica 3",
    "alertname=A1",
    "alertname=~A.* svc-1",
    'service!="svc-00" ops',
    "team",
    "nothing-matches-this",
    "prod",
    "a1",
    "bench",
]


def build(rng: random.Random, duplicate: bool) -> list[BoardGroup]:
    groups = []
    for g in range(30):
        service = f"svc-{rng.randrange(3):02d}"
        alerts = []
        for i in range(rng.randrange(1, 8)):
            labels = {
                "alertname": f"A{g % 4}",
                "service": service if rng.random() > 0.1 else f"svc-{rng.randrange(3):02d}",
                "team": rng.choice(["ops", "ml"]),
                "instance": f"10.0.{g}.{i}",
            }
            alerts.append(
                BoardAlert(
                    key=f"c/{g}-{i}",
                    cluster="c",
                    fingerprint=f"{g}-{i}",
                    name=labels["alertname"],
                    severity=rng.choice(["critical", "warning", "info"]),
                    state=rng.choice(STATES),
                    labels=labels,
                    annotations={"summary": f"Error on {labels['service']} replica {i}"},
                    started=T0 + timedelta(minutes=rng.randrange(500)),
                )
            )
        # The group's own labels need not be what its alerts share: the shortcuts must not
        # trust them.
        claimed = (("alertname", f"A{g % 4}"), ("service", "svc-02"))
        groups.append(BoardGroup(f"c/g{g}", "c", "r", claimed, tuple(alerts)))
    if duplicate:  # one alert in two groups (two receivers): counted once
        extra = groups[0].alerts[0]
        groups.append(BoardGroup("c/dup", "c", "r2", (), (extra,)))
    return groups


def reference(model: BoardModel, groups: list[BoardGroup]) -> tuple[dict[str, list[str]], int]:
    hidden = {
        state
        for state, on in (
            ("silenced", model.hide_silenced),
            ("inhibited", model.hide_inhibited),
            ("muted", model.hide_muted),
        )
        if on
    }
    flt = model.filter
    shown: dict[str, list[str]] = {}
    live: set[str] = set()
    for group in groups:
        alerts = sorted(
            (
                a
                for a in group.alerts
                if a.state not in hidden and (flt is None or flt.matches(a.labels, a.annotations))
            ),
            key=alert_sort_key(model.sort),
        )
        if alerts:
            shown[group.key] = [a.key for a in alerts]
            live.update(a.key for a in alerts if a.state != "resolved")
    return shown, len(live)


def board_shows(model: BoardModel) -> dict[str, list[str]]:
    model.expand_all(True)
    shown: dict[str, list[str]] = {}
    for line in model.lines():
        if line.alert is None or line.is_single:
            shown[line.group.key] = [a.key for a in line.shown]
    return shown


@pytest.mark.parametrize("seed", range(6))
def test_every_filter_shows_what_checking_each_alert_shows(seed: int) -> None:
    rng = random.Random(seed)
    groups = build(rng, duplicate=seed % 2 == 1)
    model = BoardModel()
    model.set_groups(groups)
    for step in range(60):  # one model through many keys: the caches must never go stale
        model.filter = parse_filter(rng.choice(FILTERS)) if rng.random() > 0.1 else None
        model.hide_silenced = rng.random() < 0.3
        model.hide_inhibited = rng.random() < 0.3
        model.sort = rng.choice(["severity", "age", "alertname", "label:team"])
        if step % 20 == 19:  # a poll: some groups replaced by new objects
            groups = [
                g
                if rng.random() > 0.3
                else BoardGroup(g.key, g.cluster, g.receiver, g.labels, g.alerts[::-1])
                for g in groups
            ]
            model.set_groups(groups)
        model.invalidate()
        expected, matched = reference(model, groups)
        assert board_shows(model) == expected, (step, str(model.filter))
        assert model.matched == matched
