"""Secrets hygiene: a stored credential never shows, whatever the server does with it.

What already has its test elsewhere (SECURITY.md lists them): secrets refused in the config
file (test_config.py), a Secret hiding its value in repr/logs/traceback locals and the
plaintext keyring refused without opt-in (test_credentials.py, test_auth_cli.py), the crash
report without locals (test_app.py), TLS verification and the credential bound to its origin
with redirects not followed (test_tls_auth.py). Here: a server that echoes the request back
(Authorization header and all) in its error body, seen through the app's error messages,
tracebacks, screens and the real program's terminal bytes, command line, environment and
files; and what the app shows when TLS verification is off, or on and failing.
"""

from __future__ import annotations

import base64
import os
import sys
import traceback
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from textual.widget import Widget

from oncall_tui.api.alertmanager import AlertmanagerPeer
from oncall_tui.config import parse_settings
from oncall_tui.demo.stack import Stack
from oncall_tui.state.wiring import build_clients
from oncall_tui.ui.app import OncallApp
from oncall_tui.ui.screens.alerts import AlertsScreen
from oncall_tui.wire import errors
from tests.helpers import PASSWORD_ENV, run_cli, screen_strips, status, until, widget_strips
from tests.support import fault_proxy as fp
from tests.support.pty_capture import PtyProgram, visible_text

if TYPE_CHECKING:
    from tests.support.secure_server import SecureAlertmanager

pytestmark = pytest.mark.stack
TOKEN_ENV = "ONCALL_TEST_TOKEN"


@pytest.fixture
def echo(stack: Stack) -> Iterator[fp.FaultProxy]:
    """The real Alertmanager behind a proxy answering 401 with the request it received."""
    with fp.FaultProxy(stack.alertmanager_urls[0]) as proxy:
        proxy.set(fp.echo(401))
        yield proxy


def settings_for(url: str, auth: dict[str, str], **context: object) -> dict[str, object]:
    return {
        "current_context": "leak",
        "contexts": {"leak": {"alertmanagers": [url], "refresh": 1, "auth": auth, **context}},
    }


def all_text(app: OncallApp) -> str:
    """Everything on screen and in every widget (scrolled too), and every toast."""
    parts = [s.text for s in screen_strips(app)]
    parts += [s.text for w in app.screen.query(Widget) for s in widget_strips(w)]
    parts += [n.message for n in app._notifications]
    return "\n".join(parts)


async def failed_call(peer: AlertmanagerPeer) -> errors.ApiError:
    try:
        await peer.status()
    except errors.ApiError as exc:
        return exc
    raise AssertionError("the echoing proxy did not fail the request")


@pytest.mark.parametrize("kind", ["bearer", "basic"])
async def test_an_echoed_credential_never_shows(
    echo: fp.FaultProxy, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    secret = f"tok-{uuid.uuid4().hex}"
    monkeypatch.setenv(TOKEN_ENV, secret)
    auth = {"type": kind, "source": "env", "env": TOKEN_ENV}
    if kind == "basic":
        auth["username"] = "oncall"
    settings = parse_settings(settings_for(echo.url, auth))
    clients = build_clients(settings.context())
    assert clients.auth is not None
    header = clients.auth[1]
    forms = [secret, header, header.partition(" ")[2]]
    if kind == "basic":
        assert base64.b64decode(header.partition(" ")[2]).decode() == f"oncall:{secret}"

    # The API error: its message, repr and a traceback with every frame's locals (from the
    # frame that catches it, which holds nothing but the peer, down to where it was raised).
    failure = await failed_call(clients.clusters[0].peers[0])
    assert isinstance(failure, errors.Unauthorized)
    assert "Authorization: ***" in failure.message, "the server did echo the header"
    shown = [
        str(failure),
        repr(failure),
        "".join(traceback.TracebackException.from_exception(failure, capture_locals=True).format()),
        repr(clients),
    ]
    for form in forms:
        assert not any(form in text for text in shown), form

    # The app: status line, every widget, every toast.
    app = OncallApp(settings, clients)
    async with app.run_test(size=(250, 30)) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, AlertsScreen) and "HTTP 401" in status(app)
        )
        assert "Authorization: ***" in status(app)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: echo.seen[echo.fault.name] >= 2)
        text = all_text(app)
        for form in forms:
            assert form not in text, form


def _files_holding(secret: str, *roots: Path) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink() and secret.encode() in path.read_bytes():
                found.append(str(path))
    return found


@pytest.mark.keyring
def test_the_running_program_keeps_a_keyring_token_to_itself(
    echo: fp.FaultProxy, secret_service: dict[str, str], tmp_path: Path
) -> None:
    """From the keyring to the server and back in an echo: not on the command line, not in
    the environment, not in the terminal's bytes, not in the config or any file it wrote."""
    name = f"leak-{uuid.uuid4().hex[:8]}"
    secret = f"tok-{uuid.uuid4().hex}"
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(settings_for(echo.url, {"type": "bearer", "source": "keyring"})).replace(
            "leak", name
        )
    )
    before = config.read_bytes()
    stored = run_cli(
        "--config", str(config), "auth", "set", name, env=secret_service, stdin=secret + "\n"
    )
    assert stored.returncode == 0, stored.stderr
    assert secret not in stored.stdout + stored.stderr
    assert config.read_bytes() == before, "auth set touched the config file"

    workdir = tmp_path / "cwd"
    workdir.mkdir()
    env = {
        **secret_service,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    argv = [sys.executable, "-m", "oncall_tui", "--config", str(config)]
    with PtyProgram(argv, env=env, columns=420, rows=30, cwd=str(workdir)) as program:
        program.read_until(
            lambda out: "Authorization: ***" in visible_text(out, "replace"),
            timeout=30.0,
            what="the echoed 401 in the status line (wide enough to show it whole)",
        )
        proc = Path(f"/proc/{program.proc.pid}")
        cmdline = (proc / "cmdline").read_bytes()
        environ = (proc / "environ").read_bytes()
        program.write(b"q")
        assert program.wait_exit(timeout=15.0) == 0
        output = bytes(program.output)
    assert echo.seen[echo.fault.name] >= 1
    assert secret.encode() not in cmdline
    assert secret.encode() not in environ
    assert secret.encode() not in output and secret not in visible_text(output, "replace")
    assert config.read_bytes() == before
    # Its home, config and cache directories and its working directory: no log, no cache,
    # no history holding the token. (The keyring's own store is encrypted by gnome-keyring.)
    roots = [Path(secret_service[k]) for k in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")]
    assert _files_holding(secret, workdir, *roots) == []


def shown_in_status(app: OncallApp, text: str) -> bool:
    """`text` in the status line once the first poll has been answered (or failed)."""
    return (
        isinstance(app.screen, AlertsScreen)
        and text in status(app)
        and "loading" not in status(app)
    )


async def test_verification_is_on_by_default_and_off_is_shown(
    secure_alertmanager: SecureAlertmanager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ca_file: the server's certificate is not trusted and no credential goes out.
    insecure_skip_verify: it works, and the status line says so in every frame."""
    server = secure_alertmanager
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    auth = {"type": "basic", "username": server.username, "source": "env", "env": PASSWORD_ENV}
    client_cert = {"cert_file": str(server.cert_file), "key_file": str(server.key_file)}
    for tls, expect in (
        (client_cert, "TLS certificate not trusted"),
        ({**client_cert, "insecure_skip_verify": True}, "⚠ TLS verification is OFF"),
    ):
        settings = parse_settings(settings_for(server.url, auth, tls=tls))
        app = OncallApp(settings, build_clients(settings.context()))
        async with app.run_test(size=(250, 30)) as pilot:
            await until(pilot, partial(shown_in_status, app, expect))
            line = status(app)
            if tls.get("insecure_skip_verify"):
                assert "live" in line and "TLS verification is OFF" in line
            else:
                assert "NO DATA" in line and "TLS verification is OFF" not in line
            assert server.password not in all_text(app)
