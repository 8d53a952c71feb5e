"""An answer's body is freed when the app drops it, not when the cyclic GC next runs.

httpx's Response and its stream refer to each other; a quiet poll makes too little garbage
for the collector to run soon, and the 8 MB bodies of a 10,000-alert board piled up (four
alive after six quiet polls). Against the real Alertmanager of the session stack.
"""

from __future__ import annotations

import gc
import json
import weakref

import httpx
import pytest

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack
from oncall_tui.wire import errors
from tests.helpers import eventually, lone_alertmanager, raw_http

pytestmark = pytest.mark.stack


async def test_a_read_answer_is_freed_without_the_cyclic_gc(stack: Stack) -> None:
    peer = AlertmanagerPeer(stack.alertmanager_urls[0], ClientOptions())
    gc.disable()
    try:
        response = await peer.endpoint.request("GET", "/alerts/groups")
        assert response.content.startswith(b"[")
        answer = weakref.ref(response)
        del response
        assert answer() is None
        # What the app reads of an answer still works after: the body, read once.
        again = await peer.endpoint.request("GET", "/status")
        assert again.json()["cluster"] and await again.aread() == again.content
    finally:
        gc.enable()
        await peer.aclose()


async def test_a_body_read_in_pieces_is_the_body_and_errors_keep_the_servers_words() -> None:
    """`get_chunks` (the groups poll's read, never joined when unchanged) hands over the very
    bytes `request` reads, frees its answer without the cyclic GC, and turns an error status
    into the same typed error, with the server's own words.

    On an Alertmanager (0.25.0) of its own with no Prometheus: the session stack's answer
    changes from one read to the next (its alerts are sent again every second), this one's
    only when the test posts. 1,500 alerts make the body about 1 MB, read in several pieces.
    """
    with lone_alertmanager() as server:
        await _pieces(server.alertmanager_urls[0])


async def _pieces(url: str) -> None:
    alerts = [
        {"labels": {"alertname": f"Pieces{i // 30}", "instance": f"10.0.0.{i}", "x": "y" * 200}}
        for i in range(1500)
    ]
    status, body = raw_http(url + "/api/v2/alerts", json.dumps(alerts).encode())
    assert status == 200, body
    peer = AlertmanagerPeer(url, ClientOptions())

    async def all_grouped() -> bool:  # dispatched and active: the answer holds still now
        body = (await peer.endpoint.request("GET", "/alerts/groups")).content
        return body.count(b'"state":"active"') == len(alerts)

    try:
        await eventually(all_grouped)
        gc.collect()  # earlier tests' garbage: what is alive from here on is this test's
        gc.disable()
        chunks = await peer.endpoint.get_chunks("/alerts/groups")
        whole = (await peer.endpoint.request("GET", "/alerts/groups")).content
        assert len(chunks) > 1 and b"".join(chunks) == whole
        assert whole.count(b'"instance":"10.0.0.') == len(alerts)
        assert not [o for o in gc.get_objects() if isinstance(o, httpx.Response)]
        with pytest.raises(errors.NotFound) as caught:
            await peer.endpoint.get_chunks("/silence/00000000-0000-0000-0000-000000000000")
        assert caught.value.status == 404 and caught.value.detail
    finally:
        gc.enable()
        await peer.aclose()
