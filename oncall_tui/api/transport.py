"""What of the HTTP clients needs httpx itself: imported with the first client (api/http.py).

Importing httpx, httpcore and anyio's asyncio backend costs 120-190 ms of CPU; a start-up
whose first poll the early requests answer (api/early.py) paints its alerts without them.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpcore
import httpx

from oncall_tui.api.http import USER_AGENT, ClientOptions, origin

# What an answer's stream becomes once its body is read (see Endpoint._checked).
READ = httpx.ByteStream(b"")

# httpcore reads an answer 64 KiB at a time, and every read climbs up through h11, httpcore,
# anyio and asyncio, which had also cut each 256 KiB socket read into four, copying the rest
# each time: 250 trips for the 8.3 MB of /alerts/groups at 10,000 alerts, most of a quiet
# poll's CPU. asyncio reads up to 256 KiB from the socket at once: take all of it in one trip.
# (Every HTTP/1.1 connection of the process; only the size of a read changes.)
READ_BYTES = 256 * 1024
if httpcore.AsyncHTTP11Connection.READ_NUM_BYTES < READ_BYTES:
    httpcore.AsyncHTTP11Connection.READ_NUM_BYTES = READ_BYTES


class _HostBoundAuth(httpx.Auth):
    """Adds the auth header only to requests for the server it belongs to."""

    def __init__(self, server: tuple[str, str, int | None], header: tuple[str, str]) -> None:
        self._origin = server
        self._header = header

    def __repr__(self) -> str:
        return "_HostBoundAuth(***)"

    def auth_flow(self, request: httpx.Request) -> Any:
        if origin(str(request.url)) == self._origin:
            request.headers[self._header[0]] = self._header[1]
        yield request


def make_client(base_url: str, options: ClientOptions, tls: ssl.SSLContext) -> httpx.AsyncClient:
    """A client bound to one server; reuse it for every request to that server."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip"}
    headers.update(options.headers)
    auth = _HostBoundAuth(origin(base_url), options.auth_header) if options.auth_header else None
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        auth=auth,
        verify=tls,
        proxy=options.proxy,
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(
            connect=options.connect_timeout,
            read=options.read_timeout,
            write=options.write_timeout,
            pool=options.pool_timeout,
        ),
    )
