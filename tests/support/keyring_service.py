"""A real Secret Service for tests: gnome-keyring-daemon on a private D-Bus session bus.

`secret_service` (session-scoped) yields the env vars that point a process at it. Everything
lives in a temp dir (HOME, XDG_*), so the user's own keyrings are never touched. The bus
config has no service directories: D-Bus activation cannot spawn extra daemons or prompters
we did not start, and teardown stops exactly the two PIDs started here.

Load it with `pytest_plugins = ["tests.support.keyring_service"]` in conftest.py, or import the
fixture into a test module.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.demo.procs import stop_child

INSTALL_HINT = "apt-get install gnome-keyring dbus dbus-x11"
BACKEND = "keyring.backends.SecretService.Keyring"
START_DEADLINE = 15.0
STOP_DEADLINE = 5.0

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={socket_dir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker when loaded as a plugin (pyproject.toml registers it too)."""
    config.addinivalue_line(
        "markers", "keyring: needs a real Secret Service (gnome-keyring under a private D-Bus)"
    )


def _binaries() -> tuple[str, str]:
    found = {name: shutil.which(name) for name in ("dbus-daemon", "gnome-keyring-daemon")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the keyring tests need a real Secret Service. "
            f"Install it with `{INSTALL_HINT}`",
            pytrace=False,
        )
    return found["dbus-daemon"] or "", found["gnome-keyring-daemon"] or ""


def _read_line(proc: subprocess.Popen[bytes], deadline: float) -> str:
    """The first line a child prints on stdout, waiting no later than `deadline`."""
    assert proc.stdout is not None
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("dbus-daemon printed no address in time")
            if selector.select(remaining):
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError(f"dbus-daemon exited with code {proc.wait()}")
                buffer += chunk
    return buffer.split(b"\n", 1)[0].decode()


@dataclass
class SecretService:
    """One private dbus-daemon + gnome-keyring-daemon pair and the env pointing at them."""

    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: dict[int, Path] = field(default_factory=dict)
    started_in: float = 0.0
    sockets: Path | None = None

    def stop(self) -> None:
        """Stop exactly the processes started here, newest first."""
        for proc in reversed(self.processes):
            stop_child(proc, STOP_DEADLINE)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
        self.processes.clear()
        if self.sockets is not None:
            shutil.rmtree(self.sockets, ignore_errors=True)

    def connection(self) -> Any:
        """A jeepney blocking connection to this bus (close it after use)."""
        from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

        return open_dbus_connection(bus=self.env["DBUS_SESSION_BUS_ADDRESS"])

    def lock(self) -> None:
        """Lock the default collection, as a screen lock or timeout would."""
        import secretstorage

        with self.connection() as conn:
            secretstorage.get_default_collection(conn).lock()


def _wait_until_unlocked(service: SecretService, deadline: float) -> None:
    """Poll until the Secret Service owns its name and its default collection is unlocked."""
    import secretstorage
    from jeepney.wrappers import DBusErrorResponse  # type: ignore[import-untyped]

    last: Exception | None = None
    while time.monotonic() < deadline:
        for proc in service.processes:
            if proc.poll() is not None:
                log = service.logs[proc.pid]
                err = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{log.stem} exited with {proc.returncode}: {err}")
        try:
            with service.connection() as conn:
                if secretstorage.check_service_availability(conn):
                    collection = secretstorage.get_default_collection(conn)
                    if not collection.is_locked():
                        return
        except (secretstorage.SecretStorageException, DBusErrorResponse, OSError) as exc:
            last = exc
        time.sleep(0.01)  # poll interval, bounded by the deadline above
    raise TimeoutError(f"the Secret Service did not come up unlocked in time (last: {last!r})")


def _spawn(
    service: SecretService, argv: list[str], env: dict[str, str], *, stdin: int, stdout: int
) -> subprocess.Popen[bytes]:
    """Start one daemon with its stderr in a log file next to its data; remember its PID."""
    log = Path(service.env["HOME"]).parent / f"{Path(argv[0]).name}.log"
    with log.open("wb") as stderr:
        proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, env=env)
    service.processes.append(proc)
    service.logs[proc.pid] = log
    return proc


def start_secret_service(base: Path, password: str = "test-password") -> SecretService:
    """Start dbus-daemon and an unlocked gnome-keyring-daemon under `base`; wait until ready."""
    dbus_daemon, keyring_daemon = _binaries()
    started = time.monotonic()
    deadline = started + START_DEADLINE
    # The sockets live under a short path of their own: a Unix socket's path has at most 107
    # bytes, and under pytest-xdist `base` is long enough that dbus-daemon failed to listen.
    sockets = Path(tempfile.mkdtemp(prefix="okr-"))
    dirs = {name: base / name for name in ("home", "data", "config", "cache")}
    dirs |= {name: sockets / name for name in ("runtime", "bus")}
    for path in dirs.values():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    config = base / "session.conf"
    config.write_text(_BUS_CONFIG.format(socket_dir=dirs["bus"]))
    env = {
        "HOME": str(dirs["home"]),
        "XDG_DATA_HOME": str(dirs["data"]),
        "XDG_CONFIG_HOME": str(dirs["config"]),
        "XDG_CACHE_HOME": str(dirs["cache"]),
        "XDG_RUNTIME_DIR": str(dirs["runtime"]),
        "PYTHON_KEYRING_BACKEND": BACKEND,
    }
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **env}
    service = SecretService(env=env, sockets=sockets)
    try:
        bus = _spawn(
            service,
            [dbus_daemon, f"--config-file={config}", "--nofork", "--print-address=1"],
            base_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
        )
        env["DBUS_SESSION_BUS_ADDRESS"] = _read_line(bus, deadline)
        keyring = _spawn(
            service,
            [keyring_daemon, "--foreground", "--unlock", "--components=secrets"],
            {**base_env, "DBUS_SESSION_BUS_ADDRESS": env["DBUS_SESSION_BUS_ADDRESS"]},
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )
        assert keyring.stdin is not None
        keyring.stdin.write(password.encode())
        keyring.stdin.close()  # --unlock reads the password up to EOF
        _wait_until_unlocked(service, deadline)
    except BaseException:
        service.stop()
        raise
    service.started_in = time.monotonic() - started
    return service


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Env vars for a real, unlocked Secret Service private to this test session."""
    service = start_secret_service(tmp_path_factory.mktemp("secret-service"))
    try:
        yield dict(service.env)
    finally:
        service.stop()


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[[], SecretService]]:
    """Start extra private Secret Services on demand; all are stopped after the test."""
    started: list[SecretService] = []

    def start() -> SecretService:
        started.append(start_secret_service(tmp_path / f"secret-service-{len(started)}"))
        return started[-1]

    try:
        yield start
    finally:
        for service in started:
            service.stop()


@pytest.fixture
def locked_secret_service(start_service: Callable[[], SecretService]) -> SecretService:
    """A second, private Secret Service whose default collection is locked."""
    service = start_service()
    service.lock()
    return service
