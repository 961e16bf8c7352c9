"""File storage (RELIABILITY.md T-FILE-01 … T-FILE-10): bytes in PostgreSQL, checked both ways.

Uploads and downloads go through the services as real persons (acme.engineering,
acme.sales, globex.sales); defects are planted as the database owner.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from rls_support import org_id, owner_conn, person_conn
from support import profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import document_files, documents, project_detail
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.document_files import UploadRequest
from factorypulse_desktop.services.upload_journal import PendingUpload, UploadJournal
from factorypulse_desktop.storage import blobs
from factorypulse_desktop.storage.verify import sweep

PASSWORD = "factorypulse-demo"
MIB = 1 << 20


@pytest.fixture
def engineer(demo_db: Any) -> Iterator[Workspace]:
    with sign_in(profile_for(demo_db), "acme.engineering", PASSWORD) as ws:
        yield ws


@pytest.fixture
def sales(demo_db: Any) -> Iterator[Workspace]:
    with sign_in(profile_for(demo_db), "acme.sales", PASSWORD) as ws:
        yield ws


@pytest.fixture
def project(demo_db: Any, acme: uuid.UUID) -> uuid.UUID:
    with owner_conn(demo_db) as conn:
        row = conn.execute("SELECT id FROM projects WHERE organization_id = %s "
                           "ORDER BY project_number LIMIT 1", (acme,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def write_file(folder: Path, name: str, size: int, seed: int = 1) -> Path:
    """`size` pseudo-random bytes (incompressible, like drawings and PDFs), streamed."""
    path = folder / name
    block = hashlib.sha256(str(seed).encode()).digest() * 32768  # 1 MiB pattern
    block = bytes(b ^ (i * 7 & 0xFF) for i, b in enumerate(block[:4096])) * 256
    with path.open("wb") as out:
        left = size
        n = 0
        while left:
            piece = block[: min(left, len(block))]
            # Vary each MiB so chunks differ (no accidental chunk-level sameness).
            out.write(n.to_bytes(8, "big")[: len(piece)] + piece[8:] if len(piece) > 8
                      else piece)
            left -= len(piece)
            n += 1
    return path


def sha_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while block := src.read(MIB):
            digest.update(block)
    return digest.hexdigest()


def upload(ws: Workspace, org: uuid.UUID, path: Path, project: uuid.UUID | None = None,
           **kwargs: Any) -> document_files.Uploaded:
    request = UploadRequest(path=path, title=kwargs.pop("title", path.stem),
                            project_id=project, **kwargs)
    return document_files.upload(ws, org, request)


def object_count(db: Any, org: uuid.UUID) -> int:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT count(*) FROM storage_objects WHERE organization_id = %s",
                           (org,)).fetchone()
    assert row is not None
    return int(row[0])


# -- T-FILE-01 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [0, 1, MIB - 1, MIB, MIB + 1, 3 * MIB + 17])
def test_T_FILE_01_round_trip_at_chunk_boundaries(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path, size: int) -> None:
    source = write_file(tmp_path, f"part-{size}.bin", size, seed=size)
    done = upload(engineer, acme, source, project)
    assert done.version_number == 1 and done.size == size
    out = tmp_path / "out"
    out.mkdir()
    saved = document_files.download(engineer, acme, done.document_id, out)
    assert saved.parent == out and saved.name == source.name
    assert sha_of(saved) == sha_of(source)
    assert saved.stat().st_size == size
    with owner_conn(demo_db) as conn:
        row = conn.execute("SELECT size, chunk_count, sha256, status FROM storage_objects "
                           "WHERE id = %s", (done.object_id,)).fetchone()
    assert row == (size, -(-size // MIB), sha_of(source), "complete")


@pytest.mark.slow
def test_T_FILE_01_100_mib_streams_with_bounded_memory(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path) -> None:
    source = write_file(tmp_path, "big.bin", 100 * MIB)
    me = psutil.Process()
    peaks: dict[str, int] = {"client": 0, "server": 0}
    stop = threading.Event()

    def servers() -> list[psutil.Process]:
        with owner_conn(demo_db) as conn:
            pids = [r[0] for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                (document_files.TRANSFER_NAME,))]
        return [psutil.Process(p) for p in pids if psutil.pid_exists(p)]

    def watch() -> None:
        while not stop.is_set():
            peaks["client"] = max(peaks["client"], me.memory_info().rss)
            try:
                for proc in servers():
                    peaks["server"] = max(peaks["server"], proc.memory_info().rss)
            except (psutil.Error, psycopg.Error):
                pass
            time.sleep(0.05)

    base = me.memory_info().rss
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        done = upload(engineer, acme, source, project)
        saved = document_files.download(engineer, acme, done.document_id, tmp_path / "..")
    finally:
        stop.set()
        watcher.join()
    assert sha_of(saved) == sha_of(source)
    saved.unlink()
    # Streamed, not buffered: neither side ever holds the 100 MiB.
    assert peaks["client"] - base < 40 * MIB, (peaks, base)
    assert 0 < peaks["server"] < 60 * MIB, peaks


def test_T_FILE_01_the_largest_allowed_file_and_one_byte_more(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path) -> None:
    limit = 2 * MIB + 5
    with owner_conn(demo_db) as conn:
        conn.execute("UPDATE storage_buckets SET max_file_size = %s WHERE organization_id = %s "
                     "AND name = 'documents'", (limit, acme))
    largest = write_file(tmp_path, "largest.bin", limit)
    done = upload(engineer, acme, largest, project)
    saved = document_files.download(engineer, acme, done.document_id, tmp_path / "..")
    assert sha_of(saved) == sha_of(largest)
    saved.unlink()
    with pytest.raises(blobs.FileTooLargeError):
        upload(engineer, acme, write_file(tmp_path, "over.bin", limit + 1), project)


# -- T-FILE-02 ---------------------------------------------------------------------------------
def test_T_FILE_02_cut_connection_leaves_no_document_and_resumes(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path) -> None:
    source = write_file(tmp_path, "cut.bin", 20 * MIB + 3)
    journal = UploadJournal(tmp_path / "journal")
    request = UploadRequest(path=source, title="Cut drawing", project_id=project)

    def cut_halfway(done: int) -> None:
        if done >= 10 * MIB:
            with owner_conn(demo_db, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE application_name = %s", (document_files.TRANSFER_NAME,))

    with pytest.raises(UserFacingError):
        document_files.upload(engineer, acme, request, journal=journal, progress=cut_halfway)
    # Nothing shows as a document, and the partial upload is recorded for resuming.
    titles = [d.title for d in documents.list_documents(
        engineer, acme, documents.DocumentQuery(project_id=project))]
    assert "Cut drawing" not in titles
    [pending] = document_files.resume_pending(engineer, acme, journal)
    with owner_conn(demo_db) as conn:
        row = conn.execute("SELECT status, chunk_count FROM storage_objects WHERE id = %s",
                           (pending.object_id,)).fetchone()
    assert row is not None and row[0] == "uploading" and 8 <= row[1] < 21
    sent_again: list[int] = []
    done = document_files.upload(engineer, acme, document_files.request_of(pending),
                                 journal=journal, progress=sent_again.append)
    assert done.object_id == pending.object_id  # resumed, not started again
    assert sent_again[0] >= 8 * MIB  # the first progress is after the stored prefix
    assert journal.pending(acme) == []
    saved = document_files.download(engineer, acme, done.document_id, tmp_path / "..")
    assert sha_of(saved) == sha_of(source)
    saved.unlink()


def test_T_FILE_02_abandoned_upload_is_cleaned_up(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, tmp_path: Path) -> None:
    before = object_count(demo_db, acme)
    source = write_file(tmp_path, "left.bin", 3 * MIB)
    journal = UploadJournal(tmp_path / "journal")
    with person_conn(demo_db, "acme.engineering", autocommit=True) as conn:
        store = blobs.bucket(conn, acme)
        object_id = blobs.begin_upload(conn, acme, store, 3 * MIB, None)
        with source.open("rb") as half:
            blobs.send(conn, acme, object_id, io.BytesIO(half.read(MIB)))
    journal.record(PendingUpload.of(acme, source, 3 * MIB, object_id))
    # Within the day the upload stays resumable: the janitor (run at every sign-in) keeps it.
    assert document_files.tidy_up(engineer, acme, journal) == 0
    assert [p.object_id for p in journal.pending(acme)] == [object_id]
    with owner_conn(demo_db) as conn:
        conn.execute("SET session_replication_role = replica")  # keep tg_touch out of it
        conn.execute("UPDATE storage_objects SET updated_at = now() - interval '25 hours' "
                     "WHERE id = %s", (object_id,))
    # A day later nobody resumed it (a killed app): it goes, and this computer forgets it.
    assert document_files.tidy_up(engineer, acme, journal) == 1
    assert journal.pending(acme) == []
    assert object_count(demo_db, acme) == before


# -- T-FILE-03 ---------------------------------------------------------------------------------
def test_T_FILE_03_corrupt_chunk_fails_the_download_and_is_reported(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path) -> None:
    done = upload(engineer, acme, write_file(tmp_path, "flange.bin", 2 * MIB + 10), project)
    with owner_conn(demo_db) as conn:
        conn.execute("UPDATE blob_chunks SET data = set_byte(data, 100, "
                     "(get_byte(data, 100) + 1) %% 256) WHERE object_id = %s AND seq = 1",
                     (done.object_id,))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(blobs.CorruptContentError) as caught:
        document_files.download(engineer, acme, done.document_id, out)
    assert caught.value.object_id == done.object_id
    assert "part 2" in str(caught.value)
    assert list(out.iterdir()) == []  # no file, not even a partial one
    with owner_conn(demo_db) as conn:
        problems = sweep(conn)
    assert [(p.kind, p.object_id) for p in problems
            if p.kind != "unreferenced"] == [("chunk_hash_mismatch", done.object_id)]


# -- T-FILE-04 ---------------------------------------------------------------------------------
def test_T_FILE_04_sweep_reports_each_seeded_defect_once(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path) -> None:
    with owner_conn(demo_db) as conn:
        assert sweep(conn) == [], "the demo data starts clean"
    ids = [upload(engineer, acme, write_file(tmp_path, f"d{n}.bin", 2 * MIB + n, seed=n),
                  project).object_id for n in range(5)]
    missing, resized, flipped, rehashed, unused = ids
    orphan = uuid.uuid4()
    with owner_conn(demo_db) as conn:
        conn.execute("DELETE FROM blob_chunks WHERE object_id = %s AND seq = 1", (missing,))
        conn.execute("UPDATE storage_objects SET size = size + 1 WHERE id = %s", (resized,))
        conn.execute("UPDATE blob_chunks SET data = overlay(data PLACING '\\xff'::bytea "
                     "FROM 1) WHERE object_id = %s AND seq = 0", (flipped,))
        # Bytes and chunk checksum changed together: only the whole-file hash can tell.
        conn.execute("UPDATE blob_chunks SET data = overlay(data PLACING '\\xff'::bytea "
                     "FROM 1), sha256 = sha256(overlay(data PLACING '\\xff'::bytea FROM 1)) "
                     "WHERE object_id = %s AND seq = 2", (rehashed,))
        conn.execute("DELETE FROM document_versions WHERE storage_object_id = %s", (unused,))
        conn.execute("SET session_replication_role = replica")  # what a bad restore does
        # Deleting its last version removed `unused` at once (T-FILE-07); put an intact
        # file back without a version.
        conn.execute("INSERT INTO storage_objects (id, organization_id, bucket_id, sha256, "
                     "size, chunk_count, status, expected_size) SELECT %s, organization_id, "
                     "bucket_id, encode(sha256('\\x01'), 'hex'), 1, 1, 'complete', 1 "
                     "FROM storage_objects WHERE id = %s", (unused, missing))
        conn.execute("INSERT INTO blob_chunks (organization_id, object_id, seq, data, sha256) "
                     "VALUES (%s, %s, 0, '\\x01', sha256('\\x01'))", (acme, unused))
        conn.execute("INSERT INTO blob_chunks (organization_id, object_id, seq, data, sha256) "
                     "VALUES (%s, %s, 0, '\\x01', sha256('\\x01'))", (acme, orphan))
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        found = {(p.kind, p.object_id) for p in sweep(conn)}
        assert len(sweep(conn)) == len(found)
    assert found == {
        ("missing_chunks", missing), ("size_mismatch", resized),
        ("chunk_hash_mismatch", flipped), ("hash_mismatch", rehashed),
        ("unreferenced", unused), ("orphan_chunks", orphan),
    }


# -- T-FILE-05 ---------------------------------------------------------------------------------
def test_T_FILE_05_over_the_limit_is_refused_before_and_by_the_database(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path) -> None:
    with owner_conn(demo_db) as conn:
        conn.execute("UPDATE storage_buckets SET max_file_size = %s WHERE organization_id = %s "
                     "AND name = 'documents'", (MIB, acme))
    before = object_count(demo_db, acme)
    big = write_file(tmp_path, "big.bin", MIB + 1)
    with pytest.raises(blobs.FileTooLargeError) as caught:
        upload(engineer, acme, big, project)
    assert "1.0 MB" in str(caught.value)
    assert object_count(demo_db, acme) == before  # refused before the upload started
    with person_conn(demo_db, "acme.engineering", autocommit=True) as conn:
        bucket_id = blobs.bucket(conn, acme).id
        with pytest.raises(psycopg.Error) as server:
            conn.execute("INSERT INTO storage_objects (organization_id, bucket_id, "
                         "expected_size) VALUES (%s, %s, %s)", (acme, bucket_id, MIB + 1))
        assert server.value.sqlstate == "FP413"
        conn.rollback()
        # Announcing a small file and sending more is refused too.
        object_id = blobs.begin_upload(conn, acme, blobs.Bucket(bucket_id, 10 * MIB), 10, None)
        with pytest.raises(psycopg.Error) as more:
            blobs.send(conn, acme, object_id, io.BytesIO(b"y" * 11))
        assert more.value.sqlstate == "FP413"


# -- T-FILE-06 ---------------------------------------------------------------------------------
def test_T_FILE_06_same_file_in_two_organizations_is_two_blobs(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path) -> None:
    source = write_file(tmp_path, "shared.bin", MIB + 100)
    mine = upload(engineer, acme, source, project)
    with owner_conn(demo_db) as conn:
        globex = org_id(conn, "globex")
    with sign_in(profile_for(demo_db), "globex.engineering", PASSWORD) as other:
        theirs = upload(other, globex, source)
        sent: list[int] = []
        again = document_files.upload(other, globex, UploadRequest(path=source, title="x"),
                                      progress=sent.append)
    assert theirs.object_id != mine.object_id
    assert again.object_id == theirs.object_id  # shared within globex only
    assert sent[-1] == source.stat().st_size  # every byte sent: no shortcut to time
    with owner_conn(demo_db) as conn:
        rows = conn.execute("SELECT organization_id FROM storage_objects WHERE sha256 = %s "
                            "ORDER BY 1", (sha_of(source),)).fetchall()
    assert sorted(r[0] for r in rows) == sorted([acme, globex])
    with person_conn(demo_db, "globex.admin") as conn:
        assert conn.execute("SELECT count(*) FROM storage_objects WHERE id = %s",
                            (mine.object_id,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM blob_chunks WHERE object_id = %s",
                            (mine.object_id,)).fetchone() == (0,)


# -- T-FILE-07 ---------------------------------------------------------------------------------
def test_T_FILE_07_shared_content_survives_until_the_last_reference(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path) -> None:
    source = write_file(tmp_path, "bracket.bin", MIB + 5)
    first = upload(engineer, acme, source, project, title="Bracket A")
    second = upload(engineer, acme, source, project, title="Bracket B")
    assert first.object_id == second.object_id

    def chunks() -> int:
        with owner_conn(demo_db) as conn:
            row = conn.execute("SELECT count(*) FROM blob_chunks WHERE object_id = %s",
                               (first.object_id,)).fetchone()
        assert row is not None
        return int(row[0])

    row = documents.load_document(engineer, acme, first.document_id)
    documents.delete_document(engineer, acme, first.document_id, row.version)
    assert chunks() == 2
    saved = document_files.download(engineer, acme, second.document_id, tmp_path / "..")
    assert sha_of(saved) == sha_of(source)
    saved.unlink()
    row = documents.load_document(engineer, acme, second.document_id)
    documents.delete_document(engineer, acme, second.document_id, row.version)
    assert chunks() == 0
    assert object_count(demo_db, acme) == object_count(demo_db, acme)  # stable
    with owner_conn(demo_db) as conn:
        assert conn.execute("SELECT count(*) FROM storage_objects WHERE id = %s",
                            (first.object_id,)).fetchone() == (0,)


# -- T-FILE-08 ---------------------------------------------------------------------------------
def test_T_FILE_08_wrong_offset_or_repeated_chunk_is_refused(demo_db: Any,
                                                              acme: uuid.UUID) -> None:
    with person_conn(demo_db, "acme.engineering", autocommit=True) as conn:
        object_id = blobs.begin_upload(conn, acme, blobs.bucket(conn, acme), 3 * MIB, None)
        blobs.send(conn, acme, object_id, io.BytesIO(b"a" * MIB))

        def state() -> tuple[int, int]:
            row = conn.execute("SELECT size, chunk_count FROM storage_objects WHERE id = %s",
                               (object_id,)).fetchone()
            assert row is not None
            return row[0], row[1]

        assert state() == (MIB, 1)
        for seq in (0, 2, 5):  # a repeat, a skip, a jump
            with pytest.raises(psycopg.Error):
                conn.execute("INSERT INTO blob_chunks (organization_id, object_id, seq, data) "
                             "VALUES (%s, %s, %s, %s)", (acme, object_id, seq, b"b" * MIB))
            conn.rollback()
            assert state() == (MIB, 1)
        # A short chunk may only be the last: nothing may follow it.
        conn.execute("INSERT INTO blob_chunks (organization_id, object_id, seq, data) "
                     "VALUES (%s, %s, 1, %s)", (acme, object_id, b"c" * 10))
        conn.commit()
        with pytest.raises(psycopg.Error) as after_short:
            conn.execute("INSERT INTO blob_chunks (organization_id, object_id, seq, data) "
                         "VALUES (%s, %s, 2, %s)", (acme, object_id, b"d" * 10))
        assert after_short.value.sqlstate == "FP416"
        conn.rollback()
        assert state() == (MIB + 10, 2)
        # Persons cannot rewrite an upload's bookkeeping or finish it by hand.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE storage_objects SET status = 'complete', sha256 = %s "
                         "WHERE id = %s", ("0" * 64, object_id))
        conn.rollback()
        with pytest.raises(psycopg.Error) as incomplete:
            blobs.complete(conn, acme, object_id, "0" * 64)
        assert incomplete.value.sqlstate == "FP416"


# -- T-FILE-09 ---------------------------------------------------------------------------------
def test_T_FILE_09_two_people_add_a_version_at_once(
        demo_db: Any, engineer: Workspace, sales: Workspace, acme: uuid.UUID,
        project: uuid.UUID, tmp_path: Path) -> None:
    first = upload(engineer, acme, write_file(tmp_path, "plate.bin", MIB + 1, seed=1),
                   project, title="Plate")
    files = {"engineer": write_file(tmp_path, "plate-e.bin", 4 * MIB + 3, seed=2),
             "sales": write_file(tmp_path, "plate-s.bin", 4 * MIB + 9, seed=3)}
    results: dict[str, Any] = {}
    start = threading.Barrier(2)

    def add(who: str, ws: Workspace) -> None:
        start.wait()
        request = UploadRequest(path=files[who], title="Plate",
                                document_id=first.document_id, change_summary=who)
        results[who] = document_files.upload(ws, acme, request)

    threads = [threading.Thread(target=add, args=(w, ws))
               for w, ws in (("engineer", engineer), ("sales", sales))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.version_number for r in results.values()) == [2, 3]
    versions = documents.list_versions(engineer, acme, first.document_id)
    assert [v.number for v in versions] == [3, 2, 1]
    assert sum(v.is_current for v in versions) == 1
    for who, done in results.items():
        out = tmp_path / who
        out.mkdir()
        saved = document_files.download(engineer, acme, first.document_id, out,
                                        version_number=done.version_number)
        assert sha_of(saved) == sha_of(files[who])  # never interleaved


# -- T-FILE-10 ---------------------------------------------------------------------------------
def test_T_FILE_10_no_large_objects_and_blob_tables_force_rls(demo_db: Any) -> None:
    with owner_conn(demo_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone() == (0,)
        oid_columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('oid', 'lo')").fetchall()
        assert oid_columns == []
        for table in ("storage_objects", "blob_chunks", "storage_buckets", "documents",
                      "document_versions", "document_access_log"):
            row = conn.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
                               "WHERE oid = %s::regclass", (table,)).fetchone()
            assert row == (True, True), table
        granted = conn.execute(
            "SELECT count(*) FROM pg_proc p WHERE p.proname LIKE 'lo\\_%%' AND "
            "has_function_privilege('fp_member', p.oid, 'EXECUTE') AND "
            "p.proname IN ('lo_import', 'lo_export')").fetchone()
        assert granted == (0,)


# -- versions, metadata, access ---------------------------------------------------------------
def test_make_an_older_version_current_again(
        engineer: Workspace, acme: uuid.UUID, project: uuid.UUID, tmp_path: Path) -> None:
    v1 = write_file(tmp_path, "rev-a.bin", 1000, seed=1)
    first = upload(engineer, acme, v1, project, title="Housing")
    v2 = write_file(tmp_path, "rev-b.bin", 2000, seed=2)
    document_files.upload(engineer, acme, UploadRequest(
        path=v2, title="Housing", document_id=first.document_id, change_summary="Rev B"))
    row = documents.load_document(engineer, acme, first.document_id)
    assert (row.current_version, row.file_name, row.file_size) == (2, "rev-b.bin", 2000)
    row = documents.make_current(engineer, acme, first.document_id, 1)
    assert (row.current_version, row.file_name, row.file_size) == (1, "rev-a.bin", 1000)
    versions = documents.list_versions(engineer, acme, first.document_id)
    assert [(v.number, v.is_current) for v in versions] == [(2, False), (1, True)]
    saved = document_files.download(engineer, acme, first.document_id, tmp_path / "..")
    assert sha_of(saved) == sha_of(v1)
    saved.unlink()
    with pytest.raises(UserFacingError, match="current version cannot be deleted"):
        documents.delete_version(engineer, acme, versions[1].id)
    documents.delete_version(engineer, acme, versions[0].id)
    assert [v.number for v in documents.list_versions(engineer, acme, first.document_id)] == [1]


def test_metadata_save_is_compare_and_set(
        engineer: Workspace, sales: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path) -> None:
    done = upload(engineer, acme, write_file(tmp_path, "spec.txt", 100), project,
                  title="Spec")
    loaded = documents.load_document(engineer, acme, done.document_id)
    edit = documents.DocumentEdit("Spec rev 2", "specification", "internal", ("weld",))
    saved = documents.save_document(sales, acme, done.document_id, loaded.version, edit)
    assert saved.title == "Spec rev 2" and saved.tags == ("weld",)
    with pytest.raises(documents.DocumentConflictError) as conflict:
        documents.save_document(engineer, acme, done.document_id, loaded.version,
                                documents.DocumentEdit("Mine", "drawing", "internal"))
    assert conflict.value.current.title == "Spec rev 2"
    with pytest.raises(UserFacingError, match="Title is required"):
        documents.save_document(sales, acme, done.document_id, saved.version,
                                documents.DocumentEdit("  ", "drawing", "internal"))


def test_download_and_view_are_logged_without_counting_as_edits(
        demo_db: Any, engineer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        tmp_path: Path) -> None:
    done = upload(engineer, acme, write_file(tmp_path, "log.bin", 10), project)
    before = documents.load_document(engineer, acme, done.document_id)
    saved = document_files.download(engineer, acme, done.document_id, tmp_path / "..")
    saved.unlink()
    copy = document_files.open_copy(engineer, acme, done.document_id)
    assert copy.path.read_bytes() == (tmp_path / "log.bin").read_bytes()
    after = documents.load_document(engineer, acme, done.document_id)
    assert after.access_count == before.access_count + 2
    assert after.last_accessed is not None
    assert after.version == before.version  # reading is not an edit
    log = documents.access_log(engineer, acme, done.document_id)
    assert [entry[1] for entry in log][:3] == ["view", "download", "upload"]
    assert all(entry[2] == "Eli Engineer" or entry[2] for entry in log)
    assert "on " + os.uname().nodename in (log[0][3] or "")


def test_open_copy_saved_in_its_application_becomes_version_2(
        engineer: Workspace, acme: uuid.UUID, project: uuid.UUID, tmp_path: Path) -> None:
    done = upload(engineer, acme, write_file(tmp_path, "drawing.dxf", 5000), project,
                  title="Drawing")
    copy = document_files.open_copy(engineer, acme, done.document_id)
    assert not copy.changed()
    time.sleep(0.01)
    copy.path.write_bytes(copy.path.read_bytes() + b"\n0\nEOF\n")  # the CAD program saves
    assert copy.changed()
    again = document_files.upload(engineer, acme, UploadRequest(
        path=copy.path, title="Drawing", document_id=copy.document_id,
        change_summary="Edited in its application."))
    assert again.version_number == 2
    row = documents.load_document(engineer, acme, done.document_id)
    assert row.current_version == 2 and row.file_size == 5000 + 7


# -- T-CONC-05 ---------------------------------------------------------------------------------
def test_T_CONC_05_document_and_project_edits_never_conflict(
        demo_db: Any, engineer: Workspace, sales: Workspace, acme: uuid.UUID,
        tmp_path: Path) -> None:
    """Chosen rule: a document and its project are separate records, each with its own lock
    version; editing one is never a conflict for someone editing the other."""
    with person_conn(demo_db, "acme.sales") as conn:
        row = conn.execute(
            "INSERT INTO projects (organization_id, title, customer_id) SELECT %s, "
            "'Conveyor frame', id FROM contacts WHERE organization_id = %s AND type = "
            "'customer' LIMIT 1 RETURNING id", (acme, acme)).fetchone()
    assert row is not None
    project = uuid.UUID(str(row[0]))
    done = upload(engineer, acme, write_file(tmp_path, "frame.dxf", 300), project,
                  title="Frame drawing")
    detail = project_detail.load_project(sales, project)
    document = documents.load_document(engineer, acme, done.document_id)
    # Both people opened their record; the engineer saves the document first.
    saved = documents.save_document(engineer, acme, done.document_id, document.version,
                                    documents.DocumentEdit("Frame drawing rev B", "drawing",
                                                           "internal"))
    version = project_detail.save_project(sales, project, detail.version,
                                          replace(detail.edit, title="Conveyor frame, 2 m"))
    assert saved.version == document.version + 1
    assert version == detail.version + 1
    assert project_detail.load_project(sales, project).title == "Conveyor frame, 2 m"
    assert documents.load_document(engineer, acme, done.document_id).title == \
        "Frame drawing rev B"
