"""Requests are sent and read on the I/O loop (api/ioloop.py), not on the app's event loop.

Against the test stack's real Alertmanager (FACTS.md: Debian's prometheus-alertmanager, the
version the session's summary names), and a hanging server for the one thing a real server
cannot be made to do: never answer.
"""

from __future__ import annotations

import asyncio
import queue
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.demo.stack import Stack

OPTIONS = ClientOptions(connect_timeout=2, read_timeout=10)


@pytest.mark.stack
async def test_a_poll_is_read_and_decoded_while_the_apps_loop_is_busy(stack: Stack) -> None:
    peer = AlertmanagerPeer(stack.alertmanager_urls[0], OPTIONS)
    try:
        task = asyncio.create_task(peer.alert_groups())
        await asyncio.sleep(0)  # the task starts, and hands its work to the I/O loop
        # This loop is kept busy, as by a long redraw: it runs nothing meanwhile.
        deadline = time.monotonic() + 10
        while peer.groups_decoder.decoded == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert peer.groups_decoder.decoded > 0, "the groups were not read without this loop"
        groups = await task
        assert sum(len(g.alerts) for g in groups) > 0
    finally:
        await peer.aclose()


@pytest.fixture
def silent_server() -> Iterator[tuple[int, queue.Queue[str]]]:
    """Reads a request and never answers; says "asked", then "left" when the client hangs up."""
    server = socket.create_server(("127.0.0.1", 0))
    said: queue.Queue[str] = queue.Queue()

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            said.put("asked")
            while conn.recv(65536):
                pass
            said.put("left")

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server.getsockname()[1], said
    finally:
        server.close()


async def test_a_cancelled_poll_hangs_up_on_the_server(
    silent_server: tuple[int, queue.Queue[str]],
) -> None:
    """Quitting or switching context mid-poll cancels the read on the I/O loop too: the
    connection is closed, not left waiting for the read timeout."""
    port, said = silent_server
    peer = AlertmanagerPeer(f"http://127.0.0.1:{port}", OPTIONS)
    try:
        task = asyncio.create_task(peer.alert_groups())
        assert await asyncio.to_thread(said.get, timeout=5) == "asked"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(said.get, timeout=5) == "left"
    finally:
        await peer.aclose()
