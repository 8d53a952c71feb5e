"""A fault proxy: a real server behind it, switched at runtime into the failures a real one
cannot be made to produce on demand (FACTS.md: no mocks of servers).

`FaultProxy(upstream_url).start()` listens on a free loopback port and forwards every HTTP/1.1
request to the real server, one upstream connection per request (so keep-alive towards the
client is the proxy's own). `proxy.set(fault)` switches what the next request meets:

    pass        forwarded as is
    refuse      nothing listens on the port any more (connection refused); open connections
                are closed, as a dying server's are
    hang        the request is read and never answered, until the fault changes
    delay       forwarded, then the answer is held `delay` seconds (a slow server)
    cut         forwarded, then the body is cut short: half of it, and the connection closed
    status      answered `status` with a short body; with `forward` the real server got the
                request first (a gateway that lost the answer: the write happened)
    echo        answered `status` with the request's own head as the body, credentials and
                all, as debugging proxies and echo servers do
    garbage     bytes that are not HTTP at all, with a terminal escape among them
    notjson     200 with an HTML page where JSON was promised (a login page, a portal)
    huge        200 with a `size`-byte JSON string where a list or object was promised
    tls         a TLS alert record, as a TLS-only server answers a plain-HTTP client

The proxy runs its own event loop in a thread, so it serves the app under Pilot, httpx in the
test's loop and blocking clients alike. It counts the requests each fault met (`seen`) and
keeps every request's target (`requests`).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# A fatal "protocol_version" alert in a TLS 1.0 record: what a TLS server sends to a client
# whose first bytes are not a ClientHello.
TLS_ALERT = b"\x15\x03\x01\x00\x02\x02\x46"
GARBAGE = b"\x00\xff\xfeSSH-2.0-not-http \x1b[2J\x1b]52;c;ZXZpbA==\x07\r\n\r\n"
NOT_JSON = b"<html><head><title>Sign in</title></head><body>Please sign in</body></html>\n"
_HOP_BY_HOP = (b"connection", b"transfer-encoding", b"content-length", b"keep-alive")


@dataclass(frozen=True)
class Fault:
    """One way for a server to fail; `name` is its row in the fault matrix."""

    name: str
    kind: str
    status: int = 0
    delay: float = 0.0
    forward: bool = False
    size: int = 0

    def __str__(self) -> str:
        return self.name


PASS = Fault("pass", "pass")
REFUSE = Fault("refused", "refuse")
HANG = Fault("hang", "hang")
CUT = Fault("cut short", "cut")
GARBAGE_FAULT = Fault("garbage", "garbage")
NOT_JSON_FAULT = Fault("not JSON", "notjson")
TLS = Fault("TLS error", "tls")


def delay(seconds: float) -> Fault:
    return Fault(f"delay {seconds:g}s", "delay", delay=seconds)


def status(code: int, *, forward: bool = False) -> Fault:
    return Fault(f"{code}{' after write' if forward else ''}", "status", code, forward=forward)


def echo(code: int) -> Fault:
    return Fault(f"{code} echoing the request", "echo", code)


def huge(size: int) -> Fault:
    return Fault(f"huge {size >> 20} MB", "huge", size=size)


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of one real server; see the module docstring."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://HOST:PORT, not {upstream!r}")
        self.upstream = (parts.hostname, parts.port)
        self.fault = PASS
        self.seen: Counter[str] = Counter()
        # Every request's target (path and query), in order: what the server was asked.
        self.requests: list[str] = []
        self.arrived: list[float] = []  # each request's time.monotonic(), as `requests`
        self.answered: list[float] = []  # when each answer was written (or given up)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- control, from any thread ----------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def set(self, fault: Fault) -> None:
        """Switch the fault; hung requests are let go (closed unanswered)."""
        self._call(self._set(fault))

    def stop(self) -> None:
        if self._thread.is_alive():
            self._call(self._shut())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- inside the proxy's loop -----------------------------------------------------------

    async def _listen(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))  # port 0 the first time, the same one after
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._serve, sock=sock)

    async def _shut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._changed.set()
        # Aborted connections end their handlers by themselves; a cancelled one would be
        # logged by asyncio's stream callback as an error.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)

    async def _set(self, fault: Fault) -> None:
        old, self.fault = self.fault, fault
        self._changed.set()
        self._changed = asyncio.Event()
        if fault.kind == "refuse":
            await self._shut()
        elif old.kind == "refuse":
            await self._listen()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                body = await reader.readexactly(_content_length(head))
                fault = self.fault
                self.seen[fault.name] += 1
                self.arrived.append(time.monotonic())
                self.requests.append(head.split(b" ", 2)[1].decode("latin-1"))
                try:
                    go_on = await self._answer(fault, head, body, writer)
                finally:
                    self.answered.append(time.monotonic())
                if not go_on:
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.transport.abort()

    async def _answer(
        self, fault: Fault, head: bytes, body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request as `fault` says; False to close the connection afterwards."""
        kind = fault.kind
        if kind in ("pass", "delay", "cut"):
            code, headers, payload = await self._forward(head, body)
            if kind == "delay":
                await asyncio.sleep(fault.delay)
            if kind == "cut":
                writer.write(_response(code, headers, payload, cut=True))
                await writer.drain()
                return False
            writer.write(_response(code, headers, payload))
        elif kind == "hang":
            await self._changed.wait()
            return False
        elif kind == "status":
            if fault.forward:
                await self._forward(head, body)
            detail = f"{fault.status} from the fault proxy\n".encode()
            writer.write(_response(fault.status, [(b"Content-Type", b"text/plain")], detail))
        elif kind == "echo":
            writer.write(_response(fault.status, [(b"Content-Type", b"text/plain")], head))
        elif kind == "garbage":
            writer.write(GARBAGE)
            await writer.drain()
            return False
        elif kind == "notjson":
            writer.write(_response(200, [(b"Content-Type", b"application/json")], NOT_JSON))
        elif kind == "huge":
            payload = b'"' + b"x" * max(0, fault.size - 2) + b'"'
            writer.write(_response(200, [(b"Content-Type", b"application/json")], payload))
        elif kind == "tls":
            writer.write(TLS_ALERT)
            await writer.drain()
            return False
        else:  # "refuse" arrives here only on a connection accepted just before the switch
            return False
        await writer.drain()
        return True

    async def _forward(
        self, head: bytes, body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Send the request to the real server on a fresh connection; its full answer."""
        reader, writer = await asyncio.open_connection(*self.upstream)
        try:
            request_line, *lines = head[:-4].split(b"\r\n")
            kept = [line for line in lines if not line.lower().startswith(b"connection:")]
            writer.write(b"\r\n".join([request_line, *kept, b"Connection: close", b"", b""]))
            writer.write(body)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        answer_head, _, payload = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = answer_head.split(b"\r\n")
        headers = []
        chunked = False
        for line in header_lines:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            if name.strip().lower() not in _HOP_BY_HOP:
                headers.append((name.strip(), value.strip()))
        return int(status_line.split()[1]), headers, _dechunk(payload) if chunked else payload


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)


def _response(
    code: int, headers: list[tuple[bytes, bytes]], body: bytes, *, cut: bool = False
) -> bytes:
    """A keep-alive HTTP/1.1 response; `cut` promises more than half the body and sends half
    (an empty body too is promised 16 bytes: even a 200 with no body can be cut short)."""
    declared = len(body)
    if cut:
        declared, body = len(body) + 16, body[: len(body) // 2]
    lines = [f"HTTP/1.1 {code} Fault Proxy".encode()]
    lines += [name + b": " + value for name, value in headers]
    lines.append(f"Content-Length: {declared}".encode())
    return b"\r\n".join([*lines, b"", b""]) + body
