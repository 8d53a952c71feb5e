"""The handoff's assembly and Markdown, without a server (against the real stack:
tests/integration/test_handoff_cli.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.cli.main import build_parser
from oncall_tui.config import ConfigError, HandoffSettings, load_settings
from oncall_tui.domain import handoff as h
from oncall_tui.domain.incidents import Incident, add_note
from oncall_tui.domain.merge import MergedAlert
from oncall_tui.domain.script_output import MergedSilence
from oncall_tui.domain.silence_plan import ack_comment
from oncall_tui.wire.alertmanager import Alert, AlertStatus, Matcher, Silence, SilenceStatus

NOW = 1_800_000_000.0
SINCE = NOW - 12 * 3600
STEP = 60.0


def at(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def silence(
    sid: str, starts: float, ends: float, state: str, comment: str = "c", name: str = "X"
) -> MergedSilence:
    s = Silence(
        id=sid,
        matchers=[Matcher("alertname", name)],
        starts_at=at(starts),
        ends_at=at(ends),
        created_by="me",
        comment=comment,
        status=SilenceStatus(state),
    )
    return MergedSilence(s, "default", ("a", "b"))


def alert(name: str, fp: str, **labels: str) -> MergedAlert:
    a = Alert(
        fingerprint=fp,
        labels={"alertname": name, **labels},
        starts_at=at(NOW - 600),
        status=AlertStatus("active"),
    )
    return MergedAlert(a, "default", ("a",))


def incident(step: str, title: str = "t") -> Incident:
    return Incident(
        id=f"i-{step}",
        title=title,
        sev=2,
        sev_reason="r",
        declared_at=NOW - 100,
        commander="me",
        labels={},
        step=step,
    )


def points(start: float, end: float, value: float = 1.0) -> tuple[tuple[float, float], ...]:
    n = int((end - start) / STEP) + 1
    return tuple((start + i * STEP, value) for i in range(n))


LABELS = {"alertname": "Disk", "instance": "a"}


def test_episodes_one_per_for_state_value_and_only_those_that_fired() -> None:
    first, second = SINCE + 600, SINCE + 7200
    firing = [
        (
            {**LABELS, "__name__": "ALERTS", "alertstate": "firing"},
            points(first + 120, first + 600) + points(second + 120, NOW),
        )
    ]
    for_state = [
        (
            {**LABELS, "__name__": "ALERTS_FOR_STATE"},
            points(first, first + 600, first) + points(second, NOW, second),
        ),
        # pending only: never fired, so not an episode
        ({"alertname": "Flap", "__name__": "ALERTS_FOR_STATE"}, points(SINCE + 60, SINCE + 120, 5)),
    ]
    found = h.episodes_from(firing, for_state, start=SINCE, end=NOW, step=STEP)
    assert [(e.alertname, e.start, e.ongoing) for e in found] == [
        ("Disk", first, False),
        ("Disk", second, True),
    ]
    assert found[0].labels == LABELS


def test_episodes_without_for_state_split_where_firing_stops() -> None:
    firing = [
        (
            {**LABELS, "alertstate": "firing"},
            points(SINCE, SINCE + 300) + points(SINCE + 3600, SINCE + 3900),
        )
    ]
    found = h.episodes_from(firing, [], start=SINCE, end=NOW, step=STEP)
    assert [(e.start, e.last_seen, e.ongoing) for e in found] == [
        (SINCE, SINCE + 300, False),
        (SINCE + 3600, SINCE + 3900, False),
    ]
    nan = [({**LABELS, "alertstate": "firing"}, ((SINCE, math.nan),))]
    assert h.episodes_from(nan, [], start=SINCE, end=NOW, step=STEP) == []


def handoff() -> h.Handoff:
    episodes = [
        h.AlertEpisode("Disk", LABELS, SINCE + 60, SINCE + 600, False),
        h.AlertEpisode("Disk", LABELS, SINCE + 900, SINCE + 1200, False),
        h.AlertEpisode("CPU", {"alertname": "CPU"}, SINCE + 60, NOW, True),
    ]
    silences = [
        silence("old", SINCE - 9000, SINCE - 10, "expired"),  # over before the window: dropped
        silence("ack", NOW - 60, NOW + 3600, "active", ack_comment("alice")),
        silence("gone", NOW - 600, NOW - 300, "expired"),
        silence("long", SINCE - 86400, NOW + 86400 * 3, "active"),
        silence("soon", SINCE - 86400, NOW + 3600, "active"),
    ]
    return h.assemble(
        context="prod",
        since=SINCE,
        now=NOW,
        next_shift_s=12 * 3600,
        episodes=episodes,
        firing=[alert("B", "2"), alert("A", "1")],
        silences=silences,
        incidents=[incident("triage"), incident("post-mortem")],
    )


def ids(found: list[MergedSilence] | tuple[MergedSilence, ...]) -> list[str]:
    return [s.silence.id for s in found]


def test_assembly_sections() -> None:
    got = handoff()
    assert ids(got.silences) == ["long", "soon", "gone", "ack"]
    assert ids(h.acks(got)) == ["ack"]
    assert ids(h.created(got)) == ["gone", "ack"]
    assert ids(h.expired(got)) == ["gone"]
    assert ids(h.ending(got)) == ["soon", "ack"]
    assert [e.alertname for e in h.resolved(got)] == ["Disk", "Disk"]
    assert h.noisiest(got) == [("Disk", 2), ("CPU", 1)]
    assert [i.step for i in got.incidents] == ["triage"]
    assert [a.alert.name for a in got.firing] == ["A", "B"]


def test_record_is_plain_data() -> None:
    got = h.record(handoff())
    assert got["since"] == at(SINCE).isoformat().replace("+00:00", "Z")
    assert got["acks"] == [
        {
            "cluster": "default",
            "silenceId": "ack",
            "by": "alice",
            "at": at(NOW - 60).isoformat().replace("+00:00", "Z"),
            "endsAt": at(NOW + 3600).isoformat().replace("+00:00", "Z"),
            "state": "active",
        }
    ]
    kinds = {s["id"]: s["handoff"] for s in got["silences"]}
    assert kinds == {
        "ack": ["ack", "created", "endsNextShift"],
        "gone": ["created", "expired"],
        "long": [],
        "soon": ["endsNextShift"],
    }
    assert [f["fingerprint"] for f in got["firing"]] == ["1", "2"]
    assert got["noisiest"][0] == {"alertname": "Disk", "episodes": 2}


HOSTILE = "<script>x</script>](http://evil) | *bold* `code` # \x1b[31mred\n- item"


def test_markdown_sections_and_hostile_text_escaped() -> None:
    base = handoff()
    bad = h.assemble(
        context=HOSTILE,
        since=SINCE,
        now=NOW,
        next_shift_s=3600,
        episodes=[
            h.AlertEpisode(
                HOSTILE, {"alertname": HOSTILE, HOSTILE: HOSTILE}, SINCE, SINCE + 60, False
            )
        ],
        firing=[alert(HOSTILE, "9", team=HOSTILE)],
        silences=[silence("s", NOW - 10, NOW + 60, "active", ack_comment(HOSTILE), name=HOSTILE)],
        incidents=[add_note(incident("triage", title=HOSTILE), HOSTILE, NOW)],
        problems=[HOSTILE],
    )
    for text in (h.markdown(base), h.markdown(bad)):
        for section in h.SECTIONS:
            assert f"## {section}" in text
    text = h.markdown(bad)
    assert "<script" not in text and "\x1b" not in text
    assert "](http" not in text
    for line in text.splitlines():
        if line.startswith("| "):
            # a cell's own `|` is escaped: every bare one is a separator of the table
            bare = line.replace("\\|", "")
            assert bare.count("|") == bare.count(" | ") + 2, line
    assert "- item" not in text.replace("\\- item", "")
    assert "no acks" in h.markdown(h.assemble(context="c", since=SINCE, now=NOW, next_shift_s=1))


def test_the_handoff_windows_default_to_the_config_then_12h(tmp_path: Path) -> None:
    assert (HandoffSettings().since_s, HandoffSettings().next_shift_s) == (43200.0, 43200.0)
    path = tmp_path / "config.yaml"
    path.write_text("handoff: {since: 4h, next_shift: 1d}\n")
    settings = load_settings(path)
    assert (settings.handoff.since_s, settings.handoff.next_shift_s) == (14400.0, 86400.0)
    path.write_text("handoff: {since: 0s}\n")
    with pytest.raises(ConfigError, match=r"handoff\.since.*longer than zero"):
        load_settings(path)
    # The command line names no window unless given one: the config's default then applies.
    args = build_parser().parse_args(["handoff"])
    assert (args.since, args.next) == (None, None)
    assert build_parser().parse_args(["handoff", "--since", "90m"]).since == 5400.0
