"""A person's Google Drive connection: connect, use, notice a withdrawn grant, disconnect.

Where things live (issue 6, T-OAUTH-09): the refresh token only in this computer's OS keyring
(`integrations.gdrive.tokens.GrantStore`, or memory for the session without a secure keyring);
access tokens only in memory; the database holds the non-secret facts — which Google account,
its e-mail, the granted scopes, when it was connected and last refreshed, and whether it is
connected, disconnected or revoked (``google_drive_connections``, readable by the person and
the organization's administrators).

Blocking (network, keyring): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.integrations.gdrive import oauth
from factorypulse_desktop.integrations.gdrive.oauth import GrantRevokedError, OAuthClient
from factorypulse_desktop.integrations.gdrive.tokens import Grant, GrantStore
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

if TYPE_CHECKING:
    from factorypulse_desktop.integrations.gdrive.drive import DriveClient

DRIVE_ROOT = "https://www.googleapis.com/"


@dataclass(frozen=True)
class GoogleEndpoints:
    """Where Google listens (tests point these at fakes on 127.0.0.1)."""

    auth_uri: str = oauth.AUTH_URI
    token_uri: str = oauth.TOKEN_URI
    revoke_uri: str = oauth.REVOKE_URI
    drive_root: str = DRIVE_ROOT


GOOGLE = GoogleEndpoints()
_STORE = GrantStore()


def default_store() -> GrantStore:
    """The app's grant store: one per process, so a grant kept in memory (no secure keyring)
    lasts the whole session."""
    return _STORE


@dataclass(frozen=True)
class DriveAccount:
    account_id: str
    email: str | None
    scopes: tuple[str, ...]
    status: str  # connected | disconnected | revoked
    connected_at: dt.datetime
    last_refreshed_at: dt.datetime | None
    on_this_computer: bool  # the grant is kept here (keyring, or memory this session)


@dataclass(frozen=True)
class ConnectResult:
    account: DriveAccount
    remembered: bool  # False: no secure keyring, kept for this session only


class DriveNotSetUpError(UserFacingError):
    def __init__(self) -> None:
        super().__init__("Google Drive is not set up for this organization yet. An "
                         "administrator sets it up in Administration → Google Drive.")


class DriveNotConnectedError(UserFacingError):
    def __init__(self) -> None:
        super().__init__("Google Drive is not connected on this computer. Connect it first "
                         "(Documents → Google Drive → Connect).")


def oauth_client(ws: Workspace, org: uuid.UUID,
                 endpoints: GoogleEndpoints = GOOGLE) -> OAuthClient:
    """The organization's OAuth client for signing in (revision 0006's function)."""
    row = units.read(ws, lambda conn: conn.execute(text(
        "SELECT client_id, client_secret, scopes FROM fp_private.drive_oauth_client(:org)"),
        {"org": org}).one_or_none())
    if row is None:
        raise DriveNotSetUpError()
    return OAuthClient(row.client_id, row.client_secret, tuple(row.scopes),
                       auth_uri=endpoints.auth_uri, token_uri=endpoints.token_uri,
                       revoke_uri=endpoints.revoke_uri)


def _drive(credentials: Any, endpoints: GoogleEndpoints) -> DriveClient:
    from factorypulse_desktop.integrations.gdrive.drive import DriveClient

    return DriveClient(credentials, root_url=endpoints.drive_root)


def connect(ws: Workspace, org: uuid.UUID, store: GrantStore, *,
            open_browser: Callable[[str], object], cancelled: Callable[[], bool] = lambda: False,
            endpoints: GoogleEndpoints = GOOGLE,
            timeout_s: float = oauth.FLOW_TIMEOUT_S) -> ConnectResult:
    """Sign in in the browser, keep the grant on this computer, record the connection."""
    client = oauth_client(ws, org, endpoints)
    flow = oauth.LoopbackFlow(client, open_browser=open_browser, cancelled=cancelled,
                              timeout_s=timeout_s)
    connected = flow.run()
    account_id, email = _drive(connected.credentials, endpoints).about()
    remembered = store.save(org, Grant(account_id, connected.refresh_token, client.client_id,
                                       connected.scopes, email))
    units.write(ws, lambda conn: conn.execute(text(
        "INSERT INTO google_drive_connections (organization_id, person_id, google_account_id, "
        "google_email, scopes, status, last_refreshed_at) VALUES (:org, :me, :account, "
        ":email, :scopes, 'connected', now()) ON CONFLICT (organization_id, person_id, "
        "google_account_id) DO UPDATE SET google_email = EXCLUDED.google_email, "
        "scopes = EXCLUDED.scopes, status = 'connected', connected_at = now(), "
        "last_refreshed_at = now()"),
        {"org": org, "me": ws.identity.person_id, "account": account_id, "email": email,
         "scopes": list(connected.scopes)}))
    account = next(a for a in accounts(ws, org, store) if a.account_id == account_id)
    return ConnectResult(account, remembered)


def accounts(ws: Workspace, org: uuid.UUID, store: GrantStore) -> list[DriveAccount]:
    """The person's Google accounts of this organization, newest connection first."""
    def run(conn: Connection) -> list[Any]:
        return list(conn.execute(text(
            "SELECT google_account_id, google_email, scopes, status, connected_at, "
            "last_refreshed_at FROM google_drive_connections "
            "WHERE organization_id = :org AND person_id = :me ORDER BY connected_at DESC"),
            {"org": org, "me": ws.identity.person_id}))

    rows = units.read(ws, run)
    return [DriveAccount(r.google_account_id, r.google_email, tuple(r.scopes), r.status,
                         r.connected_at, r.last_refreshed_at,
                         store.load(org, r.google_account_id) is not None) for r in rows]


def _set_status(ws: Workspace, org: uuid.UUID, account_id: str, status: str,
                refreshed: bool = False) -> None:
    stamp = ", last_refreshed_at = now()" if refreshed else ""
    units.write(ws, lambda conn: conn.execute(text(
        f"UPDATE google_drive_connections SET status = :status{stamp} "
        "WHERE organization_id = :org AND person_id = :me AND google_account_id = :account"),
        {"status": status, "org": org, "me": ws.identity.person_id, "account": account_id}))


def drive_for(ws: Workspace, org: uuid.UUID, account_id: str, store: GrantStore, *,
              endpoints: GoogleEndpoints = GOOGLE) -> DriveClient:
    """A Drive client for the account, with a fresh access token.

    When Google says the grant was withdrawn or expired (``invalid_grant``), the grant is
    forgotten on this computer, the connection marked revoked, and `GrantRevokedError`
    ("reconnect Google Drive") raised; nothing else in the app is affected (T-OAUTH-07).
    """
    grant = store.load(org, account_id)
    if grant is None:
        raise DriveNotConnectedError()
    client = oauth_client(ws, org, endpoints)
    credentials = oauth.credentials_for(client, grant.refresh_token, grant.scopes)
    try:
        oauth.refresh(credentials)
    except GrantRevokedError:
        store.forget(org, account_id)
        _set_status(ws, org, account_id, "revoked")
        raise
    _set_status(ws, org, account_id, "connected", refreshed=True)
    return _drive(credentials, endpoints)


def disconnect(ws: Workspace, org: uuid.UUID, account_id: str, store: GrantStore, *,
               endpoints: GoogleEndpoints = GOOGLE) -> bool:
    """Withdraw the grant at Google, forget it here, mark the connection disconnected.

    Returns whether Google confirmed; when it could not be reached the grant is still
    forgotten here (it then lapses at Google unused, or the person removes it in their Google
    account)."""
    grant = store.load(org, account_id)
    confirmed = False
    if grant is not None:
        client = oauth_client(ws, org, endpoints)
        confirmed = oauth.revoke(client, grant.refresh_token)
    store.forget(org, account_id)
    _set_status(ws, org, account_id, "disconnected")
    return confirmed
