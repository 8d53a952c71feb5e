"""credentials.py against a real Secret Service, real keyrings.alt files and real commands."""

from __future__ import annotations

import base64
import logging
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring.backend
import keyring.core
import pytest
from keyring.backends.chainer import ChainerBackend
from keyring.compat import properties
from keyrings.alt.file import PlaintextKeyring  # type: ignore[import-untyped]

from oncall_tui.config import AuthConfig, credentials
from oncall_tui.config.credentials import (
    SERVICE,
    CredentialError,
    Secret,
    auth_header,
    backend_info,
    delete_secret,
    has_secret,
    load_secret,
    resolve_secret,
    store_secret,
)
from tests.helpers import new_secret

if TYPE_CHECKING:
    from tests.support.keyring_service import SecretService

BACKEND = "keyring.backends.SecretService.Keyring"
CLEARED = (
    "DBUS_SESSION_BUS_ADDRESS",
    "PYTHON_KEYRING_BACKEND",
    "ONCALL_TUI_ALLOW_INSECURE_KEYRING",
    "DISPLAY",
    "WAYLAND_DISPLAY",
)
PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
UseEnv = Callable[[dict[str, str]], None]


def _reset_keyring_caches() -> None:
    # keyring picks its backend once per process and caches the list of viable ones.
    keyring.core._keyring_backend = None
    vars(keyring.backend.get_all_keyring).pop("saved_result", None)


@pytest.fixture
def use_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[UseEnv]:
    """Point this process (and keyring) at an environment; private HOME/XDG by default."""

    def apply(values: dict[str, str]) -> None:
        for name in CLEARED:
            monkeypatch.delenv(name, raising=False)
        private = {
            "HOME": str(tmp_path / "home"),
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
        }
        for name, value in {**private, **values}.items():
            monkeypatch.setenv(name, value)
        _reset_keyring_caches()

    yield apply
    _reset_keyring_caches()


def _key() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


# --- Secret and headers ----------------------------------------------------------------


def test_secret_hides_its_value_in_repr_str_logs_and_traceback_locals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    value = new_secret()
    secret = Secret(value)
    assert repr(secret) == str(secret) == f"{secret}" == "Secret('***')"
    assert value not in repr([secret, {"token": secret}])
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("token is %s (%r)", secret, secret)
    assert value not in caplog.text

    def fails(token: Secret) -> None:
        raise RuntimeError("boom")

    try:
        fails(secret)
    except RuntimeError as exc:
        trace = traceback.TracebackException.from_exception(exc, capture_locals=True)
    assert trace.stack[-1].locals == {"token": "Secret('***')"}
    assert secret.reveal() == value
    assert secret == Secret(value) and secret != Secret("other")


def test_auth_header_bearer_and_basic() -> None:
    bearer = AuthConfig(type="bearer")
    assert auth_header(bearer, Secret("tok")) == ("Authorization", "Bearer tok")
    basic = AuthConfig(type="basic", username="alice")
    name, value = auth_header(basic, Secret("pa:ss"))
    assert name == "Authorization"
    assert base64.b64decode(value.removeprefix("Basic ")) == b"alice:pa:ss"


# --- Real Secret Service ---------------------------------------------------------------


@pytest.mark.keyring
def test_round_trip_on_secret_service(secret_service: dict[str, str], use_env: UseEnv) -> None:
    use_env(secret_service)
    info = backend_info()
    assert info.name == BACKEND and info.secure and info.available
    key, value = _key(), new_secret()
    assert not has_secret(key)
    assert store_secret(key, value).name == BACKEND
    assert has_secret(key)
    assert load_secret(key) == Secret(value)
    # Really in the Secret Service, under the oncall-tui service name.
    assert keyring.get_keyring().get_password(SERVICE, key) == value
    store_secret(key, value + "-2")  # replaces, does not add a second item
    assert load_secret(key) == Secret(value + "-2")
    assert delete_secret(key) is True
    assert delete_secret(key) is False
    assert not has_secret(key)


@pytest.mark.keyring
def test_resolve_from_keyring_uses_keyring_key(
    secret_service: dict[str, str], use_env: UseEnv
) -> None:
    use_env(secret_service)
    key, value = _key(), new_secret()
    store_secret(key, value)
    try:
        auth = AuthConfig(type="bearer", keyring_key=key)
        assert resolve_secret(auth, "prod").reveal() == value
        with pytest.raises(CredentialError) as err:
            resolve_secret(AuthConfig(type="bearer"), "staging")
        assert "oncall-tui auth set staging" in str(err.value)
        assert f"{SERVICE}/staging" in str(err.value)
    finally:
        delete_secret(key)


@pytest.mark.keyring
def test_chainer_is_unwrapped_and_never_falls_back_to_plaintext(
    secret_service: dict[str, str], use_env: UseEnv
) -> None:
    """Secret Service + keyrings.alt both viable: keyring picks a ChainerBackend, whose reads
    would fall through to the plaintext file. Only the Secret Service must be used."""
    env = dict(secret_service)
    del env["PYTHON_KEYRING_BACKEND"]
    use_env(env)
    assert isinstance(keyring.get_keyring(), ChainerBackend)
    assert backend_info().name == BACKEND and backend_info().secure
    planted = _key()
    PlaintextKeyring().set_password(SERVICE, planted, "from-the-plain-file")
    assert keyring.get_password(SERVICE, planted) == "from-the-plain-file"  # the chainer's read
    assert not has_secret(planted)
    key = _key()
    store_secret(key, new_secret())
    try:
        assert PlaintextKeyring().get_password(SERVICE, key) is None
    finally:
        delete_secret(key)


@pytest.mark.keyring
@pytest.mark.timeout(30)
def test_locked_keyring_fails_fast(locked_secret_service: SecretService, use_env: UseEnv) -> None:
    use_env(locked_secret_service.env)
    for call in (lambda: has_secret("prod"), lambda: store_secret("prod", "x" * 12)):
        started = time.monotonic()
        with pytest.raises(CredentialError) as err:
            call()
        assert time.monotonic() - started < 5
        assert "locked" in str(err.value)


@pytest.mark.keyring
@pytest.mark.timeout(30)
def test_secret_service_gone_after_start(
    start_service: Callable[[], SecretService], use_env: UseEnv
) -> None:
    service = start_service()
    use_env(service.env)
    assert not has_secret("prod")
    service.stop()
    with pytest.raises(CredentialError, match="cannot be reached"):
        has_secret("prod")


# --- Insecure or missing backends ------------------------------------------------------


def test_plaintext_backend_refused_unless_allowed(use_env: UseEnv, tmp_path: Path) -> None:
    use_env({"PYTHON_KEYRING_BACKEND": PLAINTEXT})
    info = backend_info()
    assert info.name == PLAINTEXT and not info.secure and info.available
    assert str(tmp_path / "data") in info.reason
    key, value = _key(), new_secret()
    for call in (lambda: store_secret(key, value), lambda: has_secret(key)):
        with pytest.raises(CredentialError) as err:
            call()
        message = str(err.value)
        assert "refusing" in message and PLAINTEXT in message
        assert "allow_insecure_keyring" in message and value not in message
    assert not (tmp_path / "data" / "python_keyring").exists()
    store_secret(key, value, allow_insecure=True)
    assert load_secret(key, allow_insecure=True) == Secret(value)
    assert delete_secret(key, allow_insecure=True) is True


def test_plaintext_silently_chosen_without_dbus_is_refused(use_env: UseEnv) -> None:
    use_env({})  # no D-Bus, no PYTHON_KEYRING_BACKEND: keyrings.alt becomes the default
    info = backend_info()
    assert info.name == PLAINTEXT and not info.secure
    with pytest.raises(CredentialError, match="refusing"):
        has_secret("prod")


def test_no_keyring_gives_a_clear_message(use_env: UseEnv) -> None:
    use_env({"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    info = backend_info()
    assert not info.secure and not info.available
    assert "no keyring" in info.reason and "DBUS_SESSION_BUS_ADDRESS" in info.reason
    assert "auth.source: env" in info.reason
    with pytest.raises(CredentialError, match="no keyring"):
        store_secret("prod", new_secret(), allow_insecure=True)


def test_null_keyring_is_never_used(use_env: UseEnv) -> None:
    use_env({"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    assert not backend_info().available
    with pytest.raises(CredentialError, match="disabled"):
        store_secret("prod", new_secret(), allow_insecure=True)


def test_secret_service_requested_without_dbus(use_env: UseEnv) -> None:
    use_env({"PYTHON_KEYRING_BACKEND": BACKEND})
    info = backend_info()
    assert info.name == BACKEND and not info.available and "could not start" in info.reason
    with pytest.raises(CredentialError, match="could not start"):
        has_secret("prod")


class LeakyKeyring(keyring.backend.KeyringBackend):
    """A third-party backend whose errors quote the password.

    Every KeyringBackend subclass joins keyring's autodetection; a raising priority keeps
    this one out of it (not viable), so only set_keyring() below selects it.
    """

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test backend, never autodetected")

    def __init__(self) -> None:
        pass

    def get_password(self, service: str, username: str) -> str | None:
        raise ConnectionError(f"lost the connection while reading {username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"could not save {password!r} for {username}")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("unsupported")


def test_unknown_backend_refused_and_its_errors_redacted(use_env: UseEnv) -> None:
    use_env({})
    keyring.set_keyring(LeakyKeyring())
    info = backend_info()
    assert info.name == f"{__name__}.LeakyKeyring" and not info.secure
    value = new_secret()
    with pytest.raises(CredentialError, match="refusing"):
        store_secret("prod", value)
    with pytest.raises(CredentialError) as err:
        store_secret("prod", value, allow_insecure=True)
    assert "RuntimeError: could not save" in str(err.value) and value not in str(err.value)
    assert err.value.__cause__ is None and err.value.__context__ is None
    with pytest.raises(CredentialError, match="cannot be reached"):
        has_secret("prod", allow_insecure=True)


# --- env and command sources -----------------------------------------------------------


def test_env_source() -> None:
    auth = AuthConfig(type="bearer", source="env", env="PROD_TOKEN")
    value = new_secret()
    assert resolve_secret(auth, "prod", env={"PROD_TOKEN": value}).reveal() == value
    for env in ({}, {"PROD_TOKEN": ""}):
        with pytest.raises(CredentialError) as err:
            resolve_secret(auth, "prod", env=env)
        assert "PROD_TOKEN" in str(err.value)
    with pytest.raises(CredentialError) as err:
        resolve_secret(auth, "prod", env={"PROD_TOKEN": value + "\nsecond"})
    assert value not in str(err.value)


def _command(code: str) -> AuthConfig:
    return AuthConfig(type="bearer", source="command", command=[sys.executable, "-c", code])


def test_command_source_prints_the_secret() -> None:
    value = new_secret()
    auth = _command(f"print({value!r})")
    assert resolve_secret(auth, "prod").reveal() == value
    # stdin is closed: a command waiting for input gets EOF instead of hanging.
    assert (
        resolve_secret(_command("import sys; print(sys.stdin.read() or 'eof')"), "p").reveal()
        == "eof"
    )


def test_failing_command_error_is_redacted() -> None:
    value = new_secret()
    code = (
        f"import sys; print({value!r}); sys.stderr.write('token {value} expired\\n'); sys.exit(3)"
    )
    with pytest.raises(CredentialError) as err:
        resolve_secret(_command(code), "prod")
    message = str(err.value)
    assert "exit code 3" in message and "expired" in message and value not in message
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXZhbHVl"
    code = f"import sys; sys.stderr.write('rejected {jwt}\\nmore\\n'); sys.exit(1)"
    with pytest.raises(CredentialError) as err:
        resolve_secret(_command(code), "prod")
    assert (
        "rejected" in str(err.value) and jwt not in str(err.value) and "more" not in str(err.value)
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [("pass", "empty"), ("print('a'); print('b')", "single line"), ("print('   ')", "empty")],
)
def test_command_output_must_be_one_non_empty_line(code: str, expected: str) -> None:
    with pytest.raises(CredentialError, match=expected):
        resolve_secret(_command(code), "prod")


def test_missing_command() -> None:
    auth = AuthConfig(type="bearer", source="command", command=["/nonexistent/secret-tool"])
    with pytest.raises(CredentialError, match="not found"):
        resolve_secret(auth, "prod")


def _gone(pid: int) -> bool:
    """Dead: no such process, or a zombie waiting for a parent that never reaps."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.timeout(30)
def test_command_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # A shell whose child keeps stdout open: killing only the shell would leave us waiting.
    script = f"sleep 30 & echo $! > {pidfile}; wait"
    auth = AuthConfig(type="bearer", source="command", command=["sh", "-c", script])
    started = time.monotonic()
    with pytest.raises(CredentialError, match=r"did not finish within 0.5 s"):
        resolve_secret(auth, "prod", timeout=0.5)
    assert time.monotonic() - started < 2.5
    assert credentials.COMMAND_TIMEOUT == 10.0
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while not _gone(child):
        assert time.monotonic() < deadline, f"the command's child {child} outlived the timeout"
        time.sleep(0.01)
