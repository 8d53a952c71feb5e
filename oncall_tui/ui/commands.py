"""`:` commands, k9s style: `:silences`, `:slo`, `:query`, `:maintenance`, `:ctx NAME`...

Kept out of the App so that it stays a thin wiring of screens; each command jumps to a view
(on top of the board, never deeper) or acts through the screen that owns the data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from oncall_tui.domain.board import SORTS, BoardAlert
from oncall_tui.domain.timespec import TimeSpecError, parse_duration
from oncall_tui.ui.dialogs.confirm import Confirm
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.silences import SilencesScreen

if TYPE_CHECKING:
    from textual.screen import Screen

    from oncall_tui.state.context import ContextState
    from oncall_tui.ui.app import OncallApp


@dataclass(frozen=True)
class Command:
    """One `:` command: the names it answers to, how help shows it, what it does."""

    names: tuple[str, ...]  # the first is the one help and the prompt show
    usage: str  # as help shows it, e.g. ":sort severity|age|alertname|LABEL"
    does: str
    run: Callable[[OncallApp, str], Awaitable[None]]
    # What the prompt suggests (default: the first name); arguments worth completing too.
    suggest: Callable[[OncallApp], list[str]] | None = None


def context_names(app: OncallApp) -> list[str]:
    return sorted(app.settings.contexts)


async def _quit(app: OncallApp, rest: str) -> None:
    app.exit()


async def _ctx(app: OncallApp, rest: str) -> None:
    if rest:
        await app.switch_context(rest)
        return
    names = ", ".join(sorted(app.settings.contexts)) or (
        f"only {app.clients.context.name} (from the command line or the demo)"
    )
    app.notify(f"contexts: {names}", title=f"current: {app.clients.context.name}")


async def _alerts(app: OncallApp, rest: str) -> None:
    await to_board(app)


async def _sort(app: OncallApp, rest: str) -> None:
    await to_board(app)
    if isinstance(app.screen, AlertsScreen):
        mode = rest if rest in SORTS else f"label:{rest}"
        app.screen.set_sort(mode if rest else "severity")


async def _theme(app: OncallApp, rest: str) -> None:
    if rest and app.get_theme(rest) is not None:
        app.theme = rest
    else:
        names = ", ".join(sorted(app.available_themes))
        app.notify(f"themes: {names}", title=f"current: {app.theme}")


async def _silences(app: OncallApp, rest: str) -> None:
    await to_board(app)
    app.push_screen(SilencesScreen(app.state, app.writer))


def _view(module: str, name: str) -> Callable[[OncallApp, str], Awaitable[None]]:
    """`:NAME` for a view built from the state alone: back to the board, then the view. Its
    module loads when first opened, off the path to the first frame."""

    async def run(app: OncallApp, rest: str) -> None:
        screen: Callable[[ContextState], Screen[None]] = getattr(
            import_module(f"oncall_tui.ui.screens.{module}"), name
        )
        await to_board(app)
        app.push_screen(screen(app.state))

    return run


async def _handoff(app: OncallApp, rest: str) -> None:
    from oncall_tui.ui.screens.handoff import HandoffScreen

    defaults = app.settings.handoff
    try:
        since_s = parse_duration(rest).total_seconds() if rest.strip() else defaults.since_s
    except TimeSpecError as exc:
        app.notify(str(exc), severity="error")
        return
    if since_s <= 0:
        app.notify("the handoff window must be longer than 0", severity="error")
        return
    await to_board(app)
    app.push_screen(HandoffScreen(app.state, since_s, defaults.next_shift_s))


async def _maintenance(app: OncallApp, rest: str) -> None:
    await maintenance(app, rest)


# The one list of `:` commands: the prompt, its suggestions and `?` are all made from it.
COMMANDS: tuple[Command, ...] = (
    Command(
        ("alerts",),
        ":alerts",
        "the alert board",
        _alerts,
    ),
    Command(
        ("silences", "silence", "sil"),
        ":silences",
        "every silence: edit (enter), expire (e), extend (x), mark (space)",
        _silences,
    ),
    Command(
        ("slo",),
        ":slo",
        "every SLO of the context: budget left, burn rates, budget over time",
        _view("slo", "SLOScreen"),
    ),
    Command(
        ("query",),
        ":query",
        "a PromQL prompt: history (up/down), instant or range, table or chart",
        _view("query", "QueryScreen"),
    ),
    Command(
        ("routes", "route"),
        ":routes",
        "each cluster's routing tree with its alerts; / tests labels (service=x severity=y)",
        _view("routes", "RoutesScreen"),
    ),
    Command(
        ("health", "pipeline"),
        ":health",
        "is paging working: watchdog, failed notifications, rule evaluation, reloads, peers",
        _view("health", "HealthScreen"),
    ),
    Command(
        ("oncall", "who"),
        ":oncall",
        "who is on call now and next for each schedule; each escalation policy's steps",
        _view("oncall", "OncallScreen"),
    ),
    Command(
        ("incidents", "incident"),
        ":incidents",
        "incidents declared here (i on an alert): timeline, step (n), note (m), export (e)",
        _view("incidents", "IncidentsScreen"),
    ),
    Command(
        ("handoff",),
        ":handoff [4h]",
        "the shift handoff of a window (default handoff.since, 12h): episodes, what fires, "
        "acks, silences, SLOs",
        _handoff,
    ),
    Command(
        ("maintenance", "maint"),
        ":maintenance [end|extend NAME [2h]]",
        "silence several matcher sets for one window (e.g. tonight 22:00-02:00); "
        "end or extend a named one as a whole",
        _maintenance,
        lambda app: ["maintenance", "maintenance end ", "maintenance extend "],
    ),
    Command(
        ("ctx", "context"),
        ":ctx NAME",
        "switch context without restarting (`:ctx` alone lists them)",
        _ctx,
        lambda app: ["ctx", *(f"ctx {name}" for name in context_names(app))],
    ),
    Command(
        ("sort",),
        ":sort severity|age|alertname|LABEL",
        "sort the board; by a label, each row shows that label's value",
        _sort,
        lambda app: ["sort", *(f"sort {mode}" for mode in SORTS)],
    ),
    Command(
        ("theme",),
        ":theme NAME",
        "switch theme (`:theme` alone lists them)",
        _theme,
        lambda app: ["theme", *(f"theme {name}" for name in sorted(app.available_themes))],
    ),
    Command(
        ("q", "q!", "quit"),
        ":q",
        "quit",
        _quit,
        lambda app: ["quit"],
    ),
)
BY_NAME = {name: command for command in COMMANDS for name in command.names}


def command_help() -> list[tuple[str, str]]:
    """(usage, what it does) per command, for `?`."""
    return [(command.usage, command.does) for command in COMMANDS]


def command_choices(app: OncallApp) -> list[str]:
    """What the prompt suggests as you type."""
    return [
        choice
        for command in COMMANDS
        for choice in (command.suggest(app) if command.suggest else command.names[:1])
    ]


async def to_board(app: OncallApp) -> None:
    """Back to the board, so views open on top of it rather than on each other."""
    while len(app.screen_stack) > 2 and not isinstance(app.screen, AlertsScreen):
        await app.pop_screen()


def board_alerts(app: OncallApp) -> list[BoardAlert]:
    board = next((s for s in app.screen_stack if isinstance(s, AlertsScreen)), None)
    return board.all_alerts() if board is not None else []


def refresh_after_write(app: OncallApp) -> None:
    for screen in app.screen_stack:
        if isinstance(screen, AlertsScreen | SilencesScreen):
            screen.action_refresh()


async def run_command(app: OncallApp, text: str | None) -> None:
    if not text:
        return
    verb, _, rest = text.partition(" ")
    command = BY_NAME.get(verb)
    if command is None:
        app.notify(f"unknown command {text!r} (? for help)", severity="error")
        return
    await command.run(app, rest.strip())


async def maintenance(app: OncallApp, rest: str) -> None:
    """`:maintenance` opens the form; `:maintenance end NAME`, `:maintenance extend NAME 2h`."""
    action, _, args = rest.partition(" ")
    name, _, duration = args.strip().partition(" ")

    def saved(report: object = None) -> None:
        refresh_after_write(app)

    if not action:
        app.writer.open_maintenance(app.screen, lambda: board_alerts(app), saved)
        return
    if action not in ("end", "extend") or not name:
        app.notify("use :maintenance, :maintenance end NAME or :maintenance extend NAME 1h")
        return
    delta = None
    if action == "extend":
        try:
            delta = parse_duration(duration.strip() or app.settings.silences.extend_by)
        except TimeSpecError as exc:
            app.notify(str(exc), severity="error")
            return
    writer = app.writer
    if writer.refused(app.screen, f"maintenance {action}"):
        return
    screen = app.screen
    keys = await writer.maintenance_targets(screen, name)
    if not keys:
        return
    if delta is not None:
        await writer.extend(screen, keys, delta, saved)
        return

    async def answer(yes: bool | None) -> None:
        if yes:
            await writer.expire(screen, keys, saved)

    question = f"End maintenance {name!r}: expire its {len(keys)} silence(s)?"
    app.push_screen(Confirm(question), answer)
