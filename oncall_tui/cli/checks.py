"""`oncall-tui check-config`: probe every server of every context, one line per server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.api.prometheus import PrometheusClient
from oncall_tui.domain.am_versions import capabilities
from oncall_tui.domain.engines import identify
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.wiring import Backend, Clients
from oncall_tui.wire import errors
from oncall_tui.wire.engine import HISTORY, Capability, Engine


@dataclass(frozen=True, slots=True)
class Probe:
    kind: str  # alertmanager | prometheus
    where: str  # cluster name or "prometheus"
    url: str
    ok: bool
    detail: str
    more: tuple[str, ...] = ()  # further lines: what works on this engine and what not

    def line(self) -> str:
        mark = "ok    " if self.ok else "FAILED"
        first = f"{mark} {self.kind:<12} {self.where:<12} {self.url}  {one_line(self.detail)}"
        return "\n".join([first, *(f"{'':<33}{one_line(m)}" for m in self.more)])


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


def engine_lines(engine: Engine) -> tuple[str, ...]:
    """What works on this engine and what does not, each with why."""
    lines = []
    for name, cap in engine.capabilities.items():
        verdict = {True: "works", False: "does NOT work", None: "cannot tell"}[cap.works]
        lines.append(f"{name}: {verdict}" + (f" ({cap.why})" if cap.why else ""))
    return (*lines, *engine.notes)


async def _history_checked(prometheus: PrometheusClient, engine: Engine) -> Engine:
    """Where the engine alone cannot say whether alert history exists, look for it."""
    if engine.works(HISTORY) is not None:
        return engine
    try:
        found = bool((await prometheus.query("count(ALERTS_FOR_STATE)")).samples)
    except errors.ApiError:
        return engine
    caps = dict(engine.capabilities)
    caps[HISTORY] = (
        Capability(True, "ALERTS_FOR_STATE series found")
        if found
        else Capability(False, "no ALERTS_FOR_STATE series: is vmalert remote-writing here?")
    )
    return replace(engine, capabilities=caps)


async def _probe_backend(clients: Clients, backend: Backend) -> list[Probe]:
    """One query backend (and its separate rules URL): reachable, which engine, what works.
    Every backend of a context is probed: one per cluster may each be a different engine."""
    prometheus, rules = backend.query, backend.rules_source
    where = backend.short
    engine = await backend.engines.engine()
    probes = []
    try:
        # The one thing every engine here must do; buildinfo alone proves little.
        await prometheus.query("1")
    except errors.ApiError as exc:
        note = _auth_note(clients, exc)
        named = f"{engine.name}: " if engine is not None and engine.kind != "unknown" else ""
        if engine is not None and engine.kind == "vmalert":
            note = "vmalert answers no PromQL: set prometheus.url to VictoriaMetrics and "
            note += "prometheus.rules_url to vmalert"
            exc = errors.ApiError(exc.server, "no query API")
        probes.append(
            Probe("prometheus", where, prometheus.url, False, f"{named}{exc.message}; {note}")
        )
    else:
        assert engine is not None
        engine = await _history_checked(prometheus, engine)
        version = f", version {engine.version}" if engine.version else ""
        detail = f"{engine.name}{version}; {_auth_note(clients, None)}"
        probes.append(
            Probe("prometheus", where, prometheus.url, True, detail, engine_lines(engine))
        )
    if rules is not None:
        facts = backend.engines.rules_facts
        found = identify(facts) if facts is not None else None
        rules_where = "rules_url" if not backend.owner else where
        try:
            await rules.alerts()
        except errors.ApiError as exc:
            probes.append(Probe("rules", rules_where, rules.url, False, exc.message))
        else:
            name = found.name if found is not None else "rules API"
            probes.append(Probe("rules", rules_where, rules.url, True, f"{name}: rules and alerts"))
    return probes


async def probe_all(clients: Clients) -> list[Probe]:
    """Probe every peer and every query backend of a context at once."""
    probes: list[Awaitable[Probe]] = [
        _probe_peer(clients, cluster.name, peer)
        for cluster in clients.clusters
        for peer in cluster.peers
    ]
    peers, backends = await asyncio.gather(
        asyncio.gather(*probes),
        asyncio.gather(*(_probe_backend(clients, b) for b in clients.backends)),
    )
    return [*peers, *(p for found in backends for p in found)]


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
        lines += [tagged(name, line) for probe in results for line in probe.line().splitlines()]
        return lines, all(p.ok for p in results)

    reports = await asyncio.gather(*(one(entry) for entry in contexts))
    lines = [line for report, _ in reports for line in report]
    failed = [_name(e) for e, (_, ok) in zip(contexts, reports, strict=True) if not ok]
    if failed:
        lines.append(f"some servers FAILED (in {', '.join(failed)})")
    else:
        lines.append("all servers answered")
    return lines, not failed
