"""The demo's webhook sink: where the demo Alertmanager's receivers deliver, for real.

`POST /hook/<receiver>` records a notification (200), or answers 500 while broken, so the
failure counters in Alertmanager's /metrics move as they would with a real pager down.
`POST /break` and `POST /mend` are the demo's control; `GET /received` gives the counts
per receiver as JSON. Standard library only: it runs as a process of the demo stack.
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20


def make_server(host: str, port: int) -> ThreadingHTTPServer:
    lock = threading.Lock()
    received: dict[str, int] = {}
    refused: dict[str, int] = {}
    state = {"broken": False}

    def report() -> str:
        with lock:
            return json.dumps({"broken": state["broken"], "received": received, "refused": refused})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/received":
                self._send(200, report())
            elif path in ("/-/healthy", "/-/ready"):
                self._send(200, "OK")
            else:
                self._send(404, "not found")

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            size = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(min(size, MAX_BODY))
            if path in ("/break", "/mend"):
                with lock:
                    state["broken"] = path == "/break"
                self._send(200, report())
            elif path.startswith("/hook/"):
                receiver = path.removeprefix("/hook/")[:100]
                with lock:
                    broken = state["broken"]
                    book = refused if broken else received
                    book[receiver] = book.get(receiver, 0) + 1
                self._send(500 if broken else 200, "sink broken (demo)" if broken else "ok")
            else:
                self._send(404, "not found")

        def _send(self, code: int, text: str) -> None:
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = _Server((host, port), Handler)
    server.daemon_threads = True
    return server


class _Server(ThreadingHTTPServer):
    # Alertmanager sends a group's notifications all at once: with 500 groups (bench/), the
    # default backlog of 5 dropped connections, and the demo's pager looked like it failed.
    request_queue_size = 256


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the demo's webhook sink")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    make_server(args.host, args.port).serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
