"""The wheel's package list in pyproject.toml is explicit (setuptools `packages`): a folder with
an `__init__.py` that is not listed is left out of the wheel, and the installed app fails on
its first import from it while the checkout runs fine. Both ways: nothing missing, nothing
listed that is gone. (pyproject.toml's comment has named this test since the list was made;
it did not exist.)"""

from __future__ import annotations

import tomllib
from pathlib import Path

from tests.helpers import ROOT


def listed() -> set[str]:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return set(setuptools["packages"])


def on_disk() -> set[str]:
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "oncall_tui").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    if (ROOT / "themes" / "__init__.py").exists():
        found.add("oncall_tui.themes")  # the top-level themes/ folder, mapped by package-dir
    return found


def test_every_package_folder_is_in_the_wheel() -> None:
    missing = on_disk() - listed()
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"


def folder(package: str) -> Path:
    if package == "oncall_tui.themes":
        return ROOT / "themes"
    return ROOT.joinpath(*package.split("."))


def test_every_listed_package_exists() -> None:
    """The demo's data folders (demo/files/...) have no `__init__.py` and are listed so that
    their files ship; a listed name must still be a folder."""
    gone = sorted(p for p in listed() if not folder(p).is_dir())
    assert not gone, f"listed in pyproject.toml but no such folder: {gone}"
    assert len(listed()) >= 15
