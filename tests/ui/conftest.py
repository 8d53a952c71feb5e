"""Fixtures of the Pilot tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oncall_tui.demo.stack import Stack, StackOptions, find_binaries


@pytest.fixture(scope="module")
def own() -> Iterator[Stack]:
    """A stack of the test module's own, for tests that write silences: what they write must
    not change what the other modules see on the session's stack."""
    with Stack(StackOptions(alertmanager_peers=2), find_binaries()) as s:
        s.wait_for_firing(timeout=30, min_alerts=3)
        yield s
