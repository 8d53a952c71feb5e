"""The first poll's request for alert groups, sent before httpx and the UI are imported.

Standard library only, so that it can leave as soon as the config is read: a large
Alertmanager then works on its answer (0.2-0.5 s at 10,000 alerts) while the rest of the app
is imported. It asks exactly what `AlertmanagerPeer.alert_groups` asks on a first poll (the
same path, query, headers and timeouts) and hands back the raw body, which the peer decodes as
usual. It never reports an error itself: every failure but a timeout leaves `body` None, and
the normal path asks again and words the error; a timeout is handed over as one, so a server
that does not answer is not waited for twice.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    import ssl
    from concurrent.futures import Future

API = "/api/v2"
GROUPS_PATH = "/alerts/groups"
# The first poll also reads a cluster's silences from its first peer (the acks on the board):
# asked early too, so that the first board needs no HTTP client (api/transport.py).
SILENCES_PATH = "/silences"
USER_AGENT = "oncall-tui/0.1"
# What a first poll sends (`_alert_params` with its defaults; `muted` is not sent before
# the peer's version is known). The peer uses the early answer only for this very query.
FIRST_QUERY: tuple[tuple[str, str], ...] = (
    ("active", "true"),
    ("silenced", "true"),
    ("inhibited", "true"),
    ("unprocessed", "true"),
)


# NamedTuples, not dataclasses: importing dataclasses (and the inspect module it loads) took
# 11 ms before the first request could be sent.
class EarlyAnswer(NamedTuple):
    body: bytes | None  # a 2xx answer's body (gzip undone); None: ask again the usual way
    date: str = ""  # the server's Date header, for the clock offset
    sent: float = 0.0  # time.time() around the request
    received: float = 0.0
    timed_out: str = ""  # "connect" or "read" when the server did not answer in time


def ssl_context(
    ca_file: str | None, cert_file: str | None, key_file: str | None, insecure: bool
) -> ssl.SSLContext:
    """The TLS context of a context's servers: one definition for httpx and this path."""
    import ssl

    context = ssl.create_default_context(cafile=ca_file)
    if cert_file and key_file:
        context.load_cert_chain(cert_file, key_file)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class EarlyRequest(NamedTuple):
    """One peer's first /alerts/groups (or /silences) request. Only for what this path does
    faithfully: no credential, no proxy, no extra header, no client certificate (the caller
    checks)."""

    base_url: str  # the peer's URL with its path prefix, as AlertmanagerPeer builds it
    path: str = GROUPS_PATH  # or SILENCES_PATH
    connect_timeout: float = 3.0
    read_timeout: float = 15.0
    ca_file: str | None = None
    insecure_skip_verify: bool = False

    def start(self) -> Future[EarlyAnswer]:
        """Send it from a daemon thread now; the future always ends with an EarlyAnswer.
        concurrent.futures (and the logging package it loads, 11 ms) is imported once the
        thread is on its way."""
        handed: list[Future[EarlyAnswer]] = []
        ready = threading.Event()

        def run() -> None:
            try:
                answer = self.fetch()
            except BaseException:  # anything at all: the normal path asks again
                answer = EarlyAnswer(None)
            ready.wait()
            if handed[0].set_running_or_notify_cancel():  # else nobody waits for it
                handed[0].set_result(answer)

        threading.Thread(target=run, name="oncall-tui-early", daemon=True).start()
        from concurrent.futures import Future

        handed.append(Future())
        ready.set()
        return handed[0]

    def fetch(self) -> EarlyAnswer:
        parts = urlsplit(self.base_url.rstrip("/") + API + self.path)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
            return EarlyAnswer(None)
        query = f"?{urlencode(FIRST_QUERY)}" if self.path == GROUPS_PATH else ""
        # The request is written on the socket as soon as it is open: http.client (and the
        # email package it loads, 30 ms) is imported to read the answer, while the server
        # works on it.
        head = (
            f"GET {parts.path}{query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Accept: application/json\r\nAccept-Encoding: gzip\r\n"
            f"Connection: keep-alive\r\nUser-Agent: {USER_AGENT}\r\n\r\n"
        )
        port = parts.port or (443 if parts.scheme == "https" else 80)
        sent = time.time()
        try:
            sock = socket.create_connection((parts.hostname, port), timeout=self.connect_timeout)
        except TimeoutError:
            return EarlyAnswer(None, sent=sent, timed_out="connect")
        try:
            if parts.scheme == "https":
                context = ssl_context(self.ca_file, None, None, self.insecure_skip_verify)
                context.set_alpn_protocols(["http/1.1"])  # as httpcore sets it
                try:
                    sock = context.wrap_socket(sock, server_hostname=parts.hostname)
                except TimeoutError:
                    return EarlyAnswer(None, sent=sent, timed_out="connect")
            sock.settimeout(self.read_timeout)
            sock.sendall(head.encode("ascii"))
            return self._answer(sock, sent)
        finally:
            sock.close()

    @staticmethod
    def _answer(sock: socket.socket, sent: float) -> EarlyAnswer:
        import http.client
        import zlib

        response = http.client.HTTPResponse(sock, method="GET")
        try:
            try:
                response.begin()
                body = response.read()
            except TimeoutError:
                return EarlyAnswer(None, sent=sent, timed_out="read")
            received = time.time()
            if not 200 <= response.status < 300:
                return EarlyAnswer(None)
            encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
            if encoding == "gzip":
                body = zlib.decompress(body, wbits=zlib.MAX_WBITS | 16)
            elif encoding != "identity":
                return EarlyAnswer(None)
            return EarlyAnswer(body, response.getheader("Date") or "", sent, received)
        finally:
            response.close()
