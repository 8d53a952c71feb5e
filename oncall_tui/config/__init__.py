"""Settings: the schema of the config file, loading it, and the credentials it refers to.

No I/O to servers here. `schema` holds the validated models, `loading` finds and reads the
file, `credentials` the keyring and its headless fallbacks, `runbook_credentials` the
credentials of runbook hosts.
"""

from oncall_tui.config.handoff import HandoffSettings
from oncall_tui.config.loading import (
    config_path,
    load_settings,
    parse_settings,
    resolve_context,
)
from oncall_tui.config.notifications import NotificationSettings
from oncall_tui.config.schema import (
    DEFAULT_REFRESH,
    SECRET_KEYS,
    AuthConfig,
    BackendConfig,
    BoardSettings,
    ClusterConfig,
    ConfigError,
    Context,
    PrometheusConfig,
    RunbooksConfig,
    ServerConfig,
    Settings,
    SilenceDefaults,
    SLOConfig,
    Timeouts,
    TLSConfig,
    TriageQuery,
    TriageRule,
    named,
    query_backends,
)

__all__ = [
    "DEFAULT_REFRESH",
    "SECRET_KEYS",
    "AuthConfig",
    "BackendConfig",
    "BoardSettings",
    "ClusterConfig",
    "ConfigError",
    "Context",
    "HandoffSettings",
    "NotificationSettings",
    "PrometheusConfig",
    "RunbooksConfig",
    "SLOConfig",
    "ServerConfig",
    "Settings",
    "SilenceDefaults",
    "TLSConfig",
    "Timeouts",
    "TriageQuery",
    "TriageRule",
    "config_path",
    "load_settings",
    "named",
    "parse_settings",
    "query_backends",
    "resolve_context",
]
