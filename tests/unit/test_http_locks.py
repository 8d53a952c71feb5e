"""httpcore asks which event loop runs for every lock it takes (a few each request), through
sniffio. Without sniffio installed, each ask was an import that failed after a stat of every
sys.path entry (1.3 ms of CPU a request here, 0.9 ms with it): sniffio is a dependency."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import asyncio, sys
from httpcore._synchronization import AsyncLock

tried = []

async def main():
    async with AsyncLock():  # the first may import what it needs
        pass
    sys.addaudithook(lambda event, args: tried.append(args[0]) if event == "import" else None)
    for _ in range(5):
        async with AsyncLock():
            pass

asyncio.run(main())
print(",".join(tried))
"""


def test_a_lock_taken_under_asyncio_imports_nothing() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "", f"imports tried per lock: {out.stdout.strip()}"
