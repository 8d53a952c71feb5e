"""msgspec's first validation problem, worded for the config's user: the key's dotted path
(`contexts.prod.alertmanagers.0.peers`) and what is wrong in plain words.

msgspec ends its message with where it was (`- at `$.contexts[...].refresh``), a mapping's key
left out as `[...]`: the key is found again as the first whose value does not convert.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

import msgspec

from oncall_tui.config.converting import dec_hook, dotted, field_types, item_type, struct_in
from oncall_tui.config.strict import KeyProblem, Strict

_AT = re.compile(r"(?s)(?P<problem>.*) - at (?P<in_key>`key` in )?`\$(?P<path>[^`]*)`")
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]|\[\.\.\.\]")
_WORDS = {
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "null": "null",
    "array": "a list",
    "object": "a mapping",
    "datetime": "a date and time",
    "date": "a date",
    "time": "a time of day",
}
_EXAMPLES = {"datetime": " (e.g. 2024-01-01T08:00:00+01:00)", "time": ' (e.g. "22:00:00")'}
_BOUNDS = {">=": "at least", ">": "more than", "<=": "at most", "<": "less than"}


def explain(exc: msgspec.ValidationError, data: Any, model: type) -> tuple[str, str]:
    """(dotted key, message) for the problem `exc` reports in `data`, converted to `model`."""
    found = _AT.fullmatch(str(exc))
    problem, path = (found["problem"], found["path"]) if found else (str(exc), "")
    trail, node, kind = _follow(path, data, model)
    if isinstance(exc.__cause__, KeyProblem):  # a check about one key of its model
        return dotted([*trail, exc.__cause__.key]), str(exc.__cause__)
    if found and found["in_key"]:
        bad = next((k for k in node if not isinstance(k, str)), None) if node else None
        return dotted(trail), f"key {bad!r}: {_worded(problem)}"
    if missing := re.fullmatch(r"Object missing required field `(.*)`", problem):
        return dotted([*trail, missing[1]]), "missing (required)"
    if unknown := re.fullmatch(r"Object contains unknown field `(.*)`", problem):
        return "", _unknown_key(trail, unknown[1], struct_in(kind))
    return dotted(trail), _worded(problem, kind)


def _worded(problem: str, kind: Any = None) -> str:
    """msgspec's words for a value's problem in the config's; anything else (a check's own
    ValueError) as it is."""
    if types := re.fullmatch(r"Expected `([^`]+)`, got `([^`]+)`", problem):
        return f"expected {_words(types[1])}, got {_words(types[2])}"
    if bound := re.fullmatch(r"Expected `[^`]+` (>=|>|<=|<) (\S+)", problem):
        return f"must be {_BOUNDS[bound[1]]} {bound[2].removesuffix('.0')}"
    if length := re.fullmatch(r"Expected `(\w+)` of length >= (\d+)", problem):
        unit = "characters" if length[1] == "str" else "entries"
        return "must not be empty" if length[2] == "1" else f"needs at least {length[2]} {unit}"
    if enum := re.fullmatch(r"Invalid enum value (.*)", problem):
        options = [repr(o) for o in _literal(kind)]
        if len(options) > 1:
            return f"must be {', '.join(options[:-1])} or {options[-1]}, not {enum[1]}"
    if rfc := re.fullmatch(r"Invalid RFC3339 encoded (\w+)", problem):
        return f"not {_words(rfc[1])}{_EXAMPLES.get(rfc[1], '')}"
    return problem


def _words(names: str) -> str:
    """`object | null` -> `a mapping or null`."""
    return " or ".join(_WORDS.get(name, f"`{name}`") for name in names.split(" | "))


def _literal(kind: Any) -> tuple[Any, ...]:
    """The values a Literal type (or one of its arms) allows."""
    if get_origin(kind) is Literal:
        return get_args(kind)
    return next((v for a in get_args(kind) if (v := _literal(a))), ())


def _follow(path: str, data: Any, kind: Any) -> tuple[list[str | int], Any, Any]:
    """The key path msgspec's `path` points at in `data`, with the value and type there."""
    trail: list[str | int] = []
    for step in _STEP.finditer(path):
        name, index = step[1], step[2]
        if name is not None:
            model = struct_in(kind)
            kind = field_types(model).get(name) if model else None
            data = data.get(name) if isinstance(data, Mapping) else None
            trail.append(name)
            continue
        kind = item_type(kind)
        if index is not None:
            data = data[int(index)] if isinstance(data, list) else None
            trail.append(int(index))
            continue
        key = _failing_key(data, kind)
        if key is None:
            break
        data = data[key]
        trail.append(key)
    return trail, data, kind


def _failing_key(data: Any, kind: Any) -> Any:
    """The first key of the mapping `data` whose value does not convert to `kind`."""
    if not isinstance(data, Mapping) or kind is None:
        return None
    for key, value in data.items():
        try:
            msgspec.convert(value, kind, strict=False, dec_hook=dec_hook)
        except (msgspec.ValidationError, ValueError, TypeError):
            return key
    return None


def _unknown_key(trail: list[str | int], name: str, model: type[Strict] | None) -> str:
    """`unknown key 'refesh' in contexts.prod (did you mean 'refresh'?)`: a typo, named."""
    where = f" in {dotted(trail)}" if trail else " at the top level"
    known = sorted(model.__struct_fields__) if model is not None else []
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        hint = f" (did you mean {close[0]!r}?)"
    elif known:
        hint = f" (known keys: {', '.join(known)})"
    else:
        hint = ""
    return f"unknown key {name!r}{where}{hint}"
