"""A person's Drive connection through the services, on the demo database, with the real
Google libraries against the fake authorization server and the fake Drive (127.0.0.1).

T-OAUTH-07 (a withdrawn grant: forgotten here, marked revoked, the rest keeps working) and
T-OAUTH-09 (after a full flow the tokens are nowhere but the keyring) live here.
"""

from __future__ import annotations

import logging
import sys
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import pytest
from fake_drive import FakeDrive
from fake_drive import serve as serve_drive
from fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle, serve, visit
from fake_keyrings import MemoryKeyring
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.integrations.gdrive.oauth import GrantRevokedError
from factorypulse_desktop.integrations.gdrive.tokens import GrantStore
from factorypulse_desktop.runtime import secrets
from factorypulse_desktop.runtime.profiles import CONFIG_DIR_ENV_VAR
from factorypulse_desktop.services import documents, drive_settings, gdrive
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.gdrive import GoogleEndpoints

sys.path.append(str(Path(__file__).resolve().parents[1] / "db"))
from rls_support import org_id, owner_conn


@dataclass
class Google:
    auth: FakeGoogle
    drive: FakeDrive
    endpoints: GoogleEndpoints


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[Google]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # http fakes (tests only)
    auth = FakeGoogle()
    auth_server = serve(auth)
    drive = FakeDrive(auth.access_tokens)
    drive_server = serve_drive(drive)
    try:
        yield Google(auth, drive, GoogleEndpoints(auth.auth_uri, auth.token_uri,
                                                  auth.revoke_uri, drive.root_url))
    finally:
        for server in (auth_server, drive_server):
            server.shutdown()
            server.server_close()


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.setenv(CONFIG_DIR_ENV_VAR, str(tmp_path / "config"))
    monkeypatch.setattr(secrets, "_logged_backends", set())
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def engineer(demo_db: Any) -> Iterator[Workspace]:
    with owner_conn(demo_db) as conn:
        acme = org_id(conn, "acme")
        conn.execute("DELETE FROM google_drive_client_secrets WHERE organization_id = %s",
                     (acme,))
        conn.execute("DELETE FROM google_drive_config WHERE organization_id = %s", (acme,))
    with sign_in(profile_for(demo_db), "acme.admin", DEMO_PASSWORD) as admin:
        drive_settings.save_drive_settings(admin, acme, client_id=CLIENT_ID,
                                           client_secret=CLIENT_SECRET, allow_readonly=False,
                                           is_active=True, expected_version=None)
    with sign_in(profile_for(demo_db), "acme.engineering", DEMO_PASSWORD) as ws:
        yield ws


def org_of(ws: Workspace) -> uuid.UUID:
    return ws.identity.memberships[0].organization_id


def mine(ws: Workspace, org: uuid.UUID, store: GrantStore) -> gdrive.DriveAccount:
    """The fake Drive's account among the person's connections (the demo has others)."""
    return next(a for a in gdrive.accounts(ws, org, store)
                if a.account_id == "06218345127799402171")


def browser(google: Google) -> Any:
    """Accepts the consent screen and returns to the app's loopback port, on a thread."""
    def open_browser(url: str) -> None:
        answer = google.auth.consent(url)
        redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["redirect_uri"][0]
        threading.Thread(target=visit, args=(redirect + "?" + urllib.parse.urlencode(answer),),
                         daemon=True).start()
    return open_browser


def test_connect_use_and_disconnect(google: Google, kept: MemoryKeyring,
                                    engineer: Workspace) -> None:
    org, store = org_of(engineer), GrantStore()
    result = gdrive.connect(engineer, org, store, open_browser=browser(google),
                            endpoints=google.endpoints)
    assert result.remembered
    assert result.account.account_id == "06218345127799402171"
    assert result.account.email == "ada@example.com" and result.account.on_this_computer
    assert list(kept.items) == [("factorypulse-desktop", f"gdrive:{org}:06218345127799402171")]
    google.drive.add_folder("Customer drawings")
    drive = gdrive.drive_for(engineer, org, "06218345127799402171", store,
                             endpoints=google.endpoints)
    assert [i.name for i in drive.list_folder().items] == ["Customer drawings"]
    account = mine(engineer, org, store)
    assert account.status == "connected" and account.last_refreshed_at is not None
    assert gdrive.disconnect(engineer, org, account.account_id, store,
                             endpoints=google.endpoints) is True
    assert kept.items == {}
    account = mine(engineer, org, store)
    assert (account.status, account.on_this_computer) == ("disconnected", False)
    with pytest.raises(gdrive.DriveNotConnectedError):
        gdrive.drive_for(engineer, org, account.account_id, store, endpoints=google.endpoints)


def test_T_OAUTH_07_a_withdrawn_grant_disconnects_drive_and_nothing_else(
        google: Google, kept: MemoryKeyring, engineer: Workspace) -> None:
    org, store = org_of(engineer), GrantStore()
    result = gdrive.connect(engineer, org, store, open_browser=browser(google),
                            endpoints=google.endpoints)
    google.auth.revoked.update(google.auth.refresh_tokens)  # removed in the Google account
    with pytest.raises(GrantRevokedError, match="Reconnect Google Drive"):
        gdrive.drive_for(engineer, org, result.account.account_id, store,
                         endpoints=google.endpoints)
    assert kept.items == {}  # the keyring entry is gone
    account = mine(engineer, org, store)
    assert account.status == "revoked" and not account.on_this_computer
    assert documents.list_documents(engineer, org, documents.DocumentQuery())  # still works


def test_T_OAUTH_09_tokens_are_nowhere_but_the_keyring(
        google: Google, kept: MemoryKeyring, engineer: Workspace, demo_db: Any,
        tmp_path: Path) -> None:
    log_file = tmp_path / "app.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # everything every library logs during the flow
    try:
        org, store = org_of(engineer), GrantStore()
        result = gdrive.connect(engineer, org, store, open_browser=browser(google),
                                endpoints=google.endpoints)
        drive = gdrive.drive_for(engineer, org, result.account.account_id, store,
                                 endpoints=google.endpoints)
        drive.list_folder()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    tokens = sorted(google.auth.refresh_tokens) + google.auth.access_tokens
    assert len(tokens) >= 3
    assert any(t in value for t in google.auth.refresh_tokens for value in kept.items.values())
    # The database: every row of every table, as the owner, as text.
    with owner_conn(demo_db) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        dump = "\n".join(str(r[0]) for t in tables for r in conn.execute(
            f'SELECT row_to_json(x)::text FROM "{t}" x'))
    assert "06218345127799402171" in dump  # the connection facts are there
    # The log file, the settings and saved connections folder, crash reports (none exist).
    texts = {"database": dump, "log": log_file.read_text(errors="ignore")}
    for path in (tmp_path / "config").rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_text(errors="ignore")
    for where, content in texts.items():
        for token in tokens:
            assert token not in content, f"a token leaked into {where}"
