"""Approvals, each with the one step and approver ours needs to show and decide it.

Ours routes an approval through `approval_steps` and `approval_step_approvers`: an approval
without them reaches nobody's inbox. The web version named one current approver (a person or
a role) instead, so each imported approval gets its current step with that approver, decided
as the approval was. Without an approver it goes to management, as ours does without a chain.
The import mode keeps the approver triggers from notifying anyone.
"""

from __future__ import annotations

import uuid
from typing import Any

from factorypulse_desktop.backup.web_import.mapping import TABLES, Row
from factorypulse_desktop.backup.web_import.state import ImportState
from factorypulse_desktop.domain.enums import INTERNAL_ROLES

# An approval's status → its step's status and its approver's decision.
_DECIDED = {"approved": ("approved", "approved"), "auto_approved": ("approved", "approved"),
            "rejected": ("rejected", "rejected"), "cancelled": ("cancelled", "skipped"),
            "expired": ("cancelled", "skipped")}
_OPEN = ("pending", "pending")  # pending, in_review, escalated, delegated


def import_approvals(state: ImportState, rows: list[Row]) -> None:
    for row in rows:
        approval = state.insert(TABLES["approvals"], row)
        if approval is not None:
            step = _step(state, row, approval)
            if step is not None:
                _approver(state, row, step)


def _step(state: ImportState, row: Row, approval: uuid.UUID) -> uuid.UUID | None:
    old_id = row.get("id") or ""
    decided = row.get("status") in _DECIDED
    step_status, _ = _DECIDED.get(row.get("status") or "", _OPEN)
    step = state.new_id("approval_steps", old_id)
    params: dict[str, Any] = {
        "id": step, "org": state.org, "approval": approval,
        "number": int(row.get("step_number") or 1),
        "name": row.get("current_approver_department") or "Approval", "status": step_status,
        "done": row.get("decided_at") if decided else None}
    accepted, created = state.execute(
        "approvals", old_id,
        "INSERT INTO approval_steps (id, organization_id, approval_id, step_number, name, mode,"
        " required_approvals, status, completed_at) VALUES (:id, :org, :approval, :number, "
        ":name, 'parallel', 1, :status, :done) ON CONFLICT (id) DO NOTHING RETURNING id",
        params)
    if not accepted:
        return None
    state.report.count("approval_steps", created is not None)
    return step


def _approver(state: ImportState, row: Row, step: uuid.UUID) -> None:
    old_id = row.get("id") or ""
    _, decision = _DECIDED.get(row.get("status") or "", _OPEN)
    person = state.ref("users", row.get("current_approver_id"))
    role = row.get("current_approver_role")
    if person is not None or role not in INTERNAL_ROLES:
        role = None if person is not None else "management"
    decided = decision != "pending"
    accepted, created = state.execute(
        "approvals", old_id,
        "INSERT INTO approval_step_approvers (id, organization_id, approval_step_id, "
        "person_id, role, decision, decided_by, decided_at, comment) VALUES (:id, :org, "
        ":step, :person, CAST(:role AS user_role), :decision, :by, :at, :comment) "
        "ON CONFLICT (id) DO NOTHING RETURNING id", {
            "id": state.new_id("approval_step_approvers", old_id), "org": state.org,
            "step": step, "person": person, "role": role, "decision": decision,
            "by": state.ref("users", row.get("decided_by")) if decided else None,
            "at": row.get("decided_at") if decided else None,
            "comment": row.get("decision_comments") if decided else None})
    if accepted:
        state.report.count("approval_step_approvers", created is not None)
