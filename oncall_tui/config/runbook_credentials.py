"""Credentials for runbook hosts, from the config's `runbooks.auth` (host -> AuthConfig).

Looked up by the host a runbook is fetched from, never by context: the context's own
credential goes to its Alertmanagers and Prometheus only. The keyring entry defaults to the
host name (`oncall-tui auth set git.example.com`).
"""

from __future__ import annotations

from collections.abc import Callable

from oncall_tui.config import RunbooksConfig
from oncall_tui.config.credentials import auth_header, resolve_secret


def auth_lookup(
    config: RunbooksConfig, *, allow_insecure: bool = False
) -> Callable[[str], tuple[str, str] | None]:
    """host:port -> the Authorization header for that runbook host, or None."""
    by_host = {name.lower(): auth for name, auth in config.auth.items()}

    def lookup(origin: str) -> tuple[str, str] | None:
        host = origin.rsplit(":", 1)[0]
        name = origin if origin in by_host else host
        auth = by_host.get(name)
        if auth is None:
            return None
        return auth_header(auth, resolve_secret(auth, name, allow_insecure=allow_insecure))

    return lookup
