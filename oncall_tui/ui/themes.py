"""Themes from YAML files: the bundled ones, then the user's config folder.

The bundled themes are package data (`oncall_tui.themes`, mapped from the repository's
top-level `themes/` by the build), read through importlib.resources so that an installed
wheel finds them wherever it lives.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import yaml
from textual.theme import Theme

# Used when a theme leaves one out: plain ANSI names stay readable in 16 colours.
DEFAULT_VARIABLES = {
    "severity-critical": "ansi_bright_red",
    "severity-warning": "ansi_yellow",
    "severity-info": "ansi_cyan",
    "state-active": "ansi_red",
    "state-silenced": "ansi_bright_black",
    "state-inhibited": "ansi_magenta",
    "state-muted": "ansi_blue",
    "state-pending": "ansi_yellow",
    "stale": "ansi_bright_red",
}
THEME_KEYS = {
    "name",
    "dark",
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "variables",
}


BUNDLED_PACKAGE = "oncall_tui.themes"


def bundled_themes() -> Traversable:
    return resources.files(BUNDLED_PACKAGE)


def theme_dirs() -> list[Traversable]:
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [bundled_themes(), config_home / "oncall-tui" / "themes"]


def load_themes(
    dirs: list[Traversable] | None = None,
) -> Iterator[tuple[Traversable, Theme | str]]:
    """Each theme file with its Theme, or the reason it could not be used."""
    for folder in dirs or theme_dirs():
        if not folder.is_dir():
            continue
        files = (f for f in folder.iterdir() if f.name.endswith(".yaml") and f.is_file())
        for path in sorted(files, key=lambda f: f.name):
            try:
                raw = yaml.safe_load(path.read_text(encoding="utf-8"))
                if not isinstance(raw, dict) or "name" not in raw or "primary" not in raw:
                    raise ValueError("a theme needs at least 'name' and 'primary'")
                unknown = set(raw) - THEME_KEYS
                if unknown:
                    raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
                variables = {**DEFAULT_VARIABLES, **(raw.get("variables") or {})}
                yield path, Theme(**{**raw, "variables": variables})
            except (OSError, ValueError, TypeError, yaml.YAMLError) as exc:
                yield path, f"{path}: {exc}"
