"""The frame drawn before Textual is imported (cli/first_frame.py), in a real pseudo-terminal.

What a user sees in the first 0.1 s is what the app is asking and from where; what they type
meanwhile reaches the app; and the terminal comes back exactly as it was: the frame's
alternate screen is left in the same write in which Textual enters its own (so the shell's
cursor is restored, not the frame's), and on an error before the app starts, the frame is
left first and the error printed on the normal screen. Against the session's real
Alertmanager (the demo stack's 0.25.0, FACTS.md).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import termios
from pathlib import Path

import pytest
import yaml

from oncall_tui.cli.first_frame import ENTER, LEAVE, lines
from oncall_tui.demo.stack import Stack
from tests.helpers import pty_env
from tests.support.pty_capture import PtyProgram, visible_text

TEXTUAL_ENTERS = b"\x1b[?1049h"
MODES = termios.ECHO | termios.ICANON


def program(home: str, argv: list[str]) -> PtyProgram:
    return PtyProgram(argv, env=pty_env(home), columns=100, rows=30, cwd=home)


@pytest.mark.stack
def test_the_frame_says_what_is_asked_and_the_app_takes_over_with_the_keys_typed(
    stack: Stack,
) -> None:
    url = stack.alertmanager_urls[0]
    with tempfile.TemporaryDirectory() as home:
        folder = Path(home) / "oncall-tui"
        folder.mkdir()
        config = {"contexts": {"prod": {"alertmanagers": [url]}}}
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
        with program(home, [sys.executable, "-m", "oncall_tui"]) as app:
            before = app.local_modes()
            app.read_until(lambda out: b"loading" in out, 30.0, "the first frame")
            shown = visible_text(bytes(app.output), "replace")
            host = url.removeprefix("http://")
            assert "oncall-tui · prod" in shown
            assert f"asking 1 Alertmanager ({host}) for alerts" in shown
            app.write(b"q")  # typed while the frame shows: the app gets it once it starts
            assert app.wait_exit(timeout=30.0) == 0
            output = bytes(app.output)
            assert app.local_modes() & MODES == before & MODES
    assert output.startswith(ENTER.encode())
    # Left in the very write in which Textual enters again; Textual leaves at the end.
    assert output.count(LEAVE.encode()) == 1
    assert LEAVE.encode() + TEXTUAL_ENTERS in output
    assert output.rindex(b"\x1b[?1049l") > output.index(LEAVE.encode())
    assert b"q" not in output[: output.index(LEAVE.encode())]  # not echoed onto the frame


def test_an_error_before_the_app_starts_is_printed_on_the_normal_screen() -> None:
    script = (
        "from oncall_tui.cli.first_frame import FirstFrame\n"
        "frame = FirstFrame.show('prod', ['http://127.0.0.1:9093'])\n"
        "try:\n"
        "    raise SystemExit('oncall-tui: config error: refused')\n"
        "finally:\n"
        "    frame.leave()\n"
    )
    with (
        tempfile.TemporaryDirectory() as home,
        program(home, [sys.executable, "-c", script]) as run,
    ):
        before = run.local_modes()
        assert run.wait_exit(timeout=30.0) == 1
        output = bytes(run.output)
        assert run.local_modes() & MODES == before & MODES
    assert output.startswith(ENTER.encode()) and b"loading" in output
    left = output.index(LEAVE.encode())
    assert output.index(b"config error: refused") > left


def test_no_frame_when_the_app_does_not_draw_on_a_terminal() -> None:
    script = (
        "from oncall_tui.cli.first_frame import FirstFrame\n"
        "frame = FirstFrame.show('prod', ['http://127.0.0.1:9093'])\n"
        "frame.leave()\n"
        "print(frame.shown)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=30, check=True
    )
    assert done.stdout == b"False\n" and done.stderr == b""


def test_the_frame_text_is_cleaned_and_cut_to_the_terminal() -> None:
    head, asked, _, loading = lines(
        "prod\x1b]2;pwned\x07", [f"http://10.0.0.{i}:9093" for i in range(5)], 40
    )
    assert "\x1b" not in head and "\x07" not in head
    assert len(asked) == 40 and asked.endswith("…")
    assert lines("p", ["http://a:1"] * 5, 200)[1].endswith("and 2 more) for alerts")
    assert loading.strip() == "loading…"
