"""Remember-me: the password lives only in a secure OS keyring, or is not remembered."""

from __future__ import annotations

import dataclasses

from factorypulse_desktop.runtime import secrets
from factorypulse_desktop.runtime.profiles import ConnectionProfile, ProfileStore


def load_password(profile: ConnectionProfile, username: str) -> str | None:
    return secrets.load_password(profile, username)


def after_sign_in(profile: ConnectionProfile, username: str, password: str, remember: bool,
                  store: ProfileStore | None = None) -> bool:
    """Keep the profile's last user name and remember flag; store or forget the password.

    Returns False when remembering was asked for but this computer has no secure keyring:
    then nothing is stored anywhere, and the caller says so.
    """
    store = store or ProfileStore()
    remembered = secrets.store_password(profile, username, password) if remember else True
    if not remember:
        secrets.forget_password(profile, username)
    updated = dataclasses.replace(profile, last_username=username,
                                  remember_password=remember and remembered)
    if store.get(profile.name) is not None:
        store.upsert(updated)
    store.last_used = profile.name
    return remembered
