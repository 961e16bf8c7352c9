"""Moving document files: upload (new documents and new versions), download, open, preview.

Every transfer runs on a psycopg connection of its own (`storage.blobs`), so a long upload
never holds the workspace's small pool. An upload is recorded in an `UploadJournal` on this
computer while it runs: after a lost connection or a killed app it resumes from the last
stored chunk, and until it completes no document shows it (T-FILE-02). The database removes
uploads left unfinished for a day.

Blocking (network and disk): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import platform
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from factorypulse_desktop import __version__
from factorypulse_desktop.data.db_errors import friendly_error
from factorypulse_desktop.data.io_guard import check_current_thread
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.filenames import display_name, unique_path
from factorypulse_desktop.services.upload_journal import PendingUpload, UploadJournal
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.storage import blobs

TRANSFER_NAME = "factorypulse-desktop files"
Progress = blobs.Progress
Cancelled = blobs.Cancelled


def default_journal() -> UploadJournal:
    """This computer's record of unfinished uploads, next to the saved connections."""
    from factorypulse_desktop.runtime.profiles import config_dir

    return UploadJournal(config_dir() / "uploads")


def workstation() -> str:
    """What the access log records as the place a document was opened from."""
    return f"Factory Pulse Desktop {__version__} on {platform.node()}"[:200]


@dataclass(frozen=True)
class UploadRequest:
    """One file to store: a new document (`document_id` None) or a new version of one."""

    path: Path
    title: str
    category: str = "other"
    access_level: str = "internal"
    tags: tuple[str, ...] = ()
    description: str = ""
    project_id: uuid.UUID | None = None
    document_id: uuid.UUID | None = None
    change_summary: str = ""
    # The name shown (from a dropped folder: "drawings/flange.dxf"); default the file's.
    name: str | None = None

    @property
    def file_name(self) -> str:
        return display_name(self.name or self.path.name)


@dataclass(frozen=True)
class Uploaded:
    document_id: uuid.UUID
    version_number: int
    object_id: uuid.UUID
    size: int


@contextlib.contextmanager
def _connect(ws: Workspace) -> Iterator[psycopg.Connection[Any]]:
    check_current_thread()  # a transfer on the GUI thread would freeze the window
    try:
        conn = psycopg.connect(make_conninfo(ws.conninfo(), application_name=TRANSFER_NAME),
                               autocommit=True)
    except psycopg.Error as error:
        raise friendly_error(error) from error
    try:
        yield conn
    except psycopg.Error as error:
        raise friendly_error(error) from error
    finally:
        conn.close()


def file_size_limit(ws: Workspace, org: uuid.UUID) -> int:
    with _connect(ws) as conn:
        return blobs.bucket(conn, org).max_file_size


def mime_type_of(name: str) -> str | None:
    return mimetypes.guess_type(name, strict=False)[0]


def upload(ws: Workspace, org: uuid.UUID, request: UploadRequest, *,
           journal: UploadJournal | None = None, progress: Progress | None = None,
           cancelled: Cancelled | None = None) -> Uploaded:
    """Store the file and its document (or version) in one final transaction.

    Raises `FileTooLargeError` before sending anything when the file is over the limit,
    `TransferCancelled` when cancelled (the partial upload is removed).
    """
    try:
        size = request.path.stat().st_size
    except OSError as error:
        raise UserFacingError(f"“{request.file_name}” cannot be read: {error.strerror}.") from None
    with _connect(ws) as conn:
        store = blobs.bucket(conn, org)
        blobs.check_size(size, store)
        pending = journal.find(org, request.path, size) if journal else None
        object_id = pending.object_id if pending else None
        if object_id is not None:
            found = blobs.stored_object(conn, org, object_id)
            if found is None or found.status != "uploading":
                # Finished: stored already when the answer of the final transaction was lost
                # (the version carries the upload's id), so it is not stored twice; or
                # cleaned up meanwhile: start again.
                landed = _landed_upload(conn, org, object_id)
                if landed is not None:
                    if journal is not None:
                        journal.forget(object_id)
                    return landed
                object_id = None
        if object_id is None:
            object_id = blobs.begin_upload(conn, org, store, size, mime_type_of(
                request.file_name))
            if journal is not None:
                journal.record(PendingUpload.of(org, request.path, size, object_id,
                                                _request_fields(request)))
        try:
            with request.path.open("rb") as source:
                sha256 = blobs.send(conn, org, object_id, source, progress=progress,
                                    cancelled=cancelled)
        except blobs.TransferCancelled:
            blobs.cancel(conn, org, object_id)
            if journal is not None:
                journal.forget(object_id)
            raise
        except OSError as error:
            raise UserFacingError(
                f"“{request.file_name}” could not be read while uploading: {error.strerror}. "
                "The upload can be resumed.") from None
        result = _store_document(conn, org, request, object_id, sha256, size)
        if journal is not None:
            journal.forget(object_id)
        return result


def _landed_upload(conn: psycopg.Connection[Any], org: uuid.UUID,
                   upload_id: uuid.UUID) -> Uploaded | None:
    """The version the upload `upload_id` made, if its final transaction committed."""
    row = conn.execute(
        "SELECT v.document_id, v.version_number, v.storage_object_id, o.size "
        "FROM document_versions v JOIN storage_objects o ON o.organization_id = "
        "v.organization_id AND o.id = v.storage_object_id "
        "WHERE v.organization_id = %s AND v.id = %s", (org, upload_id)).fetchone()
    return None if row is None else Uploaded(row[0], row[1], row[2], row[3])


def _request_fields(request: UploadRequest) -> dict[str, Any]:
    return {
        "title": request.title, "category": request.category,
        "access_level": request.access_level, "tags": list(request.tags),
        "description": request.description, "change_summary": request.change_summary,
        "name": request.name,
        "project_id": str(request.project_id) if request.project_id else None,
        "document_id": str(request.document_id) if request.document_id else None,
    }


def request_of(item: PendingUpload) -> UploadRequest:
    """The upload a journal entry was for, to resume it."""
    fields = item.request
    project = fields.get("project_id")
    document = fields.get("document_id")
    return UploadRequest(
        path=item.path, title=str(fields.get("title") or item.path.name),
        category=str(fields.get("category") or "other"),
        access_level=str(fields.get("access_level") or "internal"),
        tags=tuple(fields.get("tags") or ()), description=str(fields.get("description") or ""),
        project_id=uuid.UUID(project) if project else None,
        document_id=uuid.UUID(document) if document else None,
        change_summary=str(fields.get("change_summary") or ""), name=fields.get("name"),
    )


def _store_document(conn: psycopg.Connection[Any], org: uuid.UUID, request: UploadRequest,
                    object_id: uuid.UUID, sha256: str, size: int) -> Uploaded:
    """Complete the upload and write the document and version, all or nothing."""
    from factorypulse_desktop.services.documents import DocumentEdit, check_edit

    name = request.file_name
    mime = mime_type_of(name)
    with conn.transaction():
        content = blobs.complete(conn, org, object_id, sha256)
        document_id = request.document_id
        if document_id is None:
            clean = check_edit(DocumentEdit(request.title, request.category,
                                            request.access_level, request.tags,
                                            request.description))
            row = conn.execute(
                "INSERT INTO documents (organization_id, project_id, title, description, "
                "category, tags, access_level, file_name, mime_type, storage_provider, "
                "link_type) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'database', 'file') "
                "RETURNING id",
                (org, request.project_id, clean.title, clean.description or None,
                 clean.category, list(clean.tags), clean.access_level, name, mime),
            ).fetchone()
            assert row is not None
            document_id = row[0]
            number = 1
        else:
            # The document's row lock orders two people adding a version at once: both
            # versions are kept, one after the other (T-FILE-09).
            locked = conn.execute(
                "SELECT 1 FROM documents WHERE organization_id = %s AND id = %s FOR UPDATE",
                (org, document_id)).fetchone()
            if locked is None:
                raise UserFacingError("This document no longer exists, or you may not change "
                                      "it.")
            top = conn.execute(
                "SELECT coalesce(max(version_number), 0) FROM document_versions "
                "WHERE organization_id = %s AND document_id = %s", (org, document_id)
            ).fetchone()
            assert top is not None
            number = top[0] + 1
        # The version's id is the upload's: a resumed upload finds it (_landed_upload).
        conn.execute(
            "INSERT INTO document_versions (id, organization_id, document_id, version_number, "
            "storage_object_id, file_name, mime_type, title, change_summary, is_current) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, true)",
            (object_id, org, document_id, number, content, name, mime, request.title or None,
             request.change_summary or ("First upload." if number == 1 else None)),
        )
        conn.execute(
            "INSERT INTO document_access_log (organization_id, document_id, action, "
            "user_agent) VALUES (%s, %s, 'upload', %s)", (org, document_id, workstation()))
    return Uploaded(document_id, number, content, size)


@dataclass(frozen=True)
class VersionFile:
    document_id: uuid.UUID
    version_number: int
    object_id: uuid.UUID
    file_name: str
    mime_type: str | None
    size: int


def _version_file(conn: psycopg.Connection[Any], org: uuid.UUID, document_id: uuid.UUID,
                  version_number: int | None) -> VersionFile:
    row = conn.execute(
        "SELECT v.version_number, v.storage_object_id, coalesce(v.file_name, d.file_name, "
        "d.title), v.mime_type, coalesce(v.file_size, 0) FROM document_versions v "
        "JOIN documents d ON d.organization_id = v.organization_id AND d.id = v.document_id "
        "WHERE v.organization_id = %s AND v.document_id = %s AND "
        "(v.version_number = %s OR (%s::int IS NULL AND v.is_current))",
        (org, document_id, version_number, version_number),
    ).fetchone()
    if row is None:
        raise UserFacingError("This document no longer exists, or you may not open it.")
    if row[1] is None:
        raise UserFacingError("This document is a link: open it in the browser instead.")
    return VersionFile(document_id, row[0], row[1], row[2], row[3], row[4])


def download(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID, folder: Path, *,
             version_number: int | None = None, progress: Progress | None = None,
             cancelled: Cancelled | None = None, action: str = "download") -> Path:
    """Save a version (default the current one) into `folder`; returns the file written.

    The name is made safe and never leaves `folder` (T-IN-06); an existing file is not
    overwritten. Bytes go to a temporary file renamed only after every check passed.
    """
    return _save_into(ws, org, document_id, folder, version_number, progress, cancelled,
                      action)[0]


def _save_into(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID, folder: Path,
               version_number: int | None, progress: Progress | None,
               cancelled: Cancelled | None, action: str) -> tuple[Path, int]:
    """`download`, also telling which version number was saved."""
    with _connect(ws) as conn:
        version = _version_file(conn, org, document_id, version_number)
        handle, temp_name = tempfile.mkstemp(prefix=".fp-", suffix=".part", dir=folder)
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as sink:
                blobs.receive(conn, org, version.object_id, sink, progress=progress,
                              cancelled=cancelled)
            target = unique_path(folder, version.file_name)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        with conn.transaction():
            conn.execute(
                "INSERT INTO document_access_log (organization_id, document_id, action, "
                "user_agent) VALUES (%s, %s, %s, %s)",
                (org, document_id, action, workstation()))
    return target, version.version_number


@dataclass(frozen=True)
class OpenedCopy:
    """A temporary copy opened in its application; saved changes may become a version."""

    document_id: uuid.UUID
    version_number: int
    path: Path
    modified_ns: int
    size: int

    def changed(self) -> bool:
        try:
            stat = self.path.stat()
        except OSError:
            return False
        return stat.st_mtime_ns != self.modified_ns or stat.st_size != self.size


def open_copy(ws: Workspace, org: uuid.UUID, document_id: uuid.UUID, *,
              version_number: int | None = None, progress: Progress | None = None,
              cancelled: Cancelled | None = None) -> OpenedCopy:
    """A private temporary copy of the version to open with the system application."""
    folder = Path(tempfile.mkdtemp(prefix="factorypulse-open-"))
    path, number = _save_into(ws, org, document_id, folder, version_number, progress,
                              cancelled, "view")
    stat = path.stat()
    return OpenedCopy(document_id, number, path, stat.st_mtime_ns, stat.st_size)


def resume_pending(ws: Workspace, org: uuid.UUID, journal: UploadJournal) -> list[PendingUpload]:
    """Uploads of this computer that stopped halfway and can still be resumed."""
    pending = journal.pending(org)
    if not pending:
        return []
    with _connect(ws) as conn:
        alive = []
        for item in pending:
            found = blobs.stored_object(conn, org, item.object_id)
            if found is not None and found.status == "uploading":
                alive.append(item)
            else:
                journal.forget(item.object_id)
    return alive


def discard_pending(ws: Workspace, org: uuid.UUID, journal: UploadJournal,
                    item: PendingUpload) -> None:
    with _connect(ws) as conn:
        blobs.cancel(conn, org, item.object_id)
    journal.forget(item.object_id)


def tidy_up(ws: Workspace, org: uuid.UUID, journal: UploadJournal | None = None) -> int:
    """The janitor, run at each sign-in: uploads unfinished for a day and content no version
    uses are removed (for the whole organization); this computer forgets uploads that are
    gone. Returns how many stored objects were removed."""
    with _connect(ws) as conn:
        removed = blobs.cleanup(conn, org)
    resume_pending(ws, org, journal or default_journal())
    return removed
