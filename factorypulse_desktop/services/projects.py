"""The projects list and board: rows of one organization, filtered and sorted in SQL.

Lists are read in keyset pages (DESIGN.md §5): a page is "the next `limit` rows after this
sort key", so page 50 costs what page 1 costs and rows added meanwhile never shift a page.
Sort columns come from an allowlist (`SORTS`), never from the caller's text (T-IN-02); every
sort ends with the id so the order is total. Everything runs as the signed-in person: RLS
decides which projects exist for them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import friendly_error
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

PAGE_SIZE = 100
BOARD_CARDS_PER_STAGE = 300


@dataclass(frozen=True)
class ProjectRow:
    id: uuid.UUID
    number: str
    title: str
    customer: str | None
    stage_id: uuid.UUID
    stage: str
    stage_color: str
    stage_order: int
    status: str
    priority: str
    due_date: dt.date | None
    value: Decimal | None
    assignee: str | None
    days_in_stage: int
    stage_limit_days: int | None
    intake_type: str | None
    archived: bool
    version: int

    @property
    def overdue(self) -> bool:
        return (self.due_date is not None and self.due_date < dt.date.today()
                and self.status == "active")

    @property
    def too_long_in_stage(self) -> bool:
        return self.stage_limit_days is not None and self.days_in_stage > self.stage_limit_days


@dataclass(frozen=True)
class ProjectFilter:
    text: str = ""
    stage_ids: tuple[uuid.UUID, ...] = ()
    statuses: tuple[str, ...] = ("active",)
    priorities: tuple[str, ...] = ()
    intake_types: tuple[str, ...] = ()
    customer_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    due_before: dt.date | None = None
    include_archived: bool = False


@dataclass(frozen=True)
class Sort:
    """One of `SORTS`, ascending or descending."""

    key: str = "updated"
    descending: bool = True


@dataclass(frozen=True)
class Page:
    rows: list[ProjectRow]
    next_after: tuple[Any, ...] | None
    """Pass as `after` for the next page; None when this was the last."""


# Sort key → SQL expression; NULLs are folded into a value at the far end so that the keyset
# comparison (a row tuple) stays simple and the order total.
SORTS: dict[str, str] = {
    "updated": "p.updated_at",
    "number": "p.project_number",
    "title": "lower(p.title)",
    "customer": "coalesce(lower(c.company_name), '')",
    "stage": "s.stage_order",
    "priority": "p.priority_level",
    "due": "coalesce(p.estimated_delivery_date, '9999-12-31'::date)",
    "value": "coalesce(p.estimated_value, -1)",
    "days_in_stage": "p.stage_entered_at",
}

_SELECT = """
SELECT p.id, p.project_number, p.title, c.company_name AS customer, p.current_stage_id,
       s.name AS stage, s.color AS stage_color, s.stage_order, p.status::text AS status,
       p.priority_level::text AS priority, p.estimated_delivery_date, p.estimated_value,
       a.display_name AS assignee,
       greatest(0, extract(day FROM now() - p.stage_entered_at))::int AS days_in_stage,
       s.estimated_duration_days, p.intake_type::text AS intake_type,
       p.archived_at IS NOT NULL AS archived, p.version{extra}
FROM projects p
JOIN workflow_stages s ON s.organization_id = p.organization_id AND s.id = p.current_stage_id
LEFT JOIN contacts c ON c.organization_id = p.organization_id AND c.id = p.customer_id
LEFT JOIN persons a ON a.id = p.assigned_to
"""


def _where(flt: ProjectFilter, params: dict[str, Any]) -> str:
    """The filter as SQL with bound parameters (added to `params`)."""
    parts = ["p.organization_id = :org"]
    if not flt.include_archived:
        parts.append("p.archived_at IS NULL")
    if flt.statuses:
        # Compared as the enum, not as text: a cast of the column hides it from the planner's
        # statistics (benchmarks/README.md, projects views: 50 ms → 6-10 ms for most sorts).
        parts.append("p.status = ANY (CAST(:statuses AS project_status[]))")
        params["statuses"] = list(flt.statuses)
    if flt.stage_ids:
        parts.append("p.current_stage_id = ANY (:stage_ids)")
        params["stage_ids"] = list(flt.stage_ids)
    if flt.priorities:
        parts.append("p.priority_level = ANY (CAST(:priorities AS priority_level[]))")
        params["priorities"] = list(flt.priorities)
    if flt.intake_types:
        parts.append("p.intake_type = ANY (CAST(:intake_types AS intake_type[]))")
        params["intake_types"] = list(flt.intake_types)
    if flt.customer_id is not None:
        parts.append("p.customer_id = :customer_id")
        params["customer_id"] = flt.customer_id
    if flt.assignee_id is not None:
        parts.append("(p.assigned_to = :assignee_id OR EXISTS (SELECT 1 FROM "
                     "project_assignments pa WHERE pa.organization_id = p.organization_id "
                     "AND pa.project_id = p.id AND pa.person_id = :assignee_id "
                     "AND pa.is_active))")
        params["assignee_id"] = flt.assignee_id
    if flt.due_before is not None:
        parts.append("p.estimated_delivery_date < :due_before")
        params["due_before"] = flt.due_before
    words = flt.text.replace("\x00", "").split()[:8]
    for i, word in enumerate(words):
        # Each word somewhere in number, title or customer; LIKE wildcards taken literally.
        key = f"w{i}"
        params[key] = "%" + word[:100].replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        parts.append(f"(p.project_number ILIKE :{key} OR p.title ILIKE :{key} "
                     f"OR c.company_name ILIKE :{key})")
    return " AND ".join(parts)


def list_projects(ws: Workspace, organization_id: uuid.UUID, flt: ProjectFilter | None = None,
                  sort: Sort | None = None, *, after: Sequence[Any] | None = None,
                  limit: int = PAGE_SIZE) -> Page:
    """One page of the organization's projects matching `flt`, in `sort` order."""
    flt, sort = flt or ProjectFilter(), sort or Sort()
    expr = SORTS.get(sort.key)
    if expr is None:  # T-IN-02: never an identifier from outside
        raise UserFacingError(f'Projects cannot be sorted by "{sort.key}".')
    params: dict[str, Any] = {"org": organization_id, "limit": max(1, min(limit, 1000)) + 1}
    where = _where(flt, params)
    direction = "DESC" if sort.descending else "ASC"
    if after is not None:
        params["after_key"], params["after_id"] = after
        where += f" AND ({expr}, p.id) {'<' if sort.descending else '>'} (:after_key, :after_id)"
    select = _SELECT.format(extra=f", {expr} AS sort_key")
    sql = text(f"{select} WHERE {where} ORDER BY {expr} {direction}, p.id {direction} "
               "LIMIT :limit")

    def read(conn: Connection) -> Page:
        found = list(conn.execute(sql, params))
        page = found[: params["limit"] - 1]  # one more was asked for, to know if more exist
        more = len(found) > len(page)
        next_after = (page[-1].sort_key, page[-1].id) if more and page else None
        return Page([_row(r) for r in page], next_after)

    return units.read(ws, read)


def get_projects(ws: Workspace, ids: Sequence[uuid.UUID]) -> list[ProjectRow]:
    """The current rows of `ids` that the person may see (for live updates in place)."""
    if not ids:
        return []
    sql = text(f"{_SELECT.format(extra='')} WHERE p.id = ANY (:ids)")
    return units.read(ws, lambda conn: [_row(r) for r in conn.execute(sql, {"ids": list(ids)})])


@dataclass(frozen=True)
class BoardColumn:
    stage_id: uuid.UUID
    stage: str
    color: str
    order: int
    limit_days: int | None
    total: int
    cards: list[ProjectRow] = field(default_factory=list)


def load_board(ws: Workspace, organization_id: uuid.UUID,
               flt: ProjectFilter | None = None) -> list[BoardColumn]:
    """Active stages in order with the matching projects in each, most urgent first
    (overdue, then priority, then longest in stage); at most BOARD_CARDS_PER_STAGE cards a
    column, with the column's true total."""
    flt = flt or ProjectFilter()
    params: dict[str, Any] = {"org": organization_id, "cap": BOARD_CARDS_PER_STAGE}
    where = _where(flt, params)
    cards_sql = text(f"""
SELECT * FROM (
    SELECT q.*, row_number() OVER (PARTITION BY q.current_stage_id ORDER BY
               coalesce(q.estimated_delivery_date < current_date, false) DESC,
               q.priority_rank DESC, q.days_in_stage DESC, q.id) AS rn,
           count(*) OVER (PARTITION BY q.current_stage_id) AS total
    FROM ({_SELECT.format(extra=", p.priority_level AS priority_rank")} WHERE {where}) q
) ranked WHERE rn <= :cap ORDER BY current_stage_id, rn
""")
    stages_sql = text("SELECT id, name, color, stage_order, estimated_duration_days "
                      "FROM workflow_stages WHERE organization_id = :org AND is_active "
                      "ORDER BY stage_order")

    def read(conn: Connection) -> list[BoardColumn]:
        by_stage: dict[uuid.UUID, list[ProjectRow]] = {}
        totals: dict[uuid.UUID, int] = {}
        for r in conn.execute(cards_sql, params):
            by_stage.setdefault(r.current_stage_id, []).append(_row(r))
            totals[r.current_stage_id] = int(r.total)
        return [BoardColumn(s.id, s.name, s.color, s.stage_order, s.estimated_duration_days,
                            totals.get(s.id, 0), by_stage.get(s.id, []))
                for s in conn.execute(stages_sql, {"org": organization_id})]

    return units.read(ws, read)


def _row(r: Any) -> ProjectRow:
    return ProjectRow(
        id=r.id, number=r.project_number, title=r.title, customer=r.customer,
        stage_id=r.current_stage_id, stage=r.stage, stage_color=r.stage_color,
        stage_order=r.stage_order, status=r.status, priority=r.priority,
        due_date=r.estimated_delivery_date, value=r.estimated_value, assignee=r.assignee,
        days_in_stage=r.days_in_stage, stage_limit_days=r.estimated_duration_days,
        intake_type=r.intake_type, archived=r.archived, version=r.version)


@dataclass(frozen=True)
class BulkResult:
    """Which of the chosen projects changed; the others the person may not change (RLS)."""

    changed: tuple[uuid.UUID, ...]
    skipped: tuple[uuid.UUID, ...]


def bulk_assign(ws: Workspace, project_ids: Sequence[uuid.UUID],
                person_id: uuid.UUID | None) -> BulkResult:
    """Make `person_id` (None: nobody) responsible for every chosen project, in one
    transaction. Projects the person may not change are reported, not forced; someone editing
    one of them meanwhile gets a conflict on saving (the version moved), never a silent loss."""
    return _bulk(ws, project_ids, "UPDATE projects SET assigned_to = :person "
                                  "WHERE id = ANY (:ids) RETURNING id", person=person_id)


def bulk_archive(ws: Workspace, project_ids: Sequence[uuid.UUID]) -> BulkResult:
    """Archive every chosen project that is not archived yet (they leave lists and board)."""
    return _bulk(ws, project_ids, "UPDATE projects SET archived_at = now() "
                                  "WHERE id = ANY (:ids) AND archived_at IS NULL RETURNING id")


def _bulk(ws: Workspace, project_ids: Sequence[uuid.UUID], sql: str,
          **params: Any) -> BulkResult:
    ids = list(dict.fromkeys(project_ids))
    if len(ids) > 5000:
        raise UserFacingError("Choose at most 5,000 projects at a time.")
    try:
        with ws.transaction() as conn:
            changed = {r[0] for r in conn.execute(text(sql), {"ids": ids, **params})}
    except exc.DBAPIError as error:
        raise friendly_error(error) from error
    return BulkResult(tuple(i for i in ids if i in changed),
                      tuple(i for i in ids if i not in changed))
