"""Pure logic of silences: durations, moments, form checks, preview, identity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dateutil import tz

from oncall_tui.domain.blast_index import BlastIndex
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.matcher_grammar import Grammar
from oncall_tui.domain.matchers import FilterError, LabelMatcher, parse_matcher
from oncall_tui.domain.silence_plan import (
    DEFAULT_PREVIEW_LIMIT,
    Editing,
    FormInput,
    Preview,
    ack_comment,
    acked_by,
    assess,
    check,
    default_author,
    edit_note,
    extended_end,
    find_same,
    maintenance_comment,
    maintenance_name,
    parse_matcher_set,
    prefill_for_alert,
    replacement,
)
from oncall_tui.domain.timespec import (
    TimeSpecError,
    describe_moment,
    parse_duration,
    parse_moment,
)
from oncall_tui.wire.alertmanager import Matcher, PostableSilence, Silence, SilenceStatus

NOW = datetime(2026, 11, 28, 20, 30, tzinfo=UTC)
BERLIN = tz.gettz("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("1w", 604800),
        ("1h30m", 5400),
        ("+2h", 7200),
        ("90s", 90),
        ("1y", 365 * 86400),
        ("1h30m15s", 5415),
        ("500ms", 0.5),
        ("0", 0),
    ],
)
def test_durations_amtool_accepts(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text", ["", "2", "h", "30m2h", "2hh", "1.5h", "-2h", "2 h", "2H", "99999y"]
)
def test_durations_amtool_refuses(text: str) -> None:
    with pytest.raises(TimeSpecError):
        parse_duration(text)


def test_moments_in_local_time_and_utc() -> None:
    # 20:30 UTC is 21:30 in Berlin in November.
    assert parse_moment("2h", NOW, zone=BERLIN) == NOW + timedelta(hours=2)
    assert parse_moment("+1h30m", NOW, zone=BERLIN) == NOW + timedelta(minutes=90)
    assert parse_moment("now", NOW, zone=BERLIN) == NOW
    assert parse_moment("tomorrow 06:00", NOW, zone=BERLIN) == datetime(
        2026, 11, 29, 5, 0, tzinfo=UTC
    )
    assert parse_moment("2026-12-01 22:00", NOW, zone=BERLIN) == datetime(
        2026, 12, 1, 21, 0, tzinfo=UTC
    )
    assert parse_moment("2026-12-01T22:00Z", NOW, zone=BERLIN) == datetime(
        2026, 12, 1, 22, 0, tzinfo=UTC
    )
    assert parse_moment("tonight 23:30", NOW, zone=BERLIN) == datetime(
        2026, 11, 28, 22, 30, tzinfo=UTC
    )


def test_a_bare_time_already_past_means_tomorrow() -> None:
    assert parse_moment("22:00", NOW, zone=BERLIN) == datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
    assert parse_moment("06:00", NOW, zone=BERLIN) == datetime(2026, 11, 29, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["", "tomorrow", "yesterday-ish", "25:99", "9999-99-99", "-2h", "-30m", "45"]
)
def test_unreadable_moments_say_why(text: str) -> None:
    with pytest.raises(TimeSpecError) as caught:
        parse_moment(text, NOW, zone=BERLIN)
    assert str(caught.value)
    assert check(form(end=text), NOW, BERLIN).problem("end")


def test_moment_described_in_both_zones() -> None:
    text = describe_moment(NOW + timedelta(hours=2), NOW, zone=BERLIN)
    assert text == "Sat 28 Nov 23:30 CET (22:30 UTC), in 2h"
    assert describe_moment(NOW, NOW, zone=tz.UTC).endswith("UTC, now")


def form(**changes: object) -> FormInput:
    base: dict[str, object] = dict(
        matchers=((True, 'service="churn-api"'), (False, 'severity="critical"'), (True, "team=ml")),
        end="2h",
        comment="deploy",
        created_by="alice",
    )
    base.update(changes)
    return FormInput(**base)  # type: ignore[arg-type]


def test_a_valid_form_makes_a_draft_with_only_the_enabled_matchers() -> None:
    checked = check(form(), NOW)
    assert checked.problems == () and checked.ok
    (draft,) = checked.drafts
    assert [str(m) for m in draft.matchers] == ['service="churn-api"', 'team="ml"']
    assert (draft.starts, draft.ends) == (NOW, NOW + timedelta(hours=2))
    postable = draft.postable()
    assert postable.created_by == "alice" and postable.id is None


def test_a_scheduled_start_counts_the_duration_from_it() -> None:
    (draft,) = check(form(start="+1h", end="2h"), NOW).drafts
    assert (draft.starts, draft.ends) == (NOW + timedelta(hours=1), NOW + timedelta(hours=3))


def test_every_problem_is_reported_by_field() -> None:
    checked = check(
        form(matchers=((True, 'service="x'),), end="soonish", comment=" ", created_by=""), NOW
    )
    assert checked.drafts == () and not checked.ok
    assert {p.field for p in checked.problems} == {"matcher:0", "end", "comment", "author"}
    assert "column" in checked.problem("matcher:0")


def test_matchers_that_match_everything_are_refused() -> None:
    assert check(form(matchers=((False, 'a="b"'),)), NOW).problem("matchers")
    assert "empty label" in check(form(matchers=((True, 'a=~".*"'),)), NOW).problem("matchers")


def test_an_end_in_the_past_or_before_the_start_is_refused() -> None:
    assert "past" in check(form(end="2020-01-01 00:00"), NOW).problem("end")
    assert "after the start" in check(
        form(start="+3h", end=(NOW + timedelta(hours=1)).isoformat()), NOW
    ).problem("end")


def test_default_author_is_never_empty() -> None:
    assert default_author("  bob ") == "bob"
    assert "@" in default_author(None) and default_author("") == default_author(None)


def test_extend_counts_from_the_later_of_now_and_the_end() -> None:
    hour = timedelta(hours=1)
    assert extended_end(NOW + hour, hour, NOW) == NOW + 2 * hour
    assert extended_end(NOW - hour, hour, NOW) == NOW + hour


def alert(cluster: str = "prod", **labels: str) -> BoardAlert:
    return BoardAlert(
        key=f"{cluster}/{labels}", cluster=cluster, fingerprint="f", name=labels.get("alertname", ""),
        severity="", state="active", labels=labels, annotations={}, started=None,
    )  # fmt: skip


def preview(
    matchers: list[LabelMatcher], alerts: list[BoardAlert], limit: int = DEFAULT_PREVIEW_LIMIT
) -> Preview:
    """The form's preview from the board's data: the index's hits, assessed."""
    return assess(BlastIndex(alerts).hits(matchers), limit=limit)


def test_preview_warns_when_nothing_or_too_much_or_several_teams() -> None:
    matchers = [parse_matcher('service="churn-api"')]
    assert preview(matchers, [alert(service="other")]).warnings == ("matches no alert right now",)
    alerts = [alert(service="churn-api", team="ml", n=str(i)) for i in range(3)]
    alerts.append(alert("staging", service="churn-api", team="platform"))
    shown = preview(matchers, alerts, limit=2)
    assert len(shown.alerts) == 4 and shown.over_limit
    assert shown.warnings == (
        "matches 4 alerts, more than 2",
        "reaches several teams: ml, platform",
        "reaches several Alertmanager clusters: prod, staging",
    )
    pending = alert("prometheus", service="churn-api")
    assert preview(matchers, [pending]).alerts == ()


def silence(state: str = "active", comment: str = "deploy", **over: object) -> Silence:
    fields = dict(
        id="s1", matchers=[Matcher("service", "churn-api")], starts_at=NOW, ends_at=NOW,
        created_by="alice", comment=comment, status=SilenceStatus(state),
    )  # fmt: skip
    fields.update(over)
    return Silence(**fields)  # type: ignore[arg-type]


def test_silences_of_the_same_time_keep_one_order_whatever_the_servers_order() -> None:
    """Alertmanager 0.25.0 lists silences of the same times in another order from one read
    to the next (three orders in 30 reads of three such silences, posted to the real
    server): the rows must not swap at a refresh, or the cursor, kept on its silence, jumps
    (test_views_keys's j/k test failed so, now and then)."""
    from oncall_tui.domain.silence_rows import build_rows

    later = NOW + timedelta(hours=1)
    same = [silence(id=f"s{n}", ends_at=later) for n in (2, 0, 1)]
    sooner = silence(id="s9", ends_at=NOW + timedelta(minutes=5))
    listed = [("b", same[0]), ("a", same[1]), ("a", same[2]), ("a", sooner)]
    orders = {
        tuple((r.cluster, r.silence.id) for r in build_rows(listing, []))
        for listing in (listed, listed[::-1], listed[1:] + listed[:1])
    }
    assert orders == {(("a", "s9"), ("a", "s0"), ("a", "s1"), ("b", "s2"))}


def test_an_identical_unexpired_silence_is_found_for_a_retry() -> None:
    wanted = PostableSilence([Matcher("service", "churn-api")], NOW, NOW, "alice", "deploy")
    assert find_same([silence()], wanted) is not None
    assert find_same([silence("pending")], wanted) is not None
    assert find_same([silence("expired")], wanted) is None
    assert find_same([silence(comment="other")], wanted) is None
    assert (
        find_same([silence(matchers=[Matcher("service", "churn-api", is_regex=True)])], wanted)
        is None
    )


def test_acks_and_maintenance_are_read_back_from_comments() -> None:
    assert acked_by(silence(comment=ack_comment("alice"))) == "alice"
    assert acked_by(silence()) is None
    assert (
        maintenance_name(silence(comment=maintenance_comment("db-upgrade", "tonight")))
        == "db-upgrade"
    )
    assert maintenance_name(silence(comment="[maintenance ] x")) is None


def test_matcher_sets_and_prefill() -> None:
    assert [str(m) for m in parse_matcher_set('service="churn-api", job=~"batch.*"')] == [
        'service="churn-api"',
        'job=~"batch.*"',
    ]
    with pytest.raises(FilterError):
        parse_matcher_set("churn-api")
    assert prefill_for_alert({"b": "2", "a": 'q"x'}) == [(True, 'a="q\\"x"'), (True, 'b="2"')]


def test_a_maintenance_makes_one_silence_per_matcher_set_with_a_shared_window() -> None:
    rows = (
        (True, 'service="churn-api"'),
        (True, '{job="churn-batch", env=~"prod|dr"}'),  # a matcher list, as a config reads one
        (False, "x=y"),
    )
    checked = check(
        form(matchers=rows, name="db-upgrade", start="22:00", end="02:00", comment="tonight"),
        NOW,
        BERLIN,
    )
    assert checked.ok, checked.problems
    assert [[str(m) for m in d.matchers] for d in checked.drafts] == [
        ['service="churn-api"'],
        ['job="churn-batch"', 'env=~"prod|dr"'],
    ]
    first = checked.drafts[0]
    assert all((d.starts, d.ends) == (first.starts, first.ends) for d in checked.drafts)
    assert first.ends - first.starts == timedelta(hours=4)  # 02:00 is the next one after 22:00
    assert maintenance_name(silence(comment=first.comment)) == "db-upgrade"


def test_an_end_time_of_day_is_the_next_one_after_the_start() -> None:
    one_am = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    (draft,) = check(form(start="22:00", end="02:00"), one_am, tz.UTC).drafts
    assert draft.starts == datetime(2026, 11, 28, 22, 0, tzinfo=UTC)
    assert draft.ends == datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    (later,) = check(form(start="tomorrow 22:00", end="02:00"), one_am, tz.UTC).drafts
    assert later.ends == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_a_maintenance_needs_a_name_and_sets() -> None:
    checked = check(form(matchers=((True, "plain words"),), name=" "), NOW)
    assert checked.problem("name") and checked.problem("matcher:0")
    assert check(form(matchers=(), name="x"), NOW).problem("matchers")


def editing(state: str = "active", **changes: object) -> Editing:
    """An edit of `service="churn-api", team="ml"` as the server holds it, to the millisecond."""
    began = NOW - timedelta(hours=1, seconds=10, microseconds=123000)
    base: dict[str, object] = dict(
        silence_id="b1318e83-0000",
        matchers=(Matcher("service", "churn-api"), Matcher("team", "ml")),
        starts=began,
        ends=NOW + timedelta(hours=1, seconds=50, microseconds=456000),
        state=state,
        start_text="",
        end_text="2026-11-28 21:31",
    )
    base.update(changes)
    return Editing(**base)  # type: ignore[arg-type]


def edit_form(kept: Editing, **changes: object) -> FormInput:
    rows = ((True, 'service="churn-api"'), (True, 'team="ml"'))
    fields: dict[str, object] = dict(matchers=rows, end=kept.end_text, start=kept.start_text)
    fields.update(changes)
    return form(editing=kept, **fields)


def test_an_edit_keeps_the_start_of_an_active_silence() -> None:
    kept = editing()
    (draft,) = check(edit_form(kept, end="2h"), NOW).drafts
    assert draft.starts == kept.starts and draft.ends == NOW + timedelta(hours=2)
    assert draft.postable().id == kept.silence_id


def test_a_comment_only_edit_sends_back_the_exact_start_and_end_and_keeps_the_id() -> None:
    """The form shows the end to the minute; left as shown, the server's own end is kept."""
    kept = editing()
    checked = check(edit_form(kept, comment="new words"), NOW)
    (draft,) = checked.drafts
    assert (draft.starts, draft.ends) == (kept.starts, kept.ends)
    assert replacement(kept, draft, NOW) == ""
    assert edit_note(kept, checked, NOW) == ("saves in place: silence b1318e83 keeps its ID", False)


@pytest.mark.parametrize(
    ("kept", "changes", "why"),
    [
        (editing(), {"matchers": ((True, 'service="churn-api"'), (True, 'team="ops"'))},
         "the matchers change"),
        # Alertmanager compares the matcher list in order: reordering is a change too.
        (editing(), {"matchers": ((True, 'team="ml"'), (True, 'service="churn-api"'))},
         "the matchers change"),
        (editing(), {"start": "+30m"}, "the start of a running silence changes"),
        (editing("pending", starts=NOW + timedelta(hours=1), start_text="2026-11-28 21:30"),
         {"start": ""}, "its start moves to now"),
        (editing("expired", ends=NOW - timedelta(minutes=5)), {"end": "2h"}, "it has expired"),
    ],
    ids=["other-matcher", "reordered", "start", "pending-now", "expired"],
)  # fmt: skip
def test_a_change_alertmanager_cannot_apply_in_place_is_said_before_saving(
    kept: Editing, changes: dict[str, object], why: str
) -> None:
    checked = check(edit_form(kept, **changes), NOW)
    assert checked.ok, checked.problems
    assert replacement(kept, checked.drafts[0], NOW) == why
    text, new = edit_note(kept, checked, NOW)
    assert new and "new silence" in text and "b1318e83" in text


def test_an_unchanged_pending_silence_keeps_its_exact_start() -> None:
    kept = editing("pending", starts=NOW + timedelta(hours=1, microseconds=5000),
                   start_text="2026-11-28 21:30", ends=NOW + timedelta(hours=3))  # fmt: skip
    (draft,) = check(edit_form(kept), NOW).drafts
    assert draft.starts == kept.starts and replacement(kept, draft, NOW) == ""


def test_rows_are_read_with_the_grammar_of_the_servers_written_to() -> None:
    """0.25's classic parser refuses a quoted name; 0.27+'s fallback reads it (and still reads
    every classic row the classic way: an unquoted `\\n` is a newline in both)."""
    rows = ((True, '"team"="ml"'), (True, "note=a\\nb"))
    classic = check(form(matchers=rows), NOW, grammar=Grammar.CLASSIC)
    assert classic.problem("matcher:0").startswith("column 1: bad matcher format")
    (draft,) = check(form(matchers=rows), NOW, grammar=Grammar.FALLBACK).drafts
    assert [(m.name, m.value) for m in draft.matchers] == [("team", "ml"), ("note", "a\nb")]
    sets = form(matchers=((True, '{"service.name"="x", team=ml}'),), name="upgrade")
    assert check(sets, NOW, grammar=Grammar.CLASSIC).problem("matcher:0")
    (one,) = check(sets, NOW, grammar=Grammar.FALLBACK).drafts
    assert [m.name for m in one.matchers] == ["service.name", "team"]


@pytest.mark.parametrize(
    ("start", "end", "relative"),
    [
        ("", "2h", (True, True)),
        ("now", "+30m", (True, True)),
        ("", "2026-11-29 03:30", (True, False)),  # an instant the user named
        ("", "23:30", (True, False)),
        ("2026-11-29 01:00", "2h", (False, False)),  # two hours of scheduled work
        ("2026-11-29 01:00", "+6h", (False, True)),
        ("2026-11-28 19:00", "2h", (True, True)),  # a start already past is now
    ],
)
def test_times_typed_relative_to_now_follow_each_clusters_clock(
    start: str, end: str, relative: tuple[bool, bool]
) -> None:
    (draft,) = check(form(start=start, end=end), NOW, UTC, offset_s=120.0).drafts
    assert draft.relative == relative
    moved = draft.on_clock(-60.0)  # a cluster three minutes behind the one `now` came from
    shift = timedelta(minutes=-3)
    assert moved.starts == draft.starts + shift * relative[0]
    assert moved.ends == draft.ends + shift * relative[1]
    assert draft.on_clock(None) == draft  # a cluster whose clock is not known yet
