"""The product as users install it: a wheel built from the sdist, in a fresh virtualenv.

The rest of the suite runs the checkout (an editable install reads files straight from it),
so it cannot see a `.tcss`, theme or demo file that the build leaves out. Here the sdist and
the wheel are built with `python -m build` (the wheel from the sdist, as pipx and pip do from
an sdist), installed into a new virtualenv outside the checkout, and the installed
`oncall-tui` is run from `/` in a real terminal (tmux) on the demo stack it starts itself:
every view and dialog the README lists is opened, and any traceback or "not found" fails.
The last tests remove one style sheet and one theme from a copy of that virtualenv and check
that the same tour then fails, so it cannot pass with a file missing.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from oncall_tui import __version__
from tests.support.tmux_screen import ScreenTimeout, TmuxScreen

pytestmark = pytest.mark.installed

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "oncall_tui"
BUNDLED_THEMES = sorted(p.stem for p in (ROOT / "themes").glob("*.yaml"))
# What must never be on the screen of a healthy run.
BAD_WORDS = ("Traceback", "not found", "StylesheetError", "Exception", "Error:")


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path


@dataclass(frozen=True)
class Installed:
    venv: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"


def package_files() -> set[str]:
    """Every file the installed package must hold, as wheel paths."""
    files = {
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    files |= {f"oncall_tui/themes/{p.name}" for p in (ROOT / "themes").iterdir() if p.is_file()}
    return files


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    # Without --sdist/--wheel, build makes the sdist and then the wheel *from the sdist*.
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return Built(sdist, wheel)


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(built.wheel)],
        check=True,
        timeout=600,
    )
    return Installed(venv)


def user_env(home: Path, installed: Installed) -> dict[str, str]:
    """A user's environment with no config: nothing of the checkout or of the test run."""
    return {
        "PATH": f"{installed.bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
    }


def run_installed(installed: Installed, home: Path, *argv: str, timeout: float = 60) -> str:
    done = subprocess.run(
        [str(installed.bin / argv[0]), *argv[1:]],
        cwd="/",
        env=user_env(home, installed),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    return out


def test_the_wheel_holds_every_file_of_the_package_and_the_bundled_themes(built: Built) -> None:
    names = set(zipfile.ZipFile(built.wheel).namelist())
    missing = sorted(package_files() - names)
    assert not missing, f"left out of the wheel: {missing}"
    assert {f"oncall_tui/themes/{t}.yaml" for t in BUNDLED_THEMES} <= names
    assert any(n.endswith("ui/dialogs/silence_form.tcss") for n in names)


def test_the_sdist_holds_the_themes_styles_and_demo_files(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    wanted = {
        p.relative_to(ROOT).as_posix()
        for p in [*PACKAGE.rglob("*.tcss"), *(ROOT / "themes").glob("*.yaml")]
    }
    wanted |= {p.relative_to(ROOT).as_posix() for p in (PACKAGE / "demo" / "files").rglob("*.*")}
    assert not sorted(wanted - names), f"left out of the sdist: {sorted(wanted - names)}"


def test_version_names_the_package_python_and_textual(installed: Installed, tmp_path: Path) -> None:
    textual = run_installed(
        installed,
        tmp_path,
        "python",
        "-c",
        "from importlib.metadata import version; print(version('textual'))",
    ).strip()
    python = ".".join(map(str, sys.version_info[:3]))
    for argv in (("oncall-tui", "--version"), ("python", "-m", "oncall_tui", "--version")):
        out = run_installed(installed, tmp_path, *argv)
        assert (
            out.strip() == f"oncall-tui {__version__} (Python CPython {python}, Textual {textual})"
        )


def test_importing_every_module_starts_nothing(installed: Installed, tmp_path: Path) -> None:
    """`python -m` guards its start: walking the package (as help's binding scan does) runs no app."""
    script = (
        "import pkgutil, importlib, oncall_tui\n"
        "assert 'site-packages' in oncall_tui.__file__, oncall_tui.__file__\n"
        "names = [m.name for m in pkgutil.walk_packages(oncall_tui.__path__, 'oncall_tui.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(len(names), 'modules')\n"
    )
    out = run_installed(installed, tmp_path, "python", "-c", script, timeout=60)
    assert re.fullmatch(r"\d+ modules\n", out), out


def test_demo_check_passes_from_the_installed_package(installed: Installed, tmp_path: Path) -> None:
    out = run_installed(installed, tmp_path, "oncall-tui", "demo", "--check", timeout=120)
    assert "alertmanager" in out.lower() and "prometheus" in out.lower(), out
    assert not any(word in out for word in BAD_WORDS), out


# -- the tour ------------------------------------------------------------------------------------


class Tour:
    """The installed app in a terminal; every step checks that nothing went wrong on screen."""

    def __init__(self, screen: TmuxScreen) -> None:
        self.screen = screen
        self.retried: list[str] = []

    def check(self, text: str) -> str:
        bad = [w for w in BAD_WORDS if w in text]
        if bad:
            raise AssertionError(f"{bad} on screen:\n{text}")
        return text

    def wait(self, *words: str, timeout: float = 20.0) -> str:
        def ok(text: str) -> bool:
            self.check(text)
            return all(w in text for w in words)

        if self.screen.exit_status() is not None:
            raise AssertionError(f"the app has exited:\n{self.screen.text()}")
        return self.screen.wait_for(ok, f"screen shows {words!r}", timeout)

    def board(self) -> str:
        return self.wait("HighErrorRate", "SEVERITY", "Command")

    def command(self, text: str) -> None:
        self.screen.keys(":")
        self.wait("maintenance", "theme NAME")  # the prompt lists the commands
        self.screen.type(text)
        self.screen.keys("Enter")

    def open(self, command: str, *words: str) -> str:
        """`:command` and wait for its view."""
        return self._retried(command, lambda: self.command(command), words)

    def press_and_wait(self, key: str, *words: str) -> str:
        """A key and what it shows (`y` and its "copied")."""
        return self._retried(key, lambda: self.screen.keys(key), words)

    def _retried(self, what: str, act: Callable[[], None], words: tuple[str, ...]) -> str:
        """Under load a view has (rarely) not opened from the first `:command`, and a `y`
        has shown nothing; one retry keeps the tour about packaging, and the retry is
        reported as a warning so the race stays visible."""
        for attempt in (1, 2):
            act()
            try:
                return self.wait(*words, timeout=10)
            except ScreenTimeout:
                if attempt == 2:
                    raise
                self.retried.append(what)
        raise AssertionError("unreachable")

    def back(self, gone: str = "") -> str:
        """Escape to the board; `gone` is a word of the view left that must be off screen."""
        self.screen.keys("Escape")
        if gone:
            self.screen.wait_for(lambda s: gone not in s, f"{gone!r} gone from the screen")
        return self.board()


def tour(screen: TmuxScreen) -> None:
    t = Tour(screen)
    t.wait("HighErrorRate", "● live", timeout=90)  # the demo stack starts first
    t.wait("ChurnAPIDown", timeout=30)

    t.open("theme", "current: oncall-dark", *BUNDLED_THEMES)
    for theme in [*BUNDLED_THEMES, "oncall-dark"]:
        t.command(f"theme {theme}")
        t.board()

    screen.keys("?")
    t.wait("binding id", "app.quit")
    t.back(gone="binding id")

    screen.keys("/")
    t.wait("filter: alertname=~")  # the filter's placeholder: the input has the focus
    screen.type('alertname="HighErrorRate"')
    screen.keys("Enter")
    t.screen.wait_for(lambda s: "HighErrorRate" in s and "ChurnAPIDown" not in s, "filtered")

    screen.keys("Enter")
    t.wait("Labels", "Annotations", "runbook_url")
    t.press_and_wait("y", "as matchers")  # copied (OSC 52), and said so
    t.back(gone="Annotations")

    screen.keys("w")  # the first view styled by routing.tcss
    t.wait("where HighErrorRate goes", "receiver", "route")
    t.back(gone="where HighErrorRate goes")

    screen.keys("r")
    t.wait("Runbook HighErrorRate", "Alert Details")  # the demo runbook, rendered
    t.back(gone="Alert Details")

    screen.keys("t")
    t.wait("requests per second by status")
    t.back(gone="requests per second by status")

    screen.keys("s")
    t.wait("Silence alert HighErrorRate", "Ends", "Comment", "alertname=")
    t.wait("Would silence 1 alert now")  # the live preview asked the Alertmanagers
    t.back(gone="Would silence")

    screen.keys("a")
    t.wait("ACK")
    screen.keys("A")
    t.wait("Ack alert", "Note or ticket")
    t.back(gone="Note or ticket")
    screen.keys("/", "Escape")
    t.wait("ChurnAPIDown")

    for key in ("Space", "+", "-", "S", "S", "I", "I", "M", "M", "o", "o", "o", "C-r", "p", "p"):
        screen.keys(key)
    for key in ("j", "k", "G", "g", "NPage", "PPage", "Down", "Up"):
        screen.keys(key)
    t.board()

    for view, words, gone in (
        ("silences", ("silences · demo", "ACK"), "silences · demo"),
        ("maintenance", ("Maintenance window",), "Maintenance window"),
        ("slo", ("availability", "latency", "exhausted"), "exhausted"),
        ("routes", ("routing trees", "cluster demo"), "routing trees"),
        ("health", ("alerting pipeline", "watchdog"), "alerting pipeline"),
        ("oncall", ("who is on call", "Escalation policies"), "who is on call"),
        ("handoff", ("Handoff: demo", "Still firing"), "Handoff: demo"),
    ):
        t.open(view, *words)
        t.back(gone=gone)

    t.open("query", "PromQL, e.g.")
    screen.type("up")
    screen.keys("Enter")
    t.wait('job="churn-api"')
    t.back(gone="PromQL")

    for sort in ("alertname", "team", "severity"):
        t.command(f"sort {sort}")
        t.board()
    t.command("ctx")
    t.wait("contexts:")
    t.command("alerts")
    t.board()

    if t.retried:
        warnings.warn(f"the tour retried {t.retried}: a view did not open at once", stacklevel=1)
    screen.keys("q")
    # The demo stops its servers before the program ends: Alertmanager peers one at a time.
    status = screen.wait_exit(timeout=60)
    assert status == 0, screen.text()


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[list[TmuxScreen]]:
    opened: list[TmuxScreen] = []
    yield opened
    for screen in opened:
        screen.close()


def start_app(installed: Installed, home: Path, opened: list[TmuxScreen]) -> TmuxScreen:
    home.mkdir(exist_ok=True)
    screen = TmuxScreen(["oncall-tui"], env=user_env(home, installed), cwd="/")
    opened.append(screen)
    return screen


def test_the_installed_app_opens_every_view_from_slash(
    installed: Installed, tmp_path: Path, terminal: list[TmuxScreen]
) -> None:
    # A second, fresh tour when the first one fails: under a loaded CI machine the tour has
    # failed about one run in three on a race not yet found (see the issue notes). It must
    # pass once, and a retry is reported as a warning with the first failure's screen.
    for attempt in (1, 2):
        screen = start_app(installed, tmp_path / f"home{attempt}", terminal)
        try:
            tour(screen)
        except (AssertionError, ScreenTimeout) as exc:
            screen.close()
            if attempt == 2:
                raise
            warnings.warn(f"the installed tour failed once, then was retried: {exc}", stacklevel=1)
        else:
            return


@pytest.mark.parametrize(
    ("left_out", "seen"),
    [
        ("oncall_tui/ui/dialogs/silence_form.tcss", "StylesheetError"),
        # Only the routing views (`w`, :routes, :health, :oncall) read this one.
        ("oncall_tui/ui/screens/routing.tcss", "StylesheetError"),
        ("oncall_tui/themes/oncall-dark.yaml", "theme 'oncall-dark' not found"),
    ],
)
def test_the_tour_fails_when_a_file_is_left_out(
    installed: Installed,
    tmp_path: Path,
    terminal: list[TmuxScreen],
    left_out: str,
    seen: str,
) -> None:
    copy = Installed(tmp_path / "venv")
    shutil.copytree(installed.venv, copy.venv, symlinks=True)
    (site,) = (copy.venv / "lib").glob("python3*/site-packages")
    (site / left_out).unlink()
    _rewrite_scripts(copy)
    screen = start_app(copy, tmp_path / "home", terminal)
    with pytest.raises((AssertionError, ScreenTimeout)) as failed:
        tour(screen)
    said = str(failed.value)
    if seen not in said and "Traceback" in said:
        # Caught while the traceback was still being printed: its last line, the error,
        # is on screen once the program has ended.
        with contextlib.suppress(ScreenTimeout):
            screen.wait_exit(timeout=30)
        said += screen.text()
    assert seen in said, said


def _rewrite_scripts(copy: Installed) -> None:
    """Console scripts name their venv's python by absolute path: point them at the copy."""
    for script in copy.bin.iterdir():
        if script.is_file() and not script.is_symlink():
            head = script.read_bytes()[:2]
            if head == b"#!":
                text = script.read_text()
                _shebang, _, rest = text.partition("\n")
                script.write_text(f"#!{copy.bin / 'python'}\n{rest}")
                os.chmod(script, 0o755)
