"""The storage sweep (T-FILE-04): recompute every stored file and report what is wrong.

Run as the database owner (`factorypulse storage verify`): it must see every organization.
Each defect is reported once, naming the object: chunks missing, a size or chunk count that
disagrees with the chunks, a chunk whose bytes no longer match the checksum taken when it
arrived, a whole file that no longer matches its sha256, chunks without a file (possible only
if someone bypassed the foreign keys), finished content no document version uses, and
uploads abandoned for more than a day. Memory stays at one chunk: the bytes stream through a
server-side cursor.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

STALE_UPLOAD_HOURS = 24


@dataclass(frozen=True, order=True)
class Problem:
    kind: str
    organization_id: uuid.UUID
    object_id: uuid.UUID
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: object {self.object_id} (organization {self.organization_id}): " \
               f"{self.detail}"


KINDS = {
    "missing_chunks": "parts of the file are missing",
    "size_mismatch": "the stored size disagrees with the parts",
    "chunk_hash_mismatch": "a part no longer matches its checksum",
    "hash_mismatch": "the whole file no longer matches its sha256",
    "orphan_chunks": "parts without a file",
    "unreferenced": "content no document uses",
    "stale_upload": "an upload left unfinished",
}


@dataclass
class _Object:
    org: uuid.UUID
    id: uuid.UUID
    size: int
    chunk_count: int
    sha256: str | None


def sweep(conn: psycopg.Connection[Any],
          progress: Callable[[int, int], None] | None = None) -> list[Problem]:
    """Every defect of every stored file, sorted; `progress(done, total)` per object."""
    problems: list[Problem] = []
    problems += _orphan_chunks(conn)
    problems += _unreferenced(conn)
    objects = [_Object(*r) for r in conn.execute(
        "SELECT organization_id, id, size, chunk_count, sha256 FROM storage_objects "
        "WHERE status = 'complete' ORDER BY organization_id, id")]
    for n, obj in enumerate(objects, 1):
        problems += _check_object(conn, obj)
        if progress is not None:
            progress(n, len(objects))
    conn.rollback()
    return sorted(problems)


def _orphan_chunks(conn: psycopg.Connection[Any]) -> list[Problem]:
    rows = conn.execute(
        "SELECT c.organization_id, c.object_id, count(*) FROM blob_chunks c "
        "WHERE NOT EXISTS (SELECT 1 FROM storage_objects o WHERE o.organization_id = "
        "c.organization_id AND o.id = c.object_id) GROUP BY 1, 2").fetchall()
    return [Problem("orphan_chunks", org, oid, f"{count} part(s) without a file")
            for org, oid, count in rows]


def _unreferenced(conn: psycopg.Connection[Any]) -> list[Problem]:
    rows = conn.execute(
        "SELECT o.organization_id, o.id, o.status FROM storage_objects o "
        "WHERE (o.status = 'complete' AND NOT EXISTS (SELECT 1 FROM document_versions v "
        "WHERE v.organization_id = o.organization_id AND v.storage_object_id = o.id)) "
        "OR (o.status = 'uploading' AND o.updated_at < now() - make_interval(hours => %s))",
        (STALE_UPLOAD_HOURS,)).fetchall()
    return [Problem("unreferenced" if status == "complete" else "stale_upload", org, oid,
                    KINDS["unreferenced" if status == "complete" else "stale_upload"])
            for org, oid, status in rows]


def _check_object(conn: psycopg.Connection[Any], obj: _Object) -> list[Problem]:
    whole = hashlib.sha256()
    seqs: list[int] = []
    size = 0
    bad_chunks: list[int] = []
    with conn.cursor(name="fp_sweep", binary=True) as cur:
        cur.itersize = 2
        cur.execute(
            "SELECT seq, data, sha256 FROM blob_chunks "
            "WHERE organization_id = %s AND object_id = %s ORDER BY seq", (obj.org, obj.id))
        for seq, data, digest in cur:
            seqs.append(seq)
            size += len(data)
            whole.update(data)
            if hashlib.sha256(data).digest() != digest:
                bad_chunks.append(seq)
    found: list[Problem] = []
    if seqs != list(range(obj.chunk_count)):
        missing = sorted(set(range(obj.chunk_count)) - set(seqs))
        found.append(Problem("missing_chunks", obj.org, obj.id,
                             f"missing part(s) {', '.join(str(s + 1) for s in missing[:10])}"
                             if missing else f"{len(seqs)} parts, {obj.chunk_count} expected"))
    elif size != obj.size:
        found.append(Problem("size_mismatch", obj.org, obj.id,
                             f"{size} bytes stored, {obj.size} recorded"))
    if bad_chunks:
        found.append(Problem("chunk_hash_mismatch", obj.org, obj.id,
                             f"part(s) {', '.join(str(s + 1) for s in bad_chunks[:10])}"))
    elif not found and whole.hexdigest() != obj.sha256:
        found.append(Problem("hash_mismatch", obj.org, obj.id, KINDS["hash_mismatch"]))
    return found
