"""What a query backend said about itself, and what the app concluded it is.

`EngineFacts` is gathered by the client (api/) from answers it got: build info, response
headers, VictoriaMetrics' `/flags`, Thanos's `/api/v1/stores`. `Engine` is the verdict of
`domain.engines.identify`: which engine, and what works there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The questions the app asks a query backend beyond PromQL.
PENDING = "pending alerts"
RULES = "rule expressions"
HISTORY = "alert history"
SLO_DISCOVERY = "SLO discovery"
CAPABILITIES = (PENDING, RULES, HISTORY, SLO_DISCOVERY)


@dataclass(frozen=True, slots=True)
class EngineFacts:
    """Raw observations; any of them may be missing (a proxy hides headers, a path is off)."""

    url: str
    buildinfo_status: int = 0  # 0: not reached
    buildinfo: Mapping[str, object] = field(default_factory=dict)
    buildinfo_error: str = ""  # the server's words when buildinfo failed
    headers: frozenset[str] = frozenset()  # response header names, lower case
    flags: str | None = None  # VictoriaMetrics' /flags text (only the flags that are set)
    stores: bool | None = None  # Thanos's /api/v1/stores answered
    query_ok: bool | None = None  # a trivial instant query succeeded


@dataclass(frozen=True, slots=True)
class Capability:
    works: bool | None  # None: cannot tell from here
    why: str = ""


@dataclass(frozen=True, slots=True)
class Engine:
    kind: str  # prometheus | victoriametrics | victoriametrics-cluster | vmalert | mimir |
    #            cortex | thanos | unknown
    name: str  # what the user reads: "VictoriaMetrics", "Grafana Mimir 2.15.0"
    version: str = ""
    capabilities: Mapping[str, Capability] = field(default_factory=dict)
    # The rules and alerts API is a placeholder here (VictoriaMetrics without vmalert):
    # an empty answer from it means "cannot tell", never "none".
    rules_placeholder: bool = False
    notes: tuple[str, ...] = ()

    def works(self, capability: str) -> bool | None:
        found = self.capabilities.get(capability)
        return None if found is None else found.works

    def missing(self) -> list[str]:
        """The capabilities that do not work here, each with why."""
        return [
            f"{name}: {cap.why}" if cap.why else name
            for name, cap in self.capabilities.items()
            if cap.works is not True
        ]
