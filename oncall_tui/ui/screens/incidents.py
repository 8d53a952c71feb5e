"""Incidents: declared from the board or the detail (`i`), listed by `:incidents`, each on a
screen of its own with its timeline, workflow step, status update and Markdown export.

Every string here (titles from alert names, labels, notes) is drawn as `rich.text.Text`,
never as markup; the files are the state layer's (`state/incidents.py`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from oncall_tui.domain import incidents as rules
from oncall_tui.domain.board import BoardAlert, Line
from oncall_tui.domain.incidents import SEVS, Incident, SLOBurn
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.context import ContextState
from oncall_tui.ui.widgets.field import Field
from oncall_tui.ui.widgets.keys_footer import KeysFooter


def _common(alerts: Sequence[BoardAlert]) -> dict[str, str]:
    if not alerts:
        return {}
    first = alerts[0].labels
    return {k: v for k, v in first.items() if all(a.labels.get(k) == v for a in alerts)}


def declare_from(
    screen: Screen[Any], state: ContextState, alerts: Sequence[BoardAlert], user: str
) -> Incident | None:
    """Declare an incident from one alert or a group's alerts, and open it."""
    if not alerts:
        screen.notify("no alert selected", severity="warning")
        return None
    labels: Mapping[str, str] = alerts[0].labels if len(alerts) == 1 else _common(alerts)
    burns = [
        SLOBurn(r.spec.name, r.state, r.remaining_pct)
        for a in alerts
        for r in state.slo.matching(a.labels)
    ]
    sev = rules.suggest_sev([a.severity for a in alerts], list({b.name: b for b in burns}.values()))
    first = alerts[0]
    name = labels.get("alertname") or first.name
    summary = first.annotations.get("summary", "") if len(alerts) == 1 else f"{len(alerts)} alerts"
    title = rules.title_for(name, labels, summary)
    try:
        incident = state.incidents.declare(title=title, sev=sev, commander=user, labels=labels)
    except OSError as exc:
        screen.notify(f"incident not saved: {exc.strerror or exc}", severity="error")
        return None
    screen.notify(f"{SEVS[incident.sev].name} declared: {incident.title}", title="incident")
    screen.app.push_screen(IncidentScreen(state, incident.id))
    return incident


def alerts_of(line: Line | None) -> list[BoardAlert]:
    if line is None:
        return []
    return [line.alert] if line.alert is not None else list(line.shown or line.group.alerts)


def incident_text(incident: Incident, now: float) -> Text:
    sev = SEVS[incident.sev]
    out = Text()
    out.append(f"{sev.name}", style="bold")
    out.append(f"  {sev.definition}; respond {sev.response.lower()}\n")
    out.append(f"why: {one_line(incident.sev_reason, 300)}\n")
    out.append(f"declared {rules.clock(incident.declared_at)}")
    for role, who in incident.roles.items():
        out.append(f"  {one_line(role, 40)}: {one_line(who, 80)}")
    out.append("\nstep: ")
    for step in rules.STEPS:
        out.append(f" {step} ", style="reverse" if step == incident.step else "")
    out.append("\n\nTimeline (UTC)\n", style="bold")
    for event in incident.timeline:
        out.append(f"{rules.clock(event.at)[11:19]}  {event.kind:<9} {one_line(event.text, 300)}\n")
    out.append("\nStatus update\n", style="bold")
    out.append(rules.status_update(incident, now))
    return out


class IncidentScreen(Screen[None]):
    CSS_PATH = "routing.tcss"
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="incident.back"),
        Binding("n", "advance", "Next step", id="incident.next_step"),
        Binding("m", "note", "Note", id="incident.note"),
        Binding("e", "export", "Export Markdown", id="incident.export"),
        Binding("plus", "sev(-1)", "SEV up", show=False, id="incident.sev_up"),
        Binding("minus", "sev(1)", "SEV down", show=False, id="incident.sev_down"),
    ]

    def __init__(self, state: ContextState, incident_id: str) -> None:
        super().__init__()
        self.book = state.incidents
        self.incident_id = incident_id

    def compose(self) -> ComposeResult:
        yield Static(id="incident-title", classes="routing-title")
        with VerticalScroll(classes="routing-body"):
            yield Static(id="incident-body")
        note = Field(placeholder="a note for the timeline (enter saves, esc cancels)")
        note.display = False
        yield note
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self.book.listeners.append(self.show)
        self.show()

    def on_unmount(self) -> None:
        if self.show in self.book.listeners:
            self.book.listeners.remove(self.show)

    @property
    def incident(self) -> Incident:
        return self.book.get(self.incident_id)

    def show(self) -> None:
        try:
            incident = self.incident
        except (OSError, ValueError) as exc:
            self.query_one("#incident-body", Static).update(Text(f"cannot read: {exc}"))
            return
        self.query_one("#incident-title", Static).update(
            Text(f"incident {incident.id}  {incident.title}", style="bold")
        )
        self.query_one("#incident-body", Static).update(incident_text(incident, time.time()))

    def _change(self, change: object) -> None:
        try:
            self.book.update(self.incident_id, change)  # type: ignore[arg-type]
        except (OSError, ValueError) as exc:
            self.notify(f"incident not saved: {exc}", severity="error")

    def action_advance(self) -> None:
        self._change(lambda i: rules.advance(i, time.time()))

    def action_sev(self, delta: int) -> None:
        self._change(lambda i: rules.set_sev(i, i.sev + delta, time.time()))

    def action_note(self) -> None:
        note = self.query_one(Field)
        note.display = True
        note.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        event.input.display = False
        self.query_one(VerticalScroll).focus()
        if text:
            self._change(lambda i: rules.add_note(i, text, time.time(), self.book.user))

    def action_export(self) -> None:
        try:
            path = self.book.export(self.incident)
        except (OSError, ValueError) as exc:
            self.notify(f"export failed: {exc}", severity="error")
            return
        self.notify(f"written to {path}", title="post-mortem draft", timeout=10)

    def action_back(self) -> None:
        note = self.query_one(Field)
        if note.display:
            note.display = False
            self.query_one(VerticalScroll).focus()
            return
        self.dismiss()


class IncidentsScreen(Screen[None]):
    """`:incidents`: every incident on this machine, newest first; enter opens one."""

    CSS_PATH = "routing.tcss"
    BINDINGS = [Binding("escape,q", "back", "Back", id="incidents.back")]

    def __init__(self, state: ContextState) -> None:
        super().__init__()
        self.state = state

    def compose(self) -> ComposeResult:
        yield Static(
            Text(f"incidents  kept in {self.state.incidents.directory}", style="bold"),
            classes="routing-title",
        )
        yield OptionList(id="incidents-list")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.show()

    def on_screen_resume(self) -> None:
        self.show()

    def show(self) -> None:
        found, bad = self.state.incidents.load()
        options = self.query_one(OptionList)
        options.clear_options()
        for incident in found:
            line = Text(f"{SEVS[incident.sev].name}  {incident.step:<13} ")
            line.append(f"{rules.clock(incident.declared_at)[:16]}  {incident.title}")
            options.add_option(Option(line, id=incident.id))
        if not found:
            options.add_option(Option(Text("no incidents yet: i on an alert declares one"), None))
        for problem in bad:
            self.notify(problem, title="unreadable incident", severity="warning")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.push_screen(IncidentScreen(self.state, event.option.id))

    def action_back(self) -> None:
        self.dismiss()
