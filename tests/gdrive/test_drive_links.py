"""Drive files and folders linked to a project, and refreshed from Drive, through the services
on the demo database against the fake Google and the fake Drive."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from drive_support import ACCOUNT_ID, Google, browser, org_of
from fake_keyrings import MemoryKeyring
from rls_support import owner_conn

from factorypulse_desktop.integrations.gdrive.drive import DriveClient
from factorypulse_desktop.integrations.gdrive.tokens import GrantStore
from factorypulse_desktop.services import documents, gdrive, gdrive_links
from factorypulse_desktop.services.auth import Workspace
from factorypulse_desktop.services.documents import DocumentEdit, DocumentQuery


@pytest.fixture
def drive(google: Google, kept: MemoryKeyring, engineer: Workspace) -> DriveClient:
    org, store = org_of(engineer), GrantStore()
    gdrive.connect(engineer, org, store, open_browser=browser(google),
                   endpoints=google.endpoints)
    return gdrive.drive_for(engineer, org, ACCOUNT_ID, store, endpoints=google.endpoints)


def a_project(ws: Workspace) -> uuid.UUID:
    rows = documents.list_documents(ws, org_of(ws), DocumentQuery())
    return next(r.project_id for r in rows if r.project_id is not None)


def stored(demo_db: Any, document_id: uuid.UUID) -> dict[str, Any]:
    with owner_conn(demo_db) as conn:
        row = conn.execute(
            "SELECT external_id, external_url, storage_provider, link_type, file_name, "
            "file_size, mime_type, metadata, sync_status, last_synced_at FROM documents "
            "WHERE id = %s", (document_id,)).fetchone()
    names = ("external_id", "external_url", "storage_provider", "link_type", "file_name",
             "file_size", "mime_type", "metadata", "sync_status", "last_synced_at")
    return dict(zip(names, row, strict=True))


def test_link_a_folder_and_a_file(google: Google, engineer: Workspace, drive: DriveClient,
                                  demo_db: Any) -> None:
    org, project = org_of(engineer), a_project(engineer)
    folder_id = google.drive.add_folder("Customer drawings")
    file_id = google.drive.add_file("bracket.pdf", b"%PDF-1.7 bracket", parent=folder_id,
                                    mime_type="application/pdf")

    folder = gdrive_links.link_item(engineer, org, project, drive.get(folder_id),
                                    DocumentEdit("Customer drawings", "drawing", "internal"),
                                    account_id=ACCOUNT_ID)
    assert (folder.storage_provider, folder.link_type) == ("google_drive", "folder")
    assert folder.external_url == f"https://drive.google.com/drive/folders/{folder_id}"
    facts = stored(demo_db, folder.id)
    assert facts["external_id"] == folder_id and facts["sync_status"] == "synced"
    assert facts["file_name"] == "Customer drawings" and facts["mime_type"] is None
    assert facts["metadata"]["drive_account"] == ACCOUNT_ID

    file = gdrive_links.link_item(engineer, org, project, drive.get(file_id),
                                  DocumentEdit("Bracket", "drawing", "internal"),
                                  account_id=ACCOUNT_ID)
    assert (file.link_type, file.file_name, file.file_size, file.mime_type) == (
        "file", "bracket.pdf", 16, "application/pdf")
    assert file.external_url == f"https://drive.google.com/file/d/{file_id}/view"
    facts = stored(demo_db, file.id)
    assert facts["last_synced_at"] is not None
    assert facts["metadata"]["owner"] == "Ada Lovelace"
    assert facts["metadata"]["md5"] and facts["metadata"]["sha256"]
    assert facts["metadata"]["modified"].startswith("2026-11-20T09:30")
    assert {r.id for r in documents.list_documents(
        engineer, org, DocumentQuery(project_id=project, provider="google_drive"))} >= {
        folder.id, file.id}


def test_refresh_reads_the_changed_file_again(google: Google, engineer: Workspace,
                                              drive: DriveClient, demo_db: Any) -> None:
    org = org_of(engineer)
    file_id = google.drive.add_file("bracket.pdf", b"first")
    row = gdrive_links.link_item(engineer, org, a_project(engineer), drive.get(file_id),
                                 DocumentEdit("Bracket", "drawing", "internal"),
                                 account_id=ACCOUNT_ID)
    node = google.drive.nodes[file_id]
    node.name, node.content = "bracket rev B.pdf", b"second, longer"
    node.modified = "2026-12-01T08:00:00.000Z"

    refreshed = gdrive_links.refresh_link(engineer, org, row.id, drive)
    assert (refreshed.file_name, refreshed.file_size) == ("bracket rev B.pdf", 14)
    assert refreshed.title == "Bracket"  # the person's title stays
    facts = stored(demo_db, row.id)
    assert facts["sync_status"] == "synced"
    assert facts["metadata"]["modified"].startswith("2026-12-01T08:00")
    assert facts["metadata"]["drive_account"] == ACCOUNT_ID  # kept from linking


def test_a_removed_file_is_marked_failed(google: Google, engineer: Workspace,
                                         drive: DriveClient, demo_db: Any) -> None:
    org = org_of(engineer)
    file_id = google.drive.add_file("gone.pdf", b"x")
    row = gdrive_links.link_item(engineer, org, a_project(engineer), drive.get(file_id),
                                 DocumentEdit("Gone", "other", "internal"))
    del google.drive.nodes[file_id]
    with pytest.raises(gdrive_links.DriveLinkGoneError,
                       match="removed from Drive or is no longer shared with you"):
        gdrive_links.refresh_link(engineer, org, row.id, drive)
    assert stored(demo_db, row.id)["sync_status"] == "failed"


def test_only_drive_links_are_refreshed(engineer: Workspace, google: Google,
                                        drive: DriveClient) -> None:
    org = org_of(engineer)
    stored_file = next(r for r in documents.list_documents(engineer, org, DocumentQuery())
                       if not r.is_link)
    with pytest.raises(gdrive_links.NotADriveLinkError):
        gdrive_links.refresh_link(engineer, org, stored_file.id, drive)
