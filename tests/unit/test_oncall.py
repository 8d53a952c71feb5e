"""Who is on call: rotation math (handoffs exactly, DST, layers), escalation chains, config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from oncall_tui.config import ConfigError, load_settings
from oncall_tui.domain.oncall import (
    Book,
    Layer,
    Policy,
    Rule,
    Schedule,
    Target,
    chain,
    next_step,
    on_call,
    on_call_at,
    turn_at,
)
from tests.helpers import instant as at
from tests.helpers import oncall_config

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
WEEK = timedelta(weeks=1)
DAY = timedelta(days=1)


def one_layer(zone: ZoneInfo, start: str, length: timedelta, *users: str) -> Schedule:
    return Schedule("s", zone, (Layer(users, at(start), length),))


# The course's "ML Team Primary": weekly from 2023-12-01 00:00 New York time.
PRIMARY = one_layer(NY, "2023-12-01T00:00:00-05:00", WEEK, "alice", "bob", "charlie")


@pytest.mark.parametrize(
    ("instant", "who"),
    [
        ("2023-12-01T00:00:00-05:00", "alice"),  # the virtual start itself
        ("2023-12-07T23:59:59-05:00", "alice"),  # a second before the handoff
        ("2023-12-08T00:00:00-05:00", "bob"),  # the handoff instant belongs to the next
        ("2023-12-08T05:00:00+00:00", "bob"),  # the same instant, given in UTC
        ("2023-12-15T00:00:00-05:00", "charlie"),
        ("2023-12-22T00:00:00-05:00", "alice"),  # the cycle wraps
        ("2023-11-30T23:59:59-05:00", "charlie"),  # before the virtual start: counted back
    ],
)
def test_weekly_rotation_hands_over_exactly_at_the_boundary(instant: str, who: str) -> None:
    assert on_call_at(PRIMARY, at(instant)) == who


@pytest.mark.parametrize(
    ("schedule", "instant", "who", "until", "then"),
    [
        # New York springs forward on 2024-03-10: the 09:00 handoff stays at 09:00 (now EDT),
        # 23 hours after the one before, not 24.
        (
            one_layer(NY, "2024-03-08T09:00:00-05:00", DAY, "ann", "ben"),
            "2024-03-09T10:00:00-05:00",
            "ben",
            "2024-03-10T09:00:00-04:00",
            "ann",
        ),
        # Berlin falls back on 2024-10-27: a weekly Monday 09:00 handoff is 09:00 CET.
        (
            one_layer(BERLIN, "2024-10-21T09:00:00+02:00", WEEK, "jan", "eva"),
            "2024-10-28T07:30:00+00:00",  # 08:30 CET: still jan, although 7 x 24 h have passed
            "jan",
            "2024-10-28T09:00:00+01:00",
            "eva",
        ),
        # New York falls back on 2024-11-03: 25 hours between two 09:00 handoffs.
        (
            one_layer(NY, "2024-11-01T09:00:00-04:00", DAY, "ann", "ben"),
            "2024-11-02T09:00:00-04:00",
            "ben",
            "2024-11-03T09:00:00-05:00",
            "ann",
        ),
        # Berlin springs forward on 2024-03-31 at 02:00: a 02:30 handoff that night does not
        # exist on the wall clock and happens at the offset before the change (03:30 CEST).
        (
            one_layer(BERLIN, "2024-03-29T02:30:00+01:00", DAY, "jan", "eva"),
            "2024-03-30T12:00:00+01:00",
            "eva",
            "2024-03-31T03:30:00+02:00",
            "jan",
        ),
    ],
)
def test_handoffs_keep_local_time_across_dst(
    schedule: Schedule, instant: str, who: str, until: str, then: str
) -> None:
    now = on_call(schedule, at(instant))
    assert (now.user, now.until, now.next_user) == (who, at(until), then)
    assert on_call_at(schedule, at(until) - timedelta(seconds=1)) == who
    assert on_call_at(schedule, at(until)) == then


def test_hourly_turns_never_go_backwards_through_the_repeated_hour() -> None:
    layer = Layer(("a", "b", "c"), at("2024-10-26T00:00:00+02:00"), timedelta(hours=1))
    instant = at("2024-10-26T22:00:00+00:00")
    turns = []
    while instant < at("2024-10-27T04:00:00+00:00"):
        turns.append(turn_at(layer, BERLIN, instant))
        instant += timedelta(minutes=5)
    assert turns == sorted(turns)


# A weekly base rotation, and an override layer covering one night.
LAYERED = Schedule(
    "layered",
    BERLIN,
    (
        Layer(("ann", "ben"), at("2024-06-03T09:00:00+02:00"), WEEK),
        Layer(
            ("cover",),
            at("2024-06-05T20:00:00+02:00"),
            DAY,
            start=at("2024-06-05T20:00:00+02:00"),
            end=at("2024-06-06T08:00:00+02:00"),
        ),
    ),
)


@pytest.mark.parametrize(
    ("instant", "who"),
    [
        ("2024-06-05T19:59:59+02:00", "ann"),
        ("2024-06-05T20:00:00+02:00", "cover"),  # the later layer overrides from its start
        ("2024-06-06T07:59:59+02:00", "cover"),
        ("2024-06-06T08:00:00+02:00", "ann"),  # ...and gives back at its end
        ("2024-06-10T09:00:00+02:00", "ben"),
    ],
)
def test_later_layers_override_where_they_have_someone(instant: str, who: str) -> None:
    assert on_call_at(LAYERED, at(instant)) == who


def test_next_on_call_comes_from_any_layer() -> None:
    before = on_call(LAYERED, at("2024-06-05T12:00:00+02:00"))
    assert (before.user, before.until, before.next_user) == (
        "ann",
        at("2024-06-05T20:00:00+02:00"),
        "cover",
    )
    during = on_call(LAYERED, at("2024-06-05T23:00:00+02:00"))
    assert (during.user, during.until, during.next_user) == (
        "cover",
        at("2024-06-06T08:00:00+02:00"),
        "ann",
    )


def test_one_user_is_on_call_for_ever_and_no_layer_means_nobody() -> None:
    alone = on_call(
        one_layer(NY, "2024-01-01T00:00:00-05:00", DAY, "solo"),
        at("2024-05-01T00:00:00+00:00"),
    )
    assert (alone.user, alone.until, alone.next_user) == ("solo", None, None)
    assert on_call(Schedule("empty", NY, ()), at("2024-05-01T00:00:00+00:00")).user is None


# The course's "ML Escalation": primary, 15 min later the backup, 15 min later the manager.
BACKUP = Schedule(
    "ML Team Backup",
    NY,
    (Layer(("david", "eve"), at("2023-12-01T00:00:00-05:00"), WEEK),),
)
ML = Policy(
    "ML Escalation",
    (
        Rule(15, (Target("schedule", "ML Team Primary"),)),
        Rule(15, (Target("schedule", "ML Team Backup"),)),
        Rule(30, (Target("user", "engineering-manager@example.com"),)),
    ),
)
SCHEDULES = (Schedule("ML Team Primary", NY, PRIMARY.layers), BACKUP)


def test_escalation_chain_has_clock_times_from_the_alert_start() -> None:
    steps = chain(ML, SCHEDULES, at("2023-12-05T03:00:00-05:00"))
    assert [(s.at.astimezone(NY).strftime("%H:%M"), s.names, s.people) for s in steps] == [
        ("03:00", "ML Team Primary", "alice"),
        ("03:15", "ML Team Backup", "david"),
        ("03:30", "engineering-manager@example.com", "engineering-manager@example.com"),
    ]
    step = next_step(steps, at("2023-12-05T03:10:00-05:00"))
    assert step is not None and step.index == 1
    assert next_step(steps, at("2023-12-05T03:30:00-05:00")) is None


def test_each_step_asks_the_schedule_at_its_own_time() -> None:
    # Alice hands over to Bob at midnight; the alert starts 10 minutes before.
    steps = chain(ML, SCHEDULES, at("2023-12-07T23:50:00-05:00"))
    assert steps[0].people == "alice"
    assert (
        chain(Policy("p", (Rule(15, (Target("schedule", "nope"),)),)), (), steps[0].at)[0].people
        == "nobody on nope"
    )
    late = chain(
        Policy("p", (Rule(20, ()), Rule(0, (Target("schedule", "ML Team Primary"),)))),
        SCHEDULES,
        steps[0].at,
    )
    assert late[1].people == "bob"


def test_the_team_label_picks_the_policy() -> None:
    book = Book(SCHEDULES, (ML,), team_label="squad", teams=(("ml", "ML Escalation"),))
    assert book.policy_for({"squad": "ml"}) is ML
    assert book.policy_for({"team": "ml"}) is None
    assert Book(policies=(ML,), default_policy="ML Escalation").policy_for({}) is ML


# -- config -----------------------------------------------------------------------------------

COURSE = """\
schedules:
  - name: "ML Team Primary"
    time_zone: "America/New_York"
    layers:
      - rotation_virtual_start: "2023-12-01T00:00:00-05:00"
        rotation_turn_length_seconds: 604800
        users:
          - user: alice@example.com
          - user: bob@example.com
  - name: "ML Team Backup"
    time_zone: "America/New_York"
    layers:
      - rotation_virtual_start: 2023-12-01T00:00:00
        rotation_turn_length_seconds: 604800
        users:
          - user: david@example.com
escalation_policies:
  - name: "ML Escalation"
    escalation_rules:
      - escalation_delay_in_minutes: 15
        targets:
          - type: schedule
            id: "ML Team Primary"
      - escalation_delay_in_minutes: 30
        targets:
          - type: user
            id: "engineering-manager@example.com"
teams:
  ml: ML Escalation
"""


def test_the_course_schedule_loads_inline_or_from_a_named_file(tmp_path: Path) -> None:
    book = load_settings(oncall_config(tmp_path, COURSE)).context("a").oncall.book()
    assert [s.name for s in book.schedules] == ["ML Team Primary", "ML Team Backup"]
    # A start without an offset is read in the schedule's own time zone.
    assert book.schedules[1].layers[0].virtual_start == at("2023-12-01T00:00:00-05:00")
    assert book.policy_for({"team": "ml"}) == book.policies[0]
    (tmp_path / "rota.yaml").write_text(COURSE)
    named = load_settings(oncall_config(tmp_path, "file: rota.yaml")).context("a").oncall
    assert named.book() == book and named.file == tmp_path / "rota.yaml"


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (("America/New_York", "Mars/Olympus"), "oncall.schedules.0.time_zone", "not a time zone"),
        (
            ("604800", "0"),
            "schedules.0.layers.0.rotation_turn_length_seconds",
            "must be at least 1",
        ),
        (
            ('id: "ML Team Primary"', "id: Nobody"),
            "contexts.a.oncall",
            "no schedule named 'Nobody'",
        ),
        (
            ("ml: ML Escalation", "ml: Nope"),
            "contexts.a.oncall",
            "teams: no escalation policy named",
        ),
        (
            ("type: user", "type: group"),
            "escalation_rules.1.targets.0.type",
            "'schedule' or 'user'",
        ),
        (("- user: david@example.com", "- {}"), "layers.0.users.0.user", "missing (required)"),
        (
            ("- user: david", "- name: david"),
            "in contexts.a.oncall.schedules.1.layers.0.users.0",
            "unknown key 'name'",
        ),
        (
            ("escalation_delay_in_minutes: 15", "escalation_delay_in_minutes: -1"),
            "escalation_delay_in_minutes",
            "must be at least 0",
        ),
    ],
)
def test_oncall_config_errors_name_the_key(
    tmp_path: Path, change: tuple[str, str], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(oncall_config(tmp_path, COURSE.replace(*change)))
    assert key in str(caught.value) and words in str(caught.value)


def test_a_named_file_that_is_missing_or_doubled_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"contexts\.a\.oncall: cannot read .*gone\.yaml"):
        load_settings(oncall_config(tmp_path, "file: gone.yaml"))
    with pytest.raises(ConfigError, match="not both"):
        load_settings(oncall_config(tmp_path, "file: gone.yaml\nteam_label: squad"))


def test_times_are_utc_safe() -> None:
    assert on_call_at(PRIMARY, datetime(2023, 12, 8, 5, tzinfo=UTC)) == "bob"


def test_the_example_config_documents_the_course_rotation() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    book = load_settings(example).context("demo").oncall.book()
    policy = book.policy_for({"team": "ml"})
    assert policy is not None and policy.name == "ML Escalation"
    assert [r.delay_minutes for r in policy.rules] == [15, 15, 30]
    assert on_call_at(book.schedules[0], at("2023-12-08T00:00:00-05:00")) == "bob@example.com"
