"""The old activity log: stage moves become stage history, the rest our activity log.

Our activity log holds no stage moves (they live in `project_stage_history`), so a move is
written there only. The import runs in `fp.import_mode`, where `projects_stage_entered` leaves
the history to the importer.
"""

from __future__ import annotations

import json

from factorypulse_desktop.backup.web_import.mapping import TABLES, Row
from factorypulse_desktop.backup.web_import.state import ImportState

STAGE_MOVES = ("stage_transition", "stage_transition_bypass")


def import_activity(state: ImportState, rows: list[Row]) -> None:
    for row in rows:
        if row.get("action") in STAGE_MOVES:
            _stage_move(state, row)
        else:
            state.insert(TABLES["activity_log"], row)


def _stage_move(state: ImportState, row: Row) -> None:
    old_id = row.get("id") or ""
    try:
        meta = json.loads(row.get("metadata") or "{}")
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        state.report.skip("activity_log", old_id, "a stage move without readable metadata")
        return
    project = state.ref("projects", row.get("project_id") or row.get("entity_id"))
    to_stage = state.ref("workflow_stages", meta.get("to_stage_id"))
    if project is None or to_stage is None:
        state.report.skip("activity_log", old_id, "missing parent project or stage")
        return
    bypass = row.get("action") == "stage_transition_bypass"
    accepted, created = state.execute("activity_log", old_id, (
        "INSERT INTO project_stage_history (id, organization_id, project_id, "
        "from_stage_id, to_stage_id, transition, reason, comment, actor_id, occurred_at,"
        " created_at) VALUES (:id, :org, :project, :from_stage, :to_stage, :kind, "
        ":reason, :comment, :actor, :at, :at) ON CONFLICT (id) DO NOTHING RETURNING id"
    ), {
        "id": state.new_id("activity_log", old_id), "org": state.org, "project": project,
        "from_stage": state.ref("workflow_stages", meta.get("from_stage_id")),
        "to_stage": to_stage, "kind": "skip" if bypass else "advance",
        "reason": meta.get("bypass_reason") if bypass else meta.get("reason"),
        "comment": meta.get("reason") if bypass else None,
        "actor": state.ref("users", row.get("user_id")), "at": row.get("created_at"),
    })
    if accepted:
        state.report.count("project_stage_history", created is not None)
