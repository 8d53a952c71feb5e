"""The arguments of `oncall-tui alerts` and `oncall-tui silences` (see cli/scripting.py).

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
    silences = sub.add_parser(
        "silences",
        parents=[common],
        help="print the context's silences, merged across HA peers (like `amtool silence query`)",
    )
    _matcher_options(silences)
    silences.add_argument(
        "--expired", action="store_true", help="show expired silences instead of active ones"
    )


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
