"""A hostile person (RELIABILITY.md T-RLS-12 extended): acme's people, with their OWN real
credentials in a plain psycopg session (what psql would do), try everything against globex.

- T-HOST-01: every table and view of `public` (from `pg_class`): SELECT, INSERT, UPDATE,
  DELETE and re-parenting aimed at globex's rows, for every acme role: 0 rows of globex or a
  permission error, never globex data.
- T-HOST-02: every function of `public` and `fp_private` the person may EXECUTE (from
  `pg_proc` + `has_function_privilege`), called with globex's organization id and record ids
  (arguments generated from the types): no globex data comes back.
- T-HOST-03: roles the person does not hold (fp_backup, fp_owner, fp_security, every other
  person, PostgreSQL's predefined roles): SET ROLE, GRANT, CREATE, ALTER and friends refused;
  the catalog's grants, policies and memberships are unchanged.
- T-HOST-04: temp-table shadowing: a person's `pg_temp` tables named like the real ones never
  change what a SECURITY DEFINER function reads (its `search_path` names `pg_temp` last).

After each sweep every globex row is byte-identical (md5 of each table's globex rows, the
globex persons and their logins, read as the owner before and after).
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql
from support import DEMO_PASSWORD

from factorypulse_desktop.runtime.embedded import EmbeddedCluster

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "db"))
from rls_support import SENTINEL, plant_sentinels

ROLES = ("admin", "management", "sales", "engineering", "qa", "production", "procurement",
         "supplier", "customer")
PERSONS = tuple(f"acme.{r}" for r in ROLES)
SYSTEM_ROLES = ("fp_owner", "fp_security", "fp_backup", "postgres", "pg_read_all_data",
                "pg_write_all_data", "pg_read_server_files", "pg_write_server_files",
                "pg_execute_server_program", "pg_signal_backend", "pg_monitor",
                "pg_database_owner")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class World:
    cluster: EmbeddedCluster
    name: str
    acme: uuid.UUID
    globex: uuid.UUID
    relations: list[tuple[str, str, bool]] = field(default_factory=list)
    """(name, relkind, has organization_id) of every table and view of public."""
    globex_ids: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    """table -> ids of its globex rows."""
    all_globex_ids: set[str] = field(default_factory=set)
    roles_before: set[str] = field(default_factory=set)

    def owner(self, **kwargs: Any) -> psycopg.Connection[Any]:
        return psycopg.connect(self.cluster.conninfo(self.name), **kwargs)

    def person(self, username: str) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.cluster.conninfo(self.name, user=username,
                                                     password=DEMO_PASSWORD), autocommit=True)
        conn.execute("SET statement_timeout = '5s'")
        return conn


def globex_fingerprint(world: World) -> dict[str, str]:
    """md5 of every globex row of every table, of globex-only persons and of their logins."""
    out: dict[str, str] = {}
    with world.owner() as conn:
        for table, kind, has_org in world.relations:
            if kind not in ("r", "p") or not (has_org or table == "organizations"):
                continue
            column = "id" if table == "organizations" else "organization_id"
            row = conn.execute(sql.SQL(
                "SELECT md5(coalesce(string_agg(r::text, ',' ORDER BY r::text), '')) "
                "FROM {} r WHERE {} = %s").format(sql.Identifier(table),
                                                   sql.Identifier(column)),
                (world.globex,)).fetchone()
            assert row is not None
            out[table] = row[0]
        only_globex = ("SELECT p.id FROM persons p WHERE EXISTS (SELECT 1 FROM memberships m "
                       "WHERE m.person_id = p.id AND m.organization_id = %(g)s) AND NOT EXISTS "
                       "(SELECT 1 FROM memberships m WHERE m.person_id = p.id "
                       "AND m.organization_id <> %(g)s)")
        for name, query in {
            "persons": f"SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM persons r "
                       f"WHERE r.id IN ({only_globex})",
            "logins": "SELECT md5(string_agg(concat_ws('|', a.rolname, a.rolpassword, "
                      "a.rolcanlogin, a.rolsuper, a.rolbypassrls, a.rolvaliduntil), ',' "
                      "ORDER BY a.rolname)) FROM pg_authid a JOIN persons p ON "
                      f"p.role_name = a.rolname WHERE p.id IN ({only_globex})",
        }.items():
            row = conn.execute(query, {"g": world.globex}).fetchone()
            assert row is not None
            out[name] = row[0]
    return out


def catalog_fingerprint(world: World) -> str:
    """Grants, policies, RLS flags, role memberships and role attributes."""
    with world.owner() as conn:
        row = conn.execute(
            "SELECT md5(concat_ws('#', "
            "(SELECT string_agg(concat_ws('|', c.oid::regclass, c.relacl, c.relrowsecurity, "
            " c.relforcerowsecurity, c.relowner), ',' ORDER BY c.oid) FROM pg_class c "
            " JOIN pg_namespace n ON n.oid = c.relnamespace "
            " WHERE n.nspname IN ('public', 'fp_private')), "
            "(SELECT string_agg(concat_ws('|', p.oid::regprocedure, p.proacl, p.prosecdef, "
            " p.proconfig, md5(p.prosrc)), ',' ORDER BY p.oid) FROM pg_proc p "
            " JOIN pg_namespace n ON n.oid = p.pronamespace "
            " WHERE n.nspname IN ('public', 'fp_private')), "
            "(SELECT string_agg(concat_ws('|', pol.polrelid::regclass, pol.polname, "
            " pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, "
            " pol.polrelid)), ',' ORDER BY pol.oid) FROM pg_policy pol), "
            "(SELECT string_agg(concat_ws('|', m.roleid::regrole, m.member::regrole), ',' "
            " ORDER BY 1) FROM pg_auth_members m), "
            "(SELECT string_agg(concat_ws('|', rolname, rolsuper, rolcreaterole, rolcreatedb, "
            " rolbypassrls, rolreplication), ',' ORDER BY rolname) FROM pg_roles), "
            "(SELECT string_agg(concat_ws('|', nspname, nspacl), ',' ORDER BY nspname) "
            " FROM pg_namespace)))").fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture(scope="module")
def world(pg_cluster: EmbeddedCluster, seeded_template: str) -> Iterator[World]:
    name = f"hostile_person_{os.getpid()}"
    with psycopg.connect(pg_cluster.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(seeded_template)))
        roles_before = {r[0] for r in admin.execute("SELECT rolname FROM pg_roles")}
    with psycopg.connect(pg_cluster.conninfo(name), autocommit=True) as owner:
        acme, globex = (owner.execute("SELECT id FROM organizations WHERE slug = %s",
                                      (slug,)).fetchone()[0]  # type: ignore[index]
                        for slug in ("acme", "globex"))
        plant_sentinels(owner, globex)
        world = World(pg_cluster, name, acme, globex, roles_before=roles_before)
        world.relations = [(r[0], r[1], r[2]) for r in owner.execute(
            "SELECT c.relname, c.relkind, EXISTS (SELECT 1 FROM pg_attribute a WHERE "
            "a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') "
            "AND c.relname <> 'alembic_version' ORDER BY 1")]
        for table, kind, has_org in world.relations:
            if kind not in ("r", "p") or not (has_org or table == "organizations"):
                continue
            column = "id" if table == "organizations" else "organization_id"
            has_id = owner.execute(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE "
                "table_schema = 'public' AND table_name = %s AND column_name = 'id')",
                (table,)).fetchone()
            if not (has_id and has_id[0]):
                continue
            ids = [r[0] for r in owner.execute(sql.SQL(
                "SELECT id FROM {} WHERE {} = %s ORDER BY id").format(
                    sql.Identifier(table), sql.Identifier(column)), (globex,))]
            world.globex_ids[table] = ids
            world.all_globex_ids.update(str(i) for i in ids)
        world.all_globex_ids.update(str(r[0]) for r in owner.execute(
            "SELECT p.id FROM persons p WHERE NOT EXISTS (SELECT 1 FROM memberships m "
            "WHERE m.person_id = p.id AND m.organization_id <> %s)", (globex,)))
    try:
        yield world
    finally:
        # Logins are cluster-wide: whatever a sweep did to acme's own logins (a function that
        # sets the caller's password, say) must not reach the other tests of the session.
        with psycopg.connect(pg_cluster.conninfo("postgres"), autocommit=True) as admin:
            for (role,) in admin.execute("SELECT rolname FROM pg_roles").fetchall():
                if role not in roles_before:
                    admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(
                        sql.Identifier(role)))
            for person in PERSONS:
                admin.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(person), sql.Literal(DEMO_PASSWORD)))
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def _leaks(world: World, output: str, passed: set[str]) -> set[str]:
    """globex ids (other than the ones passed in) and the sentinel found in `output`."""
    found = set(_UUID.findall(output.lower())) & world.all_globex_ids
    leaked = found - passed
    if SENTINEL in output:
        leaked.add(SENTINEL)
    return leaked


# -- T-HOST-01: every table and view, every command, every role ----------------------------

@pytest.mark.parametrize("username", PERSONS)
def test_T_HOST_01_every_relation_every_command_refuses_globex(world: World,
                                                               username: str) -> None:
    before = globex_fingerprint(world)
    tried = 0
    with world.person(username) as conn:
        for table, kind, has_org in world.relations:
            ident = sql.Identifier(table)
            # SELECT everything it may see: not one globex id, not the sentinel.
            try:
                rows = conn.execute(sql.SQL("SELECT r::text FROM {} r").format(ident)).fetchall()
            except errors.InsufficientPrivilege:
                rows = []
            tried += 1
            assert not _leaks(world, "\n".join(r[0] for r in rows), set()), (username, table)
            if kind not in ("r", "p"):
                continue
            ids = world.globex_ids.get(table, [])
            org_col = "id" if table == "organizations" else "organization_id"
            statements: list[tuple[sql.Composable, tuple[Any, ...]]] = []
            if ids:
                statements += [
                    (sql.SQL("UPDATE {t} SET {c} = {c} WHERE id = ANY (%s)").format(
                        t=ident, c=sql.Identifier(org_col)), (ids,)),
                    (sql.SQL("DELETE FROM {} WHERE id = ANY (%s)").format(ident), (ids,)),
                ]
            if has_org:
                statements += [
                    (sql.SQL("UPDATE {} SET organization_id = %s WHERE organization_id = %s")
                     .format(ident), (world.globex, world.acme)),
                    (sql.SQL("DELETE FROM {} WHERE organization_id = %s").format(ident),
                     (world.globex,)),
                    (sql.SQL("INSERT INTO {} (organization_id) VALUES (%s)").format(ident),
                     (world.globex,)),
                    (sql.SQL("INSERT INTO {t} SELECT * FROM {t} WHERE organization_id = %s")
                     .format(t=ident), (world.globex,)),
                ]
            for statement, params in statements:
                tried += 1
                try:
                    with conn.transaction(force_rollback=b"organization_id = %s WHERE"
                                          in statement.as_bytes(conn)):
                        cur = conn.execute(statement, params)
                        assert cur.rowcount <= 0, (username, statement.as_string(conn))
                except psycopg.Error:
                    continue  # refused: no grant, a policy's WITH CHECK, a NOT NULL, ...
    assert tried > 100
    assert globex_fingerprint(world) == before


# -- T-HOST-02: every function the person may execute ------------------------------------

_TEXT_VALUES = ("globex.admin", "' OR 1=1 --", "admin")
_NAME_HINTS = (
    ("org", "organizations"), ("project", "projects"), ("contact", "contacts"),
    ("customer", "contacts"), ("supplier", "contacts"), ("document", "documents"),
    ("version", "document_versions"), ("approval", "approvals"), ("step", "approval_steps"),
    ("message", "messages"), ("thread", "messages"), ("item", "inventory_items"),
    ("location", "inventory_locations"), ("po", "purchase_orders"),
    ("purchase", "purchase_orders"), ("rfq", "supplier_rfqs"), ("quote", "supplier_quotes"),
    ("review", "reviews"), ("production", "production_orders"), ("operation",
     "production_operations"), ("storage", "storage_objects"), ("object", "storage_objects"),
    ("stage", "workflow_stages"), ("notification", "notifications"), ("backup", "backups"),
)


@dataclass(frozen=True)
class Func:
    schema: str
    name: str
    kind: str
    args: tuple[tuple[str, str, str, str | None], ...]
    """(name, type as SQL, typcategory, first enum label)"""

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}({', '.join(a[1] for a in self.args)})"


def executable_functions(world: World, username: str) -> list[Func]:
    with world.owner() as conn:
        rows = conn.execute(
            """SELECT n.nspname, p.proname, p.prokind, p.oid,
                      coalesce(p.proargnames, '{}'), p.proargtypes::oid[]
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname IN ('public', 'fp_private') AND p.prokind IN ('f', 'p')
                 AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                                 AND d.objid = p.oid AND d.deptype = 'e')
                 AND has_function_privilege(%s, p.oid, 'EXECUTE')
               ORDER BY 1, 2, 4""", (username,)).fetchall()
        out = []
        for schema, name, kind, _oid, names, types in rows:
            args = []
            for i, type_oid in enumerate(types):
                info = conn.execute(
                    "SELECT format_type(t.oid, NULL), t.typcategory, "
                    "(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = "
                    " coalesce(nullif(t.typelem, 0), t.oid) ORDER BY e.enumsortorder LIMIT 1), "
                    "format_type(coalesce(nullif(t.typelem, 0), t.oid), NULL) "
                    "FROM pg_type t WHERE t.oid = %s", (type_oid,)).fetchone()
                assert info is not None
                arg_name = names[i] if i < len(names) else f"arg{i}"
                args.append((arg_name, info[0], info[1], info[2]))
            out.append(Func(schema, name, kind, tuple(args)))
    return out


def _value(world: World, arg: tuple[str, str, str, str | None], variant: int,
           position: int, first_uuid: int) -> Any:
    name, type_sql, _category, enum_label = arg
    base = type_sql.removesuffix("[]")
    is_array = type_sql.endswith("[]")
    if base == "uuid":
        if variant == 0:
            value: Any = world.globex
        else:
            table = next((t for hint, t in _NAME_HINTS if hint in name.lower()), None)
            if table == "organizations" or (table is None and position == first_uuid):
                value = world.acme if variant == 2 else world.globex
            else:
                ids = world.globex_ids.get(table or "projects") or [world.globex]
                value = ids[0]
    elif base in ("text", "character varying", "citext", "name"):
        value = _TEXT_VALUES[variant]
    elif base in ("integer", "bigint", "smallint", "numeric", "double precision", "real"):
        value = 1
    elif base == "boolean":
        value = variant != 1
    elif base in ("jsonb", "json"):
        value = "{}"
    elif enum_label is not None:
        value = enum_label
    elif base == "date":
        value = "2026-11-26"
    elif base.startswith("timestamp"):
        value = "2026-11-26 00:00:00+00"
    elif base == "bytea":
        value = b"\x00"
    else:
        value = None
    if is_array and value is not None:
        return [value]
    return value


@pytest.mark.parametrize("username", PERSONS)
def test_T_HOST_02_every_executable_function_returns_nothing_of_globex(
    world: World, username: str
) -> None:
    functions = executable_functions(world, username)
    assert functions, "the person may execute no function at all"
    before = globex_fingerprint(world)
    called = answered = 0
    with world.person(username) as conn:
        for func in functions:
            uuids = [i for i, a in enumerate(func.args) if a[1].removesuffix("[]") == "uuid"]
            first_uuid = uuids[0] if uuids else -1
            for variant in range(3):
                values = [_value(world, a, variant, i, first_uuid)
                          for i, a in enumerate(func.args)]
                passed = {str(v).lower() for v in values if isinstance(v, uuid.UUID)} | {
                    str(x).lower() for v in values if isinstance(v, list) for x in v}
                placeholders = sql.SQL(", ").join(
                    sql.SQL("CAST(%s AS {})").format(sql.SQL(a[1])) for a in func.args)
                target = sql.SQL("{}.{}({})").format(
                    sql.Identifier(func.schema), sql.Identifier(func.name), placeholders)
                statement = (sql.SQL("CALL {}").format(target) if func.kind == "p"
                             else sql.SQL("SELECT ({})::text").format(target))
                called += 1
                try:
                    cur = conn.execute(statement, values)
                    output = "\n".join(str(r) for r in cur.fetchall()) if cur.description \
                        else ""
                except psycopg.Error:
                    continue  # refused, or arguments it does not like: nothing returned
                answered += 1
                leaked = _leaks(world, output, passed)
                assert not leaked, f"{username}: {func.label} variant {variant} returns {leaked}"
    assert called >= 3 * len(functions)
    assert answered > len(functions), "the sweep must reach the functions, not only errors"
    assert globex_fingerprint(world) == before, "a function call changed globex's rows"


# -- T-HOST-03: roles the person does not hold --------------------------------------------

@pytest.mark.parametrize("username", PERSONS)
def test_T_HOST_03_roles_not_held_cannot_be_taken_or_granted(world: World,
                                                             username: str) -> None:
    with world.owner() as owner:
        others = [r[0] for r in owner.execute(
            "SELECT role_name FROM persons WHERE role_name <> %s ORDER BY 1", (username,))]
    catalog_before = catalog_fingerprint(world)
    before = globex_fingerprint(world)
    me = sql.Identifier(username)
    attempts: list[sql.Composable] = []
    for role in (*SYSTEM_ROLES, *others):
        target = sql.Identifier(role)
        attempts += [
            sql.SQL("SET ROLE {}").format(target),
            sql.SQL("SET SESSION AUTHORIZATION {}").format(target),
            sql.SQL("GRANT {} TO {}").format(target, me),
            sql.SQL("ALTER ROLE {} PASSWORD 'x-hostile-x'").format(target),
        ]
    attempts += [sql.SQL(s) for s in (
        "CREATE ROLE hostile_role LOGIN",
        "CREATE TABLE public.hostile_table (id int)",
        "CREATE TABLE fp_private.hostile_table (id int)",
        "CREATE SCHEMA hostile_schema",
        "CREATE FUNCTION public.hostile_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE FUNCTION fp_private.hostile_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE VIEW public.hostile_view AS SELECT 1",
        "CREATE EXTENSION IF NOT EXISTS dblink",
        "ALTER TABLE public.projects DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE public.projects NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY IF EXISTS projects_select ON public.projects",
        "CREATE POLICY hostile ON public.projects FOR SELECT USING (true)",
        "ALTER FUNCTION fp_private.my_person_id() RESET search_path",
        "ALTER FUNCTION fp_private.my_person_id() OWNER TO CURRENT_USER",
        "ALTER TABLE public.projects OWNER TO CURRENT_USER",
        "TRUNCATE public.projects",
        "DROP TABLE public.documents",
        "ALTER SYSTEM SET log_statement = 'none'",
        "SET session_replication_role = replica",
        "COPY public.projects TO '/tmp/hostile.csv'",
        "COPY public.projects FROM PROGRAM 'id'",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT lo_import('/etc/passwd')",
        "LOAD 'plpgsql'",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'postgres'",
    )]
    for role_attr in ("SUPERUSER", "BYPASSRLS", "CREATEROLE", "CREATEDB", "REPLICATION"):
        attempts.append(sql.SQL("ALTER ROLE {} " + role_attr).format(me))
    with world.person(username) as conn:
        for attempt in attempts:
            text = attempt.as_string(conn)
            try:
                with conn.transaction():
                    cur = conn.execute(attempt)
                    result = cur.fetchall() if cur.description else []
            except psycopg.Error as error:
                if text.startswith(("SET ROLE", "SET SESSION", "GRANT", "ALTER ROLE")):
                    # 42501; PostgreSQL's predefined pg_* roles cannot be altered by anyone,
                    # and pg_database_owner cannot be granted at all.
                    assert isinstance(error, (errors.InsufficientPrivilege,
                                              errors.ReservedName,
                                              errors.FeatureNotSupported)), (username, text,
                                                                             error)
                continue
            # Only a signal to backends it may not signal may "succeed": with false.
            assert text.startswith("SELECT pg_terminate_backend") and all(
                r == (False,) for r in result), f"{username} may run: {text}"
        assert conn.execute("SELECT current_user, session_user").fetchone() == (
            username, username)
    assert catalog_fingerprint(world) == catalog_before
    assert globex_fingerprint(world) == before


# -- T-HOST-04: pg_temp cannot shadow what a SECURITY DEFINER function reads -------------

def test_T_HOST_04_definer_functions_put_pg_temp_last(world: World) -> None:
    """PostgreSQL searches pg_temp FIRST for tables unless the search_path names it (last):
    a person's temp table `memberships` would otherwise be what a definer function reads."""
    with world.owner() as conn:
        offending = [r[0] for r in conn.execute(
            """SELECT p.oid::regprocedure::text FROM pg_proc p
               JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                 AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c
                                 WHERE c ~ '^search_path=.*pg_temp\\s*$')""")]
    assert offending == []


def test_T_HOST_04_temp_tables_named_like_real_ones_change_nothing(world: World) -> None:
    """acme.admin shadows every table with a temp copy that makes it admin of globex, then
    calls every function with globex's ids: still nothing of globex."""
    username = "acme.admin"
    before = globex_fingerprint(world)
    with world.owner() as owner:
        me = owner.execute("SELECT id FROM persons WHERE role_name = %s",
                           (username,)).fetchone()
    assert me is not None
    with world.person(username) as conn:
        shadowed = 0
        for table, kind, _ in world.relations:
            if kind in ("r", "p"):
                try:
                    conn.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE public.{})").format(
                        sql.Identifier(table), sql.Identifier(table)))
                    shadowed += 1
                except errors.InsufficientPrivilege:
                    # LIKE needs SELECT on the original; without it, a plain table of the
                    # same name shadows it just as well.
                    conn.execute(sql.SQL("CREATE TEMP TABLE {} (id uuid)").format(
                        sql.Identifier(table)))
                    shadowed += 1
        assert shadowed > 40
        conn.execute("INSERT INTO pg_temp.persons SELECT * FROM public.persons WHERE id = %s",
                     (me[0],))
        conn.execute("INSERT INTO pg_temp.organizations SELECT * FROM public.organizations")
        conn.execute(
            "INSERT INTO pg_temp.memberships SELECT (jsonb_populate_record(NULL::pg_temp."
            "memberships, to_jsonb(m) || jsonb_build_object('organization_id', %s::text, "
            "'id', gen_random_uuid()::text))).* FROM public.memberships m "
            "WHERE m.person_id = %s", (world.globex, me[0]))
        assert conn.execute("SELECT fp_private.caller_is_admin(%s)",
                            (world.globex,)).fetchone() == (False,)
        for func in executable_functions(world, username):
            values = [_value(world, a, 0, i, 0) for i, a in enumerate(func.args)]
            target = sql.SQL("{}.{}({})").format(
                sql.Identifier(func.schema), sql.Identifier(func.name), sql.SQL(", ").join(
                    sql.SQL("CAST(%s AS {})").format(sql.SQL(a[1])) for a in func.args))
            statement = (sql.SQL("CALL {}").format(target) if func.kind == "p"
                         else sql.SQL("SELECT ({})::text").format(target))
            try:
                cur = conn.execute(statement, values)
                output = "\n".join(str(r) for r in cur.fetchall()) if cur.description else ""
            except psycopg.Error:
                continue
            assert not _leaks(world, output, {str(world.globex)}), func.label
    assert globex_fingerprint(world) == before
