"""A document's details saved with the version they were loaded at, cut before COMMIT or with
the answer lost (RELIABILITY.md T-NET-03): nothing is stored twice, and Save pressed again
after a save that did land is not reported as a conflict with oneself -- not even when
someone opened the document in between (the access counters change no version)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from faults_support import (
    NOT_STORED,
    acme,
    answer_lost_after_commit,
    count,
    killed_before_commit,
    signed,
)
from rls_support import owner_conn

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import documents


def a_document(db: Any, org: uuid.UUID) -> uuid.UUID:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT id FROM documents WHERE organization_id = %s AND "
                           "access_level = 'internal' AND archived_at IS NULL ORDER BY id "
                           "LIMIT 1", (org,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def details(row: documents.DocumentRow) -> documents.DocumentEdit:
    return documents.DocumentEdit(row.title, row.category, row.access_level, row.tags,
                                  row.description or "")


def changes_after(db: Any, document: uuid.UUID, version: int) -> int:
    return count(db, "SELECT count(*) FROM change_log WHERE entity_type = 'documents' AND "
                 "entity_id = %s AND row_version > %s", document, version)


def test_T_NET_03_document_details_cut_before_commit_keep_the_version(demo_db: Any) -> None:
    org = acme(demo_db)
    document = a_document(demo_db, org)
    with signed(demo_db, "acme.management") as ws:
        loaded = documents.load_document(ws, org, document)
        edit = dataclasses.replace(details(loaded), title="Cut before the commit")
        with (killed_before_commit(demo_db, ws, r"UPDATE documents SET") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED)):
            documents.save_document(ws, org, document, loaded.version, edit)
        assert trap.fired
        assert documents.load_document(ws, org, document).version == loaded.version
        saved = documents.save_document(ws, org, document, loaded.version, edit)  # again
        after = documents.load_document(ws, org, document)
    assert saved.version == after.version > loaded.version
    assert after.title == "Cut before the commit"
    assert changes_after(demo_db, document, loaded.version) == 1


def test_T_NET_03_document_details_answer_lost_is_not_a_false_conflict(demo_db: Any) -> None:
    org = acme(demo_db)
    document = a_document(demo_db, org)
    with signed(demo_db, "acme.management") as ws, signed(demo_db, "acme.admin") as other:
        loaded = documents.load_document(ws, org, document)
        edit = dataclasses.replace(details(loaded), title="Saved while the answer was lost",
                                   tags=("lost", "answer"), description="kept")
        with answer_lost_after_commit(demo_db, ws, r"UPDATE documents SET") as trap:
            landed = documents.save_document(ws, org, document, loaded.version, edit)
        assert trap.fired
        # Someone opens it meanwhile: counted on the row, but no version and no edit.
        documents.log_access(other, org, document, "view", "test")
        # Save pressed again with the version the form was loaded at: my own save, not
        # someone else's -- no conflict dialog, and nothing saved a second time.
        again = documents.save_document(ws, org, document, loaded.version, edit)
        current = documents.load_document(ws, org, document)
    assert landed.version == again.version == current.version
    assert (current.title, current.tags, current.description) == (
        "Saved while the answer was lost", ("lost", "answer"), "kept")
    assert count(demo_db, "SELECT count(DISTINCT row_version) FROM change_log WHERE "
                 "entity_type = 'documents' AND entity_id = %s AND row_version > %s",
                 document, loaded.version) == 1, "saved once (the view changed no version)"
    assert changes_after(demo_db, document, loaded.version) == 2, "the save, then the view"


def test_a_stale_document_save_after_someone_else_saved_is_still_a_conflict(
        demo_db: Any) -> None:
    """The landed check recognizes only my own save of exactly these values."""
    org = acme(demo_db)
    document = a_document(demo_db, org)
    with signed(demo_db, "acme.management") as ws, signed(demo_db, "acme.admin") as other:
        loaded = documents.load_document(ws, org, document)
        same = dataclasses.replace(details(loaded), title="Both typed this")
        documents.save_document(other, org, document, loaded.version, same)
        with pytest.raises(documents.DocumentConflictError):
            documents.save_document(ws, org, document, loaded.version, same)
