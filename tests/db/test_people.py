"""Person management: only an organization's administrators manage its people."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors
from rls_support import org_id, owner_conn, person_conn
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from factorypulse_desktop.data import people
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError


def _unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def _org(conn: Any, slug: str) -> people.Organization:
    return people.find_organization(conn, slug)


def test_admin_adds_person_who_can_sign_in_with_scram(demo_db: Any) -> None:
    username = _unique("acme.new")
    engine = create_engine(demo_db.url_for("acme.admin"))
    with engine.begin() as conn:
        people.add_person(conn, _org(conn, "acme"), username, Role.QA, "a-good-password",
                          display_name="Quinn Q")
    engine.dispose()
    with owner_conn(demo_db) as conn:
        verifier = conn.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (username,)).fetchone()
        role = conn.execute(
            "SELECT m.role FROM memberships m JOIN persons p ON p.id = m.person_id "
            "WHERE p.role_name = %s", (username,)).fetchone()
    assert verifier is not None and verifier[0].startswith("SCRAM-SHA-256$")
    assert role == ("qa",)
    with psycopg.connect(demo_db.conninfo_for(username, "a-good-password")) as conn:
        assert conn.execute("SELECT count(*) > 0 FROM projects").fetchone() == (True,)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(demo_db.conninfo_for(username, "a-wrong-password"))


def test_admin_of_acme_cannot_create_or_change_globex_persons(demo_db: Any) -> None:
    engine = create_engine(demo_db.url_for("acme.admin"))
    with owner_conn(demo_db) as conn:
        globex = org_id(conn, "globex")
        globex_sales = conn.execute(
            "SELECT id FROM persons WHERE role_name = 'globex.sales'").fetchone()
    assert globex_sales is not None
    target = people.Organization(id=globex, slug="globex", name="Globex")
    with engine.begin() as conn, pytest.raises(DBAPIError) as info:
        people.add_person(conn, target, _unique("globex.evil"), Role.ADMIN, "password-123")
    assert isinstance(info.value.orig, errors.InsufficientPrivilege)
    for statement, params in (
        ("SELECT fp_private.set_membership(:o, :p, 'admin', 'active')",
         {"o": globex, "p": globex_sales[0]}),
        ("SELECT fp_private.add_membership(:o, 'acme.sales', 'admin')", {"o": globex}),
    ):
        with engine.begin() as conn, pytest.raises(Exception) as info:
            conn.execute(text(statement), params)
        assert "administrator" in str(info.value)
    with engine.begin() as conn, pytest.raises(Exception) as info:
        people.set_password(conn, globex_sales[0], "globex.sales", "stolen-password")
    assert "password" in str(info.value)
    engine.dispose()
    # globex.sales still signs in with the old password and is still sales.
    with psycopg.connect(demo_db.conninfo_for("globex.sales")) as conn:
        row = conn.execute("SELECT m.role FROM memberships m WHERE m.person_id = "
                           "fp_private.my_person_id()").fetchone()
    assert row == ("sales",)


@pytest.mark.parametrize("username", ["acme.sales", "acme.management", "acme.customer"])
def test_non_admin_cannot_create_persons(demo_db: Any, username: str) -> None:
    engine = create_engine(demo_db.url_for(username))
    new_name = _unique("acme.sneaky")
    with engine.begin() as conn, pytest.raises(Exception) as info:
        people.add_person(conn, _org(conn, "acme"), new_name, Role.ADMIN, "password-123")
    engine.dispose()
    assert "administrator" in str(info.value)
    with owner_conn(demo_db) as conn:
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                            (new_name,)).fetchone() is None


def test_person_changes_own_password(demo_db: Any) -> None:
    # A new person: logins are cluster-wide, so changing a demo login would leak into others.
    username = _unique("acme.pw")
    owner = create_engine(demo_db.owner_url)
    with owner.begin() as conn:
        people.add_person(conn, _org(conn, "acme"), username, Role.QA, "first-password")
    owner.dispose()
    engine = create_engine(demo_db.url_for(username, "first-password"))
    with engine.begin() as conn:
        me = conn.execute(text("SELECT fp_private.my_person_id()")).scalar_one()
        people.set_password(conn, me, username, "brand-new-password")
    engine.dispose()
    psycopg.connect(demo_db.conninfo_for(username, "brand-new-password")).close()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(demo_db.conninfo_for(username, "first-password"))


def test_person_in_two_organizations_sees_both(demo_db: Any) -> None:
    engine = create_engine(demo_db.owner_url)
    with engine.begin() as conn:
        people.add_membership(conn, _org(conn, "globex"), "acme.engineering", Role.ENGINEERING)
    engine.dispose()
    with person_conn(demo_db, "acme.engineering") as conn:
        slugs = {r[0] for r in conn.execute("SELECT slug FROM organizations")}
        orgs = {r[0] for r in conn.execute("SELECT DISTINCT organization_id FROM projects")}
    assert slugs == {"acme", "globex"}
    assert len(orgs) == 2


def test_validation_happens_before_the_database(migrated_db: Any) -> None:
    engine = create_engine(migrated_db.owner_url)
    with engine.begin() as conn:
        org = people.create_organization(conn, "valid-org", "Valid Org")
        with pytest.raises(UserFacingError, match="not a valid user name"):
            people.add_person(conn, org, "Bad Name", Role.SALES, "password-123")
        with pytest.raises(UserFacingError, match="reserved"):
            people.add_person(conn, org, "postgres", Role.SALES, "password-123")
        with pytest.raises(UserFacingError, match="8 characters"):
            people.add_person(conn, org, _unique("valid.short"), Role.SALES, "short")
        with pytest.raises(UserFacingError, match="contact"):
            people.add_person(conn, org, _unique("valid.cust"), Role.CUSTOMER, "password-123")
        with pytest.raises(UserFacingError, match="already exists"):
            people.create_organization(conn, "valid-org", "Again")
    engine.dispose()


def test_plain_password_is_refused_by_the_database(migrated_db: Any) -> None:
    engine = create_engine(migrated_db.owner_url)
    with engine.begin() as conn:
        org = people.create_organization(conn, "plain-org", "Plain Org")
    with engine.begin() as conn, pytest.raises(Exception, match="SCRAM"):
        conn.execute(text("SELECT fp_private.create_person(:o, :u, 'sales', 'plaintext-pass')"),
                     {"o": org.id, "u": _unique("plain.user")})
    engine.dispose()
