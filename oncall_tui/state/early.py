"""The first poll's alert groups, asked for as soon as the config is read (api/early.py).

Only for a context whose requests the standard library can make exactly as the clients
would: no credential (keyring, environment or command), no proxy, no extra header, no client
certificate. For any other, nothing is sent early and the first poll asks as it always did.
Imports nothing but the standard library and api/early.py: it runs before httpx is loaded.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING

from oncall_tui.api.early import API, EarlyAnswer, EarlyRequest

if TYPE_CHECKING:
    from oncall_tui.config import Context
    from oncall_tui.state.wiring import Clients

# Peers asked early at most; the others are asked by the first poll as usual.
MAX_EARLY = 16

EarlyGroups = dict[str, "Future[EarlyAnswer]"]  # by the peer's API base URL


def endpoint_url(url: str, path_prefix: str) -> str:
    """A peer's API base URL, as AlertmanagerPeer and Endpoint build it."""
    return (url.rstrip("/") + path_prefix + API).rstrip("/")


def can_ask_early(context: Context) -> bool:
    tls = context.tls
    return (
        context.auth is None
        and context.proxy is None
        and not context.headers
        and tls.cert_file is None
        and tls.key_file is None
        and all(not spec.headers for spec in context.alertmanagers)
    )


def start_early(context: Context) -> EarlyGroups:
    """Send every peer's first /alerts/groups request now, each from its own thread."""
    if not can_ask_early(context):
        return {}
    started: EarlyGroups = {}
    for spec in context.alertmanagers:
        for url in spec.peers:
            base = endpoint_url(url, spec.path_prefix)
            if base in started or len(started) >= MAX_EARLY:
                continue
            request = EarlyRequest(
                base.removesuffix(API),
                connect_timeout=context.timeouts.connect,
                read_timeout=context.timeouts.read,
                ca_file=str(context.tls.ca_file) if context.tls.ca_file else None,
                insecure_skip_verify=context.tls.insecure_skip_verify,
            )
            started[base] = request.start()
    return started


def attach(clients: Clients, early: EarlyGroups) -> None:
    """Give each peer of `clients` its early request, once; the rest are cancelled."""
    for cluster in clients.clusters:
        for peer in cluster.peers:
            peer.early = early.pop(peer.endpoint.base_url, None)
    for left in early.values():
        left.cancel()
    early.clear()
