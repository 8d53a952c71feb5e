"""A proxy in front of a real server whose clock reads `shift` seconds off ours.

A server on another clock cannot be had on one machine, so this rewrites the only thing a
client learns that clock from: the `Date` header of every answer (the upstream's own `Date`
plus `shift`). Everything else is forwarded as is, so the real server still holds and judges
every request, with its own (unshifted) clock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

_SKIP = {"date", "server", "connection", "transfer-encoding", "content-length", "keep-alive"}


@contextlib.contextmanager
def skew_proxy(upstream: str, shift: float) -> Iterator[str]:
    """Serve on a free loopback port; yields its URL."""
    http = httpx.Client(base_url=upstream.rstrip("/"), timeout=10)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host",)}
            resp = http.request(self.command, self.path, content=body or None, headers=headers)
            stamped = parsedate_to_datetime(resp.headers["date"]) + timedelta(seconds=shift)
            self.send_response_only(resp.status_code)
            self.send_header("Date", format_datetime(stamped, usegmt=True))
            for key, value in resp.headers.items():
                if key.lower() not in _SKIP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(resp.content)))
            self.end_headers()
            self.wfile.write(resp.content)

        do_GET = do_POST = do_DELETE = do_PUT = _any

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        http.close()
