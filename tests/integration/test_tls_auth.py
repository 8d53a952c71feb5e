"""TLS, mTLS and credentials against a REAL Alertmanager (tests/support/secure_server.py), no mocks.

Most tests run `oncall-tui check-config` as a user does, in a subprocess with no ONCALL_TUI_*
variables; the credential-scoping tests use `build_clients` and the real httpx client.
Every CLI run is checked for tracebacks and for the secret leaking into its output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml

from oncall_tui.config import Context, parse_settings
from oncall_tui.state.wiring import build_clients
from oncall_tui.wire import errors
from tests.helpers import PASSWORD_ENV, run_cli

if TYPE_CHECKING:  # loaded by conftest's pytest_plugins, so that pytest rewrites its asserts
    from tests.support.secure_server import SecureAlertmanager

pytestmark = pytest.mark.stack
SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"


def write_config(
    path: Path,
    name: str,
    server: SecureAlertmanager,
    *,
    tls: dict[str, Any] | None = None,
    auth: dict[str, Any] | None = None,
) -> Path:
    """A config with one context `name` pointing at the secured server."""
    if tls is None:
        tls = {
            "ca_file": str(server.ca_file),
            "cert_file": str(server.cert_file),
            "key_file": str(server.key_file),
        }
    if auth is None:
        auth = {"type": "basic", "username": server.username, "source": "env", "env": PASSWORD_ENV}
    context: dict[str, Any] = {"alertmanagers": [server.url], "tls": tls, "auth": auth}
    path.write_text(yaml.safe_dump({"current_context": name, "contexts": {name: context}}))
    return path


def check_config(
    config: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`oncall-tui --config CONFIG check-config`, as a user runs it."""
    return run_cli("--config", str(config), "check-config", env=env)


def server_line(done: subprocess.CompletedProcess[str], server: SecureAlertmanager) -> str:
    """The one check-config line about the secured server."""
    lines = [line for line in done.stdout.splitlines() if server.url in line]
    assert len(lines) == 1, done.stdout + done.stderr
    context, line = lines[0].split(None, 1)  # each line starts with the context it is about
    assert context.startswith("secure"), lines[0]
    return line


def assert_not_printed(done: subprocess.CompletedProcess[str], *secrets: str) -> None:
    """No secret in stdout or stderr, not even inside an error message."""
    for secret in secrets:
        assert secret not in done.stdout and secret not in done.stderr


def test_ca_client_cert_and_basic_auth_from_env(
    secure_alertmanager: SecureAlertmanager, tmp_path: Path
) -> None:
    server = secure_alertmanager
    config = write_config(tmp_path / "config.yaml", "secure", server)
    done = check_config(config, {PASSWORD_ENV: server.password})
    assert done.returncode == 0, done.stdout + done.stderr
    line = server_line(done, server)
    assert line.split()[:3] == ["ok", "alertmanager", "secure"]
    assert "version 0.25" in line and "not clustered" in line and line.endswith("auth ok")
    assert done.stdout.splitlines()[-1] == "all servers answered"
    assert "warning" not in done.stdout
    assert_not_printed(done, server.password)


def test_wrong_password_is_rejected_by_the_server(
    secure_alertmanager: SecureAlertmanager, tmp_path: Path
) -> None:
    server = secure_alertmanager
    wrong = f"wrong-{uuid.uuid4().hex}"
    config = write_config(tmp_path / "config.yaml", "secure", server)
    done = check_config(config, {PASSWORD_ENV: wrong})
    assert done.returncode == 1
    line = server_line(done, server)
    assert line.split()[0] == "FAILED"
    assert "auth REJECTED (HTTP 401: Unauthorized)" in line  # exporter-toolkit's own 401 body
    assert done.stdout.splitlines()[-1] == "some servers FAILED (in secure)"
    assert_not_printed(done, wrong, server.password)


@pytest.mark.keyring
def test_secret_from_the_real_keyring(
    secure_alertmanager: SecureAlertmanager, secret_service: dict[str, str], tmp_path: Path
) -> None:
    server = secure_alertmanager
    name = f"secure-{uuid.uuid4().hex[:8]}"  # the keyring lives for the whole session
    auth = {"type": "basic", "username": server.username, "source": "keyring"}
    config = write_config(tmp_path / "config.yaml", name, server, auth=auth)
    stored = run_cli(
        "--config",
        str(config),
        "auth",
        "set",
        name,
        env=secret_service,
        stdin=server.password + "\n",
    )
    assert stored.returncode == 0, stored.stderr
    assert stored.stdout.strip() == f"stored in {SECRET_SERVICE_BACKEND} under oncall-tui/{name}"
    assert_not_printed(stored, server.password)

    done = check_config(config, secret_service)
    assert done.returncode == 0, done.stdout + done.stderr
    line = server_line(done, server)
    assert line.startswith("ok") and line.endswith("auth ok")
    assert_not_printed(done, server.password)


def test_without_ca_file_the_server_is_not_trusted(
    secure_alertmanager: SecureAlertmanager, tmp_path: Path
) -> None:
    server = secure_alertmanager
    tls = {"cert_file": str(server.cert_file), "key_file": str(server.key_file)}
    config = write_config(tmp_path / "config.yaml", "secure", server, tls=tls)
    done = check_config(config, {PASSWORD_ENV: server.password})
    assert done.returncode == 1
    line = server_line(done, server)
    assert line.split()[0] == "FAILED"
    # The system trust store does not know our CA; OpenSSL's verify message follows.
    assert "TLS certificate not trusted: unable to get local issuer certificate" in line
    assert "auth not checked" in line  # the credential never went out
    assert_not_printed(done, server.password)


def test_insecure_skip_verify_works_and_warns(
    secure_alertmanager: SecureAlertmanager, tmp_path: Path
) -> None:
    server = secure_alertmanager
    tls = {
        "cert_file": str(server.cert_file),
        "key_file": str(server.key_file),
        "insecure_skip_verify": True,
    }
    config = write_config(tmp_path / "config.yaml", "secure", server, tls=tls)
    done = check_config(config, {PASSWORD_ENV: server.password})
    assert done.returncode == 0, done.stdout + done.stderr
    assert server_line(done, server).endswith("auth ok")
    warnings = [line for line in done.stdout.splitlines() if line.split()[1:2] == ["warning:"]]
    assert len(warnings) == 1 and "TLS verification is OFF" in warnings[0]
    assert_not_printed(done, server.password)


def test_without_client_cert_the_handshake_is_refused(
    secure_alertmanager: SecureAlertmanager, tmp_path: Path
) -> None:
    server = secure_alertmanager
    config = write_config(
        tmp_path / "config.yaml", "secure", server, tls={"ca_file": str(server.ca_file)}
    )
    since = server.log_size()
    done = check_config(config, {PASSWORD_ENV: server.password})
    assert done.returncode == 1, done.stdout + done.stderr
    line = server_line(done, server)
    assert line.split()[0] == "FAILED"
    assert "TLS error: the server requires a client certificate or refused ours" in line
    assert "auth not checked" in line
    assert_not_printed(done, server.password)
    server.wait_for_log("tls: client didn't provide a certificate", since)


def test_a_client_cert_from_another_ca_is_refused(
    secure_alertmanager: SecureAlertmanager, tmp_path: Path
) -> None:
    """The server verifies the client certificate (RequireAndVerifyClientCert), not just asks."""
    server = secure_alertmanager
    openssl = shutil.which("openssl")
    assert openssl is not None
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", "rogue.key", "-out", "rogue.crt", "-days", "1",
         "-subj", f"/CN={server.username}"],
        cwd=tmp_path, check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    tls = {
        "ca_file": str(server.ca_file),
        "cert_file": str(tmp_path / "rogue.crt"),
        "key_file": str(tmp_path / "rogue.key"),
    }
    config = write_config(tmp_path / "config.yaml", "secure", server, tls=tls)
    since = server.log_size()
    done = check_config(config, {PASSWORD_ENV: server.password})
    assert done.returncode == 1, done.stdout + done.stderr
    line = server_line(done, server)
    assert line.split()[0] == "FAILED"
    # TLS 1.3: the server judges the client certificate after the client has sent its
    # request. Its "bad certificate" alert reaches us, or, if our request arrived after it
    # closed, the kernel's reset does (and drops the alert): both are fair, neither crashes.
    assert (
        "TLS error: the server requires a client certificate or refused ours" in line
        or "Connection reset by peer" in line
    ), line
    assert "auth not checked" in line
    assert_not_printed(done, server.password)
    server.wait_for_log("tls: failed to verify client certificate", since)


def test_missing_ca_file_is_a_config_error(
    secure_alertmanager: SecureAlertmanager, tmp_path: Path
) -> None:
    server = secure_alertmanager
    missing = tmp_path / "nowhere" / "ca.pem"
    tls = {
        "ca_file": str(missing),
        "cert_file": str(server.cert_file),
        "key_file": str(server.key_file),
    }
    config = write_config(tmp_path / "config.yaml", "secure", server, tls=tls)
    done = check_config(config, {PASSWORD_ENV: server.password})
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "contexts.secure.tls.ca_file" in lines[0] and str(missing) in lines[0]


def test_secret_from_a_command(secure_alertmanager: SecureAlertmanager, tmp_path: Path) -> None:
    server = secure_alertmanager
    auth = {
        "type": "basic",
        "username": server.username,
        "source": "command",
        "command": ["sh", "-c", 'printf %s "$SECURE_AM_SECRET_FOR_COMMAND"'],
    }
    config = write_config(tmp_path / "config.yaml", "secure", server, auth=auth)
    done = check_config(config, {"SECURE_AM_SECRET_FOR_COMMAND": server.password})
    assert done.returncode == 0, done.stdout + done.stderr
    assert server_line(done, server).endswith("auth ok")
    assert_not_printed(done, server.password)


@dataclass
class Recorder:
    """A plain-HTTP server on another loopback port that records what reaches it."""

    url: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    redirect_to: str | None = None


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Another origin than the Alertmanager's: a host the credential must never reach."""
    yield from _recorder()


@pytest.fixture
def second_recorder() -> Iterator[Recorder]:
    """A third origin, for a redirect from one host to another."""
    yield from _recorder()


def _recorder() -> Iterator[Recorder]:
    """Serve a Recorder from a thread on a free loopback port; shut it down afterwards."""
    record: Recorder

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            record.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            if record.redirect_to:
                self.send_response(302)
                self.send_header("Location", record.redirect_to)
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    record = Recorder(f"http://127.0.0.1:{server.server_address[1]}")
    # A short poll interval: shutdown() waits for the loop to notice (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _context(server: SecureAlertmanager, peers: list[str]) -> Context:
    """A context with the full TLS setup and basic auth from $SECURE_AM_PASSWORD."""
    raw = {
        "contexts": {
            "secure": {
                "alertmanagers": peers,
                "tls": {
                    "ca_file": str(server.ca_file),
                    "cert_file": str(server.cert_file),
                    "key_file": str(server.key_file),
                },
                "auth": {
                    "type": "basic",
                    "username": server.username,
                    "source": "env",
                    "env": PASSWORD_ENV,
                },
            }
        }
    }
    return parse_settings(raw).context("secure")


async def test_the_credential_stays_with_its_server(
    secure_alertmanager: SecureAlertmanager, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = secure_alertmanager
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    clients = build_clients(_context(server, [server.url]))
    assert clients.credential_error is None
    peer = clients.clusters[0].peers[0]
    try:
        status = await peer.status()  # the credential works on its own server...
        assert status.version_info.version.startswith("0.25")
        client = peer.endpoint.client
        # ...but the same client sends it nowhere else: not to another host,
        response = await client.get(f"{recorder.url}/elsewhere")
        assert response.status_code == 200
        assert [path for path, _ in recorder.requests] == ["/elsewhere"]
        assert "authorization" not in recorder.requests[0][1]
        # nor to the same server under another name (another origin): the server says 401.
        other_name = await client.get(f"{server.localhost_url}/api/v2/status")
        assert other_name.status_code == 401
        assert "authorization" not in {k.lower() for k in other_name.request.headers}
    finally:
        await clients.aclose()


async def test_redirects_are_not_followed(
    secure_alertmanager: SecureAlertmanager,
    recorder: Recorder,
    second_recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = secure_alertmanager
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    # The real server answers 301 for a trailing slash (a same-origin redirect; it has no
    # way to redirect to another host): the client hands the 3xx back and goes nowhere.
    clients = build_clients(_context(server, [server.url]))
    try:
        response = await clients.clusters[0].peers[0].endpoint.client.get(f"{server.url}/-/ready/")
        assert response.status_code == 301 and response.headers["location"] == "/-/ready"
        assert response.history == []
    finally:
        await clients.aclose()

    # A cross-host redirect needs a server that makes one: a local stand-in that holds the
    # credential (it is the configured peer) and redirects to a second host.
    recorder.redirect_to = f"{second_recorder.url}/stolen"
    clients = build_clients(_context(server, [recorder.url]))
    peer = clients.clusters[0].peers[0]
    try:
        with pytest.raises(errors.ServerError) as raised:
            await peer.status()
        assert raised.value.status == 302
        assert "authorization" in recorder.requests[0][1]  # its own server got it
        assert second_recorder.requests == []  # the redirect was not followed
        # Even if code followed it by hand, with the request httpx builds from the redirect
        # (headers copied from the first one), the credential stays bound to its origin.
        redirected = await peer.endpoint.client.get(f"{recorder.url}/again")
        assert redirected.status_code == 302 and redirected.next_request is not None
        followed = await peer.endpoint.client.send(redirected.next_request)
        assert followed.status_code == 200
        assert [path for path, _ in second_recorder.requests] == ["/stolen"]
        assert "authorization" not in second_recorder.requests[0][1]
    finally:
        await clients.aclose()


async def test_tls_contexts_are_shared_and_a_plain_http_client_trusts_nobody(
    secure_alertmanager: SecureAlertmanager, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx would load the CA bundle for every client (40 ms each at start-up): clients with
    the same TLS settings share one context, and a client of a plain-HTTP server gets one
    that trusts no certificate authority, so it can never be a way to an unverified server."""
    server = secure_alertmanager
    monkeypatch.setenv(PASSWORD_ENV, server.password)
    context = _context(server, [server.url, server.url.replace("127.0.0.1", "localhost")])
    clients = build_clients(context)
    forked = clients.fork()
    plain = build_clients(_context(server, [recorder.url]))
    try:
        contexts = {_tls_of(peer) for c in (clients, forked) for peer in c.clusters[0].peers}
        assert len(contexts) == 1  # two peers, two sets of clients: one context
        status = await forked.clusters[0].peers[1].status()  # and it is the right one
        assert status.version_info.version.startswith("0.25")

        # A certificate renewed in place is read by the next clients.
        stat = server.cert_file.stat()
        os.utime(server.cert_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        renewed = build_clients(context)
        try:
            assert _tls_of(renewed.clusters[0].peers[0]) not in contexts
        finally:
            await renewed.aclose()

        client = plain.clusters[0].peers[0].endpoint.client
        assert (await client.get(f"{recorder.url}/plain")).status_code == 200
        # The same client asked for the TLS server (a URL of its own, not its base): refused.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(f"{server.url}/api/v2/status")
    finally:
        for c in (clients, forked, plain):
            await c.aclose()


def _tls_of(peer: Any) -> int:
    """The identity of the TLS context a peer's client connects with (httpx's pool holds it)."""
    return id(peer.endpoint.client._transport._pool._ssl_context)
