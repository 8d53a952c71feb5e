"""Command line: parse arguments, build settings and clients, hand over. Nothing else.

Every failure a user can cause (bad config, unknown context, refused keyring) ends as one line
on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from oncall_tui import __version__

if TYPE_CHECKING:  # the config's models are imported after the first request left (main)
    from oncall_tui.cli.first_frame import FirstFrame
    from oncall_tui.config import Context, Settings
    from oncall_tui.state.early import SentEarly

EXIT_CONFIG = 2

# httpx imports its own command line (click, pygments, rich's syntax and tables) wherever
# click is installed, as in a venv shared with dev tools: 40-50 ms before the first request
# of every start, for a `main` never called. Without it, httpx defines a stub.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _server_options() -> argparse.ArgumentParser:
    # SUPPRESS keeps a subcommand's unset option from overwriting one given before it.
    common = argparse.ArgumentParser(add_help=False)
    add = common.add_argument
    add(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="config file (default: $ONCALL_TUI_CONFIG, else $XDG_CONFIG_HOME/oncall-tui/config.yaml)",
    )
    add("--context", metavar="NAME", default=argparse.SUPPRESS, help="context to use")
    add(
        "--alertmanager",
        metavar="URL",
        action="append",
        default=argparse.SUPPRESS,
        help="Alertmanager URL; repeat for the peers of one HA cluster (needs no config)",
    )
    add(
        "--prometheus",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="Prometheus-compatible URL (needs no config)",
    )
    add(
        "--read-only",
        action="store_true",
        default=argparse.SUPPRESS,
        help="never write to a server (no silences)",
    )
    add("--refresh", metavar="SECONDS", type=float, default=argparse.SUPPRESS, help="poll interval")
    return common


def version_text() -> str:
    """The package, Python and Textual versions: what a bug report needs, without importing Textual."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    try:
        textual = version("textual")
    except PackageNotFoundError:
        textual = "not installed"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"oncall-tui {__version__} (Python {python}, Textual {textual})"


class _Version(argparse.Action):
    """argparse's version action, worded only when asked: importlib.metadata costs every
    start about 15 ms before the first request."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show the version and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(version_text())  # on stdout, as argparse's own version action does
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    common = _server_options()
    parser = argparse.ArgumentParser(
        prog="oncall-tui",
        parents=[common],
        description="Alerts, silences, SLOs and triage for Alertmanager and Prometheus, "
        "from the keyboard. With no server configured, it starts a local demo stack.",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", parents=[common], help="run the app (the default)")
    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="start a local Prometheus + HA Alertmanager pair with churn-api alerts, and the app",
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="no app: keep the stack running and print a config for it",
    )
    demo.add_argument(
        "--check",
        action="store_true",
        help="no app: start the stack, run check-config against it, stop",
    )
    demo.add_argument(
        "--clusters",
        type=int,
        choices=(1, 2),
        default=1,
        help="2: a second cluster with its own Prometheus (alerts labelled cluster=a and "
        "cluster=b), each Prometheus a backend of the demo context",
    )
    demo.add_argument(
        "--error-ratio",
        type=float,
        default=None,
        help="share of churn-api requests that fail (default 0.08)",
    )
    sub.add_parser(
        "check-config",
        parents=[common],
        help="validate the config and probe every server of every context "
        "(--context NAME: only that one)",
    )
    from oncall_tui.cli import auth_args

    auth_args.add_parser(sub)
    from oncall_tui.cli import script_args

    script_args.add_parsers(sub, common)
    return parser


def load_config(args: argparse.Namespace) -> Settings:
    """The settings from --config, $ONCALL_TUI_CONFIG or the XDG path; none is fine."""
    from oncall_tui.config import Settings, load_settings
    from oncall_tui.config.paths import config_file

    path = config_file(getattr(args, "config", None))
    return Settings() if path is None else load_settings(path)


def choose_context(args: argparse.Namespace, settings: Settings) -> Context:
    from oncall_tui.config import resolve_context

    return resolve_context(
        settings,
        getattr(args, "context", None),
        alertmanagers=getattr(args, "alertmanager", ()) or (),
        prometheus=getattr(args, "prometheus", None),
        read_only=getattr(args, "read_only", False),
        refresh=getattr(args, "refresh", None),
    )


def _nothing_configured(args: argparse.Namespace, settings: Settings) -> bool:
    named = any(getattr(args, key, None) for key in ("alertmanager", "prometheus", "context"))
    return not settings.contexts and not named


def _check_config(args: argparse.Namespace, settings: Settings) -> int:
    """Probe every context of the config, or only the one named by --context (or URLs)."""
    from oncall_tui.cli.checks import Entry, check_contexts
    from oncall_tui.config import ConfigError
    from oncall_tui.state.wiring import build_clients

    if _nothing_configured(args, settings) or any(
        getattr(args, key, None) for key in ("alertmanager", "prometheus", "context")
    ):
        contexts = [choose_context(args, settings)]
        one = True
    else:
        contexts = [settings.context(name) for name in sorted(settings.contexts)]
        one = len(contexts) == 1
    entries: list[Entry] = []
    for context in contexts:
        try:
            entries.append(
                build_clients(context, allow_insecure_keyring=settings.allow_insecure_keyring)
            )
        except ConfigError as exc:
            if one:
                raise
            entries.append((context.name, str(exc)))  # the other contexts are still probed
    import asyncio

    lines, ok = asyncio.run(check_contexts(entries))
    print("\n".join(lines))
    return 0 if ok else 1


def _run_app(
    context: Context,
    settings: Settings,
    sent: SentEarly | None = None,
    frame: FirstFrame | None = None,
) -> int:
    from oncall_tui.state.early import start_early

    # The alert groups are asked for before httpx, the clients and Textual are imported
    # (`sent`: even before the config was validated, cli/early.py): a large Alertmanager's
    # answer is then ready about when the UI is. `frame` says so on the terminal meanwhile.
    early = start_early(context, sent)
    from oncall_tui.state.alerts import prefetch
    from oncall_tui.state.wiring import build_clients

    clients = build_clients(context, allow_insecure_keyring=settings.allow_insecure_keyring)
    first = prefetch(clients, early)  # the other servers work while Textual is imported
    from oncall_tui.ui.app import OncallApp

    app = OncallApp(settings, clients, first=first)
    if frame is not None:
        frame.hand_to(app)  # main leaves it if the app never takes the terminal over
    app.run()
    return app.return_code or 0


def dispatch(
    args: argparse.Namespace, sent: SentEarly | None = None, frame: FirstFrame | None = None
) -> int:
    from oncall_tui.config import ConfigError

    command = args.command or "run"
    if command == "auth":
        from oncall_tui.cli import auth as auth_cli

        # `auth set` is how a user fixes a config that holds a secret: it must not refuse
        # to run on that very config.
        auth_settings: Settings | None
        try:
            auth_settings = load_config(args)
        except ConfigError as exc:
            print(f"oncall-tui: warning: config ignored: {exc}", file=sys.stderr)
            auth_settings = None
        return auth_cli.run(args, auth_settings)
    settings = load_config(args)
    if command == "demo" or (command == "run" and _nothing_configured(args, settings)):
        from oncall_tui.cli.demo import run_demo

        if command == "run":
            print(
                "No server configured: starting the local demo stack "
                "(see `oncall-tui --help` to use your own).",
                file=sys.stderr,
            )
        return run_demo(args, settings, _run_app)
    if command == "check-config":
        return _check_config(args, settings)
    if command in ("alerts", "silences"):
        from oncall_tui.cli import scripting
        from oncall_tui.state.wiring import build_clients

        context = choose_context(args, settings)
        clients = build_clients(context, allow_insecure_keyring=settings.allow_insecure_keyring)
        return scripting.run(command, clients, args)
    if command == "handoff":
        from oncall_tui.cli import handoff
        from oncall_tui.state.wiring import build_clients

        context = choose_context(args, settings)
        clients = build_clients(context, allow_insecure_keyring=settings.allow_insecure_keyring)
        return handoff.run(clients, args, settings.handoff)
    return _run_app(choose_context(args, settings), settings, sent, frame)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from oncall_tui.cli.early import peek, start
    from oncall_tui.cli.first_frame import FirstFrame

    # Before the config's models are built (150-200 ms): a frame, and the first requests.
    # The frame first: once asked, five Alertmanagers of 10,000 alerts each kept both cores
    # busy, and the frame waited 240-490 ms for them.
    found = peek(args)
    frame = FirstFrame()
    if found is not None and found.may_draw:
        frame = FirstFrame.show(found.context, found.servers)
    sent = start(found) if found is not None else {}
    from oncall_tui.config import ConfigError

    try:
        try:
            return dispatch(args, sent, frame)
        finally:
            frame.leave()  # before any error is printed; nothing if the app took it over
    except ConfigError as exc:
        print(f"oncall-tui: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
