"""Acks that mean ownership: who took an alert, with what note or ticket, and for how long.

An ack is a short silence marked as one. Alertmanager 0.32+ keeps key/value `annotations` on a
silence, so there the ack's facts live in annotations and the comment stays `ACK by <who>`;
older servers keep everything in the comment, in a form people read and this module parses:

    ACK by alice | until resolved | ticket INC-123 | note: failing over the primary

Either form is read back the same way. An ack "until resolved" is kept alive by any running
app (state/ack_keeper.py): renewed while its alerts fire, expired once they resolved. Its state
is in the silence itself, so a restarted app picks it up. Pure logic: no client, no Textual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall_tui.wire.alertmanager import Silence

PREFIX = "ACK by "
SEP = " | "
UNTIL_RESOLVED = "until resolved"
# Annotation names that are also valid classic label names: a server that validates them
# as label names takes them too.
KEY_BY, KEY_NOTE, KEY_TICKET, KEY_UNTIL = "ack_by", "ack_note", "ack_ticket", "ack_until"
RESOLVED = "resolved"
# A ticket typed first in the note: INC-123, OPS-42, #1234, or a link.
_TICKET = re.compile(r"^(?:[A-Za-z][A-Za-z0-9_]*-\d+|#\d+|https?://\S+)$")
NOTE_MAX = 300  # a note is a line, not a post-mortem


@dataclass(frozen=True, slots=True)
class AckRequest:
    """What the user asked for: who owns it, why, and whether it lasts until resolved."""

    who: str
    note: str = ""
    ticket: str = ""
    until_resolved: bool = False

    def comment(self, *, annotated: bool) -> str:
        """The silence comment: just `ACK by <who>` when annotations carry the rest."""
        parts = [f"{PREFIX}{self.who}"]
        if not annotated:
            if self.until_resolved:
                parts.append(UNTIL_RESOLVED)
            if self.ticket:
                parts.append(f"ticket {self.ticket}")
            if self.note:
                parts.append(f"note: {self.note}")
        return SEP.join(parts)

    def annotations(self) -> dict[str, str]:
        out = {KEY_BY: self.who}
        if self.note:
            out[KEY_NOTE] = self.note
        if self.ticket:
            out[KEY_TICKET] = self.ticket
        if self.until_resolved:
            out[KEY_UNTIL] = RESOLVED
        return out


@dataclass(frozen=True, slots=True)
class Ack:
    """An ack read back from a silence (either form)."""

    who: str
    since: datetime  # the silence's start: when the alert was taken
    note: str = ""
    ticket: str = ""
    until_resolved: bool = False

    def describe(self) -> str:
        """One line, the same whichever form the server keeps."""
        return AckRequest(self.who, self.note, self.ticket, self.until_resolved).comment(
            annotated=False
        )

    def age(self, now: datetime) -> timedelta:
        return max(timedelta(0), now - self.since)

    def is_old(self, now: datetime, after: timedelta) -> bool:
        """Held longer than `after`: worth asking whether anyone still works on it."""
        return self.age(now) >= after


def split_note(text: str) -> tuple[str, str]:
    """`INC-123 failing over` -> ("INC-123", "failing over"): a ticket typed first is taken
    as the ticket; anything else is the note. One line, at most NOTE_MAX characters."""
    line = " ".join(text.split())[:NOTE_MAX]
    first, _, rest = line.partition(" ")
    if first and _TICKET.match(first):
        return first, rest
    return "", line


def _from_comment(comment: str) -> tuple[str, str, str, bool] | None:
    if not comment.startswith(PREFIX):
        return None
    rest = comment[len(PREFIX) :]
    who, _, rest = rest.partition(SEP)
    note, ticket, until = "", "", False
    while rest:
        part, sep, after = rest.partition(SEP)
        if part.startswith("note: ") or part == "note:":
            note = rest[len("note:") :].strip()  # the note is last and may hold anything
            break
        if part == UNTIL_RESOLVED:
            until = True
        elif part.startswith("ticket "):
            ticket = part[len("ticket ") :].strip()
        else:
            note = rest.strip()  # not written by us: keep it whole as the note
            break
        rest = after if sep else ""
    return who.strip(), note, ticket, until


def read_ack(silence: Silence) -> Ack | None:
    """The ack a silence stands for, or None when it is not one. Annotations win over the
    comment (0.32+); the comment alone is read on older servers."""
    marks = silence.annotations
    if marks.get(KEY_BY, "").strip():
        return Ack(
            marks[KEY_BY].strip(),
            silence.starts_at,
            marks.get(KEY_NOTE, ""),
            marks.get(KEY_TICKET, ""),
            marks.get(KEY_UNTIL, "") == RESOLVED,
        )
    found = _from_comment(silence.comment)
    if found is None or not found[0]:
        return None
    who, note, ticket, until = found
    return Ack(who, silence.starts_at, note, ticket, until)


# -- keeping an ack until its alerts resolve ---------------------------------------------------

KEEP, EXTEND, EXPIRE = "keep", "extend", "expire"
# Polls in a row that must find no firing alert before an ack is expired: one poll that
# missed an alert (a peer restarting) must not end someone's ack.
CONFIRM_POLLS = 2


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # keep | extend | expire
    ends: datetime | None = None  # the new end, for extend
    why: str = ""


def keep_decision(
    ends: datetime, firing: int | None, misses: int, now: datetime, lease: timedelta
) -> Decision:
    """What to do with an active ack until resolved.

    `firing`: how many alerts it matches that still fire (None: cannot tell, e.g. a regex
    Python cannot run); `misses`: trusted polls in a row that found none. While alerts fire
    the ack is renewed to `lease` from now once less than half the lease is left, so an app
    that stops leaves it to lapse within one lease rather than silence for ever.
    """
    if firing is None:
        return Decision(KEEP, why="its matchers cannot be evaluated here")
    if firing > 0:
        if ends - now <= lease / 2:
            return Decision(EXTEND, now + lease, f"{firing} alert(s) still firing")
        return Decision(KEEP, why="firing; the lease still runs")
    if misses >= CONFIRM_POLLS:
        return Decision(EXPIRE, why="its alerts resolved")
    return Decision(KEEP, why="no alert fires: confirming on the next poll")
