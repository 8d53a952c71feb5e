"""Themes from YAML files: the project's `themes/` folder, then the user's config folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


def theme_dirs() -> list[Path]:
    bundled = Path(__file__).resolve().parents[2] / "themes"
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [bundled, config_home / "oncall-tui" / "themes"]


def load_themes(dirs: list[Path] | None = None) -> Iterator[tuple[Path, Theme | str]]:
    """Each theme file with its Theme, or the reason it could not be used."""
    for folder in dirs or theme_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
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
