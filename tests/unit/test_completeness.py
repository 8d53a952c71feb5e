"""The ledger that keeps the board from going quietly green (domain/completeness.py): pure
logic, no servers. Alerts that leave Alertmanager while a source fails stay, marked, until a
source confirms them resolved; a snapshot from peers shutting down never becomes the truth."""

from __future__ import annotations

from collections.abc import Sequence

from oncall_tui.domain.board import BoardAlert, BoardGroup, BoardModel, make_group
from oncall_tui.domain.completeness import (
    RESOLVED_CLUSTER,
    ClusterPoll,
    Ledger,
    Poll,
    PrometheusRules,
)

CLUSTER = "demo"


def alert(name: str, instance: str = "a", severity: str = "critical") -> BoardAlert:
    labels = {"alertname": name, "instance": instance, "severity": severity, "cluster": "demo"}
    return BoardAlert(
        key=f"{CLUSTER}/{name}-{instance}",
        cluster=CLUSTER,
        fingerprint=f"{name}-{instance}",
        name=name,
        severity=severity,
        state="active",
        labels=labels,
        annotations={},
        started=None,
    )


def groups(*alerts: BoardAlert) -> list[BoardGroup]:
    by_name: dict[str, list[BoardAlert]] = {}
    for a in alerts:
        by_name.setdefault(a.name, []).append(a)
    return [make_group(CLUSTER, "pager", (("alertname", n),), al) for n, al in by_name.items()]


def poll(
    at: float,
    found: Sequence[BoardGroup] | None,
    *,
    peers: int = 2,
    prometheus_error: str = "",
    rules: PrometheusRules | None = None,
    active: Sequence[BoardAlert] | None = None,
) -> Poll:
    return Poll(
        taken_at=at,
        clusters=[ClusterPoll(CLUSTER, found, peers, 2, "" if peers == 2 else "refused")],
        prometheus_configured=True,
        prometheus_error=prometheus_error,
        # What Prometheus fires: Alertmanager's labels without the external ones.
        prometheus_active=None
        if active is None
        else [{k: v for k, v in a.labels.items() if k != "cluster"} for a in active],
        rules=rules,
    )


def shown(ledger: Ledger, built: list[BoardGroup]) -> dict[str, str]:
    """key -> how the board shows it (state, or unconfirmed / resolved)."""
    return {a.key: a.shown_state for g in ledger.decorate(built) for a in g.alerts}


FIRING = [alert("HighErrorRate"), alert("ChurnAPIDown"), alert("HighCPU", "p1", "warning")]
RULES = frozenset({"HighErrorRate", "ChurnAPIDown", "HighCPU"})


def test_an_alert_that_leaves_while_everything_answers_is_resolved_with_its_time() -> None:
    ledger = Ledger(window=1800)
    ledger.observe(poll(100, groups(*FIRING)))
    ledger.observe(poll(105, groups(*FIRING[1:])))
    seen = shown(ledger, groups(*FIRING[1:]))
    assert seen[f"{RESOLVED_CLUSTER}/demo/HighErrorRate-a"] == "resolved"
    assert ledger.resolved["demo/HighErrorRate-a"].left_at == 105
    assert ledger.concerns() == [] and not ledger.held
    # Gone from the list after the window.
    ledger.observe(poll(105 + 1801, groups(*FIRING[1:])))
    assert not ledger.resolved


def test_prometheus_down_keeps_every_alert_marked_until_it_is_back_and_settled() -> None:
    ledger = Ledger()
    ledger.observe(poll(100, groups(*FIRING), rules=PrometheusRules(RULES, True), active=FIRING))
    assert not ledger.wants_rules
    ledger.observe(poll(101, groups(*FIRING), prometheus_error="Connection refused"))
    concerns = ledger.concerns()
    assert len(concerns) == 1 and "Prometheus is not answering" in concerns[0]
    assert "Connection refused" in concerns[0]
    # Alertmanager resolves them once their endsAt passes: the board keeps them, marked.
    ledger.observe(poll(106, groups(), prometheus_error="Connection refused"))
    seen = shown(ledger, groups())
    assert sorted(seen.values()) == ["unconfirmed"] * 3
    assert ledger.held["demo/HighErrorRate-a"].left_at == 106
    assert "; 3 that left since are kept, marked ?." in ledger.concerns()[0]
    assert ledger.wants_rules

    # Back, answering with no alert, its rules not evaluated since it started: nothing is
    # confirmed.
    ledger.observe(poll(120, groups(), rules=PrometheusRules(RULES, False), active=[]))
    assert len(ledger.held) == 3 and "evaluating its rules" in ledger.concerns()[0]
    # Settled: HighErrorRate still fires, ChurnAPIDown and HighCPU do not any more.
    ledger.observe(poll(122, groups(), rules=PrometheusRules(RULES, True), active=FIRING[:1]))
    assert set(ledger.held) == {"demo/HighErrorRate-a"}
    assert "still firing in Prometheus" in ledger.concerns()[0]
    assert {r.how for r in ledger.resolved.values()} == {"confirmed by Prometheus"}
    assert {r.left_at for r in ledger.resolved.values()} == {106}
    # Prometheus re-sends it: Alertmanager's copy replaces the held one, nothing is marked.
    ledger.observe(
        poll(125, groups(FIRING[0]), rules=PrometheusRules(RULES, True), active=FIRING[:1])
    )
    assert ledger.concerns() == [] and not ledger.held
    assert shown(ledger, groups(FIRING[0]))["demo/HighErrorRate-a"] == "active"


def test_alertmanager_dropping_groups_while_prometheus_fires_them_is_not_a_resolution() -> None:
    ledger = Ledger()
    rules = PrometheusRules(RULES, True)
    ledger.observe(poll(100, groups(*FIRING), rules=rules, active=FIRING))
    # Both peers answer, one group fewer (a stopping Alertmanager drops them one by one).
    ledger.observe(poll(101, groups(*FIRING[1:]), active=FIRING))
    assert not ledger.resolved and list(ledger.held) == ["demo/HighErrorRate-a"]
    assert "still firing in Prometheus" in ledger.concerns()[0]
    # It really resolves: Prometheus no longer fires it.
    ledger.observe(poll(102, groups(*FIRING[1:]), rules=rules, active=FIRING[1:]))
    assert not ledger.held and ledger.resolved["demo/HighErrorRate-a"].left_at == 101
    # An ordinary resolution Prometheus confirms at once: no mark, no banner.
    ledger.observe(poll(103, groups(FIRING[2]), rules=rules, active=FIRING[2:]))
    assert not ledger.held and ledger.concerns() == []
    assert ledger.resolved["demo/ChurnAPIDown-a"].left_at == 103


def test_peers_shutting_down_never_become_last_good() -> None:
    ledger = Ledger()
    ledger.observe(poll(100, groups(*FIRING)))
    # One peer stops; the other answers with what it still holds while shutting down.
    ledger.observe(poll(101, groups(FIRING[0]), peers=1))
    assert "only 1 of 2 peers of demo answered (was 2)" in ledger.distrust[CLUSTER]
    ledger.observe(poll(102, None, peers=0))
    # Both gone: the board shows everything it last trusted, two of them marked.
    seen = shown(ledger, groups(FIRING[0]))
    assert seen == {
        "demo/HighErrorRate-a": "active",
        "demo/ChurnAPIDown-a": "unconfirmed",
        "demo/HighCPU-p1": "unconfirmed",
    }
    text = " ".join(ledger.concerns())
    assert "Alertmanager demo: no peer answers" in text
    assert (
        "2 alerts that left Alertmanager are kept, marked ?, until confirmed resolved: "
        "only 1 of 2 peers of demo answered (was 2)."
    ) in text
    assert not ledger.resolved


def test_a_sharp_drop_is_held_until_the_next_poll_agrees() -> None:
    many = [alert("Disk", str(i), "warning") for i in range(10)]
    rules = PrometheusRules(frozenset(), settled=True)  # a generator Prometheus lacks
    ledger = Ledger()
    ledger.observe(poll(100, groups(*many)))
    # Both peers still answer, but with their groups emptied (stopping Alertmanager does so).
    ledger.observe(poll(101, groups(*many[:4])))
    assert ledger.distrust[CLUSTER] == "demo's alerts fell from 10 to 4 in one poll"
    assert len(ledger.held) == 6 and "6 alerts that left Alertmanager" in ledger.concerns()[0]
    # Still shrinking: not trusted either.
    ledger.observe(poll(102, groups(*many[:3]), rules=rules))
    assert "kept losing alerts" in ledger.distrust[CLUSTER]
    assert len(ledger.held) == 7 and not ledger.resolved
    # The next poll agrees and nothing fails: confirmed resolved, at the time each left.
    ledger.observe(poll(103, groups(*many[:3]), rules=rules))
    assert not ledger.held and len(ledger.resolved) == 7
    assert sorted(r.left_at for r in ledger.resolved.values()) == [101] * 6 + [102]
    assert {r.how for r in ledger.resolved.values()} == {"confirmed by a healthy poll"}


def test_a_small_drop_is_an_ordinary_resolution() -> None:
    ledger = Ledger()
    ledger.observe(poll(100, groups(*FIRING), peers=1))
    ledger.observe(poll(101, groups(*FIRING[1:]), peers=1))
    assert not ledger.held and list(ledger.resolved) == ["demo/HighErrorRate-a"]


def test_the_resolved_section_stays_last_and_out_of_the_counts() -> None:
    ledger = Ledger()
    ledger.observe(poll(100, groups(*FIRING)))
    ledger.observe(poll(101, groups(FIRING[2])))
    model = BoardModel()
    model.set_groups(ledger.decorate(groups(FIRING[2])))
    lines = model.lines()
    assert model.total == 1 and model.matched == 1
    assert lines[0].alert is not None and lines[0].alert.name == "HighCPU"
    assert {line.group.cluster for line in lines[1:]} == {RESOLVED_CLUSTER}


def test_an_alert_that_fires_again_leaves_the_resolved_list() -> None:
    ledger = Ledger()
    ledger.observe(poll(100, groups(*FIRING)))
    ledger.observe(poll(101, groups(*FIRING[1:])))
    ledger.observe(poll(102, groups(*FIRING)))
    assert not ledger.resolved


def test_decorate_reuses_groups_while_nothing_changed() -> None:
    ledger = Ledger()
    ledger.observe(poll(100, groups(*FIRING)))
    ledger.observe(poll(101, groups(FIRING[0]), prometheus_error="down"))
    base = groups(FIRING[0])
    first = ledger.decorate(base)
    assert [a is b for a, b in zip(first, ledger.decorate(base), strict=True)] == [True] * 3


def test_the_window_comes_from_the_config() -> None:
    from oncall_tui.config import parse_settings

    raw = {
        "board": {"recently_resolved": "45m"},
        "contexts": {"a": {"alertmanagers": ["http://x"]}},
    }
    assert parse_settings(raw).board.recently_resolved_s == 45 * 60
    assert parse_settings({"contexts": raw["contexts"]}).board.recently_resolved_s == 30 * 60
