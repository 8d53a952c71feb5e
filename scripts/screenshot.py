"""Save SVG screenshots of the app on the demo stack into docs/, for the README.

Run: .venv/bin/python scripts/screenshot.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oncall_tui.config import Settings  # noqa: E402
from oncall_tui.demo.stack import Stack  # noqa: E402
from oncall_tui.demo_cli import demo_context  # noqa: E402
from oncall_tui.factory import build_clients  # noqa: E402
from oncall_tui.ui.app import OncallApp  # noqa: E402
from oncall_tui.ui.screens.alerts import AlertsScreen  # noqa: E402


async def shoot(stack: Stack, out: Path, size: tuple[int, int]) -> None:
    app = OncallApp(Settings(), build_clients(demo_context(stack)))
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            screen = app.screen
            if isinstance(screen, AlertsScreen) and {"pending", "inhibited"} <= {r.state for r in screen.rows}:
                break
            await pilot.pause(0.2)
        app.save_screenshot(filename=out.name, path=str(out.parent))
    print(f"saved {out}")


def main() -> None:
    with Stack() as stack:
        stack.wait_for_firing(30)
        asyncio.run(shoot(stack, ROOT / "docs" / "alerts.svg", (120, 24)))


if __name__ == "__main__":
    main()
