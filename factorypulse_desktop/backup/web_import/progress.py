"""Sub-stage progress: the backup's rows fill in the ones our database made for new projects.

Our trigger `projects_stage_entered` gives every new project one progress row per active
sub-stage of its current stage (the first `in_progress`, started now). The web version made
them only on a stage change. A backup row for a sub-stage the trigger already covered updates
that row (never a duplicate) while the project is new in this run; the others are inserted.
A second run finds every row there and overwrites none (a step may have moved on since).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text

from factorypulse_desktop.backup.web_import.mapping import TABLES, Row
from factorypulse_desktop.backup.web_import.state import ImportState

_TABLE = "project_sub_stage_progress"
_FIELDS = ("workflow_stage_id", "status", "started_at", "completed_at", "assigned_to", "notes",
           "metadata")


def import_progress(state: ImportState, rows: list[Row]) -> None:
    table = TABLES[_TABLE]
    backup_ids: list[uuid.UUID] = []
    for row in rows:
        values = state.build(table, row)
        if values is None:
            continue
        old_id = row.get("id") or ""
        existing = state.conn.execute(text(
            "SELECT id FROM project_sub_stage_progress WHERE organization_id = :organization_id"
            " AND project_id = :project_id AND sub_stage_id = :sub_stage_id"), values
        ).scalar_one_or_none()
        if existing is None:
            new = state.write(table, old_id, values)
        else:
            new = existing
            state.ids[_TABLE][old_id] = existing
            if values["project_id"] in state.created_ids["projects"]:
                _fill_in(state, old_id, existing, values)
            else:  # an earlier run's row, perhaps worked on since: never overwritten
                state.report.already[_TABLE] += 1
        if new is not None:
            backup_ids.append(new)
    _note_trigger_rows(state, backup_ids)


def _fill_in(state: ImportState, old_id: str, row_id: uuid.UUID, values: dict[str, Any]
             ) -> None:
    """Give a trigger-made row the backup's values; an unchanged row is not touched."""
    fields = [f for f in _FIELDS if f in values]
    new = {f: json.dumps(values[f]) if isinstance(values[f], dict) else values[f]
           for f in fields}
    sets = ", ".join(f"{f} = CAST(:{f} AS {_cast(f)})" for f in fields)
    differs = " OR ".join(f"{f} IS DISTINCT FROM CAST(:{f} AS {_cast(f)})" for f in fields)
    accepted, changed = state.execute(
        _TABLE, old_id,
        f"UPDATE project_sub_stage_progress SET {sets} WHERE id = :id AND ({differs}) "
        "RETURNING id", {**new, "id": row_id})
    if accepted:
        (state.report.updated if changed else state.report.already)[_TABLE] += 1


def _cast(field: str) -> str:
    if field.endswith("_at"):
        return "timestamptz"
    if field.endswith("_id") or field == "assigned_to":
        return "uuid"
    return "jsonb" if field == "metadata" else "text"


def _note_trigger_rows(state: ImportState, backup_ids: list[uuid.UUID]) -> None:
    """Say how many steps our database started that the backup did not have."""
    projects = list(state.created_ids["projects"])
    if not projects:
        return
    made = state.conn.execute(text(
        "SELECT count(*) FROM project_sub_stage_progress WHERE organization_id = :org "
        "AND project_id = ANY(:projects) AND NOT id = ANY(:backup)"),
        {"org": state.org, "projects": projects, "backup": backup_ids}).scalar_one()
    if made:
        state.report.notes.append(
            f"{made} sub-stage progress rows were made by our database for the current stage "
            "of the new projects (the backup had none for those sub-stages)")
