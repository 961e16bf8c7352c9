"""The activity log for auditors and admins: filter, page, export as CSV.

Rows come newest first in keyset pages of (time, id), filtered by person, record type, action,
period and words of the description; every filter has an index that leads with the
organization (revision 0012). The export streams the same query page by page to a CSV file
that spreadsheets open safely (formula cells escaped, ``domain.csv_safety``), with progress
and cancel.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
import uuid
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.csv_safety import escape_cell
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.field_changes import (
    FieldChange,
    describe_changes,
    referenced_ids,
)
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

__all__ = [
    "EXPORT_BATCH",
    "PAGE",
    "ActivityFilter",
    "ActivityRow",
    "ExportCancelledError",
    "actions",
    "activity",
    "entity_types",
    "export_csv",
    "export_text",
    "page",
    "people",
]

PAGE = 100
EXPORT_BATCH = 1_000
MAX_TEXT_FILTER = 200
CSV_HEADINGS = ("When", "Who", "Record type", "Record", "Project", "Action", "Description",
                "Changes")


@dataclass(frozen=True)
class ActivityFilter:
    """What the activity page shows. Dates are whole days in this computer's time zone,
    both included."""

    person_id: uuid.UUID | None = None
    entity_type: str | None = None
    action: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    text: str | None = None


@dataclass(frozen=True)
class ActivityRow:
    id: uuid.UUID
    occurred_at: dt.datetime
    actor: str | None  # None: the system, or someone the person cannot see
    entity_type: str
    entity_id: uuid.UUID | None
    action: str
    description: str | None
    changes: tuple[FieldChange, ...] = field(default=())
    project_id: uuid.UUID | None = None
    project_number: str | None = None

    @property
    def cursor(self) -> tuple[dt.datetime, uuid.UUID]:
        """Pass as `before` to read the rows older than this one."""
        return self.occurred_at, self.id

    @property
    def changes_text(self) -> str:
        """The field changes one per line ("Priority: Medium → High")."""
        return "\n".join(str(c) for c in self.changes)


class ExportCancelledError(UserFacingError):
    def __init__(self) -> None:
        super().__init__("The export was cancelled; no file was written.")


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min).astimezone()


def _like(words: str) -> str:
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(org: uuid.UUID, flt: ActivityFilter, before: tuple[dt.datetime, uuid.UUID] | None
           ) -> tuple[str, dict[str, Any]]:
    """The filter's conditions (only those in use, so each plan fits its index) and params."""
    where = ["a.organization_id = :org"]
    params: dict[str, Any] = {"org": org}
    if flt.person_id is not None:
        where.append("a.actor_id = :person")
        params["person"] = flt.person_id
    if flt.entity_type:
        where.append("a.entity_type = :entity_type")
        params["entity_type"] = flt.entity_type
    if flt.action:
        where.append("a.action = :action")
        params["action"] = flt.action
    if flt.since is not None:
        where.append("a.occurred_at >= :since")
        params["since"] = _start_of(flt.since)
    if flt.until is not None:
        where.append("a.occurred_at < :until")
        params["until"] = _start_of(flt.until + dt.timedelta(days=1))
    words = (flt.text or "").strip()
    if words:
        if len(words) > MAX_TEXT_FILTER:
            raise UserFacingError(f"Search for at most {MAX_TEXT_FILTER} characters.")
        where.append("(a.description ILIKE :words OR a.action ILIKE :words "
                     "OR a.entity_type ILIKE :words)")
        params["words"] = _like(words)
    if before is not None:
        where.append("(a.occurred_at, a.id) < (CAST(:before_at AS timestamptz), "
                     "CAST(:before_id AS uuid))")
        params.update(before_at=before[0], before_id=before[1])
    return " AND ".join(where), params


def _query(org: uuid.UUID, flt: ActivityFilter, before: tuple[dt.datetime, uuid.UUID] | None,
           limit: int) -> tuple[str, dict[str, Any]]:
    """One page's SQL and params."""
    where, params = _where(org, flt, before)
    params["n"] = limit
    sql = f"""
SELECT a.id, a.occurred_at, pe.display_name AS actor, a.entity_type, a.entity_id, a.action,
       a.description, a.changes, a.project_id, pr.project_number
FROM (SELECT * FROM activity_log a WHERE {where}
      ORDER BY a.occurred_at DESC, a.id DESC LIMIT :n) a
LEFT JOIN persons pe ON pe.id = a.actor_id
LEFT JOIN projects pr ON pr.organization_id = a.organization_id AND pr.id = a.project_id
ORDER BY a.occurred_at DESC, a.id DESC"""
    return sql, params


def _rows(conn: Connection, org: uuid.UUID, flt: ActivityFilter,
          before: tuple[dt.datetime, uuid.UUID] | None, limit: int) -> list[ActivityRow]:
    sql, params = _query(org, flt, before, limit)
    rows = conn.execute(text(sql), params).all()
    ids: set[uuid.UUID] = set().union(*(referenced_ids(r.changes) for r in rows))
    names = _names(conn, org, ids)
    return [ActivityRow(r.id, r.occurred_at, r.actor, r.entity_type, r.entity_id, r.action,
                        r.description, describe_changes(r.changes, names)
                        if r.action == "updated" else (), r.project_id, r.project_number)
            for r in rows]


def _names(conn: Connection, org: uuid.UUID, ids: set[uuid.UUID]) -> Mapping[uuid.UUID, str]:
    if not ids:
        return {}
    return {r[0]: r[1] for r in conn.execute(text(
        "SELECT id, display_name FROM persons WHERE id = ANY (:ids) "
        "UNION ALL SELECT id, company_name FROM contacts "
        "WHERE organization_id = :org AND id = ANY (:ids)"), {"ids": list(ids), "org": org})}


def activity(ws: Workspace, org: uuid.UUID, *, person_id: uuid.UUID | None = None,
             entity_type: str | None = None, action: str | None = None,
             since: dt.date | None = None, until: dt.date | None = None,
             text: str | None = None, before: tuple[dt.datetime, uuid.UUID] | None = None,
             limit: int = PAGE) -> list[ActivityRow]:
    """One page of the log, newest first; with `before`, the rows older than that cursor."""
    flt = ActivityFilter(person_id, entity_type, action, since, until, text)
    return page(ws, org, flt, before=before, limit=limit)


def page(ws: Workspace, org: uuid.UUID, flt: ActivityFilter, *,
         before: tuple[dt.datetime, uuid.UUID] | None = None,
         limit: int = PAGE) -> list[ActivityRow]:
    """`activity` with the filters in one value (what the page keeps)."""
    if flt.since and flt.until and flt.since > flt.until:
        raise UserFacingError("The period ends before it starts: swap the two dates.")
    return units.read(ws, lambda conn: _rows(conn, org, flt, before, limit))


# Distinct values by skipping through the index (a loose index scan): one index probe per
# value instead of reading the whole log.
_DISTINCT = """
WITH RECURSIVE v(value) AS (
    (SELECT {col} FROM activity_log WHERE organization_id = :org ORDER BY {col} LIMIT 1)
    UNION ALL
    SELECT (SELECT a.{col} FROM activity_log a WHERE a.organization_id = :org
            AND a.{col} > v.value ORDER BY a.{col} LIMIT 1)
    FROM v WHERE v.value IS NOT NULL
)
SELECT value FROM v WHERE value IS NOT NULL"""


def actions(ws: Workspace, org: uuid.UUID) -> list[str]:
    """The actions the log holds (choices of the action filter), alphabetically."""
    sql = text(_DISTINCT.format(col="action"))
    return units.read(ws, lambda conn: [r[0] for r in conn.execute(sql, {"org": org})])


def entity_types(ws: Workspace, org: uuid.UUID) -> list[str]:
    """The record types the log holds (choices of the record filter), alphabetically."""
    sql = text(_DISTINCT.format(col="entity_type"))
    return units.read(ws, lambda conn: [r[0] for r in conn.execute(sql, {"org": org})])


def people(ws: Workspace, org: uuid.UUID) -> list[tuple[uuid.UUID, str]]:
    """The organization's members by name (choices of the person filter)."""
    sql = text("SELECT pe.id, pe.display_name FROM memberships m JOIN persons pe "
               "ON pe.id = m.person_id WHERE m.organization_id = :org "
               "ORDER BY lower(pe.display_name), pe.id")
    return units.read(ws, lambda conn: [(r[0], r[1]) for r in conn.execute(sql, {"org": org})])


def _count(ws: Workspace, org: uuid.UUID, flt: ActivityFilter) -> int:
    where, params = _where(org, flt, None)
    count_sql = f"SELECT count(*) FROM activity_log a WHERE {where}"
    return int(units.read(ws, lambda conn: conn.execute(text(count_sql), params).scalar_one()))


def _csv_row(row: ActivityRow) -> list[str]:
    cells = [row.occurred_at.astimezone().isoformat(timespec="seconds"), row.actor or "System",
             row.entity_type, str(row.entity_id or ""), row.project_number or "", row.action,
             row.description or "", "; ".join(str(c) for c in row.changes)]
    return [escape_cell(c) for c in cells]


def export_csv(ws: Workspace, org: uuid.UUID, filters: ActivityFilter,
               out: str | os.PathLike[str] | IO[str], *,
               progress: Callable[[float | None], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> int:
    """Write the filtered log as CSV, newest first; how many rows were written.

    `out` is a path (UTF-8 with BOM, written next to it and renamed: the file is replaced whole
    or not at all) or an open text stream. Rows are read and written a page at a time, so
    memory stays small whatever the log's size; `cancelled()` is asked between pages.
    """
    if isinstance(out, (str, os.PathLike)):
        return _export_to_path(ws, org, filters, Path(out), progress, cancelled)
    return _export(ws, org, filters, out, progress, cancelled)


def _export(ws: Workspace, org: uuid.UUID, flt: ActivityFilter, out: IO[str],
            progress: Callable[[float | None], None] | None,
            cancelled: Callable[[], bool] | None) -> int:
    total = _count(ws, org, flt)
    writer = csv.writer(out, delimiter=",", lineterminator="\r\n")
    writer.writerow(CSV_HEADINGS)
    written = 0
    before: tuple[dt.datetime, uuid.UUID] | None = None
    while True:
        if cancelled is not None and cancelled():
            raise ExportCancelledError()
        rows = page(ws, org, flt, before=before, limit=EXPORT_BATCH)
        writer.writerows(_csv_row(r) for r in rows)
        written += len(rows)
        if progress is not None:
            progress(min(1.0, written / total) if total else 1.0)
        if len(rows) < EXPORT_BATCH:
            return written
        before = rows[-1].cursor


def _export_to_path(ws: Workspace, org: uuid.UUID, flt: ActivityFilter, target: Path,
                    progress: Callable[[float | None], None] | None,
                    cancelled: Callable[[], bool] | None) -> int:
    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
            written = _export(ws, org, flt, handle, progress, cancelled)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
        temp = None
        return written
    except OSError as error:
        raise _file_problem(target, error) from error
    finally:
        if temp is not None:
            with suppress(OSError):
                os.unlink(temp)


def _file_problem(path: Path, error: OSError) -> UserFacingError:
    name = str(path)
    if isinstance(error, FileNotFoundError):
        return UserFacingError(f"The folder of \u201c{name}\u201d does not exist (any more).")
    if isinstance(error, PermissionError):
        return UserFacingError(f"You may not write \u201c{name}\u201d. If it is open in a "
                               "spreadsheet, close it there first.")
    if isinstance(error, IsADirectoryError):
        return UserFacingError(f"\u201c{name}\u201d is a folder, not a file.")
    return UserFacingError(f"The file \u201c{name}\u201d could not be written: "
                           f"{error.strerror or error}.")


def export_text(ws: Workspace, org: uuid.UUID, filters: ActivityFilter) -> str:
    """The whole export as a string (small logs, tests)."""
    buffer = io.StringIO(newline="")
    export_csv(ws, org, filters, buffer)
    return buffer.getvalue()
