"""Organizations, persons and memberships, through the SECURITY DEFINER functions.

Every person is a PostgreSQL login; the password leaves this computer only as a SCRAM
verifier computed by libpq, never as plain text in SQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.validation import (
    check_password,
    check_slug,
    check_username,
)


@dataclass(frozen=True)
class Organization:
    id: uuid.UUID
    slug: str
    name: str


def scram_verifier(connection: Connection, username: str, password: str) -> str:
    """Compute the SCRAM-SHA-256 verifier on the client, with libpq."""
    raw = connection.connection.driver_connection
    if raw is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("no live database connection")
    verifier: bytes = raw.pgconn.encrypt_password(
        password.encode("utf-8"), username.encode("utf-8"), b"scram-sha-256"
    )
    return verifier.decode("ascii")


def find_organization(connection: Connection, slug: str) -> Organization:
    row = connection.execute(
        text("SELECT id, slug, name FROM organizations WHERE slug = :slug"), {"slug": slug}
    ).one_or_none()
    if row is None:
        raise UserFacingError(f'There is no organization "{slug}".')
    return Organization(id=row.id, slug=row.slug, name=row.name)


def create_organization(connection: Connection, slug: str, name: str) -> Organization:
    check_slug(slug)
    if not name.strip():
        raise UserFacingError("An organization needs a name.")
    exists = connection.execute(
        text("SELECT 1 FROM organizations WHERE slug = :slug"), {"slug": slug}
    ).first()
    if exists:
        raise UserFacingError(f'An organization "{slug}" already exists.')
    org_id = connection.execute(
        text("SELECT fp_private.create_organization(:slug, :name)"),
        {"slug": slug, "name": name.strip()},
    ).scalar_one()
    return Organization(id=org_id, slug=slug, name=name.strip())


def add_person(
    connection: Connection,
    org: Organization,
    username: str,
    role: Role,
    password: str,
    *,
    display_name: str | None = None,
    email: str | None = None,
    contact_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Create a login for a new person and make them a member of `org`."""
    check_username(username)
    check_password(password)
    if role.is_portal and contact_id is None:
        raise UserFacingError(
            f"A {role.value} must be linked to the contact (company) they represent."
        )
    verifier = scram_verifier(connection, username, password)
    person_id: uuid.UUID = connection.execute(
        text(
            "SELECT fp_private.create_person(:org, :username, CAST(:role AS user_role), "
            ":verifier, :display_name, :email, :contact_id)"
        ),
        {
            "org": org.id,
            "username": username,
            "role": role.value,
            "verifier": verifier,
            "display_name": display_name,
            "email": email,
            "contact_id": contact_id,
        },
    ).scalar_one()
    return person_id


def add_membership(
    connection: Connection,
    org: Organization,
    username: str,
    role: Role,
    *,
    contact_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Make an existing person a member of one more organization."""
    person_id: uuid.UUID = connection.execute(
        text(
            "SELECT fp_private.add_membership(:org, :username, CAST(:role AS user_role), "
            ":contact_id)"
        ),
        {"org": org.id, "username": username, "role": role.value, "contact_id": contact_id},
    ).scalar_one()
    return person_id


def set_password(
    connection: Connection, person_id: uuid.UUID, username: str, password: str
) -> None:
    check_password(password)
    connection.execute(
        text("SELECT fp_private.set_password(:person, :verifier)"),
        {"person": person_id, "verifier": scram_verifier(connection, username, password)},
    )


def person_exists(connection: Connection, username: str) -> bool:
    return (
        connection.execute(
            text("SELECT 1 FROM persons WHERE role_name = :u"), {"u": username}
        ).first()
        is not None
    )
