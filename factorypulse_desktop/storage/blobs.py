"""File bytes in PostgreSQL: chunked, streamed both ways, verified on every read.

The rules live in the database (revision 0005): chunks must arrive in order and whole, an
upload is visible only once `storage_complete` accepted it, content is shared within an
organization and never across. This module moves the bytes with bounded memory — one chunk
in flight per direction — over a psycopg connection of its own, so a long transfer never
holds the workspace's small pool. That connection is in autocommit mode: each function
opens the transactions it needs.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import psycopg

from factorypulse_desktop.domain.errors import UserFacingError

CHUNK_SIZE = 1 << 20
# Chunks committed together while uploading: what an interrupted upload can lose and resend.
COMMIT_EVERY = 8
# Chunks fetched per round trip when reading (the memory a download holds).
READ_AHEAD = 8

Progress = Callable[[int], None]
"""Called with the number of bytes moved so far."""
Cancelled = Callable[[], bool]


class TransferCancelled(UserFacingError):
    def __init__(self) -> None:
        super().__init__("Cancelled.")


class CorruptContentError(UserFacingError):
    """Stored bytes do not match their checksum: never hand them out."""

    def __init__(self, object_id: uuid.UUID, detail: str) -> None:
        super().__init__(
            f"This file is damaged in the database ({detail}), so it was not opened. "
            f"Ask an administrator to run the storage check; the file's id is {object_id}."
        )
        self.object_id = object_id


class FileTooLargeError(UserFacingError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"The file is too large: {size_words(size)} (the limit is {size_words(limit)}). "
            "Split it, compress it, or link it from Google Drive instead."
        )
        self.size = size
        self.limit = limit


def size_words(size: int) -> str:
    """1536 → '1.5 KB', 25,000,000 → '24 MB': sizes as a file manager shows them."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"


@dataclass(frozen=True)
class Bucket:
    id: uuid.UUID
    max_file_size: int


@dataclass(frozen=True)
class StoredObject:
    id: uuid.UUID
    size: int
    sha256: str | None
    chunk_size: int
    chunk_count: int
    status: str


def bucket(conn: psycopg.Connection[Any], org: uuid.UUID, name: str = "documents") -> Bucket:
    row = conn.execute(
        "SELECT id, max_file_size FROM storage_buckets WHERE organization_id = %s AND name = %s",
        (org, name),
    ).fetchone()
    if row is None:
        raise UserFacingError(f"This organization has no “{name}” file store.")
    return Bucket(row[0], row[1])


def check_size(size: int, store: Bucket) -> None:
    """Refuse a file over the limit before a byte is sent (the database refuses it too)."""
    if size > store.max_file_size:
        raise FileTooLargeError(size, store.max_file_size)


def stored_object(conn: psycopg.Connection[Any], org: uuid.UUID,
                  object_id: uuid.UUID) -> StoredObject | None:
    row = conn.execute(
        "SELECT id, size, sha256, chunk_size, chunk_count, status FROM storage_objects "
        "WHERE organization_id = %s AND id = %s",
        (org, object_id),
    ).fetchone()
    return StoredObject(*row) if row else None


def begin_upload(conn: psycopg.Connection[Any], org: uuid.UUID, store: Bucket, size: int,
                 mime_type: str | None) -> uuid.UUID:
    """A new, empty upload announcing `size` bytes (committed)."""
    check_size(size, store)
    object_id = uuid.uuid4()
    with conn.transaction():
        conn.execute(
            "INSERT INTO storage_objects (id, organization_id, bucket_id, expected_size, "
            "chunk_size, mime_type) VALUES (%s, %s, %s, %s, %s, %s)",
            (object_id, org, store.id, size, CHUNK_SIZE, mime_type),
        )
    return object_id


def send(conn: psycopg.Connection[Any], org: uuid.UUID, object_id: uuid.UUID,
         source: BinaryIO, *, progress: Progress | None = None,
         cancelled: Cancelled | None = None) -> str:
    """Send `source` into an open upload, resuming after the chunks already stored.

    The chunks already there are compared with the file's beginning (a changed file starts
    again). Returns the whole file's sha256, for `complete`.
    """
    obj = stored_object(conn, org, object_id)
    if obj is None or obj.status != "uploading":
        raise UserFacingError("This upload is already finished or was cancelled. "
                              "Start it again.")
    whole = hashlib.sha256()
    stored = [bytes(r[0]) for r in conn.execute(
        "SELECT sha256 FROM blob_chunks WHERE organization_id = %s AND object_id = %s "
        "ORDER BY seq", (org, object_id))]
    done = 0
    for digest in stored:
        data = source.read(obj.chunk_size)
        if hashlib.sha256(data).digest() != digest:
            raise UserFacingError("The file changed since its upload stopped. "
                                  "Cancel this upload and start it again.")
        whole.update(data)
        done += len(data)
    if progress is not None and done:
        progress(done)
    seq = len(stored)
    finished = False
    while not finished:
        # A few chunks per transaction: what an interrupted upload loses and sends again.
        # Pipeline mode: the next chunk is read and hashed while the server stores this one.
        with conn.pipeline(), conn.transaction(), conn.cursor() as cur:
            for _ in range(COMMIT_EVERY):
                if cancelled is not None and cancelled():
                    raise TransferCancelled()
                data = source.read(obj.chunk_size)
                if not data:
                    finished = True
                    break
                whole.update(data)
                cur.execute(
                    "INSERT INTO blob_chunks (organization_id, object_id, seq, data, sha256) "
                    "VALUES (%s, %s, %s, %b, %b)",
                    (org, object_id, seq, data, hashlib.sha256(data).digest()),
                )
                seq += 1
                done += len(data)
                if progress is not None:
                    progress(done)
    return whole.hexdigest()


def complete(conn: psycopg.Connection[Any], org: uuid.UUID, object_id: uuid.UUID,
             sha256: str) -> uuid.UUID:
    """Make the upload visible; returns the object to reference (an equal one if stored).

    Run it in the transaction that creates the document version using it: the content lock
    `storage_complete` takes then covers the version too.
    """
    row = conn.execute("SELECT fp_private.storage_complete(%s, %s, %s)",
                       (org, object_id, sha256)).fetchone()
    assert row is not None
    result: uuid.UUID = row[0]
    return result


def cancel(conn: psycopg.Connection[Any], org: uuid.UUID, object_id: uuid.UUID) -> None:
    """Drop an unfinished upload and its chunks."""
    with conn.transaction():
        conn.execute(
            "DELETE FROM storage_objects WHERE organization_id = %s AND id = %s "
            "AND status = 'uploading'", (org, object_id))


def receive(conn: psycopg.Connection[Any], org: uuid.UUID, object_id: uuid.UUID,
            sink: BinaryIO, *, progress: Progress | None = None,
            cancelled: Cancelled | None = None) -> StoredObject:
    """Write a complete object's bytes to `sink`, checking every chunk and the whole file.

    Raises `CorruptContentError` at the first mismatch: `sink` then holds a prefix the
    caller must discard (write to a temporary file; rename only after this returns).
    """
    obj = stored_object(conn, org, object_id)
    if obj is None or obj.status != "complete" or obj.sha256 is None:
        raise UserFacingError("This file is not available: it was removed, or you may not "
                              "open it.")
    whole = hashlib.sha256()
    expected_seq = 0
    done = 0
    with conn.transaction(), conn.cursor(name="fp_receive", binary=True) as cur:
        cur.itersize = READ_AHEAD
        cur.execute(
            "SELECT seq, data, sha256 FROM blob_chunks "
            "WHERE organization_id = %s AND object_id = %s ORDER BY seq",
            (org, object_id),
        )
        for seq, data, digest in cur:
            if cancelled is not None and cancelled():
                raise TransferCancelled()
            if seq != expected_seq:
                raise CorruptContentError(object_id, f"part {expected_seq + 1} is missing")
            if hashlib.sha256(data).digest() != digest:  # the sha256 taken when it arrived
                raise CorruptContentError(object_id, f"part {seq + 1} does not match its "
                                                     "checksum")
            whole.update(data)
            sink.write(data)
            done += len(data)
            expected_seq += 1
            if progress is not None:
                progress(done)
    if expected_seq != obj.chunk_count or done != obj.size:
        raise CorruptContentError(object_id, f"{done} of {obj.size} bytes are there")
    if whole.hexdigest() != obj.sha256:
        raise CorruptContentError(object_id, "the whole file does not match its checksum")
    return obj


def cleanup(conn: psycopg.Connection[Any], org: uuid.UUID, stale_hours: float = 24) -> int:
    """Remove uploads unfinished for `stale_hours` and content no document uses."""
    with conn.transaction():
        row = conn.execute(
            "SELECT fp_private.storage_cleanup(%s, make_interval(secs => %s))",
            (org, stale_hours * 3600),
        ).fetchone()
    assert row is not None
    removed: int = row[0]
    return removed
