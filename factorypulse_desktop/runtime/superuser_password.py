"""The superuser's generated password on Windows, kept in the OS keyring.

On Windows the server listens on 127.0.0.1, so the superuser needs a password too; it is made
at initdb and stored under the cluster's root folder, so every cluster has its own.
"""

from __future__ import annotations

from pathlib import Path

from factorypulse_desktop.runtime.errors import EmbeddedError

KEYRING_SERVICE = "factorypulse-desktop"


def _keyring_username(root: Path) -> str:
    return f"embedded-superuser:{root}"


def read_superuser_password(root: Path) -> str:
    """The stored password of the cluster in ``root``."""
    import keyring
    import keyring.errors

    try:
        password = keyring.get_password(KEYRING_SERVICE, _keyring_username(root))
    except keyring.errors.KeyringError as exc:
        raise EmbeddedError(f"The system keyring cannot be read: {exc}.") from exc
    if not password:
        raise EmbeddedError(
            f"The password of the embedded database in {root} is missing from the system keyring."
        )
    return password


def create_superuser_password(root: Path) -> str:
    """A new random password for the cluster in ``root``, stored (and read back) first."""
    import secrets  # loads OpenSSL (10 ms): only when a cluster is created

    import keyring
    import keyring.errors

    password = secrets.token_urlsafe(32)
    try:
        keyring.set_password(KEYRING_SERVICE, _keyring_username(root), password)
        stored = keyring.get_password(KEYRING_SERVICE, _keyring_username(root))
    except keyring.errors.KeyringError as exc:
        raise EmbeddedError(
            f"The system keyring cannot store the database password: {exc}."
        ) from exc
    if stored != password:
        raise EmbeddedError("The system keyring did not keep the database password.")
    return password
