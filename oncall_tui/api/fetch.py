"""Fetch a runbook: http(s) or a local file, capped in size and time, cached for the session.

A runbook host is not one of the context's servers: its client is separate, so the
Alertmanager/Prometheus credential can never reach it. A runbook host may have a credential
of its own (looked up by host); redirects are followed by hand, and once a redirect leaves
the first host no credential is sent at all, nor any cookie.

A runbook link is untrusted (anyone who can post an alert chooses it): a local file is read
only inside the runbook folders, checked on its text and again after resolving symlinks,
before it is opened; a fetch goes through `netguard.GuardedTransport`, which never connects
to a link-local or cloud metadata address, on any redirect hop.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import time
from collections.abc import Callable, MutableMapping, Sequence
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from oncall_tui.api.http import USER_AGENT
from oncall_tui.api.netguard import GuardedTransport, NetworkHooks, Refused
from oncall_tui.domain.runbook_policy import (
    ALLOW_FILES,
    FILE_RULE,
    NetworkPolicy,
    lexical_file_refusal,
    resolved_file_refusal,
)
from oncall_tui.wire.documents import Fetched, FetchError, Refusal, RefusedLink

MAX_REDIRECTS = 5
# host:port (or host) -> ("Authorization", "Bearer ...") or None; may block (keyring, command).
AuthLookup = Callable[[str], "tuple[str, str] | None"]


def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:g} MB"
    if count >= 1000:
        return f"{count / 1000:g} kB"
    return f"{count} bytes"


def _decode(body: bytes, content_type: str) -> str:
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip("\"'")
    try:
        return body.decode(charset, "replace")
    except LookupError:
        return body.decode("utf-8", "replace")


class RunbookFetcher:
    """One per screen; the cache (`url -> Fetched`) is the app's, so it lasts the session."""

    def __init__(
        self,
        *,
        max_bytes: int,
        timeout: float,
        cache: MutableMapping[str, Fetched] | None = None,
        auth_for: AuthLookup | None = None,
        proxy: str | None = None,
        roots: Sequence[Path] = (),
        policy: NetworkPolicy | None = None,
        hooks: NetworkHooks | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.cache: MutableMapping[str, Fetched] = {} if cache is None else cache
        self.auth_for = auth_for
        self.roots = list(roots)  # the only folders a local runbook is read from
        self.policy = policy or NetworkPolicy()
        self.proxied = proxy is not None
        self._problem = ""
        try:
            transport = GuardedTransport(self.policy, proxy=proxy, hooks=hooks)
        except ValueError as exc:  # a proxy scheme runbook fetches cannot check
            self._problem = str(exc)
            transport = GuardedTransport(self.policy, hooks=hooks)
        self._client = httpx.AsyncClient(
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "text/markdown, text/plain, text/html;q=0.9, */*;q=0.5",
            },
            trust_env=False,
            follow_redirects=False,
            transport=transport,
            timeout=httpx.Timeout(timeout),
        )

    def __repr__(self) -> str:
        return f"RunbookFetcher(max_bytes={self.max_bytes}, timeout={self.timeout})"

    def _cache_key(self, url: str) -> str:
        # An allow-list opens hosts for one context: what it let in is not served to another.
        return f"{url} allow={','.join(sorted(self.policy.allow))}" if self.policy.allow else url

    async def fetch(self, url: str) -> Fetched:
        """The document at `url` (from the cache if this session fetched it already)."""
        self._check_url(url)
        cached = self.cache.get(self._cache_key(url))
        if cached is not None:
            return cached
        if self._problem:
            raise FetchError(f"{self._problem}; not fetched")
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout):
                fetched = await self._follow(url, started)
        except TimeoutError:
            raise FetchError(
                f"took longer than {self.timeout:g} s (runbooks.timeout); not shown"
            ) from None
        self.cache[self._cache_key(url)] = fetched
        return fetched

    def _check_url(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        refusal = self.policy.host_refusal(host)
        if refusal is not None:
            raise RefusedLink(refusal)

    async def read_file(self, path: str) -> Fetched:
        """The local file at `path`, only if it lies inside the runbook folders (`roots`)."""
        started = time.monotonic()
        body, real = await asyncio.to_thread(self._read, path)
        return Fetched(
            path, str(real), "", _decode(body, ""), len(body), time.monotonic() - started
        )

    def _read(self, path: str) -> tuple[bytes, Path]:
        # Not cached: the check is cheap, and a cached file must not outlive a changed config.
        refusal = lexical_file_refusal(path, self.roots)
        if refusal is not None:
            raise RefusedLink(refusal)
        real = Path(os.path.realpath(path))
        real_roots = [Path(os.path.realpath(root)) for root in self.roots]
        refusal = resolved_file_refusal(path, real, self.roots, real_roots)
        if refusal is not None:
            raise RefusedLink(refusal)
        try:
            # The resolved path, and no symlink at its end: what was checked is what is opened
            # (O_NONBLOCK: a FIFO put there does not hang the screen).
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(real, flags)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                raise FetchError(f"no such file: {path}", missing=True) from None
            if exc.errno == errno.ELOOP:
                # A symlink swapped in after the check: refused, as the check would have.
                why = f"{path} became a symlink while it was being opened"
                raise RefusedLink(Refusal(FILE_RULE, why, ALLOW_FILES)) from None
            raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise FetchError(f"{path} is not a regular file; not read")
            if info.st_size > self.max_bytes:
                raise FetchError(self._too_large(info.st_size))
            try:
                body = handle.read(self.max_bytes + 1)
            except OSError as exc:
                raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from None
        if len(body) > self.max_bytes:
            raise FetchError(self._too_large(len(body)))
        return body, real

    def _too_large(self, size: int | None = None) -> str:
        what = f"{_size(size)}, " if size else ""
        return f"too large ({what}over the {_size(self.max_bytes)} limit, runbooks.max_bytes); not shown"

    async def _credential(self, url: str) -> tuple[str, str] | None:
        if self.auth_for is None:
            return None
        _, host, port = origin_of(url)
        try:
            return await asyncio.to_thread(self.auth_for, f"{host}:{port}")
        except Exception as exc:  # a CredentialError, worded for the user and secret-free
            raise FetchError(f"credential for {host}: {exc}") from None

    async def _follow(self, url: str, started: float) -> Fetched:
        first = origin_of(url)
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            scheme = urlsplit(current).scheme.lower()
            if scheme not in ("http", "https"):
                raise FetchError(f"redirected to a {scheme or 'relative'} URL; not followed")
            self._check_url(current)  # every hop; the transport checks the addresses too
            same_host = origin_of(current) == first
            header = await self._credential(current) if same_host else None
            headers = dict([header]) if header else {}
            self._client.cookies.clear()
            try:
                async with self._client.stream("GET", current, headers=headers) as response:
                    self._check_peer(current, response)
                    if response.is_redirect and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    return await self._body(url, current, response, started)
            except Refused as exc:
                raise RefusedLink(exc.refusal) from None
            except httpx.TimeoutException:
                raise TimeoutError from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__}: {str(exc)[:200] or 'failed'}") from None
        raise FetchError(f"more than {MAX_REDIRECTS} redirects; not followed")

    def _check_peer(self, url: str, response: httpx.Response) -> None:
        """The address the answer really came from, checked again before a byte is read:
        a second lock behind the transport's (which refuses before connecting)."""
        if self.proxied:
            return  # the peer is the configured proxy
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if not peer:
            raise FetchError("could not tell which address answered; not shown")
        refusal = self.policy.address_refusal(urlsplit(url).hostname or "", str(peer[0]))
        if refusal is not None:
            raise RefusedLink(refusal)

    async def _body(
        self, asked: str, final: str, response: httpx.Response, started: float
    ) -> Fetched:
        status = response.status_code
        if status in (401, 403):
            raise FetchError(
                f"HTTP {status}: the runbook host wants a credential "
                "(runbooks.auth in the config, secret in the keyring)"
            )
        if status >= 400:
            raise FetchError(
                f"HTTP {status} {response.reason_phrase}", missing=status in (404, 410)
            )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(self._too_large(int(declared)))
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > self.max_bytes:
                raise FetchError(self._too_large())
            chunks.append(chunk)
        content_type = response.headers.get("content-type", "")
        body = b"".join(chunks)
        return Fetched(
            asked,
            final,
            content_type,
            _decode(body, content_type),
            total,
            time.monotonic() - started,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
