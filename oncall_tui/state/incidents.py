"""Incidents kept as files, and the session's activity that fills their timelines.

`$XDG_DATA_HOME/oncall-tui/incidents/<id>.json`, one file per incident: the user's alone
(0600 in a 0700 directory) and written atomically (a temporary file in the same directory,
flushed, then renamed over), so a crash leaves the old file or the new one, never half.

What the app sees and does (alerts firing and resolving, acks, silences written, runbooks
opened, queries run) is `record`ed here by the places that do it: kept for the session, so
an incident declared after an ack starts with that ack, and added to every open incident it
is about. No Textual here.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from oncall_tui.domain import incidents as rules
from oncall_tui.domain.board import BoardAlert, BoardGroup
from oncall_tui.domain.incidents import Event, Incident
from oncall_tui.domain.per_group import PerGroup, merged
from oncall_tui.domain.sanitize import one_line

SEEN_LIMIT = 5000
# What was seen or done: kind, text, labels, when (None: now).
Happened = tuple[str, str, Mapping[str, str] | None, float | None]


def incidents_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "oncall-tui" / "incidents"


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, mode 0600, its directory 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp creates it 0600
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(slots=True)
class Prepared:
    """What `IncidentBook.prepare` made for `commit`."""

    kept: list[Event]  # the events the session keeps
    added: dict[str, list[Event]]  # by the ID of each open incident they are about
    problem: str | None  # why the incidents could not be read
    readable: bool  # else `commit` saves nothing and leaves `problem` as it was


class IncidentBook:
    def __init__(self, directory: Path | None = None, context: str = "") -> None:
        self.directory = directory or incidents_dir()
        self.context = context
        self.seen: list[Event] = []
        self.problem = ""  # the last failure to save, for a view to show
        self.user = ""  # who the app acts as: the commander of what it declares
        self._firing: dict[str, BoardAlert] | None = None
        self._groups: list[BoardGroup] | None = None  # the board `_firing` was taken from
        self._firing_of = PerGroup(_firing_in)
        self.listeners: list[Callable[[], object]] = []

    # -- the files -------------------------------------------------------------------------

    def path(self, incident_id: str) -> Path:
        return self.directory / f"{incident_id}.json"

    def load(self) -> tuple[list[Incident], list[str]]:
        """Every incident, newest first, and the files that could not be read."""
        found, bad = [], []
        for path in sorted(self.directory.glob("*.json")):
            try:
                found.append(rules.decode(path.read_bytes()))
            except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
                bad.append(f"{path.name}: {one_line(str(exc), 200)}")
        found.sort(key=lambda i: i.declared_at, reverse=True)
        return found, bad

    def get(self, incident_id: str) -> Incident:
        return rules.decode(self.path(incident_id).read_bytes())

    def save(self, incident: Incident) -> Incident:
        write_private(self.path(incident.id), rules.encode(incident))
        for listener in list(self.listeners):
            listener()
        return incident

    def export(self, incident: Incident, now: float | None = None) -> Path:
        """The Markdown post-mortem draft, next to the JSON."""
        path = self.directory / f"{incident.id}.md"
        text = rules.markdown(incident, time.time() if now is None else now)
        write_private(path, text.encode("utf-8"))
        return path

    # -- changes ----------------------------------------------------------------------------

    def declare(
        self,
        *,
        title: str,
        sev: tuple[int, str],
        commander: str,
        labels: Mapping[str, str],
        at: float | None = None,
    ) -> Incident:
        at = time.time() if at is None else at
        probe = Incident(
            id="", title="", sev=4, sev_reason="", declared_at=at, commander="", labels=dict(labels)
        )
        seen = [e for e in self.seen if rules.relates(e, probe) and e.labels]
        # Queries with no labels belong to it when run while its alerts were firing.
        since = min((e.at for e in seen if e.kind == rules.FIRED), default=at)
        seen += [e for e in self.seen if not e.labels and e.at >= since]
        incident = rules.declare(
            title=title,
            sev=sev,
            commander=commander,
            labels=labels,
            at=at,
            context=self.context,
            seen=seen,
        )
        while self.path(incident.id).exists():  # two declared in one second
            incident = msgspec.structs.replace(incident, id=incident.id + "-2")
        return self.save(incident)

    def update(self, incident_id: str, change: Callable[[Incident], Incident]) -> Incident:
        return self.save(change(self.get(incident_id)))

    def record(
        self, kind: str, text: str, labels: Mapping[str, str] | None = None, at: float | None = None
    ) -> None:
        """Something the app saw or did: kept for the session, added to each open incident
        it is about. Never raises: a failed save is kept in `problem`."""
        self.keep([(kind, text, labels, at)])

    def keep(self, happened: Sequence[Happened]) -> None:
        """`record` for many at once: the incidents are read once and each saved once."""
        self.commit(self.prepare(happened))

    def prepare(self, happened: Sequence[Happened]) -> Prepared:
        """The events `keep` adds, made and matched to the open incidents: pure reading (the
        incident files), so the board's follower runs it off the event loop.

        Only the events that are kept (the last SEEN_LIMIT) or that an open incident is about
        are made: the first poll of a 10,000-alert board made 10,000 events, read every
        incident file for each and kept 5,000, before the board could draw. Made on the event
        loop, the first board's 5,000 (50,000 alerts) held it 250 ms while keys waited.
        """
        current: list[Incident] = []
        problem: str | None = None
        readable = False  # the incidents were read (there is a directory of them)
        try:
            if happened and self.directory.is_dir():
                current = [i for i in self.load()[0] if i.open]
                readable = True
        except OSError as exc:
            problem = f"incident not saved: {exc.strerror or exc}"
        first_kept = len(happened) - SEEN_LIMIT
        kept: list[Event] = []
        added: dict[str, list[Event]] = {}
        for index, (kind, text, labels, at) in enumerate(happened):
            if index < first_kept and not current:
                continue
            event = Event(
                at=time.time() if at is None else at,
                kind=kind,
                text=one_line(text, 2000),
                labels={one_line(k, 200): one_line(v, 500) for k, v in (labels or {}).items()},
            )
            if index >= first_kept:
                kept.append(event)
            for incident in current:
                if rules.relates(event, incident):
                    added.setdefault(incident.id, []).append(event)
        return Prepared(kept, added, problem, readable)

    def commit(self, prepared: Prepared) -> None:
        """Keep what `prepare` made and save the incidents it changed (on the event loop)."""
        self.seen.extend(prepared.kept)
        del self.seen[:-SEEN_LIMIT]
        if prepared.problem is not None:
            self.problem = prepared.problem
        if not prepared.readable:
            return
        try:
            for incident_id, events in prepared.added.items():
                # Read again: the user may have changed it since `prepare` read it.
                incident = self.get(incident_id)
                changed = rules.add_events(incident, events)
                if changed is not incident:  # else it held them (fired before declared)
                    self.save(changed)
            self.problem = ""
        except OSError as exc:
            self.problem = f"incident not saved: {exc.strerror or exc}"

    # -- following the board ----------------------------------------------------------------

    def alerts_changed(self, groups: list[BoardGroup]) -> None:
        """Alerts firing now against the last poll: new ones fired, gone ones resolved."""
        self.keep(self.changes(groups))

    def changes(self, groups: list[BoardGroup]) -> list[Happened]:
        """What fired and resolved since the last board given here; pure reading, run off
        the event loop (state/context.py). `keep` then records them."""
        if groups is self._groups:
            return []  # the very board of the last poll (a quiet one): nothing fired or resolved
        self._groups = groups
        now = merged(self._firing_of(groups))
        before, self._firing = self._firing, now
        # Set differences pick the few alerts that fired or resolved; each list then keeps
        # the board's order.
        fired = now.keys() - before.keys() if before is not None else now.keys()
        gone = before.keys() - now.keys() if before is not None else set()
        happened: list[Happened] = [
            (
                rules.FIRED,
                f"{alert.name} fired ({alert.severity})",
                alert.labels,
                alert.started.timestamp() if alert.started else time.time(),
            )
            for key, alert in (now.items() if fired else ())
            if key in fired
        ]
        happened += [
            (rules.RESOLVED, f"{alert.name} resolved", alert.labels, None)
            for key, alert in (before.items() if before and gone else ())
            if key in gone
        ]
        return happened


def _firing_in(group: BoardGroup) -> dict[str, BoardAlert]:
    """A group's alerts firing now, by key: not pending, not held by the ledger, not gone."""
    return {
        a.key: a
        for a in group.alerts
        if a.state != "pending" and not a.unconfirmed and a.left_at is None
    }
