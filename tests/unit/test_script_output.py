"""What `oncall-tui alerts|silences` print, without a server (the oracle test is
tests/integration/test_script_cli.py, against Alertmanager 0.25.0 and amtool 0.25.0)."""

from __future__ import annotations

from datetime import UTC, datetime

from oncall_tui.domain.matcher_grammar import Grammar
from oncall_tui.domain.matchers import parse_matcher
from oncall_tui.domain.merge import merge_alerts
from oncall_tui.domain.script_output import (
    alert_record,
    alerts_table,
    merge_silences,
    silence_record,
    silences_table,
    with_alertname,
)
from oncall_tui.wire.alertmanager import (
    Alert,
    AlertStatus,
    Matcher,
    Receiver,
    Silence,
    SilenceStatus,
)

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def silence(sid: str, updated: datetime, comment: str = "c", state: str = "active") -> Silence:
    return Silence(
        id=sid,
        matchers=[Matcher("alertname", "X")],
        starts_at=T0,
        ends_at=T0,
        created_by="me",
        comment=comment,
        status=SilenceStatus(state),
        updated_at=updated,
    )


def test_first_bare_word_is_the_alertname_as_in_amtool() -> None:
    def parse(text: str) -> object:
        return parse_matcher(text, Grammar.CLASSIC)

    assert with_alertname(["Disk", "a=b"], parse) == ["alertname=Disk", "a=b"]
    assert with_alertname(["a=b", "Disk"], parse) == ["a=b", "Disk"]  # only the first
    assert with_alertname([], parse) == []


def test_alert_record_keys_and_peers() -> None:
    a = Alert(
        fingerprint="f1",
        labels={"z": "1", "alertname": "A"},
        starts_at=T0,
        receivers=(Receiver("r2"), Receiver("r1")),
        status=AlertStatus("suppressed"),  # 0.28+: muted by a time interval
    )
    (merged,) = merge_alerts("c", {"http://b": [a], "http://a": [a]})
    record = alert_record(merged)
    assert list(record["labels"]) == ["alertname", "z"]
    assert record["state"] == "muted"
    assert record["startsAt"] == "2026-01-02T03:04:05Z"
    assert record["endsAt"] is None
    assert record["receivers"] == ["r1", "r2"]
    assert record["peers"] == ["http://a", "http://b"]


def test_silences_are_united_by_id_and_the_newest_copy_wins() -> None:
    old = silence("s1", T0, "old")
    new = silence("s1", T0.replace(minute=9), "new")
    merged = merge_silences("c", {"p1": [old, silence("s2", T0)], "p2": [new]})
    by_id = {m.silence.id: m for m in merged}
    assert by_id["s1"].silence.comment == "new"
    assert by_id["s1"].peers == ("p1", "p2")
    assert by_id["s2"].peers == ("p1",)
    assert silence_record(by_id["s1"])["matchers"] == [
        {"name": "alertname", "value": "X", "isRegex": False, "isEqual": True}
    ]


def test_tables_clean_untrusted_text() -> None:
    (m,) = merge_silences("c", {"p": [silence("s1", T0, "evil\x1b[2J\nline [b]x[/]")]})
    text = silences_table([m])
    assert "\x1b" not in text and "\n" not in text.splitlines()[1]
    assert "[b]x[/]" in text
    a = Alert(fingerprint="f", labels={"alertname": "A\x07"}, annotations={"summary": "s\r\nt"})
    table = alerts_table(merge_alerts("c", {"p": [a]}))
    assert "\x07" not in table and "\r" not in table
    assert len(table.splitlines()) == 2
