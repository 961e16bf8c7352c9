"""Moving one organization between databases (RELIABILITY.md T-BAK-09): `org export` / `import`.

The tests compare what arrived with hashes computed here in plain SQL (md5 of every row's text),
independently of the checksums the export itself carries.
"""

from __future__ import annotations

import json
import os
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from factorypulse_desktop import cli
from factorypulse_desktop.backup.org_transfer import archive, tables
from factorypulse_desktop.backup.org_transfer.export import export_organization
from factorypulse_desktop.backup.org_transfer.load import import_organization
from factorypulse_desktop.data import migrate, people
from factorypulse_desktop.data.db import make_engine
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError

NEW_PASSWORD = "moved-org-pass-1"


def _conn(db: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(db.owner_conninfo(), autocommit=True)


def _org(conn: psycopg.Connection[Any], slug: str) -> str:
    row = conn.execute("SELECT id::text FROM organizations WHERE slug = %s", (slug,)).fetchone()
    assert row is not None, slug
    return str(row[0])


def _filter(table: str, org: str) -> sql.Composable:
    if table == "organizations":
        return sql.SQL("t.id = {}").format(sql.Literal(org))
    if table == "persons":
        return sql.SQL("t.id IN (SELECT person_id FROM memberships WHERE organization_id = {})"
                       ).format(sql.Literal(org))
    return sql.SQL("t.organization_id = {}").format(sql.Literal(org))


def org_hashes(db: Any, org: str, include_feed: bool = False) -> dict[str, tuple[int, str]]:
    """(rows, md5 of all rows' text) per table for one organization, straight from pg_class."""
    result: dict[str, tuple[int, str]] = {}
    with _conn(db) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind IN ('r', 'p') AND relname <> 'alembic_version' ORDER BY 1")]
        for table in names:
            if table == "change_log" and not include_feed:
                continue
            row = conn.execute(sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '')"
                " FROM {} t WHERE {}").format(sql.Identifier(table), _filter(table, org)))
            count, digest = row.fetchone()  # type: ignore[misc]
            result[table] = (int(count), str(digest))
    return result


def file_bytes(db: Any, org: str) -> dict[str, tuple[str, str]]:
    """Per stored object: the sha256 it records and the sha256 of its chunks put together."""
    with _conn(db) as conn:
        rows = conn.execute(
            "SELECT o.id::text, o.sha256, encode(sha256(string_agg(c.data, ''::bytea "
            "ORDER BY c.seq)), 'hex') FROM storage_objects o JOIN blob_chunks c "
            "ON c.organization_id = o.organization_id AND c.object_id = o.id "
            "WHERE o.organization_id = %s GROUP BY o.id, o.sha256", (org,)).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _remove_org(db: Any, slug: str) -> None:
    """Delete one organization as if it had never been there (triggers off: the change feed
    would otherwise record the deletion of rows whose organization is already gone)."""
    with _conn(db) as conn, conn.transaction():
        org = _org(conn, slug)
        conn.execute("SET LOCAL session_replication_role = replica")
        for table in sorted(tables.TENANT_TABLES | {"change_log"}):
            conn.execute(sql.SQL("DELETE FROM {} WHERE organization_id = %s").format(
                sql.Identifier(table)), (org,))
        conn.execute("DELETE FROM organizations WHERE id = %s", (org,))
        conn.execute("DELETE FROM persons p WHERE NOT EXISTS "
                     "(SELECT 1 FROM memberships m WHERE m.person_id = p.id)")


@pytest.fixture
def holding_b(demo_db: Any, seeded_template: str) -> Iterator[Any]:
    """A second demo database from which acme was removed: it holds only globex."""
    name = f"ot_b_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(demo_db.cluster.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(seeded_template)))
    db = type(demo_db)(demo_db.cluster, name)
    try:
        _remove_org(db, "acme")
        yield db
    finally:
        with psycopg.connect(demo_db.cluster.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@pytest.fixture
def mover(demo_db: Any) -> Iterator[str]:
    """An acme admin whose login does not exist in the server when the import runs."""
    username = f"acme.mover{uuid.uuid4().hex[:8]}"
    engine = make_engine(demo_db.owner_url)
    try:
        with engine.begin() as connection:
            org = people.find_organization(connection, "acme")
            people.add_person(connection, org, username, Role.ADMIN, NEW_PASSWORD)
    finally:
        engine.dispose()
    try:
        yield username
    finally:
        with psycopg.connect(demo_db.cluster.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(username)))


def _drop_login(db: Any, username: str) -> None:
    with psycopg.connect(db.cluster.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(username)))


def _sign_in_sees_only(db: Any, username: str, org: str) -> None:
    """The person's own login, with the password set after the import, sees only `org`."""
    with _conn(db) as conn:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(username), sql.Literal(NEW_PASSWORD)))
    with psycopg.connect(db.conninfo_for(username, NEW_PASSWORD)) as conn:
        orgs = {str(r[0]) for r in conn.execute("SELECT id FROM organizations")}
        projects = {str(r[0]) for r in conn.execute("SELECT organization_id FROM projects")}
        documents = conn.execute("SELECT count(*) FROM documents").fetchone()
    assert orgs == {org}
    assert projects == {org}
    assert documents is not None and documents[0] > 0


@pytest.fixture
def exported(demo_db: Any, mover: str, tmp_path: Path) -> Path:
    path = tmp_path / "acme.fporg"
    export_organization(demo_db.owner_url, "acme", path)
    _drop_login(demo_db, mover)  # the target server does not know this person yet
    return path


def _assert_same_org(source: Any, target: Any, org: str) -> None:
    before, after = org_hashes(source, org), org_hashes(target, org)
    assert after == before
    assert before["projects"][0] > 0 and before["blob_chunks"][0] > 0
    files_before = file_bytes(source, org)
    assert files_before and file_bytes(target, org) == files_before
    assert all(recorded == actual for recorded, actual in files_before.values())


def test_T_BAK_09_round_trip_into_empty_database(
        demo_db: Any, empty_db: Any, exported: Path, mover: str) -> None:
    with _conn(demo_db) as conn:
        acme = _org(conn, "acme")
    done = import_organization(empty_db.owner_url, exported)
    assert done.migrated and done.schema_revision == migrate.head_revision()
    assert migrate.current_revision(empty_db.owner_url) == migrate.head_revision()
    _assert_same_org(demo_db, empty_db, acme)
    with _conn(empty_db) as conn:
        slugs = [r[0] for r in conn.execute("SELECT slug FROM organizations")]
        feed = conn.execute("SELECT count(*) FROM change_log").fetchone()
    assert slugs == ["acme"] and feed == (0,)  # no trigger wrote anything during the load
    assert done.logins_created == [mover]  # created without a password, reported
    assert set(done.logins_reused) == {f"acme.{r}" for r in (
        "admin", "customer", "engineering", "management", "procurement", "production", "qa",
        "sales", "supplier")}
    with pytest.raises(psycopg.OperationalError):  # no password yet: nobody can sign in
        psycopg.connect(empty_db.conninfo_for(mover, NEW_PASSWORD)).close()
    _sign_in_sees_only(empty_db, mover, acme)


def test_T_BAK_09_round_trip_into_database_holding_b(
        demo_db: Any, holding_b: Any, exported: Path, mover: str) -> None:
    with _conn(demo_db) as conn:
        acme, globex = _org(conn, "acme"), _org(conn, "globex")
    b_before = org_hashes(holding_b, globex, include_feed=True)
    assert org_hashes(holding_b, acme)["projects"] == (0, "")
    done = import_organization(holding_b.owner_url, exported)
    assert not done.migrated
    _assert_same_org(demo_db, holding_b, acme)
    assert org_hashes(holding_b, globex, include_feed=True) == b_before  # B untouched
    assert org_hashes(holding_b, globex) == org_hashes(demo_db, globex)
    with _conn(holding_b) as conn:
        # UUIDs: no key of A's rows met one of B's (each table's ids stay distinct).
        duplicated = conn.execute(
            "SELECT count(*) - count(DISTINCT id) FROM projects").fetchone()
        orgs = sorted(r[0] for r in conn.execute("SELECT slug FROM organizations"))
    assert duplicated == (0,) and orgs == ["acme", "globex"]
    assert done.logins_created == [mover]
    _sign_in_sees_only(holding_b, mover, acme)


def _rewrite(path: Path, table: str, content: bytes, fix_manifest: bool) -> None:
    """Replace one table's data in an export (a damaged disk, or a hand-made bad file)."""
    with zipfile.ZipFile(path) as old:
        entries = {name: old.read(name) for name in old.namelist()}
    entries[archive.table_file(table)] = content
    if fix_manifest:
        manifest = json.loads(entries[archive.MANIFEST])
        digest = archive.Digest()
        digest.update(content)
        manifest["tables"][table].update(rows=digest.rows, sha256=digest.sha256)
        entries[archive.MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as new:
        for name, data in entries.items():
            new.writestr(name, data)


def test_corrupted_file_is_refused_before_anything_changes(
        demo_db: Any, empty_db: Any, exported: Path) -> None:
    data = bytearray(exported.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped = exported.with_name("flipped.fporg")
    flipped.write_bytes(bytes(data))
    with pytest.raises(UserFacingError) as caught:
        import_organization(empty_db.owner_url, flipped)
    assert "damaged" in str(caught.value) and "Nothing was imported" in str(caught.value)
    with zipfile.ZipFile(exported) as zipped:
        projects = zipped.read(archive.table_file("projects"))
    _rewrite(exported, "projects", projects.replace(b"\t", b"\tX", 1), fix_manifest=False)
    with pytest.raises(UserFacingError) as caught:
        import_organization(empty_db.owner_url, exported)
    assert "table projects does not match its checksum" in str(caught.value)
    assert migrate.current_revision(empty_db.owner_url) is None  # not even migrated


def test_broken_foreign_key_aborts_and_target_is_unchanged(
        demo_db: Any, holding_b: Any, exported: Path, mover: str) -> None:
    with _conn(demo_db) as conn:
        globex = _org(conn, "globex")
    before = org_hashes(holding_b, globex, include_feed=True)
    # A consistent-looking file (checksums fixed) whose memberships point at missing contacts.
    _rewrite(exported, "contacts", b"", fix_manifest=True)
    with pytest.raises(UserFacingError) as caught:
        import_organization(holding_b.owner_url, exported)
    message = str(caught.value)
    assert "refer to rows of contacts" in message and "constraint" in message
    assert "Nothing was imported" in message
    assert org_hashes(holding_b, globex, include_feed=True) == before
    with _conn(holding_b) as conn:
        assert conn.execute("SELECT count(*) FROM organizations").fetchone() == (1,)
        # The login created inside the failed transaction is gone with it.
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                            (mover,)).fetchone() is None


def test_schema_revision_mismatch_is_refused(
        demo_db: Any, migrated_db: Any, exported: Path) -> None:
    migrate.downgrade(migrated_db.owner_url, "20261126_0016")
    with pytest.raises(UserFacingError) as caught:
        import_organization(migrated_db.owner_url, exported)
    message = str(caught.value)
    assert migrate.head_revision() in message and "20261126_0016" in message
    assert migrate.current_revision(migrated_db.owner_url) == "20261126_0016"
    with _conn(migrated_db) as conn:
        assert conn.execute("SELECT count(*) FROM organizations").fetchone() == (0,)


def test_organization_already_present_is_refused(
        demo_db: Any, migrated_db: Any, exported: Path) -> None:
    with _conn(demo_db) as conn:
        acme = _org(conn, "acme")
    before = org_hashes(demo_db, acme, include_feed=True)
    with pytest.raises(UserFacingError) as caught:
        import_organization(demo_db.owner_url, exported)
    assert "already in this database" in str(caught.value)
    assert org_hashes(demo_db, acme, include_feed=True) == before
    # Another organization with the same short name: refused too.
    engine = make_engine(migrated_db.owner_url)
    try:
        with engine.begin() as connection:
            people.create_organization(connection, "acme", "Another Acme")
    finally:
        engine.dispose()
    with pytest.raises(UserFacingError) as caught:
        import_organization(migrated_db.owner_url, exported)
    assert "short name acme" in str(caught.value)
    with _conn(migrated_db) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM organizations")]
    assert names == ["Another Acme"]


def test_login_of_another_person_is_refused(
        demo_db: Any, holding_b: Any, exported: Path) -> None:
    with _conn(holding_b) as conn:
        conn.execute("UPDATE persons SET role_name = 'acme.sales' "
                     "WHERE role_name = 'globex.sales'")
    with pytest.raises(UserFacingError) as caught:
        import_organization(holding_b.owner_url, exported)
    assert "acme.sales already belong to other people" in str(caught.value)
    with _conn(holding_b) as conn:
        assert conn.execute("SELECT count(*) FROM organizations").fetchone() == (1,)


def test_person_login_can_neither_export_nor_import(
        demo_db: Any, holding_b: Any, exported: Path, tmp_path: Path) -> None:
    with pytest.raises(UserFacingError) as caught:
        export_organization(demo_db.url_for("acme.admin"), "acme", tmp_path / "a.fporg")
    assert "acme.admin cannot export" in str(caught.value)
    assert not (tmp_path / "a.fporg").exists()
    with pytest.raises(UserFacingError) as caught:
        import_organization(holding_b.url_for("globex.admin"), exported)
    assert "globex.admin cannot import" in str(caught.value)
    assert "superuser" in str(caught.value)


def test_every_table_is_classified(migrated_db: Any) -> None:
    with _conn(migrated_db) as conn:
        assert tables.unclassified(conn) == []
        present = set(tables.public_tables(conn))
    assert present == set(tables.exported_tables()) | set(tables.NOT_EXPORTED)


def test_unclassified_table_stops_the_export(demo_db: Any, tmp_path: Path) -> None:
    with _conn(demo_db) as conn:
        conn.execute("CREATE TABLE public.widgets (id uuid PRIMARY KEY, organization_id uuid)")
        assert tables.unclassified(conn) == ["widgets"]
    with pytest.raises(UserFacingError) as caught:
        export_organization(demo_db.owner_url, "acme", tmp_path / "a.fporg")
    assert "widgets" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_cli_round_trip(demo_db: Any, empty_db: Any, tmp_path: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "acme.fporg"
    assert cli.main(["org", "export", "--org", "acme", str(path),
                     "--database-url", demo_db.owner_url]) == 0
    assert "Wrote" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme.fporg"]  # no temp file left
    assert cli.main(["org", "import", str(path), "--database-url", empty_db.owner_url]) == 0
    out = capsys.readouterr().out
    assert "Imported organization acme" in out and "blob_chunks" in out
    assert cli.main(["org", "import", str(path), "--database-url", empty_db.owner_url]) \
        == cli.EXIT_USAGE
    assert "already in this database" in capsys.readouterr().err
    assert cli.main(["org", "export", "--org", "nope", str(tmp_path / "x.fporg"),
                     "--database-url", demo_db.owner_url]) == cli.EXIT_USAGE
    assert "no organization 'nope'" in capsys.readouterr().err


def test_foreign_database_is_refused(empty_db: Any, exported: Path) -> None:
    with _conn(empty_db) as conn:
        conn.execute("CREATE TABLE public.invoices (id int PRIMARY KEY)")
    with pytest.raises(UserFacingError) as caught:
        import_organization(empty_db.owner_url, exported)
    assert "not a Factory Pulse database" in str(caught.value)
    assert migrate.current_revision(empty_db.owner_url) is None


def test_export_of_another_schema_is_refused_before_migrating(
        empty_db: Any, exported: Path) -> None:
    with zipfile.ZipFile(exported) as old:
        entries = {name: old.read(name) for name in old.namelist()}
    manifest = json.loads(entries[archive.MANIFEST])
    manifest["schema_revision"] = "20261126_0016"
    entries[archive.MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(exported, "w") as new:
        for name, data in entries.items():
            new.writestr(name, data)
    with pytest.raises(UserFacingError) as caught:
        import_organization(empty_db.owner_url, exported)
    assert "20261126_0016" in str(caught.value) and migrate.head_revision() in str(caught.value)
    assert migrate.current_revision(empty_db.owner_url) is None


def test_person_of_both_organizations_is_kept_and_gets_the_membership(
        demo_db: Any, holding_b: Any, tmp_path: Path) -> None:
    engine = make_engine(demo_db.owner_url)
    try:
        with engine.begin() as connection:
            acme_org = people.find_organization(connection, "acme")
            people.add_membership(connection, acme_org, "globex.qa", Role.QA)
    finally:
        engine.dispose()
    path = tmp_path / "acme.fporg"
    export_organization(demo_db.owner_url, "acme", path)
    done = import_organization(holding_b.owner_url, path)
    assert done.persons_shared == ["globex.qa"]
    assert "globex.qa" not in done.logins_reused + done.logins_created
    _assert_same_org(demo_db, holding_b, str(acme_org.id))
