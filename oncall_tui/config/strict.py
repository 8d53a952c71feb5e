"""The base of the config's models: frozen msgspec structs that refuse unknown keys.

`Model.from_data(raw)` converts a decoded YAML mapping and validates it; every problem is a
ConfigError naming the key's dotted path (`contexts.prod.refresh`). Checks live in
`__post_init__`, which also runs when a model is built in code; a check about one key raises
KeyProblem, or runs `with key("name"):`, so that the path ends with that key.

The modules of the models do without `from __future__ import annotations`: msgspec reads their
fields' types as objects, instead of compiling and evaluating each one from its text on the
first conversion (some 5 ms of every start with a config).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Self

import msgspec


class ConfigError(Exception):
    """A config problem, already worded for the user: file, key path, what is wrong."""

    def __init__(self, message: str, *, path: Path | None = None, key: str = "") -> None:
        where = [str(path)] if path else []
        if key:
            where.append(key)
        super().__init__(": ".join([*where, message]))
        self.message = message
        self.path = path
        self.key = key


class KeyProblem(ValueError):
    """A ValueError about one key of a model (`key`, relative to the model)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@contextmanager
def key(name: str) -> Iterator[None]:
    """A ValueError raised inside is about the key `name`: the error's path ends with it."""
    try:
        yield
    except ValueError as exc:
        raise KeyProblem(name, str(exc)) from None


class Strict(
    msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True
):
    """Frozen, unknown keys refused; a dump (msgspec.to_builtins) leaves out the defaults.

    msgspec applies `kw_only` to the fields of the class that says it, and mypy reads a model
    that says it as not frozen unless it says that too: so every model says both again
    (`class Timeouts(Strict, frozen=True, kw_only=True)`). Fields are then given by name, and a
    required field may follow one with a default.
    """

    # Rewrites of one key's raw value before conversion (what the user may write for short):
    # key -> function of the value; a ValueError names the key.
    before: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}

    @classmethod
    def prepare(cls, data: dict[str, Any], config_dir: Path | None) -> dict[str, Any]:
        """A rewrite of the raw mapping before conversion, across its keys (a key renamed, a
        file read in); `config_dir` holds the config file, for paths relative to it."""
        return data

    @classmethod
    def from_data(cls, data: Any, *, config_dir: Path | None = None) -> Self:
        """The model from decoded YAML (plain dicts and lists), validated; ConfigError naming
        the key of the first problem."""
        from oncall_tui.config.converting import convert

        return convert(data, cls, config_dir)

    def _normalise(self, **values: Any) -> None:
        """Store the normal form of given values, from `__post_init__` (the struct is frozen)."""
        for name, value in values.items():
            msgspec.structs.force_setattr(self, name, value)
