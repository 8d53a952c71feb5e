"""YAML config -> validated settings.

The config names contexts, like kubectl: each context is one place an engineer may be on call
for (Alertmanager clusters, a Prometheus, TLS, headers, a credential reference). Secrets are
never in this file: a key that looks like one is rejected with a message saying how to store it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from oncall_tui.config.durations import positive_duration
from oncall_tui.config.handoff import HandoffSettings
from oncall_tui.config.notifications import NotificationSettings
from oncall_tui.config.oncall import OncallConfig
from oncall_tui.config.urls import check_url, normal_prefix
from oncall_tui.domain.timespec import TimeSpecError, parse_duration

DEFAULT_REFRESH = 10.0
SECRET_KEYS = frozenset(
    {"password", "token", "bearer_token", "secret", "api_key", "apikey", "access_token"}
)


class ConfigError(Exception):
    """A config problem, already worded for the user: file, key path, what is wrong."""

    def __init__(self, message: str, *, path: Path | None = None, key: str = "") -> None:
        where = [str(path)] if path else []
        if key:
            where.append(key)
        super().__init__(": ".join([*where, message]))
        self.path = path
        self.key = key


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TLSConfig(_Strict):
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_verify: bool = False

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        # Existence is checked when the clients are built, so a config can be checked
        # on a machine other than the one holding the files.
        return value.expanduser()

    @model_validator(mode="after")
    def _cert_needs_key(self) -> TLSConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (client certificate for mTLS)")
        return self


class Timeouts(_Strict):
    """Seconds; at most an hour: `.inf` would let one poll hang for ever."""

    connect: float = Field(default=3.0, gt=0, le=3600)
    read: float = Field(default=15.0, gt=0, le=3600)
    write: float = Field(default=10.0, gt=0, le=3600)
    pool: float = Field(default=5.0, gt=0, le=3600)


class AuthConfig(_Strict):
    """Where a context's secret comes from. The secret itself never lives here."""

    type: Literal["bearer", "basic"]
    username: str | None = None
    source: Literal["keyring", "env", "command"] = "keyring"
    keyring_key: str | None = Field(
        default=None, description="keyring entry name; defaults to the context name"
    )
    env: str | None = Field(default=None, description="name of an environment variable")
    command: list[str] | None = Field(default=None, description="argv printing the secret")

    @field_validator("command", mode="before")
    @classmethod
    def _split_command(cls, value: Any) -> Any:
        if isinstance(value, str):
            import shlex

            return shlex.split(value)
        return value

    @model_validator(mode="after")
    def _source_has_reference(self) -> AuthConfig:
        if self.type == "basic" and not self.username:
            raise ValueError("basic auth needs a username")
        if self.source == "env" and not self.env:
            raise ValueError("source 'env' needs 'env: VARIABLE_NAME'")
        if self.source == "command" and not self.command:
            raise ValueError("source 'command' needs 'command: [program, args...]'")
        return self


class ServerConfig(_Strict):
    """What every server entry may override from its context."""

    path_prefix: str = ""
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("path_prefix")
    @classmethod
    def _normalise_prefix(cls, value: str) -> str:
        return normal_prefix(value)


class ClusterConfig(ServerConfig):
    name: str = Field(default="", description="default: the context's name")
    peers: list[str] = Field(min_length=1)

    @field_validator("peers")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        return [check_url(url) for url in value]


class PrometheusConfig(ServerConfig):
    """A Prometheus-compatible query backend (Prometheus, VictoriaMetrics, Mimir, Thanos).

    `rules_url` names a separate server for the rules and alerts API (`/api/v1/rules`,
    `/api/v1/alerts`): vmalert beside VictoriaMetrics, whose own answers are placeholders.
    Its path is its prefix (`http://vmalert:8880`, `http://vm:8428/vmalert`); it gets the
    same headers. `query_params` go with every query (Thanos: `dedup`, `partial_response`).
    """

    url: str
    rules_url: str | None = Field(
        default=None, description="the rules and alerts API, if another server (vmalert)"
    )
    query_params: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("rules_url")
    @classmethod
    def _rules_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("query_params")
    @classmethod
    def _not_the_query(cls, value: dict[str, str]) -> dict[str, str]:
        taken = sorted(set(value) & {"query", "time", "start", "end", "step"})
        if taken:
            raise ValueError(f"{', '.join(taken)}: set by the app for each query")
        return value


class BackendConfig(PrometheusConfig):
    """One of several query backends of a context (one per region or cluster). It owns the
    alerts whose `owner_label` has this value; in the file the value is written under the
    label's own name (`owner_label: cluster` -> `{cluster: eu, url: ...}`)."""

    owner: str = Field(min_length=1, description="the owner label's value for this backend")


class SLOConfig(_Strict):
    """One SLO: an objective over a window, its SLI as an error ratio in PromQL.

    The SLI is `errors` and `total` queries, or one `ratio` query (bad / all), each with a
    `{{window}}` placeholder for the range (5m ... 30d). `labels` link the SLO to alerts
    (an alert carrying all of them shows the SLO's budget); default: `service`.
    """

    name: str = Field(min_length=1)
    service: str = ""
    objective: float = Field(gt=0, lt=100, description="percent, e.g. 99.9")
    window: str = "30d"
    errors: str = ""
    total: str = ""
    ratio: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    description: str = ""
    backend: str = Field(
        default="", description="which backend holds its series (the owner label's value)"
    )

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        from oncall_tui.domain.slo import parse_duration

        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _one_sli(self) -> SLOConfig:
        if bool(self.ratio) == bool(self.errors or self.total):
            raise ValueError("give the SLI as `errors` and `total`, or as `ratio`")
        if not self.ratio and not (self.errors and self.total):
            raise ValueError("`errors` and `total` go together")
        for key in ("errors", "total", "ratio"):
            query = getattr(self, key)
            if query and "{{window}}" not in query:
                raise ValueError(
                    f"`{key}` needs a {{{{window}}}} placeholder, e.g. [{{{{window}}}}]"
                )
        return self


# -- runbooks and triage (issue 6) ---------------------------------------------------------------


class RunbooksConfig(_Strict):
    """Where an alert's runbook is found, and how much of it may be downloaded."""

    annotations: list[str] = Field(
        default_factory=lambda: ["runbook_url", "runbook"],
        description="annotations naming a runbook, tried in this order",
    )
    folders: list[Path] = Field(
        default_factory=list, description="local folders holding ALERTNAME.md (checked first)"
    )
    url_template: str | None = Field(
        default=None, description="e.g. https://git.example.com/runbooks/{{ $labels.alertname }}.md"
    )
    max_bytes: int = Field(default=1_000_000, gt=0, le=20_000_000)
    timeout: float = Field(default=10.0, gt=0, le=120)
    auth: dict[str, AuthConfig] = Field(
        default_factory=dict, description="runbook host (host or host:port) -> its credential"
    )
    file_roots: list[Path] = Field(
        default_factory=list,
        description="further folders a file:// runbook link may point into (besides folders)",
    )
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="hosts (names or addresses) a runbook fetch may reach although they are "
        "link-local or cloud metadata services; empty: never",
    )

    @field_validator("folders", "file_roots")
    @classmethod
    def _expand_folders(cls, value: list[Path]) -> list[Path]:
        return [path.expanduser() for path in value]

    @field_validator("allow_hosts")
    @classmethod
    def _plain_hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not host.strip() or any(c in host for c in "/@?# \t"):
                raise ValueError(
                    f"{host!r}: write a host name or an address, without scheme or path"
                )
        return value


class TriageQuery(_Strict):
    name: str = Field(min_length=1)
    query: str = Field(min_length=1, description="PromQL; {{ $labels.x }} is the alert's label x")


class TriageRule(_Strict):
    """Queries attached to the alerts its matchers select (the board's filter syntax).

    Read when used as the context's Alertmanagers read matchers (their versions); here only
    text no version reads is refused: the 0.27+ grammar accepts everything 0.25's does.
    """

    matchers: str = Field(min_length=1)
    queries: list[TriageQuery] = Field(min_length=1)

    @field_validator("matchers")
    @classmethod
    def _parses(cls, value: str) -> str:
        from oncall_tui.domain.matcher_grammar import Grammar
        from oncall_tui.domain.matchers import FilterError, parse_filter

        try:
            parse_filter(value, Grammar.FALLBACK)
        except FilterError as exc:
            raise ValueError(f"column {exc.position + 1}: {exc.message}") from None
        return value


class Context(_Strict):
    name: str = ""
    alertmanagers: list[ClusterConfig] = Field(default_factory=list)
    prometheus: PrometheusConfig | None = None
    # Several query backends instead of `prometheus`: each owns the alerts whose
    # `owner_label` carries its value.
    owner_label: str = ""
    backends: list[BackendConfig] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)
    tls: TLSConfig = Field(default_factory=TLSConfig)
    proxy: str | None = None
    timeouts: Timeouts = Field(default_factory=Timeouts)
    refresh: float = Field(default=DEFAULT_REFRESH, ge=1, le=86400)
    read_only: bool = False
    # The always-firing alert whose absence means alerts are not reaching Alertmanager.
    watchdog_alert: str = "Watchdog"
    auth: AuthConfig | None = None
    slos: list[SLOConfig] = Field(default_factory=list)
    runbooks: RunbooksConfig = Field(default_factory=RunbooksConfig)
    triage: list[TriageRule] = Field(default_factory=list)
    oncall: OncallConfig = Field(default_factory=OncallConfig)

    @field_validator("alertmanagers", mode="before")
    @classmethod
    def _single_cluster(cls, value: Any) -> Any:
        # A bare list of URLs is one cluster: the common case needs no nesting.
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return [{"peers": value}]
        return value

    @model_validator(mode="before")
    @classmethod
    def _owner_key(cls, data: Any) -> Any:
        # `{cluster: eu, url: ...}` under `owner_label: cluster` is `{owner: eu, url: ...}`.
        if not isinstance(data, dict):
            return data
        label, backends = data.get("owner_label"), data.get("backends")
        if not isinstance(label, str) or not label or not isinstance(backends, list):
            return data
        if label in BackendConfig.model_fields:
            return data  # `owner_label: url` would be ambiguous; the after-check says so
        moved = []
        for entry in backends:
            if isinstance(entry, dict) and label in entry and "owner" not in entry:
                entry = {k: v for k, v in entry.items() if k != label} | {"owner": entry[label]}
            moved.append(entry)
        return {**data, "backends": moved}

    @model_validator(mode="after")
    def _has_a_server(self) -> Context:
        if not self.alertmanagers and self.prometheus is None and not self.backends:
            raise ValueError(
                "a context needs at least one of 'alertmanagers', 'prometheus' or 'backends'"
            )
        if self.backends:
            if self.prometheus is not None:
                raise ValueError(
                    "backends: give either one 'prometheus' or several 'backends', not both"
                )
            if not self.owner_label:
                raise ValueError(
                    "backends: name the alert label that says which backend owns an alert "
                    "(owner_label: cluster)"
                )
            if self.owner_label in BackendConfig.model_fields:
                raise ValueError(f"owner_label: {self.owner_label!r} is a key of a backend")
            owners = [b.owner for b in self.backends]
            twice = sorted({o for o in owners if owners.count(o) > 1})
            if twice:
                raise ValueError(
                    f"backends: each {self.owner_label} value once ({', '.join(twice)} repeated)"
                )
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
        return self


class SilenceDefaults(_Strict):
    """How silences are made from the keyboard; durations as amtool reads them (2h, 1h30m)."""

    default_duration: str = "2h"
    ack_duration: str = "15m"
    ack_lease: str = Field(
        default="15m",
        description="an ack until resolved is renewed this far ahead while its alerts fire;"
        " with no app running it lapses within this time",
    )
    ack_old_after: str = Field(
        default="4h", description=":silences flags acks held longer than this"
    )
    extend_by: str = "1h"
    preview_limit: int = Field(default=25, ge=1, description="ask twice above this many alerts")
    spread_labels: list[str] = Field(
        default_factory=lambda: ["team", "cluster"],
        description="warn when a silence reaches several values of these labels",
    )

    @field_validator("default_duration", "ack_duration", "ack_lease", "ack_old_after", "extend_by")
    @classmethod
    def _duration(cls, value: str) -> str:
        return positive_duration(value)


class BoardSettings(_Strict):
    """The alert board: how long resolved alerts stay listed (amtool durations: 30m, 2h)."""

    recently_resolved: str = Field(
        default="30m", description="how long the recently resolved section keeps an alert"
    )

    @field_validator("recently_resolved")
    @classmethod
    def _duration(cls, value: str) -> str:
        try:
            if parse_duration(value).total_seconds() < 0:
                raise ValueError(f"{value!r} must not be negative")
        except TimeSpecError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def recently_resolved_s(self) -> float:
        return parse_duration(self.recently_resolved).total_seconds()


class Settings(_Strict):
    current_context: str | None = None
    contexts: dict[str, Context] = Field(default_factory=dict)
    user: str | None = Field(default=None, description="createdBy for silences")
    allow_insecure_keyring: bool = False
    theme: str = "oncall-dark"
    bell_on_critical: bool = False
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    silences: SilenceDefaults = Field(default_factory=SilenceDefaults)
    board: BoardSettings = Field(default_factory=BoardSettings)
    handoff: HandoffSettings = Field(default_factory=HandoffSettings)
    keys: dict[str, str] = Field(
        default_factory=dict, description="binding id -> keys, e.g. alerts.refresh: ctrl+r,f5"
    )

    @model_validator(mode="after")
    def _current_exists(self) -> Settings:
        if self.current_context and self.current_context not in self.contexts:
            known = ", ".join(sorted(self.contexts)) or "none defined"
            raise ValueError(f"current_context {self.current_context!r} is not a context ({known})")
        return self

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
        else cluster.model_copy(update={"name": name if index == 0 else f"{name}-{index + 1}"})
        for index, cluster in enumerate(context.alertmanagers)
    ]
    return context.model_copy(update={"name": name, "alertmanagers": clusters})
