"""Build the API clients of a context: the one factory the CLI, the app and the tests share."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field

from oncall_tui.api.alertmanager import AlertmanagerCluster, AlertmanagerPeer
from oncall_tui.api.http import ClientOptions
from oncall_tui.api.prometheus import PrometheusClient
from oncall_tui.config import ConfigError, Context
from oncall_tui.config.credentials import CredentialError, auth_header, resolve_secret


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

    def fork(self) -> Clients:
        """New HTTP clients for the same servers and credential, for another event loop
        (the start-up prefetch thread); the secret is not resolved a second time."""
        clusters, prometheus, rules = _servers(self.context, self.auth)
        return Clients(
            self.context,
            clusters,
            prometheus,
            rules,
            self.credential_error,
            list(self.warnings),
            self.auth,
        )

    async def aclose(self) -> None:
        closing = [c.aclose() for c in self.clusters]
        if self.prometheus is not None:
            closing.append(self.prometheus.aclose())
        if self.rules_source is not None and self.rules_source is not self.prometheus:
            closing.append(self.rules_source.aclose())
        await asyncio.gather(*closing)

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
        clusters, prometheus, rules = _servers(context, header)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the TLS files: {exc}", key=f"contexts.{context.name}.tls"
        ) from None
    return Clients(context, clusters, prometheus, rules, problem, warnings, header)


def _servers(
    context: Context, header: tuple[str, str] | None
) -> tuple[list[AlertmanagerCluster], PrometheusClient | None, PrometheusClient | None]:
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
    prometheus = rules = None
    if context.prometheus is not None:
        spec = context.prometheus
        options = client_options(context, spec.headers, header)
        prometheus = PrometheusClient(spec.url, options, spec.path_prefix, spec.query_params)
        if spec.rules_url:
            rules = PrometheusClient(spec.rules_url, options)
    return clusters, prometheus, rules
