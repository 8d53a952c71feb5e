"""Decoded YAML -> a config model: the rewrites before conversion, msgspec's conversion, and
its first problem worded for the user with the key's dotted path."""

from __future__ import annotations

import functools
import os
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import msgspec

from oncall_tui.config.strict import ConfigError, Strict

M = TypeVar("M", bound=Strict)


def convert(data: Any, model: type[M], config_dir: Path | None) -> M:
    prepared = prepare(data, model, (), config_dir)
    try:
        return msgspec.convert(prepared, model, strict=False, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        from oncall_tui.config.problems import explain

        key, message = explain(exc, prepared, model)
        raise ConfigError(message, key=key) from None


def dec_hook(kind: type, value: Any) -> Any:
    """The types msgspec leaves to us: a path, `~` expanded."""
    if kind is Path:
        if isinstance(value, str | os.PathLike):
            return Path(value).expanduser()
        raise TypeError("expected a path (a string)")
    raise NotImplementedError(kind)


def prepare(data: Any, kind: Any, trail: tuple[str | int, ...], config_dir: Path | None) -> Any:
    """`data` with each model's rewrites (Strict.prepare, Strict.before) applied, top down:
    what msgspec then converts. A ValueError becomes a ConfigError naming the key."""
    model = struct_in(kind)
    if model is None:
        inner = item_type(kind)
        if inner is None:
            return data
        if isinstance(data, list):
            return [prepare(v, inner, (*trail, i), config_dir) for i, v in enumerate(data)]
        if isinstance(data, Mapping):
            return {k: prepare(v, inner, (*trail, k), config_dir) for k, v in data.items()}
        return data
    if not isinstance(data, Mapping):
        return data  # msgspec says what it expected
    data = dict(data)
    try:
        data = model.prepare(data, config_dir)
    except ValueError as exc:
        raise ConfigError(str(exc), key=dotted(trail)) from None
    for name, rewrite in model.before.items():
        if name in data:
            try:
                data = {**data, name: rewrite(data[name])}
            except ValueError as exc:
                raise ConfigError(str(exc), key=dotted((*trail, name))) from None
    fields = field_types(model)
    return {
        k: prepare(v, fields[k], (*trail, k), config_dir) if k in fields else v
        for k, v in data.items()
    }


def dotted(trail: Sequence[str | int]) -> str:
    """`("contexts", "prod", "alertmanagers", 0)` -> `contexts.prod.alertmanagers.0`."""
    return ".".join(str(part) for part in trail)


# -- the models' types, walked (for the rewrites, and to word a problem) -----------------------


def struct_in(kind: Any) -> type[Strict] | None:
    """The model behind `kind`: itself, or the model arm of `X | None` (Annotated unwrapped)."""
    kind = _bare(kind)
    if isinstance(kind, type) and issubclass(kind, Strict):
        return kind
    if get_origin(kind) in (Union, types.UnionType):
        return next((m for a in get_args(kind) if (m := struct_in(a)) is not None), None)
    return None


def item_type(kind: Any) -> Any:
    """The type of a list's items or a mapping's values (None for anything else)."""
    kind = _bare(kind)
    if get_origin(kind) in (Union, types.UnionType):
        arms = [a for a in get_args(kind) if a is not type(None)]
        kind = _bare(arms[0]) if len(arms) == 1 else None
    if get_origin(kind) in (list, dict):
        return get_args(kind)[-1]
    return None


@functools.cache
def field_types(model: type[Strict]) -> dict[str, Any]:
    """Each field's type, resolved (once per model)."""
    return {f.name: f.type for f in msgspec.structs.fields(model)}


def _bare(kind: Any) -> Any:
    return get_args(kind)[0] if get_origin(kind) is Annotated else kind
