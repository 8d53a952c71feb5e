"""Finding and reading the config file: YAML -> Settings, errors that name the key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from oncall_tui.config.schema import (
    SECRET_KEYS,
    ClusterConfig,
    Context,
    PrometheusConfig,
    Settings,
    named,
)
from oncall_tui.config.strict import ConfigError
from oncall_tui.config.urls import check_url


def _find_secrets(node: Any, trail: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = (*trail, str(key))
            if str(key).lower() in SECRET_KEYS and isinstance(value, str) and value:
                return here
            found = _find_secrets(value, here)
            if found:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = _find_secrets(value, (*trail, str(index)))
            if found:
                return found
    return None


def parse_settings(raw: Any, path: Path | None = None) -> Settings:
    """Validate a decoded YAML document; every failure is a ConfigError naming the key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError("the top level must be a mapping of keys", path=path)
    try:
        secret = _find_secrets(raw)
    except RecursionError:
        raise ConfigError("nested too deeply to be a config", path=path) from None
    if secret:
        context = secret[1] if len(secret) > 1 and secret[0] == "contexts" else "CONTEXT"
        raise ConfigError(
            "secrets do not belong in the config file. Remove it and store it in the keyring "
            f"with `oncall-tui auth set {context}`, or name an environment variable "
            "(auth.source: env) or a command (auth.source: command)",
            path=path,
            key=".".join(secret),
        )
    try:
        # A file the config names (oncall.file) is found next to the config.
        return Settings.from_data(raw, config_dir=path.parent if path is not None else None)
    except ConfigError as exc:
        raise ConfigError(exc.message, path=path, key=exc.key) from None


def load_settings(path: Path) -> Settings:
    """Read and validate one config file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=path) from None
    import yaml  # only when there is a file to read: not on the start of a config-less run

    try:
        raw = yaml.safe_load(text)
    except RecursionError:
        raise ConfigError("nested too deeply to be a config", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}{problem}", path=path) from None
    return parse_settings(raw, path)


def resolve_context(
    settings: Settings,
    name: str | None = None,
    *,
    alertmanagers: Sequence[str] = (),
    prometheus: str | None = None,
    read_only: bool = False,
    refresh: float | None = None,
) -> Context:
    """The context to use, with command-line overrides applied; needs no config at all.

    `--alertmanager` URLs (peers of one cluster) and `--prometheus` replace the chosen
    context's servers; with no config file they make a context of their own, named "cli".
    """
    try:
        if alertmanagers:
            peers = [check_url(url) for url in alertmanagers]
        prom_url = check_url(prometheus) if prometheus else None
    except ValueError as exc:
        raise ConfigError(str(exc), key="--alertmanager/--prometheus") from None
    if refresh is not None and not 1 <= refresh <= 86400:
        raise ConfigError("from 1 second to a day (86400)", key="--refresh")
    overridden = bool(alertmanagers or prometheus)
    try:
        base = settings.context(name)
    except ConfigError:
        # Servers named on the command line need no context from the file.
        if not overridden or (name and settings.contexts):
            raise
        base = None
    fields: dict[str, Any] = {"name": name or "cli"}
    if base is not None:
        fields = msgspec.structs.asdict(base)
    if alertmanagers:
        fields["alertmanagers"] = [ClusterConfig(peers=peers)]
    if prom_url:
        fields["prometheus"] = PrometheusConfig(url=prom_url)
    if read_only:
        fields["read_only"] = True
    if refresh is not None:
        fields["refresh"] = refresh
    try:
        # Built anew, so checked again: the servers given must suit the rest of the context.
        merged = Context(**fields)
    except ValueError as exc:
        raise ConfigError(str(exc), key="--alertmanager/--prometheus") from None
    return named(merged, merged.name)
