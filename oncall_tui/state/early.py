"""The first poll's alert groups, asked for as soon as the config is read (api/early.py).

Only for a context whose requests the standard library can make exactly as the clients
would: no credential (keyring, environment or command), no proxy, no extra header, no client
certificate. For any other, nothing is sent early and the first poll asks as it always did.
Imports nothing but the standard library and api/early.py: it runs before httpx is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oncall_tui.api.early import API, GROUPS_PATH, SILENCES_PATH, EarlyAnswer, EarlyRequest

if TYPE_CHECKING:
    from concurrent.futures import Future

    from oncall_tui.config import Context
    from oncall_tui.state.wiring import Clients

# Peers asked early at most; the others are asked by the first poll as usual.
MAX_EARLY = 16

EarlyGroups = dict[str, "Future[EarlyAnswer]"]  # by the URL asked: API base URL and path
# Requests sent before the config was validated (cli/early.py), by what they asked.
SentEarly = dict[EarlyRequest, "Future[EarlyAnswer]"]


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


def start_early(context: Context, sent: SentEarly | None = None) -> EarlyGroups:
    """Send every peer's first /alerts/groups request now, each from its own thread.

    `sent`: requests already sent from the raw config; one is taken over only when it is
    exactly the request this context makes (else it is asked again, and the other dropped).
    """
    sent = dict(sent or {})
    try:
        return _start(context, sent) if can_ask_early(context) else {}
    finally:
        for left in sent.values():
            left.cancel()


def _start(context: Context, sent: SentEarly) -> EarlyGroups:
    started: EarlyGroups = {}
    for request in early_requests(context):
        taken = sent.pop(request, None)
        started[asked(request)] = taken if taken is not None else request.start()
    return started


def asked(request: EarlyRequest) -> str:
    """What a request asks for, as `attach` looks it up: the API base URL and the path."""
    return request.base_url.rstrip("/") + API + request.path


def early_requests(context: Context) -> list[EarlyRequest]:
    """The first /alerts/groups and /silences requests of each cluster's first peer, at
    most MAX_EARLY each: the first board is drawn from one peer of each cluster (its HA
    peers hold the same alerts), and the others are read by the next poll."""
    groups: dict[str, EarlyRequest] = {}
    silences: dict[str, EarlyRequest] = {}
    for spec in context.alertmanagers:
        for url in spec.peers[:1]:
            base = endpoint_url(url, spec.path_prefix)
            for path, found in ((GROUPS_PATH, groups), (SILENCES_PATH, silences)):
                if base in found or len(found) >= MAX_EARLY:
                    continue
                found[base] = EarlyRequest(
                    base.removesuffix(API),
                    path,
                    connect_timeout=context.timeouts.connect,
                    read_timeout=context.timeouts.read,
                    ca_file=str(context.tls.ca_file) if context.tls.ca_file else None,
                    insecure_skip_verify=context.tls.insecure_skip_verify,
                )
    return [*groups.values(), *silences.values()]


def attach(clients: Clients, early: EarlyGroups) -> None:
    """Give each peer of `clients` its early requests, once; the rest are cancelled."""
    for cluster in clients.clusters:
        for peer in cluster.peers:
            peer.early = early.pop(peer.endpoint.base_url + GROUPS_PATH, None)
            peer.early_silences = early.pop(peer.endpoint.base_url + SILENCES_PATH, None)
    for left in early.values():
        left.cancel()
    early.clear()
