"""`oncall-tui check-config`: probe every server of every context, one line per server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.prometheus import PrometheusClient
from oncall_tui.domain.am_versions import capabilities
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.wiring import Clients
from oncall_tui.wire import errors


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
    caps = capabilities(status.version_info.version)
    detail = (
        f"version {status.version_info.version} ({caps.meaning()}), {cluster_note}; "
        f"{_auth_note(clients, None)}"
    )
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
    return await check_contexts([clients])


Entry = Clients | tuple[str, str]


def _name(entry: Entry) -> str:
    return entry[0] if isinstance(entry, tuple) else entry.context.name


async def check_contexts(contexts: Sequence[Entry]) -> tuple[list[str], bool]:
    """Probe every context at once; each line starts with the context it is about.

    A `(name, problem)` entry is a context whose clients could not even be built (a missing
    CA file): it is reported as failed, and the others are still probed.
    """
    width = max((len(_name(e)) for e in contexts), default=0)

    def tagged(name: str, text: str) -> str:
        return f"{name:<{width}}  {text}"

    async def one(entry: Entry) -> tuple[list[str], bool]:
        if isinstance(entry, tuple):
            name, problem = entry
            return [tagged(name, f"FAILED config       {one_line(problem)}")], False
        try:
            results = await probe_all(entry)
        finally:
            await entry.aclose()
        name = entry.context.name
        lines = [tagged(name, f"warning: {one_line(w)}") for w in entry.warnings]
        lines += [tagged(name, probe.line()) for probe in results]
        return lines, all(p.ok for p in results)

    reports = await asyncio.gather(*(one(entry) for entry in contexts))
    lines = [line for report, _ in reports for line in report]
    failed = [_name(e) for e, (_, ok) in zip(contexts, reports, strict=True) if not ok]
    if failed:
        lines.append(f"some servers FAILED (in {', '.join(failed)})")
    else:
        lines.append("all servers answered")
    return lines, not failed
