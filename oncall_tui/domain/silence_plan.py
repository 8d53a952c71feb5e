"""Planning a silence: what the form holds, what is wrong with it, what it would hit.

Pure logic: the form (ui/) feeds strings in and shows the problems and the preview; the
writer (silencing.py) turns a valid Draft into PostableSilences. Nothing here talks to a
server, so every rule is a plain unit test.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo

from oncall_tui.domain.acks import AckRequest, read_ack
from oncall_tui.domain.board import PENDING_CLUSTER, BoardAlert
from oncall_tui.domain.matcher_grammar import Grammar
from oncall_tui.domain.matchers import (
    FilterError,
    LabelMatcher,
    parse_matcher,
    parse_matchers,
)
from oncall_tui.domain.timespec import TimeSpecError, parse_duration, parse_moment
from oncall_tui.wire.alertmanager import Matcher, PostableSilence, Silence

MAINTENANCE_PREFIX = "[maintenance "
DEFAULT_PREVIEW_LIMIT = 25
SPREAD_LABELS = ("team", "cluster")


def default_author(configured: str | None) -> str:
    """The config's `user`, else user@host: a silence always says who made it."""
    if configured and configured.strip():
        return configured.strip()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname() or 'localhost'}"


@dataclass(frozen=True, slots=True)
class Problem:
    field: str  # matcher:N, matchers, start, end, comment, author
    message: str


@dataclass(frozen=True, slots=True)
class Draft:
    """A valid silence request; `replaces` is the ID of the silence being edited.

    An ack carries its request: where the cluster keeps silence annotations (0.32+) its facts
    go there, elsewhere into the comment. `annotations` are those of an edited silence, kept.
    """

    matchers: tuple[LabelMatcher, ...]
    starts: datetime
    ends: datetime
    comment: str
    created_by: str
    replaces: str | None = None
    ack: AckRequest | None = None
    annotations: Mapping[str, str] | None = None
    # Whether starts and ends were typed relative to now ("now", "2h", "+30m"): those follow
    # the clock of each cluster written to. An instant the user named ("03:30", a date) is
    # their wall time and never moves.
    relative: tuple[bool, bool] = (False, False)
    # The server-clock offset (seconds, theirs minus ours) the relative ones were taken from.
    offset_s: float | None = None

    def on_clock(self, offset_s: float | None) -> Draft:
        """This draft for a cluster whose clock is `offset_s` off ours: its relative times
        move by the difference from the offset they were taken from."""
        if offset_s is None or self.offset_s is None or not any(self.relative):
            return self
        shift = timedelta(seconds=offset_s - self.offset_s)
        return replace(
            self,
            starts=self.starts + shift if self.relative[0] else self.starts,
            ends=self.ends + shift if self.relative[1] else self.ends,
            offset_s=offset_s,
        )

    def postable(
        self, silence_id: str | None = None, *, annotated: bool = False
    ) -> PostableSilence:
        comment, annotations = self.comment, dict(self.annotations or {}) or None
        if self.ack is not None:
            comment = self.ack.comment(annotated=annotated)
            annotations = self.ack.annotations() if annotated else None
        return PostableSilence(
            matchers=[m.to_api() for m in self.matchers],
            starts_at=self.starts,
            ends_at=self.ends,
            created_by=self.created_by,
            comment=comment,
            id=silence_id if silence_id is not None else self.replaces,
            annotations=annotations,
        )


@dataclass(frozen=True, slots=True)
class Editing:
    """The silence an edit starts from, exactly as the server holds it.

    The form shows Starts and Ends to the minute; a field left as shown keeps the server's
    own instant, so a comment-only edit sends back the very startsAt/endsAt it read and
    Alertmanager updates the silence in place (same ID) instead of replacing it.
    """

    silence_id: str
    matchers: tuple[Matcher, ...]
    starts: datetime
    ends: datetime
    state: str  # as read: active, pending or expired
    start_text: str = ""  # what Starts showed ("" for a silence already running)
    end_text: str = ""
    # 0.32+: the silence's annotations (an ack's note, ticket...), sent back unchanged.
    annotations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FormInput:
    """Everything typed into the form, as typed: kept whole when a submit fails.

    In a maintenance (`name` set), each row is a matcher set (`a="b" c=~"d"`) and becomes a
    silence of its own, all sharing start, end and comment.
    """

    matchers: tuple[tuple[bool, str], ...]  # (enabled, text) per row
    end: str
    start: str = ""
    comment: str = ""
    created_by: str = ""
    name: str | None = None  # a maintenance window's name; None for a single silence
    editing: Editing | None = None  # the silence this form edits

    @property
    def is_maintenance(self) -> bool:
        return self.name is not None

    @property
    def replaces(self) -> str | None:
        return self.editing.silence_id if self.editing is not None else None


@dataclass(frozen=True, slots=True)
class Checked:
    drafts: tuple[Draft, ...] = ()
    problems: tuple[Problem, ...] = ()
    # The enabled matcher sets that parsed, for the preview (one set for a single silence).
    sets: tuple[tuple[LabelMatcher, ...], ...] = ()
    # The window as far as it parsed, to show back while other fields are still wrong.
    starts: datetime | None = None
    ends: datetime | None = None

    @property
    def ok(self) -> bool:
        return bool(self.drafts) and not self.problems

    def problem(self, name: str) -> str:
        return "; ".join(p.message for p in self.problems if p.field == name)


def parse_rows(
    rows: Iterable[tuple[bool, str]], *, sets: bool = False, grammar: Grammar = Grammar.CLASSIC
) -> tuple[list[list[LabelMatcher]], list[Problem]]:
    """The enabled rows, parsed: one matcher per row, or one matcher set per row, read with
    the `grammar` of the Alertmanagers written to (as their filter and amtool read it)."""
    parsed: list[list[LabelMatcher]] = []
    problems: list[Problem] = []
    for index, (enabled, text) in enumerate(rows):
        if not enabled:
            continue
        try:
            parsed.append(
                parse_matcher_set(text, grammar) if sets else [parse_matcher(text, grammar)]
            )
        except FilterError as exc:
            problems.append(
                Problem(f"matcher:{index}", f"column {exc.position + 1}: {exc.message}")
            )
    return parsed, problems


def parse_matcher_set(text: str, grammar: Grammar = Grammar.CLASSIC) -> list[LabelMatcher]:
    """`{service="churn-api", job=~"batch.*"}`: several matchers on one line, read as
    Alertmanager reads a matcher list (a config `matchers:` entry). Raises FilterError."""
    return parse_matchers(text, grammar)


def matcher_problems(matchers: Sequence[LabelMatcher], where: str = "matchers") -> list[Problem]:
    # Label names are left to the server: its silence validation is stricter than its parser
    # (0.25 parses foo:bar but refuses it in a silence) and changes with the version.
    if not matchers:
        return [Problem(where, "no matcher is on: a silence needs at least one")]
    if all(m.matches_empty for m in matchers):
        return [Problem(where, "every matcher matches an empty label: add one that names a value")]
    return []


def follows_clock(text: str) -> bool:
    """Typed relative to now (empty, `now`, `2h`, `+30m`), not an instant (`03:30`, a date)."""
    spec = text.strip()
    if not spec or spec.lower() == "now" or spec.startswith("+"):
        return True
    try:
        parse_duration(spec)
    except TimeSpecError:
        return False
    return True


def _times(
    form: FormInput, now: datetime, zone: tzinfo | None
) -> tuple[datetime, datetime | None, list[Problem], tuple[bool, bool]]:
    problems = []
    starts, starts_rel = now, True
    kept = form.editing
    # Starts left as shown keeps the server's start; an expired silence starts again now.
    if kept is not None and kept.state != "expired" and form.start.strip() == kept.start_text:
        starts, starts_rel = kept.starts, False
    elif form.start.strip():
        try:
            named = parse_moment(form.start, now, zone=zone)
            starts = max(now, named)
            starts_rel = follows_clock(form.start) or named <= now
        except TimeSpecError as exc:
            problems.append(Problem("start", str(exc)))
    ends, ends_rel = None, False
    if kept is not None and form.end.strip() and form.end.strip() == kept.end_text:
        ends = kept.ends
    else:
        try:
            ends = end_from(form.end, starts, now, zone)
            # A duration counts from the start: relative when the start is.
            end = form.end.strip()
            ends_rel = follows_clock(end) and (end.startswith("+") or end == "now" or starts_rel)
        except TimeSpecError as exc:
            problems.append(Problem("end", str(exc)))
    if ends is not None:
        if ends <= now:
            problems.append(Problem("end", "the end is in the past"))
        elif ends <= starts:
            problems.append(Problem("end", "the end must come after the start"))
    return starts, ends, problems, (starts_rel, ends_rel)


def replacement(editing: Editing | None, draft: Draft, now: datetime) -> str:
    """Why saving `draft` makes a NEW silence instead of updating `editing` in place, or "".

    Alertmanager (0.25 and later) updates in place only when the matchers are unchanged, in
    the same order, and the silence is active with an unchanged startsAt, or pending with a
    start not in the past; otherwise it expires the old one and answers with a new ID.
    """
    if editing is None:
        return ""
    if editing.state == "expired" or editing.ends <= now:
        return "it has expired"
    if [m.to_api() for m in draft.matchers] != list(editing.matchers):
        return "the matchers change"
    if editing.starts <= now and draft.starts != editing.starts:
        return "the start of a running silence changes"
    if editing.starts > now and draft.starts <= now:  # the server's now is later still
        return "its start moves to now"
    return ""


def edit_note(editing: Editing | None, checked: Checked, now: datetime) -> tuple[str, bool]:
    """What saving an edit will do to the silence's ID, said before saving: (text, new?)."""
    if editing is None or not checked.drafts:
        return "", False
    short = editing.silence_id[:8]
    why = replacement(editing, checked.drafts[0], now)
    if not why:
        return f"saves in place: silence {short} keeps its ID", False
    if editing.state == "expired" or editing.ends <= now:
        return f"{why}: saving makes a new silence (ID {short} stays expired)", True
    return f"this change makes a new silence ({why}): ID {short} will be expired", True


def check(
    form: FormInput,
    now: datetime,
    zone: tzinfo | None = None,
    *,
    grammar: Grammar = Grammar.CLASSIC,
    offset_s: float | None = None,
) -> Checked:
    """Parse and validate the form; every problem at once, by field. Times typed without a
    zone are in `zone` (default: the local one); matchers are read with `grammar`, the one
    the servers written to read (classic, the safe one, until their versions are known).
    `now` is the servers' clock, `offset_s` ahead of ours: drafts keep it (Draft.on_clock)."""
    sets, problems = parse_rows(form.matchers, sets=form.is_maintenance, grammar=grammar)
    if not form.is_maintenance:
        sets = [[m for row in sets for m in row]]  # every row is one matcher of one silence
    if not problems:
        if form.is_maintenance:
            if not sets:
                problems.append(Problem("matchers", "add at least one matcher set"))
            for index, matchers in enumerate(sets):
                problems += matcher_problems(matchers, f"set:{index}")
        else:
            problems += matcher_problems(sets[0])
    starts, ends, time_problems, relative = _times(form, now, zone)
    problems += time_problems
    if not form.comment.strip():
        problems.append(Problem("comment", "a comment is required: say why"))
    if not form.created_by.strip():
        problems.append(Problem("author", "created by must not be empty"))
    name = (form.name or "").strip()
    if form.is_maintenance and (not name or "]" in name):
        problems.append(Problem("name", "a maintenance needs a name (without ])"))
    parsed = tuple(tuple(m) for m in sets)
    window_ok = not any(p.field in ("start", "end") for p in time_problems)
    window = (starts, ends) if window_ok else (None, None)
    if problems or ends is None:
        return Checked((), tuple(problems), parsed, *window)
    comment = form.comment.strip()
    if form.is_maintenance:
        comment = maintenance_comment(name, comment)
    kept = dict(form.editing.annotations) if form.editing is not None else None
    author = form.created_by.strip()
    drafts = tuple(
        Draft(
            m,
            starts,
            ends,
            comment,
            author,
            form.replaces,
            annotations=kept,
            relative=relative,
            offset_s=offset_s,
        )
        for m in parsed
    )
    return Checked(drafts, (), parsed, starts, ends)


def end_from(text: str, starts: datetime, now: datetime, zone: tzinfo | None = None) -> datetime:
    """A duration counts from the start (`2h` of scheduled work), or from now for a silence
    already running; anything else is a moment."""
    spec = text.strip()
    if spec and not spec.startswith("+"):
        try:
            return max(starts, now) + parse_duration(spec)
        except TimeSpecError:
            pass
    return parse_moment(spec, now, zone=zone, after=starts)


def extended_end(ends: datetime, delta: timedelta, now: datetime) -> datetime:
    """Extending counts from max(now, end): an expired silence gets `delta` from now."""
    return max(now, ends) + delta


# -- blast radius ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Preview:
    alerts: tuple[BoardAlert, ...]
    warnings: tuple[str, ...] = ()
    over_limit: bool = False
    clusters: tuple[str, ...] = field(default=())


def assess(
    alerts: Iterable[BoardAlert],
    *,
    limit: int = DEFAULT_PREVIEW_LIMIT,
    spread_labels: Sequence[str] = SPREAD_LABELS,
) -> Preview:
    """Warnings for alerts already known to match (Alertmanager's own matching)."""
    hit = tuple(a for a in alerts if a.cluster != PENDING_CLUSTER)
    warnings = []
    if not hit:
        warnings.append("matches no alert right now")
    over = len(hit) > limit
    if over:
        warnings.append(f"matches {len(hit)} alerts, more than {limit}")
    for label in spread_labels:
        values = sorted({a.labels[label] for a in hit if a.labels.get(label)})
        if len(values) > 1:
            warnings.append(f"reaches several {label}s: {', '.join(values)}")
    clusters = tuple(sorted({a.cluster for a in hit}))
    if len(clusters) > 1:
        warnings.append(f"reaches several Alertmanager clusters: {', '.join(clusters)}")
    return Preview(hit, tuple(warnings), over, clusters)


# -- identity: a retry never makes a second silence --------------------------------------------


def _matcher_key(m: Matcher) -> tuple[str, str, bool, bool]:
    return (m.name, m.value, m.is_regex, m.is_equal)


def same_request(existing: Silence, wanted: PostableSilence) -> bool:
    """An unexpired silence with the same matchers, author, comment and annotations: the one
    an earlier, seemingly failed attempt created."""
    return (
        existing.state != "expired"
        and existing.created_by == wanted.created_by
        and existing.comment == wanted.comment
        and existing.annotations == (wanted.annotations or {})
        and sorted(map(_matcher_key, existing.matchers))
        == sorted(map(_matcher_key, wanted.matchers))
    )


def find_same(silences: Iterable[Silence], wanted: PostableSilence) -> Silence | None:
    return next((s for s in silences if same_request(s, wanted)), None)


# -- acks and maintenance, recognised by their comments ----------------------------------------


def ack_comment(user: str) -> str:
    """A plain ack's comment (domain/acks.py has the whole form)."""
    return AckRequest(user).comment(annotated=False)


def acked_by(silence: Silence) -> str | None:
    ack = read_ack(silence)
    return ack.who if ack is not None else None


def maintenance_comment(name: str, comment: str) -> str:
    return f"{MAINTENANCE_PREFIX}{name}] {comment}"


def maintenance_name(silence: Silence) -> str | None:
    if silence.comment.startswith(MAINTENANCE_PREFIX):
        name, sep, _ = silence.comment[len(MAINTENANCE_PREFIX) :].partition("]")
        return name if sep and name else None
    return None


def prefill_for_alert(labels: Mapping[str, str]) -> list[tuple[bool, str]]:
    """One row per label, all on: together they pick out this alert and nothing else."""
    return [(True, str(LabelMatcher(k, "=", v))) for k, v in sorted(labels.items())]


def prefill_for_group(group_labels: Iterable[tuple[str, str]]) -> list[tuple[bool, str]]:
    rows = [(True, str(LabelMatcher(k, "=", v))) for k, v in group_labels]
    return rows or [(True, "")]
