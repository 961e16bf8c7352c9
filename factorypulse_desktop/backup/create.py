"""`backup create`: pg_dump -Fc as fp_backup, in one snapshot with the manifest's row counts.

The owner's (or an administrator's) connection exports a snapshot while acting as fp_backup;
the row counts are taken in that snapshot and pg_dump reads the same one (`--snapshot`), so the
manifest describes exactly what the archive holds. The archive is written under a temporary
name, fsynced and renamed; the manifest follows the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from factorypulse_desktop.backup import catalog, files, naming, pgtools
from factorypulse_desktop.backup import snapshot as snapshot_of
from factorypulse_desktop.backup.snapshot import BACKUP_ROLE
from factorypulse_desktop.domain.errors import UserFacingError

Progress = Callable[[str], None]
"""Told what is happening, about four times a second; raising from it cancels the backup."""

_KIND_FLAGS = {"complete": [], "schema": ["--schema-only"], "data": ["--data-only"]}


@dataclass(frozen=True)
class CreatedBackup:
    path: Path
    manifest: dict[str, Any]


def create_backup(url: str, folder: Path, kind: str = "complete",
                  now: datetime | None = None, compress: int | None = None,
                  progress: Progress | None = None) -> CreatedBackup:
    """Write one backup of the database at `url` into `folder`; return its path and manifest.

    Cancelled (`progress` raised) or failed, it leaves nothing behind in `folder`."""
    if kind not in naming.KINDS:
        raise UserFacingError(f"Unknown backup kind {kind!r}: use complete, schema or data.")
    folder.mkdir(parents=True, exist_ok=True)
    when = (now or datetime.now(UTC)).replace(microsecond=0)
    final = folder / naming.backup_name(kind, when)
    if final.exists():
        raise UserFacingError(f"{final.name} already exists; wait a second and try again.")
    if progress is not None:
        progress("Preparing the backup")  # a Cancel pressed at once stops before any file
    dump_version = pgtools.tool_version("pg_dump")
    try:
        conn = pgtools.connect(url, autocommit=True)
    except psycopg.Error as error:
        raise UserFacingError(f"Could not connect to the database: {error}".strip()) from error
    with conn:
        server_version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]
        pgtools.check_dump_version(dump_version, server_version)
        snapshot_of.begin_as_backup_role(conn, "cannot make backups")
        snapshot = str(conn.execute("SELECT pg_export_snapshot()").fetchone()[0])  # type: ignore[index]
        counts = catalog.row_counts(conn)
        expected = catalog.expectations(conn)
        database = str(conn.info.dbname)
        temp = folder / f".{final.name}.partial"
        args = ["-Fc", f"--role={BACKUP_ROLE}", f"--snapshot={snapshot}", "--no-password",
                "-f", str(temp), *_KIND_FLAGS[kind]]
        if compress is not None:
            args.append(f"--compress={compress}")
        try:
            result = pgtools.run(
                "pg_dump", [*args, "-d", pgtools.conninfo(url, with_password=False)],
                secret=pgtools.password(url),
                poll=None if progress is None else lambda: progress(_written(temp)))
            if result.returncode != 0:
                raise UserFacingError(f"pg_dump failed: {pgtools.first_error(result.stderr)}")
            files.publish(temp, final)
        finally:
            # Interrupted, failed or disk full: never leave a half-written archive behind.
            temp.unlink(missing_ok=True)
            conn.execute("ROLLBACK")
    sha256, size = files.sha256_of(final)
    manifest = {
        "format": 1, "file": final.name, "kind": kind, "sha256": sha256, "size": size,
        "pg_dump_version": dump_version, "server_version": server_version,
        "database": database, "created_at": when.isoformat(),
        "row_counts": counts, "expectations": expected,
        "snapshot": "row counts taken in the snapshot pg_dump read",
    }
    files.write_json(naming.manifest_path(final), manifest)
    return CreatedBackup(final, manifest)


def _written(temp: Path) -> str:
    try:
        size = temp.stat().st_size
    except OSError:
        size = 0
    return f"Writing the backup: {size / 1_048_576:.1f} MB so far"
