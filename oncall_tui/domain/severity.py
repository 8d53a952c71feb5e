"""Severity order: what sorts first on the board."""

from __future__ import annotations

RANK = {
    "critical": 0,
    "page": 0,
    "error": 1,
    "high": 1,
    "warning": 2,
    "medium": 2,
    "info": 3,
    "low": 3,
}


# The severities the themes colour; any other shows uncoloured.
COLOURED = ("critical", "warning", "info")


def rank(severity: str) -> int:
    """Lower is more urgent; unknown severities sort after info."""
    return RANK.get(severity.lower(), 4)
