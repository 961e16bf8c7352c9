"""Fixtures shared by the Drive tests: both fakes on 127.0.0.1, an in-memory keyring, an
engineer of an organization whose administrator set up Google Drive, and the fake browser."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from drive_support import Google
from fake_drive import FakeDrive
from fake_drive import serve as serve_drive
from fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle, serve
from fake_keyrings import MemoryKeyring
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.runtime import secrets
from factorypulse_desktop.runtime.profiles import CONFIG_DIR_ENV_VAR
from factorypulse_desktop.services import drive_settings
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.gdrive import GoogleEndpoints

sys.path.append(str(Path(__file__).resolve().parents[1] / "db"))
from rls_support import org_id, owner_conn


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
