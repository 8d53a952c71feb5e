"""`oncall-tui handoff --since 12h [-o markdown|json]`: the shift handoff, for a chat or a file.

The same reads as the `:handoff` view (state/handoff.py), with one SLO poll of its own; the
windows not given default to the config's `handoff:` key.
Exit status: 0 when every server answered, 1 when the handoff is partial (why on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from oncall_tui.config import HandoffSettings
from oncall_tui.domain import handoff as rules
from oncall_tui.domain.sanitize import one_line
from oncall_tui.state.handoff import gather, slo_once
from oncall_tui.state.incidents import IncidentBook
from oncall_tui.state.wiring import Clients

EXIT_PARTIAL = 1


def run(clients: Clients, args: argparse.Namespace, defaults: HandoffSettings) -> int:
    async def go() -> rules.Handoff:
        try:
            slos, slo_problems = await slo_once(clients)
            return await gather(
                clients,
                since_s=args.since or defaults.since_s,
                next_shift_s=args.next or defaults.next_shift_s,
                slos=slos,
                slo_problems=slo_problems,
                incidents=IncidentBook(context=clients.context.name),
            )
        finally:
            await clients.aclose()

    found = asyncio.run(go())
    if args.output == "json":
        print(json.dumps(rules.record(found), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(rules.markdown(found), end="")
    for problem in found.problems:
        print(f"oncall-tui: {one_line(problem)}", file=sys.stderr)
    return EXIT_PARTIAL if found.problems else 0
