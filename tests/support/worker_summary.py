"""The suite's own summary lines (real servers and their versions, the fault matrix, start-up
figures), whether the tests ran in this process or in pytest-xdist workers.

A plugin registers a writer with `@summary`; it is called with a `write(line)` function. Run
serially, the writers write at the end of the run. Under xdist each worker runs its writers
when its session ends and sends the lines to the controller, which prints them once (a line
two workers both wrote, such as a server version, is printed once).

PYTEST_DONT_REWRITE: conftest imports it before pytest loads it as a plugin, and it has no
asserts to rewrite.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

Writer = Callable[[Callable[[str], None]], None]
_writers: list[Writer] = []
_from_workers: list[str] = []
KEY = "oncall_summary_lines"


def summary(writer: Writer) -> Writer:
    _writers.append(writer)
    return writer


def _lines() -> list[str]:
    lines: list[str] = []
    for writer in _writers:
        writer(lines.append)
    return lines


def pytest_sessionfinish(session: pytest.Session) -> None:
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # an xdist worker: the controller prints
        output[KEY] = _lines()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    output = getattr(node, "workeroutput", None) or {}
    _from_workers.extend(output.get(KEY, []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if hasattr(terminalreporter.config, "workeroutput"):
        return
    seen: set[str] = set()
    for line in _lines() + _from_workers:
        if line.strip() and line in seen and not line.startswith(" "):
            continue
        seen.add(line)
        terminalreporter.write_line(line)
