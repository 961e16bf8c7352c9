"""`org import`: load one organization's export into a database, checked, in one transaction.

Order of the checks, all before anything is written: the file against its manifest (checksums),
the target's schema revision against the export's, the organization's id and slug, the logins of
its persons. An empty target is first migrated to the schema of this app (`db upgrade`'s runner).
Then one transaction loads every table, checks the foreign keys of the loaded rows and the
hash of every table's content against the manifest, and commits — or changes nothing.
"""

from __future__ import annotations

import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from factorypulse_desktop.backup import pgtools
from factorypulse_desktop.backup.org_transfer import archive, tables
from factorypulse_desktop.domain.errors import UserFacingError

_NOTHING = "Nothing was imported."
_FIXED_ROLES = ("fp_owner", "fp_member", "fp_security", "fp_backup")


@dataclass
class Imported:
    slug: str
    name: str
    schema_revision: str
    migrated: bool
    rows: dict[str, int] = field(default_factory=dict)
    logins_created: list[str] = field(default_factory=list)
    logins_reused: list[str] = field(default_factory=list)
    persons_shared: list[str] = field(default_factory=list)
    seconds: float = 0.0


def import_organization(url: str, path: Path) -> Imported:
    """Import the organization exported in `path` into the database at `url`."""
    from factorypulse_desktop.data import migrate

    started = time.monotonic()
    with archive.open_checked(path) as (zipped, manifest):
        revision = str(manifest["schema_revision"])
        org = manifest["organization"]
        # The rights first: a login that may not import must not even migrate an empty target.
        with _connect(url, autocommit=True) as probe:
            _check_rights(probe)
        current = migrate.current_revision(url)
        migrated = False
        if current is None:
            _check_really_empty(url)
            # A brand-new database: give it this app's schema, but only when the export has
            # that same schema (otherwise the rows would not fit; refuse before migrating).
            head = migrate.head_revision()
            if revision != head:
                raise UserFacingError(
                    f"The export has schema version {revision}, this Factory Pulse creates "
                    f"version {head} in a new database. Use the Factory Pulse version that "
                    f"made the export. {_NOTHING}")
            migrate.upgrade(url)
            migrated = True
        elif current != revision:
            raise UserFacingError(
                f"The export has schema version {revision} but the target database has "
                f"version {current}. Bring both to the same version (`factorypulse db upgrade`)"
                f" and export again. {_NOTHING}")
        result = Imported(org["slug"], org["name"], revision, migrated)
        try:
            # One transaction: leaving `with` commits, any exception rolls everything back.
            with _connect(url) as conn:
                _load(conn, zipped, manifest, result)
        except psycopg.Error as error:
            raise UserFacingError(
                f"The import stopped: {archive.driver_message(error)}. {_NOTHING}") from error
    result.seconds = time.monotonic() - started
    return result


def _connect(url: str, autocommit: bool = False) -> psycopg.Connection[Any]:
    try:
        return pgtools.connect(url, autocommit=autocommit)
    except psycopg.Error as error:
        raise UserFacingError(
            f"Could not connect to the database: {archive.driver_message(error)}") from error


def _check_really_empty(url: str) -> None:
    """No schema version: only a database without any table is made a Factory Pulse one."""
    with _connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p') "
                           "AND relnamespace = 'public'::regnamespace").fetchone()
    if row and row[0]:
        raise UserFacingError(
            "The target database holds tables but no Factory Pulse schema: it is not a "
            f"Factory Pulse database. Import into an empty or a Factory Pulse database. {_NOTHING}")


def _load(conn: psycopg.Connection[Any], zipped: zipfile.ZipFile, manifest: dict[str, Any],
          result: Imported) -> None:
    org_id = str(manifest["organization"]["id"])
    _check_rights(conn)
    tables.check_classification(conn)
    specs = {spec.name: spec for spec in tables.specs(conn)}
    for name, spec in specs.items():
        entry = manifest["tables"].get(name)
        if entry is None or list(spec.columns) != entry["columns"]:
            raise UserFacingError(
                f"The table {name} of the export does not fit the target database's table. "
                f"{_NOTHING}")
    _check_organization(conn, manifest["organization"])
    archive.set_canonical(conn)
    _stage_persons(conn, zipped, manifest)
    _check_persons(conn, result)
    _create_logins(conn, result)
    # Triggers must not rewrite what is loaded: stamps, counters, number assignment, stock
    # balances, audit/activity rows, notifications and the new organization's default workflow
    # are all in the file already, exactly as they were. `session_replication_role = replica`
    # switches off every ordinary trigger for this transaction only (SET LOCAL) — the
    # mechanism PostgreSQL provides for loading replicated rows, and unlike ALTER TABLE ...
    # DISABLE TRIGGER it takes no table lock and cannot be left switched off by a crash. It also
    # switches off the foreign-key triggers, so every foreign key of the loaded rows is checked
    # explicitly below, still inside the transaction.
    conn.execute("SET LOCAL session_replication_role = replica")
    persons = conn.execute(
        "INSERT INTO public.persons SELECT * FROM fp_import_persons i "
        "WHERE NOT EXISTS (SELECT 1 FROM public.persons p WHERE p.id = i.id)")
    result.rows[tables.PERSONS] = persons.rowcount
    for name in tables.exported_tables():
        if name == tables.PERSONS:
            continue
        spec = specs[name]
        with conn.cursor() as cur, cur.copy(spec.copy_in()) as copy:
            for block in archive.read_blocks(zipped, manifest["tables"][name]["file"]):
                copy.write(block)
        result.rows[name] = int(manifest["tables"][name]["rows"])
    conn.execute("SET LOCAL session_replication_role = origin")
    result.rows = {name: result.rows[name] for name in tables.exported_tables()}
    _check_foreign_keys(conn, org_id)
    _check_hashes(conn, specs, manifest, org_id, skip_persons=bool(result.persons_shared))


def _check_rights(conn: psycopg.Connection[Any]) -> None:
    row = conn.execute(
        "SELECT rolsuper, rolbypassrls, has_parameter_privilege("
        "'session_replication_role', 'SET') FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    if row is None or not (row[0] or (row[1] and row[2])):
        raise UserFacingError(
            f"{conn.info.user} cannot import an organization: it writes every table with their "
            "automatic rules switched off, which needs a superuser connection (or a role with "
            "BYPASSRLS that was granted SET ON PARAMETER session_replication_role). "
            f"{_NOTHING}")


def _check_organization(conn: psycopg.Connection[Any], org: dict[str, Any]) -> None:
    same = conn.execute(
        "SELECT id::text, slug FROM public.organizations WHERE id = %s::uuid OR slug = %s",
        (org["id"], org["slug"])).fetchall()
    for other_id, other_slug in same:
        if other_id == org["id"]:
            raise UserFacingError(
                f"The organization {org['slug']} (id {org['id']}) is already in this database "
                f"(as {other_slug}). {_NOTHING}")
        raise UserFacingError(
            f"This database already has an organization with the short name {other_slug}. "
            f"{_NOTHING}")


def _stage_persons(conn: psycopg.Connection[Any], zipped: zipfile.ZipFile,
                   manifest: dict[str, Any]) -> None:
    """Persons go through a temporary table first: their logins are checked before loading."""
    conn.execute("CREATE TEMP TABLE fp_import_persons (LIKE public.persons) ON COMMIT DROP")
    columns = manifest["tables"][tables.PERSONS]["columns"]
    statement = sql.SQL("COPY fp_import_persons ({}) FROM STDIN").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for block in archive.read_blocks(zipped, manifest["tables"][tables.PERSONS]["file"]):
            copy.write(block)


def _check_persons(conn: psycopg.Connection[Any], result: Imported) -> None:
    taken = [r[0] for r in conn.execute(
        "SELECT i.role_name FROM fp_import_persons i JOIN public.persons p "
        "ON p.role_name = i.role_name AND p.id <> i.id ORDER BY 1")]
    if taken:
        raise UserFacingError(
            f"The login(s) {', '.join(taken)} already belong to other people in this database. "
            f"Rename them in the source before exporting. {_NOTHING}")
    renamed = [r[0] for r in conn.execute(
        "SELECT p.role_name FROM fp_import_persons i JOIN public.persons p "
        "ON p.id = i.id AND p.role_name <> i.role_name ORDER BY 1")]
    if renamed:
        raise UserFacingError(
            f"People of the export are already in this database under other logins: "
            f"{', '.join(renamed)}. {_NOTHING}")
    # The very same person (same id and login) may already be here through another
    # organization: the membership is added, the person is kept as it is.
    result.persons_shared = [r[0] for r in conn.execute(
        "SELECT i.role_name FROM fp_import_persons i JOIN public.persons p "
        "ON p.id = i.id AND p.role_name = i.role_name ORDER BY 1")]


def _create_logins(conn: psycopg.Connection[Any], result: Imported) -> None:
    """Logins are cluster-wide: create the missing ones WITHOUT a password (as a restore does);
    keep existing ones that no other person of this database uses (e.g. the same server)."""
    rows = conn.execute(
        "SELECT i.role_name, r.rolname IS NOT NULL, coalesce(r.rolsuper OR r.rolbypassrls "
        "OR r.rolcreaterole OR NOT r.rolcanlogin, false), "
        "coalesce(pg_has_role(r.oid, 'fp_member', 'MEMBER'), false) "
        "FROM fp_import_persons i LEFT JOIN pg_roles r ON r.rolname = i.role_name "
        "WHERE NOT EXISTS (SELECT 1 FROM public.persons p WHERE p.id = i.id) "
        "ORDER BY 1").fetchall()
    special = [name for name, exists, privileged, _ in rows
               if exists and (privileged or name in _FIXED_ROLES)]
    if special:
        raise UserFacingError(
            f"The login(s) {', '.join(special)} of the export exist in this server as special "
            f"accounts (administrators or system roles), not as people. {_NOTHING}")
    for name, exists, _, member in rows:
        role = sql.Identifier(name)
        if not exists:
            # CREATE ROLE is transactional: a failed import leaves no login behind.
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN INHERIT IN ROLE fp_member").format(role))
            result.logins_created.append(name)
        else:
            if not member:
                conn.execute(sql.SQL("GRANT fp_member TO {}").format(role))
            result.logins_reused.append(name)


def _check_foreign_keys(conn: psycopg.Connection[Any], org_id: str) -> None:
    """Every foreign key of the loaded rows points at an existing row (the FK triggers were off).
    All keys of the schema are MATCH SIMPLE: a key with a NULL column is not checked."""
    keys = conn.execute(
        "SELECT c.conname, cl.relname, pl.relname, "
        "array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) "
        "      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i), "
        "array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) "
        "      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) "
        "FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid "
        "JOIN pg_class pl ON pl.oid = c.confrelid "
        "WHERE c.contype = 'f' AND cl.relnamespace = 'public'::regnamespace "
        "AND cl.relname = ANY(%s) ORDER BY 2, 1", (tables.exported_tables(),)).fetchall()
    for name, child, parent, child_cols, parent_cols in keys:
        query = sql.SQL(
            "SELECT count(*) FROM public.{child} c WHERE {org} AND {not_null} AND NOT EXISTS "
            "(SELECT 1 FROM public.{parent} p WHERE {match})").format(
            child=sql.Identifier(child), parent=sql.Identifier(parent),
            org=tables.row_filter(child, org_id, alias="c"),
            not_null=sql.SQL(" AND ").join(
                sql.SQL("c.{} IS NOT NULL").format(sql.Identifier(col)) for col in child_cols),
            match=sql.SQL(" AND ").join(
                sql.SQL("p.{} = c.{}").format(sql.Identifier(p), sql.Identifier(c))
                for p, c in zip(parent_cols, child_cols, strict=True)))
        row = conn.execute(query).fetchone()
        broken = int(row[0]) if row else 0
        if broken:
            raise UserFacingError(
                f"{broken} row(s) of table {child} refer to rows of {parent} that are not in "
                f"the export or the database (constraint {name}). {_NOTHING}")


def _check_hashes(conn: psycopg.Connection[Any], specs: dict[str, tables.TableSpec],
                  manifest: dict[str, Any], org_id: str, skip_persons: bool) -> None:
    """The loaded rows, read back canonically, hash exactly as in the source's snapshot."""
    for name, spec in specs.items():
        if name == tables.PERSONS and skip_persons:
            continue  # people already here keep their own details
        digest = archive.copy_out(conn, spec.select(org_id), None)
        entry = manifest["tables"][name]
        if digest.sha256 != entry["sha256"] or digest.rows != entry["rows"]:
            raise UserFacingError(
                f"The rows of table {name} read back differently from the export "
                f"({digest.rows} rows, {entry['rows']} expected). {_NOTHING}")
