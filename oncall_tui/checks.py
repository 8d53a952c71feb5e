"""`oncall-tui check-config`: probe every server of a context, one line per server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

from .api import errors
from .api.alertmanager import AlertmanagerPeer
from .api.prometheus import PrometheusClient
from .domain.sanitize import one_line
from .factory import Clients


@dataclass(frozen=True, slots=True)
class Probe:
    kind: str  # alertmanager | prometheus
    where: str  # cluster name or "prometheus"
    url: str
    ok: bool
    detail: str

    def line(self) -> str:
        mark = "ok    " if self.ok else "FAILED"
        return f"{mark} {self.kind:<12} {self.where:<12} {self.url}  {one_line(self.detail)}"


def _auth_note(clients: Clients, error: errors.ApiError | None) -> str:
    if clients.context.auth is None:
        return "no auth configured"
    if clients.credential_error:
        return f"auth NOT sent: {clients.credential_error}"
    if isinstance(error, errors.Unauthorized):
        return f"auth REJECTED ({error.message})"
    return "auth ok" if error is None else "auth not checked"


async def _probe_peer(clients: Clients, cluster: str, peer: AlertmanagerPeer) -> Probe:
    try:
        status = await peer.status()
    except errors.ApiError as exc:
        note = _auth_note(clients, exc)
        return Probe("alertmanager", cluster, peer.url, False, f"{exc.message}; {note}")
    peers = status.cluster.peers
    cluster_note = (
        "not clustered"
        if status.cluster.status == "disabled"
        else f"cluster {status.cluster.status}, {len(peers)} peer{'s' if len(peers) != 1 else ''}: "
        + ", ".join(p.address for p in peers)
    )
    detail = f"version {status.version_info.version}, {cluster_note}; {_auth_note(clients, None)}"
    return Probe("alertmanager", cluster, peer.url, True, detail)


async def _probe_prometheus(clients: Clients, prometheus: PrometheusClient) -> Probe:
    try:
        info = await prometheus.build_info()
    except errors.NotFound:
        # Some compatible engines lack buildinfo; a trivial query still proves the API works.
        try:
            await prometheus.query("1")
        except errors.ApiError as exc:
            return Probe("prometheus", "prometheus", prometheus.url, False, exc.message)
        return Probe("prometheus", "prometheus", prometheus.url, True, "query API answers")
    except errors.ApiError as exc:
        note = _auth_note(clients, exc)
        return Probe("prometheus", "prometheus", prometheus.url, False, f"{exc.message}; {note}")
    detail = f"version {info.version}; {_auth_note(clients, None)}"
    return Probe("prometheus", "prometheus", prometheus.url, True, detail)


async def probe_all(clients: Clients) -> list[Probe]:
    """Probe every peer and the Prometheus of a context at once."""
    probes: list[Awaitable[Probe]] = [
        _probe_peer(clients, cluster.name, peer)
        for cluster in clients.clusters
        for peer in cluster.peers
    ]
    if clients.prometheus is not None:
        probes.append(_probe_prometheus(clients, clients.prometheus))
    return list(await asyncio.gather(*probes))


async def check_context(clients: Clients) -> tuple[list[str], bool]:
    """The report lines and whether every server answered."""
    try:
        results = await probe_all(clients)
    finally:
        await clients.aclose()
    lines = [f"context {clients.context.name}"]
    lines += [f"warning: {w}" for w in clients.warnings]
    lines += ["  " + probe.line() for probe in results]
    ok = all(p.ok for p in results)
    lines.append("all servers answered" if ok else "some servers FAILED")
    return lines, ok
