"""A loopback TCP relay in front of Alertmanager that timestamps each request and response.

It tells the benchmark, from outside the app, when a poll started, when its response ended
and how many polls there were, without touching the app. It relays bytes as they come
(256 KB reads), which adds a few milliseconds to a 7.5 MB response; the app's own work is not
affected. Responses are framed by Content-Length or by the last chunk of a chunked body.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass


@dataclass
class Exchange:
    request_line: str
    sent: float  # first request byte seen (monotonic)
    done: float | None = None  # last response byte relayed
    size: int = 0  # response bytes, headers included


class _Response:
    """Finds the end of one HTTP/1.1 response in a byte stream."""

    def __init__(self) -> None:
        self.head = b""
        self.length: int | None = None
        self.chunked = False
        self.body = 0
        self.tail = b""

    def feed(self, data: bytes) -> bool:
        if self.length is None and not self.chunked:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return False
            headers = self.head[:end].decode("latin-1").lower().split("\r\n")
            data = self.head[end + 4 :]
            for line in headers[1:]:
                name, _, value = line.partition(":")
                if name.strip() == "content-length":
                    self.length = int(value)
                elif name.strip() == "transfer-encoding" and "chunked" in value:
                    self.chunked = True
            if self.length is None and not self.chunked:
                self.length = 0
        if self.chunked:
            self.tail = (self.tail + data)[-7:]
            return self.tail.endswith(b"0\r\n\r\n")
        self.body += len(data)
        assert self.length is not None
        return self.body >= self.length


class Tap:
    """Listens on 127.0.0.1:<random>; relays to `target` ("http://127.0.0.1:PORT")."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").rstrip("/").split(":")
        self.target = (host, int(port))
        self.exchanges: list[Exchange] = []
        self.cond = threading.Condition()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self._closing = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True, name="tap-accept").start()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            pending: list[Exchange] = []
            threading.Thread(target=self._up, args=(client, upstream, pending), daemon=True).start()
            threading.Thread(
                target=self._down, args=(upstream, client, pending), daemon=True
            ).start()

    def _up(self, client: socket.socket, upstream: socket.socket, pending: list[Exchange]) -> None:
        """Client to server: a chunk that starts with a method starts an exchange."""
        while True:
            try:
                data = client.recv(262144)
            except OSError:
                data = b""
            if not data:
                _shut(upstream)
                return
            if data[:8].split(b" ")[0] in (b"GET", b"POST", b"PUT", b"DELETE", b"HEAD"):
                line = data.split(b"\r\n", 1)[0].decode("latin-1")
                exchange = Exchange(line, time.monotonic())
                with self.cond:
                    pending.append(exchange)
                    self.exchanges.append(exchange)
            try:
                upstream.sendall(data)
            except OSError:
                return

    def _down(
        self, upstream: socket.socket, client: socket.socket, pending: list[Exchange]
    ) -> None:
        response = _Response()
        while True:
            try:
                data = upstream.recv(262144)
            except OSError:
                data = b""
            if not data:
                _shut(client)
                return
            try:
                client.sendall(data)
            except OSError:
                return
            with self.cond:
                current = pending[0] if pending else None
                if current is not None:
                    current.size += len(data)
            if response.feed(data):
                response = _Response()
                with self.cond:
                    if pending:
                        pending.pop(0).done = time.monotonic()
                    self.cond.notify_all()

    # -- what the benchmark asks -------------------------------------------------------------

    def polls(self) -> list[Exchange]:
        with self.cond:
            return [e for e in self.exchanges if "/alerts/groups" in e.request_line]

    def completed(self) -> int:
        return sum(1 for e in self.polls() if e.done is not None)

    def wait_completed(self, count: int, timeout: float) -> Exchange:
        """Wait until `count` polls have their whole response; returns the last of them."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                done = [
                    e
                    for e in self.exchanges
                    if "/alerts/groups" in e.request_line and e.done is not None
                ]
                if len(done) >= count:
                    return done[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"poll {count} did not complete within {timeout} s")
                self.cond.wait(left)

    def busy(self, at: float, tail: float) -> bool:
        """Was a poll in flight at `at`, or had its response arrived less than `tail` s before?"""
        for e in self.polls():
            end = (e.done if e.done is not None else float("inf")) + tail
            if e.sent <= at <= end:
                return True
        return False

    def close(self) -> None:
        self._closing = True
        self.server.close()
        for s in self._sockets:
            _shut(s)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
