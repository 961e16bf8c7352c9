"""Backups (RELIABILITY.md §5.3): create, verify, restore, and the CLI around them."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from factorypulse_desktop import cli
from factorypulse_desktop.backup import files, listing, naming, pgtools
from factorypulse_desktop.backup.create import create_backup
from factorypulse_desktop.backup.restore import drop_database, restore_backup
from factorypulse_desktop.backup.verify import verify_backup
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime.embedded import ClusterSettings, EmbeddedCluster


def _scalar(conn: psycopg.Connection[Any], query: Any, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _database_exists(db: Any, name: str) -> bool:
    with psycopg.connect(db.cluster.conninfo("postgres")) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (name,)).fetchone() is not None


@pytest.fixture
def backup(demo_db: Any, tmp_path: Path) -> Path:
    return create_backup(demo_db.owner_url, tmp_path).path


def test_T_BAK_01_create_writes_archive_and_matching_manifest(demo_db: Any, tmp_path: Path) -> None:
    made = create_backup(demo_db.owner_url, tmp_path)
    assert naming.parse_name(made.path) is not None
    assert made.path.read_bytes()[:5] == b"PGDMP"
    manifest = json.loads(naming.manifest_path(made.path).read_text())
    sha256, size = files.sha256_of(made.path)
    assert (manifest["sha256"], manifest["size"]) == (sha256, size)
    assert manifest["kind"] == "complete" and manifest["database"] == demo_db.name
    assert manifest["pg_dump_version"] and manifest["server_version"]
    with psycopg.connect(demo_db.owner_conninfo()) as conn:
        projects = _scalar(conn, "SELECT count(*) FROM projects")
        chunks = _scalar(conn, "SELECT count(*) FROM blob_chunks")
    assert manifest["row_counts"]["projects"] == projects > 0
    assert manifest["row_counts"]["blob_chunks"] == chunks
    # Nothing but the archive and its manifest is left in the folder (no temp file).
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [made.path.name, naming.manifest_path(made.path).name])


def test_T_BAK_02_flipped_byte_or_truncation_caught_before_restore(
        demo_db: Any, backup: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    restores: list[str] = []
    real_run = pgtools.run

    def spy(program: str, args: list[str]) -> Any:
        restores.append(program)
        return real_run(program, args)

    monkeypatch.setattr(pgtools, "run", spy)
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0x01
    backup.write_bytes(bytes(data))
    flipped = verify_backup(demo_db.owner_url, backup)
    assert not flipped.ok and flipped.stage == "checksum"
    assert "checksum" in flipped.problems[0]
    backup.write_bytes(bytes(data[: len(data) // 3]))
    cut = verify_backup(demo_db.owner_url, backup)
    assert not cut.ok and cut.stage == "checksum" and "cut short" in cut.problems[0]
    assert restores == []  # neither pg_restore --list nor a restore ran
    recorded = json.loads(naming.verified_path(backup).read_text())
    assert recorded["ok"] is False


def test_T_BAK_03_verify_restores_and_reports_clean(demo_db: Any, backup: Path) -> None:
    result = verify_backup(demo_db.owner_url, backup)
    assert result.ok, result.problems
    assert result.stage == "done"
    text = " ".join(result.checks)
    assert "row-level security forced" in text and "sha256 verified" in text
    assert json.loads(naming.verified_path(backup).read_text())["ok"] is True
    with psycopg.connect(demo_db.cluster.conninfo("postgres")) as conn:
        left = _scalar(conn, "SELECT count(*) FROM pg_database WHERE datname LIKE "
                            "'fp_verify_%'")
    assert left == 0  # the scratch database is gone


def test_T_BAK_03_restore_into_new_database_has_everything(demo_db: Any, backup: Path) -> None:
    restored = restore_backup(demo_db.owner_url, backup, into="restored_copy")
    try:
        manifest = json.loads(naming.manifest_path(backup).read_text())
        with psycopg.connect(demo_db.cluster.conninfo("restored_copy")) as conn:
            counts = {t: _scalar(conn, f'SELECT count(*) FROM "{t}"')
                      for t in manifest["row_counts"]}
            unforced = _scalar(conn,
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> "
                "'alembic_version' AND NOT (c.relrowsecurity AND c.relforcerowsecurity)"
            )
        assert counts == manifest["row_counts"]
        assert unforced == 0
        assert restored.logins_created == []  # same cluster: every person's login exists
        # A person signs in to the restored database and sees only their organization.
        conninfo = demo_db.cluster.conninfo("restored_copy", user="globex.admin",
                                            password="factorypulse-demo")
        with psycopg.connect(conninfo) as conn:
            slugs = [r[0] for r in conn.execute("SELECT slug FROM organizations")]
        assert slugs == ["globex"]
    finally:
        drop_database(demo_db.owner_url, "restored_copy")


def test_T_BAK_04_corrupt_table_data_fails_and_leaves_no_target(
        demo_db: Any, tmp_path: Path) -> None:
    # Uncompressed so that one table's rows can be damaged in place (as a bad disk would).
    made = create_backup(demo_db.owner_url, tmp_path, compress=0)
    data = made.path.read_bytes()
    with psycopg.connect(demo_db.owner_conninfo()) as conn:
        project_id = str(_scalar(conn, "SELECT id FROM projects LIMIT 1"))
    position = data.index(project_id.encode())  # first seen in activity_log's rows
    broken = data[:position] + b"Z" + data[position + 1:]
    made.path.write_bytes(broken)
    # The damage happened before the manifest was written, so the checksum agrees.
    manifest = json.loads(naming.manifest_path(made.path).read_text())
    manifest["sha256"], manifest["size"] = files.sha256_of(made.path)
    naming.manifest_path(made.path).write_text(json.dumps(manifest))
    with pytest.raises(UserFacingError) as caught:
        restore_backup(demo_db.owner_url, made.path, into="restored_broken")
    message = str(caught.value)
    assert "stopped at the data of table activity_log" in message  # the first row damaged
    assert "Nothing was restored" in message
    assert not _database_exists(demo_db, "restored_broken")


def test_T_BAK_05_plain_sql_is_refused_with_guidance(demo_db: Any, tmp_path: Path) -> None:
    script = tmp_path / "factory_pulse_complete_backup.sql"
    script.write_text("\\! touch /tmp/owned\nCREATE TABLE x (id int);\n")
    with pytest.raises(UserFacingError) as caught:
        restore_backup(demo_db.owner_url, script, into="from_sql")
    assert "never runs SQL files" in str(caught.value)
    assert "import factory-pulse-web" in str(caught.value)
    assert not _database_exists(demo_db, "from_sql")
    assert cli.main(["backup", "restore", str(script), "--database-url",
                     demo_db.owner_url]) == cli.EXIT_USAGE


def test_T_BAK_06_person_login_cannot_back_up(demo_db: Any, tmp_path: Path) -> None:
    with pytest.raises(UserFacingError) as caught:
        create_backup(demo_db.url_for("acme.admin"), tmp_path)
    assert "acme.admin cannot make backups" in str(caught.value)
    assert "row-level security" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_T_BAK_07_older_pg_dump_refused_before_dumping(
        demo_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(pgtools, "tool_version", lambda program: "9.6")
    monkeypatch.setattr(pgtools, "run", lambda program, args: ran.append(program))
    with pytest.raises(UserFacingError) as caught:
        create_backup(demo_db.owner_url, tmp_path)
    message = str(caught.value)
    assert "pg_dump 9.6 is older" in message and "PostgreSQL 1" in message
    assert ran == [] and list(tmp_path.iterdir()) == []


def test_cli_create_verify_list(demo_db: Any, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    url = ["--database-url", demo_db.owner_url]
    assert cli.main(["backup", "create", "--kind", "schema", "--dir", str(tmp_path), *url]) == 0
    made = next(tmp_path.glob("factory_pulse_schema_backup_*.dump"))
    assert cli.main(["backup", "list", "--dir", str(tmp_path)]) == 0
    assert "unverified" in capsys.readouterr().out
    assert cli.main(["backup", "verify", str(made), *url]) == 0
    assert cli.main(["backup", "list", "--dir", str(tmp_path)]) == 0
    assert f"{made.name}  verified" in capsys.readouterr().out


def test_corrupt_archive_with_matching_checksum_fails_verification(
        demo_db: Any, tmp_path: Path) -> None:
    made = create_backup(demo_db.owner_url, tmp_path, compress=0)
    data = made.path.read_bytes()
    with psycopg.connect(demo_db.owner_conninfo()) as conn:
        globex = str(_scalar(conn, "SELECT id FROM organizations WHERE slug = 'globex'"))
    position = data.index(globex.encode())
    made.path.write_bytes(data[:position] + b"#" + data[position + 1:])
    manifest = json.loads(naming.manifest_path(made.path).read_text())
    manifest["sha256"], manifest["size"] = files.sha256_of(made.path)
    naming.manifest_path(made.path).write_text(json.dumps(manifest))
    result = verify_backup(demo_db.owner_url, made.path)
    assert not result.ok and result.stage == "restore"
    assert "stopped at the data of table" in result.problems[0]
    assert cli.main(["backup", "list", "--dir", str(tmp_path)]) == 0
    assert listing.list_backups(tmp_path)[0].status == "failed"


def test_restore_onto_a_cluster_without_the_roles(demo_db: Any, backup: Path) -> None:
    # A second throwaway cluster: none of fp_owner, fp_member, … nor any person exists there.
    root = Path(tempfile.mkdtemp(prefix="fp-backup-other-"))
    root.chmod(0o711)
    other = EmbeddedCluster(root / "cluster", settings=ClusterSettings(fsync=False))
    try:
        other.ensure_initialized()
        other.start()
        restored = restore_backup(other.url("postgres"), backup, into="moved")
        with psycopg.connect(other.conninfo("moved")) as conn:
            roles = {r[0]: r[1] for r in conn.execute(
                "SELECT rolname, rolpassword IS NOT NULL FROM pg_authid")}
            persons = [r[0] for r in conn.execute("SELECT role_name FROM persons ORDER BY 1")]
            projects = _scalar(conn, "SELECT count(*) FROM projects")
        assert {"fp_owner", "fp_security", "fp_member", "fp_backup"} <= set(roles)
        assert restored.logins_created == persons and "acme.admin" in persons
        assert not any(roles[p] for p in persons)  # created without passwords
        manifest = json.loads(naming.manifest_path(backup).read_text())
        assert projects == manifest["row_counts"]["projects"]
    finally:
        other.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_cli_prune_keeps_newest_verified(demo_db: Any, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    start = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
    for day in range(10):
        path = tmp_path / naming.backup_name("complete", start + timedelta(days=day))
        path.write_bytes(b"PGDMP")
        files.write_json(naming.manifest_path(path), {"size": 5})
        if day < 9:  # the newest has not verified yet
            files.write_json(naming.verified_path(path), {"ok": True})
    assert cli.main(["backup", "prune", "--dir", str(tmp_path),
                     "--daily", "2", "--weekly", "0", "--monthly", "0"]) == 0
    assert "Deleted 7 backup(s)." in capsys.readouterr().out
    left = [b.created_at.day for b in listing.list_backups(tmp_path)]
    assert left == [10, 9, 8]  # the unverified newest and the two newest verified days
    assert len(list(tmp_path.iterdir())) == 3 + 3 + 2  # sidecars went with their archives


def test_non_superuser_member_of_backup_role_backs_up_password_never_on_command_line(
        demo_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "Backup-Only-7421"
    with psycopg.connect(demo_db.cluster.conninfo("postgres"), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS nightly_backup")
        conn.execute(f"CREATE ROLE nightly_backup LOGIN PASSWORD '{secret}' IN ROLE fp_backup")
        conn.execute(f'GRANT CONNECT ON DATABASE "{demo_db.name}" TO nightly_backup')
    calls: list[list[str]] = []
    real_run = pgtools.run

    def spy(program: str, args: list[str], secret: str | None = None,
            poll: pgtools.Poll | None = None) -> Any:
        calls.append(args)
        return real_run(program, args, secret, poll)

    monkeypatch.setattr(pgtools, "run", spy)
    try:
        made = create_backup(demo_db.url_for("nightly_backup", secret), tmp_path)
        assert made.manifest["row_counts"]["organizations"] == 2  # RLS did not hide any
        assert calls and not any(secret in arg for args in calls for arg in args)
        assert "--role=fp_backup" in calls[-1]  # pg_dump reads as the backup role
    finally:
        with psycopg.connect(demo_db.cluster.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'REVOKE ALL ON DATABASE "{demo_db.name}" FROM nightly_backup')
            conn.execute("DROP ROLE nightly_backup")


def test_restore_needs_rights_to_create_a_database(demo_db: Any, backup: Path) -> None:
    with pytest.raises(UserFacingError) as caught:
        restore_backup(demo_db.url_for("acme.admin"), backup, into="by_person")
    assert "Could not create the database by_person" in str(caught.value)
    assert not _database_exists(demo_db, "by_person")


def test_restore_refuses_an_existing_target(demo_db: Any, backup: Path) -> None:
    with pytest.raises(UserFacingError) as caught:
        restore_backup(demo_db.owner_url, backup, into=demo_db.name)
    assert "already exists" in str(caught.value)


class _Stop(Exception):
    pass


def test_cancelled_while_pg_dump_runs_stops_it_and_leaves_nothing(
        demo_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgtools, "_POLL_SECONDS", 0.001)  # poll at once, while pg_dump runs
    told: list[str] = []

    def progress(message: str) -> None:
        told.append(message)
        if message.startswith("Writing the backup"):
            raise _Stop  # what the app's Cancel button does through TaskState.check()

    with pytest.raises(_Stop):
        create_backup(demo_db.owner_url, tmp_path, progress=progress)
    assert told[0] == "Preparing the backup"
    assert list(tmp_path.iterdir()) == []  # no archive, no manifest, no .partial


def test_cancelled_verification_records_nothing_and_drops_its_scratch_database(
        demo_db: Any, backup: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgtools, "_POLL_SECONDS", 0.001)

    def progress(message: str) -> None:
        if message.startswith("Trial restore"):
            raise _Stop

    with pytest.raises(_Stop):
        verify_backup(demo_db.owner_url, backup, progress=progress)
    assert not naming.verified_path(backup).exists()  # still "unverified", not "failed"
    with psycopg.connect(demo_db.cluster.conninfo("postgres")) as conn:
        scratch = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'fp_verify_%'").fetchone()
    assert scratch == (0,)


def test_automatic_backup_runs_once_a_day_when_switched_on(demo_db: Any, tmp_path: Path) -> None:
    from factorypulse_desktop.backup.settings import BackupSettings, BackupSettingsStore
    from factorypulse_desktop.services import backups
    from factorypulse_desktop.services.profiles import ConnectionProfile

    profile = ConnectionProfile(name="plant", kind="server", host=str(demo_db.cluster.socket_dir),
                                port=demo_db.cluster.port, database=demo_db.name,
                                sslmode="disable")
    store = BackupSettingsStore(tmp_path)
    folder = tmp_path / "backups"
    store.save(profile.name, BackupSettings(folder=str(folder), login=demo_db.cluster.superuser))
    assert backups.automatic_backup(profile, store) is None  # off unless switched on
    store.save(profile.name, BackupSettings(folder=str(folder), login=demo_db.cluster.superuser,
                                            automatic=True))
    run = backups.automatic_backup(profile, store)
    assert run is not None and run.verification.ok and run.created.parent == folder
    assert backups.automatic_backup(profile, store) is None  # one a day
    later = datetime.now(UTC) + timedelta(days=1, minutes=1)
    second = backups.automatic_backup(profile, store, now=later)
    assert second is not None and second.verification.ok
    # Both were made today: the retention policy keeps the day's newest verified one.
    assert second.pruned == [run.created]
    assert [b.path for b in listing.list_backups(folder)] == [second.created]
