"""What a silence costs, against a real Alertmanager HA pair: prints figures, asserts nothing.

- preview: the form's server-side preview (`GET /api/v2/alerts?filter=...` on every peer),
  with the demo's alerts and with 10,000 extra alerts loaded;
- save: identical-silence lookup + create + read back (silencing.write), then expire.

Run: .venv/bin/python bench/silence.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oncall_tui.cli.demo import demo_context
from oncall_tui.demo.stack import Stack, StackOptions, find_binaries
from oncall_tui.domain.silence_plan import FormInput, check
from oncall_tui.state.silences import expire, preview_alerts, write
from oncall_tui.state.wiring import build_clients
from oncall_tui.wire.alertmanager import PostableAlert


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(values) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


async def figures(stack: Stack, runs: int) -> None:
    clients = build_clients(demo_context(stack))
    filters = ['service="churn-api"']

    async def timed_preview() -> list[float]:
        out = []
        for _ in range(runs):
            started = time.perf_counter()
            found, _ = await preview_alerts(clients, filters)
            out.append(time.perf_counter() - started)
        print(f"    ({len(found)} alerts matched)")
        return out

    print(f"preview, demo alerts: {ms(await timed_preview())}")
    saves, expiries = [], []
    for i in range(runs):
        form = FormInput(
            ((True, f'bench="{i}"'),), end="1h", comment=f"bench {i}", created_by="bench"
        )
        draft = check(form, datetime.now(UTC)).drafts
        started = time.perf_counter()
        report = await write(clients, draft)
        saves.append(time.perf_counter() - started)
        assert report.ok, report.summary()
        silence = report.outcomes[0].silence
        assert silence is not None
        started = time.perf_counter()
        await expire(clients, [(report.outcomes[0].cluster, silence.id)])
        expiries.append(time.perf_counter() - started)
    print(f"save (lookup + create + read back): {ms(saves)}")
    print(f"expire (+ read back): {ms(expiries)}")

    now = datetime.now(UTC)
    load = [
        PostableAlert(
            labels={"alertname": f"Load{i % 50}", "service": f"svc-{i % 500}", "n": str(i)},
            starts_at=now,
            ends_at=now + timedelta(hours=1),
        )
        for i in range(10_000)
    ]
    for cluster in clients.clusters:
        for peer in cluster.peers:
            for chunk in range(0, len(load), 1000):
                await peer.post_alerts(load[chunk : chunk + 1000])
    print(f"preview, 10,000 more alerts on each peer: {ms(await timed_preview())}")
    await clients.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with Stack(StackOptions(alertmanager_peers=2), find_binaries()) as stack:
        stack.wait_for_firing(timeout=30, min_alerts=3)
        asyncio.run(figures(stack, args.runs))


if __name__ == "__main__":
    main()
