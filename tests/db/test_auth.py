"""Signing in as a person: identity through RLS, and every failure as one plain sentence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from rls_support import owner_conn
from sqlalchemy import text

from factorypulse_desktop.data import migrate
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime import local_server
from factorypulse_desktop.runtime.embedded import EmbeddedCluster
from factorypulse_desktop.services import auth
from factorypulse_desktop.services.auth import (
    ConnectionProfile,
    SignInError,
    SignInProblem,
    sign_in,
)
from factorypulse_desktop.services.organizations import currency_decimals, organization_locale

PASSWORD = "factorypulse-demo"
FUTURE_HEAD = "29991231_9999"


def server_profile(db: Any, **changes: Any) -> ConnectionProfile:
    """A server-kind profile pointing at the test cluster's socket folder."""
    values: dict[str, Any] = {
        "name": "Test server",
        "kind": "server",
        "host": str(db.cluster.socket_dir),
        "port": db.cluster.port,
        "database": db.name,
        "sslmode": "disable",
    }
    values.update(changes)
    return ConnectionProfile(**values)


def expect_problem(
    profile: ConnectionProfile, username: str, password: str, problem: SignInProblem
) -> SignInError:
    with pytest.raises(SignInError) as caught:
        sign_in(profile, username, password)
    error = caught.value
    assert error.problem is problem, str(error)
    assert password not in str(error)
    message = str(error)
    assert "\n" not in message and "Traceback" not in message and "psycopg" not in message
    return error


@pytest.fixture
def future_head(monkeypatch: pytest.MonkeyPatch) -> str:
    """Pretend this app knows a revision newer than the database's: the database is older."""
    real = migrate.head_revision()
    known = migrate.known_revisions() | {FUTURE_HEAD}
    monkeypatch.setattr(migrate, "head_revision", lambda: FUTURE_HEAD)
    monkeypatch.setattr(migrate, "known_revisions", lambda: known)
    return real


@pytest.fixture
def bare_login(demo_db: Any) -> Iterator[str]:
    """A LOGIN role with CONNECT on the database that is not a person."""
    name = f"bare_{uuid.uuid4().hex[:8]}"
    with owner_conn(demo_db, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal("bare-login-password")
            )
        )
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(demo_db.name), sql.Identifier(name)
            )
        )
    try:
        yield name
    finally:
        with owner_conn(demo_db, autocommit=True) as conn:
            conn.execute(
                sql.SQL("REVOKE CONNECT ON DATABASE {} FROM {}").format(
                    sql.Identifier(demo_db.name), sql.Identifier(name)
                )
            )
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


# -- success ---------------------------------------------------------------------------------


def test_sign_in_returns_the_person_and_their_membership(demo_db: Any) -> None:
    with owner_conn(demo_db) as conn:
        row = conn.execute(
            "SELECT p.id, p.display_name, o.id FROM persons p JOIN memberships m "
            "ON m.person_id = p.id JOIN organizations o ON o.id = m.organization_id "
            "WHERE p.role_name = 'acme.admin'"
        ).fetchone()
    assert row is not None
    person_id, display_name, acme_id = row

    workspace = sign_in(server_profile(demo_db), " acme.admin ", PASSWORD)
    try:
        identity = workspace.identity
        assert identity.person_id == person_id
        assert identity.username == "acme.admin"
        assert identity.display_name == display_name
        assert len(identity.memberships) == 1
        membership = identity.memberships[0]
        assert membership.organization_id == acme_id
        assert membership.slug == "acme"
        assert membership.name == "Acme Precision Manufacturing"
        assert membership.role is Role.ADMIN
        assert membership.settings["currency"] == "USD"
        assert membership.settings["timezone"] == "America/Chicago"
        assert identity.membership(acme_id) == membership
        assert organization_locale(membership) == ("en_US", "USD")
        assert "acme.admin" in repr(workspace) and PASSWORD not in repr(workspace)

        with workspace.transaction() as conn:
            assert conn.execute(text("SELECT session_user")).scalar_one() == "acme.admin"
            orgs = conn.execute(text("SELECT slug FROM organizations")).scalars().all()
            assert orgs == ["acme"]  # RLS: only their own organization
            raw = conn.connection.driver_connection
            assert raw is not None
            params = raw.info.get_parameters()
            assert params["connect_timeout"] == "5"
            assert params["keepalives"] == "1"
            assert params["keepalives_idle"] == "30"
            assert params["tcp_user_timeout"] == "30000"

        # The listener's connection string: same login, works with plain psycopg.
        conninfo = workspace.conninfo()
        assert "keepalives=1" in conninfo
        with psycopg.connect(conninfo, autocommit=True) as listener:
            who = listener.execute("SELECT session_user, current_setting('application_name')")
            assert who.fetchone() == ("acme.admin", auth.LISTENER_APPLICATION_NAME)
    finally:
        workspace.close()
    assert workspace.closed
    with pytest.raises(UserFacingError, match="signed out"):
        workspace.transaction()
    workspace.close()  # twice is fine


def test_a_person_in_two_organizations_gets_both(demo_db: Any) -> None:
    with owner_conn(demo_db, autocommit=True) as conn:
        globex = conn.execute("SELECT id FROM organizations WHERE slug = 'globex'").fetchone()
        assert globex is not None
        conn.execute("SELECT fp_private.add_membership(%s, 'acme.sales', 'qa', NULL)", (globex[0],))
    with sign_in(server_profile(demo_db), "acme.sales", PASSWORD) as workspace:
        memberships = workspace.identity.memberships
    assert [(m.slug, m.role) for m in memberships] == [("acme", Role.SALES), ("globex", Role.QA)]
    assert organization_locale(memberships[1]) == ("en_US", "EUR")


# -- failures --------------------------------------------------------------------------------


def test_wrong_password_and_unknown_user(demo_db: Any) -> None:
    profile = server_profile(demo_db)
    error = expect_problem(profile, "acme.admin", "not-the-password", SignInProblem.WRONG_PASSWORD)
    assert str(error) == "The user name or password is wrong."
    error = expect_problem(profile, "nobody.here", "whatever-pw", SignInProblem.WRONG_PASSWORD)
    assert str(error) == "The user name or password is wrong."


def test_empty_user_name_or_password_is_refused_before_connecting(demo_db: Any) -> None:
    profile = server_profile(demo_db)
    with pytest.raises(SignInError, match="Enter your user name") as caught:
        sign_in(profile, "  ", PASSWORD)
    assert caught.value.problem is SignInProblem.WRONG_PASSWORD
    with pytest.raises(SignInError, match="Enter your password"):
        sign_in(profile, "acme.admin", "")


def test_unreachable_server(demo_db: Any, tmp_path: Path) -> None:
    profile = server_profile(demo_db, host=str(tmp_path))  # a socket folder with no server
    error = expect_problem(profile, "acme.admin", PASSWORD, SignInProblem.UNREACHABLE)
    assert "cannot be reached" in str(error)
    assert "Check that it is running" in str(error) and "try again" in str(error)
    assert not error.can_upgrade
    assert error.temporary, "the sign-in window tries again by itself"


def test_unknown_database_name(demo_db: Any) -> None:
    profile = server_profile(demo_db, database="no_such_database")
    error = expect_problem(profile, "acme.admin", PASSWORD, SignInProblem.SCHEMA_MISSING)
    assert 'There is no database "no_such_database"' in str(error)


def test_a_login_that_is_not_a_person(demo_db: Any, bare_login: str) -> None:
    error = expect_problem(
        server_profile(demo_db), bare_login, "bare-login-password", SignInProblem.NOT_A_PERSON
    )
    assert f'"{bare_login}" can sign in to the database server but is not a person' in str(error)


def test_the_superuser_is_never_a_person(demo_db: Any) -> None:
    # The test cluster trusts its superuser on the private socket: any password works.
    error = expect_problem(
        server_profile(demo_db),
        demo_db.cluster.superuser,
        "anything-at-all",
        SignInProblem.NOT_A_PERSON,
    )
    assert "administrator login, not a person" in str(error)


def test_inactive_membership_and_inactive_person(demo_db: Any) -> None:
    with owner_conn(demo_db, autocommit=True) as conn:
        conn.execute(
            "UPDATE memberships SET status = 'inactive' WHERE person_id = "
            "(SELECT id FROM persons WHERE role_name = 'acme.sales')"
        )
        conn.execute("UPDATE persons SET status = 'suspended' WHERE role_name = 'acme.qa'")
    profile = server_profile(demo_db)
    error = expect_problem(profile, "acme.sales", PASSWORD, SignInProblem.INACTIVE)
    assert "not active in any organization" in str(error)
    expect_problem(profile, "acme.qa", PASSWORD, SignInProblem.NOT_A_PERSON)
    with sign_in(profile, "acme.engineering", PASSWORD) as workspace:  # others are unaffected
        assert workspace.identity.memberships[0].role is Role.ENGINEERING


def test_a_login_switched_off_is_inactive(demo_db: Any) -> None:
    with owner_conn(demo_db, autocommit=True) as conn:
        conn.execute('ALTER ROLE "globex.qa" NOLOGIN')
    try:
        error = expect_problem(
            server_profile(demo_db), "globex.qa", PASSWORD, SignInProblem.INACTIVE
        )
        assert "switched off" in str(error)
    finally:
        with owner_conn(demo_db, autocommit=True) as conn:
            conn.execute('ALTER ROLE "globex.qa" LOGIN')


def test_schema_older_than_the_app(demo_db: Any, future_head: str) -> None:
    error = expect_problem(
        server_profile(demo_db), "acme.admin", PASSWORD, SignInProblem.SCHEMA_OLDER
    )
    assert "An administrator must run `factorypulse db upgrade`" in str(error)
    assert future_head in str(error)
    assert error.database_revision == future_head
    assert not error.can_upgrade  # a server: only its administrator upgrades it
    with pytest.raises(UserFacingError, match="Only an administrator"):
        auth.upgrade_schema(server_profile(demo_db))


def test_schema_newer_than_the_app(demo_db: Any) -> None:
    with owner_conn(demo_db, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zz_future'")
    error = expect_problem(
        server_profile(demo_db), "acme.admin", PASSWORD, SignInProblem.SCHEMA_NEWER
    )
    assert "needs a newer Factory Pulse" in str(error)
    assert '"zz_future"' in str(error)
    assert error.database_revision == "zz_future"
    assert not error.can_upgrade


def test_schema_missing(empty_db: Any, seeded_template: str) -> None:
    # seeded_template: the demo persons' logins exist in the cluster (roles are cluster-wide).
    error = expect_problem(
        server_profile(empty_db), "acme.admin", PASSWORD, SignInProblem.SCHEMA_MISSING
    )
    assert "holds no Factory Pulse data yet" in str(error)
    assert "factorypulse db upgrade" in str(error)
    assert not error.can_upgrade


# -- embedded profiles -----------------------------------------------------------------------


@pytest.fixture
def embedded_on_test_cluster(pg_cluster: EmbeddedCluster, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Make embedded profiles use the session's cluster; returns a setter for the database."""
    monkeypatch.setattr(local_server, "_shared", {})  # never stop the session's cluster
    monkeypatch.setattr(local_server, "embedded_cluster", lambda _profile: pg_cluster)

    def use(database: str) -> ConnectionProfile:
        monkeypatch.setattr(local_server, "DATABASE_NAME", database)
        return ConnectionProfile(name="Here", kind="embedded", embedded_profile="test",
                                 database=database)

    return use


def test_embedded_sign_in(demo_db: Any, embedded_on_test_cluster: Any) -> None:
    profile = embedded_on_test_cluster(demo_db.name)
    where = auth.prepare_embedded(profile)
    assert demo_db.name in where and PASSWORD not in where
    with sign_in(profile, "globex.admin", PASSWORD) as workspace:
        assert [m.slug for m in workspace.identity.memberships] == ["globex"]
        with workspace.transaction() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar_one() == demo_db.name
    assert demo_db.cluster.is_running()  # signing out leaves the server running
    expect_problem(profile, "globex.admin", "wrong-password", SignInProblem.WRONG_PASSWORD)


def test_embedded_profile_switched_to_a_restored_database(
        demo_db: Any, pg_cluster: EmbeddedCluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """A restore adds a profile naming its new database: sign-in goes there, and a database
    that is gone is reported, never made anew (only the app's own database is)."""
    monkeypatch.setattr(local_server, "_shared", {})
    monkeypatch.setattr(local_server, "embedded_cluster", lambda _profile: pg_cluster)
    restored = ConnectionProfile(name="Here - restored", kind="embedded",
                                 embedded_profile="test", database=demo_db.name)
    with sign_in(restored, "acme.admin", PASSWORD) as workspace, \
            workspace.transaction() as conn:
        assert conn.execute(text("SELECT current_database()")).scalar_one() == demo_db.name
    gone = ConnectionProfile(name="Here - gone", kind="embedded", embedded_profile="test",
                             database="restored_and_dropped")
    error = expect_problem(gone, "acme.admin", PASSWORD, SignInProblem.SCHEMA_MISSING)
    assert "restored_and_dropped" in str(error)
    with psycopg.connect(pg_cluster.conninfo("postgres")) as admin:
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = "
                             "'restored_and_dropped'").fetchone() is None


def test_embedded_schema_older_can_be_upgraded_by_the_app(
    demo_db: Any, embedded_on_test_cluster: Any, future_head: str
) -> None:
    profile = embedded_on_test_cluster(demo_db.name)
    error = expect_problem(profile, "acme.admin", PASSWORD, SignInProblem.SCHEMA_OLDER)
    assert error.can_upgrade
    assert "This app can upgrade it now." in str(error)


def test_embedded_schema_missing_then_upgrade(
    empty_db: Any, seeded_template: str, embedded_on_test_cluster: Any
) -> None:
    profile = embedded_on_test_cluster(empty_db.name)
    error = expect_problem(profile, "acme.admin", PASSWORD, SignInProblem.SCHEMA_MISSING)
    assert error.can_upgrade
    auth.upgrade_schema(profile)
    assert migrate.current_revision(empty_db.owner_url) == migrate.head_revision()
    # The schema is there now; this database simply has no persons yet.
    expect_problem(profile, "acme.admin", PASSWORD, SignInProblem.NOT_A_PERSON)


def test_upgrade_refuses_a_newer_database(demo_db: Any, embedded_on_test_cluster: Any) -> None:
    profile = embedded_on_test_cluster(demo_db.name)
    with owner_conn(demo_db, autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zz_future'")
    with pytest.raises(SignInError) as caught:
        auth.upgrade_schema(profile)
    assert caught.value.problem is SignInProblem.SCHEMA_NEWER


# -- organization settings -------------------------------------------------------------------


def test_organization_locale_defaults_and_currency_decimals() -> None:
    def member(settings: dict[str, Any]) -> auth.Membership:
        return auth.Membership(uuid.uuid4(), "x", "X", Role.ADMIN, settings)

    assert organization_locale(member({})) == ("en_US", "USD")
    assert organization_locale(member({"language": "de", "currency": "eur"})) == ("de_DE", "EUR")
    assert organization_locale(member({"locale": "vi-VN", "currency": "VND"})) == ("vi_VN", "VND")
    assert organization_locale(member({"language": 7, "currency": "dollars"})) == ("en_US", "USD")
    assert [currency_decimals(c) for c in ("VND", "JPY", "krw", "USD", "EUR")] == [0, 0, 0, 2, 2]
