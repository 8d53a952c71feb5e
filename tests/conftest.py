"""Shared fixtures: one real demo stack (2 Alertmanagers, Prometheus, exporter) per session.

The stack is real on purpose (see FACTS.md): tests of the clients and the UI run against
the same servers, rules and alerts as ``oncall-tui demo``. If the binaries are missing the
tests that need them FAIL with the install command; nothing is skipped silently.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest

from oncall_tui.demo.stack import MissingBinaries, Stack, StackError, StackOptions, find_binaries
from tests.support.worker_summary import summary

# Before anything imports it: a failed assert in a shared helper explains itself as in a test.
pytest.register_assert_rewrite("tests.helpers")

pytest_plugins = [
    "tests.support.worker_summary",
    "tests.support.keyring_service",
    "tests.support.secure_server",
    "tests.support.runbook_server",
    "tests.support.fault_matrix",
]

START_TIMEOUT = 30.0
FIRST_ALERT_TIMEOUT = 30.0
_timings: dict[str, float] = {}
_servers: list[str] = []


def _versions(demo: Stack) -> list[str]:
    """What really ran, for the summary: binary, version line, address."""
    found = []
    assert demo.binaries is not None
    for binary, url in (
        (demo.binaries.prometheus, demo.prometheus_url),
        *((demo.binaries.alertmanager, u) for u in demo.alertmanager_urls),
    ):
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        first = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "?"
        found.append(f"{first} at {url}")
    return found


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """A started stack with at least one alert active on every Alertmanager peer."""
    demo, problem = None, ""
    try:
        demo = Stack(StackOptions(alertmanager_peers=2), find_binaries())
        demo.start(timeout=START_TIMEOUT)
        demo.wait_for_firing(timeout=FIRST_ALERT_TIMEOUT)
    except (MissingBinaries, StackError) as err:
        problem = str(err)
    if problem or demo is None:
        if demo is not None:
            demo.stop()
        pytest.fail(problem, pytrace=False)  # outside `except`: no chained traceback
    _timings.update(demo.timings)
    _servers.extend(_versions(demo))
    try:
        yield demo
    finally:
        demo.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the stack, directly or through another fixture."""
    for item in items:
        if "stack" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("stack"):
            item.add_marker(pytest.mark.stack)


@summary
def _summary(write: Callable[[str], None]) -> None:
    if _timings:
        figures = ", ".join(f"{k} {v:.2f} s" for k, v in _timings.items())
        write(f"demo stack: {figures}")
    for line in _servers:
        write(f"real server: {line}")
