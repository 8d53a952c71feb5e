"""Build the API clients of a context: the one factory the CLI, the app and the tests share."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field

from oncall_tui.api.alertmanager import AlertmanagerCluster, AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.api.prometheus import PrometheusClient
from oncall_tui.config import ConfigError, Context, query_backends
from oncall_tui.config.credentials import CredentialError, auth_header, resolve_secret
from oncall_tui.state.engines import EngineBook


@dataclass
class Backend:
    """One query backend and the alerts it answers for: those whose owner label has the value
    `owner` ("" for the single `prometheus`, which answers for all)."""

    owner: str
    query: PrometheusClient
    rules_source: PrometheusClient | None = None
    label: str = ""  # the context's owner label
    # Which engine it is, probed once and shared by every store asking this backend.
    engines: EngineBook = field(init=False)

    def __post_init__(self) -> None:
        self.engines = EngineBook(self.query, self.rules_source)

    @property
    def rules(self) -> PrometheusClient:
        return self.rules_source or self.query

    @property
    def name(self) -> str:
        """How messages name it: `cluster=eu (url)`, or the URL alone."""
        if not self.owner:
            return self.query.url
        return f"{self.label}={self.owner} ({self.query.url})"

    @property
    def short(self) -> str:
        """How a crowded line names it: `cluster=eu`, or "prometheus" for the only one."""
        return f"{self.label}={self.owner}" if self.owner else "prometheus"


@dataclass
class Clients:
    """Every server of one context, each with one reusable HTTP client."""

    context: Context
    clusters: list[AlertmanagerCluster]
    prometheus: PrometheusClient | None
    # Where rules and alerts are read: `prometheus.rules_url` (vmalert), else `prometheus`.
    rules_source: PrometheusClient | None = None
    # Why the credential could not be had; the servers are still tried without it.
    credential_error: str | None = None
    warnings: list[str] = field(default_factory=list)
    auth: tuple[str, str] | None = field(default=None, repr=False)
    # Every query backend; `prometheus` and `rules_source` are the first one's.
    backends: list[Backend] = field(default_factory=list)

    def fork(self) -> Clients:
        """New HTTP clients for the same servers and credential, for another event loop
        (the start-up prefetch thread); the secret is not resolved a second time."""
        clusters, backends = _servers(self.context, self.auth)
        return _clients(
            self.context, clusters, backends, self.credential_error, list(self.warnings), self.auth
        )

    async def aclose(self) -> None:
        closing = [c.aclose() for c in self.clusters]
        for backend in self.backends:
            closing.append(backend.query.aclose())
            if backend.rules_source is not None:
                closing.append(backend.rules_source.aclose())
        await asyncio.gather(*closing)

    @property
    def owner_label(self) -> str:
        return self.context.owner_label

    def backend_for(self, labels: Mapping[str, str]) -> Backend | None:
        """The backend that owns an alert with these labels; None when none does (no
        backend, no owner label on the alert, or a value no backend has)."""
        if len(self.backends) == 1 and not self.backends[0].owner:
            return self.backends[0]
        owner = labels.get(self.owner_label)
        return next((b for b in self.backends if owner and b.owner == owner), None)

    @property
    def rules(self) -> PrometheusClient | None:
        """The client for rules and Prometheus-held alerts (pending ones)."""
        return self.rules_source or self.prometheus


def client_options(
    context: Context, headers: dict[str, str], auth: tuple[str, str] | None
) -> ClientOptions:
    tls = context.tls
    timeouts = context.timeouts
    return ClientOptions(
        headers={**context.headers, **headers},
        ca_file=str(tls.ca_file) if tls.ca_file else None,
        cert_file=str(tls.cert_file) if tls.cert_file else None,
        key_file=str(tls.key_file) if tls.key_file else None,
        insecure_skip_verify=tls.insecure_skip_verify,
        proxy=context.proxy,
        connect_timeout=timeouts.connect,
        read_timeout=timeouts.read,
        write_timeout=timeouts.write,
        pool_timeout=timeouts.pool,
        auth_header=auth,
    )


def build_clients(context: Context, *, allow_insecure_keyring: bool = False) -> Clients:
    """Clients for every server of `context`, with its credential resolved once."""
    header: tuple[str, str] | None = None
    problem: str | None = None
    if context.auth is not None:
        try:
            secret = resolve_secret(
                context.auth, context.name, allow_insecure=allow_insecure_keyring
            )
            header = auth_header(context.auth, secret)
        except CredentialError as exc:
            problem = str(exc)
    warnings = []
    if context.tls.insecure_skip_verify:
        warnings.append(
            "TLS verification is OFF (insecure_skip_verify): "
            "anyone on the path can read and change this traffic"
        )
    for key in ("ca_file", "cert_file", "key_file"):
        path = getattr(context.tls, key)
        if path is not None and not path.is_file():
            raise ConfigError(f"no such file: {path}", key=f"contexts.{context.name}.tls.{key}")
    try:
        clusters, backends = _servers(context, header)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the TLS files: {exc}", key=f"contexts.{context.name}.tls"
        ) from None
    return _clients(context, clusters, backends, problem, warnings, header)


def _clients(
    context: Context,
    clusters: list[AlertmanagerCluster],
    backends: list[Backend],
    problem: str | None,
    warnings: list[str],
    header: tuple[str, str] | None,
) -> Clients:
    first = backends[0] if backends else None
    return Clients(
        context,
        clusters,
        first.query if first else None,
        first.rules_source if first else None,
        problem,
        warnings,
        header,
        backends,
    )


def _servers(
    context: Context, header: tuple[str, str] | None
) -> tuple[list[AlertmanagerCluster], list[Backend]]:
    clusters = [
        AlertmanagerCluster(
            spec.name,
            [
                AlertmanagerPeer(
                    url, client_options(context, spec.headers, header), spec.path_prefix
                )
                for url in spec.peers
            ],
        )
        for spec in context.alertmanagers
    ]
    backends = []
    for owner, spec in query_backends(context):
        options = client_options(context, spec.headers, header)
        prometheus = PrometheusClient(spec.url, options, spec.path_prefix, spec.query_params)
        rules = PrometheusClient(spec.rules_url, options) if spec.rules_url else None
        backends.append(Backend(owner, prometheus, rules, context.owner_label))
    return clusters, backends
