"""Where the config file is: standard library only, so the start-up finds it before the
config's models are imported (cli/early.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# The keyring's service name (a context's secret is the entry oncall-tui/<its key>): here,
# not in credentials.py, so that the CLI's parser names it without importing that module
# (cli/auth_args.py).
KEYRING_SERVICE = "oncall-tui"


def config_path(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """--config, then $ONCALL_TUI_CONFIG, then $XDG_CONFIG_HOME/oncall-tui/config.yaml."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit).expanduser()
    if env.get("ONCALL_TUI_CONFIG"):
        return Path(env["ONCALL_TUI_CONFIG"]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "oncall-tui" / "config.yaml"


def config_file(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    """The config file to read: None when none is named (--config, $ONCALL_TUI_CONFIG) and
    the default one does not exist; a named one is returned even if missing (an error)."""
    env = os.environ if env is None else env
    path = config_path(explicit, env)
    if not explicit and not env.get("ONCALL_TUI_CONFIG") and not path.exists():
        return None
    return path
