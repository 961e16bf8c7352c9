"""The shop-floor station: what a scanned code opens, and recording what happens there.

Every action is a `StationEvent` with its own client event id, made once when the person
presses the button; sending it (`send`) calls the database's station path (revision 0016:
`fp_private.record_production_event`, `fp_private.issue_material`), which books each id once.
So an event can be sent again safely — after a lost connection, or from the offline outbox
(`services.outbox`) — and lands exactly once.

`send` sorts failures into three kinds: `StationOffline` (the database cannot be reached:
queue the event), `StationConflict` (someone else got there first, e.g. the operation is
already completed: tell the person, do not retry) and any other `UserFacingError` (a refusal
to show, e.g. an unknown badge).

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import driver_error, friendly_error
from factorypulse_desktop.domain import station_codes
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import (
    CONNECTION_LOST_MESSAGE,
    Workspace,
    connection_lost,
)

ACTIONS = ("start", "pause", "complete", "good_quantity", "scrap", "note", "issue")
MAX_NOTE = 500


class StationOffline(UserFacingError):
    """The database cannot be reached: the event was not booked; queue it and replay later."""


class StationConflict(UserFacingError):
    """Someone else changed the operation or order first; sending again will not help."""


@dataclass(frozen=True)
class OperationView:
    order_id: uuid.UUID
    production_number: str
    order_status: str
    order_description: str | None
    order_quantity: Decimal
    completed_quantity: Decimal
    scrapped_quantity: Decimal
    operation_id: uuid.UUID
    sequence: int
    operation_name: str
    operation_status: str
    work_center: str | None
    operations_total: int

    @property
    def code(self) -> str:
        return station_codes.operation_code(self.production_number, self.sequence)


@dataclass(frozen=True)
class ItemView:
    item_id: uuid.UUID
    item_code: str
    item_name: str
    unit: str
    default_location_id: uuid.UUID | None


@dataclass(frozen=True)
class BadgeView:
    badge: str
    person_id: uuid.UUID
    name: str


Scan = OperationView | ItemView | BadgeView


@dataclass(frozen=True)
class StationEvent:
    """One action at the station, as queued offline: ids, numbers and words, no secrets."""
    action: str
    order_id: uuid.UUID
    operation_id: uuid.UUID | None = None
    quantity: Decimal | None = None
    scrap: Decimal | None = None
    item_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    badge: str | None = None
    note: str | None = None
    label: str = ""  # what the person saw, e.g. "Complete OP:MO-261126-3:2", for reports
    client_event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, uuid.UUID | Decimal) else
                    v.isoformat() if isinstance(v, dt.datetime) else v)
                for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StationEvent:
        def ident(key: str) -> uuid.UUID | None:
            return uuid.UUID(data[key]) if data.get(key) else None

        def number(key: str) -> Decimal | None:
            return Decimal(data[key]) if data.get(key) is not None else None

        order = ident("order_id")
        event_id = ident("client_event_id")
        if data.get("action") not in ACTIONS or order is None or event_id is None:
            raise ValueError("not a station event")
        return cls(action=data["action"], order_id=order, operation_id=ident("operation_id"),
                   quantity=number("quantity"), scrap=number("scrap"),
                   item_id=ident("item_id"), location_id=ident("location_id"),
                   badge=data.get("badge"), note=data.get("note"),
                   label=str(data.get("label") or ""), client_event_id=event_id,
                   occurred_at=dt.datetime.fromisoformat(data["occurred_at"]))


@dataclass(frozen=True)
class Booked:
    action: str
    operation_status: str | None
    order_status: str | None
    quantity_issued: Decimal | None
    replayed: bool  # the database had it already (sent twice): nothing was booked again


# -- opening a scan -----------------------------------------------------------------------------
_OPERATION = """
SELECT o.id, o.production_number, o.status, o.description, o.quantity, o.completed_quantity,
       o.scrapped_quantity, x.id, x.sequence, x.name, x.status, w.name,
       (SELECT count(*) FROM production_operations a WHERE a.organization_id = o.organization_id
          AND a.production_order_id = o.id)
FROM production_orders o
JOIN production_operations x ON x.organization_id = o.organization_id
     AND x.production_order_id = o.id AND x.sequence = :seq
LEFT JOIN work_centers w ON w.organization_id = x.organization_id AND w.id = x.work_center_id
WHERE o.organization_id = :org AND o.production_number = :number
"""
# By code first (a unique index); only a miss looks at the printed barcode column.
_ITEM = """
SELECT id, item_code, item_name, unit, default_location_id FROM inventory_items
WHERE organization_id = :org AND item_code = :code
"""
_ITEM_BARCODE = """
SELECT id, item_code, item_name, unit, default_location_id FROM inventory_items
WHERE organization_id = :org AND barcode = :code ORDER BY item_code LIMIT 1
"""
_BADGE = """
SELECT m.employee_id, p.id, p.display_name FROM memberships m JOIN persons p ON p.id = m.person_id
WHERE m.organization_id = :org AND m.employee_id = :badge AND m.status = 'active'
  AND p.status = 'active' AND m.role NOT IN ('customer', 'supplier')
LIMIT 1
"""


def open_by_code(ws: Workspace, org: uuid.UUID, code: str) -> Scan:
    """What a scanned code names: an operation, an item or an operator's badge.

    Raises `UserFacingError` with what to do when nothing matches (and `StationOffline` when
    the database cannot be reached)."""
    try:
        scanned = station_codes.parse(code)
    except station_codes.CodeError as error:
        raise UserFacingError(str(error)) from None
    try:
        return units.read(ws, lambda conn: _open(conn, org, scanned), describe=_describe)
    except UserFacingError as error:
        raise _offline_or(error) from error.__cause__


def _open(conn: Connection, org: uuid.UUID, scanned: station_codes.ScannedCode) -> Scan:
    if scanned.kind == "operation":
        row = conn.execute(text(_OPERATION), {"org": org, "number": scanned.value,
                                              "seq": scanned.sequence}).first()
        if row is None:
            raise UserFacingError(f"No operation {scanned.sequence} on production order "
                                  f"{scanned.value}. Check the label and scan again.")
        return OperationView(*row)
    if scanned.kind in ("item", "bare"):
        code = {"org": org, "code": scanned.value}
        row = conn.execute(text(_ITEM), code).first() or \
            conn.execute(text(_ITEM_BARCODE), code).first()
        if row is not None:
            return ItemView(*row)
    if scanned.kind in ("badge", "bare"):
        row = conn.execute(text(_BADGE), {"org": org, "badge": scanned.value}).first()
        if row is not None:
            return BadgeView(*row)
    what = {"item": "item", "badge": "badge"}.get(scanned.kind, "code")
    raise UserFacingError(f"No {what} {scanned.value} here. Check the label and scan again.")


# -- recording ----------------------------------------------------------------------------------
def send(ws: Workspace, org: uuid.UUID, event: StationEvent) -> Booked:
    """Book `event` once (sending it again returns the first result with replayed=True)."""
    if event.note and len(event.note) > MAX_NOTE:
        raise UserFacingError(f"The note is too long (at most {MAX_NOTE} characters).")
    try:
        return units.write(ws, lambda conn: _send(conn, org, event), describe=_describe)
    except UserFacingError as error:
        raise _offline_or(error) from error.__cause__


def _send(conn: Connection, org: uuid.UUID, event: StationEvent) -> Booked:
    if event.action == "issue":
        row = conn.execute(text(
            "SELECT movement_id, quantity_issued, replayed FROM fp_private.issue_material("
            ":org, :eid, :order, :item, :qty, :location)"),
            {"org": org, "eid": event.client_event_id, "order": event.order_id,
             "item": event.item_id, "qty": event.quantity, "location": event.location_id}).one()
        return Booked("issue", None, None, row.quantity_issued, row.replayed)
    row = conn.execute(text(
        "SELECT event_id, operation_status, order_status, replayed FROM "
        "fp_private.record_production_event(:org, :eid, :order, :operation, :action, :qty, "
        ":scrap, NULL, :badge, :note, :at)"),
        {"org": org, "eid": event.client_event_id, "order": event.order_id,
         "operation": event.operation_id, "action": event.action, "qty": event.quantity,
         "scrap": event.scrap, "badge": event.badge, "note": event.note,
         "at": event.occurred_at}).one()
    return Booked(event.action, row.operation_status, row.order_status, None, row.replayed)


def _describe(error: exc.DBAPIError) -> UserFacingError:
    if connection_lost(error):
        return StationOffline(CONNECTION_LOST_MESSAGE)
    words = friendly_error(error)
    if getattr(driver_error(error), "sqlstate", None) == "FP409":
        return StationConflict(str(words))
    return words


def _offline_or(error: UserFacingError) -> UserFacingError:
    """A lost or unreachable connection, however it surfaced, is `StationOffline`."""
    if isinstance(error, StationOffline | StationConflict):
        return error
    if str(error) == CONNECTION_LOST_MESSAGE or connection_lost(error.__cause__ or error):
        return StationOffline(CONNECTION_LOST_MESSAGE)
    return error
