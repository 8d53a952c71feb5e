"""A fetched runbook and why one could not be fetched: what the runbook reader hands back.

Shared by the fetcher (api/), the state layer and the runbook view; no client code here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a runbook link is not followed: the rule, what it saw, and how to allow it."""

    rule: str
    why: str
    allow: str

    @property
    def message(self) -> str:
        return f"refused by the {self.rule} rule: {self.why}. {self.allow}"


class FetchError(Exception):
    """Why a runbook could not be shown, worded for the user; never holds a secret."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing  # nothing there (404, no such file): try the next candidate


class RefusedLink(FetchError):
    """A link the runbook rules refuse: nothing was opened and nothing was connected to."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


@dataclass(frozen=True, slots=True)
class Fetched:
    location: str  # what was asked for
    final: str  # where it came from after redirects
    content_type: str
    text: str
    size: int
    seconds: float
