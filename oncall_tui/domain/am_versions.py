"""What each Alertmanager release changes for a client, read from the version a peer reports.

Teams run 0.25 to 0.34 side by side; `/api/v2/status` names each peer's version, and this
module says what that version means for the board, the silence form and the matchers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from oncall_tui.domain.matcher_grammar import Grammar

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")

# (first release, what changes for the user or the client), oldest first.
CHANGES: tuple[tuple[tuple[int, int], str], ...] = (
    ((0, 26), "deleting an unknown silence answers 404"),
    (
        (0, 27),
        "/api/v1 is gone (410); UTF-8 matcher parser: names like service.name must be quoted",
    ),
    ((0, 28), "time-interval muting shown as muted (mutedBy); silence limits can refuse a write"),
    ((0, 32), "silences carry annotations"),
    ((0, 33), "receivers are references (name only); receiver_matchers filter"),
    ((0, 34), "groups carry routeLabels; silences can be filtered by state"),
)


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of `0.28.1`, `v0.34.0` or `0.27.0-rc.0`; None if it is not one."""
    m = _VERSION.match(text.strip())
    if m is None:
        return None
    return int(m[1]), int(m[2]), int(m[3] or 0)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the client may rely on for one peer; an unknown version assumes the oldest (0.25)."""

    version: str
    parsed: tuple[int, int, int] | None

    def at_least(self, major: int, minor: int) -> bool:
        return self.parsed is not None and self.parsed[:2] >= (major, minor)

    @property
    def muting(self) -> bool:
        """Reports time-interval muting (`mutedBy`) and takes the `muted` parameter."""
        return self.at_least(0, 28)

    @property
    def utf8_matchers(self) -> bool:
        return self.at_least(0, 27)

    @property
    def matcher_grammar(self) -> Grammar:
        """How this peer reads matcher text: classic before 0.27, UTF-8 with fallback after."""
        return Grammar.FALLBACK if self.utf8_matchers else Grammar.CLASSIC

    @property
    def silence_annotations(self) -> bool:
        return self.at_least(0, 32)

    @property
    def receiver_matchers(self) -> bool:
        """Receivers carry labels, and `receiver_matchers` filters alerts and receivers."""
        return self.at_least(0, 33)

    @property
    def silence_state_filters(self) -> bool:
        return self.at_least(0, 34)

    def meaning(self) -> str:
        """One line for check-config: what this version means for the app."""
        if self.parsed is None:
            return f"version {self.version or '(none)'} not recognised: read as 0.25"
        got = [what for since, what in CHANGES if self.parsed[:2] >= since]
        if not got:
            return "classic matchers; no time-interval muting in the API"
        return "; ".join(got)


def capabilities(version: str) -> Capabilities:
    return Capabilities(version, parse_version(version))


def cluster_grammar(peers: Iterable[Capabilities | None]) -> Grammar:
    """The grammar every peer reads alike: classic unless all are known to be 0.27+.

    The fallback grammar accepts everything the classic one does and reads it the same way, so
    classic text is safe on a mixed cluster; an unknown peer counts as 0.25.
    """
    got = list(peers)
    if got and all(p is not None and p.utf8_matchers for p in got):
        return Grammar.FALLBACK
    return Grammar.CLASSIC
