"""Moving projects through the workflow, and their steps (sub-stages).

The rules are the database's (migration 20261125_0003): this module calls
``fp_private.move_project`` — a compare-and-set move that the triggers check — and turns what
the database says into errors the page can act on: a `StageConflictError` when someone else
moved the project meanwhile, a plain `UserFacingError` when a rule refuses the move.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import driver_error, friendly_error
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

STEP_STATUSES = ("pending", "in_progress", "completed", "skipped", "blocked")
_CONFLICT_STATE = "FP409"
T = TypeVar("T")


class StageConflictError(UserFacingError):
    """Someone moved the project since it was loaded; `current_stage_id` is where it is now."""

    def __init__(self, message: str, current_stage_id: uuid.UUID | None) -> None:
        super().__init__(message)
        self.current_stage_id = current_stage_id


class StepConflictError(UserFacingError):
    """Someone changed the step since it was loaded."""


@dataclass(frozen=True)
class SubStage:
    id: uuid.UUID
    name: str
    order: int
    responsible_roles: tuple[str, ...]
    is_required: bool
    can_skip: bool
    requires_approval: bool


@dataclass(frozen=True)
class Stage:
    id: uuid.UUID
    slug: str
    name: str
    order: int
    color: str
    responsible_roles: tuple[str, ...]
    estimated_duration_days: int | None
    sub_stages: tuple[SubStage, ...]


@dataclass(frozen=True)
class Step:
    """A project's progress on one sub-stage."""

    id: uuid.UUID
    stage_id: uuid.UUID
    sub_stage_id: uuid.UUID
    name: str
    order: int
    status: str
    is_required: bool
    can_skip: bool
    assigned_to: uuid.UUID | None
    assignee_name: str | None
    completed_by_name: str | None
    version: int
    requires_approval: bool = False
    approval_status: str | None = None  # of the latest approval asked for the step as it is

    @property
    def awaiting_approval(self) -> bool:
        return self.approval_status in ("pending", "in_review", "escalated")


_STAGES = text("""
SELECT s.id, s.slug, s.name, s.stage_order, s.color, s.responsible_roles::text[] AS roles,
       s.estimated_duration_days
FROM workflow_stages s
WHERE s.organization_id = :org AND s.is_active
ORDER BY s.stage_order
""")
_SUB_STAGES = text("""
SELECT ss.id, ss.workflow_stage_id, ss.name, ss.sub_stage_order,
       ss.responsible_roles::text[] AS roles, ss.is_required, ss.can_skip, ss.requires_approval
FROM workflow_sub_stages ss
WHERE ss.organization_id = :org AND ss.is_active
ORDER BY ss.sub_stage_order
""")


def load_workflow(ws: Workspace, organization_id: uuid.UUID) -> list[Stage]:
    """The organization's active stages in order, each with its active sub-stages."""

    def read(conn: Connection) -> list[Stage]:
        subs: dict[uuid.UUID, list[SubStage]] = {}
        for r in conn.execute(_SUB_STAGES, {"org": organization_id}):
            subs.setdefault(r.workflow_stage_id, []).append(SubStage(
                r.id, r.name, r.sub_stage_order, tuple(r.roles), r.is_required, r.can_skip,
                r.requires_approval))
        return [Stage(r.id, r.slug, r.name, r.stage_order, r.color, tuple(r.roles),
                      r.estimated_duration_days, tuple(subs.get(r.id, ())))
                for r in conn.execute(_STAGES, {"org": organization_id})]

    return units.read(ws, read)


def move_project(ws: Workspace, project_id: uuid.UUID, expected_stage_id: uuid.UUID,
                 to_stage_id: uuid.UUID, *, reason: str | None = None,
                 comment: str | None = None) -> str:
    """Move the project if it is still in `expected_stage_id`; returns the kind of move
    ("advance", "back" or "skip"). Raises `StageConflictError` when it was moved meanwhile,
    `UserFacingError` with the rule's words when a rule refuses it."""
    try:
        with ws.transaction() as conn:
            kind = conn.execute(
                text("SELECT fp_private.move_project(:p, :expected, :to, :reason, :comment)"),
                {"p": project_id, "expected": expected_stage_id, "to": to_stage_id,
                 "reason": (reason or "").strip() or None,
                 "comment": (comment or "").strip() or None}).scalar_one()
    except exc.DBAPIError as error:
        raise _move_error(error) from error
    return str(kind)


def advance_project(ws: Workspace, project_id: uuid.UUID, expected_stage_id: uuid.UUID, *,
                    reason: str | None = None, comment: str | None = None) -> str:
    """Move to the next active stage (see `move_project`)."""
    next_stage = units.read(ws, lambda conn: conn.execute(text(
        "SELECT fp_private.next_stage_id(p.organization_id, :stage) "
        "FROM projects p WHERE p.id = :p"),
        {"p": project_id, "stage": expected_stage_id}).scalar_one_or_none())
    if next_stage is None:
        raise UserFacingError("The project is in the last stage already.")
    return move_project(ws, project_id, expected_stage_id, next_stage, reason=reason,
                        comment=comment)


def exit_blockers(ws: Workspace, project_id: uuid.UUID) -> list[str]:
    """What keeps the project from leaving its current stage, in words (empty: nothing)."""
    return list(units.read(ws, lambda conn: conn.execute(text(
        "SELECT fp_private.stage_exit_blockers(p.organization_id, p.id, p.current_stage_id, "
        "p.customer_id) FROM projects p WHERE p.id = :p"), {"p": project_id}).scalar_one()))


# The latest approval of a step tells the page whether to offer "Ask for approval" or show
# that it waits (revision 0009).
_STEPS = text("""
SELECT pr.id, pr.workflow_stage_id, pr.sub_stage_id, ss.name, ss.sub_stage_order, pr.status,
       ss.is_required, ss.can_skip, pr.assigned_to,
       coalesce(a.display_name, a.role_name) AS assignee_name,
       coalesce(c.display_name, c.role_name) AS completed_by_name, pr.version,
       ss.requires_approval,
       (SELECT ap.status::text FROM approvals ap
        WHERE ap.organization_id = pr.organization_id AND ap.entity_type = 'project_step'
          AND ap.entity_id = pr.id AND ap.entity_version = pr.version
        ORDER BY ap.requested_at DESC LIMIT 1) AS approval_status
FROM project_sub_stage_progress pr
JOIN workflow_sub_stages ss ON ss.organization_id = pr.organization_id AND ss.id = pr.sub_stage_id
LEFT JOIN persons a ON a.id = pr.assigned_to
LEFT JOIN persons c ON c.id = pr.completed_by
WHERE pr.project_id = :p AND (CAST(:stage AS uuid) IS NULL OR pr.workflow_stage_id = :stage)
ORDER BY ss.sub_stage_order
""")


def steps_of(conn: Connection, project_id: uuid.UUID,
             stage_id: uuid.UUID | None = None) -> list[Step]:
    """The project's steps (of one stage, or of every stage it has been in)."""
    return [Step(r.id, r.workflow_stage_id, r.sub_stage_id, r.name, r.sub_stage_order, r.status,
                 r.is_required, r.can_skip, r.assigned_to, r.assignee_name,
                 r.completed_by_name, r.version, r.requires_approval, r.approval_status)
            for r in conn.execute(_STEPS, {"p": project_id, "stage": stage_id})]


def load_steps(ws: Workspace, project_id: uuid.UUID,
               stage_id: uuid.UUID | None = None) -> list[Step]:
    """The project's steps (of one stage, or of every stage it has been in)."""
    return units.read(ws, lambda conn: steps_of(conn, project_id, stage_id))


_SET_STEP = text("""
UPDATE project_sub_stage_progress
SET status = coalesce(:status, status),
    assigned_to = CASE WHEN :set_assignee THEN CAST(:assignee AS uuid) ELSE assigned_to END,
    notes = coalesce(:notes, notes)
WHERE id = :id AND version = :version
RETURNING version
""")


def update_step(ws: Workspace, step_id: uuid.UUID, expected_version: int, *,
                status: str | None = None, assign: bool = False,
                assignee_id: uuid.UUID | None = None, notes: str | None = None) -> int:
    """Start, complete, skip, block or reopen a step, or (re)assign it; returns the new
    version. Raises `StepConflictError` if someone changed the step since it was loaded."""
    if status is not None and status not in STEP_STATUSES:
        raise UserFacingError(f'"{status}" is not a step status.')
    try:
        with ws.transaction() as conn:
            version = conn.execute(_SET_STEP, {
                "id": step_id, "version": expected_version, "status": status,
                "set_assignee": assign, "assignee": assignee_id, "notes": notes,
            }).scalar_one_or_none()
            if version is None:
                now = conn.execute(text(
                    "SELECT version FROM project_sub_stage_progress WHERE id = :id"),
                    {"id": step_id}).scalar_one_or_none()
                if now is None:
                    raise UserFacingError("This step no longer exists.")
                if now == expected_version:  # visible, unchanged: the update policy said no
                    raise UserFacingError("You may not change this step: it belongs to "
                                          "another role, and you are not assigned to it.")
                raise StepConflictError("Someone changed this step meanwhile; it was reloaded. "
                                        "Check it and try again.")
    except UserFacingError:
        raise
    except exc.DBAPIError as error:
        raise friendly_error(error) from error
    return int(version)


def _move_error(error: exc.DBAPIError) -> UserFacingError:
    original = driver_error(error)
    if isinstance(original, psycopg.Error) and original.sqlstate == _CONFLICT_STATE:
        detail = original.diag.message_detail
        try:
            current = uuid.UUID(detail) if detail else None
        except ValueError:
            current = None
        return StageConflictError(original.diag.message_primary or str(original), current)
    return friendly_error(error)




def request_step_approval(ws: Workspace, organization_id: uuid.UUID, step_id: uuid.UUID, *,
                          reason: str | None = None,
                          approval_id: uuid.UUID | None = None) -> uuid.UUID:
    """Ask for the approval a step needs before it completes (revision 0009); the step then
    completes by itself when approved. Pass the same `approval_id` to retry safely."""
    approval_id = approval_id or uuid.uuid4()
    try:
        with ws.transaction() as conn:
            conn.execute(text(
                "SELECT fp_private.request_step_approval(:org, :id, :step, :reason)"),
                {"org": organization_id, "id": approval_id, "step": step_id,
                 "reason": (reason or "").strip() or None})
    except exc.DBAPIError as error:
        raise friendly_error(error) from error
    return approval_id
