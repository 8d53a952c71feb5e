"""Typed errors that carry the server's own words, never a secret."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """Any failure talking to a server. `server` is the base URL (it never holds credentials)."""

    def __init__(self, server: str, message: str) -> None:
        super().__init__(f"{server}: {message}")
        self.server = server
        self.message = message


class ConnectFailed(ApiError):
    """The request never reached the server: refused, DNS, TLS handshake, proxy."""


class Timeout(ApiError):
    """The server took longer than the configured timeout."""


class BadResponse(ApiError):
    """The server answered something that is not what its API promises (garbage, cut short)."""


class Unsupported(ApiError):
    """The peer's version cannot do what was asked; sent anyway, it would answer wrongly
    (an unknown query parameter is ignored, not refused)."""


class ServerError(ApiError):
    """The server answered with an error status; `detail` is the server's own message."""

    def __init__(self, server: str, status: int, detail: str) -> None:
        super().__init__(server, f"HTTP {status}: {detail}" if detail else f"HTTP {status}")
        self.status = status
        self.detail = detail


class Unauthorized(ServerError):
    """401 or 403: the credentials are missing, wrong or not allowed."""


class NotFound(ServerError):
    """404: the thing asked for does not exist (an unknown silence, a wrong path prefix)."""


class ClusterUnavailable(ApiError):
    """Every peer of an Alertmanager cluster failed; `errors` holds each peer's reason."""

    def __init__(self, cluster: str, errors: Mapping[str, ApiError]) -> None:
        reasons = "; ".join(err.message for err in errors.values()) or "no peers"
        super().__init__(cluster, f"no peer answered ({reasons})")
        self.errors = dict(errors)
