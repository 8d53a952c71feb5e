"""Prints how long decoding 10,000 alerts takes: msgspec structs vs json into dicts.

A benchmark prints figures; it asserts nothing (timings flake on a busy machine).
Run: .venv/bin/python bench/decode.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.alerts_json import alert_groups_body
from oncall_tui.api.decoding import decode
from oncall_tui.domain.merge import merge_groups
from oncall_tui.wire.alertmanager import AlertGroup


def timed(label: str, call, repeat: int = 15) -> None:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    print(f"{label:<44} median {statistics.median(times):7.1f} ms   min {min(times):7.1f} ms")


def main() -> None:
    body = alert_groups_body()
    print(f"body: {len(body) / 1e6:.1f} MB, 10,000 alerts in {10_000 // 20} groups")
    timed("json.loads (dicts, no models)", lambda: json.loads(body))
    timed("msgspec -> list[AlertGroup] (typed models)", lambda: decode("x", body, list[AlertGroup]))
    import asyncio

    from oncall_tui.api.decoding import GroupDecoder

    cold = GroupDecoder()
    timed(
        "GroupDecoder, first poll (all groups new)",
        lambda: asyncio.run(GroupDecoder().decode("x", body)),
    )
    asyncio.run(cold.decode("x", body))
    timed("GroupDecoder, next poll (nothing changed)", lambda: asyncio.run(cold.decode("x", body)))
    groups = decode("x", body, list[AlertGroup])
    timed(
        "merge_groups, two peers with the same alerts",
        lambda: merge_groups("c", {"a": groups, "b": groups}),
    )


if __name__ == "__main__":
    main()
