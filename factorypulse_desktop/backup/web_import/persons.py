"""The organization and its people: old users become persons with a login of their own.

Persons get a fresh login with a one-time password that is returned once (printed by the CLI)
and never stored. A portal user (customer, supplier) is a login tied to the contact company it
represents: it is imported when exactly one contact of its kind has its e-mail address.
"""

from __future__ import annotations

import re
import secrets
import uuid

from sqlalchemy import text

from factorypulse_desktop.backup.web_import.mapping import Row
from factorypulse_desktop.backup.web_import.state import ImportState
from factorypulse_desktop.data import people
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError


def import_organization(state: ImportState, rows: list[Row], slug: str | None) -> None:
    if not rows:
        raise UserFacingError("The backup holds no organization.")
    old = rows[0]
    slug = slug or (old.get("slug") or "web-import")
    name = old.get("name") or slug
    try:
        org = people.find_organization(state.conn, slug)
        state.report.already["organizations"] += 1
    except UserFacingError:
        org = people.create_organization(state.conn, slug, name)
        state.report.created["organizations"] += 1
    state.org = org.id
    state.report.organization = org.slug
    for row in rows:
        state.ids["organizations"][row["id"] or ""] = org.id


def import_users(state: ImportState, rows: list[Row], contacts: list[Row] | None = None) -> None:
    """Internal users without `contacts`; portal users (after the contacts) with them."""
    for row in rows:
        old_id = row.get("id") or ""
        try:
            role = Role(row.get("role") or "")
        except ValueError:
            if contacts is None:
                state.report.skip("users", old_id, f'role "{row.get("role")}" unknown')
            continue
        if role.is_portal != (contacts is not None):
            continue
        contact = None
        if contacts is not None:
            contact = _company_of(state, row, role, contacts)
            if contact is None:
                state.report.skip("users", old_id, f"a {role.value} login needs its company: "
                                  f"no single {role.value} contact has this e-mail; "
                                  "add them again from the contact")
                continue
        _add_person(state, row, role, contact)


def _company_of(state: ImportState, row: Row, role: Role, contacts: list[Row]
                ) -> uuid.UUID | None:
    """The imported contact of the user's kind with the same e-mail, when there is one only."""
    email = (row.get("email") or "").strip().lower()
    found = {state.ref("contacts", c.get("id")) for c in contacts
             if email and (c.get("email") or "").strip().lower() == email
             and c.get("type") == role.value}
    found.discard(None)
    return found.pop() if len(found) == 1 else None


def _add_person(state: ImportState, row: Row, role: Role, contact: uuid.UUID | None) -> None:
    old_id, email = row.get("id") or "", (row.get("email") or "").lower()
    username, found = _login_for(state, _username(email or old_id), email)
    if found is not None:
        state.ids["users"][old_id] = found
        state.report.already["persons"] += 1
        return
    password = secrets.token_urlsafe(12)
    org = people.Organization(state.org, state.report.organization, "")
    state.ids["users"][old_id] = people.add_person(
        state.conn, org, username, role, password,
        display_name=row.get("name"), email=email or None, contact_id=contact,
    )
    state.report.created["persons"] += 1
    state.report.passwords.append((username, password))


def _login_for(state: ImportState, base: str, email: str) -> tuple[str, uuid.UUID | None]:
    """This person's login from an earlier run, or a name no role of the cluster has."""
    for n in range(1, 100):
        name = base if n == 1 else f"{base[:60]}-{n}"
        person = state.conn.execute(text(
            "SELECT id, lower(coalesce(email, '')) AS email FROM persons WHERE role_name = :u"
        ), {"u": name}).one_or_none()
        if person is not None and person.email == email:
            return name, person.id
        taken = state.conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :u"), {"u": name}).first()
        if person is None and taken is None:
            return name, None
    raise UserFacingError(f'No free user name for "{base}".')


def _username(email: str) -> str:
    local = re.sub(r"[^a-z0-9._-]", "-", email.split("@")[0].lower()).strip("-.")
    if not local or not local[0].isalpha():
        local = "user-" + local
    if local.startswith(("pg_", "fp_")):
        local = "web-" + local
    return (local + "-web")[:63] if len(local) < 3 else local[:63]
