"""What the Alertmanagers' versions mean for matcher text, per cluster written to or read.

Each peer learns its version from `/api/v2/status` (api/alertmanager.py); the grammar a set
of clusters reads is the one all their peers read (domain/am_versions.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.domain.am_versions import cluster_grammar
from oncall_tui.domain.matcher_grammar import Grammar
from oncall_tui.state.wiring import Clients


def _peers(clients: Clients, clusters: Iterable[str] | None) -> list[AlertmanagerPeer]:
    names = set(clusters) if clusters is not None else None
    return [p for c in clients.clusters if names is None or c.name in names for p in c.peers]


def grammar_of(clients: Clients, clusters: Iterable[str] | None = None) -> Grammar:
    """How every Alertmanager of `clusters` (all by default) reads matcher text, from the
    versions learnt so far (classic until each peer is known to be 0.27+)."""
    return cluster_grammar(p.caps for p in _peers(clients, clusters))


async def learn_grammar(clients: Clients, clusters: Iterable[str] | None = None) -> Grammar:
    """grammar_of, after asking each peer not yet heard from for its version (a peer that
    does not answer counts as 0.25)."""
    unknown = [p for p in _peers(clients, clusters) if p.caps is None]
    await asyncio.gather(*(p.capabilities() for p in unknown), return_exceptions=True)
    return grammar_of(clients, clusters)
