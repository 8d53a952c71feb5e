"""api/ and domain/ are reachable without the TUI: importing them loads no Textual or Rich."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import oncall_tui

HEADLESS = ("oncall_tui.api", "oncall_tui.domain")


def headless_modules() -> list[str]:
    root = Path(oncall_tui.__file__).parent
    names = []
    for package in HEADLESS:
        names.append(package)
        folder = root / package.split(".", 1)[1]
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(folder)])]
    return names


def test_api_and_domain_import_neither_textual_nor_rich() -> None:
    modules = headless_modules()
    assert len(modules) >= 8
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"UI libraries imported: {done.stdout}"
