"""Google Drive files and folders as project documents: link one, refresh what Drive says.

A linked Drive item is a link document (``storage_provider = 'google_drive'``, the item's id in
``external_id``) that also keeps Drive's facts about it: name, size, type, and in ``metadata``
the owner, last change, checksums and which Google account it was picked with. ``sync_status``
says whether those facts are fresh (``synced``) or Drive no longer shows the item (``failed``).

Blocking (network, database): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.links import ExternalLink, LinkError, parse_link
from factorypulse_desktop.integrations.gdrive.drive import DriveClient, DriveError, DriveItem
from factorypulse_desktop.integrations.gdrive.tokens import GrantStore
from factorypulse_desktop.services import documents, gdrive, units
from factorypulse_desktop.services.documents import DocumentEdit, DocumentRow
from factorypulse_desktop.services.gdrive import GOOGLE, DriveAccount, GoogleEndpoints
from factorypulse_desktop.services.workspace import Workspace

__all__ = ["DriveLinkGoneError", "NotADriveLinkError", "drive_for_document", "drive_url",
           "link_item", "pick_account", "refresh_link"]


class DriveLinkGoneError(UserFacingError):
    def __init__(self) -> None:
        super().__init__("This file was removed from Drive or is no longer shared with you.")


class NotADriveLinkError(UserFacingError):
    def __init__(self) -> None:
        super().__init__("This document is not a Google Drive link, so there is nothing to "
                         "refresh from Drive.")


def drive_url(item: DriveItem) -> ExternalLink:
    """The link stored for `item`: Drive's own address when it is a checked Drive link to
    this item, else the standard one built from the id (never anything Drive could steer
    elsewhere)."""
    link: ExternalLink | None = None
    if item.web_url:
        try:
            link = parse_link(item.web_url)
        except LinkError:
            link = None
    if (link is None or link.provider != "google_drive" or link.external_id != item.id
            or (link.link_type == "folder") != item.is_folder):
        path = "drive/folders" if item.is_folder else "file/d"
        suffix = "" if item.is_folder else "/view"
        link = parse_link(f"https://drive.google.com/{path}/{item.id}{suffix}")
    return dataclasses.replace(link, external_id=item.id,
                               link_type="folder" if item.is_folder else "file")


def _facts(item: DriveItem, account_id: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "owner": item.owner, "modified": item.modified.isoformat() if item.modified else None,
        "md5": item.md5, "sha256": item.sha256}
    if account_id is not None:  # a refresh keeps the account the item was picked with
        metadata["drive_account"] = account_id
    return {"file_name": item.name, "size": item.size,
            "mime": None if item.is_folder else item.mime_type or None,
            "metadata": json.dumps(metadata)}


_STORE_FACTS = text(
    "UPDATE documents SET file_name = :file_name, file_size = :size, mime_type = :mime, "
    "metadata = metadata || CAST(:metadata AS jsonb), sync_status = 'synced', "
    "last_synced_at = now() WHERE organization_id = :org AND id = :id RETURNING id")


def _store_facts(conn: Connection, org: uuid.UUID, document_id: uuid.UUID,
                 facts: dict[str, Any]) -> None:
    if conn.execute(_STORE_FACTS, {**facts, "org": org, "id": document_id}).first() is None:
        raise UserFacingError("You are not allowed to change this document.")


def link_item(ws: Workspace, org: uuid.UUID, project_id: uuid.UUID | None, item: DriveItem,
              edit: DocumentEdit, *, account_id: str | None = None) -> DocumentRow:
    """Add a Drive file or folder to the project as a link document with Drive's facts."""
    facts = _facts(item, account_id)
    return documents.add_link(ws, org, project_id, drive_url(item), edit,
                              then=lambda conn, doc: _store_facts(conn, org, doc, facts))


def refresh_link(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID,
                 drive: DriveClient) -> DocumentRow:
    """Read the item's facts from Drive again and store them.

    When Drive answers 404 the document is marked ``failed`` and `DriveLinkGoneError` raised;
    other Drive errors (offline, busy) change nothing."""
    external_id = units.read(ws, lambda conn: conn.execute(text(
        "SELECT external_id FROM documents WHERE organization_id = :org AND id = :id "
        "AND storage_provider = 'google_drive'"),
        {"org": org, "id": document_id}).scalar_one_or_none())
    if not external_id:
        raise NotADriveLinkError()
    try:
        item = drive.get(external_id)
    except DriveError as error:
        if error.status != 404:
            raise
        units.write(ws, lambda conn: conn.execute(text(
            "UPDATE documents SET sync_status = 'failed' "
            "WHERE organization_id = :org AND id = :id"), {"org": org, "id": document_id}))
        raise DriveLinkGoneError() from None
    facts = _facts(item, None)
    units.write(ws, lambda conn: _store_facts(conn, org, document_id, facts))
    return documents.load_document(ws, org, document_id)


def pick_account(accounts: list[DriveAccount], preferred: str | None = None) -> str | None:
    """The account to browse with: `preferred` when it is usable here, else the first
    connected one whose grant is on this computer; None when there is none."""
    usable = [a.account_id for a in accounts
              if a.status == "connected" and a.on_this_computer]
    if preferred in usable:
        return preferred
    return usable[0] if usable else None


def drive_for_document(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID,
                       store: GrantStore, *, endpoints: GoogleEndpoints = GOOGLE
                       ) -> DriveClient:
    """A Drive client for refreshing the document: the account it was linked with when it is
    connected here, else any connected one (`DriveNotConnectedError` when none is)."""
    preferred = units.read(ws, lambda conn: conn.execute(text(
        "SELECT metadata ->> 'drive_account' FROM documents "
        "WHERE organization_id = :org AND id = :id"),
        {"org": org, "id": document_id}).scalar_one_or_none())
    account = pick_account(gdrive.accounts(ws, org, store), preferred)
    if account is None:
        raise gdrive.DriveNotConnectedError()
    return gdrive.drive_for(ws, org, account, store, endpoints=endpoints)
