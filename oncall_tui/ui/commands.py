"""`:` commands, k9s style: `:silences`, `:slo`, `:query`, `:maintenance`, `:ctx NAME`...

Kept out of the App so that it stays a thin wiring of screens; each command jumps to a view
(on top of the board, never deeper) or acts through the screen that owns the data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.board import BoardAlert
from ..domain.timespec import TimeSpecError, parse_duration
from .dialogs.confirm import Confirm
from .screens.alerts import AlertsScreen
from .screens.silences import SilencesScreen

if TYPE_CHECKING:
    from .app import OncallApp

VIEWS = ("alerts", "silences", "slo", "query")


def command_choices(app: OncallApp) -> list[str]:
    """What the prompt suggests as you type."""
    return [
        *VIEWS,
        "maintenance",
        "maintenance end ",
        "maintenance extend ",
        *(f"ctx {name}" for name in sorted(app.settings.contexts)),
        "sort severity",
        "sort age",
        "sort alertname",
        *(f"theme {name}" for name in sorted(app.available_themes)),
        "quit",
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
    rest = rest.strip()
    if verb in ("q", "q!", "quit"):
        app.exit()
    elif verb in ("ctx", "context"):
        if rest:
            await app.switch_context(rest)
        else:
            names = ", ".join(sorted(app.settings.contexts)) or (
                f"only {app.clients.context.name} (from the command line or the demo)"
            )
            app.notify(f"contexts: {names}", title=f"current: {app.clients.context.name}")
    elif verb == "alerts":
        await to_board(app)
    elif verb == "sort" and isinstance(app.screen, AlertsScreen):
        mode = rest if rest in ("severity", "age", "alertname") else f"label:{rest}"
        app.screen.set_sort(mode if rest else "severity")
    elif verb == "theme":
        if rest and app.get_theme(rest) is not None:
            app.theme = rest
        else:
            names = ", ".join(sorted(app.available_themes))
            app.notify(f"themes: {names}", title=f"current: {app.theme}")
    elif verb in ("silences", "silence", "sil"):
        await to_board(app)
        app.push_screen(SilencesScreen(app.clients, app.writer, lambda: board_alerts(app)))
    elif verb in ("maintenance", "maint"):
        await maintenance(app, rest)
    elif verb == "slo":
        from .screens.slo import SLOScreen

        await to_board(app)
        app.push_screen(SLOScreen(app.clients))
    elif verb == "query":
        from .screens.query import QueryScreen

        await to_board(app)
        app.push_screen(QueryScreen(app.clients))
    else:
        app.notify(f"unknown command {text!r} (? for help)", severity="error")


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
