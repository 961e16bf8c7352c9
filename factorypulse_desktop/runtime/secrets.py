"""Database passwords in the OS keyring ("remember me"), and only there.

Only a secure OS keyring is used (Windows Credential Manager, macOS Keychain, Secret Service,
KWallet...). The ``fail`` and ``null`` backends, and any plain-text or encrypted-file backend
(``keyrings.alt`` and the like, which ``PYTHON_KEYRING_BACKEND`` or ``keyringrc.cfg`` can select)
are refused: then nothing is stored and the caller keeps the password in memory for the session.
When keyring chains several backends, the first secure one is used directly, so a password can
never fall through to a plain-text backend further down the chain.

Every keyring call runs in a daemon thread and is abandoned after :data:`KEYRING_TIMEOUT`
seconds: a locked keyring waiting for an unlock prompt must not hang the caller. A call that
timed out counts as "no keyring"; until it returns, later calls do not start new threads.

Nothing here logs a password.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from factorypulse_desktop.runtime.profiles import ConnectionProfile

log = logging.getLogger(__name__)

SERVICE = "factorypulse-desktop"
KEYRING_TIMEOUT = 3.0

# Backends that keep secrets in a file or nowhere; matched against every class in the MRO.
_REFUSED_MODULE_PREFIXES = (
    "keyring.backends.fail",
    "keyring.backends.null",
    "keyrings.alt",
    "keyrings.cryptfile",
    "keyrings.osx_keychain_keys",
)
_REFUSED_NAME_WORDS = ("plaintext", "encrypted", "cryptfile", "file", "null", "fail")

_T = TypeVar("_T")
_lock = threading.Lock()
_logged_backends: set[str] = set()
_pending: list[threading.Thread] = []


class _Unavailable(Exception):
    """No secure keyring answered (none, refused, failed or timed out)."""


def _class_path(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _refusal(backend: object) -> str | None:
    """Why this backend is not secure enough, or None when it is."""
    for cls in type(backend).__mro__:
        module = cls.__module__ or ""
        if module.startswith(_REFUSED_MODULE_PREFIXES):
            return f"{module}.{cls.__qualname__} keeps no secret safely"
        name = cls.__qualname__.lower()
        if any(word in name for word in _REFUSED_NAME_WORDS):
            return f"{module}.{cls.__qualname__} looks like a file or null backend"
    try:
        priority = float(backend.priority)  # type: ignore[attr-defined]
    except Exception:  # a backend whose priority raises is not viable
        return "its priority cannot be read"
    if priority <= 0:
        return "it is not a viable backend (priority <= 0)"
    return None


def _log_once(key: str, message: str, *args: object) -> None:
    with _lock:
        if key in _logged_backends:
            return
        _logged_backends.add(key)
    log.info(message, *args)


def _secure_backend() -> KeyringBackend:
    """The backend to use (runs in the worker thread: detection may talk to D-Bus)."""
    import keyring
    from keyring.backends.chainer import ChainerBackend

    backend = keyring.get_keyring()
    if isinstance(backend, ChainerBackend):
        candidates = list(backend.backends)
        for candidate in candidates:
            reason = _refusal(candidate)
            if reason is None:
                _log_once(
                    _class_path(candidate),
                    "Keyring: using %s (first secure backend of the chain)",
                    _class_path(candidate),
                )
                return candidate
            _log_once(
                _class_path(candidate), "Keyring: not using %s: %s", _class_path(candidate), reason
            )
        _log_once(
            "chainer-empty",
            "Keyring: no secure backend in the chain %s",
            [_class_path(c) for c in candidates],
        )
        raise _Unavailable
    reason = _refusal(backend)
    if reason is not None:
        _log_once(
            _class_path(backend),
            "Keyring: not using %s: %s; passwords are not remembered",
            _class_path(backend),
            reason,
        )
        raise _Unavailable
    _log_once(_class_path(backend), "Keyring: using %s", _class_path(backend))
    return backend


def _busy() -> bool:
    with _lock:
        _pending[:] = [t for t in _pending if t.is_alive()]
        return bool(_pending)


def _call(what: str, action: Callable[[KeyringBackend], _T]) -> _T:
    """Run ``action(backend)`` in a daemon thread; raise _Unavailable on any trouble."""
    if _busy():
        log.info("Keyring: an earlier call has not returned yet; treating it as unavailable")
        raise _Unavailable
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = action(_secure_backend())
        except _Unavailable:
            box["unavailable"] = True
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, name=f"keyring-{what}", daemon=True)
    thread.start()
    thread.join(KEYRING_TIMEOUT)
    if thread.is_alive():
        with _lock:
            _pending.append(thread)
        log.warning(
            "Keyring: %s did not answer within %.0f s (locked?); treating it as unavailable",
            what,
            KEYRING_TIMEOUT,
        )
        raise _Unavailable
    if "unavailable" in box:
        raise _Unavailable
    if "error" in box:
        error = box["error"]
        # The type only: an error's text is the backend's and could quote anything.
        log.warning("Keyring: %s failed (%s)", what, type(error).__name__)
        raise _Unavailable
    return box["result"]  # type: ignore[return-value]


def _key(profile: ConnectionProfile, username: str) -> str:
    return f"db:{profile.name}:{username}"


def secure_keyring_available() -> bool:
    """Whether a secure OS keyring answers now (within the timeout)."""
    try:
        _call("check", lambda _backend: None)
    except _Unavailable:
        return False
    return True


def backend_name() -> str | None:
    """The secure keyring backend in use (its class, never its contents), or None."""
    try:
        return _call("name", _class_path)
    except _Unavailable:
        return None


def store_secret(key: str, value: str) -> bool:
    """Keep `value` under `key` of our service; False (nothing stored anywhere) without a
    secure keyring."""
    if not key or not value:
        return False
    try:
        _call("store", lambda backend: backend.set_password(SERVICE, key, value))
    except _Unavailable:
        return False
    return True


def load_secret(key: str) -> str | None:
    """The value under `key`, or None (none stored, or no secure keyring answered)."""
    if not key:
        return None
    try:
        value = _call("load", lambda backend: backend.get_password(SERVICE, key))
    except _Unavailable:
        return None
    return value if isinstance(value, str) and value else None


def forget_secret(key: str) -> None:
    """Delete the value under `key` (no error when there is none or no keyring answers)."""
    if not key:
        return

    def delete(backend: KeyringBackend) -> None:
        from keyring.errors import PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError):  # nothing stored
            backend.delete_password(SERVICE, key)

    try:
        _call("forget", delete)
    except _Unavailable:
        return


def store_password(profile: ConnectionProfile, username: str, password: str) -> bool:
    """Remember a password; False (and nothing stored anywhere) without a secure keyring."""
    if not username:
        return False
    return store_secret(_key(profile, username), password)


def load_password(profile: ConnectionProfile, username: str) -> str | None:
    """The remembered password, or None (none stored, or no secure keyring answered)."""
    return load_secret(_key(profile, username)) if username else None


def forget_password(profile: ConnectionProfile, username: str) -> None:
    """Delete a remembered password (no error when there is none or no keyring answers)."""
    if username:
        forget_secret(_key(profile, username))
