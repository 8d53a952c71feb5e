"""The API clients through the fault proxy: readable errors, and silences written once.

The fault matrix (test_fault_matrix.py) runs every fault; these are the bugs it found, each
pinned by one direct test against the real Alertmanager pair of the session stack.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from oncall_tui.api.alertmanager import AlertmanagerCluster, AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack
from oncall_tui.wire import errors
from oncall_tui.wire.alertmanager import Matcher, PostableSilence
from tests.support import fault_proxy as fp

pytestmark = pytest.mark.stack
OPTIONS = ClientOptions(connect_timeout=1.0, read_timeout=1.5)


@pytest.fixture
async def proxy(stack: Stack) -> AsyncIterator[fp.FaultProxy]:
    running = fp.FaultProxy(stack.alertmanager_urls[0]).start()
    yield running
    running.stop()


def held(stack: Stack, comment: str) -> list[str]:
    silences = httpx.get(stack.alertmanager_urls[0] + "/api/v2/silences", timeout=5).json()
    return [s["id"] for s in silences if s["comment"] == comment]


@pytest.mark.parametrize("fault", [fp.GARBAGE_FAULT, fp.TLS], ids=str)
async def test_an_answer_that_is_not_http_says_so(proxy: fp.FaultProxy, fault: fp.Fault) -> None:
    """h11's "illegal status line: bytearray(b'\\x00...')" told a user nothing."""
    peer = AlertmanagerPeer(proxy.url, OPTIONS)
    proxy.set(fault)
    with pytest.raises(errors.BadResponse) as raised:
        await peer.status()
    await peer.aclose()
    assert raised.value.message == (
        "the answer is not HTTP: a wrong port, or a TLS server (https://)?"
    )


async def test_https_to_a_plain_http_server_says_so(stack: Stack) -> None:
    """The other way round, against the real Alertmanager: OpenSSL's WRONG_VERSION_NUMBER."""
    peer = AlertmanagerPeer(stack.alertmanager_urls[0].replace("http://", "https://"), OPTIONS)
    with pytest.raises(errors.ConnectFailed) as raised:
        await peer.status()
    await peer.aclose()
    assert raised.value.message == "TLS error: the server does not speak TLS here: an http:// URL?"


@pytest.mark.parametrize("fault", [fp.status(502, forward=True), fp.CUT], ids=str)
async def test_a_retry_after_a_lost_answer_does_not_write_the_silence_twice(
    stack: Stack, proxy: fp.FaultProxy, fault: fp.Fault
) -> None:
    """The silence was written but its answer lost; before the fix the retry made a second."""
    comment = f"lost answer {uuid.uuid4().hex}"
    now = datetime.now(UTC)
    silence = PostableSilence(
        matchers=[Matcher("alertname", "LostAnswerDrill")],
        starts_at=now,
        ends_at=now + timedelta(minutes=5),
        created_by="pytest",
        comment=comment,
    )
    cluster = AlertmanagerCluster("one", [AlertmanagerPeer(proxy.url, OPTIONS)])
    try:
        proxy.set(fault)
        with pytest.raises((errors.ServerError, errors.BadResponse)):
            await cluster.write_silence(silence)
        assert len(held(stack, comment)) == 1, "the request did reach the server"
        proxy.set(fp.PASS)
        stored = await cluster.write_silence(silence)  # the user tries again
        assert held(stack, comment) == [stored.id]
    finally:
        await cluster.aclose()


async def test_not_found_only_when_every_peer_says_so(stack: Stack, proxy: fp.FaultProxy) -> None:
    """A peer that does not know a silence may lag in gossip: with the peer that might know
    it unreachable, the user hears why, not a bare "not found"."""
    unknown = str(uuid.uuid4())
    second = AlertmanagerPeer(stack.alertmanager_urls[1], OPTIONS)
    cluster = AlertmanagerCluster("ha", [AlertmanagerPeer(proxy.url, OPTIONS), second])
    try:
        proxy.set(fp.REFUSE)
        with pytest.raises(errors.ClusterUnavailable) as raised:
            await cluster.expire_silence(unknown)
        assert "Connection refused" in raised.value.message
        assert "silence not found" in raised.value.message
        proxy.set(fp.PASS)
        with pytest.raises(errors.NotFound, match="silence not found"):
            await cluster.expire_silence(unknown)
    finally:
        await cluster.aclose()
