"""Incidents, without a server: the SEV rules, the timeline, rendering, the files."""

from __future__ import annotations

import random
import stat
from pathlib import Path

import msgspec

from oncall_tui.domain import incidents as rules
from oncall_tui.domain.board import BoardAlert, BoardGroup
from oncall_tui.domain.incidents import Event, SLOBurn
from oncall_tui.state.incidents import SEEN_LIMIT, IncidentBook

LABELS = {"alertname": "ChurnAPIDown", "service": "churn-api", "severity": "critical"}
T0 = 1_700_000_000.0


def test_sev_follows_the_course_table_and_slo_burn() -> None:
    assert rules.suggest_sev(["critical"])[0] == 1
    assert rules.suggest_sev(["warning"])[0] == 3
    assert rules.suggest_sev(["info"])[0] == 4
    assert rules.suggest_sev([])[0] == 4
    fast = SLOBurn("availability", "page", 40.0)
    slow = SLOBurn("latency", "ticket", 80.0)
    gone = SLOBurn("errors", "ok", 0.0)
    level, why = rules.suggest_sev(["warning"], [fast])
    assert level == 2 and "availability" in why
    assert rules.suggest_sev(["warning"], [gone])[0] == 2  # no budget left
    assert rules.suggest_sev(["warning"], [slow])[0] == 3
    assert rules.suggest_sev(["info"], [slow])[0] == 3
    assert rules.suggest_sev(["info", "critical"], [slow])[0] == 1  # the worst alert counts


def test_timeline_keeps_what_relates_in_time_order() -> None:
    ack = Event(at=T0 + 60, kind=rules.ACK, text="acked", labels=LABELS)
    other = Event(at=T0 + 30, kind=rules.ACK, text="other", labels={"alertname": "HighCPU"})
    fired = Event(at=T0, kind=rules.FIRED, text="fired", labels=LABELS)
    later = Event(at=T0 + 999, kind=rules.ACK, text="after", labels=LABELS)
    incident = rules.declare(
        title="ChurnAPIDown on churn-api",
        sev=(1, "critical"),
        commander="me",
        labels=LABELS,
        at=T0 + 120,
        seen=[ack, fired, later],
    )
    assert [e.kind for e in incident.timeline] == ["fired", "ack", "declared"]
    assert rules.relates(ack, incident) and not rules.relates(other, incident)
    assert rules.relates(Event(at=T0, kind=rules.QUERY, text="up"), incident)
    assert incident.roles == {"incident commander": "me"}
    assert incident.step == "triage" and incident.open
    noted = rules.add_note(incident, "rolled back\x1b[2J", T0 + 130, "me")
    assert noted.timeline[-1].text == "rolled back\ufffd[2J (me)"
    assert rules.add_event(noted, noted.timeline[-1]) == noted  # no duplicates
    stepped = rules.advance(rules.advance(noted, T0 + 140), T0 + 150)
    assert stepped.step == "mitigation" and stepped.open
    done = rules.advance(rules.advance(stepped, T0 + 160), T0 + 170)
    assert done.step == "post-mortem" and not done.open
    assert rules.advance(done, T0 + 180) == done
    assert rules.set_sev(done, 0, T0).sev == 1 and rules.set_sev(done, 9, T0).sev == 4


def test_status_update_follows_the_template() -> None:
    incident = rules.declare(
        title="ChurnAPIDown on churn-api", sev=(2, "x"), commander="me", labels=LABELS, at=T0
    )
    text = rules.status_update(incident, T0)
    lines = text.splitlines()
    assert lines[0] == "Incident Update - ChurnAPIDown on churn-api"
    assert "Status: INVESTIGATING" in lines and "ETA: Unknown" in lines
    assert "Details:" in lines
    assert lines[-1] == f"Next Update: {rules.clock(T0 + 3600)}"  # SEV-2: every hour
    assert "Status: IDENTIFIED" in rules.status_update(
        rules.advance(rules.advance(incident, T0), T0), T0
    )


def test_markdown_escapes_untrusted_text() -> None:
    evil = {"alertname": "Evil", "summary": "[click](http://x) <img src=x> | `code` \x1b]8;;"}
    incident = rules.declare(title="Evil <b>|", sev=(3, "y"), commander="me", labels=evil, at=T0)
    incident = rules.add_note(incident, "**bold** ```fence", T0 + 1)
    text = rules.markdown(incident, T0 + 2)
    assert "\x1b" not in text
    # The status update is a fenced block, inert as it is, which nothing can close early.
    before, fenced, after = text.split("```text\n")[0], *text.split("```text\n")[1].split("\n```\n")
    assert "```" not in fenced and "Incident Update - Evil <b>|" in fenced
    text = before + after
    assert "<img" not in text and "<b>" not in text and "](http" not in text
    assert "\\[click\\]\\(http://x\\)" in text
    assert "\\*\\*bold\\*\\*" in text
    for row in (line for line in text.splitlines() if line.startswith("| 20")):
        assert row.count("|") - row.count("\\|") == 4, row  # no cell breaks out of the table
    assert "## Timeline (UTC)" in text and "- [ ] Write post-mortem" in text
    assert rules.decode(rules.encode(incident)) == incident


def test_files_are_private_and_written_whole(tmp_path: Path) -> None:
    book = IncidentBook(tmp_path / "incidents", context="demo")
    book.record(rules.ACK, "acked", LABELS, at=T0 - 10)
    incident = book.declare(title="ChurnAPIDown", sev=(1, "c"), commander="me", labels=LABELS)
    path = book.path(incident.id)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [e.kind for e in book.get(incident.id).timeline] == ["ack", "declared"]
    book.record(rules.SILENCE, "silenced", {"alertname": "ChurnAPIDown"})
    book.record(rules.SILENCE, "not ours", {"alertname": "HighCPU"})
    assert [e.text for e in book.get(incident.id).timeline][-1] == "silenced"
    exported = book.export(book.get(incident.id))
    assert exported == path.with_suffix(".md")
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    assert list(path.parent.glob(".*")) == []  # no temporary file left
    (path.parent / "broken.json").write_text("{")
    found, bad = book.load()
    assert [i.id for i in found] == [incident.id] and bad and bad[0].startswith("broken.json")


def _group(alerts: list[BoardAlert]) -> BoardGroup:
    return BoardGroup(key="g", cluster="c", receiver="r", labels=(), alerts=tuple(alerts))


def _alert(i: int, name: str) -> BoardAlert:
    labels = {"alertname": name, "pod": f"p-{i}", "note": "line\nbreak" if i == 0 else "x"}
    return BoardAlert(
        key=f"k{i}", cluster="c", fingerprint=f"{i:x}", name=name, severity="warning",
        state="active", labels=labels, annotations={}, started=None,
    )  # fmt: skip


def test_a_storm_of_alerts_lands_in_the_open_incident_once(tmp_path: Path) -> None:
    """12,000 alerts fire at once: the session keeps the last SEEN_LIMIT events, the open
    incident gets every alert it is about, in one save, and the rest stay out."""
    book = IncidentBook(tmp_path / "incidents", context="demo")
    incident = book.declare(title="Storm", sev=(2, "s"), commander="me", labels={"alertname": "A"})
    saves: list[int] = []
    book.listeners.append(lambda: saves.append(1))
    storm = [_alert(i, "A" if i % 3 == 0 else "B") for i in range(12_000)]
    book.alerts_changed([_group(storm)])
    assert len(book.seen) == SEEN_LIMIT
    assert book.seen[-1].labels["pod"] == "p-11999" and book.seen[0].labels["pod"] == "p-7000"
    fired = [e for e in book.get(incident.id).timeline if e.kind == rules.FIRED]
    assert len(fired) == 4000 and {e.labels["alertname"] for e in fired} == {"A"}
    assert fired[0].labels["note"] == "line break"  # sanitised as ever
    assert saves == [1]
    book.alerts_changed([_group(storm[1:])])  # p-0 resolved
    resolved = [e for e in book.get(incident.id).timeline if e.kind == rules.RESOLVED]
    assert [e.labels["pod"] for e in resolved] == ["p-0"] and book.problem == ""


def test_adding_events_at_once_is_adding_them_in_turn() -> None:
    incident = rules.declare(
        title="t", sev=(1, "c"), commander="me", labels=LABELS, at=T0, context="demo", seen=[]
    )
    events = [
        Event(at=T0 + (i % 4), kind=rules.ACK, text=f"e{i % 5}", labels=dict(LABELS))
        for i in range(12)
    ]
    one_by_one = incident
    for event in events:
        one_by_one = rules.add_event(one_by_one, event)
    assert rules.add_events(incident, events) == one_by_one
    assert rules.add_events(one_by_one, events) is one_by_one


def test_the_book_records_what_fired_and_resolved_poll_by_poll(tmp_path: Path) -> None:
    """Over random polls (groups kept, rebuilt, dropped; an alert in two groups; alerts
    moving between groups, going pending or unconfirmed) the book records, poll by poll,
    each alert that started firing once and each that stopped once: a pending or held
    (unconfirmed) alert is not firing, and an alert still in another group has not resolved."""
    rng = random.Random(7)
    book = IncidentBook(tmp_path / "incidents", context="demo")
    alerts = [_alert(i, f"A{i % 4}") for i in range(40)]
    groups: dict[str, BoardGroup] = {}
    before: set[str] = set()
    told = 0
    for _ in range(60):
        for name in rng.sample(["g0", "g1", "g2", "g3", "g4", "g5"], 3):
            if rng.random() < 0.2:
                groups.pop(name, None)
                continue
            chosen = [msgspec.structs.replace(a, **_odd(rng)) for a in rng.sample(alerts, 6)]
            groups[name] = BoardGroup(
                key=name, cluster="c", receiver="r", labels=(), alerts=tuple(chosen)
            )
        board = list(groups.values())
        now = {
            a.key
            for g in board
            for a in g.alerts
            if a.state != "pending" and not a.unconfirmed and a.left_at is None
        }
        expected = [(rules.FIRED, k) for k in now - before]
        expected += [(rules.RESOLVED, k) for k in before - now]
        before = now
        book.alerts_changed(board)
        seen = [(e.kind, "k" + e.labels["pod"][2:]) for e in book.seen[told:]]
        told = len(book.seen)
        assert sorted(seen) == sorted(expected)
    assert told > 100


def _odd(rng: random.Random) -> dict[str, object]:
    """Now and then a state that does not count as firing."""
    roll = rng.random()
    if roll < 0.1:
        return {"state": "pending"}
    if roll < 0.15:
        return {"unconfirmed": "held"}
    return {}
