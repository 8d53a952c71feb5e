"""A real HTTP server on 127.0.0.1 serving runbooks for the tests (stdlib http.server).

Routes are set by the test: a body, a status, headers, a redirect, or a body dripped slowly.
Every request's headers are recorded, so a test can prove what was (not) sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/markdown; charset=utf-8"
    location: str = ""  # a redirect target
    drip_seconds: float = 0.0  # a pause between 1-byte writes: a slow body
    declare_length: bool = True


@dataclass
class RunbookServer:
    url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def headers_for(self, path: str) -> list[dict[str, str]]:
        return [headers for seen_path, headers in self.seen if seen_path == path]


def _handler(server: RunbookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = server.routes.get(self.path)
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(route.status)
            if route.location:
                self.send_header("Location", route.location)
            self.send_header("Content-Type", route.content_type)
            if route.declare_length:
                self.send_header("Content-Length", str(len(route.body)))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            try:
                if route.drip_seconds:
                    for byte in route.body:
                        if server.stop.is_set():
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(route.drip_seconds)
                else:
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def _serve() -> Iterator[RunbookServer]:
    state = RunbookServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def runbook_server() -> Iterator[RunbookServer]:
    yield from _serve()


@pytest.fixture
def other_server() -> Iterator[RunbookServer]:
    """A second host (another port is another origin): where a redirect may lead."""
    yield from _serve()
