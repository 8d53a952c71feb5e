"""Settings: the schema of the config file, loading it, and the credentials it refers to.

No I/O to servers here. `schema` holds the validated models, `loading` finds and reads the
file, `credentials` the keyring and its headless fallbacks, `runbook_credentials` the
credentials of runbook hosts.

Its names load on first use (PEP 562): `config.paths` and `config.credentials` then import
without the models, so the start-up can read the config's servers and send the first request
before the models are built (cli/early.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oncall_tui.config.handoff import HandoffSettings
    from oncall_tui.config.loading import (
        load_settings,
        parse_settings,
        resolve_context,
    )
    from oncall_tui.config.notifications import NotificationSettings
    from oncall_tui.config.paths import config_path
    from oncall_tui.config.schema import (
        DEFAULT_REFRESH,
        SECRET_KEYS,
        AuthConfig,
        BackendConfig,
        BoardSettings,
        ClusterConfig,
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
    from oncall_tui.config.strict import ConfigError

_WHERE = {
    "AuthConfig": "oncall_tui.config.schema",
    "BackendConfig": "oncall_tui.config.schema",
    "BoardSettings": "oncall_tui.config.schema",
    "ClusterConfig": "oncall_tui.config.schema",
    "ConfigError": "oncall_tui.config.strict",
    "Context": "oncall_tui.config.schema",
    "DEFAULT_REFRESH": "oncall_tui.config.schema",
    "HandoffSettings": "oncall_tui.config.handoff",
    "NotificationSettings": "oncall_tui.config.notifications",
    "PrometheusConfig": "oncall_tui.config.schema",
    "RunbooksConfig": "oncall_tui.config.schema",
    "SECRET_KEYS": "oncall_tui.config.schema",
    "SLOConfig": "oncall_tui.config.schema",
    "ServerConfig": "oncall_tui.config.schema",
    "Settings": "oncall_tui.config.schema",
    "SilenceDefaults": "oncall_tui.config.schema",
    "TLSConfig": "oncall_tui.config.schema",
    "Timeouts": "oncall_tui.config.schema",
    "TriageQuery": "oncall_tui.config.schema",
    "TriageRule": "oncall_tui.config.schema",
    "config_path": "oncall_tui.config.paths",
    "load_settings": "oncall_tui.config.loading",
    "named": "oncall_tui.config.schema",
    "parse_settings": "oncall_tui.config.loading",
    "query_backends": "oncall_tui.config.schema",
    "resolve_context": "oncall_tui.config.loading",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups do not come here
    return value
