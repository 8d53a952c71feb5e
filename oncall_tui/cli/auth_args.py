"""The `auth` command's arguments, apart from the command (cli/auth.py).

The main CLI builds its parser at every start, before the first request is sent: importing
cli/auth.py there loaded the credentials module and the standard library it needs (some
12 ms), which the first request waited for.
"""

from __future__ import annotations

import argparse

from oncall_tui.config.paths import KEYRING_SERVICE

ALLOW_INSECURE_ENV = "ONCALL_TUI_ALLOW_INSECURE_KEYRING"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `auth` and its sub-commands on the main CLI's sub-parsers."""
    auth = subparsers.add_parser(
        "auth",
        help="store or check context secrets in the OS keyring",
        description="Store, check and delete context secrets in the OS keyring "
        f"(service {KEYRING_SERVICE!r}). Secrets are never printed.",
    )
    commands = auth.add_subparsers(dest="auth_command", metavar="COMMAND", required=True)
    insecure = argparse.ArgumentParser(add_help=False)
    insecure.add_argument(
        "--allow-insecure-keyring",
        action="store_true",
        help="accept a keyring backend that is not secure (e.g. a plaintext file); "
        f"also settings.allow_insecure_keyring or {ALLOW_INSECURE_ENV}=1",
    )
    set_ = commands.add_parser(
        "set",
        parents=[insecure],
        help="store a context's secret (hidden prompt, or one line on stdin)",
    )
    get = commands.add_parser(
        "get", parents=[insecure], help="say whether a secret is stored (never prints it)"
    )
    delete = commands.add_parser("delete", parents=[insecure], help="delete a stored secret")
    for sub in (set_, get, delete):
        sub.add_argument("context", metavar="CONTEXT", help="context name (see the config)")
    commands.add_parser(
        "status", parents=[insecure], help="show the keyring backend and whether it is secure"
    )
