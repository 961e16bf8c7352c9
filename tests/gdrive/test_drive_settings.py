"""The organization's Google Drive set-up: administrators write it; the secret stays theirs,
except that staff receive it, and only it, while signing in (revision 0006)."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import drive_settings, gdrive
from factorypulse_desktop.services.auth import Workspace, sign_in

sys.path.append(str(Path(__file__).resolve().parents[1] / "db"))
from rls_support import org_id, owner_conn, person_conn

CLIENT_ID = "123456789012-abc123def.apps.googleusercontent.com"


@pytest.fixture
def admin(demo_db: Any) -> Iterator[Workspace]:
    with sign_in(profile_for(demo_db), "acme.admin", DEMO_PASSWORD) as ws:
        yield ws


@pytest.fixture
def acme(demo_db: Any) -> uuid.UUID:
    with owner_conn(demo_db) as conn:
        return org_id(conn, "acme")


def clear(db: Any, org: uuid.UUID) -> None:
    """The demo seeds a set-up; these tests start without one."""
    with owner_conn(db) as conn:
        conn.execute("DELETE FROM google_drive_client_secrets WHERE organization_id = %s",
                     (org,))
        conn.execute("DELETE FROM google_drive_config WHERE organization_id = %s", (org,))


def test_administrator_sets_up_drive_and_staff_get_the_client_to_sign_in(
        demo_db: Any, admin: Workspace, acme: uuid.UUID) -> None:
    clear(demo_db, acme)
    assert drive_settings.load_drive_settings(admin, acme) is None
    with pytest.raises(FieldError, match="not an OAuth client id"):
        drive_settings.save_drive_settings(admin, acme, client_id="my-client",
                                           client_secret="x", allow_readonly=False,
                                           is_active=True, expected_version=None)
    saved = drive_settings.save_drive_settings(
        admin, acme, client_id=CLIENT_ID, client_secret="GOCSPX-secret-1", allow_readonly=False,
        is_active=True, expected_version=None)
    assert saved.scopes == (drive_settings.DRIVE_FILE,) and saved.has_secret
    wider = drive_settings.save_drive_settings(
        admin, acme, client_id=CLIENT_ID, client_secret=None, allow_readonly=True,
        is_active=True, expected_version=saved.version)
    assert wider.scopes == (drive_settings.DRIVE_FILE, drive_settings.DRIVE_READONLY)
    with pytest.raises(UserFacingError, match="changed the Google Drive set-up"):
        drive_settings.save_drive_settings(
            admin, acme, client_id=CLIENT_ID, client_secret=None, allow_readonly=False,
            is_active=True, expected_version=saved.version)  # stale

    with sign_in(profile_for(demo_db), "acme.engineering", DEMO_PASSWORD) as engineer:
        seen = drive_settings.load_drive_settings(engineer, acme)
        assert seen is not None and seen.client_id == CLIENT_ID and not seen.has_secret
        client = gdrive.oauth_client(engineer, acme)
        assert (client.client_id, client.client_secret) == (CLIENT_ID, "GOCSPX-secret-1")
        assert "GOCSPX" not in repr(client)
        with pytest.raises(UserFacingError):
            drive_settings.save_drive_settings(
                engineer, acme, client_id=CLIENT_ID, client_secret="stolen",
                allow_readonly=False, is_active=True, expected_version=wider.version)
    with person_conn(demo_db, "acme.engineering") as conn:
        assert conn.execute("SELECT count(*) FROM google_drive_client_secrets"
                            ).fetchone() == (0,)


def test_only_staff_of_the_organization_receive_its_client(
        demo_db: Any, admin: Workspace, acme: uuid.UUID) -> None:
    clear(demo_db, acme)
    drive_settings.save_drive_settings(
        admin, acme, client_id=CLIENT_ID, client_secret="GOCSPX-secret-2", allow_readonly=False,
        is_active=True, expected_version=None)
    for outsider in ("acme.customer", "acme.supplier", "globex.admin"):
        with person_conn(demo_db, outsider) as conn, pytest.raises(
                psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM fp_private.drive_oauth_client(%s)", (acme,))


def test_inactive_or_missing_set_up_says_what_to_do(
        demo_db: Any, admin: Workspace, acme: uuid.UUID) -> None:
    clear(demo_db, acme)
    with pytest.raises(gdrive.DriveNotSetUpError, match="Administration → Google Drive"):
        gdrive.oauth_client(admin, acme)
    saved = drive_settings.save_drive_settings(
        admin, acme, client_id=CLIENT_ID, client_secret="GOCSPX-secret-3", allow_readonly=False,
        is_active=True, expected_version=None)
    drive_settings.save_drive_settings(
        admin, acme, client_id=CLIENT_ID, client_secret=None, allow_readonly=False,
        is_active=False, expected_version=saved.version)
    with pytest.raises(gdrive.DriveNotSetUpError):
        gdrive.oauth_client(admin, acme)
