"""Pure logic: HA merge, sanitising, durations, board rows, decoding at scale."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest
from blake3 import blake3

from bench.alerts_json import alert_groups_body
from oncall_tui.api import decoding
from oncall_tui.api.decoding import decode
from oncall_tui.domain.board import BoardAlert, BoardGroup, BoardModel, GroupBuilder
from oncall_tui.domain.matchers import parse_filter
from oncall_tui.domain.merge import GroupMerger, merge_alerts, merge_groups, unique_alerts
from oncall_tui.domain.per_group import KeyCensus, PerGroup, merged, union
from oncall_tui.domain.sanitize import clean, one_line
from oncall_tui.domain.timefmt import short_duration
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Alert, AlertGroup, AlertStatus, Matcher, Receiver
from oncall_tui.wire.prometheus import RuleAlert, sample_value

T0 = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)


def alert(fp: str, name: str = "HighErrorRate", updated: int = 0, **status: object) -> Alert:
    return Alert(
        fingerprint=fp,
        labels={"alertname": name, "severity": "critical", "service": "churn-api"},
        starts_at=T0,
        updated_at=T0 + timedelta(seconds=updated),
        status=AlertStatus(**status),  # type: ignore[arg-type]
    )


def one_alert_groups(count: int) -> list[AlertGroup]:
    """`count` groups, labelled g=0, g=1..., of one alert each, fingerprinted the same."""
    return [
        AlertGroup(labels={"g": str(n)}, receiver=Receiver("r"), alerts=(alert(str(n)),))
        for n in range(count)
    ]


def test_merge_alerts_dedupes_by_fingerprint_and_records_peers() -> None:
    merged = merge_alerts("eu", {"a": [alert("1"), alert("2")], "b": [alert("2"), alert("3")]})
    assert [m.fingerprint for m in merged] == ["1", "2", "3"]
    assert [m.peers for m in merged] == [("a",), ("a", "b"), ("b",)]
    assert {m.cluster for m in merged} == {"eu"}


def test_merge_keeps_the_freshest_copy() -> None:
    old = alert("1", updated=0, state="active")
    new = alert("1", updated=5, state="suppressed", silenced_by=["s1"])
    for order in ([old, new], [new, old]):
        merged = merge_alerts("c", {"a": [order[0]], "b": [order[1]]})
        assert merged[0].alert.state == "silenced"


def test_merge_keeps_the_freshest_copy_across_offsets_and_missing_times() -> None:
    """Times are compared as instants: 10:00+02:00 is before 09:00Z. A copy with no
    updatedAt loses to one with it; a naive time next to an aware one is compared by their
    wall-clock readings."""
    early = msgspec.structs.replace(
        alert("1", state="active"),
        updated_at=datetime(2026, 12, 2, 10, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    late = msgspec.structs.replace(
        alert("1", state="suppressed", silenced_by=["s1"]),
        updated_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
    )
    unknown = msgspec.structs.replace(alert("1", state="active"), updated_at=None)
    naive_later = msgspec.structs.replace(
        alert("1", state="suppressed", silenced_by=["s2"]), updated_at=datetime(2026, 12, 2, 11)
    )
    for first, second, wins in (
        (early, late, "s1"),
        (late, early, "s1"),
        (unknown, late, "s1"),
        (late, unknown, "s1"),
        (late, naive_later, "s2"),
        (naive_later, late, "s2"),
    ):
        merged = merge_alerts("c", {"a": [first], "b": [second]})
        assert tuple(merged[0].alert.status.silenced_by) == (wins,), (first, second)


def test_merge_groups_and_unique_alerts_across_receivers() -> None:
    pd = AlertGroup(labels={"alertname": "X"}, receiver=Receiver("pagerduty"), alerts=(alert("1"),))
    ops = AlertGroup(labels={"alertname": "X"}, receiver=Receiver("ops"), alerts=(alert("1"),))
    groups = merge_groups("c", {"a": [pd, ops], "b": [pd]})
    assert sorted(g.receiver for g in groups) == ["ops", "pagerduty"]
    pager = next(g for g in groups if g.receiver == "pagerduty")
    assert pager.alerts[0].peers == ("a", "b")
    assert [a.fingerprint for a in unique_alerts(groups)] == ["1"]


def test_alert_state_names() -> None:
    assert alert("1", state="active").state == "active"
    assert alert("1", state="suppressed", silenced_by=["s"]).state == "silenced"
    assert alert("1", state="suppressed", inhibited_by=["f"]).state == "inhibited"


def test_matcher_renders_in_amtool_syntax() -> None:
    assert str(Matcher("severity", "critical")) == 'severity="critical"'
    assert (
        str(Matcher("alertname", "High.*", is_regex=True, is_equal=False)) == 'alertname!~"High.*"'
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("esc\x1b[31mred", "esc\ufffd[31mred"),
        ("osc\x1b]52;c;ZXZpbA==\x07", "osc\ufffd]52;c;ZXZpbA==\ufffd"),
        ("c1\x9b31m", "c1\ufffd31m"),
        ("bs\x08cr\r", "bs\ufffdcr\ufffd"),
        ("bidi\u202eevil", "bidi\ufffdevil"),
    ],
)
def test_clean_replaces_every_control(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_one_line_flattens_and_truncates() -> None:
    assert one_line("a\nb\tc\r\nd") == "a b c d"
    assert one_line("x" * 50, limit=10) == "x" * 9 + "\u2026"
    assert clean("keep\nnewlines\tand tabs") == "keep\nnewlines\tand tabs"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (59, "59s"),
        (60, "1m"),
        (720, "12m"),
        (3600, "1h"),
        (3900, "1h05m"),
        (86400, "1d"),
        (90000, "1d01h"),
        (3 * 86400, "3d"),
        (10 * 86400 + 3600, "10d"),
        (-1, "-"),
        (math.nan, "-"),
    ],
)
def test_short_duration(seconds: float, text: str) -> None:
    assert short_duration(seconds) == text


def test_sample_values_handle_nan_and_inf() -> None:
    assert sample_value("1.5") == 1.5
    assert math.isnan(sample_value("NaN"))
    assert sample_value("+Inf") == math.inf
    assert sample_value("-Inf") == -math.inf
    assert math.isnan(sample_value("garbage"))


def test_board_sorts_groups_and_alerts_and_groups_pending_by_name() -> None:
    warning = Alert(
        fingerprint="w", labels={"alertname": "Slow", "severity": "warning"}, starts_at=T0
    )
    old_crit = Alert(
        fingerprint="o",
        labels={"alertname": "Down", "severity": "critical"},
        starts_at=T0 - timedelta(hours=1),
    )
    new_crit = Alert(
        fingerprint="n",
        labels={"alertname": "Err", "severity": "critical", "pod": "a"},
        starts_at=T0,
    )
    group = AlertGroup(
        labels={"team": "ops"}, receiver=Receiver("r"), alerts=(warning, new_crit, old_crit)
    )
    pending = RuleAlert(
        labels={"alertname": "Later", "severity": "info"}, state="pending", active_at=T0
    )
    model = BoardModel()
    model.set_groups(GroupBuilder().build(merge_groups("c", {"a": [group]}), [pending]))
    lines = model.lines()
    assert [line.alert.name if line.alert else "group" for line in lines] == [
        "group",
        "Down",
        "Err",
        "Slow",
        "Later",
    ]
    assert lines[0].group.varying == ("pod",)
    # The pending group holds one alert: one line stands for group and alert.
    assert lines[-1].is_single and lines[-1].alert is not None
    assert lines[-1].alert.state == "pending" and lines[-1].group.cluster == "prometheus"
    model.sort = "age"
    model.invalidate()
    assert [line.alert.name for line in model.lines() if line.alert][:3] == ["Err", "Slow", "Down"]


def test_a_board_alert_carries_its_sort_fields_however_it_is_made() -> None:
    """The sorts read stored fields (no key function per alert); they follow the alert."""
    started = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    made = BoardAlert(
        key="c/1", cluster="c", fingerprint="1", name="A", severity="Critical", state="active",
        labels={}, annotations={}, started=started,
    )  # fmt: skip
    assert (made.severity_rank, made.started_ts) == (0, started.timestamp())
    changed = msgspec.structs.replace(made, severity="info", started=None)
    assert (changed.severity_rank, changed.started_ts) == (3, math.inf)
    assert msgspec.structs.replace(made, severity="sev9").severity_rank == 4  # after info


def test_a_board_group_carries_its_keys_and_default_order_however_it_is_made() -> None:
    """The board and the ledger read a group's keys and severity order from the group (made
    off the event loop), not from its alerts at each poll."""
    made = [
        BoardAlert(
            key=f"c/{n}", cluster="c", fingerprint=str(n), name="A", severity=sev,
            state=state, labels={}, annotations={}, started=T0 + timedelta(minutes=n),
        )
        for n, (sev, state) in enumerate(
            [("info", "active"), ("critical", "resolved"), ("critical", "active")]
        )
    ]  # fmt: skip
    group = BoardGroup("g", "c", "r", (), tuple(made))
    assert group.keys == ("c/0", "c/1", "c/2") and group.live == ("c/0", "c/2")
    assert [a.key for a in group.by_severity] == ["c/1", "c/2", "c/0"]
    model = BoardModel()
    model.set_groups([group])
    assert [line.alert.key for line in model.lines() if line.alert] == ["c/1", "c/2", "c/0"]
    assert (model.total, model.matched) == (2, 2)


def test_a_groups_varying_labels_and_shared_text_are_those_its_alerts_show() -> None:
    """What tells a group's alerts apart: a label whose value differs, or that some alerts
    lack; never a label of the group's own, alertname or severity. Against the plain
    comparison of every label of every alert, on random groups."""
    import random

    from oncall_tui.domain.board import make_group
    from oncall_tui.domain.matchers import search_text

    rng = random.Random(18)
    names = ["alertname", "severity", "pod", "node", "team", "zone"]
    for _ in range(300):
        alerts = []
        for n in range(rng.randint(0, 5)):
            labels = {k: rng.choice("ab") for k in names if rng.random() < 0.7}
            alerts.append(
                BoardAlert(
                    key=f"c/{n}", cluster="c", fingerprint=str(n), name="", severity="",
                    state="active", labels=labels, annotations={}, started=T0,
                )
            )  # fmt: skip
        grouped = (("team", "a"),) if rng.random() < 0.5 else ()
        group = make_group("c", "r", grouped, alerts)
        skip = {"alertname", "severity", *(k for k, _ in grouped)}
        differ = {
            k
            for a in alerts
            for k in {*a.labels, *alerts[0].labels} - skip
            if a.labels.get(k) != alerts[0].labels.get(k)
        }
        assert group.varying == tuple(sorted(differ)), alerts
        everywhere = {
            k: v
            for k, v in (alerts[0].labels.items() if alerts else ())
            if all(a.labels.get(k) == v for a in alerts)
        }
        assert sorted(group.shared_text.split("\0")) == sorted(search_text(everywhere).split("\0"))


def test_a_board_alert_holds_what_alertmanager_said_of_the_alert() -> None:
    """Each field from its own source (board_alert fills them in order, not by name)."""
    from oncall_tui.domain.board import board_alert
    from oncall_tui.domain.merge import MergedAlert

    wire = Alert(
        fingerprint="f1",
        labels={"alertname": "Down", "severity": "critical"},
        annotations={"summary": "s"},
        starts_at=T0,
        ends_at=T0 + timedelta(hours=1),
        generator_url="http://prom/graph",
        receivers=(Receiver("pager"), Receiver("slack")),
        status=AlertStatus(
            state="suppressed", silenced_by=("s1",), inhibited_by=("i1",), muted_by=("m1",)
        ),
    )
    made = board_alert(MergedAlert(cluster="prod", alert=wire, peers=("p",)))
    assert (made.key, made.cluster, made.fingerprint) == ("prod/f1", "prod", "f1")
    assert (made.name, made.severity, made.state) == ("Down", "critical", "silenced")
    assert made.labels is wire.labels and made.annotations is wire.annotations
    assert (made.started, made.ends) == (T0, T0 + timedelta(hours=1))
    assert made.receivers == ("pager", "slack")
    assert (made.silenced_by, made.inhibited_by, made.muted_by) == (("s1",), ("i1",), ("m1",))
    assert made.generator_url == "http://prom/graph" and made.severity_rank == 0


def test_board_filter_toggles_folding_and_new_alerts() -> None:
    first = AlertGroup(labels={}, receiver=Receiver("r"), alerts=(alert("1", "A"), alert("2", "B")))
    builder = GroupBuilder()
    model = BoardModel()
    model.set_groups(builder.build(merge_groups("c", {"p": [first]})))
    assert model.new_keys == frozenset(), "nothing is new on the first load"
    model.filter = parse_filter('alertname="B"')
    model.invalidate()
    assert [line.alert.name for line in model.lines() if line.alert] == ["B"]
    assert (model.matched, model.total) == (1, 2)
    model.filter = None
    model.toggle(model.lines()[0].group.key)
    assert len(model.lines()) == 1, "a folded group shows its header only"
    second = AlertGroup(
        labels={},
        receiver=Receiver("r"),
        alerts=(alert("1", "A"), alert("2", "B"), alert("3", "C")),
    )
    model.set_groups(builder.build(merge_groups("c", {"p": [second]})))
    assert model.new_keys == frozenset({"c/3"})


def test_group_builder_reuses_unchanged_groups() -> None:
    group = AlertGroup(labels={}, receiver=Receiver("r"), alerts=(alert("1"),))
    merger = GroupMerger("c")
    builder = GroupBuilder()
    first = builder.build(merger.merge({"p": [group]}))
    again = builder.build(merger.merge({"p": [group]}))
    assert first[0] is again[0]


def test_a_group_the_board_would_show_the_same_is_the_very_object_again() -> None:
    """The second peer's copies (and a fresher updatedAt) change the merged group but
    nothing the board shows: the builder hands back last board's group, so everything after
    it sees no change. A change it shows (a silence) makes a new group."""
    one = AlertGroup(labels={"g": "1"}, receiver=Receiver("r"), alerts=(alert("1"),))
    two = AlertGroup(labels={"g": "1"}, receiver=Receiver("r"), alerts=(alert("1", updated=5),))
    merger, builder = GroupMerger("c"), GroupBuilder()
    first_look = builder.build(merger.merge({"a": [one]}))
    both = merger.merge({"a": [one], "b": [two]})
    assert both[0].alerts[0].peers == ("a", "b")
    assert builder.prepare(both) == 1
    assert builder.build(both)[0] is first_look[0]
    silenced = AlertGroup(
        labels={"g": "1"},
        receiver=Receiver("r"),
        alerts=(alert("1", updated=9, state="suppressed", silenced_by=("s1",)),),
    )
    after = builder.build(merger.merge({"a": [one], "b": [silenced]}))
    assert after[0] is not first_look[0] and after[0].alerts[0].state == "silenced"


def test_groups_prepared_ahead_are_the_groups_build_makes() -> None:
    """`prepare` builds ahead (in a worker thread, state/alert_store.py) what `build` would
    build anew; `build` then takes those, and the board is what building at once gives."""
    groups = one_alert_groups(5)
    merged = GroupMerger("c").merge({"p": groups})
    builder = GroupBuilder()
    assert builder.prepare(merged) == 5
    prepared = builder.build(merged)
    assert prepared == GroupBuilder().build(merged)
    assert builder.prepare(merged) == 0, "nothing is left to build once built"
    assert all(x is y for x, y in zip(builder.build(merged), prepared, strict=True))


def test_per_group_reads_only_the_groups_a_poll_changed() -> None:
    """Readers of the board (its keys, the incidents, the new-alert watch...) read a group
    again only when the poll made it a new object; a group gone is forgotten."""
    groups = one_alert_groups(4)
    merger, builder = GroupMerger("c"), GroupBuilder()
    board = builder.build(merger.merge({"p": groups}))
    read: list[str] = []

    def keys(group: BoardGroup) -> frozenset[str]:
        read.append(group.key)
        return frozenset(a.key for a in group.alerts)

    per_group = PerGroup(keys)
    assert union(per_group(board)) == {a.key for g in board for a in g.alerts}
    assert len(read) == 4
    changed = AlertGroup(labels={"g": "1"}, receiver=Receiver("r"), alerts=(alert("9"),))
    after = builder.build(merger.merge({"p": [groups[0], changed, groups[2]]}))
    read.clear()
    found = union(per_group(after))
    assert read == [after[1].key], "only the changed group is read again"
    assert found == {a.key for g in after for a in g.alerts}
    assert merged([{"a": 1}, {"b": 2}, {"a": 3}]) == {"a": 3, "b": 2}


def test_key_census_follows_the_changed_groups_and_counts_a_key_in_two_once() -> None:
    """The board's and the ledger's key sets are kept up to date by the changed groups;
    what came and went, the count and the overlap are those of the whole list read anew."""
    groups = one_alert_groups(4)
    merger, builder = GroupMerger("c"), GroupBuilder()
    board = builder.build(merger.merge({"p": groups}))
    read: list[str] = []

    def keys(group: BoardGroup) -> tuple[str, ...]:
        read.append(group.key)
        return group.keys

    census = KeyCensus(keys)
    came, went = census.update(board)
    assert sorted(came) == sorted(k for g in board for k in g.keys) and went == []
    assert len(census) == 4 and census.unique and "c/1" in census
    # Group 1 now holds alert 9 and alert 2 (also in group 2); group 3 is gone.
    changed = AlertGroup(labels={"g": "1"}, receiver=Receiver("r"), alerts=(alert("9"), alert("2")))
    after = builder.build(merger.merge({"p": [groups[0], changed, groups[2]]}))
    read.clear()
    came, went = census.update(after)
    assert read == [after[1].key], "only the changed group is read"
    assert (came, sorted(went)) == (["c/9"], ["c/1", "c/3"])
    assert set(census.counts) == {k for g in after for k in g.keys} == {"c/0", "c/2", "c/9"}
    assert not census.unique and census.counts["c/2"] == 2
    assert census.update(after) == ([], [])  # the same list: nothing read, nothing moved
    assert read == [after[1].key]
    assert census.update([after[0]]) == ([], ["c/9", "c/2"]) and census.unique


def test_key_census_matches_a_recount_under_every_kind_of_change() -> None:
    """A poll that changed only an annotation hands back new group objects with the same
    keys, which the census takes over without counting their keys out and in again (at
    50,000 alerts, 9,000 keys each way were most of its time). What it holds and says came
    and went must still be those of a recount of the whole list, under random changes of
    every kind: same keys, other keys, groups gone, groups new, a key in two groups, two
    groups of one group key."""
    import random
    from collections import Counter

    from oncall_tui.domain.board import make_group

    def board_alert(key: str, summary: str) -> BoardAlert:
        return BoardAlert(
            key, "c", key, "A", "warning", "active", {"k": key}, {"summary": summary}, T0
        )

    def group(name: str, keys: list[str], summary: str = "") -> BoardGroup:
        return make_group("c", "r", (("g", name),), [board_alert(k, summary) for k in keys])

    rng = random.Random(7)
    board = [group(str(n), [f"a{n}-{i}" for i in range(3)]) for n in range(20)]
    census = KeyCensus(lambda g: g.keys)
    census.update(board)
    for round_ in range(200):
        before = set(census.counts)
        board = list(board)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(board))
            old = board[i]
            change = rng.choice(["summary", "keys", "drop", "add", "share", "twin"])
            if change == "summary":  # a new object, the same keys
                board[i] = group(old.labels[0][1], list(old.keys), f"r{round_}")
            elif change == "keys":
                board[i] = group(old.labels[0][1], [*old.keys[:1], f"n{round_}-{i}"])
            elif change == "drop" and len(board) > 2:
                del board[i]
            elif change == "add":
                board.append(group(f"x{round_}", [f"x{round_}-{j}" for j in range(2)]))
            elif change == "share":  # a key that another group holds too
                board[i] = group(old.labels[0][1], [*old.keys, rng.choice(board).keys[0]])
            elif change == "twin":  # a second group of the same group key
                board.append(group(old.labels[0][1], list(old.keys), "twin"))
        came, went = census.update(board)
        recount = Counter(k for g in {id(g): g for g in board}.values() for k in g.keys)
        assert census.counts == dict(recount), round_
        assert set(came) == set(recount) - before and len(came) == len(set(came))
        assert set(went) == before - set(recount) and len(went) == len(set(went))
        assert census.unique == (sum(recount.values()) == len(recount))
    # The same keys under a new object: read, and nothing moves.
    again = [group(g.labels[0][1], list(g.keys), "again") for g in board]
    assert census.update(again) == ([], [])


def test_group_merger_redoes_only_what_changed_and_keeps_a_peer_that_left() -> None:
    one = AlertGroup(labels={"g": "1"}, receiver=Receiver("r"), alerts=(alert("1"),))
    two = AlertGroup(labels={"g": "2"}, receiver=Receiver("r"), alerts=(alert("2"),))
    merger = GroupMerger("c")
    first = merger.merge({"a": [one, two], "b": [one]})
    quiet = merger.merge({"a": [one, two], "b": [one]})
    assert quiet == first and all(x is y for x, y in zip(quiet, first, strict=True))
    assert first[0].alerts[0].peers == ("a", "b")
    changed = AlertGroup(labels={"g": "2"}, receiver=Receiver("r"), alerts=(alert("3"),))
    after = merger.merge({"a": [one, changed], "b": [one]})
    assert after[0] is first[0] and [a.fingerprint for a in after[1].alerts] == ["3"]
    # Peer b gone: the same groups from a are merged again without it, not taken as quiet.
    alone = merger.merge({"a": [one, changed]})
    assert alone[0].alerts[0].peers == ("a",)


def test_ten_thousand_alerts_decode_into_models() -> None:
    body = alert_groups_body(10_000)
    groups = decode("http://am", body, list[AlertGroup])
    alerts = [a for g in groups for a in g.alerts]
    assert len(alerts) == 10_000
    assert alerts[7].state == "silenced" and alerts[1].state == "active"
    assert alerts[0].starts_at == T0
    assert alerts[0].generator_url.startswith("http://prometheus:9090/graph")


@pytest.mark.parametrize("body", [b"<html>502</html>", b'[{"labels": 3}]', b'{"truncated": [', b""])
def test_garbage_body_is_a_typed_error(body: bytes) -> None:
    with pytest.raises(errors.BadResponse):
        decode("http://am", body, list[AlertGroup])


def test_models_are_frozen() -> None:
    with pytest.raises(AttributeError):
        alert("1").fingerprint = "2"  # type: ignore[misc]
    assert msgspec.structs.replace(alert("1"), fingerprint="2").fingerprint == "2"


async def test_group_decoder_reuses_unchanged_groups() -> None:
    from oncall_tui.api.decoding import GroupDecoder

    body = alert_groups_body(1_000)
    decoder = GroupDecoder()
    first = await decoder.decode("http://am", body)
    assert (decoder.decoded, decoder.reused) == (50, 0)
    again = await decoder.decode("http://am", body)
    assert (decoder.decoded, decoder.reused) == (0, 50)
    assert all(a is b for a, b in zip(first, again, strict=True))
    again.clear()  # the caller's own list: the decoder's memory of the last body is intact
    assert len(await decoder.decode("http://am", body)) == 50
    # The first body was decoded whole and its groups digested at the next poll: a body
    # that differs decodes only the group that changed.
    changed = body.replace(b'replica 7"', b'replica 7 (changed)"', 1)
    third = await decoder.decode("http://am", changed)
    assert (decoder.decoded, decoder.reused) == (1, 49)
    assert third[0].alerts[7].annotations["summary"].endswith("(changed)")
    assert all(a is b for a, b in zip(first[1:], third[1:], strict=True))
    # Changed at once after the first body: digested then, in the same turn.
    fresh = GroupDecoder()
    kept = await fresh.decode("http://am", body)
    again = await fresh.decode("http://am", changed)
    assert (fresh.decoded, fresh.reused) == (1, 49)
    assert all(a is b for a, b in zip(kept[1:], again[1:], strict=True))
    with pytest.raises(errors.BadResponse):
        await decoder.decode("http://am", b'[{"labels": {}, "receiver": 1}]')


async def test_twin_peers_share_equal_label_and_annotation_dicts() -> None:
    """Two peers of a cluster decode the same alerts: the second keeps the first's equal
    dicts (memory), its own where they differ, and every other field as it sent them."""
    from oncall_tui.api.decoding import GroupDecoder

    body = alert_groups_body(1_000)
    other = body.replace(b'replica 7"', b'replica 7 (other)"', 1)
    first, second = GroupDecoder(), GroupDecoder()
    first.twins, second.twins = [second], [first]
    mine = await first.decode("http://a", body)
    theirs = await second.decode("http://b", other)
    pairs = [
        (a, b)
        for g, h in zip(mine, theirs, strict=True)
        for a, b in zip(g.alerts, h.alerts, strict=True)
    ]
    assert len(pairs) == 1_000 and all(a.fingerprint == b.fingerprint for a, b in pairs)
    assert all(a.labels is b.labels for a, b in pairs)
    differs = theirs[0].alerts[7]
    assert differs.annotations["summary"].endswith("(other)")
    assert differs.annotations is not mine[0].alerts[7].annotations
    assert sum(a.annotations is b.annotations for a, b in pairs) == 999
    assert all(b.updated_at == a.updated_at and b.status == a.status for a, b in pairs)
    # A changed group is decoded and shared the same way; unchanged ones stay as they were.
    changed = other.replace(b'replica 3"', b'replica 3 (new)"', 1)
    again = await second.decode("http://b", changed)
    assert (second.decoded, second.reused) == (1, 49)
    assert again[0].alerts[3].labels is mine[0].alerts[3].labels
    assert all(x is y for x, y in zip(again[1:], theirs[1:], strict=True))


async def test_group_decoder_tells_a_body_by_its_bytes_however_it_arrived_in_pieces() -> None:
    from oncall_tui.api.decoding import GroupDecoder, split_unless_same

    body = alert_groups_body(1_000)
    decoder = GroupDecoder()
    first = await decoder.decode("http://am", body)
    # The same bytes cut elsewhere (as a socket hands them over): nothing decoded again.
    pieces = [body[i : i + 7_000] for i in range(0, len(body), 7_000)]
    again = await decoder.decode("http://am", pieces)
    assert (decoder.decoded, decoder.reused) == (0, 50)
    assert all(a is b for a, b in zip(first, again, strict=True))
    # One byte changed in one piece: that group is decoded, the others kept.
    at = body.index(b'replica 7"')
    changed = body[:at] + b'replica 8"' + body[at + len(b'replica 7"') :]
    cut = [changed[: at + 3], changed[at + 3 :]]
    third = await decoder.decode("http://am", cut)
    assert (decoder.decoded, decoder.reused) == (1, 49)
    assert third[0].alerts[7].annotations["summary"].endswith("replica 8")
    # The body is joined and split only when it differs from the last one.
    whole, keyed = split_unless_same("http://am", cut, b"")
    groups = msgspec.json.decode(changed, type=list[msgspec.Raw])
    assert keyed is not None and [bytes(raw) for _, raw in keyed] == [bytes(g) for g in groups]
    assert len(keyed) == 50 and len({key for key, _ in keyed}) == 50
    # Hashed in pieces (so that the worker thread keeps the GIL), the digests are the
    # plain ones of the bytes: BLAKE3 of the body, SHA-256 of each group.
    assert whole == blake3(changed).digest() == decoding.body_digest([changed])
    assert [key for key, _ in keyed] == [hashlib.sha256(bytes(g)).digest() for g in groups]
    assert split_unless_same("http://am", cut, whole) == (whole, None)
    with pytest.raises(errors.BadResponse):
        split_unless_same("http://am", [b'[{"labels": ', b"1}"], b"")


def test_one_line_marks_a_cut_even_when_newlines_shrank_it() -> None:
    text = "a\r\n" * 10 + "b" * 1_000_000
    shown = one_line(text, limit=20)
    assert shown.endswith("\u2026") and len(shown) == 20
    assert one_line("short\r\ntext", limit=20) == "short text"


def test_clean_lines_is_bounded_and_clean() -> None:
    from oncall_tui.domain.sanitize import clean_lines

    lines = clean_lines("x\x1b[2J\n" * 40_000, max_lines=3)
    assert lines == ["x\ufffd[2J"] * 3 + ["\u2026 39997 more lines not shown"]
    assert clean_lines("one\ntwo") == ["one", "two"]
