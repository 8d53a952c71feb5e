"""YAML config -> validated settings.

The config names contexts, like kubectl: each context is one place an engineer may be on call
for (Alertmanager clusters, a Prometheus, TLS, headers, a credential reference). Secrets are
never in this file: a key that looks like one is rejected with a message saying how to store it.
"""

# No `from __future__ import annotations` here: see config/strict.py.

from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, field

from oncall_tui.config.durations import positive_duration
from oncall_tui.config.handoff import HandoffSettings
from oncall_tui.config.notifications import NotificationSettings
from oncall_tui.config.oncall import OncallConfig
from oncall_tui.config.strict import ConfigError, KeyProblem, Strict, key
from oncall_tui.config.urls import check_url, normal_prefix
from oncall_tui.domain.timespec import TimeSpecError, parse_duration

DEFAULT_REFRESH = 10.0
SECRET_KEYS = frozenset(
    {"password", "token", "bearer_token", "secret", "api_key", "apikey", "access_token"}
)
NonEmpty = Annotated[str, Meta(min_length=1)]
# Seconds; at most an hour: `.inf` would let one poll hang for ever.
Timeout = Annotated[float, Meta(gt=0, le=3600)]


class TLSConfig(Strict, frozen=True, kw_only=True):
    # Existence is checked when the clients are built, so a config can be checked on a
    # machine other than the one holding the files.
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_verify: bool = False

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (client certificate for mTLS)")


class Timeouts(Strict, frozen=True, kw_only=True):
    connect: Timeout = 3.0
    read: Timeout = 15.0
    write: Timeout = 10.0
    pool: Timeout = 5.0


def _split_command(value: Any) -> Any:
    """`command: pass show x` is the argv a shell would make of it."""
    if isinstance(value, str):
        import shlex

        return shlex.split(value)
    return value


class AuthConfig(Strict, frozen=True, kw_only=True):
    """Where a context's secret comes from. The secret itself never lives here."""

    type: Literal["bearer", "basic"]
    username: str | None = None
    source: Literal["keyring", "env", "command"] = "keyring"
    keyring_key: str | None = None  # keyring entry name; defaults to the context name
    env: str | None = None  # name of an environment variable
    command: list[str] | None = None  # argv printing the secret

    before = {"command": _split_command}

    def __post_init__(self) -> None:
        if self.type == "basic" and not self.username:
            raise ValueError("basic auth needs a username")
        if self.source == "env" and not self.env:
            raise ValueError("source 'env' needs 'env: VARIABLE_NAME'")
        if self.source == "command" and not self.command:
            raise ValueError("source 'command' needs 'command: [program, args...]'")


class ServerConfig(Strict, frozen=True, kw_only=True):
    """What every server entry may override from its context."""

    path_prefix: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._normalise(path_prefix=normal_prefix(self.path_prefix))


class ClusterConfig(ServerConfig, frozen=True, kw_only=True):
    name: str = ""  # default: the context's name
    peers: Annotated[list[str], Meta(min_length=1)]

    def __post_init__(self) -> None:
        super().__post_init__()
        with key("peers"):
            self._normalise(peers=[check_url(url) for url in self.peers])


class PrometheusConfig(ServerConfig, frozen=True, kw_only=True):
    """A Prometheus-compatible query backend (Prometheus, VictoriaMetrics, Mimir, Thanos).

    `rules_url` names a separate server for the rules and alerts API (`/api/v1/rules`,
    `/api/v1/alerts`): vmalert beside VictoriaMetrics, whose own answers are placeholders.
    Its path is its prefix (`http://vmalert:8880`, `http://vm:8428/vmalert`); it gets the
    same headers. `query_params` go with every query (Thanos: `dedup`, `partial_response`).
    """

    url: str
    rules_url: str | None = None  # the rules and alerts API, if another server (vmalert)
    query_params: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        with key("url"):
            self._normalise(url=check_url(self.url))
        if self.rules_url is not None:
            with key("rules_url"):
                self._normalise(rules_url=check_url(self.rules_url))
        taken = sorted(set(self.query_params) & {"query", "time", "start", "end", "step"})
        if taken:
            raise KeyProblem("query_params", f"{', '.join(taken)}: set by the app for each query")


class BackendConfig(PrometheusConfig, frozen=True, kw_only=True):
    """One of several query backends of a context (one per region or cluster). It owns the
    alerts whose `owner_label` has this value; in the file the value is written under the
    label's own name (`owner_label: cluster` -> `{cluster: eu, url: ...}`)."""

    owner: NonEmpty  # the owner label's value for this backend


class SLOConfig(Strict, frozen=True, kw_only=True):
    """One SLO: an objective over a window, its SLI as an error ratio in PromQL.

    The SLI is `errors` and `total` queries, or one `ratio` query (bad / all), each with a
    `{{window}}` placeholder for the range (5m ... 30d). `labels` link the SLO to alerts
    (an alert carrying all of them shows the SLO's budget); default: `service`.
    """

    name: NonEmpty
    service: str = ""
    objective: Annotated[float, Meta(gt=0, lt=100)]  # percent, e.g. 99.9
    window: str = "30d"
    errors: str = ""
    total: str = ""
    ratio: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    description: str = ""
    backend: str = ""  # which backend holds its series (the owner label's value)

    def __post_init__(self) -> None:
        from oncall_tui.domain.slo import parse_duration

        with key("window"):
            parse_duration(self.window)
        if bool(self.ratio) == bool(self.errors or self.total):
            raise ValueError("give the SLI as `errors` and `total`, or as `ratio`")
        if not self.ratio and not (self.errors and self.total):
            raise ValueError("`errors` and `total` go together")
        for name in ("errors", "total", "ratio"):
            query = getattr(self, name)
            if query and "{{window}}" not in query:
                raise ValueError(
                    f"`{name}` needs a {{{{window}}}} placeholder, e.g. [{{{{window}}}}]"
                )


# -- runbooks and triage (issue 6) ---------------------------------------------------------------


class RunbooksConfig(Strict, frozen=True, kw_only=True):
    """Where an alert's runbook is found, and how much of it may be downloaded."""

    # Annotations naming a runbook, tried in this order.
    annotations: list[str] = field(default_factory=lambda: ["runbook_url", "runbook"])
    # Local folders holding ALERTNAME.md (looked in first).
    folders: list[Path] = field(default_factory=list)
    # e.g. https://git.example.com/runbooks/{{ $labels.alertname }}.md
    url_template: str | None = None
    max_bytes: Annotated[int, Meta(gt=0, le=20_000_000)] = 1_000_000
    timeout: Annotated[float, Meta(gt=0, le=120)] = 10.0
    # Runbook host (host or host:port) -> its credential.
    auth: dict[str, AuthConfig] = field(default_factory=dict)
    # Further folders a file:// runbook link may point into (besides folders).
    file_roots: list[Path] = field(default_factory=list)
    # Hosts (names or addresses) a runbook fetch may reach although they are link-local or
    # cloud metadata services; empty: never.
    allow_hosts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for host in self.allow_hosts:
            if not host.strip() or any(c in host for c in "/@?# \t"):
                raise KeyProblem(
                    "allow_hosts",
                    f"{host!r}: write a host name or an address, without scheme or path",
                )


class TriageQuery(Strict, frozen=True, kw_only=True):
    name: NonEmpty
    query: NonEmpty  # PromQL; {{ $labels.x }} is the alert's label x


class TriageRule(Strict, frozen=True, kw_only=True):
    """Queries attached to the alerts its matchers select (the board's filter syntax).

    Read when used as the context's Alertmanagers read matchers (their versions); here only
    text no version reads is refused: the 0.27+ grammar accepts everything 0.25's does.
    """

    matchers: NonEmpty
    queries: Annotated[list[TriageQuery], Meta(min_length=1)]

    def __post_init__(self) -> None:
        from oncall_tui.domain.matcher_grammar import Grammar
        from oncall_tui.domain.matchers import FilterError, parse_filter

        try:
            parse_filter(self.matchers, Grammar.FALLBACK)
        except FilterError as exc:
            raise KeyProblem("matchers", f"column {exc.position + 1}: {exc.message}") from None


def _single_cluster(value: Any) -> Any:
    """A bare list of URLs is one cluster: the common case needs no nesting."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [{"peers": value}]
    return value


class Context(Strict, frozen=True, kw_only=True):
    name: str = ""
    alertmanagers: list[ClusterConfig] = field(default_factory=list)
    prometheus: PrometheusConfig | None = None
    # Several query backends instead of `prometheus`: each owns the alerts whose
    # `owner_label` carries its value.
    owner_label: str = ""
    backends: list[BackendConfig] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    tls: TLSConfig = field(default_factory=TLSConfig)
    proxy: str | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    refresh: Annotated[float, Meta(ge=1, le=86400)] = DEFAULT_REFRESH
    read_only: bool = False
    # The always-firing alert whose absence means alerts are not reaching Alertmanager.
    watchdog_alert: str = "Watchdog"
    auth: AuthConfig | None = None
    slos: list[SLOConfig] = field(default_factory=list)
    runbooks: RunbooksConfig = field(default_factory=RunbooksConfig)
    triage: list[TriageRule] = field(default_factory=list)
    oncall: OncallConfig = field(default_factory=OncallConfig)

    before = {"alertmanagers": _single_cluster}

    @classmethod
    def prepare(cls, data: dict[str, Any], config_dir: Path | None) -> dict[str, Any]:
        # `{cluster: eu, url: ...}` under `owner_label: cluster` is `{owner: eu, url: ...}`.
        label, backends = data.get("owner_label"), data.get("backends")
        if not isinstance(label, str) or not label or not isinstance(backends, list):
            return data
        if label in BackendConfig.__struct_fields__:
            return data  # `owner_label: url` would be ambiguous; __post_init__ says so
        moved = []
        for entry in backends:
            if isinstance(entry, dict) and label in entry and "owner" not in entry:
                entry = {k: v for k, v in entry.items() if k != label} | {"owner": entry[label]}
            moved.append(entry)
        return {**data, "backends": moved}

    def __post_init__(self) -> None:
        if not self.alertmanagers and self.prometheus is None and not self.backends:
            raise ValueError(
                "a context needs at least one of 'alertmanagers', 'prometheus' or 'backends'"
            )
        if self.backends:
            self._check_backends()
        elif self.owner_label:
            raise ValueError("owner_label: only with 'backends'")
        backend_names = {b.owner for b in self.backends}
        for i, slo in enumerate(self.slos):
            if slo.backend and slo.backend not in backend_names:
                known = ", ".join(sorted(backend_names)) or "none: this context has no 'backends'"
                raise ValueError(f"slos.{i}.backend: {slo.backend!r} is not a backend ({known})")
        names = [c.name for c in self.alertmanagers if c.name]
        if len(set(names)) != len(names):
            raise ValueError(f"cluster names must differ within a context: {names}")

    def _check_backends(self) -> None:
        if self.prometheus is not None:
            raise ValueError(
                "backends: give either one 'prometheus' or several 'backends', not both"
            )
        if not self.owner_label:
            raise ValueError(
                "backends: name the alert label that says which backend owns an alert "
                "(owner_label: cluster)"
            )
        if self.owner_label in BackendConfig.__struct_fields__:
            raise ValueError(f"owner_label: {self.owner_label!r} is a key of a backend")
        owners = [b.owner for b in self.backends]
        twice = sorted({o for o in owners if owners.count(o) > 1})
        if twice:
            raise ValueError(
                f"backends: each {self.owner_label} value once ({', '.join(twice)} repeated)"
            )


class SilenceDefaults(Strict, frozen=True, kw_only=True):
    """How silences are made from the keyboard; durations as amtool reads them (2h, 1h30m)."""

    default_duration: str = "2h"
    ack_duration: str = "15m"
    # An ack until resolved is renewed this far ahead while its alerts fire; with no app
    # running it lapses within this time.
    ack_lease: str = "15m"
    ack_old_after: str = "4h"  # :silences flags acks held longer than this
    extend_by: str = "1h"
    preview_limit: Annotated[int, Meta(ge=1)] = 25  # ask twice above this many alerts
    # Warn when a silence reaches several values of these labels.
    spread_labels: list[str] = field(default_factory=lambda: ["team", "cluster"])

    def __post_init__(self) -> None:
        for name in ("default_duration", "ack_duration", "ack_lease", "ack_old_after", "extend_by"):
            with key(name):
                positive_duration(getattr(self, name))


class BoardSettings(Strict, frozen=True, kw_only=True):
    """The alert board: how long resolved alerts stay listed (amtool durations: 30m, 2h)."""

    recently_resolved: str = "30m"  # how long the recently resolved section keeps an alert

    def __post_init__(self) -> None:
        value = self.recently_resolved
        try:
            negative = parse_duration(value).total_seconds() < 0
        except TimeSpecError as exc:
            raise KeyProblem("recently_resolved", str(exc)) from None
        if negative:
            raise KeyProblem("recently_resolved", f"{value!r} must not be negative")

    @property
    def recently_resolved_s(self) -> float:
        return parse_duration(self.recently_resolved).total_seconds()


class Settings(Strict, frozen=True, kw_only=True):
    current_context: str | None = None
    contexts: dict[str, Context] = field(default_factory=dict)
    user: str | None = None  # createdBy for silences
    allow_insecure_keyring: bool = False
    theme: str = "oncall-dark"
    bell_on_critical: bool = False
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    silences: SilenceDefaults = field(default_factory=SilenceDefaults)
    board: BoardSettings = field(default_factory=BoardSettings)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    # Binding id -> keys, e.g. alerts.refresh: ctrl+r,f5
    keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.current_context and self.current_context not in self.contexts:
            known = ", ".join(sorted(self.contexts)) or "none defined"
            raise ValueError(f"current_context {self.current_context!r} is not a context ({known})")

    def context(self, name: str | None = None) -> Context:
        """The named context, else current_context, else the only one."""
        chosen = name or self.current_context
        if chosen is None:
            if len(self.contexts) == 1:
                chosen = next(iter(self.contexts))
            elif not self.contexts:
                raise ConfigError("no context is configured")
            else:
                raise ConfigError(
                    "several contexts and no current_context: pick one with --context "
                    f"({', '.join(sorted(self.contexts))})"
                )
        if chosen not in self.contexts:
            known = ", ".join(sorted(self.contexts)) or "none defined"
            raise ConfigError(f"unknown context {chosen!r} (known: {known})")
        return named(self.contexts[chosen], chosen)


def query_backends(context: Context) -> list[tuple[str, PrometheusConfig]]:
    """Each query backend with the owner label's value it answers for ("" for the single
    `prometheus`, which answers for every alert)."""
    if context.prometheus is not None:
        return [("", context.prometheus)]
    return [(b.owner, b) for b in context.backends]


def named(context: Context, name: str) -> Context:
    """The context under its name, its unnamed clusters named after it (demo, demo-2...)."""
    clusters = [
        cluster
        if cluster.name
        else msgspec.structs.replace(cluster, name=name if index == 0 else f"{name}-{index + 1}")
        for index, cluster in enumerate(context.alertmanagers)
    ]
    return msgspec.structs.replace(context, name=name, alertmanagers=clusters)
