"""A person's Drive connection through the services, on the demo database, with the real
Google libraries against the fake authorization server and the fake Drive (127.0.0.1).

T-OAUTH-07 (a withdrawn grant: forgotten here, marked revoked, the rest keeps working) and
T-OAUTH-09 (after a full flow the tokens are nowhere but the keyring) live here.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from drive_support import Google, browser, org_of
from fake_keyrings import MemoryKeyring
from rls_support import owner_conn

from factorypulse_desktop.integrations.gdrive.oauth import GrantRevokedError
from factorypulse_desktop.integrations.gdrive.tokens import GrantStore
from factorypulse_desktop.services import documents, gdrive
from factorypulse_desktop.services.auth import Workspace


def mine(ws: Workspace, org: uuid.UUID, store: GrantStore) -> gdrive.DriveAccount:
    """The fake Drive's account among the person's connections (the demo has others)."""
    return next(a for a in gdrive.accounts(ws, org, store)
                if a.account_id == "06218345127799402171")


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
