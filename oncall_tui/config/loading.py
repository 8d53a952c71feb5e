"""Finding and reading the config file: YAML -> Settings, errors that name the key."""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from oncall_tui.config.schema import (
    SECRET_KEYS,
    ClusterConfig,
    ConfigError,
    Context,
    PrometheusConfig,
    Settings,
    named,
)
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


def _key_path(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc)


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
        base = {"config_dir": path.parent} if path is not None else None
        return Settings.model_validate(raw, context=base)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        key = _key_path(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden" and first["loc"]:
            message, key = _unknown_key(first["loc"]), ""
        more = len(exc.errors()) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise ConfigError(message, path=path, key=key) from None


def _unknown_key(loc: Sequence[int | str]) -> str:
    """`unknown key 'refesh' in contexts.prod (did you mean 'refresh'?)`: a typo, named."""
    *parent, name = loc
    where = f" in {_key_path(parent)}" if parent else " at the top level"
    known = _keys_at(parent)
    close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
    if close:
        hint = f" (did you mean {close[0]!r}?)"
    elif known:
        hint = f" (known keys: {', '.join(known)})"
    else:
        hint = ""
    return f"unknown key {str(name)!r}{where}{hint}"


def _keys_at(loc: Sequence[int | str]) -> list[str]:
    """The keys the config accepts at `loc`, found by walking the models' field types."""
    node: Any = Settings
    for part in loc:
        model = _model_in(node)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            node = model.model_fields[part].annotation
            continue
        # A list index or a mapping's key (a context's name): step into the item type.
        args = [a for a in get_args(node) if a is not type(None)]
        node = args[-1] if args else None
    model = _model_in(node)
    return sorted(model.model_fields) if model is not None else []


def _model_in(node: Any) -> type[BaseModel] | None:
    """The model class behind `node`: itself, or the model arm of `X | None`."""
    if isinstance(node, type) and issubclass(node, BaseModel):
        return node
    if get_origin(node) in (Union, types.UnionType):
        return next((m for a in get_args(node) if (m := _model_in(a)) is not None), None)
    return None


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
    if refresh is not None and refresh < 1:
        raise ConfigError("must be at least 1 second", key="--refresh")
    overridden = bool(alertmanagers or prometheus)
    try:
        base = settings.context(name)
    except ConfigError:
        # Servers named on the command line need no context from the file.
        if not overridden or (name and settings.contexts):
            raise
        base = Context.model_construct(name=name or "cli")
    update: dict[str, Any] = {}
    if alertmanagers:
        update["alertmanagers"] = [ClusterConfig(peers=peers)]
    if prom_url:
        update["prometheus"] = PrometheusConfig(url=prom_url)
    if read_only:
        update["read_only"] = True
    if refresh is not None:
        update["refresh"] = refresh
    merged = Context.model_validate(base.model_copy(update=update).model_dump())
    return named(merged, merged.name)
