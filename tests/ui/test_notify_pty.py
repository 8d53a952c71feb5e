"""Notifications that reach the user over SSH, proven by the bytes the real program writes.

The program runs as a user runs it, in a pseudo-terminal, against a real Alertmanager of the
module's own (posting new alerts must not change what other modules see): alerts posted
before it starts are the start-up state and notify nothing; a critical alert posted once it
shows the board raises one terminal notification (OSC 9 for an xterm, OSC 777 as
configured, wrapped for tmux when $TMUX is set), and the window title (OSC 2) carries the
counts. A hostile alert's text reaches the terminal only cleaned, inside our own frame.
Alertmanager 0.28.x (`find_binaries`, see FACTS.md) is the server proven here.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.helpers import (
    C0,
    C1,
    CSI,
    OSC52,
    PAYLOAD_BYTES,
    SHOWN,
    R,
    lone_alertmanager,
    pty_env,
    raw_http,
)
from tests.support.pty_capture import PtyProgram, visible_text

pytestmark = pytest.mark.stack

ST = b"\x1b\\"
TITLE = re.compile(rb"\x1b\]2;(\d+) critical(?:, [^\x1b]*)? \xc2\xb7 prod\x1b\\")


@pytest.fixture(scope="module")
def lone() -> Iterator[str]:
    """One Alertmanager of our own, no Prometheus: every alert on it is posted by a test."""
    with lone_alertmanager() as server:
        yield server.alertmanager_urls[0]


def post(url: str, *alerts: dict[str, object]) -> None:
    status, body = raw_http(url + "/api/v2/alerts", json.dumps(list(alerts)).encode())
    assert status == 200, body


def critical(name: str, summary: str = "", **labels: str) -> dict[str, object]:
    return {
        "labels": {"alertname": name, "severity": "critical", **labels},
        "annotations": {"summary": summary} if summary else {},
    }


def start(
    url: str,
    home: str,
    notifications: dict[str, object] | None = None,
    *,
    env: dict[str, str] | None = None,
) -> PtyProgram:
    """The program as a user starts it: its config names the context `prod`, polled each second."""
    config: dict[str, object] = {
        "current_context": "prod",
        "contexts": {"prod": {"alertmanagers": [url], "refresh": 1}},
    }
    if notifications is not None:
        config["notifications"] = notifications
    folder = Path(home) / "oncall-tui"
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    argv = [sys.executable, "-m", "oncall_tui"]
    return PtyProgram(argv, env={**pty_env(home), **(env or {})}, columns=120, rows=35, cwd=home)


def counted(output: bytes) -> int:
    """The critical count of the last title written (-1 before the first)."""
    found = TITLE.findall(output)
    return int(found[-1]) if found else -1


def held_critical(url: str) -> int:
    """How many critical alerts the Alertmanager holds, unsilenced: the oracle of the title."""
    status, body = raw_http(url + "/api/v2/alerts?silenced=false&inhibited=false")
    assert status == 200, body
    return sum(a["labels"].get("severity") == "critical" for a in json.loads(body))


def wait_for_board(program: PtyProgram, url: str) -> int:
    """Until the app has polled and its title counts what the server holds; that count."""
    held = held_critical(url)
    program.read_until(
        lambda out: counted(out) == held and "prod" in visible_text(out, "replace"),
        timeout=30.0,
        what=f"a title counting the {held} critical alerts the server holds",
    )
    return held


def quit_and_check_title(program: PtyProgram) -> bytes:
    """`q`: the app exits 0 and gives the user's title back (xterm's title stack)."""
    program.write(b"q")
    assert program.wait_exit(timeout=15.0) == 0, bytes(program.output[-2000:])
    output = bytes(program.output)
    titles = [m.start() for m in TITLE.finditer(output)]
    assert output.count(b"\x1b[22;0t") == 1  # pushed once, before the first title
    assert output.index(b"\x1b[22;0t") < titles[0]
    assert output.rindex(b"\x1b]2;\x1b\\\x1b[23;0t") > titles[-1]  # cleared, popped
    return output


def test_a_new_critical_alert_raises_one_osc9_notification(lone: str) -> None:
    tag = uuid.uuid4().hex[:6]
    old, new = f"NotifyStartup{tag}", f"NotifyNew{tag}"
    post(lone, critical(old, "firing before the app started"))
    with tempfile.TemporaryDirectory() as home, start(lone, home) as program:
        before = wait_for_board(program, lone)
        post(lone, critical(new, "disk /var is 99% full", instance="db-1"))
        expected = f"\x1b]9;prod: critical {new}: disk /var is 99% full\x1b\\".encode()
        program.read_until(lambda out: expected in out, timeout=20.0, what=repr(expected))
        program.read_until(
            lambda out: counted(out) == before + 1, timeout=10.0, what="the title counts it"
        )
        output = quit_and_check_title(program)
    notifications = re.findall(rb"\x1b\]9;[^\x1b]*\x1b\\", output)
    assert notifications == [expected], "start-up alerts notify nothing; the new one once"
    assert old.encode() not in b"".join(notifications)
    assert f"{before + 1} critical · prod".encode() in output


def test_inside_tmux_the_notification_is_passed_through(lone: str) -> None:
    tag = uuid.uuid4().hex[:6]
    old, new = f"TmuxOld{tag}", f"TmuxNew{tag}"
    post(lone, critical(old))
    tmux = {"TMUX": "/tmp/tmux-1000/default,4242,0", "TERM_PROGRAM": "tmux"}
    with tempfile.TemporaryDirectory() as home, start(lone, home, env=tmux) as program:
        wait_for_board(program, lone)
        post(lone, critical(new, "in tmux"))
        inner = f"\x1b\x1b]9;prod: critical {new}: in tmux\x1b\x1b\\".encode()
        expected = b"\x1bPtmux;" + inner + ST
        program.read_until(lambda out: expected in out, timeout=20.0, what=repr(expected))
        output = quit_and_check_title(program)
    # tmux itself keeps the title (the pane's; `set-titles on` passes it out): not wrapped.
    assert TITLE.search(output) is not None
    assert b"\x1b]9;" not in output.replace(inner, b""), "no unwrapped copy"


def test_a_storm_is_summarised_not_sent_one_by_one(lone: str) -> None:
    tag = uuid.uuid4().hex[:6]
    post(lone, critical(f"StormCalm{tag}"))
    with tempfile.TemporaryDirectory() as home, start(lone, home) as program:
        wait_for_board(program, lone)
        post(lone, *(critical(f"Storm{tag}", instance=f"node-{i}") for i in range(150)))

        def told(out: bytes) -> list[int]:
            found = re.findall(rb"\x1b\]9;prod: (?:(\d+) new alerts|critical Storm)", out)
            return [int(n) if n else 1 for n in found]

        program.read_until(lambda out: sum(told(out)) == 150, timeout=30.0, what="150 told")
        sent = told(bytes(program.output))
        program.write(b"q")
        program.wait_exit(timeout=15.0)
    # One per poll: a POST read half-way by a poll may split it in two, never in 150.
    assert len(sent) <= 2, sent
    assert f"Storm{tag} \u00d7".encode() in bytes(program.output)


def test_hostile_alert_text_reaches_the_terminal_only_cleaned(lone: str) -> None:
    tag = uuid.uuid4().hex[:6]
    post(lone, critical(f"EvilCalm{tag}"))
    name = f"NotifyEvil{tag}\x07{CSI}"
    summary = f"{OSC52} {C1} {C0}"
    with (
        tempfile.TemporaryDirectory() as home,
        start(lone, home, {"protocol": "osc777"}) as program,
    ):
        wait_for_board(program, lone)
        post(lone, critical(name, summary))
        title = f"prod: critical NotifyEvil{tag}{R}{SHOWN['csi']}"
        body = f"{SHOWN['osc52']} {SHOWN['c1']} {SHOWN['c0']}"
        expected = f"\x1b]777;notify;{title.replace(';', ',')};{body.replace(';', ',')}\x1b\\"
        program.read_until(lambda out: expected.encode() in out, timeout=20.0, what=f"{expected!r}")
        output = quit_and_check_title(program)
    for payload in PAYLOAD_BYTES:
        assert payload not in output, f"{payload!r} reached the terminal"
    assert b"\x07\x1b[2J" not in output and b"NotifyEvil" + tag.encode() + b"\x07" not in output
    assert len(re.findall(rb"\x1b\]777;", output)) == 1
