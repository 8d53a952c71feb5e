"""api/, domain/, wire/ and state/ are reachable without the TUI: importing them loads no
Textual or Rich, and domain/ and wire/ load no HTTP library. The import-linter contracts in
pyproject.toml (run by `make lint`) hold the same rules over the import graph; this proves
them on what really gets imported."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import oncall_tui

HEADLESS = ("oncall_tui.api", "oncall_tui.domain", "oncall_tui.wire", "oncall_tui.state")


def headless_modules(packages: tuple[str, ...] = HEADLESS) -> list[str]:
    root = Path(oncall_tui.__file__).parent
    names = []
    for package in packages:
        names.append(package)
        folder = root / package.split(".", 1)[1]
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(folder)])]
    return names


def test_api_and_domain_import_neither_textual_nor_rich() -> None:
    modules = headless_modules()
    assert len(modules) >= 8
    code = (
        "import importlib, sys\n"
        # httpx loads its command line (and with it Rich) when click is installed, as the dev
        # tools' import-linter brings it; a user's install has no click. Keep that out.
        "sys.modules['httpx._main'] = None\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"UI libraries imported: {done.stdout}"


def test_domain_and_wire_load_no_http_library() -> None:
    modules = headless_modules(("oncall_tui.domain", "oncall_tui.wire"))
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore')"
        " or m.startswith('oncall_tui.api'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"HTTP client imported: {done.stdout}"


def test_the_first_screen_loads_no_http_client_library() -> None:
    """httpx, httpcore, h11 and anyio are 120-190 ms of CPU to import: the first poll is
    answered by the early requests (standard library), so the modules up to the first
    board must not import them; the first client does (api/transport.py)."""
    code = (
        "import sys\n"
        "import oncall_tui.cli.main, oncall_tui.state.alerts, oncall_tui.state.wiring\n"
        "import oncall_tui.state.context, oncall_tui.ui.app\n"
        "bad = sorted(m for m, module in sys.modules.items() if module is not None and "
        "m.split('.')[0] in ('httpx', 'httpcore', 'h11', 'anyio'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"HTTP client imported: {done.stdout}"
