"""Notifications in the running app (Pilot, the session's demo stack, read only).

A headless app writes nothing to a terminal; `app.signals.sent` holds what it would have
written. The bytes themselves are proven in a pty (test_notify_pty.py).
"""

from __future__ import annotations

import json
import time

import msgspec

from oncall_tui.cli.demo import demo_context
from oncall_tui.config import Settings
from oncall_tui.demo.stack import Stack
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from tests.helpers import raw_http, until

STEADY = {"ChurnAPIDown", "HighErrorRate"}  # critical, `for: 0s`, firing all along


def held_names(url: str) -> set[str]:
    status, body = raw_http(url + "/api/v2/alerts?active=true")
    assert status == 200, body
    return {a["labels"]["alertname"] for a in json.loads(body)}


def titles(app: OncallApp) -> list[str]:
    return [s for s in app.signals.sent if s.startswith(("\x1b]2;", "\x1b[22;0t"))]


async def test_the_demo_at_start_up_notifies_nothing_and_a_switched_context_neither(
    stack: Stack,
) -> None:
    """The demo fires critical alerts from the start: none is news, in either context."""
    deadline = time.monotonic() + 30.0
    while not held_names(stack.alertmanager_urls[0]) >= STEADY:
        assert time.monotonic() < deadline, f"{STEADY} not firing on the demo"
        time.sleep(0.2)
    context = demo_context(stack, refresh=1)
    settings = Settings(
        current_context="a",
        contexts={
            "a": msgspec.structs.replace(context, name="a"),
            "b": msgspec.structs.replace(context, name="b"),
        },
    )
    app = OncallApp(settings, build_clients(settings.context("a")))
    async with app.run_test(size=(120, 35)) as pilot:
        await until(pilot, lambda: any("critical" in s and "· a" in s for s in titles(app)))
        await until(pilot, lambda: app.state.alerts.polls >= 3, "three polls of a")
        await app.switch_context("b")
        await until(pilot, lambda: any("· b" in s for s in titles(app)), "the title names b")
        await until(pilot, lambda: app.state.alerts.polls >= 3, "three polls of b")
    notified = [s for s in app.signals.sent if s.startswith("\x1b]9;")]
    assert not any(name in s for s in notified for name in STEADY), notified
    assert app.signals.sent[-1] == "\x1b]2;\x1b\\\x1b[23;0t"  # the title given back on exit
