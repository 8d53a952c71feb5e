"""Hostile silence comments and authors, and invalid or odd unicode, through a real
Alertmanager to the alert detail view, down to the bytes the real program writes to a pty.

Whoever can create a silence writes its `comment` and `createdBy`; the detail view of a
silenced alert lists them. The silences here are created through the API client on an
Alertmanager of this module's own, one also as raw bytes that are not valid UTF-8 (and a JSON
lone surrogate), to learn what the server keeps and prove what the app shows. Companion of
tests/ui/test_hostile.py, whose payloads and pty helpers it reuses.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from textual.widget import Widget

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack, StackOptions
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
    detail_problems,
    forbidden,
    hostile_app,
    pty_env,
    raw_http,
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

NAME = "HX_silenced"

# Not controls, but odd: noncharacters, tag characters (invisible "ASCII smuggling"),
# variation selectors, private use, a Hangul filler, a soft hyphen, interlinear annotation
# marks, the object replacement character, regional indicators and a pile of combining marks.
ODD = (
    "odd \uffff\ufffe \U000e0041\U000e0042 x\ufe0f\U000e0100 \ue000 \u3164 so\u00adft "
    "\ufff9a\ufffab\ufffb \ufffc \U0001f1fa\U0001f1f3 a" + "\u0301" * 30 + " end"
)
# Raw JSON bytes: invalid UTF-8 and an escaped lone surrogate, as a broken client sends them.
RAW_COMMENT = b"bytes \xff\xfe\xc0\xaf \xed\xa0\x80 surrogate \\ud800 end"

SILENCES = {
    "escapes": (
        f"mallory [bold]x[/] {CSI}",
        f"osc52 {OSC52} osc8 {OSC8}\ndcs {DCS} apc {APC}\nc1 {C1}",
    ),
    "controls": (BIDI, f"c0 {C0}\n{MARKUP} {LINK}"),
    "odd": ("odd-author \U000e0041", ODD),
}


@dataclass
class SilencedServer:
    url: str
    comments: dict[str, str]  # what the server holds, by silence key ("raw" included)
    authors: dict[str, str]


async def _create(url: str) -> dict[str, str]:
    peer = AlertmanagerPeer(url, ClientOptions())
    now = datetime.now(UTC)
    try:
        await peer.post_alerts(
            [
                PostableAlert(
                    labels={"alertname": NAME, "severity": "warning"},
                    annotations={"summary": "silenced by hostile silences"},
                    starts_at=now - timedelta(minutes=1),
                    ends_at=now + timedelta(hours=1),
                )
            ]
        )
        ids = {}
        for key, (author, comment) in SILENCES.items():
            ids[key] = await peer.post_silence(
                PostableSilence(
                    matchers=[Matcher("alertname", NAME)],
                    starts_at=now - timedelta(minutes=1),
                    ends_at=now + timedelta(hours=1),
                    created_by=author,
                    comment=comment,
                )
            )
        return ids
    finally:
        await peer.aclose()


def _raw_silence(url: str) -> str:
    now = datetime.now(UTC)
    body = (
        b'{"matchers":[{"name":"alertname","value":"'
        + NAME.encode()
        + b'","isRegex":false}],"startsAt":"'
        + now.isoformat().encode()
        + b'","endsAt":"'
        + (now + timedelta(hours=1)).isoformat().encode()
        + b'","createdBy":"raw \xff author","comment":"'
        + RAW_COMMENT
        + b'"}'
    )
    status, answer = raw_http(url + "/api/v2/silences", body)
    assert status == 200, answer
    return str(json.loads(answer)["silenceID"])


@pytest.fixture(scope="module")
def silenced() -> Iterator[SilencedServer]:
    with Stack(StackOptions(alertmanager_peers=1, with_prometheus=False)) as server:
        url = server.alertmanager_urls[0]
        ids = asyncio.run(_create(url))
        ids["raw"] = _raw_silence(url)
        deadline = time.monotonic() + 20.0
        while True:
            status, body = raw_http(url + "/api/v2/alerts")
            alerts = json.loads(body) if status == 200 else []
            silenced_by = [
                a["status"]["silencedBy"] for a in alerts if a["labels"]["alertname"] == NAME
            ]
            if silenced_by and set(silenced_by[0]) >= set(ids.values()):
                break
            assert time.monotonic() < deadline, (
                f"the alert is not silenced by all: {alerts!r:.1000}"
            )
            time.sleep(0.05)  # bounded by the deadline: Alertmanager applies silences async
        status, body = raw_http(url + "/api/v2/silences")
        held = {s["id"]: s for s in json.loads(body)}
        yield SilencedServer(
            url,
            {key: held[i]["comment"] for key, i in ids.items()},
            {key: held[i]["createdBy"] for key, i in ids.items()},
        )


def test_alertmanager_keeps_hostile_silences_and_mends_invalid_utf8(
    silenced: SilencedServer,
) -> None:
    """The server is no filter for controls; invalid UTF-8 and lone surrogates become U+FFFD."""
    for key, (author, comment) in SILENCES.items():
        assert silenced.comments[key] == comment, key
        assert silenced.authors[key] == author, key
    assert silenced.comments["raw"] == f"bytes {R}{R}{R}{R} {R}{R}{R} surrogate {R} end"
    assert silenced.authors["raw"] == f"raw {R} author"


async def test_the_detail_view_shows_hostile_silences_as_text(silenced: SilencedServer) -> None:
    app = hostile_app(silenced.url, "silences")
    async with app.run_test(size=(120, 60)) as pilot:
        await until(pilot, lambda: app.screen.query("BoardView"), "the board")
        problems = await detail_problems(app, pilot, NAME)
        assert not problems, "\n".join(problems)
        text = "\n".join(s.text for w in app.screen.query(Widget) for s in widget_strips(w))
        assert not forbidden(text.replace("\n", ""))
        assert "mallory [bold]x[/] " + SHOWN["csi"] in text
        assert f"osc52 {SHOWN['osc52']} osc8 {SHOWN['osc8']}" in text
        assert f"dcs {SHOWN['dcs']} apc {SHOWN['apc']}" in text
        assert f"c1 {SHOWN['c1']}" in text
        assert SHOWN["bidi"][:40] in text
        assert SHOWN["c0"][:40] in text
        assert f"{MARKUP} {LINK}" in text
        assert f"surrogate {R} end" in text and f"raw {R} author" in text
        assert "odd " in text and "so\u00adft" in text
        await pilot.press("escape", "j", "k")
        assert app.is_running


def run_detail_in_pty(url: str, marker: str) -> bytes:
    """The real program: open the server's only alert, wait for `marker` in its silences, quit."""
    argv = [sys.executable, "-m", "oncall_tui", "--alertmanager", url, "--refresh", "1"]
    with (
        tempfile.TemporaryDirectory() as home,
        PtyProgram(argv, env=pty_env(home), columns=120, rows=60, cwd=home) as program,
    ):
        program.read_until(
            lambda out: NAME in visible_text(out, "replace"), timeout=30.0, what="the alert"
        )
        program.write(b"\r")
        program.read_until(
            lambda out: marker in visible_text(out, "replace"), timeout=30.0, what=marker
        )
        program.write(b"q")  # back to the board
        program.write(b"q")  # quit
        code = program.wait_exit(timeout=15.0)
        assert code == 0, f"exit code {code}: {bytes(program.output[-2000:])!r}"
        return bytes(program.output)


def test_the_real_program_writes_no_silence_payload_to_the_terminal(
    silenced: SilencedServer,
) -> None:
    # Baseline: the same screens with a harmless silence on a server of its own.
    with Stack(StackOptions(alertmanager_peers=1, with_prometheus=False)) as calm:
        url = calm.alertmanager_urls[0]
        now = datetime.now(UTC)
        status, body = raw_http(
            url + "/api/v2/alerts",
            json.dumps([{"labels": {"alertname": NAME, "severity": "warning"}}]).encode(),
        )
        assert status == 200, body
        quiet = {
            "matchers": [{"name": "alertname", "value": NAME, "isRegex": False}],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
            "createdBy": "alice",
            "comment": "a quiet maintenance window",
        }
        status, body = raw_http(url + "/api/v2/silences", json.dumps(quiet).encode())
        assert status == 200, body
        baseline = run_detail_in_pty(url, "a quiet maintenance window")
    output = run_detail_in_pty(silenced.url, "mallory")

    for payload in PAYLOAD_BYTES:
        assert payload not in baseline, f"Textual itself writes {payload!r}: adjust the test"
        assert payload not in output, f"{payload!r} reached the terminal"
    assert set(kinds(output)) <= set(kinds(baseline)), set(kinds(output)) - set(kinds(baseline))
    osc = [s for s in terminal_sequences(output) if s.startswith(b"\x1b]")]
    assert unexpected_osc(output) == []  # Textual's OSC 22 and our title (OSC 2) only
    assert output.count(b"\x07") == sum(s.endswith(b"\x07") for s in osc)
    text = visible_text(output)
    assert not forbidden(text.replace("\r\n", "")), forbidden(text.replace("\r\n", ""))
    for shown in (
        "mallory [bold]x[/] " + SHOWN["csi"],
        f"osc52 {SHOWN['osc52']} osc8 {SHOWN['osc8']}",
        f"dcs {SHOWN['dcs']} apc {SHOWN['apc']}",
        f"c1 {SHOWN['c1']}",
        f"surrogate {R} end",
    ):
        assert shown in text, shown
