"""An answer's body is freed when the app drops it, not when the cyclic GC next runs.

httpx's Response and its stream refer to each other; a quiet poll makes too little garbage
for the collector to run soon, and the 8 MB bodies of a 10,000-alert board piled up (four
alive after six quiet polls). Against the real Alertmanager of the session stack.
"""

from __future__ import annotations

import gc
import weakref

import pytest

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack

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
