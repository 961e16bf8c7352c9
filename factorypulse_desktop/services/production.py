"""Production orders: the list, one order's detail, planning one from a project, and its
status (release, hold, resume, cancel); throughput and scrap reports.

The rules are the database's (revision 0016): the status flow, who may change what, and the
shop-floor path that starts and completes operations (`services.station`). Status changes
here carry the version the person saw, so a stale screen gets a conflict, not an overwrite.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import clean_text, shown
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

STATUSES = ("planned", "released", "in_progress", "on_hold", "completed", "cancelled")
OPEN_STATUSES = ("planned", "released", "in_progress", "on_hold")
MAX_QUANTITY = Decimal("99999999999.999")  # numeric(14, 3)
MAX_TEXT = 2_000
MAX_OPERATION_NAME = 200
PAGE = 200


class ProductionConflictError(UserFacingError):
    """The order changed since it was shown (nothing was changed)."""


@dataclass(frozen=True)
class OrderRow:
    id: uuid.UUID
    production_number: str
    project_id: uuid.UUID | None
    project_number: str | None
    description: str | None
    status: str
    priority: str
    quantity: Decimal
    completed_quantity: Decimal
    scrapped_quantity: Decimal
    planned_start: dt.date | None
    planned_end: dt.date | None
    actual_start: dt.datetime | None
    actual_end: dt.datetime | None
    operations_done: int
    operations_total: int
    version: int


@dataclass(frozen=True)
class Operation:
    id: uuid.UUID
    sequence: int
    name: str
    work_center: str | None
    status: str
    planned_minutes: int | None
    minutes_worked: Decimal


@dataclass(frozen=True)
class Material:
    id: uuid.UUID
    item_id: uuid.UUID
    item_code: str
    item_name: str
    unit: str
    quantity_required: Decimal
    quantity_reserved: Decimal
    quantity_issued: Decimal


@dataclass(frozen=True)
class Event:
    id: uuid.UUID
    occurred_at: dt.datetime
    event_type: str
    operation_sequence: int | None
    operation_name: str | None
    quantity: Decimal | None
    minutes: Decimal | None
    operator: str | None
    note: str | None


@dataclass(frozen=True)
class OrderDetail:
    order: OrderRow
    operations: tuple[Operation, ...]
    materials: tuple[Material, ...]
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Choice:
    id: uuid.UUID
    code: str
    name: str


@dataclass(frozen=True)
class NewOperation:
    name: str
    work_center_id: uuid.UUID | None = None
    planned_minutes: int | None = None


@dataclass(frozen=True)
class NewMaterial:
    item_id: uuid.UUID
    quantity_required: Decimal | str | int


@dataclass(frozen=True)
class NewOrder:
    quantity: Decimal | str | int
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    description: str = ""
    operations: Sequence[NewOperation] = field(default_factory=tuple)
    materials: Sequence[NewMaterial] = field(default_factory=tuple)


_ORDER_COLUMNS = """
SELECT o.id, o.production_number, o.project_id, p.project_number, o.description, o.status,
       o.priority::text, o.quantity, o.completed_quantity, o.scrapped_quantity,
       o.planned_start, o.planned_end, o.actual_start, o.actual_end,
       (SELECT count(*) FROM production_operations x WHERE x.organization_id = o.organization_id
          AND x.production_order_id = o.id AND x.status IN ('completed', 'skipped')),
       (SELECT count(*) FROM production_operations x WHERE x.organization_id = o.organization_id
          AND x.production_order_id = o.id),
       o.version
FROM production_orders o
LEFT JOIN projects p ON p.organization_id = o.organization_id AND p.id = o.project_id
"""

_LIST = _ORDER_COLUMNS + """
WHERE o.organization_id = :org
  AND (CAST(:statuses AS text[]) IS NULL OR o.status = ANY (CAST(:statuses AS text[])))
  AND (CAST(:project AS uuid) IS NULL OR o.project_id = CAST(:project AS uuid))
  AND (CAST(:center AS uuid) IS NULL OR EXISTS (
        SELECT 1 FROM production_operations c WHERE c.organization_id = o.organization_id
          AND c.production_order_id = o.id AND c.work_center_id = CAST(:center AS uuid)))
ORDER BY o.updated_at DESC, o.id
LIMIT :limit
"""


def list_orders(ws: Workspace, org: uuid.UUID, *, statuses: Sequence[str] | None = None,
                project: uuid.UUID | None = None, work_center: uuid.UUID | None = None,
                limit: int = PAGE) -> list[OrderRow]:
    """Production orders, most recently changed first, by status, project or work center."""
    unknown = [s for s in statuses or () if s not in STATUSES]
    if unknown:  # an allowlist (T-IN-02): a tampered filter is refused, not "nothing found"
        raise UserFacingError(f"Unknown status: {', '.join(shown(s) for s in unknown)}.")
    params = {"org": org, "statuses": list(statuses) if statuses else None,
              "project": project, "center": work_center, "limit": limit}
    return units.read(ws, lambda conn: [OrderRow(*r) for r in conn.execute(text(_LIST),
                                                                          params)])


def detail(ws: Workspace, org: uuid.UUID, order: uuid.UUID) -> OrderDetail:
    """One order with its operations, materials and shop-floor events (newest first)."""
    return units.read(ws, lambda conn: _detail(conn, org, order))


def _detail(conn: Connection, org: uuid.UUID, order: uuid.UUID) -> OrderDetail:
    ids = {"org": org, "id": order}
    row = conn.execute(text(_ORDER_COLUMNS + " WHERE o.organization_id = :org AND o.id = :id"),
                       ids).first()
    if row is None:
        raise UserFacingError("This production order no longer exists, or you may not see it.")
    operations = conn.execute(text(
        "SELECT x.id, x.sequence, x.name, w.name, x.status, x.planned_minutes, "
        "coalesce((SELECT sum(e.minutes) FROM production_events e WHERE e.organization_id = "
        "x.organization_id AND e.operation_id = x.id AND e.event_type IN ('pause', 'complete')"
        "), 0) FROM production_operations x LEFT JOIN work_centers w ON w.organization_id = "
        "x.organization_id AND w.id = x.work_center_id WHERE x.organization_id = :org AND "
        "x.production_order_id = :id ORDER BY x.sequence"), ids)
    materials = conn.execute(text(
        "SELECT m.id, i.id, i.item_code, i.item_name, i.unit, m.quantity_required, "
        "m.quantity_reserved, m.quantity_issued FROM production_order_materials m "
        "JOIN inventory_items i ON i.organization_id = m.organization_id AND i.id = "
        "m.inventory_item_id WHERE m.organization_id = :org AND m.production_order_id = :id "
        "ORDER BY i.item_code"), ids)
    events = conn.execute(text(
        "SELECT e.id, e.occurred_at, e.event_type, x.sequence, x.name, e.quantity, e.minutes, "
        "pe.display_name, e.note FROM production_events e LEFT JOIN production_operations x "
        "ON x.organization_id = e.organization_id AND x.id = e.operation_id "
        "LEFT JOIN persons pe ON pe.id = e.operator_id "
        "WHERE e.organization_id = :org AND e.production_order_id = :id "
        "ORDER BY e.occurred_at DESC, e.id LIMIT 500"), ids)
    return OrderDetail(OrderRow(*row), tuple(Operation(*r) for r in operations),
                       tuple(Material(*r) for r in materials), tuple(Event(*r) for r in events))


def work_centers(ws: Workspace, org: uuid.UUID) -> list[Choice]:
    """Active work centers, by code."""
    return units.read(ws, lambda conn: [Choice(*r) for r in conn.execute(text(
        "SELECT id, code, name FROM work_centers WHERE organization_id = :org AND is_active "
        "ORDER BY code"), {"org": org})])


def items(ws: Workspace, org: uuid.UUID, search: str = "", limit: int = 200) -> list[Choice]:
    """Active inventory items whose code or name contains `search`, by code."""
    pattern = "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    return units.read(ws, lambda conn: [Choice(*r) for r in conn.execute(text(
        "SELECT id, item_code, item_name FROM inventory_items WHERE organization_id = :org "
        "AND status = 'active' AND (item_code ILIKE :p OR item_name ILIKE :p) "
        "ORDER BY item_code LIMIT :limit"), {"org": org, "p": pattern, "limit": limit})])


def projects(ws: Workspace, org: uuid.UUID, limit: int = 500) -> list[Choice]:
    """Open projects to plan production for (number, title), newest first."""
    return units.read(ws, lambda conn: [Choice(*r) for r in conn.execute(text(
        "SELECT id, project_number, title FROM projects WHERE organization_id = :org "
        "AND status IN ('active', 'on_hold') AND archived_at IS NULL "
        "ORDER BY created_at DESC LIMIT :limit"), {"org": org, "limit": limit})])


def quantity(raw: Decimal | str | int, what: str = "The quantity") -> Decimal:
    """A positive quantity from what was typed (a comma as decimal point is fine)."""
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        raise UserFacingError(f"{what} must be a number, for example 12 or 2.5.") from None
    if not value.is_finite() or value <= 0:
        raise UserFacingError(f"{what} must be more than zero.")
    if value > MAX_QUANTITY or value != value.quantize(Decimal("0.001")):
        raise UserFacingError(f"{what} can have at most 3 decimals and 11 digits before them.")
    return value


def check(new: NewOrder) -> tuple[Decimal, list[NewOperation], list[tuple[uuid.UUID,
                                                                              Decimal]]]:
    amount = quantity(new.quantity)
    if new.planned_start and new.planned_end and new.planned_end < new.planned_start:
        raise UserFacingError("The planned end is before the planned start.")
    clean_description(new.description)  # NUL, broken characters, length: refused in words
    if not new.operations:
        raise UserFacingError("Add at least one operation: the shop floor works through them.")
    operations = []
    for number, given in enumerate(new.operations, start=1):
        name = clean_text(given.name, field="operations", label=f"The name of operation {number}",
                          max_length=MAX_OPERATION_NAME)
        if not name:
            raise UserFacingError(f"Operation {number} needs a name.")
        operations.append(NewOperation(name, given.work_center_id, given.planned_minutes))
    for number, operation in enumerate(operations, start=1):
        if operation.planned_minutes is not None and operation.planned_minutes < 0:
            raise UserFacingError(f"Operation {number}: planned minutes cannot be negative.")
    materials: dict[uuid.UUID, Decimal] = {}
    for material in new.materials:
        required = quantity(material.quantity_required, "A material's required quantity")
        materials[material.item_id] = materials.get(material.item_id, Decimal(0)) + required
    return amount, operations, list(materials.items())


def clean_description(description: str) -> str | None:
    """An order's description as stored (trimmed, NFC), or `FieldError` in words (T-IN-03)."""
    return clean_text(description, field="description", label="The description",
                      max_length=MAX_TEXT)


def create(ws: Workspace, org: uuid.UUID, project: uuid.UUID | None, new: NewOrder, *,
           new_id: uuid.UUID | None = None) -> uuid.UUID:
    """Plan a production order (status planned; the database numbers it); its id.

    The order gets the id ``new_id``, chosen by the caller when the form opens and passed
    again when OK is pressed again: when the connection broke after the database had stored
    it (the answer lost, not the save), it is found by that id and returned, never planned
    twice -- nor numbered twice (T-NET-03). Without it, one is chosen here.
    """
    amount, operations, materials = check(new)
    description = clean_description(new.description)
    order_id: uuid.UUID = new_id or uuid.uuid4()
    me = ws.identity.person_id

    def landed(conn: Connection) -> uuid.UUID | None:
        return order_id if units.created_by(conn, "production_orders", org, order_id, me) else None

    def run(conn: Connection) -> uuid.UUID:
        if landed(conn) is not None:  # planned before; its answer was lost
            return order_id
        conn.execute(text(
            "INSERT INTO production_orders (id, organization_id, production_number, "
            "project_id, description, quantity, planned_start, planned_end) VALUES (:id, "
            ":org, '', :project, :description, :quantity, :start, :end)"),
            {"id": order_id, "org": org, "project": project, "description": description,
             "quantity": amount, "start": new.planned_start, "end": new.planned_end})
        for sequence, operation in enumerate(operations, start=1):
            conn.execute(text(
                "INSERT INTO production_operations (organization_id, production_order_id, "
                "sequence, name, work_center_id, planned_minutes) VALUES (:org, :order, :seq, "
                ":name, :center, :minutes)"),
                {"org": org, "order": order_id, "seq": sequence, "name": operation.name,
                 "center": operation.work_center_id, "minutes": operation.planned_minutes})
        for item, required in materials:
            conn.execute(text(
                "INSERT INTO production_order_materials (organization_id, production_order_id, "
                "inventory_item_id, quantity_required) VALUES (:org, :order, :item, :qty)"),
                {"org": org, "order": order_id, "item": item, "qty": required})
        return order_id

    # A lost connection: the order is found by its client id, or nothing was stored.
    return units.write_once(ws, run, landed)


def _move(ws: Workspace, org: uuid.UUID, order: uuid.UUID, expected_version: int,
          target: str) -> str:
    me = ws.identity.person_id
    # Resuming goes back to running or to released, whichever the order was before its hold.
    landed_as = ("in_progress", "released") if target == "resume" else (target,)

    def landed(conn: Connection) -> str | None:
        """The status, if the connection broke after this move of mine landed: the order
        has it and every version after `expected_version` was made by me."""
        now = conn.execute(text(
            "SELECT status, version FROM production_orders WHERE organization_id = :org "
            "AND id = :id"), {"org": org, "id": order}).first()
        if now is None or now.status not in landed_as or now.version <= expected_version:
            return None
        mine = units.changed_only_by(conn, "production_orders", org, order, expected_version,
                                     me)
        return str(now.status) if mine else None

    def run(conn: Connection) -> str:
        current = conn.execute(text(
            "SELECT status, version, actual_start FROM production_orders "
            "WHERE organization_id = :org AND id = :id FOR UPDATE"),
            {"org": org, "id": order}).first()
        if current is None:
            raise UserFacingError("This production order no longer exists, or you may not "
                                  "see it.")
        if current.version != expected_version:
            raise ProductionConflictError(
                "Someone changed this production order since you opened it; it was reloaded "
                "so you can see what changed.")
        status = target
        if target == "resume":  # back to running if it had started, else to released
            if current.status != "on_hold":
                raise UserFacingError("Only an order on hold can be resumed.")
            status = "in_progress" if current.actual_start else "released"
        changed = conn.execute(text(
            "UPDATE production_orders SET status = :status WHERE organization_id = :org "
            "AND id = :id"), {"status": status, "org": org, "id": order}).rowcount
        if changed != 1:
            raise UserFacingError("You are not allowed to change this production order.")
        return status

    # Only a lost connection asks `landed`: a second click with the old version stays a
    # conflict (the page reloads the order), as the production page has always shown it.
    return units.write_once(ws, run, landed)


def release(ws: Workspace, org: uuid.UUID, order: uuid.UUID, expected_version: int) -> str:
    """Planned → released: the shop floor may start it. The new status."""
    return _move(ws, org, order, expected_version, "released")


def hold(ws: Workspace, org: uuid.UUID, order: uuid.UUID, expected_version: int) -> str:
    """Put a released or running order on hold (the station refuses its scans meanwhile)."""
    return _move(ws, org, order, expected_version, "on_hold")


def resume(ws: Workspace, org: uuid.UUID, order: uuid.UUID, expected_version: int) -> str:
    """Take an order off hold: running again if it had started, else released."""
    return _move(ws, org, order, expected_version, "resume")


def cancel(ws: Workspace, org: uuid.UUID, order: uuid.UUID, expected_version: int) -> str:
    """Cancel an open order (final)."""
    return _move(ws, org, order, expected_version, "cancelled")


# -- reports ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThroughputWeek:
    week_start: dt.date
    orders_completed: int
    good_quantity: Decimal  # good parts reported at the orders' last operations
    scrapped_quantity: Decimal


@dataclass(frozen=True)
class ScrapRow:
    work_center: str
    operation: str
    good_quantity: Decimal
    scrapped_quantity: Decimal

    @property
    def scrap_rate(self) -> Decimal:
        """Scrap as a share of everything made at this step (0 when nothing was made)."""
        total = self.good_quantity + self.scrapped_quantity
        return (self.scrapped_quantity / total) if total else Decimal(0)


_THROUGHPUT = """
WITH weeks AS (
    SELECT generate_series(date_trunc('week', now()) - (CAST(:weeks AS integer) - 1)
                           * interval '1 week', date_trunc('week', now()),
                           interval '1 week')::date AS week_start
), last_ops AS (
    SELECT DISTINCT ON (x.production_order_id) x.id
    FROM production_operations x
    WHERE x.organization_id = :org AND x.status <> 'skipped'
    ORDER BY x.production_order_id, x.sequence DESC
), done AS (
    SELECT date_trunc('week', o.actual_end)::date AS week_start, count(*) AS n
    FROM production_orders o
    WHERE o.organization_id = :org AND o.status = 'completed' AND o.actual_end IS NOT NULL
      AND o.actual_end >= (SELECT min(week_start) FROM weeks)
    GROUP BY 1
), made AS (
    SELECT date_trunc('week', e.occurred_at)::date AS week_start,
           sum(e.quantity) FILTER (WHERE e.event_type IN ('complete', 'good_quantity')
                                   AND e.operation_id IN (SELECT id FROM last_ops)) AS good,
           sum(e.quantity) FILTER (WHERE e.event_type = 'scrap') AS scrap
    FROM production_events e
    WHERE e.organization_id = :org AND e.occurred_at >= (SELECT min(week_start) FROM weeks)
    GROUP BY 1
)
SELECT w.week_start, coalesce(d.n, 0), coalesce(m.good, 0), coalesce(m.scrap, 0)
FROM weeks w LEFT JOIN done d USING (week_start) LEFT JOIN made m USING (week_start)
ORDER BY w.week_start
"""


def throughput(ws: Workspace, org: uuid.UUID, weeks: int = 12) -> list[ThroughputWeek]:
    """Per week (Monday first, oldest first, the current week last): orders completed, good
    parts at the orders' last operations, and scrap."""
    weeks = max(1, min(int(weeks), 104))
    return units.read(ws, lambda conn: [ThroughputWeek(*r) for r in conn.execute(
        text(_THROUGHPUT), {"org": org, "weeks": weeks})])


_SCRAP = """
SELECT coalesce(w.name, 'No work center'), x.name,
       coalesce(sum(e.quantity) FILTER (WHERE e.event_type IN ('complete', 'good_quantity')), 0),
       coalesce(sum(e.quantity) FILTER (WHERE e.event_type = 'scrap'), 0) AS scrap
FROM production_events e
JOIN production_operations x ON x.organization_id = e.organization_id AND x.id = e.operation_id
LEFT JOIN work_centers w ON w.organization_id = x.organization_id AND w.id = x.work_center_id
WHERE e.organization_id = :org
  AND e.occurred_at >= now() - CAST(:days AS integer) * interval '1 day'
GROUP BY 1, 2
HAVING coalesce(sum(e.quantity) FILTER (WHERE e.event_type = 'scrap'), 0) > 0
ORDER BY scrap DESC, 1, 2
"""


def scrap(ws: Workspace, org: uuid.UUID, days: int = 90) -> list[ScrapRow]:
    """Where parts were scrapped in the last `days` days, by work center and operation, the
    worst first."""
    return units.read(ws, lambda conn: [ScrapRow(*r) for r in conn.execute(
        text(_SCRAP), {"org": org, "days": max(1, int(days))})])
