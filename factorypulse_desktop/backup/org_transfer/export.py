"""`org export`: one organization's rows from every carried table, in one snapshot, to one file.

The connection reads as fp_backup (it bypasses row-level security and may only read) in a
REPEATABLE READ READ ONLY transaction, so every table — and the manifest's counts and hashes —
describe the same moment even while people keep working. The file is written under a temporary
name, fsynced and renamed.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from factorypulse_desktop import __version__
from factorypulse_desktop.backup import files, pgtools
from factorypulse_desktop.backup.org_transfer import archive, tables
from factorypulse_desktop.backup.snapshot import begin_as_backup_role
from factorypulse_desktop.domain.errors import UserFacingError


@dataclass(frozen=True)
class Exported:
    path: Path
    manifest: dict[str, Any]


def export_organization(url: str, slug: str, path: Path,
                        now: datetime | None = None) -> Exported:
    """Write organization `slug` of the database at `url` to the file `path`."""
    if path.is_dir():
        raise UserFacingError(f"{path} is a folder; give the name of the file to write.")
    if path.exists():
        raise UserFacingError(f"{path} already exists; choose another file name.")
    if not path.parent.is_dir():
        raise UserFacingError(f"The folder {path.parent} does not exist.")
    try:
        conn = pgtools.connect(url, autocommit=True)
    except psycopg.Error as error:
        raise UserFacingError(f"Could not connect to the database: {error}".strip()) from error
    temp = path.with_name(f".{path.name}.partial")
    with conn:
        _begin_snapshot(conn)
        try:
            tables.check_classification(conn)
            org = conn.execute("SELECT id::text, slug, name FROM organizations WHERE slug = %s",
                               (slug,)).fetchone()
            if org is None:
                known = [r[0] for r in conn.execute("SELECT slug FROM organizations ORDER BY 1")]
                raise UserFacingError(
                    f"There is no organization {slug!r} in this database"
                    + (f" (there is: {', '.join(known)})." if known else "."))
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            server = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]
            archive.set_canonical(conn)
            manifest: dict[str, Any] = {
                "format": archive.FORMAT, "format_version": archive.FORMAT_VERSION,
                "app_version": __version__,
                "schema_revision": revision[0] if revision else None,
                "server_version": server,
                "created_at": (now or datetime.now(UTC)).replace(microsecond=0).isoformat(),
                "organization": {"id": org[0], "slug": org[1], "name": org[2]},
                "tables": {}, "not_exported": dict(tables.NOT_EXPORTED),
            }
            with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED,
                                 compresslevel=6) as out:
                for spec in tables.specs(conn):
                    name = archive.table_file(spec.name)
                    with out.open(name, "w", force_zip64=True) as sink:
                        digest = archive.copy_out(conn, spec.select(org[0]), sink)
                    manifest["tables"][spec.name] = {
                        "file": name, "rows": digest.rows, "sha256": digest.sha256,
                        "columns": list(spec.columns)}
                out.writestr(archive.MANIFEST,
                             json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            files.publish(temp, path)
        except psycopg.Error as error:
            raise UserFacingError(
                f"The export stopped: {archive.driver_message(error)}. Nothing was written."
            ) from error
        finally:
            # Failed, interrupted or disk full: never leave a half-written file behind.
            temp.unlink(missing_ok=True)
            conn.execute("ROLLBACK")
    return Exported(path, manifest)


def _begin_snapshot(conn: psycopg.Connection[Any]) -> None:
    """Read everything as fp_backup in one read-only snapshot (as `backup create` does)."""
    begin_as_backup_role(conn, "cannot export an organization")
