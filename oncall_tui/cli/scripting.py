"""`oncall-tui alerts` and `oncall-tui silences`: the board's reads, for scripts, amtool-shaped.

Matchers are read with the grammar every peer of the context's clusters reads (asked from
`/api/v2/status`, as the board does), sent to the server as `filter=` values, and the answers
of all peers are merged the way the board merges them (alerts by fingerprint, silences by ID).
Exit status: 0 when every cluster answered, 1 when one did not (its error on stderr), 2 for
a matcher the servers would refuse.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from oncall_tui.domain.matcher_grammar import FilterError, Grammar
from oncall_tui.domain.matchers import LabelMatcher, parse_matcher
from oncall_tui.domain.merge import GroupMerger, unique_alerts
from oncall_tui.domain.sanitize import one_line
from oncall_tui.domain.script_output import (
    MergedSilence,
    alert_order,
    alert_record,
    alerts_table,
    silence_order,
    silence_record,
    silences_table,
    with_alertname,
)
from oncall_tui.state.silences import every_peers_silences
from oncall_tui.state.versions import learn_grammar
from oncall_tui.state.wiring import Clients
from oncall_tui.wire import errors

EXIT_UNAVAILABLE = 1
EXIT_USAGE = 2


async def _grammar(clients: Clients) -> Grammar:
    """The grammar every reachable peer reads; a peer that does not answer counts as 0.25."""
    return await learn_grammar(clients)


def _parse(args: list[str], grammar: Grammar) -> list[LabelMatcher]:
    def one(text: str) -> LabelMatcher:
        return parse_matcher(text, grammar)

    return [one(text) for text in with_alertname(args, one)]


def _fail(problems: list[str]) -> None:
    for problem in problems:
        print(f"oncall-tui: {one_line(problem)}", file=sys.stderr)


def _too_old_for_receiver_matchers(clients: Clients) -> list[str]:
    """Peers that would ignore `receiver_matchers` (before 0.33) and answer every alert."""
    return [
        f"{cluster.name}: {peer.url} runs {peer.caps.version if peer.caps else 'an unknown version'}"
        for cluster in clients.clusters
        for peer in cluster.peers
        if not (peer.caps and peer.caps.receiver_matchers)
    ]


async def _alerts(clients: Clients, args: argparse.Namespace) -> int:
    grammar = await _grammar(clients)
    try:
        matchers = _parse(args.matchers, grammar)
        # Read as the server reads `filter=`: the same parser reads receiver_matchers.
        by_receiver = [str(parse_matcher(t, grammar)) for t in args.receiver_matcher or ()]
    except FilterError as exc:
        _fail([f"bad matcher: {exc}"])
        return EXIT_USAGE
    old = _too_old_for_receiver_matchers(clients) if by_receiver else []
    if old:
        _fail(["--receiver-matcher needs Alertmanager 0.33 or later:", *old])
        return EXIT_USAGE
    filters = [str(m) for m in matchers]
    flags = {k: bool(getattr(args, k)) for k in ("active", "silenced", "inhibited", "unprocessed")}
    if not any(flags.values()):
        flags["active"] = True  # amtool's default: only active alerts
    problems: list[str] = []
    found = []
    for cluster in clients.clusters:
        try:
            read = await cluster.alert_groups(filters, receiver_matchers=by_receiver, **flags)
        except errors.ClusterUnavailable as exc:
            problems.append(f"{cluster.name}: {exc.message}")
            continue
        problems += [f"{cluster.name}: {url}: {e.message}" for url, e in read.errors.items()]
        found += unique_alerts(GroupMerger(cluster.name).merge(read.results))
    found.sort(key=alert_order)
    if args.output == "json":
        _print_json([alert_record(a) for a in found])
    else:
        print(alerts_table(found))
    _fail(problems)
    return EXIT_UNAVAILABLE if problems else 0


async def _silences(clients: Clients, args: argparse.Namespace) -> int:
    try:
        matchers = _parse(args.matchers, await _grammar(clients))
    except FilterError as exc:
        _fail([f"bad matcher: {exc}"])
        return EXIT_USAGE
    filters = [str(m) for m in matchers]
    problems: list[str] = []
    found: list[MergedSilence] = []
    # Asked of the server from 0.34 (state filters), dropped here before.
    states = frozenset({"expired"}) if args.expired else frozenset({"active", "pending"})
    for cluster in clients.clusters:
        merged, trouble = await every_peers_silences(cluster, filters, states)
        problems += trouble
        found += merged
    found.sort(key=silence_order)
    if args.output == "json":
        _print_json([silence_record(s) for s in found])
    else:
        print(silences_table(found))
    _fail(problems)
    return EXIT_UNAVAILABLE if problems else 0


def _print_json(records: list[dict[str, Any]]) -> None:
    print(json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False))


def run(command: str, clients: Clients, args: argparse.Namespace) -> int:
    async def go() -> int:
        try:
            if command == "alerts":
                return await _alerts(clients, args)
            return await _silences(clients, args)
        finally:
            await clients.aclose()

    return asyncio.run(go())
