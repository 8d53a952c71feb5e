"""`oncall-tui auth ...`: store, check and delete context secrets in the OS keyring.

Nothing here ever prints a secret: `get` says only whether one is stored and where. Errors
are one line on stderr and exit code 1. The main CLI calls `auth_args.add_parser` on its
sub-parsers and `run(args, settings)` for the `auth` command; `main()` exists for
`python -m` and tests.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from oncall_tui.cli.auth_args import ALLOW_INSECURE_ENV, add_parser
from oncall_tui.config import credentials
from oncall_tui.config.credentials import SERVICE, CredentialError

if TYPE_CHECKING:
    from oncall_tui.config import Settings

PROG = "oncall-tui auth"


class _Failure(Exception):
    """A user-facing error: printed as one line, exit code 1."""


def _allow_insecure(
    args: argparse.Namespace, settings: Settings | None, env: Mapping[str, str]
) -> bool:
    return bool(
        getattr(args, "allow_insecure_keyring", False)
        or (settings is not None and settings.allow_insecure_keyring)
        or env.get(ALLOW_INSECURE_ENV) == "1"
    )


def _entry_key(context: str, settings: Settings | None, err: TextIO) -> str:
    """The keyring entry for CONTEXT: its auth.keyring_key if configured, else its name."""
    ctx = settings.contexts.get(context) if settings is not None else None
    if ctx is None:
        if settings is not None and settings.contexts:
            known = ", ".join(sorted(settings.contexts))
            print(f"note: no context {context!r} in the config (known: {known})", file=err)
        return context
    if ctx.auth is None:
        print(f"note: context {context!r} has no auth section, so it sends no secret", file=err)
    elif ctx.auth.source != "keyring":
        print(
            f"note: context {context!r} takes its secret from auth.source: {ctx.auth.source}, "
            "not from the keyring",
            file=err,
        )
    return credentials.keyring_key(ctx.auth, context)


def _read_secret(context: str, stdin: TextIO) -> str:
    """A hidden prompt on a terminal, else one line of stdin without its newline."""
    try:
        if stdin.isatty():
            value = getpass.getpass(f"Secret for context {context} (input hidden): ")
        else:
            value = stdin.readline().rstrip("\r\n")
    except (EOFError, KeyboardInterrupt):
        raise _Failure("cancelled: nothing stored") from None
    if not value.strip():
        raise _Failure("empty secret: nothing stored")
    return value


def _warn_insecure(info: credentials.BackendInfo, err: TextIO) -> None:
    if not info.secure:
        print(f"warning: {info.name} is not secure: {info.reason}", file=err)


def _set(args: argparse.Namespace, settings: Settings | None, allow: bool, err: TextIO) -> int:
    key = _entry_key(args.context, settings, err)
    # Check the backend before asking: do not make the user type a secret, then refuse it.
    info = credentials.check_backend(allow_insecure=allow)
    _warn_insecure(info, err)
    secret = _read_secret(args.context, sys.stdin)
    try:
        info = credentials.store_secret(key, secret, allow_insecure=allow)
    except CredentialError:
        raise
    except Exception as exc:  # never let an unexpected error print the secret
        raise _Failure(f"could not store the secret ({type(exc).__name__})") from None
    print(f"stored in {info.name} under {SERVICE}/{key}")
    return 0


def _get(args: argparse.Namespace, settings: Settings | None, allow: bool, err: TextIO) -> int:
    key = _entry_key(args.context, settings, err)
    info = credentials.check_backend(allow_insecure=allow)
    if credentials.has_secret(key, allow_insecure=allow):
        print(f"stored in {info.name} under {SERVICE}/{key}")
        return 0
    print(
        f"nothing stored in {info.name} under {SERVICE}/{key}; "
        f"store it with `oncall-tui auth set {args.context}`",
        file=err,
    )
    return 1


def _delete(args: argparse.Namespace, settings: Settings | None, allow: bool, err: TextIO) -> int:
    key = _entry_key(args.context, settings, err)
    info = credentials.check_backend(allow_insecure=allow)
    if credentials.delete_secret(key, allow_insecure=allow):
        print(f"deleted {SERVICE}/{key} from {info.name}")
        return 0
    print(f"nothing stored in {info.name} under {SERVICE}/{key}", file=err)
    return 1


def _status(allow: bool) -> int:
    info = credentials.backend_info()
    print(f"backend: {info.name}")
    print(f"secure: {'yes' if info.secure else 'no'}")
    print(f"reason: {info.reason}")
    if info.secure:
        return 0
    if info.available and allow:
        print("usable: yes, insecure backend allowed by allow_insecure_keyring")
        return 0
    if info.available:
        print(f"usable: no, refused; {credentials.OPT_IN_HINT}")
    else:
        print("usable: no")
    return 1


def run(
    args: argparse.Namespace,
    settings: Settings | None,
    *,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run one `auth` sub-command; returns the exit code (errors: one line on stderr, 1)."""
    env = os.environ if env is None else env
    err = sys.stderr
    allow = _allow_insecure(args, settings, env)
    try:
        if args.auth_command == "set":
            return _set(args, settings, allow, err)
        if args.auth_command == "get":
            return _get(args, settings, allow, err)
        if args.auth_command == "delete":
            return _delete(args, settings, allow, err)
        return _status(allow)
    except (CredentialError, _Failure) as exc:
        message = " ".join(str(exc).split())
        print(f"{PROG} {args.auth_command}: error: {message}", file=err)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (`python -m oncall_tui.cli.auth`): parse, load settings, run."""
    from oncall_tui.config import ConfigError, config_path, load_settings

    parser = argparse.ArgumentParser(prog="oncall-tui")
    parser.add_argument("--config", help="config file (default: $ONCALL_TUI_CONFIG or XDG)")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    path = config_path(args.config)
    settings: Settings | None = None
    if args.config or path.exists():
        try:
            settings = load_settings(path)
        except ConfigError as exc:
            # `auth set` is what the config error may tell the user to run: keep going.
            print(
                f"warning: config not loaded ({exc}); using CONTEXT as the keyring key",
                file=sys.stderr,
            )
    return run(args, settings)


if __name__ == "__main__":
    sys.exit(main())
