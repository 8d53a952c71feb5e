"""Server time for one context: what each server's clock says, and the "now" silences use.

Every client keeps the offset of its server's clock from ours (api/http.py, from `Date`);
the math is in domain/clock_skew.py. Here the offsets of a context are named for the status
line, and silences take their "now" from the Alertmanagers they are written to, so a silence
made on a host whose clock drifted neither starts late nor ends early.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from oncall_tui.domain.clock_skew import server_now as shifted
from oncall_tui.domain.clock_skew import skew_note
from oncall_tui.state.wiring import Clients


def offsets(clients: Clients) -> dict[str, float | None]:
    """Each server's clock minus ours (None until it answered), by a name a user knows."""
    out: dict[str, float | None] = {}
    for cluster in clients.clusters:
        for peer in cluster.peers:
            name = cluster.name
            if len(cluster.peers) > 1:
                name += f" ({urlsplit(peer.url).netloc})"
            out[name] = peer.endpoint.clock_offset
    for backend in clients.backends:
        name = f"prometheus {backend.owner}" if backend.owner else "prometheus"
        out[name] = backend.query.endpoint.clock_offset
    return out


def note(clients: Clients) -> str:
    """Every server more than 30 s off, for the status line; "" when the clocks agree."""
    return skew_note(offsets(clients))


def alertmanager_offset(clients: Clients, clusters: Iterable[str] | None = None) -> float | None:
    """The clock offset of the Alertmanagers of `clusters` (all by default): the median of
    the peers that answered, None before any did."""
    names = set(clusters) if clusters is not None else None
    known = [
        peer.endpoint.clock_offset
        for cluster in clients.clusters
        if names is None or cluster.name in names
        for peer in cluster.peers
        if peer.endpoint.clock_offset is not None
    ]
    return statistics.median(known) if known else None


def server_now(clients: Clients, clusters: Iterable[str] | None = None) -> datetime:
    """Now by the clock of the Alertmanagers a silence goes to (ours while none answered)."""
    return shifted(datetime.now(UTC), alertmanager_offset(clients, clusters))
