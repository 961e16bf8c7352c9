"""Keyring backends for tests (importable as `fake_keyrings`): never the real OS keyring."""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """An in-memory OS-keyring stand-in."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.items[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None


class PlaintextKeyring(MemoryKeyring):
    """Looks like keyrings.alt's plain-text file backend (refused by its name)."""

    priority = 2


class AltFileKeyring(MemoryKeyring):
    """Pretends to come from keyrings.alt (refused by its module)."""


AltFileKeyring.__module__ = "keyrings.alt.file"


class SlowKeyring(MemoryKeyring):
    """A locked keyring waiting for an unlock prompt (released when the test ends)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(10)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(10)
        super().set_password(service, username, password)


class ExplodingKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError(f"backend failure mentioning {username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("backend failure")
