"""One httpx.AsyncClient per server, with TLS, proxy, headers, timeouts and auth applied.

Every request goes through `Endpoint.request`, which turns transport failures and error
statuses into the typed errors of `errors.py`, with the server's own message.

httpx is imported with the first client (api/transport.py), not with this module: importing
it and anyio's backend is 120-190 ms of CPU, and a start-up whose first poll is answered by
the early requests (api/early.py) paints its alerts before any client is needed.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import importlib
import json
import os
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from oncall_tui.api import ioloop
from oncall_tui.api.early import ssl_context
from oncall_tui.domain.clock_skew import offset_from_date
from oncall_tui.wire import errors

if TYPE_CHECKING:
    import httpx

USER_AGENT = "oncall-tui/0.1"
MAX_DETAIL = 500
# TLS alerts a server sends when it wants a client certificate, or does not accept ours.
_CLIENT_CERT_ALERTS = frozenset(
    {"SSLV3_ALERT_BAD_CERTIFICATE", "TLSV13_ALERT_CERTIFICATE_REQUIRED", "TLSV1_ALERT_UNKNOWN_CA"}
)

# How h11 words an answer that is not HTTP at all (another protocol, a TLS record).
_NOT_HTTP = ("illegal status line", "illegal request line")


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Transport settings shared by every server of a context."""

    headers: Mapping[str, str] = field(default_factory=dict)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False
    proxy: str | None = None
    connect_timeout: float = 3.0
    read_timeout: float = 15.0
    write_timeout: float = 10.0
    pool_timeout: float = 5.0
    # (header, value); repr=False keeps the secret out of reprs and tracebacks.
    auth_header: tuple[str, str] | None = field(default=None, repr=False)


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port)


# httpx builds a TLS context for every client it makes, loading the whole CA bundle: 40 ms
# a client here, on the start's critical path once for the app's clients and once more for
# the first poll's. Contexts are built once per TLS setting (and files' mtimes, so a renewed
# certificate is read again by the next clients) and shared: an SSLContext serves any
# number of connections, in any thread.
_contexts: dict[tuple[object, ...], ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


def _mtime(path: str | None) -> float | None:
    try:
        return os.stat(path).st_mtime if path else None
    except OSError:
        return None  # ssl_context words the problem


def _ssl_context(options: ClientOptions) -> ssl.SSLContext:
    files = (options.ca_file, options.cert_file, options.key_file)
    key = (*files, options.insecure_skip_verify, *map(_mtime, files))
    with _contexts_lock:
        context = _contexts.get(key)
        if context is None:
            context = _contexts[key] = ssl_context(*files, options.insecure_skip_verify)
        return context


@functools.cache
def _unused_tls() -> ssl.SSLContext:
    """For every client of a plain-HTTP server, which never makes a TLS connection: one
    context that trusts no certificate authority at all, so that were it ever used it would
    refuse to connect rather than connect unverified."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def load_clients_soon() -> None:
    """Import the HTTP client (api/transport.py) in a daemon thread, unless it is in: the
    next request then finds it loaded instead of stopping the event loop 120-190 ms for it."""
    if "oncall_tui.api.transport" not in sys.modules:
        threading.Thread(target=_load_clients, name="oncall-tui-load", daemon=True).start()


def _load_clients() -> None:
    # A failure is the first request's to word (it imports the module again), not a
    # traceback from a thread across the user's terminal.
    with contextlib.suppress(Exception):
        importlib.import_module("oncall_tui.api.transport")


def server_detail(response: httpx.Response) -> str:
    """The server's own words from an error body, in any of the shapes seen in the wild."""
    body = response.content[:65536]
    if not body.strip():
        return response.reason_phrase or ""
    try:
        decoded = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:MAX_DETAIL]
    if isinstance(decoded, str):
        return decoded[:MAX_DETAIL]
    if isinstance(decoded, dict):
        for key in ("error", "message", "detail"):
            if isinstance(decoded.get(key), str):
                return str(decoded[key])[:MAX_DETAIL]
    return body.decode("utf-8", "replace").strip()[:MAX_DETAIL]


class Endpoint:
    """One server: its base URL (prefix included) and the client that talks to it."""

    def __init__(self, base_url: str, options: ClientOptions) -> None:
        self.base_url = base_url.rstrip("/")
        self.options = options
        # Built now, without httpx: a TLS file that cannot be loaded is a config error at
        # start-up (state/wiring.py), not a failed request later.
        self._tls = _ssl_context(options) if self.base_url.startswith("https") else _unused_tls()
        self._client: httpx.AsyncClient | None = None
        self._io_client: httpx.AsyncClient | None = None  # the I/O loop's (api/ioloop.py)
        self._secrets = _secret_parts(options.auth_header)
        # The server's clock minus ours (seconds), from the `Date` of its last answer; None
        # until one came. Silences are timed by it (domain/clock_skew.py).
        self.clock_offset: float | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    @property
    def client(self) -> httpx.AsyncClient:
        """The server's client for the running loop, made (and httpx imported) at its first
        use: the app's loop has one, the I/O loop (api/ioloop.py) another."""
        if ioloop.on_io_loop():
            if self._io_client is None:
                self._io_client = self._make_client()
            return self._io_client
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> httpx.AsyncClient:
        from oncall_tui.api.transport import make_client

        return make_client(self.base_url, self.options, self._tls)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; return a 2xx response or raise a typed ApiError. It is sent
        and read on the I/O loop (api/ioloop.py), not the app's."""
        return await ioloop.run(self._request(method, path, params, json_body, data))

    async def _request(
        self,
        method: str,
        path: str,
        params: Any,
        json_body: Any,
        data: Mapping[str, str] | None,
    ) -> httpx.Response:
        sent = time.time()
        with self._translated():
            response = await self.client.request(
                method, path, params=params, json=json_body, data=data
            )
        return self._checked(response, sent)

    async def get_chunks(self, path: str, *, params: Any = None) -> list[bytes]:
        """GET `path` and return the body of its 2xx answer in the pieces it arrived in, not
        joined (else raise a typed ApiError, as `request` does). A caller that finds the
        pieces the same as last time (api/decoding.py, hashing them) never copies the 8 MB of
        a quiet Alertmanager's groups into one buffer; httpx's `content` always did."""
        return await ioloop.run(self._get_chunks(path, params))

    async def _get_chunks(self, path: str, params: Any) -> list[bytes]:
        sent = time.time()
        request = self.client.build_request("GET", path, params=params)
        with self._translated():
            response = await self.client.send(request, stream=True)
            try:
                if response.is_success:
                    chunks = [chunk async for chunk in response.aiter_bytes()]
                else:
                    await response.aread()  # the server's words, for the error
                    chunks = []
            finally:
                await response.aclose()
        self._checked(response, sent)
        return chunks

    @contextlib.contextmanager
    def _translated(self) -> Iterator[None]:
        """Transport failures, while sending or while reading the body, as typed errors."""
        import httpx  # loaded by now: the client that raises these made it load

        try:
            yield
        except httpx.TimeoutException as exc:
            kind = type(exc).__name__.removesuffix("Timeout").lower()  # ConnectTimeout: connect
            raise self.timed_out(kind) from None
        except (httpx.ConnectError, httpx.ProxyError, httpx.UnsupportedProtocol) as exc:
            raise errors.ConnectFailed(
                self.base_url, self._redact(_root_cause(exc) or "cannot connect")
            ) from None
        except ssl.SSLError as exc:
            # TLS 1.3: the server checks the client certificate after the client considers
            # the handshake done, so its refusal (an alert) arrives on the first read, as a
            # bare ssl.SSLError that httpcore does not wrap in an httpx error.
            raise errors.ConnectFailed(
                self.base_url, self._redact(_root_cause(exc) or "TLS error")
            ) from None
        except httpx.HTTPError as exc:
            # Body cut short, protocol garbage, connection reset mid-response.
            # httpx's message is often empty (a bare ReadError): then say what the OS said.
            reason = _first_line(exc) or _root_cause(exc) or type(exc).__name__
            if reason.startswith(_NOT_HTTP):
                # h11's words ("illegal status line: bytearray(b'...')") tell a user nothing.
                reason = "the answer is not HTTP: a wrong port, or a TLS server (https://)?"
            raise errors.BadResponse(self.base_url, self._redact(reason)) from None

    def _checked(self, response: httpx.Response, sent: float) -> httpx.Response:
        """A read answer: the server's clock noted; returned if 2xx, else a typed ApiError."""
        # httpx's Response and its stream refer to each other, so only the cyclic GC frees
        # them, and the body with them. A quiet poll makes too little garbage for it to run
        # soon: after six quiet polls four 8 MB bodies of /alerts/groups were still alive.
        # The body is read and the stream closed by now: nothing reads the stream again.
        from oncall_tui.api.transport import READ  # loaded with the client

        response.stream = READ
        self.note_date(response.headers.get("date", ""), sent, time.time())
        if response.is_success:
            return response
        # A server (or a debugging proxy) may echo the request, Authorization header and all.
        detail = self._redact(server_detail(response))
        status = response.status_code
        if status in (401, 403):
            raise errors.Unauthorized(self.base_url, status, detail)
        if status == 404:
            raise errors.NotFound(self.base_url, status, detail)
        raise errors.ServerError(self.base_url, status, detail)

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def note_date(self, date: str, sent: float, received: float) -> None:
        """Learn the server's clock offset from the `Date` of an answer."""
        offset = offset_from_date(date, sent, received)
        if offset is not None:
            self.clock_offset = offset

    def timed_out(self, kind: str) -> errors.Timeout:
        """The error for a request that timed out while it `kind` ("connect", "read", "write"
        or "pool"; also the start-up's early request's)."""
        options = self.options
        value = {
            "connect": options.connect_timeout,
            "read": options.read_timeout,
            "write": options.write_timeout,
            "pool": options.pool_timeout,
        }.get(kind)
        if value is None:
            return errors.Timeout(self.base_url, "timeout after the configured time")
        return errors.Timeout(self.base_url, f"{kind} timeout after {value:g}s")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        io_client, self._io_client = self._io_client, None
        if io_client is not None:
            await ioloop.run(io_client.aclose())


def _secret_parts(header: tuple[str, str] | None) -> tuple[str, ...]:
    """What of an auth header must never be shown: the value, the credential after the
    scheme, and for basic auth the password it encodes; longest first, 4 characters or more
    (a shorter password would blank out ordinary words)."""
    if header is None:
        return ()
    value = header[1]
    scheme, _, credential = value.partition(" ")
    parts = {value, credential}
    if scheme.lower() == "basic":
        with contextlib.suppress(ValueError):  # not base64, or not UTF-8: nothing more
            parts.add(base64.b64decode(credential, validate=True).decode().partition(":")[2])
    return tuple(sorted((p for p in parts if len(p) >= 4), key=len, reverse=True))


def _root_cause(exc: BaseException) -> str:
    """The innermost reason: 'Connection refused', not httpx's 'All connection attempts failed'."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for cause in reversed(chain):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError) and cause.reason in _CLIENT_CERT_ALERTS:
            return (
                "TLS error: the server requires a client certificate or refused ours "
                f"(tls.cert_file, tls.key_file): {cause.reason}"
            )
        if isinstance(cause, ssl.SSLError) and cause.reason == "WRONG_VERSION_NUMBER":
            # What OpenSSL says when the answer to its hello is plain HTTP.
            return "TLS error: the server does not speak TLS here: an http:// URL?"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or _first_line(cause)}"
        if isinstance(cause, socket.gaierror):
            return f"cannot resolve host: {cause.strerror}"
        if isinstance(cause, OSError) and cause.errno and cause.errno > 0:
            return os.strerror(cause.errno)  # asyncio's own strerror hides the errno's name
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:MAX_DETAIL] if text else ""
