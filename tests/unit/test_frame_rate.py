"""Textual repaints at most TEXTUAL_FPS times a second, on a fixed grid: at its default 60 a
key's repaint waited up to 16.7 ms for the next tick. The app's UI asks for 240 (ui/__init__),
a value the user set wins. Read from Textual itself, in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

PROBE = "import oncall_tui.ui.app, textual.screen as s; print(round(1 / s.UPDATE_PERIOD))"


@pytest.mark.parametrize(("given", "painted"), [(None, 240), ("30", 30)])
def test_the_ui_repaints_at_240_frames_a_second_unless_the_user_says(
    given: str | None, painted: int
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    if given is not None:
        env["TEXTUAL_FPS"] = given
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == painted
