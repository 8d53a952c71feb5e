"""Which engine each query backend of a context is: probed once, again after a failure.

The board's poll, the lookups and the SLO store ask `EngineBook.engine()` before trusting an
empty answer: VictoriaMetrics' placeholder rules API means "cannot tell", not "none".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from oncall_tui.api.prometheus import PrometheusClient
from oncall_tui.domain.engines import combine, identify
from oncall_tui.wire.engine import Engine, EngineFacts


class EngineBook:
    def __init__(self, query: PrometheusClient | None, rules: PrometheusClient | None) -> None:
        self.query = query
        self.rules = rules  # a separate rules URL (vmalert), or None
        self.facts: EngineFacts | None = None
        self.rules_facts: EngineFacts | None = None
        self.known: Engine | None = None
        self._lock = asyncio.Lock()

    def adopt(self, other: EngineBook) -> None:
        if self.known is None and other.known is not None:
            self.facts, self.rules_facts, self.known = other.facts, other.rules_facts, other.known

    async def engine(self) -> Engine | None:
        """The engine, probing on first use and while the probe could not reach the server."""
        if self.query is None:
            return None
        if self.known is not None and self.known.kind != "unknown":
            return self.known
        async with self._lock:
            if self.known is not None and self.known.kind != "unknown":
                return self.known
            calls = [self.query.engine_facts()]
            if self.rules is not None:
                calls.append(self.rules.engine_facts())
            found = await asyncio.gather(*calls)
            self.facts = found[0]
            self.rules_facts = found[1] if len(found) > 1 else None
            rules_engine = identify(self.rules_facts) if self.rules_facts else None
            self.known = combine(
                identify(self.facts),
                rules_engine,
                self.rules_facts.flags if self.rules_facts else None,
            )
            return self.known


@dataclass(frozen=True, slots=True)
class BackendState:
    """One query backend as the status line tells it: its owner value ("" for the only
    one), its engine's name ("" until probed), whether something does not work there, and
    whether the latest poll could not reach it."""

    owner: str
    engine: str
    limited: bool
    down: bool
