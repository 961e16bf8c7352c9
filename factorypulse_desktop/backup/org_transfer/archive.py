"""The organization export file: a zip holding `manifest.json` and one `tables/<name>.copy`.

Each table file is PostgreSQL's own COPY text output of that organization's rows, ordered by
the primary key, written with fixed session settings (UTC, ISO dates, hex bytea): the same rows
always give the same bytes, so the sha256 of a table file is the hash of the table's canonical
content, and the import recomputes it in the target to prove the rows arrived unchanged. File
bytes (blob_chunks.data) travel as hex text and round-trip exactly. Rows never contain a raw
newline in this format (COPY escapes them), so a file's line count is its row count.

manifest.json: {"format": "factorypulse-org-export", "format_version": 1, "app_version",
"schema_revision", "server_version", "created_at" (UTC, ISO 8601), "organization": {"id",
"slug", "name"}, "tables": {name: {"file", "rows", "sha256", "columns"}}, "not_exported":
{name: reason}}.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import psycopg

from factorypulse_desktop.domain.errors import UserFacingError

FORMAT = "factorypulse-org-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUFFIX = ".fporg"
_BLOCK = 1024 * 1024

# Settings that fix COPY's text output, so a table's bytes (and hash) do not depend on the
# client's or server's defaults. SET LOCAL: they end with the transaction.
_CANONICAL = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 1",
    "SET LOCAL bytea_output = 'hex'",
)


def table_file(table: str) -> str:
    return f"tables/{table}.copy"


def set_canonical(conn: psycopg.Connection[Any]) -> None:
    for statement in _CANONICAL:
        conn.execute(statement)


class Digest:
    """sha256 and row count of a stream of COPY text."""

    def __init__(self) -> None:
        self.rows = 0
        self._hash = hashlib.sha256()

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._hash.update(data)
        self.rows += bytes(data).count(b"\n")

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def copy_out(conn: psycopg.Connection[Any], query: Any, sink: IO[bytes] | None) -> Digest:
    """Stream `COPY (query) TO STDOUT` into `sink` (when given); return its hash and rows."""
    digest = Digest()
    with conn.cursor() as cur, cur.copy(
            psycopg.sql.SQL("COPY ({}) TO STDOUT").format(query)) as copy:
        for block in copy:
            digest.update(block)
            if sink is not None:
                sink.write(block)
    return digest


def driver_message(error: psycopg.Error) -> str:
    return str(error.diag.message_primary or error).strip()


def _damaged(path: Path, detail: str) -> UserFacingError:
    return UserFacingError(
        f"{path.name} is damaged or is not an organization export ({detail}). "
        "Nothing was imported; export the organization again.")


@contextmanager
def open_checked(path: Path) -> Iterator[tuple[zipfile.ZipFile, dict[str, Any]]]:
    """The archive and its manifest, after checking every table file against the manifest
    (sha256 and row count). Raises before the caller touches any database."""
    if not path.is_file():
        raise UserFacingError(f"{path} does not exist.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise _damaged(path, "not a readable zip file") from error
    with archive:
        try:
            manifest = json.loads(archive.read(MANIFEST).decode("utf-8"))
        except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, OSError) as error:
            raise _damaged(path, "its manifest is missing or unreadable") from error
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise _damaged(path, "no Factory Pulse organization manifest")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise UserFacingError(
                f"{path.name} was written in export format {manifest.get('format_version')}; "
                f"this Factory Pulse reads format {FORMAT_VERSION}. Nothing was imported.")
        if not {"schema_revision", "organization", "tables"} <= manifest.keys() \
                or not isinstance(manifest["tables"], dict):
            raise _damaged(path, "its manifest is incomplete")
        for table, entry in manifest["tables"].items():
            digest = Digest()
            try:
                with archive.open(entry["file"]) as handle:
                    while block := handle.read(_BLOCK):
                        digest.update(block)
            except (KeyError, zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
                raise _damaged(path, f"the data of table {table} cannot be read") from error
            if digest.sha256 != entry["sha256"] or digest.rows != entry["rows"]:
                raise _damaged(path, f"the data of table {table} does not match its checksum")
        yield archive, manifest


def read_blocks(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    with archive.open(name) as handle:
        while block := handle.read(_BLOCK):
            yield block
