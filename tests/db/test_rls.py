"""Tenant isolation, proved as real persons with their own logins (RELIABILITY.md 1.4).

Organization A is `acme`, B is `globex`, both filled by the demo seed in every table.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql
from rls_support import (
    SENTINEL,
    columns,
    org_column,
    org_id,
    owner_conn,
    person_conn,
    plant_sentinels,
    rows_containing,
    tenant_tables,
    visible_rows_of,
)

A_PERSONS = ("acme.admin", "acme.sales", "acme.engineering", "acme.customer", "acme.supplier")


@pytest.fixture
def isolation(demo_db: Any) -> dict[str, Any]:
    with owner_conn(demo_db, autocommit=True) as conn:
        org_a = org_id(conn, "acme")
        org_b = org_id(conn, "globex")
        planted = plant_sentinels(conn, org_b)
        tables = tenant_tables(conn)
        b_counts = {t: visible_rows_of(conn, t, org_b) for t in _org_tables(conn, tables)}
    return {"db": demo_db, "a": org_a, "b": org_b, "planted": planted, "tables": tables,
            "b_counts": b_counts}


def _org_tables(conn: psycopg.Connection[Any], tables: list[str]) -> list[str]:
    return [t for t in tables if t == "organizations" or "organization_id" in columns(conn, t)]


@pytest.mark.parametrize("username", A_PERSONS)
def test_T_RLS_01_every_table_hides_other_orgs(isolation: dict[str, Any], username: str) -> None:
    db = isolation["db"]
    # The fixture is meaningful only if B really has rows and sentinels everywhere.
    assert all(n > 0 for n in isolation["b_counts"].values()), isolation["b_counts"]
    assert len(isolation["planted"]) >= 40, sorted(isolation["planted"])
    with person_conn(db, username) as conn:
        for table in isolation["tables"]:
            try:
                leaked_rows = rows_containing(conn, table, SENTINEL)
            except errors.InsufficientPrivilege:
                conn.rollback()
                continue  # no SELECT grant at all: nothing can leak
            assert leaked_rows == 0, f"{username} sees B's sentinel in {table}"
            if table in isolation["b_counts"]:
                assert visible_rows_of(conn, table, isolation["b"]) == 0, (username, table)
        # and the person does see their own organization's data (the test can fail);
        # a supplier sees the RFQs sent to them, never the customer's project rows.
        own = "supplier_rfqs" if username == "acme.supplier" else "projects"
        assert visible_rows_of(conn, own, isolation["a"]) > 0
        if username == "acme.supplier":
            assert visible_rows_of(conn, "projects", isolation["a"]) == 0


def test_T_RLS_01_persons_see_only_colleagues(isolation: dict[str, Any]) -> None:
    with person_conn(isolation["db"], "acme.sales") as conn:
        names = {r[0] for r in conn.execute("SELECT role_name FROM persons")}
    assert "acme.admin" in names
    assert not any(n.startswith("globex.") for n in names)


def test_T_RLS_02_views_and_functions_hide_other_orgs(isolation: dict[str, Any]) -> None:
    db = isolation["db"]
    with owner_conn(db) as conn:
        views = conn.execute(
            """SELECT c.relname, coalesce(c.reloptions, '{}') FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname IN ('public', 'fp_private') AND c.relkind IN ('v', 'm')"""
        ).fetchall()
        b_ids = {r[0] for r in conn.execute(
            "SELECT id FROM projects WHERE organization_id = %s UNION ALL "
            "SELECT id FROM contacts WHERE organization_id = %s UNION ALL "
            "SELECT id FROM workflow_stages WHERE organization_id = %s UNION ALL "
            "SELECT id FROM workflow_sub_stages WHERE organization_id = %s UNION ALL "
            "SELECT person_id FROM memberships WHERE organization_id = %s "
            "AND person_id NOT IN (SELECT person_id FROM memberships WHERE organization_id = %s)",
            (isolation["b"],) * 5 + (isolation["a"],),
        )} | {isolation["b"]}
    assert views, "the schema has at least the inventory_on_hand view"
    for name, options in views:
        assert "security_invoker=true" in options, f"view {name} runs with its owner's rights"
    helpers = [
        "my_org_ids()", "my_internal_org_ids()", "my_portal_contact_ids()",
        "my_portal_project_ids()", "my_supplier_rfq_ids()", "my_responsible_stage_ids()",
        "my_responsible_sub_stage_ids()", "my_assigned_project_ids()", "my_colleague_ids()",
        "my_org_ids_with_role('{admin,management,sales,engineering,qa,production,procurement,"
        "supplier,customer}')",
    ]
    for username in A_PERSONS:
        with person_conn(db, username) as conn:
            for (name, _options) in views:
                query = sql.SQL("SELECT count(*) FROM {} WHERE organization_id = %s").format(
                    sql.Identifier(name))
                assert conn.execute(query, (isolation["b"],)).fetchone() == (0,)
            for helper in helpers:
                row = conn.execute(f"SELECT fp_private.{helper}").fetchone()
                assert row is not None
                assert not set(row[0]) & b_ids, (username, helper)


def test_T_RLS_03_rls_enabled_forced_and_policies_per_command(migrated_db: Any) -> None:
    with owner_conn(migrated_db) as conn:
        offending = conn.execute(
            """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                 AND c.relname <> 'alembic_version'
                 AND NOT (c.relrowsecurity AND c.relforcerowsecurity)"""
        ).fetchall()
        assert offending == []
        missing = conn.execute(
            """SELECT c.relname, cmd FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               CROSS JOIN unnest(ARRAY['r', 'a', 'w', 'd']) AS cmd
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
                 AND c.relname <> 'alembic_version'
                 AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                                 AND p.polpermissive AND p.polcmd IN (cmd::"char", '*'))"""
        ).fetchall()
        assert missing == []
        # alembic_version is the only table without RLS: it holds no tenant data.
        assert columns(conn, "alembic_version") == ["version_num"]
        # One permissive policy per command: a broad one can never widen a narrow one.
        doubled = conn.execute(
            """SELECT polrelid::regclass, polcmd, count(*) FROM pg_policy WHERE polpermissive
               GROUP BY 1, 2 HAVING count(*) > 1"""
        ).fetchall()
        assert doubled == []


def test_T_RLS_04_person_logins_have_no_bypass(demo_db: Any) -> None:
    with owner_conn(demo_db) as conn:
        persons = [r[0] for r in conn.execute("SELECT role_name FROM persons")]
        assert len(persons) >= 18
        violations = conn.execute(
            """SELECT p.rolname, r.rolname FROM pg_roles p CROSS JOIN pg_roles r
               WHERE p.rolname = ANY(%s) AND pg_has_role(p.rolname, r.oid, 'MEMBER')
                 AND (r.rolsuper OR r.rolbypassrls OR EXISTS (
                      SELECT 1 FROM pg_class c WHERE c.relowner = r.oid
                      AND c.relnamespace = 'public'::regnamespace)
                      OR EXISTS (SELECT 1 FROM pg_proc f WHERE f.proowner = r.oid
                      AND f.pronamespace = 'fp_private'::regnamespace))""",
            (persons,),
        ).fetchall()
        assert violations == []
        logins = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s) AND rolcanlogin", (persons,)
        ).fetchall()
        assert len(logins) == len(persons)


def test_T_RLS_05_writes_aimed_at_other_org_do_nothing(isolation: dict[str, Any]) -> None:
    db, org_a, org_b = isolation["db"], isolation["a"], isolation["b"]
    with owner_conn(db, autocommit=True) as owner:
        b_ids = {
            t: owner.execute(sql.SQL("SELECT id FROM {} WHERE {} = %s LIMIT 1").format(
                sql.Identifier(t), sql.Identifier(org_column(t))), (org_b,)).fetchone()
            for t in isolation["b_counts"] if "id" in columns(owner, t)
        }
        before = {t: rows_fingerprint(owner, t, org_b) for t in b_ids}
    with person_conn(db, "acme.admin", autocommit=True) as conn:
        for table, row in b_ids.items():
            assert row is not None
            for statement in (
                sql.SQL("UPDATE {} SET {} = {} WHERE id = %s"),
                sql.SQL("DELETE FROM {} WHERE {} = {} AND id = %s"),
            ):
                query = statement.format(sql.Identifier(table), sql.Identifier(org_column(table)),
                                         sql.Identifier(org_column(table)))
                try:
                    rowcount = conn.execute(query, (row[0],)).rowcount
                except errors.InsufficientPrivilege:
                    continue  # no grant for that command: refused outright
                assert rowcount == 0, table
        # Inserting into B, or moving an own row into B, is refused with 42501.
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO contacts (organization_id, company_name) VALUES (%s, 'Sneaky')",
                (org_b,))
        own = conn.execute(
            "SELECT id FROM contacts WHERE organization_id = %s LIMIT 1", (org_a,)).fetchone()
        assert own is not None
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE contacts SET organization_id = %s WHERE id = %s", (org_b, own[0]))
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE projects SET organization_id = %s WHERE organization_id = %s",
                         (org_b, org_a))
    with owner_conn(db) as owner:
        after = {t: rows_fingerprint(owner, t, org_b) for t in b_ids}
    assert after == before


def rows_fingerprint(conn: psycopg.Connection[Any], table: str, org: uuid.UUID) -> str:
    query = sql.SQL(
        "SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM {} r WHERE {} = %s"
    ).format(sql.Identifier(table), sql.Identifier(org_column(table)))
    row = conn.execute(query, (org,)).fetchone()
    assert row is not None
    return str(row[0])


def test_T_RLS_06_unique_keys_include_the_organization(isolation: dict[str, Any]) -> None:
    db = isolation["db"]
    with owner_conn(db) as conn:
        offending = conn.execute(
            """SELECT c.relname, i.indexrelid::regclass::text
               FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND i.indisunique AND NOT i.indisprimary
                 AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                             AND a.attname = 'organization_id')
                 AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                                 AND a.attname = 'organization_id'
                                 AND a.attnum = ANY (i.indkey))"""
        ).fetchall()
        assert offending == []
        excludes = conn.execute(
            "SELECT conname FROM pg_constraint WHERE contype = 'x'").fetchall()
        assert excludes == []
        b_rfq = conn.execute(
            "SELECT rfq_number FROM supplier_rfqs WHERE organization_id = %s LIMIT 1",
            (isolation["b"],)).fetchone()
        a_project = conn.execute(
            "SELECT p.id, c.id FROM projects p, contacts c WHERE p.organization_id = %s "
            "AND c.organization_id = p.organization_id AND c.type = 'supplier' LIMIT 1",
            (isolation["a"],)).fetchone()
    assert b_rfq is not None and a_project is not None
    # Reusing B's RFQ number in A succeeds: the key does not reveal B's row.
    with person_conn(db, "acme.procurement") as conn:
        conn.execute(
            "INSERT INTO supplier_rfqs (organization_id, project_id, supplier_id, rfq_number) "
            "VALUES (%s, %s, %s, %s)", (isolation["a"], a_project[0], a_project[1], b_rfq[0]))
        conn.commit()


def test_T_RLS_07_foreign_keys_cannot_cross_orgs(isolation: dict[str, Any]) -> None:
    db = isolation["db"]
    with owner_conn(db) as conn:
        simple = conn.execute(
            """SELECT con.conrelid::regclass::text, con.conname
               FROM pg_constraint con
               WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace
                 AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = con.confrelid
                             AND a.attname = 'organization_id')
                 AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = con.conrelid
                             AND a.attname = 'organization_id')
                 AND NOT (
                   (SELECT attnum FROM pg_attribute WHERE attrelid = con.conrelid
                      AND attname = 'organization_id') = con.conkey[1]
                   AND (SELECT attnum FROM pg_attribute WHERE attrelid = con.confrelid
                      AND attname = 'organization_id') = con.confkey[1])"""
        ).fetchall()
        assert simple == []
        b_contact = conn.execute(
            "SELECT id FROM contacts WHERE organization_id = %s LIMIT 1", (isolation["b"],)
        ).fetchone()
    assert b_contact is not None
    with person_conn(db, "acme.sales") as conn, pytest.raises(errors.ForeignKeyViolation):
        conn.execute(
            "INSERT INTO projects (organization_id, title, customer_id) VALUES (%s, %s, %s)",
            (isolation["a"], "Cross-tenant customer", b_contact[0]))


@pytest.mark.parametrize("setting", [None, "", "not-a-uuid", "globex"])
def test_T_RLS_08_missing_or_bad_context_never_widens(
    isolation: dict[str, Any], setting: str | None
) -> None:
    db = isolation["db"]
    value = str(isolation["b"]) if setting == "globex" else setting
    with person_conn(db, "acme.sales") as conn:
        if value is not None:
            conn.execute("SELECT set_config('app.org_id', %s, true)", (value,))
        rows = conn.execute("SELECT organization_id FROM projects").fetchall()
    assert rows, "acme.sales sees acme's projects"
    assert {r[0] for r in rows} == {isolation["a"]}


def test_T_RLS_09_pooled_connection_carries_no_context(isolation: dict[str, Any]) -> None:
    from sqlalchemy import text

    from factorypulse_desktop.data.db import make_engine

    engine = make_engine(isolation["db"].url_for("acme.sales"), pooled=True)
    try:
        with engine.connect() as c1:
            pid1 = c1.execute(text("SELECT pg_backend_pid()")).scalar_one()
            c1.execute(text("SELECT set_config('app.org_id', :b, false)"),
                       {"b": str(isolation["b"])})
            c1.commit()
        with engine.connect() as c2:
            pid2 = c2.execute(text("SELECT pg_backend_pid()")).scalar_one()
            setting = c2.execute(text("SELECT current_setting('app.org_id', true)")).scalar_one()
            orgs = set(c2.execute(text("SELECT organization_id FROM projects")).scalars())
    finally:
        engine.dispose()
    assert pid1 == pid2, "the test must reuse the same backend"
    assert setting in (None, "")
    assert orgs == {isolation["a"]}


def test_T_RLS_10_security_definer_functions_are_pinned_and_guarded(
    isolation: dict[str, Any],
) -> None:
    db = isolation["db"]
    with owner_conn(db) as conn:
        definers = conn.execute(
            """SELECT p.oid::regprocedure::text, p.proconfig, p.proacl::text
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')"""
        ).fetchall()
        b_person = conn.execute(
            "SELECT person_id FROM memberships m JOIN persons p ON p.id = m.person_id "
            "WHERE p.role_name = 'globex.sales'").fetchone()
    assert len(definers) >= 15
    for name, config, acl in definers:
        assert config and any(c.startswith("search_path=") for c in config), name
        # No ACL means the default, which lets PUBLIC execute; an entry "=X/..." is PUBLIC too.
        assert acl is not None, f"{name} is executable by PUBLIC"
        assert not any(e.startswith("=") for e in acl.strip("{}").split(",")), name
    assert b_person is not None
    attempts = [
        ("SELECT fp_private.create_person(%s, 'evil.one', 'admin', "
         "'SCRAM-SHA-256$4096:YWFh$YmJi:Y2Nj')", (isolation["b"],)),
        ("SELECT fp_private.add_membership(%s, 'acme.admin', 'admin')", (isolation["b"],)),
        ("SELECT fp_private.set_membership(%s, %s, 'admin', 'active')",
         (isolation["b"], b_person[0])),
        ("SELECT fp_private.set_password(%s, 'SCRAM-SHA-256$4096:YWFh$YmJi:Y2Nj')",
         (b_person[0],)),
        ("SELECT fp_private.create_organization('evil', 'Evil')", ()),
        ("SELECT fp_private.create_default_workflow(%s)", (isolation["b"],)),
        ("SELECT fp_private.next_project_number(%s)", (isolation["b"],)),
    ]
    for statement, params in attempts:
        with person_conn(db, "acme.admin") as conn, pytest.raises(errors.InsufficientPrivilege):
            conn.execute(statement, params)
    with person_conn(db, "acme.admin") as conn:
        assert conn.execute("SELECT fp_private.caller_is_admin(%s)",
                            (isolation["b"],)).fetchone() == (False,)
        assert conn.execute("SELECT fp_private.caller_is_admin(%s)",
                            (isolation["a"],)).fetchone() == (True,)


def test_T_RLS_11_no_large_objects_and_notify_payload_is_ids_only(
    isolation: dict[str, Any],
) -> None:
    db = isolation["db"]
    with owner_conn(db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone() == (0,)
    with person_conn(db, "acme.engineering", autocommit=True) as listener:
        listener.execute("LISTEN fp_changes")
        with person_conn(db, "acme.sales") as writer:
            writer.execute(
                "INSERT INTO contacts (organization_id, company_name) VALUES (%s, %s)",
                (isolation["a"], "Secret Customer Name"))
            writer.commit()
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert notes, "a committed change is announced"
    payload = json.loads(notes[0].payload)
    assert set(payload) == {"org", "change_id"}
    assert uuid.UUID(payload["org"]) == isolation["a"]
    assert isinstance(payload["change_id"], int)
    assert "Secret" not in notes[0].payload


def test_T_RLS_12_hostile_psql_session_sees_nothing_of_other_org(
    isolation: dict[str, Any],
) -> None:
    db, org_b = isolation["db"], isolation["b"]
    with person_conn(db, "acme.admin", autocommit=True) as conn:
        conn.execute(sql.SQL("SET app.org_id = {}").format(sql.Literal(str(org_b))))
        conn.execute("SELECT set_config('app.current_org', %s, false)", (str(org_b),))
        conn.execute("SELECT set_config('request.jwt.claim.org', %s, false)", (str(org_b),))
        for role in ("globex.admin", "fp_owner", "fp_security", "fp_backup", "postgres"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute('SET SESSION AUTHORIZATION "globex.admin"')
        # SET ROLE to the group it belongs to is allowed, and changes nothing.
        conn.execute("SET ROLE fp_member")
        for table in isolation["b_counts"]:
            try:
                assert visible_rows_of(conn, table, org_b) == 0, table
            except errors.InsufficientPrivilege:
                continue
        conn.execute("RESET ROLE")
        for table in isolation["b_counts"]:
            try:
                assert visible_rows_of(conn, table, org_b) == 0, table
            except errors.InsufficientPrivilege:
                continue
        # Cannot act as someone else: audit columns name the real caller.
        row = conn.execute(
            "INSERT INTO contacts (organization_id, company_name, created_by) "
            "SELECT %s, 'Forged', m.person_id FROM memberships m JOIN persons p "
            "ON p.id = m.person_id WHERE p.role_name = 'acme.sales' AND m.organization_id = %s "
            "RETURNING created_by = fp_private.my_person_id()",
            (isolation["a"], isolation["a"])).fetchone()
        assert row == (True,)


def test_T_RLS_14_audit_rows_cannot_be_read_or_forged_across_orgs(
    isolation: dict[str, Any],
) -> None:
    db, org_a, org_b = isolation["db"], isolation["a"], isolation["b"]
    with owner_conn(db) as conn:
        b_actor = conn.execute(
            "SELECT id FROM persons WHERE role_name = 'globex.admin'").fetchone()
        a_sales = conn.execute(
            "SELECT id FROM persons WHERE role_name = 'acme.sales'").fetchone()
        b_approval = conn.execute(
            "SELECT id FROM approvals WHERE organization_id = %s LIMIT 1", (org_b,)).fetchone()
    assert b_actor and a_sales and b_approval
    with person_conn(db, "acme.admin") as conn:
        for table in ("activity_log", "messages", "approvals", "approval_history", "change_log"):
            assert visible_rows_of(conn, table, org_b) == 0, table
        me = conn.execute("SELECT fp_private.my_person_id()").fetchone()
        assert me is not None
        # Claiming to be another person: the trigger writes the real actor.
        row = conn.execute(
            "INSERT INTO activity_log (organization_id, actor_id, entity_type, action) "
            "VALUES (%s, %s, 'project', 'forged') RETURNING actor_id",
            (org_a, a_sales[0])).fetchone()
        assert row == (me[0],)
        row = conn.execute(
            "INSERT INTO messages (organization_id, sender_id, content) VALUES (%s, %s, 'hi') "
            "RETURNING sender_id", (org_a, a_sales[0])).fetchone()
        assert row == (me[0],)
        conn.commit()
        # Writing an audit row into B is refused outright.
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO activity_log (organization_id, actor_id, entity_type, action) "
                "VALUES (%s, %s, 'project', 'forged')", (org_b, b_actor[0]))
        conn.rollback()
        # Audit history is append-only, even for an administrator.
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("DELETE FROM activity_log WHERE organization_id = %s", (org_a,))
        conn.rollback()
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE approval_history SET comments = 'rewritten'")
        conn.rollback()
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO approval_history (organization_id, approval_id, action_type) "
                "VALUES (%s, %s, 'approve')", (org_b, b_approval[0]))
