"""Acks that mean ownership, against Alertmanager 0.25.0 for real and the 0.28.0 and 0.32.0
contract servers (tests/support/am_contract.py, answers checked against each release's spec).

What is asserted is what the server holds: the comment (0.25, 0.28) or the annotations (0.32)
of the ack, and for an ack "until resolved" its end moving later while the alert fires, the
silence expired once it resolved, and a second app instance carrying on after the first.
Each test posts an alert of its own (a unique `ack_run` label) and resolves it, and expires
every silence it made: the session's stack is shared.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from oncall_tui.config import ClusterConfig, Context
from oncall_tui.demo.stack import Stack
from oncall_tui.domain.acks import AckRequest, read_ack
from oncall_tui.domain.matchers import LabelMatcher
from oncall_tui.domain.silence_plan import Draft
from oncall_tui.state import silences as silencing
from oncall_tui.state.context import ContextState
from oncall_tui.state.wiring import build_clients
from oncall_tui.wire.alertmanager import Silence
from tests.helpers import eventually
from tests.support.am_contract import ContractServer

pytestmark = pytest.mark.stack
LEASE = timedelta(seconds=8)  # renewed once less than 4 s is left: seen within a few polls
NOTE = AckRequest("ack-tester", "failing over | the primary", "INC-4711", until_resolved=True)


def _post(stack: Stack, labels: dict[str, str], ends: datetime) -> None:
    body = [
        {
            "labels": labels,
            "annotations": {"summary": "an alert of the ack tests"},
            "startsAt": (ends - timedelta(hours=2)).isoformat(),
            "endsAt": ends.isoformat(),
        }
    ]
    for url in stack.alertmanager_urls:  # alerts are not gossiped: each peer gets its copy
        httpx.post(f"{url}/api/v2/alerts", json=body, timeout=10).raise_for_status()


@pytest.fixture
def alert(stack: Stack) -> Iterator[dict[str, str]]:
    """A firing alert of this test's own, resolved (and its silences expired) afterwards."""
    labels = {"alertname": "AckTest", "ack_run": uuid.uuid4().hex[:12], "severity": "warning"}
    _post(stack, labels, datetime.now(UTC) + timedelta(hours=1))
    url = stack.alertmanager_urls[0]
    flt = (("filter", f'ack_run="{labels["ack_run"]}"'),)
    deadline = time.monotonic() + 20
    while not httpx.get(f"{url}/api/v2/alerts", params=flt, timeout=5).json():
        assert time.monotonic() < deadline, "the posted alert is not listed within 20 s"
        time.sleep(0.2)
    try:
        yield labels
    finally:
        _post(stack, labels, datetime.now(UTC) - timedelta(seconds=1))
        for s in httpx.get(f"{url}/api/v2/silences", params=flt, timeout=5).json():
            if s["status"]["state"] != "expired":
                httpx.delete(f"{url}/api/v2/silence/{s['id']}", timeout=5)


@pytest.fixture(params=["0.25.0", "0.32.0"])
def peers(request: pytest.FixtureRequest, stack: Stack) -> Iterator[tuple[str, list[str]]]:
    """(version, peer URLs): the real 0.25.0 HA pair, or the 0.32.0 contract server."""
    if request.param == "0.25.0":
        yield request.param, list(stack.alertmanager_urls)
        return
    with ExitStack() as hold:
        server = hold.enter_context(ContractServer("0.32.0", stack.alertmanager_urls[0]).running())
        yield request.param, [server.url]
        assert server.violations == [], "answers that break the 0.32.0 spec"


def _context(urls: list[str]) -> Context:
    return Context(name="acks", alertmanagers=[ClusterConfig(name="acks", peers=urls)], refresh=1)


def _draft(labels: dict[str, str], request: AckRequest, span: timedelta) -> Draft:
    now = datetime.now(UTC)
    matchers = tuple(LabelMatcher(k, "=", v) for k, v in sorted(labels.items()))
    comment = request.comment(annotated=False)
    return Draft(matchers, now, now + span, comment, request.who, ack=request)


async def _held(state: ContextState, silence_id: str) -> Silence:
    return await state.clients.clusters[0].silence(silence_id)


@pytest.mark.parametrize("version", ["0.25.0", "0.28.0", "0.32.0"])
async def test_an_acks_note_and_ticket_are_kept_where_the_version_keeps_them(
    stack: Stack, alert: dict[str, str], version: str
) -> None:
    """0.25.0 (real) and 0.28.0: in the comment; 0.32.0: in annotations. Read back alike."""
    with ExitStack() as hold:
        urls = list(stack.alertmanager_urls)
        server = None
        if version != "0.25.0":
            server = hold.enter_context(ContractServer(version, urls[0]).running())
            urls = [server.url]
        state = ContextState(build_clients(_context(urls)))
        try:
            report = await silencing.write(state.clients, [_draft(alert, NOTE, LEASE)])
            assert report.ok, report.lines()
            written = report.outcomes[0].silence
            assert written is not None
            stored = await _held(state, written.id)
        finally:
            await state.aclose()
        if version == "0.32.0":
            assert stored.comment == "ACK by ack-tester"
            assert stored.annotations == NOTE.annotations()
            assert server is not None and server.annotations[stored.id] == NOTE.annotations()
        else:
            assert stored.comment == NOTE.comment(annotated=False)
            assert stored.annotations == {}
        ack = read_ack(stored)
        assert ack is not None
        assert (ack.who, ack.note, ack.ticket, ack.until_resolved) == (
            "ack-tester",
            "failing over | the primary",
            "INC-4711",
            True,
        )
        if server is not None:
            assert server.violations == []


async def _running(urls: list[str], lease: timedelta = LEASE) -> ContextState:
    """A new app's stores on these peers: the board's poll and the ack keeper running."""
    state = ContextState(build_clients(_context(urls)), ack_lease=lease)
    state.alerts.subscribe(lambda: None)  # what the board does: polling starts
    state.ack_keeper.start()
    return state


async def _renewed(state: ContextState, silence_id: str, after: datetime) -> Silence | None:
    held = await _held(state, silence_id)
    return held if held.state == "active" and held.ends_at > after else None


async def test_an_ack_until_resolved_is_renewed_while_firing_expired_once_resolved(
    stack: Stack, alert: dict[str, str], peers: tuple[str, list[str]]
) -> None:
    """On 0.25.0 (real) and 0.32.0 (contract), and across a restart of the app."""
    version, urls = peers
    wait = LEASE.total_seconds() * 2
    first = await _running(urls)
    try:
        report = await silencing.write(first.clients, [_draft(alert, NOTE, LEASE)])
        written = report.outcomes[0].silence
        assert report.ok and written is not None, report.lines()
        ack_id = written.id
        later = await eventually(lambda: _renewed(first, ack_id, written.ends_at), timeout=wait)
        assert later.id == ack_id  # renewed in place: the ack keeps its ID
        renewed = read_ack(later)
        assert renewed is not None and renewed.until_resolved and renewed.ticket == "INC-4711"
        if version == "0.32.0":
            assert later.annotations == NOTE.annotations()  # a renewal keeps the note
    finally:
        await first.aclose()

    # The app restarts: a new instance knows the ack only from the silence, and keeps it:
    # it renews the ack itself (its log says so) and the server holds the later end. (Not
    # "the end moved": a renewal of the first app in flight, or a peer catching up by
    # gossip, moved it too.)
    # Its lease is far longer: it renews at once (less than half of it is left), and the
    # resolve below has a minute to be seen on two polls before the ack could lapse.
    second = await _running(urls, lease=15 * LEASE)
    try:

        async def renewed_by_second() -> Silence | None:
            if not any(line.startswith("extend") for line in second.ack_keeper.log):
                return None
            return await _renewed(second, ack_id, later.ends_at)

        again = await eventually(renewed_by_second, timeout=wait)
        assert again.id == ack_id

        _post(stack, alert, datetime.now(UTC) - timedelta(seconds=1))  # the alert resolves

        # Expired by the keeper (it says so), not lapsed at the end of its lease. Its log
        # line comes once the server has answered the expiry, so the server's state changes
        # first: reading the log as soon as the server said "expired" raced the keeper (that,
        # not a lapse, was the red CI runs of 0.32.0).
        async def expired_by_keeper() -> Silence | None:
            if not any(line.startswith(f"expire {ack_id[:8]}") for line in second.ack_keeper.log):
                return None
            held = await _held(second, ack_id)
            return held if held.state == "expired" else None

        resolved_at, polls = time.monotonic(), second.alerts.polls
        try:
            await eventually(expired_by_keeper, timeout=60)
        except AssertionError:
            state = (await _held(second, ack_id)).state
            pytest.fail(
                f"{time.monotonic() - resolved_at:.1f} s and {second.alerts.polls - polls} polls "
                f"after the resolve, the server says {state}; keeper: {second.ack_keeper.log}; "
                f"distrust: {second.alerts.ledger.distrust}; held: {list(second.alerts.ledger.held)}"
            )
    finally:
        await second.aclose()
