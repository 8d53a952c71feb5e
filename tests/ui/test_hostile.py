"""Untrusted alert text stays text, proven through a real Alertmanager.

Labels, annotations, silence comments and server error bodies come from whoever can post an
alert or a silence. They must be shown literally (markup such as `[bold]` or `[/]` as typed)
and no terminal control may reach the terminal: ESC, CSI, OSC (52 clipboard, 8 hyperlinks),
DCS, APC, C1 controls, BEL, backspace and carriage return are shown as U+FFFD, and bidi
controls are replaced too. A 1 MB label value, wide or zero-width text and 100 labels leave
the layout intact.

A module-scoped Alertmanager of its own holds the hostile alerts (the shared session stack
stays clean). The Pilot tests read what the widgets render (`BoardView.render_line`, and the
whole screen as the compositor draws it); the pty test runs the real program in a
pseudo-terminal and inspects every byte it writes, against a baseline run with a harmless alert.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from textual.strip import Strip
from textual.widget import Widget

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack, StackOptions
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.ui.widgets.status import StatusBar
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Matcher, PostableAlert, PostableSilence
from tests.helpers import (
    APC,
    BIDI,
    C0,
    C1,
    CSI,
    DCS,
    LINK,
    MARKUP,
    OSC8,
    OSC52,
    PAYLOAD_BYTES,
    SHOWN,
    R,
    board,
    check_strips,
    detail_problems,
    forbidden,
    hostile_app,
    lone_alertmanager,
    pty_env,
    raw_http,
    row_with,
    rows,
    screen_strips,
    until,
    widget_strips,
)
from tests.support.pty_capture import (
    PtyProgram,
    kinds,
    terminal_sequences,
    unexpected_osc,
    visible_text,
)

pytestmark = pytest.mark.stack

# -- the payloads ----------------------------------------------------------------------------
# MARKUP, LINK, CSI, OSC52, OSC8, DCS, APC, C1, C0 and BIDI, with what a user must read
# instead (SHOWN), are in tests/helpers.py: test_hostile_silences.py posts them too.

ZERO_WIDTH = "zw a\u200b\u200c\u200d\u2060\ufeffb e\u0301\u0301\u0301 Z\u0336\u0336\u0336"
WIDE = "警告ディスク満杯🔥👩‍👩‍👧"

# A little over 1 MiB of characters, every kind of trouble repeated: markup, CSI, CJK, RLO.
HUGE_UNIT = "[bold]\x1b[2J警\u202e" + "x" * 48
HUGE = HUGE_UNIT * ((1 << 20) // len(HUGE_UNIT) + 1)
HUGE_SHOWN = f"[bold]{R}[2J警{R}" + "x" * 48


@dataclass(frozen=True)
class Hostile:
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    generator_url: str = ""


def _alerts() -> dict[str, Hostile]:
    """The alerts to post, by a short key; each alertname starts with `HX`."""
    many = {f"l{i:02d}": f"v{i}\x1b[3{i % 8}m[b]{i}" for i in range(98)}
    return {
        # Two alerts in one group: its header shows the group labels, each row the `instance`.
        "markup": Hostile(
            {
                "alertname": "HX_markup[bold]B[/bold]",
                "severity": "critical",
                "service": "[/]",
                "cluster": LINK,
                "instance": "[@click=app.quit]x[/]",
            },
            {"summary": MARKUP},
        ),
        "link": Hostile(
            {
                "alertname": "HX_markup[bold]B[/bold]",
                "severity": "critical",
                "service": "[/]",
                "cluster": LINK,
                "instance": "[red]r[/red]",
            },
            {"summary": LINK},
        ),
        "csi": Hostile(
            {
                "alertname": "HX_csi\x1b[2J",
                "severity": "warning",
                "service": "\x1b[2J",
                "cluster": "\x1b[31m",
            },
            {"summary": f"csi {CSI}"},
        ),
        "osc52": Hostile(
            {"alertname": "HX_osc52", "severity": "warning"}, {"summary": f"osc52 {OSC52} end"}
        ),
        "osc8": Hostile(
            {"alertname": "HX_osc8", "severity": "warning"}, {"summary": f"osc8 {OSC8}"}
        ),
        "dcs": Hostile(
            {"alertname": "HX_dcs", "severity": "warning"}, {"summary": f"dcs {DCS} apc {APC}"}
        ),
        "c1": Hostile({"alertname": "HX_c1", "severity": "\x9bwarning"}, {"summary": f"c1 {C1}"}),
        "c0": Hostile({"alertname": "HX_c0", "severity": "info"}, {"summary": C0}),
        "bidi": Hostile(
            {"alertname": "HX_bidi\u202egnp.exe", "severity": "info"}, {"summary": BIDI}
        ),
        "wide": Hostile(
            {"alertname": f"HX_wide{WIDE}", "severity": "info"}, {"summary": f"{ZERO_WIDTH} {WIDE}"}
        ),
        # Two alerts in one group whose 1 MiB `instance` differs: the board shows that label.
        "huge": Hostile(
            {
                "alertname": "HX_huge",
                "severity": "warning",
                "service": HUGE,
                "instance": "a" + HUGE,
            },
            {"summary": HUGE, "description": HUGE},
        ),
        "huge2": Hostile(
            {"alertname": "HX_huge", "severity": "warning", "service": HUGE, "instance": "b-small"},
            {"summary": "the small one"},
        ),
        "many": Hostile(
            {"alertname": "HX_many", "severity": "info", **many}, {"summary": "one hundred labels"}
        ),
        "detail": Hostile(
            {
                "alertname": "HX_detail",
                "severity": "critical",
                "markup": MARKUP,
                "link": LINK,
                "csi": CSI,
                "osc52": OSC52,
                "osc8": OSC8,
                "dcs": DCS,
                "apc": APC,
                "c1": C1,
                "c0": C0,
                "bidi": BIDI,
                "zw": ZERO_WIDTH,
                "wide": WIDE,
            },
            {
                "summary": f"detail {OSC52} {MARKUP}",
                "description": "first\twith a tab\nsecond \x1b[2J line\r\nthird [bold]x[/]\n"
                + OSC8
                + "\n\t\tindented"
                + C1,
                "runbook_url": "https://ok.example/runbook" + OSC8,
                "dashboard_url": "javascript:alert(document.cookie)",
                "note": "\u202eevil",
            },
            generator_url="javascript:alert(1)",
        ),
    }


ALERTS = _alerts()
SILENCE_BY = f"mallory [bold]x[/] {CSI}"
SILENCE_COMMENT = f"silenced {LINK} {OSC52}\n\tsecond line {C1}\rCR\u202e"

# Posted only to record what Alertmanager refuses and answers.
REFUSED_PROBES = {
    "label name with ESC": {"labels": {"alertname": "HX_refused", "x\x1b[2J": "1"}},
    "annotation name with BEL": {
        "labels": {"alertname": "HX_refused"},
        "annotations": {"a\x07": "1"},
    },
    "generatorURL with OSC 52": {
        "labels": {"alertname": "HX_refused"},
        "generatorURL": "http://evil" + OSC52,
    },
}


@dataclass
class HostileServer:
    url: str
    alerts: dict[str, dict[str, str]]  # what the server holds: key -> labels as it answers
    refused: dict[str, str]  # probe -> "HTTP status: server's words"


async def _post_all(url: str) -> str:
    peer = AlertmanagerPeer(url, ClientOptions())
    now = datetime.now(UTC)
    try:
        for key, spec in ALERTS.items():
            try:
                await peer.post_alerts(
                    [
                        PostableAlert(
                            labels=spec.labels,
                            annotations=spec.annotations,
                            starts_at=now - timedelta(minutes=3),
                            ends_at=now + timedelta(hours=2),
                            generator_url=spec.generator_url,
                        )
                    ]
                )
            except errors.ApiError as exc:
                raise AssertionError(f"Alertmanager refused the {key} alert: {exc}") from None
        return await peer.post_silence(
            PostableSilence(
                matchers=[Matcher(name="alertname", value="HX_detail")],
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(hours=2),
                created_by=SILENCE_BY,
                comment=SILENCE_COMMENT,
            )
        )
    finally:
        await peer.aclose()


def _held(url: str) -> list[dict[str, Any]]:
    status, body = raw_http(url + "/api/v2/alerts")
    return json.loads(body) if status == 200 else []


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    """A single Alertmanager of our own holding every hostile alert and a hostile silence."""
    with lone_alertmanager() as server:
        url = server.alertmanager_urls[0]
        refused = {}
        for name, probe in REFUSED_PROBES.items():
            status, body = raw_http(url + "/api/v2/alerts", json.dumps([probe]).encode())
            refused[name] = f"HTTP {status}: {body.decode('utf-8', 'replace').strip()}"
        asyncio.run(_post_all(url))
        names = {spec.labels["alertname"] for spec in ALERTS.values()}
        deadline = time.monotonic() + 20.0
        while True:
            held = _held(url)
            silenced = [
                a
                for a in held
                if a["labels"]["alertname"] == "HX_detail" and a["status"]["silencedBy"]
            ]
            if {a["labels"]["alertname"] for a in held} >= names and silenced:
                break
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Alertmanager did not hold every hostile alert: {held!r:.2000}"
                )
            time.sleep(0.05)
        by_key = {}
        for key, spec in ALERTS.items():
            match = [a["labels"] for a in held if a["labels"] == spec.labels]
            by_key[key] = match[0] if match else {}
        yield HostileServer(url, by_key, refused)


# -- reading what is rendered ----------------------------------------------------------------


def board_strips(app: OncallApp) -> list[Strip]:
    view = board(app)
    return [view.render_line(y) for y in range(view.size.height)]


def all_shown(app: OncallApp) -> bool:
    screen = app.screen
    return isinstance(screen, AlertsScreen) and screen.model.total == len(ALERTS)


def board_problems(app: OncallApp) -> list[str]:
    view = board(app)
    return check_strips(board_strips(app), view.size.width, "board") + check_strips(
        screen_strips(app), app.screen.size.width, "screen"
    )


# -- what Alertmanager takes -----------------------------------------------------------------


def test_alertmanager_keeps_the_hostile_text_and_refuses_only_bad_names(
    hostile: HostileServer,
) -> None:
    """The server is no filter: every payload reaches the client byte for byte."""
    for key, spec in ALERTS.items():
        assert hostile.alerts[key] == spec.labels, f"{key} changed on the way"
    # Go quotes names with %q, so these bodies carry `\x1b` as text, not the control itself.
    assert hostile.refused == {
        "label name with ESC": r'HTTP 400: "invalid label set: invalid name \"x\\x1b[2J\""',
        "annotation name with BEL": r'HTTP 400: "invalid annotations: invalid name \"a\\a\""',
        "generatorURL with OSC 52": r'HTTP 422: {"code":601,"message":"0.generatorURL in body must '
        r'be of type uri: \"http://evil\\x1b]52;c;ZXZpbA==\\a\""}',
    }


# -- the board, through Pilot ----------------------------------------------------------------


@pytest.mark.parametrize("size", [(120, 35), (80, 24)], ids=["120x35", "80x24"])
async def test_board_rows_hold_no_controls_and_keep_their_width(
    hostile: HostileServer, size: tuple[int, int]
) -> None:
    app = hostile_app(hostile.url)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: all_shown(app) and row_with(app, "HX_detail"), "every alert")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        view = board(app)
        problems = board_problems(app)
        # Every line of the board, also those below the fold: jump to the end and back.
        lines = len(view._lines)
        seen = set(rows(app))
        await pilot.press("G")
        await until(pilot, lambda: view.cursor == lines - 1, "cursor at the end")
        await pilot.pause()
        problems += board_problems(app)
        seen |= set(rows(app))
        await pilot.press("g")
        await until(pilot, lambda: view.cursor == 0, "cursor at the top")
        assert not problems, "\n".join(problems)

        # Markup is shown as typed: names, group labels, varying labels and summaries.
        text = "\n".join(seen)
        assert "alertname=HX_markup[bold]B[/bold]" in text
        assert "HX_markup[bold]B[/" in text  # the name cell, cut to its width
        assert "HX_csi" + f"{R}[2J" in text
        assert f"HX_bidi{R}gnp.exe" in text
        if size[0] >= 120:
            assert (
                "alertname=HX_markup[bold]B[/bold] cluster=[link=https://evil.example]click[/link]"
                in text
            )
            assert "service=[/]" in text
            assert "instance=[@click=app.quit]x[/]  [bold]x[/bold] [/] [" in text
            assert f"instance=[red]r[/red]  {LINK[:30]}" in text
            for key in ("csi", "osc52", "osc8", "dcs", "c1"):
                assert SHOWN[key] in text, key
            assert SHOWN["c0"][:55] in text
            assert SHOWN["bidi"][:55] in text
            assert HUGE_SHOWN[:30] in text
            assert f"{ZERO_WIDTH} {WIDE}"[:40] in text
        status = widget_strips(screen.query_one(StatusBar))
        assert not check_strips(status, size[0], "status")
        assert "hostile" in status[0].text and "live" in status[0].text

        # The app still answers: filter as you type, clear it, move the cursor.
        await pilot.press("slash", *"HX_osc")
        assert screen.model.matched == 2, screen.model.matched
        await until(
            pilot, lambda: row_with(app, "HX_osc52") and not row_with(app, "HX_c0"), "filtered"
        )
        assert not board_problems(app)
        await pilot.press("escape")
        assert screen.model.matched == len(ALERTS)
        assert screen.focused is view
        await pilot.press("g", "j", "j", "j")
        assert view.cursor == 3
        await pilot.press("k")
        assert view.cursor == 2
        assert not board_problems(app)
        assert app.is_running


async def test_detail_of_the_hostile_alert_holds_no_controls_and_no_links(
    hostile: HostileServer,
) -> None:
    app = hostile_app(hostile.url)
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: all_shown(app), "every alert")
        problems = await detail_problems(app, pilot, "HX_detail")
        text = "\n".join(s.text for w in app.screen.query(Widget) for s in widget_strips(w))
        assert not problems, "\n".join(problems)
        # Labels, annotations (multi-line ones line by line) and the silence, as typed.
        for shown in (MARKUP, LINK, *SHOWN.values()):
            assert shown in text, shown
        assert f"second {R}[2J line{R}" in text
        assert "third [bold]x[/]" in text
        assert "indented" + SHOWN["c1"] in text
        assert f"{R}evil" in text  # the RLO at the start of `note`
        assert "mallory [bold]x[/] " + SHOWN["csi"] in text
        assert f"silenced {LINK} {SHOWN['osc52']}" in text
        assert f"second line {SHOWN['c1']}{R}CR{R}" in text
        # None of the URLs is a web link a terminal may offer (check_strips found no link).
        assert "javascript:alert(document.cookie)  (not a web link)" in text
        assert "javascript:alert(1)  (not a web link)" in text
        assert "https://ok.example/runbook" + SHOWN["osc8"] + "  (not a web link)" in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen), "back on the board")
        assert not board_problems(app)


@pytest.mark.parametrize("name", ["HX_huge", "HX_many"])
async def test_detail_of_a_huge_alert_and_of_100_labels_keeps_its_layout(
    hostile: HostileServer, name: str
) -> None:
    app = hostile_app(hostile.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: all_shown(app), "every alert")
        problems = await detail_problems(app, pilot, name)
        assert not problems, "\n".join(problems)
        text = "\n".join(s.text for w in app.screen.query(Widget) for s in widget_strips(w))
        if name == "HX_many":
            for i in (0, 50, 97):
                assert f"l{i:02d}" in text and f"v{i}{R}[3{i % 8}m[b]{i}" in text, i
        else:
            assert HUGE_SHOWN in text
        await pilot.press("escape", "j", "k")
        await until(pilot, lambda: isinstance(app.screen, AlertsScreen), "back on the board")
        assert app.is_running


# -- a server's own error words, in the status line ------------------------------------------

# Alertmanager echoes a bad matcher in its error body, controls and all (JSON-escaped):
# `400 "bad matcher format: x\u001b]52;c;ZXZpbA==\u0007 [bold]x[/]"`.
BAD_FILTER = f"x{OSC52} [bold]x[/] {C1}"


class _AddFilter(BaseHTTPRequestHandler):
    """Forwards to the real Alertmanager, adding a hostile `filter` to the groups request.

    The error body is the real server's; the proxy only asks the question that provokes it.
    """

    upstream = ""

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = parts.query
        if parts.path.endswith("/alerts/groups"):
            query = "&".join(filter(None, [query, urllib.parse.urlencode({"filter": BAD_FILTER})]))
        status, body = raw_http(f"{self.upstream}{parts.path}?{query}")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def error_proxy(hostile: HostileServer) -> Iterator[str]:
    handler = type("Handler", (_AddFilter,), {"upstream": hostile.url})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


async def test_a_server_error_body_shows_as_text_in_the_status_line(error_proxy: str) -> None:
    app = hostile_app(error_proxy)
    async with app.run_test(size=(200, 24)) as pilot:
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, AlertsScreen)
                and "bad matcher" in app.screen.query_one(StatusBar).text.plain
            ),
            "the server's error in the status line",
        )
        bar = app.screen.query_one(StatusBar)
        assert f"bad matcher format: x{SHOWN['osc52']} [bold]x[/] {SHOWN['c1']}" in bar.text.plain
        assert not forbidden(bar.text.plain)
        strips = widget_strips(bar)
        assert not check_strips(strips, 200, "status")
        assert f"x{SHOWN['osc52']} [bold]x[/]" in strips[0].text
        assert not check_strips(screen_strips(app), 200, "screen")
        await pilot.press("ctrl+r", "p", "p")
        assert app.is_running


# -- the real program in a pseudo-terminal ---------------------------------------------------

PTY_SIZE = (120, 35)


def run_board_in_pty(url: str, markers: list[str]) -> bytes:
    """Start `python -m oncall_tui` on `url`, wait until every marker is on screen, press q.

    Markers are plain words of the rows (alert names), so a broken sanitiser fails the
    assertions on the full output rather than this wait. A row is written whole, so once
    its name is out so is the rest of it; after `q` everything drawn before is in `output`.
    """
    argv = [sys.executable, "-m", "oncall_tui", "--alertmanager", url, "--refresh", "1"]
    with (
        tempfile.TemporaryDirectory() as home,
        PtyProgram(
            argv, env=pty_env(home), columns=PTY_SIZE[0], rows=PTY_SIZE[1], cwd=home
        ) as program,
    ):
        # A read may end inside a character: decode leniently while waiting.
        program.read_until(
            lambda out: all(m in visible_text(out, "replace") for m in markers),
            timeout=30.0,
            what=f"all of {markers}",
        )
        program.write(b"q")
        code = program.wait_exit(timeout=15.0)
        assert code == 0, f"exit code {code}: {bytes(program.output[-2000:])!r}"
        return bytes(program.output)


PTY_MARKERS = [
    # The names up to their first hostile character: HX_csi, HX_bidi, HX_wide...
    *sorted({re.split(r"\W", spec.labels["alertname"])[0] for spec in ALERTS.values()}),
    "one hundred labels",
    "the small one",
]
# Each payload as the board must show it, within the first columns of its row at 120x35.
PTY_SHOWN = [
    "alertname=HX_markup[bold]B[/bold] cluster=[link=https://evil.example]click[/link]",
    "instance=[@click=app.quit]x[/]  [bold]x[/bold]",
    f"instance=[red]r[/red]  {LINK[:30]}",
    f"csi {SHOWN['csi']}",
    f"osc52 {SHOWN['osc52']} end",
    f"osc8 {SHOWN['osc8']}",
    f"dcs {SHOWN['dcs']} apc {SHOWN['apc']}",
    f"c1 {SHOWN['c1']}",
    SHOWN["c0"][:55],
    SHOWN["bidi"][:55],
    HUGE_SHOWN[:30],
]


def test_the_real_program_in_a_pty_writes_no_payload_bytes(hostile: HostileServer) -> None:
    # Baseline: what Textual writes on its own, with a harmless alert on its own server.
    with Stack(StackOptions(alertmanager_peers=1, with_prometheus=False)) as calm:
        calm_url = calm.alertmanager_urls[0]
        status, body = raw_http(
            calm_url + "/api/v2/alerts",
            json.dumps(
                [
                    {
                        "labels": {"alertname": "Harmless", "severity": "warning"},
                        "annotations": {"summary": "all quiet"},
                    }
                ]
            ).encode(),
        )
        assert status == 200, body
        baseline = run_board_in_pty(calm_url, ["Harmless", "all quiet"])
    output = run_board_in_pty(hostile.url, PTY_MARKERS)

    for payload in PAYLOAD_BYTES:
        assert payload not in baseline, f"Textual itself writes {payload!r}: adjust the test"
        assert payload not in output, f"{payload!r} reached the terminal"
    # Textual's own vocabulary: the hostile run may use no kind of sequence the calm one did not.
    calm_kinds, hostile_kinds = kinds(baseline), kinds(output)
    assert set(hostile_kinds) <= set(calm_kinds), set(hostile_kinds) - set(calm_kinds)
    # BEL only ends Textual's own OSC 22 (pointer shape), as often as in the baseline. The
    # only other OSC is our window title (OSC 2): counts and the context, nothing raw.
    osc = [s for s in terminal_sequences(output) if s.startswith(b"\x1b]")]
    assert unexpected_osc(output) == []
    assert output.count(b"\x07") == sum(s.endswith(b"\x07") for s in osc) == baseline.count(b"\x07")
    # Outside escape sequences, the only controls are Textual's own line ends.
    text = visible_text(output)
    assert not forbidden(text.replace("\r\n", "")), forbidden(text.replace("\r\n", ""))
    # And the controls are visibly replaced, where they were.
    for shown in PTY_SHOWN:
        assert shown in text, shown
    assert text.count(R) >= sum(s.count(R) for s in PTY_SHOWN)
    assert "\ufffd" not in visible_text(baseline)
