"""Workflow configuration: an organization's stages and sub-stages (admin and management).

The database decides who may change them (RLS: admin and management) and what stays
consistent (a stage in use cannot be deleted — switch it off instead; orders are unique per
organization, so a reorder swaps inside one transaction with the uniqueness check deferred).
Every save carries the lock version it was loaded with: a stale save is a conflict, not an
overwrite.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError, clean_text
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

T = TypeVar("T")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ConfigConflictError(UserFacingError):
    """Someone changed the stage or sub-stage since it was loaded."""


@dataclass(frozen=True)
class SubStageConfig:
    id: uuid.UUID | None
    name: str
    order: int = 0
    description: str | None = None
    responsible_roles: tuple[Role, ...] = ()
    estimated_hours: Decimal | None = None
    is_required: bool = True
    can_skip: bool = False
    requires_approval: bool = False
    approval_roles: tuple[Role, ...] = ()
    is_active: bool = True
    version: int = 0


@dataclass(frozen=True)
class StageConfig:
    id: uuid.UUID | None
    name: str
    order: int = 0
    slug: str = ""
    color: str = "#64748b"
    description: str | None = None
    exit_criteria: str | None = None
    responsible_roles: tuple[Role, ...] = ()
    estimated_days: int | None = None
    is_active: bool = True
    version: int = 0
    sub_stages: tuple[SubStageConfig, ...] = ()


_STAGES = text("""
SELECT id, name, stage_order, slug, color, description, exit_criteria,
       responsible_roles::text[] AS roles, estimated_duration_days, is_active, version
FROM workflow_stages WHERE organization_id = :org ORDER BY stage_order
""")
_SUBS = text("""
SELECT id, workflow_stage_id, name, sub_stage_order, description,
       responsible_roles::text[] AS roles, estimated_duration_hours, is_required, can_skip,
       requires_approval, approval_roles::text[] AS approval_roles, is_active, version
FROM workflow_sub_stages WHERE organization_id = :org ORDER BY sub_stage_order
""")


def load_config(ws: Workspace, organization_id: uuid.UUID) -> list[StageConfig]:
    """Every stage (switched off ones too) with every sub-stage, in order."""

    def read(conn: Connection) -> list[StageConfig]:
        subs: dict[uuid.UUID, list[SubStageConfig]] = {}
        for r in conn.execute(_SUBS, {"org": organization_id}):
            subs.setdefault(r.workflow_stage_id, []).append(SubStageConfig(
                r.id, r.name, r.sub_stage_order, r.description, _roles(r.roles),
                r.estimated_duration_hours, r.is_required, r.can_skip, r.requires_approval,
                _roles(r.approval_roles), r.is_active, r.version))
        return [StageConfig(r.id, r.name, r.stage_order, r.slug, r.color, r.description,
                            r.exit_criteria, _roles(r.roles), r.estimated_duration_days,
                            r.is_active, r.version, tuple(subs.get(r.id, ())))
                for r in conn.execute(_STAGES, {"org": organization_id})]

    return units.read(ws, read)


def save_stage(ws: Workspace, organization_id: uuid.UUID, stage: StageConfig) -> uuid.UUID:
    """Create (`stage.id` None: added last) or update a stage; returns its id."""
    name = _required(stage.name, "name", "Stage name", 80)
    color = stage.color.strip()
    if not _COLOR.match(color):
        raise FieldError("color", "Colour must look like #1f5fbf.")
    if stage.estimated_days is not None and not 0 <= stage.estimated_days <= 3650:
        raise FieldError("estimated_days", "Duration must be between 0 and 3650 days.")
    values = {
        "org": organization_id, "name": name, "color": color,
        "description": _text(stage.description, "description", "Description", 2000),
        "exit": _text(stage.exit_criteria, "exit_criteria", "Exit criteria", 2000),
        "roles": [r.value for r in stage.responsible_roles], "days": stage.estimated_days,
        "active": stage.is_active,
    }

    def write(conn: Connection) -> uuid.UUID:
        if stage.id is None:
            return uuid.UUID(str(conn.execute(text("""
                INSERT INTO workflow_stages (organization_id, name, slug, color, description,
                    exit_criteria, responsible_roles, estimated_duration_days, is_active,
                    stage_order)
                VALUES (:org, :name, :slug, :color, :description, :exit,
                        CAST(:roles AS user_role[]), :days, :active,
                        (SELECT coalesce(max(stage_order), 0) + 1 FROM workflow_stages
                         WHERE organization_id = :org))
                RETURNING id"""), {**values, "slug": _unique_slug(
                    conn, "workflow_stages", "organization_id = :org",
                    {"org": organization_id}, name)}
            ).scalar_one()))
        updated = conn.execute(text("""
            UPDATE workflow_stages SET name = :name, color = :color, description = :description,
                exit_criteria = :exit, responsible_roles = CAST(:roles AS user_role[]),
                estimated_duration_days = :days, is_active = :active
            WHERE organization_id = :org AND id = :id AND version = :version RETURNING id"""),
            {**values, "id": stage.id, "version": stage.version}).scalar_one_or_none()
        if updated is None:
            _conflict(conn, "workflow_stages", stage.id, stage.version, "stage")
        return stage.id

    return units.write(ws, write)


def save_sub_stage(ws: Workspace, organization_id: uuid.UUID, stage_id: uuid.UUID,
                   sub: SubStageConfig) -> uuid.UUID:
    """Create (added last in its stage) or update a sub-stage; returns its id."""
    name = _required(sub.name, "name", "Sub-stage name", 120)
    if sub.estimated_hours is not None and not Decimal(0) <= sub.estimated_hours <= 10000:
        raise FieldError("estimated_hours", "Hours must be between 0 and 10000.")
    if sub.requires_approval and not sub.approval_roles:
        raise FieldError("approval_roles", "Choose who approves, or switch approval off.")
    values = {
        "org": organization_id, "stage": stage_id, "name": name,
        "description": _text(sub.description, "description", "Description", 2000),
        "roles": [r.value for r in sub.responsible_roles], "hours": sub.estimated_hours,
        "required": sub.is_required, "skip": sub.can_skip, "approval": sub.requires_approval,
        "approval_roles": [r.value for r in sub.approval_roles], "active": sub.is_active,
    }

    def write(conn: Connection) -> uuid.UUID:
        if sub.id is None:
            return uuid.UUID(str(conn.execute(text("""
                INSERT INTO workflow_sub_stages (organization_id, workflow_stage_id, name, slug,
                    description, responsible_roles, estimated_duration_hours, is_required,
                    can_skip, requires_approval, approval_roles, is_active, sub_stage_order)
                VALUES (:org, :stage, :name, :slug, :description, CAST(:roles AS user_role[]),
                        :hours, :required, :skip, :approval,
                        CAST(:approval_roles AS user_role[]), :active,
                        (SELECT coalesce(max(sub_stage_order), 0) + 1 FROM workflow_sub_stages
                         WHERE organization_id = :org AND workflow_stage_id = :stage))
                RETURNING id"""), {**values, "slug": _unique_slug(
                    conn, "workflow_sub_stages",
                    "organization_id = :org AND workflow_stage_id = :stage",
                    {"org": organization_id, "stage": stage_id}, name)}
            ).scalar_one()))
        updated = conn.execute(text("""
            UPDATE workflow_sub_stages SET name = :name, description = :description,
                responsible_roles = CAST(:roles AS user_role[]),
                estimated_duration_hours = :hours, is_required = :required, can_skip = :skip,
                requires_approval = :approval,
                approval_roles = CAST(:approval_roles AS user_role[]), is_active = :active
            WHERE organization_id = :org AND id = :id AND version = :version RETURNING id"""),
            {**values, "id": sub.id, "version": sub.version}).scalar_one_or_none()
        if updated is None:
            _conflict(conn, "workflow_sub_stages", sub.id, sub.version, "sub-stage")
        return sub.id

    return units.write(ws, write)


def reorder_stages(ws: Workspace, organization_id: uuid.UUID,
                   ordered_ids: Sequence[uuid.UUID]) -> None:
    """Give the stages the order of `ordered_ids` (every stage of the organization, once)."""
    _reorder(ws, "workflow_stages", "stage_order", organization_id, ordered_ids,
             "organization_id = :org")


def reorder_sub_stages(ws: Workspace, organization_id: uuid.UUID, stage_id: uuid.UUID,
                       ordered_ids: Sequence[uuid.UUID]) -> None:
    """Give a stage's sub-stages the order of `ordered_ids` (all of them, once)."""
    _reorder(ws, "workflow_sub_stages", "sub_stage_order", organization_id, ordered_ids,
             "organization_id = :org AND workflow_stage_id = :stage", stage=stage_id)


def delete_stage(ws: Workspace, organization_id: uuid.UUID, stage_id: uuid.UUID,
                 version: int) -> None:
    """Delete a stage no project has ever been in (otherwise: switch it off)."""

    def write(conn: Connection) -> None:
        used = conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM projects WHERE organization_id = :org AND "
            "current_stage_id = :id) OR EXISTS (SELECT 1 FROM project_stage_history WHERE "
            "organization_id = :org AND (to_stage_id = :id OR from_stage_id = :id))"),
            {"org": organization_id, "id": stage_id}).scalar_one()
        if used:
            raise UserFacingError("Projects have been in this stage, so it cannot be deleted; "
                                  "switch it off instead.")
        deleted = conn.execute(text(
            "DELETE FROM workflow_stages WHERE organization_id = :org AND id = :id "
            "AND version = :version RETURNING id"),
            {"org": organization_id, "id": stage_id, "version": version}).scalar_one_or_none()
        if deleted is None:
            _conflict(conn, "workflow_stages", stage_id, version, "stage")

    units.write(ws, write)


# -- helpers ------------------------------------------------------------------------------------


_TABLES = frozenset({"workflow_stages", "workflow_sub_stages"})  # never a caller's text
_ORDERS = frozenset({"stage_order", "sub_stage_order"})


def _reorder(ws: Workspace, table: str, column: str, organization_id: uuid.UUID,
             ordered_ids: Sequence[uuid.UUID], scope: str, **params: Any) -> None:
    assert table in _TABLES and column in _ORDERS

    def write(conn: Connection) -> None:
        current = {r[0] for r in conn.execute(
            text(f"SELECT id FROM {table} WHERE {scope}"), {"org": organization_id, **params})}
        if set(ordered_ids) != current or len(ordered_ids) != len(current):
            raise ConfigConflictError("The list changed meanwhile; it was reloaded. Try again.")
        conn.execute(text("SET CONSTRAINTS ALL DEFERRED"))
        for position, item in enumerate(ordered_ids, start=1):
            conn.execute(text(f"UPDATE {table} SET {column} = :n WHERE organization_id = :org "
                              f"AND id = :id AND {column} <> :n"),
                         {"n": position, "org": organization_id, "id": item})

    units.write(ws, write)


def _conflict(conn: Connection, table: str, item_id: uuid.UUID, version: int, what: str) -> None:
    assert table in _TABLES
    now = conn.execute(text(f"SELECT version FROM {table} WHERE id = :id"),
                       {"id": item_id}).scalar_one_or_none()
    if now is None:
        raise UserFacingError(f"This {what} no longer exists.")
    if now == version:
        raise UserFacingError("Only administrators and management may change the workflow.")
    raise ConfigConflictError(f"Someone changed this {what} meanwhile; it was reloaded. "
                              "Check it and save again.")


def _text(value: str | None, field: str, label: str, max_length: int,
          required: bool = False) -> str | None:
    return clean_text(value, field=field, label=label, max_length=max_length,
                      required=required)


def _required(value: str, field: str, label: str, max_length: int) -> str:
    cleaned = clean_text(value, field=field, label=label, max_length=max_length, required=True)
    assert cleaned is not None  # required: clean_text raised otherwise
    return cleaned


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:50] or "stage"


def _unique_slug(conn: Connection, table: str, scope: str, params: dict[str, Any],
                 name: str) -> str:
    assert table in _TABLES
    base = _slug(name)
    taken = {r[0] for r in conn.execute(
        text(f"SELECT slug FROM {table} WHERE {scope} AND slug LIKE :prefix"),
        {**params, "prefix": base + "%"})}
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}_{n}", n + 1
    return slug


def _roles(values: Sequence[str] | None) -> tuple[Role, ...]:
    return tuple(Role(v) for v in values or ())


