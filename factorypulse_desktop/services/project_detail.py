"""One project's page: everything about it in one read, and saving it with optimistic locking.

`load_project` reads the project, the workflow stages (for the stepper), its steps, active
assignments, stage history and what keeps it in its current stage, in one read-only
transaction. Nothing is held between loading and saving (RELIABILITY.md §3.2): a save is
``UPDATE ... WHERE id = :id AND version = :expected`` and the database's own lock version
(trigger ``tg_touch``) tells whether someone saved in between. When they did, the save raises
`ProjectConflictError` carrying what is stored now, so the page can show both sides and the
person's typed values are never lost (T-CONC-01); a stale delete is refused the same way
(T-CONC-02).

Who may change what is the database's decision (row level security): a refused update or
delete is told apart from a conflict by reading the row again in the same transaction. If its
version is still the expected one, nobody else changed it: the policy said no.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import psycopg
from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import driver_error, friendly_error
from factorypulse_desktop.domain.enums import Priority, ProjectStatus
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.intake import MAX_TAGS, parse_money, parse_tags
from factorypulse_desktop.domain.numbers import NumberProblem
from factorypulse_desktop.domain.text import FieldError, clean_text
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workflow import Stage, Step, SubStage, steps_of
from factorypulse_desktop.services.workspace import Workspace

__all__ = [
    "ASSIGNMENT_ROLES",
    "EDIT_FIELDS",
    "PROJECT_TYPES",
    "Assignment",
    "CustomerChoice",
    "HistoryEntry",
    "ProjectConflictError",
    "ProjectDetail",
    "ProjectEdit",
    "ProjectInvalid",
    "ProjectNotFoundError",
    "Ref",
    "archive_project",
    "assign_person",
    "check_edit",
    "delete_project",
    "list_customers",
    "load_project",
    "parse_tag_text",
    "parse_value",
    "restore_project",
    "save_project",
    "unassign",
]


PROJECT_TYPES: tuple[str, ...] = ("fabrication", "manufacturing", "system_build")
# Suggestions for the role a person has on a project (free text in the database).
ASSIGNMENT_ROLES: tuple[str, ...] = (
    "lead", "member", "sales", "engineering", "quality", "production", "procurement",
)
MAX_TITLE = 200
MAX_LONG_TEXT = 20_000
MAX_TAG = 50
MAX_ROLE = 50
MAX_VALUE = Decimal("9999999999999.99")  # numeric(15, 2)
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
# priority_score follows the level the person chose (the demo data's mapping).
PRIORITY_SCORE = {"low": 25, "medium": 50, "high": 72, "critical": 90}
_CENT = Decimal("0.01")


# -- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """Something named: a person, a customer."""

    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class ProjectEdit:
    """The attributes a person edits on the project page."""

    title: str
    description: str | None = None
    customer_id: uuid.UUID | None = None
    priority: str = Priority.MEDIUM.value
    estimated_value: Decimal | None = None
    estimated_delivery_date: dt.date | None = None
    actual_delivery_date: dt.date | None = None
    project_type: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    assigned_to: uuid.UUID | None = None
    status: str = ProjectStatus.ACTIVE.value

    def changed_fields(self, other: ProjectEdit) -> list[str]:
        """Names of the fields whose values differ from `other`, in form order."""
        return [f for f in EDIT_FIELDS if getattr(self, f) != getattr(other, f)]

    def with_changes_of(self, mine: ProjectEdit, base: ProjectEdit) -> ProjectEdit:
        """This edit with every field `mine` changed relative to `base` taken from `mine`."""
        values = {f: getattr(mine if f in mine.changed_fields(base) else self, f)
                  for f in EDIT_FIELDS}
        return ProjectEdit(**values)


EDIT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ProjectEdit))
FIELD_LABELS: Mapping[str, str] = {
    "title": "Title",
    "description": "Description",
    "customer_id": "Customer",
    "priority": "Priority",
    "estimated_value": "Estimated value",
    "estimated_delivery_date": "Due date",
    "actual_delivery_date": "Delivered on",
    "project_type": "Project type",
    "tags": "Tags",
    "notes": "Notes",
    "assigned_to": "Assigned to",
    "status": "Status",
}


@dataclass(frozen=True)
class Assignment:
    id: uuid.UUID
    person_id: uuid.UUID
    person_name: str
    role: str
    assigned_at: dt.datetime
    assigned_by: str | None


@dataclass(frozen=True)
class HistoryEntry:
    """One stage change (kind: "created", "advance", "back" or "skip")."""

    id: uuid.UUID
    from_stage_id: uuid.UUID | None
    from_stage: str | None
    to_stage_id: uuid.UUID
    to_stage: str
    kind: str
    reason: str | None
    comment: str | None
    actor: str | None
    occurred_at: dt.datetime


@dataclass(frozen=True)
class CustomerChoice:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class ProjectDetail:
    id: uuid.UUID
    organization_id: uuid.UUID
    number: str
    title: str
    description: str | None
    customer: Ref | None
    status: str
    priority: str
    estimated_value: Decimal | None
    estimated_delivery_date: dt.date | None
    actual_delivery_date: dt.date | None
    project_type: str | None
    intake_type: str | None
    tags: tuple[str, ...]
    notes: str | None
    assigned_to: Ref | None
    stage: Stage
    stage_entered_at: dt.datetime
    days_in_stage: int
    created_at: dt.datetime
    created_by: Ref | None
    updated_at: dt.datetime
    archived_at: dt.datetime | None
    version: int
    stages: tuple[Stage, ...]
    """The organization's active stages in order (plus the current one if switched off)."""
    steps: tuple[Step, ...]
    """The steps of every stage the project has been in."""
    assignments: tuple[Assignment, ...]
    history: tuple[HistoryEntry, ...]
    """Newest first."""
    blockers: tuple[str, ...]
    """What keeps the project in its current stage, in words (empty: it may advance)."""
    may_edit: bool = True
    """A hint from the same rule the update policy applies; the database still decides."""
    may_manage: bool = False
    """Admin or management: may assign people, skip stages (hint)."""
    may_delete: bool = False
    """Administrator (hint)."""

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    @property
    def edit(self) -> ProjectEdit:
        """The editable attributes as stored."""
        return ProjectEdit(
            title=self.title, description=self.description,
            customer_id=self.customer.id if self.customer else None, priority=self.priority,
            estimated_value=self.estimated_value,
            estimated_delivery_date=self.estimated_delivery_date,
            actual_delivery_date=self.actual_delivery_date, project_type=self.project_type,
            tags=self.tags, notes=self.notes,
            assigned_to=self.assigned_to.id if self.assigned_to else None, status=self.status)

    @property
    def next_stage(self) -> Stage | None:
        later = [s for s in self.stages if s.order > self.stage.order]
        return later[0] if later else None

    @property
    def overdue(self) -> bool:
        return (self.estimated_delivery_date is not None
                and self.estimated_delivery_date < dt.date.today()
                and self.status == ProjectStatus.ACTIVE.value)

    @property
    def too_long_in_stage(self) -> bool:
        limit = self.stage.estimated_duration_days
        return limit is not None and self.days_in_stage > limit

    def steps_of(self, stage_id: uuid.UUID) -> list[Step]:
        return [s for s in self.steps if s.stage_id == stage_id]


class ProjectNotFoundError(UserFacingError):
    """The project was deleted, or the person may no longer see it."""


class ProjectInvalid(UserFacingError):
    """Field name -> message for every wrong field; nothing was stored."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = dict(errors)


class ProjectConflictError(UserFacingError):
    """Someone saved the project after it was loaded here; nothing of this save was stored.

    `theirs` is what is stored now, with its `version` (pass it to save over theirs) and who
    saved it when (`updated_by` may be None when the change log does not say).
    """

    def __init__(self, message: str, *, theirs: ProjectEdit, version: int,
                 updated_at: dt.datetime, updated_by: str | None) -> None:
        super().__init__(message)
        self.theirs = theirs
        self.version = version
        self.updated_at = updated_at
        self.updated_by = updated_by


# -- helpers --------------------------------------------------------------------------------


def _db_error(error: exc.DBAPIError) -> UserFacingError:
    original = driver_error(error)
    if isinstance(original, psycopg.errors.ForeignKeyViolation):
        return UserFacingError("The chosen customer or person is not part of this "
                               "organization (any more); choose another.")
    if (isinstance(original, psycopg.errors.InsufficientPrivilege)
            and "row-level security" in str(original)):
        return UserFacingError("You are not allowed to do that.")
    return friendly_error(error)


def _not_found() -> ProjectNotFoundError:
    return ProjectNotFoundError("This project no longer exists, or you may no longer see it.")


# -- checking what was typed ----------------------------------------------------------------


def parse_value(value: str) -> Decimal | None:
    """The estimated value as typed ("12,500.50"), or `ProjectInvalid`."""
    try:
        amount = parse_money(value)
    except NumberProblem as problem:
        raise ProjectInvalid({"estimated_value": f"Estimated value: {problem}"}) from None
    return amount


def parse_tag_text(value: str) -> tuple[str, ...]:
    """Comma- or semicolon-separated tags as typed."""
    return parse_tags(value)


def check_edit(edit: ProjectEdit) -> ProjectEdit:
    """`edit` cleaned up (trimmed, NFC, cents), or `ProjectInvalid` naming every wrong field."""
    errors: dict[str, str] = {}

    def clean(name: str, max_length: int, **kwargs: Any) -> str | None:
        try:
            return clean_text(getattr(edit, name), field=name, label=FIELD_LABELS[name],
                              max_length=max_length, **kwargs)
        except FieldError as error:
            errors[error.field] = error.message
            return None

    title = clean("title", MAX_TITLE, required=True, min_length=3)
    description = clean("description", MAX_LONG_TEXT)
    notes = clean("notes", MAX_LONG_TEXT)
    if edit.priority not in {p.value for p in Priority}:
        errors["priority"] = f'"{edit.priority}" is not a priority.'
    if edit.status not in {s.value for s in ProjectStatus}:
        errors["status"] = f'"{edit.status}" is not a project status.'
    if edit.project_type is not None and edit.project_type not in PROJECT_TYPES:
        errors["project_type"] = f'"{edit.project_type}" is not a project type.'
    value = edit.estimated_value
    if value is not None:
        if not value.is_finite() or value < 0:
            errors["estimated_value"] = "Estimated value must be zero or more."
        elif value > MAX_VALUE:
            errors["estimated_value"] = "Estimated value is too large."
        else:
            value = value.quantize(_CENT)
    tags: list[str] = []
    for tag in edit.tags:
        try:
            cleaned = clean_text(tag, field="tags", label="A tag", max_length=MAX_TAG)
        except FieldError as error:
            errors["tags"] = error.message
            continue
        if cleaned and cleaned.casefold() not in {t.casefold() for t in tags}:
            tags.append(cleaned)
    if len(tags) > MAX_TAGS:
        errors["tags"] = f"At most {MAX_TAGS} tags."
    for name in ("estimated_delivery_date", "actual_delivery_date"):
        day = getattr(edit, name)
        if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
            errors[name] = f"{FIELD_LABELS[name]} must be between 2000 and 2100."
    if errors:
        raise ProjectInvalid(errors)
    assert title is not None
    return ProjectEdit(
        title=title, description=description, customer_id=edit.customer_id,
        priority=edit.priority, estimated_value=value,
        estimated_delivery_date=edit.estimated_delivery_date,
        actual_delivery_date=edit.actual_delivery_date, project_type=edit.project_type,
        tags=tuple(tags), notes=notes, assigned_to=edit.assigned_to, status=edit.status)


# -- loading --------------------------------------------------------------------------------

_MANAGERS = "fp_private.my_org_ids_with_role('{admin,management}'::public.user_role[])"
_PROJECT = text(f"""
SELECT p.id, p.organization_id, p.project_number, p.title, p.description, p.customer_id,
       c.company_name AS customer_name, p.status::text AS status,
       p.priority_level::text AS priority, p.estimated_value, p.estimated_delivery_date,
       p.actual_delivery_date, p.project_type, p.intake_type::text AS intake_type, p.tags,
       p.notes, p.assigned_to, coalesce(a.display_name, a.role_name) AS assignee_name,
       p.current_stage_id, p.stage_entered_at,
       greatest(0, extract(day FROM now() - p.stage_entered_at))::int AS days_in_stage,
       p.created_at, p.created_by, coalesce(cb.display_name, cb.role_name) AS created_by_name,
       p.updated_at, p.archived_at, p.version,
       fp_private.stage_exit_blockers(p.organization_id, p.id, p.current_stage_id,
                                      p.customer_id) AS blockers,
       p.organization_id = ANY ({_MANAGERS}) AS may_manage,
       (p.organization_id = ANY ({_MANAGERS})
        OR (p.organization_id = ANY (fp_private.my_internal_org_ids())
            AND (p.current_stage_id = ANY (fp_private.my_responsible_stage_ids())
                 OR p.id = ANY (fp_private.my_assigned_project_ids())))) AS may_edit,
       fp_private.caller_is_admin(p.organization_id) AS may_delete
FROM projects p
LEFT JOIN contacts c ON c.organization_id = p.organization_id AND c.id = p.customer_id
LEFT JOIN persons a ON a.id = p.assigned_to
LEFT JOIN persons cb ON cb.id = p.created_by
WHERE p.id = :id
""")
_STAGES = text("""
SELECT s.id, s.slug, s.name, s.stage_order, s.color, s.responsible_roles::text[] AS roles,
       s.estimated_duration_days
FROM workflow_stages s
WHERE s.organization_id = :org AND (s.is_active OR s.id = :current)
ORDER BY s.stage_order
""")
_SUB_STAGES = text("""
SELECT ss.id, ss.workflow_stage_id, ss.name, ss.sub_stage_order,
       ss.responsible_roles::text[] AS roles, ss.is_required, ss.can_skip, ss.requires_approval
FROM workflow_sub_stages ss
WHERE ss.organization_id = :org AND ss.is_active
ORDER BY ss.sub_stage_order
""")
_ASSIGNMENTS = text("""
SELECT pa.id, pa.person_id, coalesce(pe.display_name, pe.role_name) AS person_name, pa.role,
       pa.assigned_at, coalesce(ab.display_name, ab.role_name) AS assigned_by
FROM project_assignments pa
JOIN persons pe ON pe.id = pa.person_id
LEFT JOIN persons ab ON ab.id = pa.assigned_by
WHERE pa.organization_id = :org AND pa.project_id = :id AND pa.is_active
ORDER BY pa.assigned_at, lower(pe.display_name)
""")
_HISTORY = text("""
SELECT h.id, h.from_stage_id, fs.name AS from_stage, h.to_stage_id, ts.name AS to_stage,
       h.transition, h.reason, h.comment, coalesce(pe.display_name, pe.role_name) AS actor,
       h.occurred_at
FROM project_stage_history h
JOIN workflow_stages ts ON ts.organization_id = h.organization_id AND ts.id = h.to_stage_id
LEFT JOIN workflow_stages fs ON fs.organization_id = h.organization_id
      AND fs.id = h.from_stage_id
LEFT JOIN persons pe ON pe.id = h.actor_id
WHERE h.organization_id = :org AND h.project_id = :id
ORDER BY h.occurred_at DESC, h.id DESC
""")


def load_project(ws: Workspace, project_id: uuid.UUID) -> ProjectDetail:
    """Everything the project page shows, in one read-only transaction.

    Raises `ProjectNotFoundError` when the project does not exist or is not visible.
    """
    return units.read(ws, lambda conn: _load(conn, project_id))


def _ref(ref_id: uuid.UUID | None, name: str | None) -> Ref | None:
    return Ref(ref_id, name or "") if ref_id is not None else None


def _load(conn: Connection, project_id: uuid.UUID) -> ProjectDetail:
    p = conn.execute(_PROJECT, {"id": project_id}).one_or_none()
    if p is None:
        raise _not_found()
    key = {"org": p.organization_id, "id": project_id}
    subs: dict[uuid.UUID, list[SubStage]] = {}
    for r in conn.execute(_SUB_STAGES, key):
        subs.setdefault(r.workflow_stage_id, []).append(SubStage(
            id=r.id, name=r.name, order=r.sub_stage_order, responsible_roles=tuple(r.roles),
            is_required=r.is_required, can_skip=r.can_skip,
            requires_approval=r.requires_approval))
    stages = tuple(
        Stage(id=r.id, slug=r.slug, name=r.name, order=r.stage_order, color=r.color,
              responsible_roles=tuple(r.roles), estimated_duration_days=r.estimated_duration_days,
              sub_stages=tuple(subs.get(r.id, ())))
        for r in conn.execute(_STAGES, {"org": p.organization_id,
                                        "current": p.current_stage_id}))
    stage = next((s for s in stages if s.id == p.current_stage_id), None)
    if stage is None:  # a project is always in a stage; its stage row is not visible
        raise _not_found()
    steps = tuple(steps_of(conn, project_id))
    assignments = tuple(
        Assignment(id=r.id, person_id=r.person_id, person_name=r.person_name, role=r.role,
                   assigned_at=r.assigned_at, assigned_by=r.assigned_by)
        for r in conn.execute(_ASSIGNMENTS, key))
    history = tuple(
        HistoryEntry(id=r.id, from_stage_id=r.from_stage_id, from_stage=r.from_stage,
                     to_stage_id=r.to_stage_id, to_stage=r.to_stage, kind=r.transition,
                     reason=r.reason, comment=r.comment, actor=r.actor,
                     occurred_at=r.occurred_at)
        for r in conn.execute(_HISTORY, key))
    return ProjectDetail(
        id=p.id, organization_id=p.organization_id, number=p.project_number, title=p.title,
        description=p.description, customer=_ref(p.customer_id, p.customer_name),
        status=p.status, priority=p.priority, estimated_value=p.estimated_value,
        estimated_delivery_date=p.estimated_delivery_date,
        actual_delivery_date=p.actual_delivery_date, project_type=p.project_type,
        intake_type=p.intake_type, tags=tuple(p.tags or ()), notes=p.notes,
        assigned_to=_ref(p.assigned_to, p.assignee_name), stage=stage,
        stage_entered_at=p.stage_entered_at, days_in_stage=p.days_in_stage,
        created_at=p.created_at, created_by=_ref(p.created_by, p.created_by_name),
        updated_at=p.updated_at, archived_at=p.archived_at, version=p.version, stages=stages,
        steps=steps, assignments=assignments, history=history,
        blockers=tuple(p.blockers or ()), may_edit=bool(p.may_edit),
        may_manage=bool(p.may_manage), may_delete=bool(p.may_delete))


def list_customers(ws: Workspace, organization_id: uuid.UUID) -> list[CustomerChoice]:
    """Active customers and partners of the organization, by name (for the customer picker)."""
    rows = units.read(ws, lambda conn: list(conn.execute(text(
        "SELECT id, company_name FROM contacts WHERE organization_id = :org AND is_active "
        "AND type IN ('customer', 'partner') ORDER BY lower(company_name), id"),
        {"org": organization_id}).all()))
    return [CustomerChoice(r.id, r.company_name) for r in rows]


# -- saving ---------------------------------------------------------------------------------

_CURRENT = text("""
SELECT p.organization_id, p.title, p.description, p.customer_id,
       p.priority_level::text AS priority, p.estimated_value, p.estimated_delivery_date,
       p.actual_delivery_date, p.project_type, p.tags, p.notes, p.assigned_to,
       p.status::text AS status, p.version, p.updated_at, s.name AS stage_name,
       s.responsible_roles::text[] AS stage_roles
FROM projects p
LEFT JOIN workflow_stages s ON s.organization_id = p.organization_id AND s.id = p.current_stage_id
WHERE p.id = :id
""")
_LAST_CHANGE_BY = text("""
SELECT coalesce(pe.display_name, pe.role_name)
FROM change_log l LEFT JOIN persons pe ON pe.id = l.actor_id
WHERE l.organization_id = :org AND l.entity_type = 'projects' AND l.entity_id = :id
  AND l.row_version = :version
ORDER BY l.id DESC LIMIT 1
""")
_SAVE = text("""
UPDATE projects SET
    title = :title, description = :description, customer_id = :customer_id,
    priority_score = CASE WHEN priority_level = CAST(:priority AS priority_level)
                          THEN priority_score ELSE :priority_score END,
    priority_level = CAST(:priority AS priority_level), estimated_value = :estimated_value,
    estimated_delivery_date = :estimated_delivery_date,
    actual_delivery_date = :actual_delivery_date, project_type = :project_type, tags = :tags,
    notes = :notes, assigned_to = :assigned_to, status = CAST(:status AS project_status)
WHERE id = :id AND version = :version
RETURNING version
""")


def _stored_edit(row: Any) -> ProjectEdit:
    return ProjectEdit(
        title=row.title, description=row.description, customer_id=row.customer_id,
        priority=row.priority, estimated_value=row.estimated_value,
        estimated_delivery_date=row.estimated_delivery_date,
        actual_delivery_date=row.actual_delivery_date, project_type=row.project_type,
        tags=tuple(row.tags or ()), notes=row.notes, assigned_to=row.assigned_to,
        status=row.status)


def _refusal(conn: Connection, project_id: uuid.UUID, expected_version: int,
             not_allowed: Callable[[Any], UserFacingError], conflict_message: str
             ) -> UserFacingError:
    """Why a versioned write changed no row: gone, someone saved meanwhile, or not allowed."""
    row = conn.execute(_CURRENT, {"id": project_id}).one_or_none()
    if row is None:
        return _not_found()
    if row.version == expected_version:  # visible and unchanged: the policy said no
        return not_allowed(row)
    who = conn.execute(_LAST_CHANGE_BY, {"org": row.organization_id, "id": project_id,
                                         "version": row.version}).scalar_one_or_none()
    return ProjectConflictError(conflict_message, theirs=_stored_edit(row), version=row.version,
                                updated_at=row.updated_at, updated_by=who)


def _may_not_change(row: Any) -> UserFacingError:
    roles = ", ".join(r for r in (row.stage_roles or ()))
    stage = f' "{row.stage_name}"' if row.stage_name else ""
    who = f" ({roles})" if roles else ""
    return UserFacingError(
        f"You may not change this project: only management, the roles responsible for its "
        f"stage{stage}{who} and the people assigned to it may.")


def save_project(ws: Workspace, project_id: uuid.UUID, expected_version: int,
                 edit: ProjectEdit) -> int:
    """Save `edit` if nobody saved the project since `expected_version`; returns the new
    version.

    Raises `ProjectInvalid` (nothing stored) for wrong input, `ProjectConflictError` with the
    stored values when someone saved meanwhile, a plain `UserFacingError` when the person may
    not change the project.
    """
    clean = check_edit(edit)
    params = {
        "id": project_id, "version": expected_version, "title": clean.title,
        "description": clean.description, "customer_id": clean.customer_id,
        "priority": clean.priority, "priority_score": PRIORITY_SCORE[clean.priority],
        "estimated_value": clean.estimated_value,
        "estimated_delivery_date": clean.estimated_delivery_date,
        "actual_delivery_date": clean.actual_delivery_date, "project_type": clean.project_type,
        "tags": list(clean.tags), "notes": clean.notes, "assigned_to": clean.assigned_to,
        "status": clean.status,
    }
    me = ws.identity.person_id

    def landed(conn: Connection) -> int | None:
        return _my_save_landed(conn, project_id, expected_version, clean, me)

    def run(conn: Connection) -> int:
        version = conn.execute(_SAVE, params).scalar_one_or_none()
        if version is None:
            # Pressed Save again after the answer to a save that did land was lost: the
            # project holds exactly this edit, saved by me -- no conflict with myself.
            again = landed(conn)
            if again is not None:
                return again
            raise _refusal(conn, project_id, expected_version, _may_not_change,
                           "Someone else saved this project while you were editing it. Your "
                           "changes are not saved yet; compare them with theirs.")
        return int(version)

    # A lost connection: the save either landed (found by version, author and values) or
    # nothing was stored; the page keeps the form either way (T-NET-03).
    return units.write_once(ws, run, landed, describe=_db_error)


def _my_save_landed(conn: Connection, project_id: uuid.UUID, expected_version: int,
                    edit: ProjectEdit, me: uuid.UUID) -> int | None:
    """The version my save made if a save of mine after `expected_version` stored `edit`.

    Only one change can move the project on from `expected_version` (the save checks it):
    when that change is mine and the project still holds `edit`, it is this save. When
    someone saved after it, mine landed all the same (its version is returned; their save
    shows as a conflict at my next save) -- the values can no longer be compared then.
    """
    row = conn.execute(_CURRENT, {"id": project_id}).one_or_none()
    if row is None or row.version <= expected_version:
        return None
    first = conn.execute(text(
        "SELECT l.actor_id FROM change_log l WHERE l.organization_id = :org "
        "AND l.entity_type = 'projects' AND l.entity_id = :id AND l.row_version = :version "
        "ORDER BY l.id LIMIT 1"), {"org": row.organization_id, "id": project_id,
                                   "version": expected_version + 1}).scalar_one_or_none()
    if first != me:
        return None
    if row.version == expected_version + 1 and _stored_edit(row) != edit:
        return None  # another change of mine (a stage move elsewhere), not this save
    return expected_version + 1


def _only_admins_delete(_row: Any) -> UserFacingError:
    return UserFacingError("Only an administrator may delete a project. Archive it instead "
                           "to take it off the lists.")


def delete_project(ws: Workspace, project_id: uuid.UUID, expected_version: int) -> None:
    """Delete the project (administrators) if nobody changed it since `expected_version`;
    else `ProjectConflictError` and the project stays (T-CONC-02)."""
    with units.transaction(ws, describe=_db_error) as conn:
        deleted = conn.execute(text(
            "DELETE FROM projects WHERE id = :id AND version = :version RETURNING id"),
            {"id": project_id, "version": expected_version}).scalar_one_or_none()
        if deleted is None:
            raise _refusal(conn, project_id, expected_version, _only_admins_delete,
                           "Someone changed this project after you opened it, so it was not "
                           "deleted. Look at their changes first, then delete it if you "
                           "still want to.")


def _set_archived(ws: Workspace, project_id: uuid.UUID, expected_version: int,
                  archived: bool) -> int:
    sql = text(
        "UPDATE projects SET archived_at = CASE WHEN :archived THEN coalesce(archived_at, now()) "
        "END WHERE id = :id AND version = :version RETURNING version")
    with units.transaction(ws, describe=_db_error) as conn:
        version = conn.execute(sql, {"id": project_id, "version": expected_version,
                                     "archived": archived}).scalar_one_or_none()
        if version is None:
            raise _refusal(conn, project_id, expected_version, _may_not_change,
                           "Someone changed this project after you opened it; it was "
                           "reloaded. Check it and try again.")
    return int(version)


def archive_project(ws: Workspace, project_id: uuid.UUID, expected_version: int) -> int:
    """Take the project off the lists (kept, with everything it has); returns the new version."""
    return _set_archived(ws, project_id, expected_version, True)


def restore_project(ws: Workspace, project_id: uuid.UUID, expected_version: int) -> int:
    """Bring an archived project back; returns the new version."""
    return _set_archived(ws, project_id, expected_version, False)


# -- assignments ----------------------------------------------------------------------------

_ASSIGN = text("""
INSERT INTO project_assignments (organization_id, project_id, person_id, role)
SELECT p.organization_id, p.id, :person, :role FROM projects p WHERE p.id = :project
ON CONFLICT (organization_id, project_id, person_id, role)
DO UPDATE SET is_active = true, assigned_at = now()
RETURNING id
""")


def _check_manager(conn: Connection, project_id: uuid.UUID) -> None:
    row = conn.execute(text(
        f"SELECT p.organization_id = ANY ({_MANAGERS}) AS manager FROM projects p "
        "WHERE p.id = :id"), {"id": project_id}).one_or_none()
    if row is None:
        raise _not_found()
    if not row.manager:
        raise UserFacingError("Only management or an administrator may change who works on a "
                              "project.")


def assign_person(ws: Workspace, project_id: uuid.UUID, person_id: uuid.UUID,
                  role: str = "member") -> uuid.UUID:
    """Put a person on the project with `role` (again, if they were taken off); returns the
    assignment's id. Management and administrators only (row level security)."""
    try:
        clean_role = clean_text(role, field="role", label="Role", max_length=MAX_ROLE,
                                required=True)
    except FieldError as error:
        raise ProjectInvalid({error.field: error.message}) from None
    with units.transaction(ws, describe=_db_error) as conn:
        _check_manager(conn, project_id)
        assignment = conn.execute(_ASSIGN, {"project": project_id, "person": person_id,
                                            "role": clean_role}).scalar_one_or_none()
        if assignment is None:
            raise _not_found()
    return uuid.UUID(str(assignment))


def unassign(ws: Workspace, assignment_id: uuid.UUID) -> None:
    """Take a person off a project (the assignment is kept, inactive, for the record)."""
    with units.transaction(ws, describe=_db_error) as conn:
        project_id = conn.execute(text(
            "SELECT project_id FROM project_assignments WHERE id = :id"),
            {"id": assignment_id}).scalar_one_or_none()
        if project_id is None:
            raise UserFacingError("That assignment no longer exists.")
        _check_manager(conn, project_id)
        conn.execute(text("UPDATE project_assignments SET is_active = false "
                          "WHERE id = :id AND is_active"), {"id": assignment_id})
