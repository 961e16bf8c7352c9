"""A document upload cut in the middle, and one whose final COMMIT landed with its answer
lost (RELIABILITY.md T-NET-03 for uploads, T-FILE-02 over a network cut): resuming from the
upload journal completes the same stored object, and the document exists exactly once.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from faults_support import count, owner_conn, terminate
from rls_support import org_id
from support import DEMO_PASSWORD, profile_for
from tcp_proxy import TcpProxy

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime.embedded import EmbeddedCluster
from factorypulse_desktop.services import document_files
from factorypulse_desktop.services.auth import sign_in
from factorypulse_desktop.services.document_files import UploadRequest
from factorypulse_desktop.services.profiles import ConnectionProfile
from factorypulse_desktop.services.upload_journal import UploadJournal

MIB = 1 << 20


@pytest.fixture
def proxy(pg_cluster: EmbeddedCluster) -> Iterator[TcpProxy]:
    with TcpProxy(lambda: pg_cluster.socket_dir / f".s.PGSQL.{pg_cluster.port}") as running:
        yield running


def tcp_profile(db: Any, proxy: TcpProxy) -> ConnectionProfile:
    return ConnectionProfile(name="Upload over TCP", kind="server", host=proxy.host,
                             port=proxy.port, database=db.name, sslmode="disable")


def acme_project(db: Any) -> tuple[uuid.UUID, uuid.UUID]:
    with owner_conn(db) as conn:
        org = org_id(conn, "acme")
        row = conn.execute("SELECT id FROM projects WHERE organization_id = %s "
                           "ORDER BY project_number LIMIT 1", (org,)).fetchone()
    assert row is not None
    return org, row[0]


def random_file(folder: Path, size: int) -> Path:
    path = folder / "drawing.bin"
    path.write_bytes(os.urandom(size))
    return path


def out_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "downloaded"
    folder.mkdir(exist_ok=True)
    return folder


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def documents_titled(db: Any, title: str) -> int:
    return count(db, "SELECT count(*) FROM documents WHERE title = %s", title)


def test_T_NET_03_upload_cut_by_the_network_midway_resumes_the_same_object(
        demo_db: Any, proxy: TcpProxy, tmp_path: Path) -> None:
    org, project = acme_project(demo_db)
    source = random_file(tmp_path, 20 * MIB + 5)
    journal = UploadJournal(tmp_path / "journal")
    request = UploadRequest(path=source, title="Cut by the network", project_id=project)
    with sign_in(tcp_profile(demo_db, proxy), "acme.engineering", DEMO_PASSWORD) as ws:
        def cut_halfway(done: int) -> None:
            if done >= 12 * MIB:  # after the first 8 chunks were committed
                proxy.cut()

        with pytest.raises(UserFacingError):
            document_files.upload(ws, org, request, journal=journal, progress=cut_halfway)
        proxy.resume()
        assert documents_titled(demo_db, "Cut by the network") == 0
        [pending] = document_files.resume_pending(ws, org, journal)
        sent: list[int] = []
        done = document_files.upload(ws, org, document_files.request_of(pending),
                                     journal=journal, progress=sent.append)
        assert done.object_id == pending.object_id, "resumed, not started again"
        assert sent[0] >= 8 * MIB, "the stored prefix is not sent again"
        assert journal.pending(org) == []
        saved = document_files.download(ws, org, done.document_id, out_folder(tmp_path))
    assert sha(saved) == sha(source)
    assert documents_titled(demo_db, "Cut by the network") == 1


def test_T_NET_03_upload_whose_final_answer_was_lost_is_stored_once(
        demo_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    org, project = acme_project(demo_db)
    source = random_file(tmp_path, 3 * MIB + 1)
    journal = UploadJournal(tmp_path / "journal")
    request = UploadRequest(path=source, title="Answer lost at the end", project_id=project)
    real_store = document_files._store_document

    def store_then_lose_the_answer(conn: psycopg.Connection[Any], *args: Any) -> Any:
        real_store(conn, *args)  # committed
        terminate(demo_db, conn.info.backend_pid)
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    with sign_in(profile_for(demo_db), "acme.engineering", DEMO_PASSWORD) as ws:
        monkeypatch.setattr(document_files, "_store_document", store_then_lose_the_answer)
        with pytest.raises(UserFacingError):
            document_files.upload(ws, org, request, journal=journal)
        monkeypatch.setattr(document_files, "_store_document", real_store)
        assert documents_titled(demo_db, "Answer lost at the end") == 1  # it did land
        assert [p.request["title"] for p in journal.pending(org)] == ["Answer lost at the end"]
        again = document_files.upload(ws, org, request, journal=journal)  # Upload again
        assert journal.pending(org) == []
        assert document_files.resume_pending(ws, org, journal) == []
        saved = document_files.download(ws, org, again.document_id, out_folder(tmp_path))
    assert sha(saved) == sha(source)
    assert documents_titled(demo_db, "Answer lost at the end") == 1, "not stored twice"
    assert count(demo_db, "SELECT count(*) FROM document_versions WHERE document_id = %s",
                 again.document_id) == 1
