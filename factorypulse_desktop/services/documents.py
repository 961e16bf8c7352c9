"""Documents: lists and search, metadata edits with optimistic locking, versions, links.

Who sees which document is the database's decision (row level security on ``documents`` by
access level and role); these functions never filter for security themselves. A metadata
save is ``UPDATE ... WHERE version = :expected``: when someone saved in between, the save
raises `DocumentConflictError` with what is stored now and changes nothing. File bytes move
in `services.document_files`.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.links import ExternalLink
from factorypulse_desktop.domain.text import FieldError, clean_text
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

CATEGORIES: tuple[str, ...] = (
    "rfq", "drawing", "specification", "quote", "contract", "bom", "inspection", "certificate",
    "other",
)
ACCESS_LEVELS: tuple[str, ...] = ("public", "internal", "confidential")
PROVIDERS: tuple[str, ...] = ("database", "google_drive", "dropbox", "onedrive", "url")
MAX_TITLE = 200
MAX_DESCRIPTION = 5_000
MAX_TAGS = 20
MAX_TAG = 50
LIST_LIMIT = 2_000


@dataclass(frozen=True)
class DocumentRow:
    id: uuid.UUID
    project_id: uuid.UUID | None
    project_number: str | None
    project_title: str | None
    title: str
    category: str
    tags: tuple[str, ...]
    access_level: str
    description: str | None
    file_name: str | None
    file_size: int | None
    mime_type: str | None
    current_version: int
    storage_provider: str
    external_url: str | None
    link_type: str
    uploaded_by: uuid.UUID | None
    uploader: str | None
    updated_at: dt.datetime
    access_count: int
    last_accessed: dt.datetime | None
    version: int

    @property
    def is_link(self) -> bool:
        return self.storage_provider != "database"


@dataclass(frozen=True)
class VersionRow:
    id: uuid.UUID
    number: int
    file_name: str | None
    file_size: int | None
    mime_type: str | None
    sha256: str | None
    uploader: str | None
    uploaded_at: dt.datetime
    is_current: bool
    change_summary: str | None
    has_content: bool


@dataclass(frozen=True)
class DocumentQuery:
    """What the Documents page and a project's Documents tab ask for."""

    project_id: uuid.UUID | None = None
    text: str = ""
    category: str | None = None
    tag: str | None = None
    provider: str | None = None
    uploader_id: uuid.UUID | None = None


@dataclass(frozen=True)
class DocumentEdit:
    title: str
    category: str
    access_level: str
    tags: tuple[str, ...] = ()
    description: str = ""


class DocumentConflictError(UserFacingError):
    """Someone saved the document after it was loaded; `current` is what is stored now."""

    def __init__(self, current: DocumentRow) -> None:
        super().__init__(
            "Someone else changed this document after you opened it. Your changes were not "
            "saved; compare them with the stored ones and save again."
        )
        self.current = current


class DocumentNotFoundError(UserFacingError):
    def __init__(self) -> None:
        super().__init__("This document no longer exists, or you may not see it.")


_SELECT = """
SELECT d.id, d.project_id, p.project_number, p.title AS project_title, d.title, d.category,
       d.tags, d.access_level, d.description, d.file_name, d.file_size, d.mime_type,
       d.current_version_number, d.storage_provider, d.external_url, d.link_type,
       d.uploaded_by, pe.display_name AS uploader, d.updated_at, d.link_access_count,
       d.link_last_accessed, d.version
FROM documents d
LEFT JOIN projects p ON p.organization_id = d.organization_id AND p.id = d.project_id
LEFT JOIN persons pe ON pe.id = d.uploaded_by
"""


def _row(r: Any) -> DocumentRow:
    return DocumentRow(
        id=r.id, project_id=r.project_id, project_number=r.project_number,
        project_title=r.project_title, title=r.title, category=r.category,
        tags=tuple(r.tags or ()), access_level=r.access_level, description=r.description,
        file_name=r.file_name, file_size=r.file_size, mime_type=r.mime_type,
        current_version=r.current_version_number, storage_provider=r.storage_provider,
        external_url=r.external_url, link_type=r.link_type, uploaded_by=r.uploaded_by,
        uploader=r.uploader, updated_at=r.updated_at, access_count=r.link_access_count,
        last_accessed=r.link_last_accessed, version=r.version,
    )


def list_documents(ws: Workspace, org: uuid.UUID, query: DocumentQuery,
                   limit: int = LIST_LIMIT) -> list[DocumentRow]:
    """Documents matching `query`, newest change first (archived ones left out)."""
    where = ["d.organization_id = :org", "d.archived_at IS NULL"]
    params: dict[str, Any] = {"org": org, "limit": limit}
    if query.project_id is not None:
        where.append("d.project_id = :project")
        params["project"] = query.project_id
    words = query.text.strip()
    if words:
        # Title, file name, tags or project number: what people remember of a document.
        where.append("(d.title ILIKE :like OR d.file_name ILIKE :like OR p.project_number "
                     "ILIKE :like OR EXISTS (SELECT 1 FROM unnest(d.tags) t "
                     "WHERE t ILIKE :like))")
        params["like"] = "%" + _escape_like(words) + "%"
    if query.category:
        where.append("d.category = :category")
        params["category"] = query.category
    if query.tag:
        where.append(":tag = ANY (d.tags)")
        params["tag"] = query.tag
    if query.provider:
        where.append("d.storage_provider = :provider")
        params["provider"] = query.provider
    if query.uploader_id is not None:
        where.append("d.uploaded_by = :uploader")
        params["uploader"] = query.uploader_id
    sql = text(_SELECT + " WHERE " + " AND ".join(where)
               + " ORDER BY d.updated_at DESC, d.id LIMIT :limit")
    return units.read(ws, lambda conn: [_row(r) for r in conn.execute(sql, params)])


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def load_document(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID) -> DocumentRow:
    return units.read(ws, lambda conn: _load(conn, org, document_id))


def _load(conn: Connection, org: uuid.UUID, document_id: uuid.UUID) -> DocumentRow:
    found = _find(conn, org, document_id)
    if found is None:
        raise DocumentNotFoundError()
    return found


def _find(conn: Connection, org: uuid.UUID, document_id: uuid.UUID) -> DocumentRow | None:
    r = conn.execute(text(_SELECT + " WHERE d.organization_id = :org AND d.id = :id"),
                     {"org": org, "id": document_id}).one_or_none()
    return None if r is None else _row(r)


def list_versions(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID) -> list[VersionRow]:
    """The document's versions, newest first."""
    sql = text(
        "SELECT v.id, v.version_number, v.file_name, v.file_size, v.mime_type, v.sha256, "
        "pe.display_name AS uploader, v.uploaded_at, v.is_current, v.change_summary, "
        "v.storage_object_id IS NOT NULL AS has_content "
        "FROM document_versions v LEFT JOIN persons pe ON pe.id = v.uploaded_by "
        "WHERE v.organization_id = :org AND v.document_id = :doc "
        "ORDER BY v.version_number DESC")
    return units.read(ws, lambda conn: [VersionRow(*r) for r in conn.execute(
        sql, {"org": org, "doc": document_id})])


def uploaders(ws: Workspace, org: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """People who uploaded a document the person can see, for the uploader filter."""
    sql = text("SELECT DISTINCT pe.id, pe.display_name FROM documents d "
               "JOIN persons pe ON pe.id = d.uploaded_by WHERE d.organization_id = :org "
               "ORDER BY 2")
    return units.read(ws, lambda conn: [(r[0], r[1]) for r in conn.execute(sql, {"org": org})])


def check_edit(edit: DocumentEdit) -> DocumentEdit:
    """Cleaned values, or `FieldError` naming the field to fix (nothing is stored)."""
    title = clean_text(edit.title, field="title", label="Title", max_length=MAX_TITLE,
                       required=True)
    if edit.category not in CATEGORIES:
        raise FieldError("category", "Choose a category from the list.")
    if edit.access_level not in ACCESS_LEVELS:
        raise FieldError("access_level", "Choose who may see the document.")
    tags: list[str] = []
    for tag in edit.tags:
        cleaned = clean_text(tag, field="tags", label="A tag", max_length=MAX_TAG)
        if cleaned and cleaned not in tags:
            tags.append(cleaned)
    if len(tags) > MAX_TAGS:
        raise FieldError("tags", f"At most {MAX_TAGS} tags.")
    description = clean_text(edit.description, field="description", label="Description",
                             max_length=MAX_DESCRIPTION)
    return DocumentEdit(title or "", edit.category, edit.access_level, tuple(tags),
                        description or "")


def save_document(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID,
                  expected_version: int, edit: DocumentEdit) -> DocumentRow:
    """Save metadata if nobody saved since `expected_version`; returns the stored row.

    When the connection is lost on the way, or Save is pressed again with the old version
    after a save whose answer was lost, a save of mine that landed -- the document holds
    exactly these details and every version since `expected_version` is mine -- is returned
    instead of "nothing was stored" or a conflict with oneself (T-NET-03).
    """
    clean = check_edit(edit)
    me = ws.identity.person_id

    def landed(conn: Connection) -> DocumentRow | None:
        found = _find(conn, org, document_id)
        if found is None or found.version <= expected_version or _details(found) != clean:
            return None
        mine = units.changed_only_by(conn, "documents", org, document_id, expected_version, me)
        return found if mine else None

    def run(conn: Connection) -> DocumentRow:
        updated = conn.execute(text(
            "UPDATE documents SET title = :title, category = :category, "
            "access_level = :access, tags = :tags, description = :description "
            "WHERE organization_id = :org AND id = :id AND version = :version RETURNING id"),
            {"title": clean.title, "category": clean.category, "access": clean.access_level,
             "tags": list(clean.tags), "description": clean.description or None, "org": org,
             "id": document_id, "version": expected_version}).scalar_one_or_none()
        if updated is None:
            mine = landed(conn)  # pressed again after a save whose answer was lost
            if mine is not None:
                return mine
            _refuse(conn, org, document_id, expected_version)
        return _load(conn, org, document_id)

    return units.write_once(ws, run, landed)


def _details(row: DocumentRow) -> DocumentEdit:
    """The stored details as `check_edit` gives them (no description: "")."""
    return DocumentEdit(row.title, row.category, row.access_level, row.tags,
                        row.description or "")


def _refuse(conn: Connection, org: uuid.UUID, document_id: uuid.UUID,
            expected_version: int) -> None:
    """Why an UPDATE/DELETE touched nothing: gone, changed by someone, or not allowed."""
    current = _load(conn, org, document_id)
    if current.version != expected_version:
        raise DocumentConflictError(current)
    raise UserFacingError("You are not allowed to change this document.")


def delete_document(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID,
                    expected_version: int) -> None:
    """Delete the document, its versions and content no other document uses."""
    def run(conn: Connection) -> None:
        deleted = conn.execute(text(
            "DELETE FROM documents WHERE organization_id = :org AND id = :id "
            "AND version = :version RETURNING id"),
            {"org": org, "id": document_id, "version": expected_version}).scalar_one_or_none()
        if deleted is None:
            _refuse(conn, org, document_id, expected_version)

    units.write(ws, run)


def make_current(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID,
                 version_number: int) -> DocumentRow:
    """Make an older version the one people open; the database keeps the rest in step."""
    def run(conn: Connection) -> DocumentRow:
        changed = conn.execute(text(
            "UPDATE document_versions SET is_current = true WHERE organization_id = :org "
            "AND document_id = :doc AND version_number = :number RETURNING id"),
            {"org": org, "doc": document_id, "number": version_number}).scalar_one_or_none()
        if changed is None:
            raise UserFacingError("You are not allowed to change this document, or the "
                                  "version no longer exists.")
        return _load(conn, org, document_id)

    return units.write(ws, run)


def delete_version(ws: Workspace, org: uuid.UUID, version_id: uuid.UUID) -> None:
    """Delete one older version (the database refuses the current one)."""
    def run(conn: Connection) -> None:
        deleted = conn.execute(text(
            "DELETE FROM document_versions WHERE organization_id = :org AND id = :id "
            "RETURNING id"), {"org": org, "id": version_id}).scalar_one_or_none()
        if deleted is None:
            raise UserFacingError("You are not allowed to delete this version, or it was "
                                  "deleted already.")

    units.write(ws, run)


LINK_PERMISSIONS: tuple[str, ...] = ("view", "comment", "edit")


def add_link(ws: Workspace, org: uuid.UUID, project_id: uuid.UUID | None, link: ExternalLink,
             edit: DocumentEdit, *, permission: str | None = None,
             expires_on: dt.date | None = None,
             then: Callable[[Connection, uuid.UUID], None] | None = None,
             document_id: uuid.UUID | None = None) -> DocumentRow:
    """Store an external link (Drive, Dropbox, OneDrive or https) as a document.

    `permission` records what the link grants whoever opens it (view, comment, edit) and
    `expires_on` the day a shared link stops working, as the sharer set them. `then(conn,
    document_id)` runs in the same transaction (a provider's file facts stored with it).
    `document_id`: chosen by the form when it opens and sent again when OK is pressed again,
    so that a link whose answer was lost is found, not stored twice (T-NET-03).
    """
    clean = check_edit(edit)
    if permission is not None and permission not in LINK_PERMISSIONS:
        raise FieldError("permission", "Choose what the link allows from the list.")
    if expires_on is not None and expires_on < dt.date.today():
        raise FieldError("expires", "The link would already have expired; check the date.")

    new_id: uuid.UUID = document_id or uuid.uuid4()
    me = ws.identity.person_id

    def landed(conn: Connection) -> DocumentRow | None:
        mine = units.created_by(conn, "documents", org, new_id, me)
        return _load(conn, org, new_id) if mine else None

    def run(conn: Connection) -> DocumentRow:
        stored = landed(conn)
        if stored is not None:  # linked before; its answer was lost
            return stored
        document_id = conn.execute(text(
            "INSERT INTO documents (id, organization_id, project_id, title, description, "
            "category, tags, access_level, file_name, external_url, external_id, "
            "storage_provider, link_type, sync_status, link_permissions, link_expires_at) "
            "VALUES (:id, :org, :project, :title, :description, :category, :tags, :access, "
            ":file_name, :url, :external_id, :provider, :link_type, :sync, "
            "CAST(:permissions AS jsonb), CAST(:expires AS date)) RETURNING id"),
            {"id": new_id, "org": org, "project": project_id, "title": clean.title,
             "description": clean.description or None, "category": clean.category,
             "tags": list(clean.tags), "access": clean.access_level, "file_name": None,
             "url": link.url, "external_id": link.external_id, "provider": link.provider,
             "link_type": link.link_type,
             "sync": "pending" if link.provider != "url" else None,
             "permissions": json.dumps({"access": permission}) if permission else None,
             "expires": expires_on}).scalar_one()
        conn.execute(text(
            "INSERT INTO document_versions (organization_id, document_id, version_number, "
            "title, change_summary, is_current, metadata) VALUES (:org, :doc, 1, :title, "
            "'Linked.', true, jsonb_build_object('external_url', CAST(:url AS text)))"),
            {"org": org, "doc": document_id, "title": clean.title, "url": link.url})
        if then is not None:
            then(conn, document_id)
        return _load(conn, org, document_id)

    return units.write_once(ws, run, landed)


def log_access(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID, action: str,
               workstation: str) -> None:
    """Write the access log (the database counts views and downloads on the document)."""
    units.write(ws, lambda conn: log_access_on(conn, org, document_id, action, workstation))


def log_access_on(conn: Connection, org: uuid.UUID, document_id: uuid.UUID, action: str,
                  workstation: str) -> None:
    conn.execute(text(
        "INSERT INTO document_access_log (organization_id, document_id, action, user_agent) "
        "VALUES (:org, :doc, :action, :agent)"),
        {"org": org, "doc": document_id, "action": action, "agent": workstation})


def access_log(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID,
               limit: int = 200) -> list[tuple[dt.datetime, str, str | None, str | None]]:
    """(when, action, who, workstation), newest first: what the person may see of it."""
    sql = text(
        "SELECT a.accessed_at, a.action, pe.display_name, a.user_agent "
        "FROM document_access_log a LEFT JOIN persons pe ON pe.id = a.person_id "
        "WHERE a.organization_id = :org AND a.document_id = :doc "
        "ORDER BY a.accessed_at DESC LIMIT :limit")
    return units.read(ws, lambda conn: [tuple(r) for r in conn.execute(
        sql, {"org": org, "doc": document_id, "limit": limit})])
