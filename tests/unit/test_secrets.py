"""Remembered passwords: only in a secure keyring, never elsewhere, never blocking."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.core
import pytest
from fake_keyrings import (
    AltFileKeyring,
    ExplodingKeyring,
    MemoryKeyring,
    PlaintextKeyring,
    SlowKeyring,
)
from keyring.backend import KeyringBackend
from keyring.backends import chainer

from factorypulse_desktop.runtime import secrets
from factorypulse_desktop.runtime.profiles import (
    CONFIG_DIR_ENV_VAR,
    PROFILES_FILE,
    ConnectionProfile,
    ProfileStore,
)

PROFILE = ConnectionProfile(name="Plant", kind="server", host="db.example.com")
SECRET = "s3cret-Pa55word-for-tests"


@pytest.fixture(autouse=True)
def restore_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Never touch the real keyring; restore whatever backend was active."""
    monkeypatch.setenv(CONFIG_DIR_ENV_VAR, str(tmp_path / "config"))
    monkeypatch.setattr(secrets, "_logged_backends", set())  # "log once" per test
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def _install(backend: KeyringBackend) -> KeyringBackend:
    keyring.set_keyring(backend)
    return backend


def test_store_load_forget_with_a_secure_keyring() -> None:
    backend = _install(MemoryKeyring())
    assert secrets.secure_keyring_available()
    assert secrets.load_password(PROFILE, "j.doe") is None
    assert secrets.store_password(PROFILE, "j.doe", SECRET) is True
    assert backend.items == {("factorypulse-desktop", "db:Plant:j.doe"): SECRET}  # type: ignore[attr-defined]
    assert secrets.load_password(PROFILE, "j.doe") == SECRET
    assert secrets.load_password(PROFILE, "someone.else") is None
    other = ConnectionProfile(name="Other", kind="embedded")
    assert secrets.load_password(other, "j.doe") is None  # namespaced per profile
    secrets.forget_password(PROFILE, "j.doe")
    assert secrets.load_password(PROFILE, "j.doe") is None
    secrets.forget_password(PROFILE, "j.doe")  # nothing stored: no error


def test_fail_backend_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.core.init_backend()
    assert type(keyring.get_keyring()).__module__ == "keyring.backends.fail"
    assert not secrets.secure_keyring_available()
    assert secrets.store_password(PROFILE, "j.doe", SECRET) is False
    assert secrets.load_password(PROFILE, "j.doe") is None
    secrets.forget_password(PROFILE, "j.doe")  # no error


def test_null_backend_is_refused() -> None:
    from keyring.backends import null

    _install(null.Keyring())
    assert not secrets.secure_keyring_available()
    assert secrets.store_password(PROFILE, "j.doe", SECRET) is False


@pytest.mark.parametrize("backend_class", [PlaintextKeyring, AltFileKeyring])
def test_plaintext_backends_store_nothing_anywhere(
    backend_class: type[MemoryKeyring], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = backend_class()
    _install(backend)
    caplog.set_level(logging.DEBUG)
    ProfileStore().upsert(
        ConnectionProfile(
            name="Plant", kind="server", host="db", last_username="j.doe", remember_password=True
        )
    )
    assert not secrets.secure_keyring_available()
    assert secrets.store_password(PROFILE, "j.doe", SECRET) is False
    assert backend.items == {}
    assert secrets.load_password(PROFILE, "j.doe") is None
    assert "not using" in caplog.text  # the refused backend is logged...
    assert backend_class.__qualname__ in caplog.text
    assert SECRET not in caplog.text  # ...but never the secret
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8", errors="replace")
    assert (tmp_path / "config" / PROFILES_FILE).is_file()


def test_a_chain_uses_its_first_secure_backend_only(monkeypatch: pytest.MonkeyPatch) -> None:
    plain, secure = PlaintextKeyring(), MemoryKeyring()
    # The plain-text backend ranks first in the chain, as keyrings.alt can.
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plain, secure])
    _install(chainer.ChainerBackend())
    assert secrets.store_password(PROFILE, "j.doe", SECRET) is True
    assert plain.items == {}
    assert secure.items == {("factorypulse-desktop", "db:Plant:j.doe"): SECRET}
    assert secrets.load_password(PROFILE, "j.doe") == SECRET

    monkeypatch.setattr(chainer.ChainerBackend, "backends", [plain])
    assert secrets.store_password(PROFILE, "j.doe", SECRET) is False
    assert plain.items == {}


def test_a_failing_backend_counts_as_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    _install(ExplodingKeyring())
    caplog.set_level(logging.DEBUG)
    assert secrets.store_password(PROFILE, "j.doe", SECRET) is False
    assert secrets.load_password(PROFILE, "j.doe") is None
    assert "RuntimeError" in caplog.text
    assert SECRET not in caplog.text


def test_a_locked_keyring_does_not_hang_the_caller() -> None:
    slow = SlowKeyring()
    _install(slow)
    try:
        started = time.monotonic()
        assert secrets.load_password(PROFILE, "j.doe") is None
        assert time.monotonic() - started < secrets.KEYRING_TIMEOUT + 1.0
        # While that call is still stuck, later calls answer at once instead of piling up.
        started = time.monotonic()
        assert secrets.store_password(PROFILE, "j.doe", SECRET) is False
        assert not secrets.secure_keyring_available()
        assert time.monotonic() - started < 0.5
    finally:
        slow.release.set()
    # Once the keyring answers again, it is used again.
    deadline = time.monotonic() + 5
    while not secrets.secure_keyring_available() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert secrets.store_password(PROFILE, "j.doe", SECRET) is True


def test_empty_inputs_store_nothing() -> None:
    backend: Any = _install(MemoryKeyring())
    assert secrets.store_password(PROFILE, "", SECRET) is False
    assert secrets.store_password(PROFILE, "j.doe", "") is False
    assert backend.items == {}
