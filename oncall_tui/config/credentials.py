"""Secrets for contexts: the OS keyring, an environment variable, or a command.

The config only names where a context's secret lives (`AuthConfig`); this module fetches it.
A secret is carried as `Secret`, whose repr shows nothing, so tracebacks and logs stay clean.
Every failure is a `CredentialError` worded for the user and never containing the secret.

Keyring backends are checked before use: on a headless host keyring may have no backend at
all, or (with keyrings.alt installed) silently fall back to a plain file. Insecure backends are
refused, for reading too, unless the user opted in (`allow_insecure_keyring`).
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import os
import re
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from oncall_tui.config.paths import KEYRING_SERVICE

if TYPE_CHECKING:  # keyring is imported when a secret is used: 15 ms of every start
    from keyring.backend import KeyringBackend

    from oncall_tui.config import AuthConfig

SERVICE = KEYRING_SERVICE
COMMAND_TIMEOUT = 10.0
OPT_IN_HINT = (
    "to accept it anyway set allow_insecure_keyring: true in the config "
    "(or pass --allow-insecure-keyring, or set ONCALL_TUI_ALLOW_INSECURE_KEYRING=1)"
)
ALTERNATIVES_HINT = (
    "use auth.source: env or auth.source: command for this context, or run a Secret Service "
    "(e.g. gnome-keyring-daemon --unlock under dbus-run-session)"
)

_SECRET_SERVICE = (
    "Secret Service (e.g. GNOME Keyring): encrypted at rest, unlocked with your session"
)
_KWALLET = "KWallet: encrypted at rest, unlocked with your session"
_SECURE_BACKENDS = {
    "keyring.backends.SecretService.Keyring": _SECRET_SERVICE,
    "keyring.backends.libsecret.Keyring": _SECRET_SERVICE,
    "keyring.backends.kwallet.DBusKeyring": _KWALLET,
    "keyring.backends.kwallet.DBusKeyringKWallet4": _KWALLET,
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
}
# Token-like words redacted from text we did not write (a command's stderr, a backend's error)
# even when the secret is unknown: JWTs, "Bearer x", "token=x", long letter+digit runs.
# Over-redaction (a long path with digits) costs a little clarity; a leaked token costs more.
_TOKENISH = re.compile(
    r"eyJ[\w-]+\.[\w-]+\.[\w-]*"
    r"|(?i:bearer|basic)\s+\S+"
    r"|(?i:token|password|passwd|secret|api[_-]?key)\s*[=:]\s*\S+"
    r"|(?<![\w+/=-])(?=[\w+/=-]*\d)(?=[\w+/=-]*[A-Za-z])[\w+/=-]{24,}"
)
_T = TypeVar("_T")


class Secret:
    """A secret string that does not show itself: repr and str give Secret('***')."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value

    def reveal(self) -> str:
        """The value, for the one place that must send it (an HTTP header)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]


class CredentialError(Exception):
    """A credential problem, worded for the user; the message never holds the secret."""


@dataclass(frozen=True)
class BackendInfo:
    """Which keyring backend is in use, whether secrets are safe in it, and why.

    `available` is False when the backend cannot store anything at all (no keyring, the null
    keyring, a backend that failed to start): then even the insecure opt-in does not help.
    """

    name: str
    secure: bool
    reason: str
    available: bool = True


def _backend_name(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _no_keyring_reason() -> str:
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        why = (
            "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset), "
            "as usual on a headless host reached over SSH"
        )
    else:
        why = "no Secret Service answers on the D-Bus session bus (is gnome-keyring running?)"
    return f"there is no keyring: {why}; {ALTERNATIVES_HINT}"


def _classify(backend: KeyringBackend) -> BackendInfo:
    name = _backend_name(backend)
    if name in _SECURE_BACKENDS:
        return BackendInfo(name, True, _SECURE_BACKENDS[name])
    if name == "keyring.backends.fail.Keyring":
        return BackendInfo(name, False, _no_keyring_reason(), available=False)
    if name == "keyring.backends.null.Keyring":
        reason = (
            "the keyring is disabled (null backend, e.g. after `keyring --disable` or via "
            f"PYTHON_KEYRING_BACKEND): it stores nothing; {ALTERNATIVES_HINT}"
        )
        return BackendInfo(name, False, reason, available=False)
    if name == "keyrings.alt.file.PlaintextKeyring":
        where = getattr(backend, "file_path", "a file")
        reason = (
            f"it keeps secrets unencrypted (base64) in {where}, readable by anyone who can read it"
        )
        return BackendInfo(name, False, reason)
    if name.startswith("keyrings.alt.file."):
        reason = "a file-based keyring from keyrings.alt, not a protected OS keyring"
        return BackendInfo(name, False, reason)
    return BackendInfo(name, False, "not a keyring backend oncall-tui knows to be secure")


def _inspect() -> tuple[KeyringBackend | None, BackendInfo]:
    """The concrete backend keyring would use, and what we think of it.

    A ChainerBackend (several viable backends) is unwrapped to its first, highest-priority
    member, and only that one is used: the chainer would otherwise fall back to reading a
    plaintext file when the Secret Service has no entry.
    """
    import keyring
    from keyring.backends.chainer import ChainerBackend

    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # PYTHON_KEYRING_BACKEND or keyringrc.cfg names an unusable one
        name = os.environ.get("PYTHON_KEYRING_BACKEND", "configured keyring backend")
        reason = f"it could not start: {_one_line(str(exc)) or type(exc).__name__}"
        return None, BackendInfo(name, False, f"{reason}; {ALTERNATIVES_HINT}", available=False)
    if isinstance(backend, ChainerBackend):
        chained = list(backend.backends)
        if chained:
            backend = chained[0]
    return backend, _classify(backend)


def backend_info() -> BackendInfo:
    """Describe the keyring backend in use (respects PYTHON_KEYRING_BACKEND)."""
    return _inspect()[1]


def _usable_backend(allow_insecure: bool) -> tuple[KeyringBackend, BackendInfo]:
    backend, info = _inspect()
    if backend is None or not info.available:
        raise CredentialError(f"keyring backend {info.name} is not usable: {info.reason}")
    if not info.secure and not allow_insecure:
        raise CredentialError(
            f"refusing to use keyring backend {info.name}: {info.reason}. Keep secrets in a "
            f"Secret Service, or use auth.source: env or command; {OPT_IN_HINT}"
        )
    return backend, info


def check_backend(*, allow_insecure: bool = False) -> BackendInfo:
    """The backend's info if secrets may be kept in it, else CredentialError saying why."""
    return _usable_backend(allow_insecure)[1]


def _one_line(text: str, limit: int = 200) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _redact(text: str, secrets: Sequence[str] = ()) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return _TOKENISH.sub("***", text)


def _keyring_call(
    action: str, key: str, info: BackendInfo, call: Callable[[], _T], secret: str = ""
) -> _T:
    """Run one keyring operation, turning every failure into a CredentialError."""
    import keyring.errors

    where = f"{SERVICE}/{key} in {info.name}"
    try:
        return call()
    except keyring.errors.KeyringLocked:
        message = (
            f"cannot {action} {where}: the keyring is locked. Unlock it (log in to the "
            "desktop session, or on a headless host start gnome-keyring-daemon with --unlock) "
            "and retry"
        )
    except keyring.errors.NoKeyringError:
        message = f"cannot {action} {where}: {_no_keyring_reason()}"
    except keyring.errors.InitError as exc:
        message = (
            f"cannot {action} {where}: the keyring could not be opened ({_outside(exc, secret)})"
        )
    except keyring.errors.PasswordDeleteError as exc:
        message = f"cannot {action} {where}: {_outside(exc, secret)}"
    except OSError as exc:  # e.g. the D-Bus socket vanished after the backend was chosen
        detail = _outside(exc, secret)
        message = f"cannot {action} {where}: the keyring service cannot be reached ({detail})"
    except Exception as exc:  # a pluggable backend: D-Bus errors and the like
        message = f"cannot {action} {where}: {type(exc).__name__}: {_outside(exc, secret)}"
    # Raised outside the handlers, so the backend's traceback (its locals may hold the secret)
    # is not chained to it.
    raise CredentialError(message)


def _outside(exc: BaseException, secret: str) -> str:
    """One redacted line of an exception's message, text we did not write ourselves."""
    return _redact(_one_line(str(exc)), [secret]) or type(exc).__name__


def _check_value(value: str, origin: str) -> str:
    if not value.strip():
        raise CredentialError(f"{origin} is empty")
    if any(ch in value for ch in "\r\n\0"):
        raise CredentialError(
            f"{origin} spans several lines or holds control characters; "
            "a secret must be a single line"
        )
    return value


def store_secret(key: str, secret: str, *, allow_insecure: bool = False) -> BackendInfo:
    """Store `secret` under oncall-tui/`key`; returns the backend used."""
    _check_value(secret, "the secret")
    backend, info = _usable_backend(allow_insecure)
    _keyring_call(
        "store", key, info, lambda: backend.set_password(SERVICE, key, secret), secret=secret
    )
    return info


def load_secret(key: str, *, allow_insecure: bool = False) -> Secret | None:
    """The secret stored under oncall-tui/`key`, or None."""
    backend, info = _usable_backend(allow_insecure)
    value = _keyring_call("read", key, info, lambda: backend.get_password(SERVICE, key))
    return None if value is None else Secret(value)


def has_secret(key: str, *, allow_insecure: bool = False) -> bool:
    """Whether a secret is stored under oncall-tui/`key`."""
    return load_secret(key, allow_insecure=allow_insecure) is not None


def delete_secret(key: str, *, allow_insecure: bool = False) -> bool:
    """Delete oncall-tui/`key`; False when nothing was stored."""
    backend, info = _usable_backend(allow_insecure)
    if _keyring_call("read", key, info, lambda: backend.get_password(SERVICE, key)) is None:
        return False
    _keyring_call("delete", key, info, lambda: backend.delete_password(SERVICE, key))
    return True


def keyring_key(auth: AuthConfig | None, context_name: str) -> str:
    """The keyring entry name of a context: auth.keyring_key, else the context name."""
    return (auth.keyring_key if auth else None) or context_name


def _run_command(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> str:
    """Run a secret-printing command without a shell; its stdout minus trailing newlines."""
    program = argv[0]
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            start_new_session=True,  # so a timeout kills its children too
        )
    except FileNotFoundError:
        raise CredentialError(f"secret command {program!r} was not found") from None
    except OSError as exc:
        raise CredentialError(
            f"secret command {program!r} could not start: {exc.strerror}"
        ) from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise CredentialError(
            f"secret command {program!r} did not finish within {timeout:g} s"
        ) from None
    stdout = out.decode("utf-8", errors="replace")
    if proc.returncode != 0:
        how = (
            f"was killed by signal {-proc.returncode}"
            if proc.returncode < 0
            else f"failed with exit code {proc.returncode}"
        )
        first = _one_line(err.decode("utf-8", errors="replace"))
        printed = [stdout.strip(), *(line.strip() for line in stdout.splitlines())]
        detail = f": {_redact(first, printed)}" if first else " (no error output)"
        raise CredentialError(f"secret command {program!r} {how}{detail}")
    try:
        value = out.decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialError(
            f"secret command {program!r} printed bytes that are not UTF-8"
        ) from None
    value = value.rstrip("\r\n")
    return _check_value(value, f"the output of secret command {program!r}")


def resolve_secret(
    auth: AuthConfig,
    context_name: str,
    *,
    allow_insecure: bool = False,
    env: Mapping[str, str] = os.environ,
    timeout: float = COMMAND_TIMEOUT,
) -> Secret:
    """Fetch a context's secret from where its AuthConfig says it lives."""
    if auth.source == "env":
        variable = auth.env or ""
        value = env.get(variable, "")
        if not value:
            raise CredentialError(
                f"environment variable {variable} (auth.env of context {context_name!r}) "
                "is not set or empty"
            )
        return Secret(_check_value(value, f"environment variable {variable}"))
    if auth.source == "command":
        return Secret(_run_command(auth.command or [], env, timeout))
    key = keyring_key(auth, context_name)
    secret = load_secret(key, allow_insecure=allow_insecure)
    if secret is None:
        raise CredentialError(
            f"no secret stored for context {context_name!r} (keyring entry {SERVICE}/{key}); "
            f"store it with `oncall-tui auth set {context_name}`"
        )
    return secret


def auth_header(auth: AuthConfig, secret: Secret) -> tuple[str, str]:
    """The Authorization header for a context: Bearer token or Basic username:secret."""
    if auth.type == "basic":
        pair = f"{auth.username or ''}:{secret.reveal()}".encode()
        return "Authorization", "Basic " + base64.b64encode(pair).decode("ascii")
    return "Authorization", f"Bearer {secret.reveal()}"
