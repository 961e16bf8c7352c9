"""Who sees and changes documents, versions, file bytes and the access log: decided by RLS.

Each check connects with a person's own login (as psql would), never as the owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from rls_support import owner_conn, person_conn
from support import profile_for

from factorypulse_desktop.services import document_files
from factorypulse_desktop.services.auth import sign_in
from factorypulse_desktop.services.document_files import Uploaded, UploadRequest

PASSWORD = "factorypulse-demo"


@pytest.fixture
def customer_project(demo_db: Any) -> uuid.UUID:
    """A project of the portal customer acme.customer, nobody assigned to it."""
    with owner_conn(demo_db) as conn:
        row = conn.execute(
            "INSERT INTO projects (organization_id, title, customer_id) "
            "SELECT m.organization_id, 'Portal project', m.contact_id FROM memberships m "
            "JOIN persons pe ON pe.id = m.person_id WHERE pe.role_name = 'acme.customer' "
            "RETURNING id").fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def upload_as(db: Any, username: str, org: uuid.UUID, project: uuid.UUID, path: Path,
              access: str) -> Uploaded:
    with sign_in(profile_for(db), username, PASSWORD) as ws:
        return document_files.upload(ws, org, UploadRequest(
            path=path, title=f"{access} {path.name}", project_id=project, access_level=access))


def visible(db: Any, username: str, done: Uploaded) -> dict[str, int]:
    """How many rows of the document, its version, its content and its chunks `username` sees."""
    with person_conn(db, username) as conn:
        def count(sql: str, arg: uuid.UUID) -> int:
            row = conn.execute(sql, (arg,)).fetchone()
            assert row is not None
            return int(row[0])
        return {
            "document": count("SELECT count(*) FROM documents WHERE id = %s", done.document_id),
            "versions": count("SELECT count(*) FROM document_versions WHERE document_id = %s",
                              done.document_id),
            "content": count("SELECT count(*) FROM storage_objects WHERE id = %s",
                             done.object_id),
            "chunks": count("SELECT count(*) FROM blob_chunks WHERE object_id = %s",
                            done.object_id),
        }


@pytest.fixture
def files(tmp_path: Path) -> Iterator[dict[str, Path]]:
    made = {}
    for access in ("public", "internal", "confidential"):
        path = tmp_path / f"{access}.txt"
        path.write_bytes(f"{access} drawing notes\n".encode() * 100)
        made[access] = path
    yield made


def test_access_levels_decide_who_sees_document_versions_and_bytes(
        demo_db: Any, acme: uuid.UUID, customer_project: uuid.UUID,
        files: dict[str, Path]) -> None:
    done = {access: upload_as(demo_db, "acme.management", acme, customer_project, path, access)
            for access, path in files.items()}
    everything = {"document": 1, "versions": 1, "content": 1, "chunks": 1}
    nothing = {"document": 0, "versions": 0, "content": 0, "chunks": 0}
    # Staff see public and internal; confidential only managers (and its uploader).
    assert visible(demo_db, "acme.engineering", done["internal"]) == everything
    assert visible(demo_db, "acme.engineering", done["confidential"]) == nothing
    assert visible(demo_db, "acme.admin", done["confidential"]) == everything
    # The project's customer sees public documents of their project, nothing else.
    assert visible(demo_db, "acme.customer", done["public"]) == everything
    assert visible(demo_db, "acme.customer", done["internal"]) == nothing
    # Another organization sees none of them, not even the public one.
    for access in files:
        assert visible(demo_db, "globex.admin", done[access]) == nothing


def test_no_version_slips_into_a_document_one_may_not_change(
        demo_db: Any, acme: uuid.UUID, customer_project: uuid.UUID,
        files: dict[str, Path]) -> None:
    secret = upload_as(demo_db, "acme.management", acme, customer_project,
                       files["confidential"], "confidential")
    mine = upload_as(demo_db, "acme.engineering", acme, customer_project, files["internal"],
                     "internal")
    # Knowing the confidential document's id is not enough to add a version to it.
    with person_conn(demo_db, "acme.engineering") as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            "INSERT INTO document_versions (organization_id, document_id, version_number, "
            "storage_object_id, is_current) VALUES (%s, %s, 2, %s, true)",
            (acme, secret.document_id, mine.object_id))
    with owner_conn(demo_db) as conn:
        bucket = conn.execute("SELECT id FROM storage_buckets WHERE organization_id = %s "
                              "AND name = 'documents'", (acme,)).fetchone()
    assert bucket is not None
    # A portal customer stores no files in the organization's storage.
    with person_conn(demo_db, "acme.customer") as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("INSERT INTO storage_objects (organization_id, bucket_id, "
                     "expected_size) VALUES (%s, %s, 10)", (acme, bucket[0]))
    with owner_conn(demo_db) as conn:
        assert conn.execute("SELECT count(*) FROM document_versions WHERE document_id = %s",
                            (secret.document_id,)).fetchone() == (1,)


def test_access_log_shows_people_their_own_entries_and_managers_all(
        demo_db: Any, acme: uuid.UUID, customer_project: uuid.UUID,
        files: dict[str, Path], tmp_path: Path) -> None:
    done = upload_as(demo_db, "acme.engineering", acme, customer_project, files["internal"],
                     "internal")
    with sign_in(profile_for(demo_db), "acme.qa", PASSWORD) as ws:
        folder = tmp_path / "qa"
        folder.mkdir()
        document_files.download(ws, acme, done.document_id, folder)

    def actions(username: str) -> list[str]:
        with person_conn(demo_db, username) as conn:
            return sorted(r[0] for r in conn.execute(
                "SELECT action FROM document_access_log WHERE document_id = %s",
                (done.document_id,)))

    assert actions("acme.engineering") == ["upload"]
    assert actions("acme.qa") == ["download"]
    assert actions("acme.management") == ["download", "upload"]
    with person_conn(demo_db, "acme.qa") as conn:
        # Append-only: nobody edits or removes what they did.
        for change in ("UPDATE document_access_log SET action = 'view' WHERE document_id = %s",
                       "DELETE FROM document_access_log WHERE document_id = %s"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(change, (done.document_id,))
            conn.rollback()
