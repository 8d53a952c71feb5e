"""Helpers shared by the test modules, so that no test module imports another.

Waiting on a condition, building the app on the demo stack, reading what the app draws as a
user would, running the CLI, and the hostile payloads of the sanitising tests. A helper used
by one module only stays in that module. conftest.py registers this module for pytest's
assertion rewriting, so a failed `assert` here explains itself as it does in a test.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import pytest
from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual._xterm_parser import XTermParser
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static
from textual.widgets.markdown import MarkdownBlock

from oncall_tui.cli.demo import demo_context
from oncall_tui.config import ClusterConfig, Context, Settings
from oncall_tui.demo.stack import MissingBinaries, Stack, StackError, StackOptions
from oncall_tui.domain.board import BoardAlert
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.screens.detail import AlertDetailScreen
from oncall_tui.ui.widgets.board import BoardView
from oncall_tui.ui.widgets.status import StatusBar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]

# -- waiting -----------------------------------------------------------------------------------


async def until(
    pilot: Pilot[None],
    check: Callable[[], object],
    what: str = "",
    *,
    timeout: float = 30.0,
) -> None:
    """Let the app run until `check()` is truthy; an async check is awaited each time.

    Polls every 50 ms through `pilot.pause`, so the app handles its messages in between.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await pilot.pause(0.05)
    raise AssertionError(f"not within {timeout} s{': ' + what if what else ''}")


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 20.0) -> T:
    """Await `check` until it returns something truthy and return that (no app needed)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout} s (last: {last!r})")


def wait_until(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    """Call `probe` until it returns something truthy and return that (the synchronous
    `eventually`); a server or file not ready yet is retried; fail with the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except (httpx.HTTPError, OSError, ValueError, KeyError) as err:
            last = err
        else:
            if last:
                return cast(T, last)
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}; last: {last!r}")


# -- the app -----------------------------------------------------------------------------------


def lone_alertmanager() -> Stack:
    """A started Alertmanager of the test module's own, no Prometheus (every alert on it is
    posted by a test), for `with`: leaving the block stops it. Missing binaries or a failed
    start FAIL the test with the reason and the install command, never skip it, and with no
    chained traceback."""
    server, problem = None, ""
    try:
        server = Stack(StackOptions(alertmanager_peers=1, with_prometheus=False))
        server.start(timeout=30.0)
    except (MissingBinaries, StackError) as err:
        problem = str(err)
    if problem or server is None:
        if server is not None:
            server.stop()
        pytest.fail(problem, pytrace=False)
    return server


def context_app(context: Context, settings: Settings | None = None) -> OncallApp:
    """The app on one context, wired by the same factory as the CLI."""
    return OncallApp(settings or Settings(), build_clients(context))


def demo_app(stack: Stack, settings: Settings | None = None) -> OncallApp:
    """The app on the demo stack, polling every second."""
    return context_app(demo_context(stack, refresh=1), settings)


def terminal_sends(app: OncallApp, data: str) -> None:
    """`data` as one chunk from the terminal: parsed by Textual's own parser and queued
    together, as the driver does. (Pilot.press waits for each key, which hides races.)"""
    driver = app._driver
    assert driver is not None
    for event in XTermParser().feed(data):
        event.set_sender(app)
        driver.send_message(event)  # the path a real terminal's keys take


# -- the alert board ---------------------------------------------------------------------------


def board(app: OncallApp) -> BoardView:
    """The board widget of the current screen."""
    return app.screen.query_one(BoardView)


def rows(app: OncallApp) -> list[str]:
    """The board's lines as a user reads them (the rendered text, not the model)."""
    if not isinstance(app.screen, AlertsScreen):
        return []
    view = board(app)
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


def row_with(app: OncallApp, *words: str) -> str | None:
    """The first board line holding every word."""
    return next((r for r in rows(app) if all(w in r for w in words)), None)


def alert_row(app: OncallApp, *words: str) -> str | None:
    """An alert's line (not a group header) holding every word."""
    return next((r for r in rows(app) if r[:1] not in "▾▸" and all(w in r for w in words)), None)


def status(app: OncallApp) -> str:
    """The status line's text."""
    return app.screen.query_one(StatusBar).text.plain


def board_alert(
    app: OncallApp,
    name: str,
    state: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> BoardAlert | None:
    """The board model's alert called `name` (in `state`, carrying `labels`, if given),
    once the board has it."""
    screen = app.screen
    if not isinstance(screen, AlertsScreen):
        return None
    wanted = dict(labels or {})
    for group in screen.model.groups:
        for alert in group.alerts:
            right_state = state is None or alert.state == state
            if alert.name == name and right_state and wanted.items() <= alert.labels.items():
                return alert
    return None


async def cursor_on(
    app: OncallApp, pilot: Pilot[None], name: str, labels: Mapping[str, str] | None = None
) -> None:
    """Put the board's cursor on the alert called `name` (or its group of one), carrying
    `labels` if given (`{"cluster": "b"}`: the same alert in another cluster is another)."""
    view = board(app)
    wanted = dict(labels or {})

    def find() -> int | None:
        for index, line in enumerate(view._lines):
            alert = line.alert or (line.shown[0] if len(line.shown) == 1 else None)
            if alert is not None and alert.name == name and wanted.items() <= alert.labels.items():
                return index
        return None

    await until(pilot, lambda: find() is not None, f"a row for {name}")
    index = find()
    assert index is not None
    view.move_to(index)
    await pilot.pause()


# -- what a screen shows -----------------------------------------------------------------------


def plain(widget: Static) -> str:
    """A Static's text without its styles."""
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def texts(app: OncallApp, selector: str = "Static") -> str:
    """Every Static's text on the current screen: what a user can read there."""
    return "\n".join(plain(w) for w in app.screen.query(selector).results(Static))


def markdown_text(app: OncallApp) -> str:
    """The text of every Markdown block on the current screen."""
    blocks = app.screen.query(MarkdownBlock)
    return "\n".join(block._content.plain for block in blocks)


def section(app: OncallApp, key: str) -> str:
    """The plain text a user reads in one section of the detail screen ("" elsewhere)."""
    if not isinstance(app.screen, AlertDetailScreen):
        return ""
    return plain(app.screen.query_one(f"#detail-{key}", Static))


def screen_strips(app: OncallApp) -> list[Strip]:
    """The whole screen as the compositor draws it (status line, titles, board, footer)."""
    return app.screen._compositor.render_strips()


def widget_strips(widget: Widget) -> list[Strip]:
    """All of a widget's lines, also those scrolled out of view."""
    width, height = widget.outer_size
    return widget.render_lines(Region(0, 0, width, height)) if width and height else []


# -- the command line --------------------------------------------------------------------------

# Variables that would change which CA bundle or keyring a child process uses.
CLEARED_PREFIXES = ("ONCALL_TUI",)
CLEARED = ("SSL_CERT_FILE", "SSL_CERT_DIR", "PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS")
# Where the configs of the TLS tests tell the app to read the secured Alertmanager's password.
PASSWORD_ENV = "SECURE_AM_PASSWORD"


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m oncall_tui ARGS` with a clean environment; never a traceback."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(CLEARED_PREFIXES) and k not in CLEARED
    }
    done = subprocess.run(
        [sys.executable, "-m", "oncall_tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        env={**base, **(env or {})},
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def pty_env(home: str) -> dict[str, str]:
    """A user's terminal: xterm-256color, UTF-8, no config file of the developer's."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "XDG_CONFIG_HOME": home,
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


# -- hostile text ------------------------------------------------------------------------------

R = "\N{REPLACEMENT CHARACTER}"

MARKUP = "[bold]x[/bold] [/] [@click=app.quit]x[/]"
LINK = "[link=https://evil.example]click[/link]"
CSI = "\x1b[2J\x1b[31mred\x1b[0m"
OSC52 = "\x1b]52;c;ZXZpbA==\x07"
OSC8 = "\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\"
DCS = "\x1bPq#0;2;0;0;0\x1b\\"
APC = "\x1b_Gf=100;QUFB\x1b\\"
C1 = "\x9b2J\x9d52;c;ZXZpbA==\x9c\x85\x90q\x9c"
C0 = "bel\x07 bs abc\x08\x08\x08XYZ cr hidden\rSHOWN nul\x00 del\x7f vt\x0b ff\x0c"
BIDI = "rtl\u202eexe.gnp\u202c lri\u2066x\u2069 rlm\u200fx alm\u061cx ls\u2028ps\u2029"

# What a user must read instead: each control one U+FFFD, everything else as typed.
SHOWN = {
    "csi": f"{R}[2J{R}[31mred{R}[0m",
    "osc52": f"{R}]52;c;ZXZpbA=={R}",
    "osc8": f"{R}]8;;http://evil{R}\\x{R}]8;;{R}\\",
    "dcs": f"{R}Pq#0;2;0;0;0{R}\\",
    "apc": f"{R}_Gf=100;QUFB{R}\\",
    "c1": f"{R}2J{R}52;c;ZXZpbA=={R}{R}{R}q{R}",
    "c0": f"bel{R} bs abc{R}{R}{R}XYZ cr hidden{R}SHOWN nul{R} del{R} vt{R} ff{R}",
    "bidi": f"rtl{R}exe.gnp{R} lri{R}x{R} rlm{R}x alm{R}x ls{R}ps{R}",
}

# The payloads' own bytes: none may reach the terminal (C1 as the code point, so UTF-8).
PAYLOAD_BYTES = [
    b"\x1b]52",
    b"\x1b]8;;http://evil",
    b"\x1bP",
    b"\x1b_",
    b"\x1b[2J",
    b"\x1b[31m",
    "\x9b".encode(),
    "\x9d".encode(),
    "\x9c".encode(),
    "\x85".encode(),
    "\x90".encode(),
    "\u202e".encode(),
    b"\x08",
    b"\x00",
    b"\x7f",
]

BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def forbidden(text: str) -> list[str]:
    """C0 (all of it: even tab and newline have no place in a cell), DEL, C1, bidi controls."""
    return sorted(
        {
            f"U+{ord(c):04X}"
            for c in text
            if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in BIDI_CONTROLS or c in "\u2028\u2029"
        }
    )


def check_strips(strips: list[Strip], width: int, where: str) -> list[str]:
    """Each strip free of controls and exactly `width` cells wide, measured segment by segment."""
    problems = []
    for y, strip in enumerate(strips):
        parts = [segment.text for segment in strip]
        bad = forbidden("".join(parts))
        if bad:
            problems.append(f"{where} row {y}: {bad} in {''.join(parts)[:200]!r}")
        measured = sum(cell_len(t) for t in parts)
        if measured != width or strip.cell_length != width:
            problems.append(f"{where} row {y}: {measured} cells ({strip.cell_length}), not {width}")
        links = {s.style.link for s in strip if s.style is not None and s.style.link}
        if links:
            problems.append(f"{where} row {y}: links {links}")
    return problems


def raw_http(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    """GET `url`, or POST `data` as JSON, with no client of ours in the way: status and body."""
    request = urllib.request.Request(
        url,
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def hostile_app(url: str, name: str = "hostile") -> OncallApp:
    """The app on one Alertmanager (no Prometheus), in a context called `name`."""
    context = Context(name=name, alertmanagers=[ClusterConfig(name="hx", peers=[url])], refresh=1)
    return context_app(context)


async def detail_problems(app: OncallApp, pilot: Pilot[None], name: str) -> list[str]:
    """Walk the cursor (`j`) to the alert called `name`, press enter, wait until it has loaded.

    Returns the problems found in everything the detail screen draws, scrolled out of view too.
    """
    view = board(app)
    await pilot.press("g")
    for _ in range(len(view._lines)):
        current = view.current
        if current is not None and current.alert is not None and current.alert.name == name:
            break
        await pilot.press("j")
    else:
        raise AssertionError(f"no {name} row: {rows(app)}")
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, AlertsScreen), "the detail screen")
    detail = app.screen

    def drawn() -> str:
        return "\n".join(s.text for w in detail.query(Widget) for s in widget_strips(w))

    # Silences are fetched by a worker; with no Prometheus the rule section says so.
    await until(pilot, lambda: "loading" not in drawn() and "Prometheus" in drawn(), "loaded")
    problems = check_strips(screen_strips(app), app.screen.size.width, "screen")
    for widget in detail.query(Widget):
        where = f"{type(widget).__name__}#{widget.id}"
        problems += check_strips(widget_strips(widget), widget.outer_size.width, where)
    return problems


def new_secret() -> str:
    """A password no other test uses, so that a leak in any output names its test."""
    return f"s3cret-{uuid.uuid4().hex}"


# -- on-call schedules -------------------------------------------------------------------------


def instant(text: str) -> datetime:
    """An ISO 8601 instant, written with its offset."""
    return datetime.fromisoformat(text)


def oncall_config(tmp_path: Path, oncall: str) -> Path:
    """A config file of one context `a` whose `oncall:` key is the YAML given."""
    body = "\n".join("      " + line for line in oncall.splitlines())
    path = tmp_path / "config.yaml"
    path.write_text(f"contexts:\n  a:\n    prometheus: {{url: http://p}}\n    oncall:\n{body}\n")
    return path


def no_style(name: str) -> Style:
    """A styler that styles nothing: for comparing the plain text of a view's Text."""
    return Style()
