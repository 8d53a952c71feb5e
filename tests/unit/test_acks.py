"""Acks as silences: both written forms read back alike, notes split, keeping decided purely."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from oncall_tui.domain.acks import (
    CONFIRM_POLLS,
    EXPIRE,
    EXTEND,
    KEEP,
    Ack,
    AckRequest,
    keep_decision,
    read_ack,
    split_note,
)
from oncall_tui.domain.board import BoardAlert
from oncall_tui.domain.matchers import LabelMatcher
from oncall_tui.domain.silence_plan import Draft, acked_by, find_same
from oncall_tui.state.ack_keeper import firing_count
from oncall_tui.wire.alertmanager import Matcher, Silence, SilenceStatus

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
LEASE = timedelta(minutes=15)
FULL = AckRequest("alice@bastion", "failing over | the primary", "INC-123", until_resolved=True)


def silence(comment: str, annotations: dict[str, str] | None = None) -> Silence:
    return Silence(
        id="s1",
        matchers=[Matcher("alertname", "ChurnAPIDown")],
        starts_at=NOW - timedelta(minutes=12),
        ends_at=NOW + timedelta(minutes=3),
        created_by="alice@bastion",
        comment=comment,
        status=SilenceStatus("active"),
        annotations=annotations or {},
    )


def test_the_comment_form_is_readable_and_reads_back_whole() -> None:
    """Alertmanager before 0.32 keeps only the comment: every fact goes there."""
    comment = FULL.comment(annotated=False)
    assert comment == (
        "ACK by alice@bastion | until resolved | ticket INC-123 | note: failing over | the primary"
    )
    ack = read_ack(silence(comment))
    since = NOW - timedelta(minutes=12)
    assert ack == Ack("alice@bastion", since, "failing over | the primary", "INC-123", True)


def test_the_annotated_form_keeps_the_comment_short_and_reads_back_whole() -> None:
    """0.32+: the facts are annotations; the comment still says who, for older readers."""
    assert FULL.comment(annotated=True) == "ACK by alice@bastion"
    marks = FULL.annotations()
    assert marks == {
        "ack_by": "alice@bastion",
        "ack_note": "failing over | the primary",
        "ack_ticket": "INC-123",
        "ack_until": "resolved",
    }
    from_annotations = read_ack(silence("ACK by alice@bastion", marks))
    from_comment = read_ack(silence(FULL.comment(annotated=False)))
    assert from_annotations == from_comment
    assert from_annotations is not None and from_annotations.describe() == FULL.comment(
        annotated=False
    )


@pytest.mark.parametrize(
    ("comment", "who", "note", "ticket", "until"),
    [
        ("ACK by alice", "alice", "", "", False),  # what every earlier version wrote
        ("ACK by alice | until resolved", "alice", "", "", True),
        ("ACK by alice | ticket OPS-7", "alice", "", "OPS-7", False),
        ("ACK by alice | note: on it", "alice", "on it", "", False),
        ("ACK by alice | looking, ping me", "alice", "looking, ping me", "", False),  # by hand
    ],
)
def test_comments_old_and_hand_written_read_as_acks(
    comment: str, who: str, note: str, ticket: str, until: bool
) -> None:
    ack = read_ack(silence(comment))
    assert ack is not None
    assert (ack.who, ack.note, ack.ticket, ack.until_resolved) == (who, note, ticket, until)
    assert acked_by(silence(comment)) == who


@pytest.mark.parametrize("comment", ["deploy", "ACK by ", "ack by alice", "[maintenance x] y"])
def test_other_silences_are_not_acks(comment: str) -> None:
    assert read_ack(silence(comment)) is None


@pytest.mark.parametrize(
    ("typed", "ticket", "note"),
    [
        ("INC-123 failing over", "INC-123", "failing over"),
        ("#4521", "#4521", ""),
        ("https://tickets.example/T-9 see there", "https://tickets.example/T-9", "see there"),
        ("failing over INC-123", "", "failing over INC-123"),  # only a ticket typed first
        ("  two\tlines\nhere ", "", "two lines here"),
        ("", "", ""),
    ],
)
def test_a_ticket_typed_first_becomes_the_ticket(typed: str, ticket: str, note: str) -> None:
    assert split_note(typed) == (ticket, note)


def test_ack_age_and_old() -> None:
    ack = Ack("alice", NOW - timedelta(hours=5))
    assert ack.age(NOW) == timedelta(hours=5)
    assert ack.is_old(NOW, timedelta(hours=4))
    assert not ack.is_old(NOW, timedelta(hours=6))


def test_an_ack_draft_takes_the_form_its_cluster_keeps() -> None:
    draft = Draft(
        (LabelMatcher("alertname", "=", "ChurnAPIDown"),),
        NOW,
        NOW + LEASE,
        FULL.comment(annotated=False),
        "alice@bastion",
        ack=FULL,
    )
    old = draft.postable(annotated=False)
    assert old.comment == FULL.comment(annotated=False) and old.annotations is None
    new = draft.postable(annotated=True)
    assert new.comment == "ACK by alice@bastion" and new.annotations == FULL.annotations()


def test_a_retry_finds_the_same_ack_but_not_one_with_another_note() -> None:
    """Two acks by one person that differ only in their annotations are two requests."""
    held = silence("ACK by alice@bastion", FULL.annotations())
    draft = Draft((LabelMatcher("alertname", "=", "ChurnAPIDown"),), NOW, NOW, "", "alice@bastion")
    assert draft.postable(annotated=True).annotations is None  # not an ack: nothing to add
    assert find_same([held], replace(draft, ack=FULL).postable(annotated=True)) is held
    other = replace(draft, ack=replace(FULL, note="something else")).postable(annotated=True)
    assert find_same([held], other) is None


def test_keeping_renews_while_firing_once_half_the_lease_is_gone() -> None:
    fresh = keep_decision(NOW + timedelta(minutes=10), 1, 0, NOW, LEASE)
    assert fresh.action == KEEP
    due = keep_decision(NOW + timedelta(minutes=7), 2, 0, NOW, LEASE)
    assert (due.action, due.ends) == (EXTEND, NOW + LEASE)


def test_keeping_expires_only_after_polls_in_a_row_found_nothing_firing() -> None:
    ends = NOW + timedelta(minutes=10)
    assert keep_decision(ends, 0, CONFIRM_POLLS - 1, NOW, LEASE).action == KEEP
    assert keep_decision(ends, 0, CONFIRM_POLLS, NOW, LEASE).action == EXPIRE
    # Matchers this app cannot evaluate: never expired on a guess.
    assert keep_decision(ends, None, 99, NOW, LEASE).action == KEEP


def test_only_firing_alerts_of_its_matchers_keep_an_ack_alive() -> None:
    def alert(name: str, state: str, silenced_by: tuple[str, ...] = ()) -> BoardAlert:
        labels = {"alertname": name}
        return BoardAlert(
            name, "demo", name, name, "warning", state, labels, {}, None, silenced_by=silenced_by
        )

    ack = silence("ACK by alice | until resolved")
    assert firing_count(ack, [alert("ChurnAPIDown", "silenced", ("s1",))]) == 1
    assert firing_count(ack, [alert("ChurnAPIDown", "active"), alert("Other", "active")]) == 1
    # Resolved (the board's recently resolved section) or pending in Prometheus: not firing.
    assert firing_count(ack, [alert("ChurnAPIDown", "resolved", ("s1",))]) == 0
    assert firing_count(ack, [alert("ChurnAPIDown", "pending")]) == 0
