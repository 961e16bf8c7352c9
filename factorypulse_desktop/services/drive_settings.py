"""The organization's Google Drive set-up (administrators): its OAuth client and scopes.

The client is of type "Desktop" (docs/google-drive.md explains how an administrator creates
it). Its id and scopes are readable by staff; its secret only by administrators (row level
security on ``google_drive_client_secrets``), and staff receive it only through
``fp_private.drive_oauth_client`` while signing in (revision 0006). Scopes: ``drive.file`` —
only the files a person opens or creates with this app — unless the administrator also allows
reading every Drive file, which browsing folders that were not created here needs.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"
DRIVE_READONLY = "https://www.googleapis.com/auth/drive.readonly"
_CLIENT_ID = re.compile(r"^[0-9]+-[0-9a-z]+\.apps\.googleusercontent\.com$")
MAX_SECRET = 200


@dataclass(frozen=True)
class DriveSettings:
    client_id: str
    scopes: tuple[str, ...]
    allow_readonly: bool
    is_active: bool
    has_secret: bool  # False also for people who may not read it
    version: int


def scopes_for(allow_readonly: bool) -> tuple[str, ...]:
    return (DRIVE_FILE, DRIVE_READONLY) if allow_readonly else (DRIVE_FILE,)


def load_drive_settings(ws: Workspace, org: uuid.UUID) -> DriveSettings | None:
    """The set-up, or None when Google Drive was never set up for the organization."""
    return units.read(ws, lambda conn: _read(conn, org))


def _read(conn: Connection, org: uuid.UUID) -> DriveSettings | None:
    row = conn.execute(text(
        "SELECT c.client_id, c.scopes, c.allow_readonly_scope, c.is_active, c.version, "
        "EXISTS (SELECT 1 FROM google_drive_client_secrets s "
        "        WHERE s.organization_id = c.organization_id) AS has_secret "
        "FROM google_drive_config c WHERE c.organization_id = :org"), {"org": org}
    ).one_or_none()
    if row is None:
        return None
    return DriveSettings(row.client_id, tuple(row.scopes), row.allow_readonly_scope,
                         row.is_active, row.has_secret, row.version)


def check_client_id(value: str) -> str:
    client_id = value.strip()
    if not _CLIENT_ID.match(client_id):
        raise FieldError("client_id", "This is not an OAuth client id: it looks like "
                                      "123456789012-abc123.apps.googleusercontent.com. Copy it "
                                      "from the Google Cloud console (Credentials).")
    return client_id


def save_drive_settings(ws: Workspace, org: uuid.UUID, *, client_id: str,
                        client_secret: str | None, allow_readonly: bool, is_active: bool,
                        expected_version: int | None) -> DriveSettings:
    """Create or change the set-up; `client_secret` None keeps the stored one.

    `expected_version` None means "there was none yet"; a stale version is refused so that two
    administrators never overwrite each other unknowingly.
    """
    clean_id = check_client_id(client_id)
    secret = (client_secret or "").strip()
    if client_secret is not None and not secret:
        raise FieldError("client_secret", "Paste the client secret, or leave it unchanged.")
    if len(secret) > MAX_SECRET:
        raise FieldError("client_secret", "This is too long for a client secret.")

    def run(conn: Connection) -> DriveSettings:
        params = {"org": org, "client_id": clean_id, "scopes": list(scopes_for(allow_readonly)),
                  "readonly": allow_readonly, "active": is_active, "version": expected_version}
        if expected_version is None:
            if secret == "":
                raise FieldError("client_secret", "Paste the client secret.")
            changed = conn.execute(text(
                "INSERT INTO google_drive_config (organization_id, client_id, scopes, "
                "allow_readonly_scope, is_active) VALUES (:org, :client_id, :scopes, :readonly, "
                ":active) ON CONFLICT (organization_id) DO NOTHING RETURNING id"),
                params).scalar_one_or_none()
        else:
            changed = conn.execute(text(
                "UPDATE google_drive_config SET client_id = :client_id, scopes = :scopes, "
                "allow_readonly_scope = :readonly, is_active = :active "
                "WHERE organization_id = :org AND version = :version RETURNING id"),
                params).scalar_one_or_none()
        if changed is None:
            raise UserFacingError("Someone else changed the Google Drive set-up meanwhile, or "
                                  "you are not an administrator here. Reload and try again.")
        if secret:
            conn.execute(text(
                "INSERT INTO google_drive_client_secrets (organization_id, client_secret) "
                "VALUES (:org, :secret) ON CONFLICT (organization_id) DO UPDATE "
                "SET client_secret = EXCLUDED.client_secret"), {"org": org, "secret": secret})
        saved = _read(conn, org)
        assert saved is not None
        return saved

    return units.write(ws, run)
