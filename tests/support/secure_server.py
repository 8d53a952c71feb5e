"""A real Alertmanager behind TLS, client certificates (mTLS) and basic auth, for tests.

`secure_alertmanager` (session-scoped) makes a CA, a server certificate for 127.0.0.1 and
localhost, and a client certificate with the `openssl` CLI; hashes a basic-auth password
with bcrypt; and starts ONE prometheus-alertmanager whose `--web.config.file` (Prometheus
exporter-toolkit, supported by 0.25) demands all three. Nothing is mocked: the handshake,
the client-certificate check and the 401 are the server's own.

Load it with `pytest_plugins = ["tests.support.secure_server"]` in conftest.py (or in a test module).
If openssl or the binary is missing, the tests that use it FAIL with the install command.
"""

from __future__ import annotations

import base64
import http.client
import secrets
import shutil
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from oncall_tui.demo.procs import pdeathsig_preexec, reserve_port, stop_child
from tests.support.worker_summary import summary

INSTALL_HINT = (
    "`apt-get install prometheus-alertmanager openssl` (macOS: `brew install alertmanager openssl`)"
)
BINARY_NAMES = ("prometheus-alertmanager", "alertmanager")
USERNAME = "oncall"
START_DEADLINE = 15.0
STOP_DEADLINE = 5.0
PORT_ATTEMPTS = 3
POLL_INTERVAL = 0.02
CERT_DAYS = "2"

_AM_CONFIG = "route:\n  receiver: default\nreceivers:\n  - name: default\n"
_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_SERVER_EXT = (
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=serverAuth\n"
    "subjectKeyIdentifier=hash\n"
    "authorityKeyIdentifier=keyid,issuer\n"
    "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
)
_CLIENT_EXT = (
    "basicConstraints=critical,CA:FALSE\n"
    "keyUsage=critical,digitalSignature\n"
    "extendedKeyUsage=clientAuth\n"
    "subjectKeyIdentifier=hash\n"
    "authorityKeyIdentifier=keyid,issuer\n"
)
_timings: dict[str, float] = {}
_versions: list[str] = []


@dataclass(frozen=True)
class SecureAlertmanager:
    """Where the secured server listens and the files and credentials a client needs."""

    url: str  # https://127.0.0.1:PORT
    port: int
    ca_file: Path  # the CA that signed the server and client certificates
    cert_file: Path  # client certificate
    key_file: Path  # client key
    username: str
    password: str = field(repr=False)
    server_cert_file: Path = Path()
    server_key_file: Path = Path()
    web_config: Path = Path()
    workdir: Path = Path()
    log_file: Path = Path()  # the server's stderr: its TLS handshake errors land here
    pid: int = 0

    @property
    def localhost_url(self) -> str:
        """The same server under its other certificate name (another origin for a client)."""
        return f"https://localhost:{self.port}"

    def log_size(self) -> int:
        """Where the log ends now; pass it to `wait_for_log` to look only at what follows."""
        return self.log_file.stat().st_size

    def wait_for_log(self, text: str, since: int, timeout: float = 5.0) -> str:
        """The first log line after offset `since` containing `text`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            with self.log_file.open("rb") as log:
                log.seek(since)
                for line in log.read().decode(errors="replace").splitlines():
                    if text in line:
                        return line
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged within {timeout:g} s")
            time.sleep(POLL_INTERVAL)  # poll interval, bounded by the deadline above


def _tools() -> tuple[str, str]:
    """Paths of openssl and the Alertmanager binary, or a test failure saying what to install."""
    openssl = shutil.which("openssl")
    binary = next((p for p in map(shutil.which, BINARY_NAMES) if p), None)
    missing = [n for n, p in (("openssl", openssl), (" or ".join(BINARY_NAMES), binary)) if not p]
    if missing or openssl is None or binary is None:
        pytest.fail(
            f"{', '.join(missing)} not found: the TLS/auth tests need them. "
            f"Install them with {INSTALL_HINT}",
            pytrace=False,
        )
    return openssl, binary


def _openssl(openssl: str, workdir: Path, *args: str) -> None:
    """Run one openssl command in `workdir`; a failure fails the test with openssl's words."""
    done = subprocess.run(
        [openssl, *args], cwd=workdir, capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"openssl {args[0]} failed: {done.stderr.strip()}", pytrace=False)


def make_certificates(openssl: str, workdir: Path) -> dict[str, Path]:
    """CA, server (SAN IP:127.0.0.1, DNS:localhost) and client certificates, P-256 keys."""
    _openssl(
        openssl, workdir, "req", "-x509", *_EC, "-keyout", "ca.key", "-out", "ca.crt",
        "-days", CERT_DAYS, "-subj", "/CN=oncall-tui test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    for name, subject, ext in (
        ("server", "/CN=localhost", _SERVER_EXT),
        ("client", f"/CN={USERNAME}", _CLIENT_EXT),
    ):
        (workdir / f"{name}.ext").write_text(ext)
        _openssl(
            openssl, workdir, "req", *_EC, "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", subject,
        )  # fmt: skip
        _openssl(
            openssl, workdir, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt",
            "-CAkey", "ca.key", "-set_serial", str(secrets.randbits(63)), "-days", CERT_DAYS,
            "-extfile", f"{name}.ext", "-out", f"{name}.crt",
        )  # fmt: skip
    return {
        name: workdir / name
        for name in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")
    }


def write_web_config(path: Path, files: dict[str, Path], password: str) -> None:
    """exporter-toolkit web config: TLS, a verified client certificate, one bcrypt user."""
    import bcrypt

    # Cost 4 (bcrypt's minimum) keeps every request cheap; the hash is thrown away with the dir.
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    path.write_text(
        "tls_server_config:\n"
        f"  cert_file: {files['server.crt']}\n"
        f"  key_file: {files['server.key']}\n"
        "  client_auth_type: RequireAndVerifyClientCert\n"
        f"  client_ca_file: {files['ca.crt']}\n"
        "basic_auth_users:\n"
        f"  {USERNAME}: '{hashed}'\n"
    )


def _probe_ready(port: int, context: ssl.SSLContext, authorization: str) -> int | None:
    """The status of GET /-/ready over https, or None while nothing listens yet."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=1.0)
    try:
        conn.request("GET", "/-/ready", headers={"Authorization": authorization})
        return conn.getresponse().status
    except ConnectionRefusedError:
        return None
    finally:
        conn.close()


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-1500:].strip()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop exactly this child: SIGTERM, wait, then SIGKILL."""
    stop_child(proc, STOP_DEADLINE)


def _start(
    binary: str, workdir: Path, web_config: Path, client: ssl.SSLContext, authorization: str
) -> tuple[subprocess.Popen[bytes], int, Path]:
    """Start Alertmanager on a free loopback port; return once /-/ready answers 200."""
    config = workdir / "alertmanager.yml"
    config.write_text(_AM_CONFIG)
    deadline = time.monotonic() + START_DEADLINE
    problem = ""
    for attempt in range(PORT_ATTEMPTS):
        reserved = reserve_port()
        port = reserved.getsockname()[1]
        log = workdir / f"alertmanager-{attempt}.log"
        argv = [
            binary,
            f"--config.file={config}",
            f"--storage.path={workdir / 'data'}",
            "--cluster.listen-address=",  # a single instance: no gossip port at all
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.config.file={web_config}",
        ]
        reserved.close()  # just before the server binds it
        with log.open("wb") as stderr:
            proc = subprocess.Popen(
                argv,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                preexec_fn=pdeathsig_preexec(),
            )
        try:
            while True:
                if proc.poll() is not None:
                    problem = f"exited with code {proc.returncode}: {_log_tail(log)}"
                    if "address already in use" in problem:
                        break  # the port was taken in between: try another
                    raise RuntimeError(problem)
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{START_DEADLINE:g} s passed without /-/ready; log: {_log_tail(log)}"
                    )
                try:
                    status = _probe_ready(port, client, authorization)
                except (OSError, http.client.HTTPException) as exc:
                    status, problem = None, repr(exc)  # e.g. TLS listener not up yet
                if status == 200:
                    return proc, port, log
                if status is not None and status != 503:
                    raise RuntimeError(f"/-/ready answered {status}: the web config is not applied")
                time.sleep(POLL_INTERVAL)  # poll interval, bounded by the deadline above
        except BaseException:
            _stop(proc)
            raise
    raise RuntimeError(f"Alertmanager did not start after {PORT_ATTEMPTS} ports: {problem}")


def _version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    text = out.stdout or out.stderr
    return text.splitlines()[0] if text else "?"


@pytest.fixture(scope="session")
def secure_alertmanager(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SecureAlertmanager]:
    """One real Alertmanager demanding TLS, a client certificate and basic auth."""
    openssl, binary = _tools()
    started = time.monotonic()
    workdir = tmp_path_factory.mktemp("secure-alertmanager")
    files = make_certificates(openssl, workdir)
    password = f"pw-{secrets.token_urlsafe(18)}"
    web_config = workdir / "web.yml"
    write_web_config(web_config, files, password)
    client = ssl.create_default_context(cafile=str(files["ca.crt"]))
    client.load_cert_chain(str(files["client.crt"]), str(files["client.key"]))
    authorization = "Basic " + base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
    try:
        proc, port, log = _start(binary, workdir, web_config, client, authorization)
    except (OSError, RuntimeError) as exc:  # TimeoutError is an OSError
        problem = f"secure Alertmanager did not start: {exc}"
    else:
        problem = ""
    if problem:
        pytest.fail(problem, pytrace=False)  # outside `except`: no chained traceback
    _timings["ready"] = time.monotonic() - started
    _versions.append(f"{_version(binary)} at https://127.0.0.1:{port} (TLS, mTLS, basic auth)")
    try:
        yield SecureAlertmanager(
            url=f"https://127.0.0.1:{port}",
            port=port,
            ca_file=files["ca.crt"],
            cert_file=files["client.crt"],
            key_file=files["client.key"],
            username=USERNAME,
            password=password,
            server_cert_file=files["server.crt"],
            server_key_file=files["server.key"],
            web_config=web_config,
            workdir=workdir,
            log_file=log,
            pid=proc.pid,
        )
    finally:
        _stop(proc)


@summary
def _summary(write: Callable[[str], None]) -> None:
    """Say what really ran and how long it took to come up (certificates included)."""
    if _timings:
        write(f"secure alertmanager: certificates + start + ready in {_timings['ready']:.2f} s")
    for line in _versions:
        write(f"real server: {line}")
