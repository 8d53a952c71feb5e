"""The first /alerts/groups requests, sent from the raw config before its models are imported.

Importing the config's models took 150-200 ms of every start with pydantic, and still takes
some 20-40 ms with msgspec; a large Alertmanager needs longer than that to answer, so the
request should already be on its way. This reads the YAML itself and sends early only for
the plain case: the context's clusters given as URLs (and path prefixes), with no
credential, proxy, header, TLS setting or timeout of its own, whether from the file or from
--alertmanager. Anything else, or anything it does not understand, sends nothing: the
validated context then decides as before (state/early.py), and reuses a request sent here
only if it is the very one it would send itself.
Never raises: a config the real loader refuses is worded by the real loader.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from oncall_tui.api.early import API, SILENCES_PATH, EarlyRequest
from oncall_tui.config.paths import config_file
from oncall_tui.config.urls import check_url, normal_prefix
from oncall_tui.state.early import MAX_EARLY, SentEarly, endpoint_url

# Keys of a context or a cluster that change how its requests are made: any of them present
# (and not empty) and no request is sent early.
_REQUEST_KEYS = ("auth", "proxy", "headers", "tls", "timeouts")


class Peek(NamedTuple):  # not a dataclass: see api/early.py
    """What the raw config says of the run to come, before it is validated."""

    context: str  # the chosen context's name ("cli" for --alertmanager without one)
    servers: tuple[str, ...]  # its Alertmanager peers' URLs
    requests: tuple[EarlyRequest, ...]  # the first poll's requests, when plainly known
    # Nothing may ask on the terminal before the app starts (no credential: a keyring or a
    # command such as `pass` may prompt), so a first frame can be drawn (cli/first_frame.py).
    may_draw: bool


def peek(args: argparse.Namespace) -> Peek | None:
    """The run command's context, read raw; None for other commands, for the demo, or for
    a config it does not plainly understand (the loader then words what is wrong)."""
    if (args.command or "run") != "run":
        return None
    try:
        return _peek(args)
    except Exception:  # never raises: the real loader words every problem
        return None


def start(found: Peek) -> SentEarly:
    """Send the peeked requests, each from its own thread."""
    return {request: request.start() for request in found.requests}


def _peek(args: argparse.Namespace) -> Peek | None:
    urls: list[str] = list(getattr(args, "alertmanager", None) or ())
    raw = _raw_context(args)
    if raw is None:
        if not urls:
            return None  # no config and no URL: the demo starts, or an error is worded
        raw = (getattr(args, "context", None) or "cli", {})
    name, context = raw
    if urls:
        clusters: list[Any] = [{"peers": urls}]
    else:
        clusters = context.get("alertmanagers") or []
        if clusters and all(isinstance(url, str) for url in clusters):
            clusters = [{"peers": clusters}]
    plain = not any(context.get(key) for key in _REQUEST_KEYS)
    servers: list[str] = []
    firsts: list[str] = []  # each cluster's first peer: the first board is read from it
    for cluster in clusters:
        prefix = cluster.get("path_prefix") or ""
        peers = cluster.get("peers")
        if not isinstance(prefix, str) or not isinstance(peers, list):
            return None
        plain = plain and not any(cluster.get(k) for k in _REQUEST_KEYS)
        for url in peers:
            # As the loader reads it (ValueError: it words the problem); no user either,
            # which the loader keeps for the credential this path never sends.
            if urlsplit(url).username:
                return None
            servers.append(url)
            base = endpoint_url(check_url(url), normal_prefix(prefix))
            if url == peers[0] and base not in firsts:
                firsts.append(base)
    # Each cluster's first peer only: the first board is drawn from it (state/early.py).
    requests = [EarlyRequest(base.removesuffix(API)) for base in firsts[:MAX_EARLY]]
    requests += [EarlyRequest(base.removesuffix(API), SILENCES_PATH) for base in firsts[:MAX_EARLY]]
    return Peek(
        context=name,
        servers=tuple(servers),
        requests=tuple(requests) if plain else (),
        may_draw=not context.get("auth"),
    )


def _raw_context(args: argparse.Namespace) -> tuple[str, Mapping[str, Any]] | None:
    """The chosen context's name and raw mapping; None when there is no config file."""
    path = config_file(getattr(args, "config", None))
    if path is None:
        return None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    contexts = raw.get("contexts") or {}
    name = getattr(args, "context", None) or raw.get("current_context")
    if name is None and len(contexts) == 1:
        name = next(iter(contexts))
    context = contexts.get(name) if isinstance(name, str) else None
    if not isinstance(context, Mapping):
        raise LookupError(name)  # no such context: leave it to the loader
    return name, context
