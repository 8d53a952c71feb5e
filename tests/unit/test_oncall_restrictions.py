"""Layer restrictions (PagerDuty's daily and weekly ones) and escalation loops, as shown."""

from __future__ import annotations

from datetime import timedelta
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
)
from oncall_tui.domain.restrictions import Restriction
from oncall_tui.ui.widgets.oncall_text import clock, escalation_text
from tests.helpers import instant as at
from tests.helpers import no_style, oncall_config

BERLIN = ZoneInfo("Europe/Berlin")
WEEK = timedelta(weeks=1)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def daily(start_h: int, hours: int) -> Restriction:
    return Restriction("daily", timedelta(hours=start_h), timedelta(hours=hours))


def layered(*restrictions: Restriction, base: bool = True) -> Schedule:
    """A weekly base rotation (ann, ben) under a restricted daily one (nick, nora)."""
    top = Layer(("nick", "nora"), at("2024-01-01T00:00:00+01:00"), DAY, restrictions=restrictions)
    bottom = Layer(("ann", "ben"), at("2024-01-01T09:00:00+01:00"), WEEK)
    return Schedule("s", BERLIN, (bottom, top) if base else (top,))


# Nights from 22:00 for ten hours: 22:00-08:00 on Berlin's wall clock, DST nights too.
NIGHTS = layered(daily(22, 10))


@pytest.mark.parametrize(
    ("instant", "who"),
    [
        ("2024-06-05T21:59:59+02:00", "ann"),  # before the restriction: the base shows through
        ("2024-06-05T22:00:00+02:00", "nick"),  # the restricted layer overrides from its start
        ("2024-06-06T00:30:00+02:00", "nora"),  # its own handoff at midnight still happens
        ("2024-06-06T07:59:59+02:00", "nora"),
        ("2024-06-06T08:00:00+02:00", "ann"),  # ...and gives back at its end
        # 2024-03-31, Berlin springs forward at 02:00: the night ends at 08:00 CEST, 9 hours on.
        ("2024-03-30T21:59:59+01:00", "ann"),
        ("2024-03-30T22:00:00+01:00", "nora"),
        ("2024-03-31T07:59:59+02:00", "nick"),
        ("2024-03-31T08:00:00+02:00", "ann"),
        # 2024-10-27, Berlin falls back: 22:00 CEST to 08:00 CET, 11 hours.
        ("2024-10-27T07:59:59+01:00", "nick"),
        ("2024-10-27T08:00:00+01:00", "ann"),
    ],
)
def test_a_daily_restriction_follows_the_schedules_wall_clock(instant: str, who: str) -> None:
    assert on_call_at(NIGHTS, at(instant)) == who


def test_now_and_next_stop_at_restriction_boundaries_on_a_dst_day() -> None:
    day = on_call(NIGHTS, at("2024-03-30T12:00:00+01:00"))
    assert (day.user, day.until, day.next_user) == (
        "ann",
        at("2024-03-30T22:00:00+01:00"),
        "nora",
    )
    night = on_call(NIGHTS, at("2024-03-30T23:00:00+01:00"))
    # The layer's own midnight handoff (nora -> nick) comes first; then the night's end.
    assert (night.user, night.until, night.next_user) == (
        "nora",
        at("2024-03-31T00:00:00+01:00"),
        "nick",
    )
    late = on_call(NIGHTS, at("2024-03-31T03:30:00+02:00"))
    assert (late.user, late.until, late.next_user) == (
        "nick",
        at("2024-03-31T08:00:00+02:00"),
        "ann",
    )
    assert late.until is not None
    assert late.until - at("2024-03-30T22:00:00+01:00") == 9 * HOUR  # a short night


def test_a_daily_start_the_clock_skips_happens_at_the_offset_before() -> None:
    schedule = layered(daily(2, 2), base=False)  # 02:00-04:00; 02:00 does not exist on 31 March
    assert on_call_at(schedule, at("2024-03-31T02:59:59+02:00")) is None
    assert on_call_at(schedule, at("2024-03-31T03:00:00+02:00")) == "nick"  # 02:00 CET
    assert on_call_at(schedule, at("2024-03-31T03:59:59+02:00")) == "nick"
    assert on_call_at(schedule, at("2024-03-31T04:00:00+02:00")) is None


# Sunday 22:00 for four hours: across midnight and across the week's end, to Monday 02:00.
SUNDAY_NIGHT = layered(Restriction("weekly", timedelta(hours=22), 4 * HOUR, day_of_week=7))


@pytest.mark.parametrize(
    ("instant", "who"),
    [
        ("2024-06-09T21:59:59+02:00", "ann"),  # Sunday 9 June
        ("2024-06-09T22:00:00+02:00", "nick"),
        ("2024-06-10T01:59:59+02:00", "nora"),  # Monday, after the layer's midnight handoff
        ("2024-06-10T02:00:00+02:00", "ann"),
        ("2024-06-10T22:00:00+02:00", "ben"),  # Monday night is not covered (ben since 09:00)
        # The next Sunday: the masked layer's daily turns kept running, so now it is nora's.
        ("2024-06-16T23:00:00+02:00", "nora"),
        ("2024-06-17T02:00:00+02:00", "ben"),
    ],
)
def test_a_weekly_restriction_across_midnight(instant: str, who: str) -> None:
    assert on_call_at(SUNDAY_NIGHT, at(instant)) == who


def test_next_from_midweek_is_the_weekly_restriction_start() -> None:
    shift = on_call(SUNDAY_NIGHT, at("2024-06-06T12:00:00+02:00"))
    assert (shift.user, shift.until, shift.next_user) == (
        "ann",
        at("2024-06-09T22:00:00+02:00"),
        "nick",
    )


def test_a_restricted_layer_alone_leaves_nobody_outside_it() -> None:
    schedule = layered(daily(9, 8), base=False)
    evening = on_call(schedule, at("2024-06-05T18:00:00+02:00"))
    assert (evening.user, evening.until, evening.next_user) == (
        None,
        at("2024-06-06T09:00:00+02:00"),
        "nora",
    )


# -- escalation loops ---------------------------------------------------------------------------

LOOPING = Policy(
    "p",
    (Rule(15, (Target("user", "ann"),)), Rule(15, (Target("user", "ben"),))),
    num_loops=2,
)


def test_the_chain_repeats_num_loops_times_after_the_last_rule() -> None:
    steps = chain(LOOPING, (), at("2024-06-05T03:00:00+00:00"))
    assert [(s.at.strftime("%H:%M"), s.loop, s.index, s.people) for s in steps] == [
        ("03:00", 0, 0, "ann"),
        ("03:15", 0, 1, "ben"),
        ("03:30", 1, 0, "ann"),
        ("03:45", 1, 1, "ben"),
        ("04:00", 2, 0, "ann"),
        ("04:15", 2, 1, "ben"),
    ]
    ahead = next_step(steps, at("2024-06-05T03:20:00+00:00"))
    assert ahead is not None and (ahead.loop, ahead.index) == (1, 0)
    assert next_step(steps, at("2024-06-05T04:15:00+00:00")) is None


# -- config -------------------------------------------------------------------------------------

ONCALL = """\
schedules:
  - name: nights
    time_zone: Europe/Berlin
    layers:
      - rotation_virtual_start: 2024-01-01T00:00:00
        rotation_turn_length_seconds: 86400
        users: [{user: nick}, {user: nora}]
        restrictions:
          - type: daily_restriction
            start_time_of_day: START
            duration_seconds: 36000
          - type: weekly_restriction
            start_time_of_day: "22:00:00"
            duration_seconds: 14400
            start_day_of_week: 7
escalation_policies:
  - name: p
    num_loops: 2
    escalation_rules:
      - escalation_delay_in_minutes: 15
        targets: [{type: schedule, id: nights}]
"""


@pytest.mark.parametrize("start", ['"22:00:00"', "'22:00'"])
def test_restrictions_and_loops_load_from_the_config(tmp_path: Path, start: str) -> None:
    book = (
        load_settings(oncall_config(tmp_path, ONCALL.replace("START", start))).context("a").oncall
    )
    layer = book.book().schedules[0].layers[0]
    assert layer.restrictions == (
        Restriction("daily", timedelta(hours=22), timedelta(hours=10)),
        Restriction("weekly", timedelta(hours=22), timedelta(hours=4), day_of_week=7),
    )
    assert book.book().policies[0].num_loops == 2


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (("start_day_of_week: 7", "start_day_of_week: 8"), "must be at most 7"),
        (("            start_day_of_week: 7\n", ""), "needs start_day_of_week"),
        (("duration_seconds: 36000", "duration_seconds: 90000"), "at most 86400"),
        (("type: daily_restriction", "type: monthly"), "daily_restriction"),
        (("START", '"25:00"'), "start_time_of_day"),
        # Unquoted, YAML 1.1 reads 22:00 as the base-60 number 1320 (and 22:00:00 as 79200).
        (("START", "22:00"), 'write the time quoted, e.g. "22:00:00" (YAML read 1320)'),
        (("num_loops: 2", "num_loops: 10"), "num_loops"),
    ],
)
def test_restriction_config_errors_name_the_problem(
    tmp_path: Path, change: tuple[str, str], words: str
) -> None:
    text = ONCALL.replace(*change).replace("START", '"22:00:00"')
    assert text != ONCALL.replace("START", '"22:00:00"')
    with pytest.raises(ConfigError) as caught:
        load_settings(oncall_config(tmp_path, text))
    assert words in str(caught.value), caught.value


def test_the_detail_shows_one_pass_and_how_often_it_repeats() -> None:
    book = Book(policies=(LOOPING,), default_policy="p")
    started = at("2024-06-05T03:00:00+00:00")

    def shown(now: str, **kw: str) -> list[str]:
        text = escalation_text(book, {}, started, at(now), no_style, **kw)
        return text.plain.splitlines()

    # clock() prints the local time of whatever zone the tests run in.
    def hm(text: str) -> str:
        return clock(at(text), at(text))

    assert shown("2024-06-05T03:05:00+00:00") == [
        "p  (default policy)",
        f"escalates to ben (ben) at {hm('2024-06-05T03:15:00+00:00')} (loop 1 of 3) unless acked",
        f"  {hm('2024-06-05T03:00:00+00:00')}  ann  paged",
        f"  {hm('2024-06-05T03:15:00+00:00')}  ben",
        f"      …  repeats 2 more times until {hm('2024-06-05T04:15:00+00:00')}",
    ]
    assert shown("2024-06-05T03:50:00+00:00")[1:] == [
        f"escalates to ann (ann) at {hm('2024-06-05T04:00:00+00:00')} (loop 3 of 3) unless acked",
        f"      …  2 loops paged from {hm('2024-06-05T03:00:00+00:00')}",
        f"  {hm('2024-06-05T04:00:00+00:00')}  ann",
        f"  {hm('2024-06-05T04:15:00+00:00')}  ben",
    ]
    acked = shown("2024-06-05T03:50:00+00:00", acked_by="ann")
    assert acked[1] == "acked by ann: the chain stopped"
    assert acked[-1].endswith(f"repeats 2 more times until {hm('2024-06-05T04:15:00+00:00')}")


def test_the_example_config_documents_restrictions_and_loops() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    book = load_settings(example).context("demo").oncall.book()
    nights = next(s for s in book.schedules if s.name == "ML Team Nights")
    assert [
        on_call_at(nights, at(t))
        for t in (
            "2023-12-06T12:00:00+01:00",  # Wednesday noon: the day rotation
            "2023-12-06T23:00:00+01:00",  # Wednesday night: the night layer (2 days in)
            "2023-12-09T12:00:00+01:00",  # Saturday noon: the weekend restriction
            "2023-12-11T08:00:00+01:00",  # Monday 08:00: both restrictions over
        )
    ] == ["alice@example.com", "charlie@example.com", "bob@example.com", "alice@example.com"]
    assert book.policies[0].num_loops == 1
