"""An httpx transport for runbook fetches that never connects to a forbidden address.

Checking a URL's host name is not enough: a name can resolve to 169.254.169.254, or resolve
to an ordinary address when checked and to the metadata address when connected (DNS
rebinding). So the check sits where the connection is made: httpcore asks its network
backend to `connect_tcp(host, port)`, and `GuardedBackend` resolves the name itself, refuses
if ANY resolved address is forbidden, and then connects to the very address it checked. TLS
still verifies the certificate for the name (httpcore passes the URL's host as SNI and
`server_hostname`), and the Host header is the request's own. Every connection goes through
the backend, so every redirect hop is checked, and a kept-alive connection was checked when
it was made.

`httpcore.AsyncConnectionPool(network_backend=...)` is public API; httpx's own transport
does not expose it, so `GuardedTransport` builds the pool itself and maps httpcore's
exceptions to httpx's, as httpx's transport does.

Behind a proxy, the proxy resolves and connects: the target's name and the addresses it
resolves to here are checked before the request is handed over, which is the best a client
can do; the proxy itself (from the config) is not checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from oncall_tui.domain.runbook_policy import NetworkPolicy, parse_address
from oncall_tui.wire.documents import Refusal

# (host, port) -> the addresses to try, in order; tests pass one of their own.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """A connection this policy forbids; raised before any connection is attempted."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True, slots=True)
class NetworkHooks:
    """What the runbook screen's fetcher resolves and connects with (tests replace both)."""

    resolver: Resolver | None = None
    backend: httpcore.AsyncNetworkBackend | None = None


async def checked_addresses(
    policy: NetworkPolicy, resolver: Resolver, host: str, port: int
) -> list[str]:
    """Every address `host` resolves to, each one allowed by `policy`, or `Refused`."""
    refusal = policy.host_refusal(host)
    if refusal is not None:
        raise Refused(refusal)
    literal = parse_address(host)
    addresses = [str(literal)] if literal is not None else await resolver(host, port)
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolved to no address")
    for address in addresses:
        refusal = policy.address_refusal(host, address)
        if refusal is not None:
            raise Refused(refusal)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every address, connect to a checked address (never to the name)."""

    def __init__(
        self,
        policy: NetworkPolicy,
        resolver: Resolver,
        inner: httpcore.AsyncNetworkBackend,
        exempt: Iterable[tuple[str, int]] = (),
    ) -> None:
        self.policy = policy
        self.resolver = resolver
        self.inner = inner
        self.exempt = frozenset(exempt)  # the configured proxy: the user's own choice

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if (host.lower(), port) in self.exempt:
            return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        addresses = await checked_addresses(self.policy, self.resolver, host, port)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("runbook fetches do not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _mapped() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for theirs, ours in _EXCEPTIONS:
            if isinstance(exc, theirs):
                raise ours(str(exc)) from exc
        raise


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        if hasattr(self._stream, "aclose"):
            with _mapped():
                await self._stream.aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx transport over an httpcore pool whose every connection is `GuardedBackend`'s."""

    def __init__(
        self,
        policy: NetworkPolicy,
        *,
        proxy: str | None = None,
        hooks: NetworkHooks | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        hooks = hooks or NetworkHooks()
        self.policy = policy
        self.resolver = hooks.resolver or system_resolver
        context = ssl_context or httpx.create_ssl_context()
        inner = hooks.backend or httpcore.AnyIOBackend()
        self.proxied = proxy is not None
        if proxy is None:
            backend = GuardedBackend(policy, self.resolver, inner)
            self._pool: httpcore.AsyncConnectionPool = httpcore.AsyncConnectionPool(
                ssl_context=context, network_backend=backend
            )
            return
        url = httpx.URL(proxy)
        if url.scheme not in ("http", "https"):
            raise ValueError(f"runbook fetches support http(s) proxies, not {url.scheme}")
        port = url.port or (443 if url.scheme == "https" else 80)
        backend = GuardedBackend(policy, self.resolver, inner, exempt=[(url.host.lower(), port)])
        self._pool = httpcore.AsyncHTTPProxy(
            proxy_url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            ssl_context=context,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.proxied:  # the proxy resolves again; this is the check we can make
            port = request.url.port or (443 if request.url.scheme == "https" else 80)
            await checked_addresses(self.policy, self.resolver, request.url.host, port)
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _mapped():
            answer = await self._pool.handle_async_request(core)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer.stream),
            extensions=answer.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()
