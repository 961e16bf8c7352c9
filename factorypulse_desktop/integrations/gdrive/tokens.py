"""Google Drive grants on this computer: the refresh token in the OS keyring, nowhere else.

One keyring entry per organization and Google account (service ``factorypulse-desktop``,
user name ``gdrive:<organization>:<account>``, T-OAUTH-13), holding a small JSON document:
the refresh token, the client id it belongs to and the granted scopes — at most
`MAX_PAYLOAD` characters, well under what Windows Credential Manager keeps (≈ 1,280
characters; T-OAUTH-12). Never the access token, never an id token.

Without a secure keyring (``fail``/``null``/plain-text backends are refused by
`runtime.secrets`, T-OAUTH-10 and T-OAUTH-14) the grant stays in this process's memory for the
session and `save` says so; nothing is written to disk or to the database. Nothing here logs a
token.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime import secrets

MAX_PAYLOAD = 1000


@dataclass(frozen=True)
class Grant:
    """What lets this computer reach one Google account's Drive for one organization."""

    account_id: str
    refresh_token: str
    client_id: str
    scopes: tuple[str, ...]
    email: str | None = None

    def __repr__(self) -> str:  # a grant must never print its token (logs, tracebacks)
        return (f"Grant(account_id={self.account_id!r}, email={self.email!r}, "
                f"scopes={self.scopes!r}, refresh_token=<hidden>)")


class GrantTooLargeError(UserFacingError):
    def __init__(self, size: int) -> None:
        super().__init__(
            f"Google's answer is too large to keep safely on this computer ({size} characters; "
            f"at most {MAX_PAYLOAD}). Connect Google Drive again.")


def keyring_key(org: uuid.UUID, account_id: str) -> str:
    return f"gdrive:{org}:{account_id}"


def encode(grant: Grant) -> str:
    payload = json.dumps({"rt": grant.refresh_token, "cid": grant.client_id,
                          "sc": list(grant.scopes), "em": grant.email},
                         separators=(",", ":"))
    if len(payload) > MAX_PAYLOAD:
        raise GrantTooLargeError(len(payload))
    return payload


def decode(account_id: str, payload: str) -> Grant | None:
    try:
        data = json.loads(payload)
        return Grant(account_id, str(data["rt"]), str(data["cid"]),
                     tuple(str(s) for s in data.get("sc") or ()), data.get("em"))
    except (ValueError, KeyError, TypeError):
        return None


class GrantStore:
    """The keyring, or this session's memory when there is no secure keyring."""

    def __init__(self) -> None:
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()

    def save(self, org: uuid.UUID, grant: Grant) -> bool:
        """Keep the grant; False when it is kept in memory only (tell the person)."""
        payload = encode(grant)
        key = keyring_key(org, grant.account_id)
        if secrets.store_secret(key, payload):
            with self._lock:
                self._memory.pop(key, None)
            return True
        with self._lock:
            self._memory[key] = payload
        return False

    def load(self, org: uuid.UUID, account_id: str) -> Grant | None:
        key = keyring_key(org, account_id)
        with self._lock:
            payload = self._memory.get(key)
        if payload is None:
            payload = secrets.load_secret(key)
        return decode(account_id, payload) if payload else None

    def forget(self, org: uuid.UUID, account_id: str) -> None:
        key = keyring_key(org, account_id)
        with self._lock:
            self._memory.pop(key, None)
        secrets.forget_secret(key)
