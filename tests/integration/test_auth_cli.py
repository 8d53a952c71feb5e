"""`oncall-tui auth` as a subprocess, secret on stdin, against real keyring backends."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import new_secret

if TYPE_CHECKING:
    from tests.support.keyring_service import SecretService


BACKEND = "keyring.backends.SecretService.Keyring"
REPO = Path(__file__).resolve().parents[2]
CLEARED = (
    "DBUS_SESSION_BUS_ADDRESS",
    "PYTHON_KEYRING_BACKEND",
    "ONCALL_TUI_ALLOW_INSECURE_KEYRING",
    "ONCALL_TUI_CONFIG",
    "DISPLAY",
    "WAYLAND_DISPLAY",
)
PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
CLI = [sys.executable, "-m", "oncall_tui.cli.auth"]


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    return {**env, "PYTHONPATH": str(REPO), **extra}


def _private(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A private HOME/XDG with no D-Bus: what a headless SSH session looks like."""
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        **extra,
    }


def cli(
    *args: str, env: dict[str, str], stdin: str = "", secret: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `oncall-tui auth ARGS`; check it printed no traceback and never the secret."""
    result = subprocess.run(
        [*CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=_env(env),
        cwd=REPO,
        timeout=60,
    )
    assert "Traceback" not in result.stderr, result.stderr
    if secret is not None:
        assert secret not in result.stdout and secret not in result.stderr
    if result.returncode and "status" not in args:  # status reports on stdout
        lines = result.stderr.strip().splitlines()
        assert lines and "error" not in " ".join(lines[:-1]), "errors are one line"
    return result


def _context() -> str:
    return f"ctx-{uuid.uuid4().hex[:10]}"


@pytest.mark.keyring
def test_set_get_delete_status(secret_service: dict[str, str]) -> None:
    env, context, secret = secret_service, _context(), new_secret()
    where = f"{BACKEND} under oncall-tui/{context}"

    result = cli("auth", "get", context, env=env)
    assert result.returncode == 1 and f"oncall-tui auth set {context}" in result.stderr

    result = cli("auth", "set", context, env=env, stdin=secret + "\n", secret=secret)
    assert result.returncode == 0, result.stderr
    assert f"stored in {where}" in result.stdout

    result = cli("auth", "get", context, env=env, secret=secret)
    assert result.returncode == 0 and result.stdout.strip() == f"stored in {where}"

    result = cli("auth", "status", env=env)
    assert result.returncode == 0
    assert f"backend: {BACKEND}" in result.stdout and "secure: yes" in result.stdout

    result = cli("auth", "delete", context, env=env, secret=secret)
    assert result.returncode == 0 and context in result.stdout
    result = cli("auth", "delete", context, env=env)
    assert result.returncode == 1 and "nothing stored" in result.stderr
    assert cli("auth", "get", context, env=env).returncode == 1


@pytest.mark.keyring
def test_set_stores_the_exact_line_under_the_configured_key(
    secret_service: dict[str, str], tmp_path: Path
) -> None:
    key, secret = f"team-{uuid.uuid4().hex[:8]}", " with spaces " + new_secret()
    config = tmp_path / "config.yaml"
    config.write_text(
        "contexts:\n"
        "  prod:\n"
        "    alertmanagers: [http://127.0.0.1:9093]\n"
        f"    auth: {{type: bearer, keyring_key: {key}}}\n"
    )
    args = ("--config", str(config), "auth")
    result = cli(*args, "set", "prod", env=secret_service, stdin=secret + "\r\nignored\n")
    assert result.returncode == 0 and f"oncall-tui/{key}" in result.stdout
    result = cli(*args, "get", "prod", env=secret_service)
    assert result.returncode == 0 and f"oncall-tui/{key}" in result.stdout
    # Read it back with keyring itself, in another process, from the real Secret Service.
    code = f"import keyring; print(repr(keyring.get_password('oncall-tui', {key!r})))"
    read = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(secret_service)
    )
    assert read.stdout.strip() == repr(secret)
    assert cli(*args, "delete", "prod", env=secret_service).returncode == 0


@pytest.mark.keyring
def test_set_refuses_an_empty_secret(secret_service: dict[str, str]) -> None:
    context = _context()
    for stdin in ("", "\n", "   \n"):
        result = cli("auth", "set", context, env=secret_service, stdin=stdin)
        assert result.returncode == 1 and "empty secret" in result.stderr
    assert cli("auth", "get", context, env=secret_service).returncode == 1


@pytest.mark.keyring
@pytest.mark.timeout(60)
def test_set_prompts_with_hidden_input_on_a_terminal(secret_service: dict[str, str]) -> None:
    context, secret = _context(), new_secret()
    pid, fd = pty.fork()
    if pid == 0:  # child: the pty is its controlling terminal, so getpass uses it
        os.execve(sys.executable, [*CLI, "auth", "set", context], _env(secret_service))
    output = b""
    deadline = time.monotonic() + 30
    sent = False
    while True:
        assert time.monotonic() < deadline, output
        if not sent and b"input hidden" in output:
            os.write(fd, secret.encode() + b"\n")
            sent = True
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "stored in" in text and secret not in text  # the terminal did not echo it
    assert cli("auth", "delete", context, env=secret_service).returncode == 0


@pytest.mark.keyring
@pytest.mark.timeout(60)
def test_locked_keyring_is_reported_not_hung(locked_secret_service: SecretService) -> None:
    started = time.monotonic()
    result = cli("auth", "get", "prod", env=locked_secret_service.env)
    assert time.monotonic() - started < 10
    assert result.returncode == 1 and "locked" in result.stderr


def test_plaintext_backend_refused_then_opted_in(tmp_path: Path) -> None:
    env = _private(tmp_path, PYTHON_KEYRING_BACKEND=PLAINTEXT)
    context, secret = _context(), new_secret()
    plain_file = tmp_path / "data" / "python_keyring" / "keyring_pass.cfg"

    result = cli("auth", "set", context, env=env, stdin=secret + "\n", secret=secret)
    assert result.returncode == 1
    assert f"refusing to use keyring backend {PLAINTEXT}" in result.stderr
    assert "--allow-insecure-keyring" in result.stderr
    assert not plain_file.exists()
    result = cli("auth", "status", env=env)
    assert result.returncode == 1 and "secure: no" in result.stdout and PLAINTEXT in result.stdout

    result = cli(
        "auth", "set", context, "--allow-insecure-keyring", env=env, stdin=secret, secret=secret
    )
    assert result.returncode == 0 and "warning" in result.stderr and plain_file.exists()
    assert cli("auth", "get", context, env=env).returncode == 1  # reading is refused too
    opted_in = {**env, "ONCALL_TUI_ALLOW_INSECURE_KEYRING": "1"}
    assert cli("auth", "get", context, env=opted_in, secret=secret).returncode == 0
    assert cli("auth", "status", env=opted_in).returncode == 0

    config = tmp_path / "config.yaml"
    config.write_text("allow_insecure_keyring: true\n")
    result = cli("--config", str(config), "auth", "delete", context, env=env)
    assert result.returncode == 0


def test_plaintext_default_without_dbus_is_reported(tmp_path: Path) -> None:
    """No D-Bus, no PYTHON_KEYRING_BACKEND: keyrings.alt silently became the default."""
    result = cli("auth", "status", env=_private(tmp_path))
    assert result.returncode == 1
    assert f"backend: {PLAINTEXT}" in result.stdout and "secure: no" in result.stdout


def test_no_dbus_no_keyring(tmp_path: Path) -> None:
    env = _private(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    result = cli("auth", "status", env=env)
    assert result.returncode == 1 and "there is no keyring" in result.stdout
    secret = new_secret()
    result = cli(
        "auth", "set", "prod", "--allow-insecure-keyring", env=env, stdin=secret, secret=secret
    )
    assert result.returncode == 1
    assert "there is no keyring" in result.stderr and "auth.source: env" in result.stderr


def test_secret_service_requested_without_dbus(tmp_path: Path) -> None:
    env = _private(tmp_path, PYTHON_KEYRING_BACKEND=BACKEND)
    result = cli("auth", "get", "prod", env=env)
    assert result.returncode == 1 and "could not start" in result.stderr
    assert cli("auth", "status", env=env).returncode == 1


@pytest.mark.keyring
def test_set_works_when_the_config_holds_a_secret(
    secret_service: dict[str, str], tmp_path: Path
) -> None:
    """The config error says to run `auth set`: that must not fail on the same config."""
    config = tmp_path / "config.yaml"
    config.write_text("contexts:\n  prod:\n    token: abc\n")
    args = ("--config", str(config), "auth")
    context, secret = _context(), new_secret()
    result = cli(*args, "set", context, env=secret_service, stdin=secret, secret=secret)
    assert result.returncode == 0 and "config not loaded" in result.stderr
    assert "abc" not in result.stderr
    assert cli(*args, "delete", context, env=secret_service).returncode == 0
