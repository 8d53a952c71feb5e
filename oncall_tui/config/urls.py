"""A server's URL and path prefix as the config reads them: standard library only, so the
start-up reads them the same way before the models are imported (cli/early.py)."""

from __future__ import annotations

from urllib.parse import urlsplit


def check_url(value: str) -> str:
    """The URL without a trailing slash; ValueError unless http(s) with a host, no password
    and a valid port."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    if parts.password:
        raise ValueError("the URL carries a password; store it with `oncall-tui auth set`")
    parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    return value.rstrip("/")


def normal_prefix(value: str) -> str:
    """`alertmanager/`, `/alertmanager` and `/alertmanager/` are `/alertmanager`; `/` is ""."""
    value = value.strip("/")
    return f"/{value}" if value else ""
