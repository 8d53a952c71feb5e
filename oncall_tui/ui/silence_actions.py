"""Silence actions shared by the board and the silences view: open the form, ack, expire,
extend. One place decides what a read-only context refuses and how results are reported."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from oncall_tui.config import SilenceDefaults
from oncall_tui.domain.acks import RESOLVED, AckRequest, split_note
from oncall_tui.domain.board import BoardAlert, BoardGroup, Line
from oncall_tui.domain.incidents import ACK, SILENCE
from oncall_tui.domain.matchers import LabelMatcher
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.silence_plan import (
    Draft,
    Editing,
    FormInput,
    default_author,
    maintenance_name,
    prefill_for_alert,
    prefill_for_group,
)
from oncall_tui.domain.timespec import local_zone, parse_duration
from oncall_tui.state import silences as silencing
from oncall_tui.state.clock import alertmanager_offset, server_now
from oncall_tui.state.wiring import Clients
from oncall_tui.wire.alertmanager import Silence

if TYPE_CHECKING:  # the dialogs load when first opened (start-up time)
    from oncall_tui.ui.dialogs.ack import AckAnswer

# Called after a write with what the servers did (None when nothing was written).
Done = Callable[[silencing.WriteReport | None], object]
Record = Callable[[str, str, Mapping[str, str]], None]


def _common_labels(group: BoardGroup) -> list[tuple[str, str]]:
    """A group's own labels, or (grouped by nothing) the labels all its alerts share."""
    if group.labels:
        return list(group.labels)
    if not group.alerts:
        return []
    first: Mapping[str, str] = group.alerts[0].labels
    return sorted(
        (k, v) for k, v in first.items() if all(a.labels.get(k) == v for a in group.alerts)
    )


def target_labels(line: Line) -> tuple[str, list[tuple[str, str]]]:
    """What `s`/`a` act on: the alert under the cursor, or the whole group on its header."""
    if line.alert is not None:
        return f"alert {line.alert.name}", sorted(line.alert.labels.items())
    labels = _common_labels(line.group)
    named = " ".join(f"{k}={v}" for k, v in labels) or f"→ {line.group.receiver}"
    count = len(line.group.alerts)
    return f"group {named} ({count} alert{'s' * (count != 1)})", labels


def _local_input(moment: datetime) -> str:
    return moment.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M")


class SilenceActions:
    def __init__(
        self,
        clients: Clients,
        defaults: SilenceDefaults,
        user: str | None,
        record: Record | None = None,
    ) -> None:
        self.clients = clients
        # Tells the incidents what was written (state/incidents.py's `record`).
        self.record = record
        self.defaults = defaults
        self.user = default_author(user)
        self.comments: list[str] = []  # this session's comments, offered as suggestions

    def refused(self, screen: Screen[Any], what: str) -> bool:
        """True (and says why) when this context must not write."""
        if self.clients.context.read_only:
            screen.notify(
                f"{what}: this context is read-only (--read-only or read_only: true), "
                "so nothing is written",
                title="read-only",
                severity="warning",
            )
            return True
        return False

    def _form(
        self,
        screen: Screen[Any],
        form: FormInput,
        title: str,
        on_saved: Done,
        *,
        alerts: Callable[[], Sequence[BoardAlert]] = list,
        clusters: Sequence[str] | None = None,
    ) -> None:
        def saved(report: silencing.WriteReport | None) -> None:
            if report is not None:
                screen.notify(report.summary(), title=f"{title}: saved")
                self._recorded(SILENCE, report)
                on_saved(report)

        # Imported when first opened: the board's first frame does not wait for the form.
        from oncall_tui.ui.dialogs.silence_form import SilenceForm

        screen.app.push_screen(
            SilenceForm(
                self.clients,
                form,
                defaults=self.defaults,
                board_alerts=alerts,
                clusters=clusters,
                title=title,
                comments=self.comments,
            ),
            saved,
        )

    def open_form(
        self,
        screen: Screen[Any],
        line: Line,
        alerts: Callable[[], Sequence[BoardAlert]],
        on_saved: Done,
    ) -> None:
        if self.refused(screen, "silence"):
            return
        what, labels = target_labels(line)
        rows = (
            prefill_for_alert(dict(labels)) if line.alert is not None else prefill_for_group(labels)
        )
        form = FormInput(tuple(rows), end=self.defaults.default_duration, created_by=self.user)
        title = f"Silence {what}"
        if line.alert is not None and line.alert.state == "pending":
            title += " (pending in Prometheus: the silence holds it once it fires)"
        self._form(screen, form, title, on_saved, alerts=alerts)

    def open_maintenance(
        self, screen: Screen[Any], alerts: Callable[[], Sequence[BoardAlert]], on_saved: Done
    ) -> None:
        if self.refused(screen, "maintenance"):
            return
        form = FormInput((), end="", created_by=self.user, name="")
        self._form(screen, form, "Maintenance window", on_saved, alerts=alerts)

    def open_edit(
        self, screen: Screen[Any], cluster: str, silence: Silence, on_saved: Done
    ) -> None:
        if self.refused(screen, "edit"):
            return
        now = server_now(self.clients, [cluster])
        rows = tuple((True, str(LabelMatcher.from_api(m))) for m in silence.matchers)
        start = _local_input(silence.starts_at) if silence.starts_at > now else ""
        end = _local_input(silence.ends_at)
        editing = Editing(
            silence.id,
            tuple(silence.matchers),
            silence.starts_at,
            silence.ends_at,
            silence.state,
            start_text=start,
            end_text=end,
            annotations=dict(silence.annotations),
        )
        form = FormInput(
            rows,
            end=end,
            start=start,
            comment=one_line(silence.comment, 2000),  # an Input must not hold escapes
            created_by=self.user,
            name=None,
            editing=editing,
        )
        label = maintenance_name(silence)
        title = f"Edit silence {silence.id[:8]} on {cluster}" + (f" ({label})" if label else "")
        self._form(screen, form, title, on_saved, clusters=[cluster])

    def ack(
        self,
        screen: Screen[Any],
        line: Line,
        on_saved: Done,
        answer: AckAnswer | None = None,
    ) -> None:
        """`a`: ack for `ack_duration`, at once. With an answer from `A`: its note or ticket,
        and until resolved (renewed by state/ack_keeper.py) or for the duration typed."""
        if self.refused(screen, "ack"):
            return
        what, labels = target_labels(line)
        matchers = tuple(LabelMatcher(k, "=", v) for k, v in labels)
        if not matchers:
            screen.notify(f"{what} has no labels to ack by", severity="warning")
            return
        ticket, note = split_note(answer.note) if answer is not None else ("", "")
        until_resolved = answer is not None and answer.until == RESOLVED
        if until_resolved:
            span, said = self.defaults.ack_lease, "until resolved"
        else:
            span = answer.until if answer is not None else self.defaults.ack_duration
            said = f"for {span}"
        now = server_now(self.clients)  # an ack lasts its full time by the server's clock
        ends = now + parse_duration(span)
        request = AckRequest(self.user, note, ticket, until_resolved)
        comment = request.comment(annotated=False)
        # "now" and its span follow each cluster's own clock when several are written to.
        offset = alertmanager_offset(self.clients)
        draft = Draft(
            matchers, now, ends, comment, self.user,
            ack=request, relative=(True, True), offset_s=offset,
        )  # fmt: skip
        screen.run_worker(
            self._write(screen, [draft], f"ACK {what} {said}", on_saved),
            group="silence-write",
            exit_on_error=False,
        )

    def ack_with_note(self, screen: Screen[Any], line: Line, on_saved: Done) -> None:
        """`A`: ask for a note or ticket and how long, then ack."""
        if self.refused(screen, "ack"):
            return
        what, _ = target_labels(line)

        def answered(answer: AckAnswer | None) -> None:
            if answer is not None:
                self.ack(screen, line, on_saved, answer)

        from oncall_tui.ui.dialogs.ack import AckDialog

        screen.app.push_screen(AckDialog(what), answered)

    async def _write(
        self, screen: Screen[Any], drafts: list[Draft], what: str, on_saved: Done
    ) -> None:
        report = await silencing.write(self.clients, drafts)
        self._recorded(ACK, report)
        self._report(screen, report, what, on_saved)

    def _recorded(self, kind: str, report: silencing.WriteReport) -> None:
        """One event per silence written (once, whatever the number of clusters)."""
        if self.record is None:
            return
        done = {o.silence.id: o.silence for o in report.outcomes if o.silence is not None}
        for silence in done.values():
            labels = {m.name: m.value for m in silence.matchers if m.is_equal and not m.is_regex}
            matchers = " ".join(str(m) for m in silence.matchers)
            who = one_line(silence.created_by, 80)
            verb = "acked" if kind == ACK else "silenced"
            until = silence.ends_at.astimezone(UTC).strftime("%H:%M UTC")
            self.record(
                kind, f"{verb} by {who} until {until}: {matchers} ({silence.id[:8]})", labels
            )

    def _report(
        self, screen: Screen[Any], report: silencing.WriteReport, what: str, on_saved: Done
    ) -> None:
        if report.ok:
            screen.notify(report.summary(), title=what)
        else:
            # One line per silence: which were written, which not and the server's words.
            done = f"{len(report.written)} of {len(report.outcomes)} done"
            screen.notify(
                "\n".join(report.lines()),
                title=f"{what}: {done}",
                severity="error",
                timeout=30,
            )
        on_saved(report)

    async def expire(
        self, screen: Screen[Any], targets: Sequence[tuple[str, str]], on_saved: Done
    ) -> silencing.WriteReport | None:
        if self.refused(screen, "expire"):
            return None
        report = await silencing.expire(self.clients, targets)
        self._report(screen, report, f"expire {len(targets)} silence(s)", on_saved)
        return report

    async def extend(
        self,
        screen: Screen[Any],
        targets: Sequence[tuple[str, str]],
        delta: timedelta,
        on_saved: Done,
    ) -> silencing.WriteReport | None:
        if self.refused(screen, "extend"):
            return None
        report = await silencing.extend(self.clients, targets, delta)
        self._report(screen, report, f"extend {len(targets)} silence(s)", on_saved)
        return report

    async def maintenance_targets(self, screen: Screen[Any], name: str) -> list[tuple[str, str]]:
        """(cluster, ID) of every unexpired silence of the named maintenance; says so if none."""
        read = await silencing.read_all(self.clients, with_alerts=False, states=silencing.UNEXPIRED)
        keys = [(cluster, s.id) for cluster, s in read.silences if maintenance_name(s) == name]
        if not keys:
            problem = f" ({'; '.join(read.errors)})" if read.errors else ""
            screen.notify(
                f"no active or pending maintenance named {name!r}{problem}", severity="warning"
            )
        return keys
