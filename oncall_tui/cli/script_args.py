"""The arguments of `oncall-tui alerts`, `silences` (cli/scripting.py) and `handoff`
(cli/handoff.py).

Kept apart so that building the parser imports no HTTP client: the app's start-up pays for
every import.
"""

from __future__ import annotations

import argparse


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    alerts = sub.add_parser(
        "alerts",
        parents=[common],
        help="print the context's alerts, merged across HA peers (like `amtool alert query`)",
    )
    _matcher_options(alerts)
    for flag, short, what in (
        ("--active", "-a", "active"),
        ("--silenced", "-s", "silenced"),
        ("--inhibited", "-i", "inhibited"),
        ("--unprocessed", "-u", "unprocessed"),
    ):
        alerts.add_argument(flag, short, action="store_true", help=f"show {what} alerts")
    alerts.add_argument(
        "--receiver-matcher",
        action="append",
        metavar="MATCHER",
        help='only alerts routed to a receiver whose labels match, e.g. owner="ml" '
        "(Alertmanager 0.33+; repeatable)",
    )
    silences = sub.add_parser(
        "silences",
        parents=[common],
        help="print the context's silences, merged across HA peers (like `amtool silence query`)",
    )
    _matcher_options(silences)
    silences.add_argument(
        "--expired", action="store_true", help="show expired silences instead of active ones"
    )

    handoff = sub.add_parser(
        "handoff",
        parents=[common],
        help="the shift handoff: episodes, what fires, acks, silences, SLOs, open incidents",
    )
    handoff.add_argument(
        "--since",
        type=_duration,
        help="the window looked back on (default: handoff.since in the config, else 12h)",
    )
    handoff.add_argument(
        "--next",
        type=_duration,
        help="the next shift: silences ending within it are listed"
        " (default: handoff.next_shift, else 12h)",
    )
    handoff.add_argument(
        "-o", "--output", choices=("markdown", "json"), default="markdown", help="output format"
    )


def _duration(text: str) -> float:
    from oncall_tui.domain.timespec import TimeSpecError, parse_duration

    try:
        seconds = parse_duration(text).total_seconds()
    except TimeSpecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("the window must be longer than 0")
    return seconds


def _matcher_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "matchers",
        nargs="*",
        metavar="MATCHER",
        help='e.g. severity="critical" or alertname=~"Disk.*"; a first bare word is the alertname',
    )
    parser.add_argument(
        "-o", "--output", choices=("table", "json"), default="table", help="output format"
    )
