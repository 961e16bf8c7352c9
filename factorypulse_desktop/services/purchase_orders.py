"""Purchase orders: list, detail, drafts with lines, the status moves, receiving, reports.

The rules are the database's (revision 0015): which status may follow which, that only the
approval (or no threshold at all) approves an order, that lines are frozen once the order
left draft, that a receipt never exceeds what was ordered and books stock once. This module
checks what people type, reads, and calls those rules; every write compares the version the
person saw (compare-and-set), so a change made meanwhile by someone else is reported, never
overwritten.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import driver_error, friendly_error
from factorypulse_desktop.domain.currency import is_currency
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.numbers import NumberProblem, parse_decimal
from factorypulse_desktop.domain.text import FieldError, clean_text, shown
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

PAGE = 100
STATUSES = ("draft", "pending_approval", "approved", "sent", "acknowledged",
            "partially_received", "received", "closed", "cancelled")
OPEN_STATUSES = ("pending_approval", "approved", "sent", "acknowledged", "partially_received")
PRIORITIES = ("low", "medium", "high", "critical")
MAX_LINES = 500
MAX_NAME = 300
MAX_TEXT = 4_000
MAX_QUANTITY = Decimal("99999999999.999")  # numeric(14, 3)
MAX_PRICE = Decimal("99999999999.9999")  # numeric(15, 4)


class PurchaseOrderConflictError(UserFacingError):
    """Someone else changed or moved the order first; nothing was changed."""


# -- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderRow:
    id: uuid.UUID
    po_number: str
    supplier_id: uuid.UUID
    supplier_name: str
    project_id: uuid.UUID | None
    project_number: str | None
    status: str
    currency: str
    total_amount: Decimal
    due_date: dt.date | None
    received_percent: Decimal  # of the ordered quantity, all lines together
    updated_at: dt.datetime
    version: int

    @property
    def cursor(self) -> tuple[dt.datetime, uuid.UUID]:
        return self.updated_at, self.id


@dataclass(frozen=True)
class OrderLine:
    id: uuid.UUID
    line_no: int
    inventory_item_id: uuid.UUID | None
    item_code: str | None
    item_name: str
    description: str | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    total_price: Decimal
    quantity_received: Decimal
    default_location_id: uuid.UUID | None

    @property
    def outstanding(self) -> Decimal:
        return self.quantity - self.quantity_received


@dataclass(frozen=True)
class Receipt:
    at: dt.datetime
    by: str | None
    lines: tuple[tuple[int, str, Decimal, str], ...]  # line no, item, quantity, unit


@dataclass(frozen=True)
class OrderDetail:
    order: OrderRow
    priority: str
    order_date: dt.date | None
    sent_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    closed_at: dt.datetime | None
    notes: str | None
    created_by: str | None
    lines: tuple[OrderLine, ...]
    receipts: tuple[Receipt, ...]


_ORDERS = """
SELECT o.id, o.po_number, o.supplier_id, s.company_name, o.project_id, p.project_number,
       o.status, o.currency, o.total_amount, o.due_date,
       coalesce((SELECT round(100 * sum(l.quantity_received) / nullif(sum(l.quantity), 0), 1)
                 FROM purchase_order_lines l WHERE l.organization_id = o.organization_id
                   AND l.purchase_order_id = o.id), 0) AS received_percent,
       o.updated_at, o.version
FROM purchase_orders o
JOIN contacts s ON s.organization_id = o.organization_id AND s.id = o.supplier_id
LEFT JOIN projects p ON p.organization_id = o.organization_id AND p.id = o.project_id
WHERE o.organization_id = :org
  AND (CAST(:status AS text[]) IS NULL OR o.status = ANY (CAST(:status AS text[])))
  AND (CAST(:supplier AS uuid) IS NULL OR o.supplier_id = :supplier)
  AND (CAST(:project AS uuid) IS NULL OR o.project_id = :project)
  AND (CAST(:only AS uuid) IS NULL OR o.id = :only)
  AND (CAST(:after_at AS timestamptz) IS NULL
       OR (o.updated_at, o.id) < (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid)))
ORDER BY o.updated_at DESC, o.id DESC
LIMIT :limit
"""


def _order_rows(conn: Connection, org: uuid.UUID, *, statuses: Sequence[str] | None = None,
                supplier_id: uuid.UUID | None = None, project_id: uuid.UUID | None = None,
                only: uuid.UUID | None = None,
                after: tuple[dt.datetime, uuid.UUID] | None = None,
                limit: int = PAGE) -> list[OrderRow]:
    params = {"org": org, "status": list(statuses) if statuses else None,
              "supplier": supplier_id, "project": project_id, "only": only,
              "after_at": after[0] if after else None, "after_id": after[1] if after else None,
              "limit": limit}
    return [OrderRow(*r) for r in conn.execute(text(_ORDERS), params)]


def list_orders(ws: Workspace, org: uuid.UUID, *, statuses: Sequence[str] | None = None,
                supplier_id: uuid.UUID | None = None, project_id: uuid.UUID | None = None,
                after: tuple[dt.datetime, uuid.UUID] | None = None,
                limit: int = PAGE) -> list[OrderRow]:
    """Orders, most recently changed first; the next page starts `after` the last cursor."""
    unknown = [s for s in statuses or () if s not in STATUSES]
    if unknown:
        raise UserFacingError(f"Unknown status: {', '.join(shown(s) for s in unknown)}.")
    return units.read(ws, lambda conn: _order_rows(
        conn, org, statuses=statuses, supplier_id=supplier_id, project_id=project_id,
        after=after, limit=limit))


def orders_by_id(ws: Workspace, org: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[OrderRow]:
    """The rows of these orders as they are now (for live updates); gone ones are left out."""
    def run(conn: Connection) -> list[OrderRow]:
        rows: list[OrderRow] = []
        for one in ids:
            rows.extend(_order_rows(conn, org, only=one, limit=1))
        return rows
    return units.read(ws, run)


def detail(ws: Workspace, org: uuid.UUID, po: uuid.UUID) -> OrderDetail:
    """The order with its lines and the receipts booked on it."""
    def run(conn: Connection) -> OrderDetail:
        rows = _order_rows(conn, org, only=po, limit=1)
        if not rows:
            raise UserFacingError("This purchase order no longer exists, or you may not see it.")
        head = conn.execute(text(
            "SELECT o.priority::text, o.order_date, o.sent_at, o.acknowledged_at, o.closed_at, "
            "o.notes, pe.display_name FROM purchase_orders o LEFT JOIN persons pe ON "
            "pe.id = o.created_by WHERE o.organization_id = :org AND o.id = :po"),
            {"org": org, "po": po}).one()
        lines = tuple(OrderLine(*r) for r in conn.execute(text(
            "SELECT l.id, l.line_no, l.inventory_item_id, i.item_code, l.item_name, "
            "l.description, l.quantity, l.unit, l.unit_price, l.total_price, "
            "l.quantity_received, i.default_location_id FROM purchase_order_lines l "
            "LEFT JOIN inventory_items i ON i.organization_id = l.organization_id "
            "AND i.id = l.inventory_item_id WHERE l.organization_id = :org "
            "AND l.purchase_order_id = :po ORDER BY l.line_no"), {"org": org, "po": po}))
        receipts = tuple(_receipt(r) for r in conn.execute(text(
            "SELECT a.occurred_at, pe.display_name, a.metadata FROM activity_log a "
            "LEFT JOIN persons pe ON pe.id = a.actor_id WHERE a.organization_id = :org "
            "AND a.entity_type = 'purchase_order' AND a.entity_id = :po "
            "AND a.action = 'received' ORDER BY a.occurred_at, a.id"),
            {"org": org, "po": po}))
        return OrderDetail(order=rows[0], priority=head[0], order_date=head[1],
                           sent_at=head[2], acknowledged_at=head[3], closed_at=head[4],
                           notes=head[5], created_by=head[6], lines=lines, receipts=receipts)
    return units.read(ws, run)


def _receipt(row: Any) -> Receipt:
    booked = (row.metadata or {}).get("lines", [])
    return Receipt(row.occurred_at, row.display_name, tuple(
        (int(b["line_no"]), str(b["item_name"]), Decimal(str(b["quantity"])), str(b["unit"]))
        for b in booked))


@dataclass(frozen=True)
class Choice:
    id: uuid.UUID
    label: str


def suppliers(ws: Workspace, org: uuid.UUID) -> list[Choice]:
    """Active supplier contacts, by name."""
    return units.read(ws, lambda conn: [Choice(*r) for r in conn.execute(text(
        "SELECT id, company_name FROM contacts WHERE organization_id = :org AND type = "
        "'supplier' AND is_active ORDER BY company_name, id"), {"org": org})])


def locations(ws: Workspace, org: uuid.UUID) -> list[Choice]:
    """Active stock locations, by code."""
    return units.read(ws, lambda conn: [Choice(*r) for r in conn.execute(text(
        "SELECT id, code || ' — ' || name FROM inventory_locations WHERE organization_id = :org "
        "AND is_active ORDER BY code"), {"org": org})])


@dataclass(frozen=True)
class ItemChoice:
    id: uuid.UUID
    code: str
    name: str
    unit: str
    unit_cost: Decimal | None


def find_items(ws: Workspace, org: uuid.UUID, words: str, limit: int = 20) -> list[ItemChoice]:
    """Active items whose code or name contains `words` (for a line's item)."""
    pattern = "%" + words.strip().replace("\\", "\\\\").replace("%", "\\%").replace(
        "_", "\\_") + "%"
    return units.read(ws, lambda conn: [ItemChoice(*r) for r in conn.execute(text(
        "SELECT id, item_code, item_name, unit, unit_cost FROM inventory_items "
        "WHERE organization_id = :org AND status = 'active' AND (item_code ILIKE :p "
        "OR item_name ILIKE :p) ORDER BY item_code LIMIT :limit"),
        {"org": org, "p": pattern, "limit": limit})])


# -- drafts ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DraftLine:
    """A line as typed: quantity and price as the person wrote them."""

    item_name: str
    quantity: str | Decimal
    unit_price: str | Decimal
    unit: str = "pcs"
    inventory_item_id: uuid.UUID | None = None
    description: str | None = None
    item_code: str | None = None  # a stock item by its code (found when the draft is saved)


@dataclass(frozen=True)
class OrderDraft:
    po_number: str
    supplier_id: uuid.UUID | None
    project_id: uuid.UUID | None = None
    currency: str = "USD"
    due_date: dt.date | None = None
    priority: str = "medium"
    notes: str | None = None
    lines: tuple[DraftLine, ...] = field(default_factory=tuple)


def parse_number(value: str | Decimal, *, field_name: str, label: str, maximum: Decimal,
                 places: int, allow_zero: bool) -> Decimal:
    """A quantity or price typed by a person ("1,5" and "1 000" are understood; "12,500" is
    refused as ambiguous: `domain.numbers`)."""
    if isinstance(value, Decimal):
        number = value
    else:
        try:
            typed = parse_decimal(str(value), decimals=places)  # domain.numbers: one rule
        except NumberProblem as problem:
            raise FieldError(field_name, f"{label}: {problem}") from None
        if typed is None:
            raise FieldError(field_name, f"{label} must be a number, e.g. 12.5.")
        number = typed
    if not number.is_finite():
        raise FieldError(field_name, f"{label} must be a number, e.g. 12.5.")
    if number < 0 or (number == 0 and not allow_zero):
        raise FieldError(field_name, f"{label} must be more than zero." if not allow_zero
                         else f"{label} cannot be negative.")
    if number > maximum:
        raise FieldError(field_name, f"{label} is too large.")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise FieldError(field_name, f"{label} has more than {places} decimal places.")
    return number


def check_draft(draft: OrderDraft) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and lines ready to store, or a FieldError saying what to fix."""
    # Left empty, the database gives the next number of the PO series (revision 0014).
    number = clean_text(draft.po_number, field="po_number", label="PO number", max_length=60)
    if draft.supplier_id is None:
        raise FieldError("supplier", "Choose the supplier.")
    currency = (draft.currency or "").strip().upper()
    if not is_currency(currency):  # three ASCII letters of ISO 4217, not any three letters
        raise FieldError("currency",
                         "Give the currency as its three-letter code, e.g. USD or EUR.")
    if draft.priority not in PRIORITIES:
        raise FieldError("priority", "Choose a priority from the list.")
    notes = clean_text(draft.notes, field="notes", label="Notes", max_length=MAX_TEXT)
    if len(draft.lines) > MAX_LINES:
        raise FieldError("lines", f"An order has at most {MAX_LINES} lines.")
    lines = []
    for n, line in enumerate(draft.lines, start=1):
        where = f"Line {n}"
        code = clean_text(line.item_code, field="lines", label=f"{where}: the item code",
                          max_length=100)
        name = clean_text(line.item_name, field="lines", label=f"{where}: the item",
                          max_length=MAX_NAME, required=code is None)
        lines.append({
            "line_no": n, "item_name": name, "inventory_item_id": line.inventory_item_id,
            "item_code": code,
            "description": clean_text(line.description, field="lines",
                                      label=f"{where}: the description", max_length=MAX_TEXT),
            "quantity": parse_number(line.quantity, field_name="lines",
                                     label=f"{where}: the quantity", maximum=MAX_QUANTITY,
                                     places=3, allow_zero=False),
            "unit": clean_text(line.unit, field="lines", label=f"{where}: the unit",
                               max_length=20) or "pcs",
            "unit_price": parse_number(line.unit_price, field_name="lines",
                                       label=f"{where}: the unit price", maximum=MAX_PRICE,
                                       places=4, allow_zero=True),
        })
    head = {"po_number": number, "supplier": draft.supplier_id, "project": draft.project_id,
            "currency": currency, "due": draft.due_date, "priority": draft.priority,
            "notes": notes}
    return head, lines


def _insert_lines(conn: Connection, org: uuid.UUID, po: uuid.UUID,
                  lines: list[dict[str, Any]]) -> None:
    for line in lines:
        line = dict(line)
        code = line.pop("item_code")
        if line["inventory_item_id"] is None and code is not None:
            item = conn.execute(text(
                "SELECT id, item_name, unit FROM inventory_items WHERE organization_id = :org "
                "AND item_code = :code"), {"org": org, "code": code}).first()
            if item is None:
                raise FieldError("lines", f"Line {line['line_no']}: no stock item has the code "
                                          f"{code!r}. Check the code, or leave it empty for "
                                          "a line that is not stocked.")
            line["inventory_item_id"] = item.id
            line["item_name"] = line["item_name"] or item.item_name
            if line["unit"] == "pcs":
                line["unit"] = item.unit
        conn.execute(text(
            "INSERT INTO purchase_order_lines (organization_id, purchase_order_id, line_no, "
            "inventory_item_id, item_name, description, quantity, unit, unit_price) VALUES "
            "(:org, :po, :line_no, :inventory_item_id, :item_name, :description, :quantity, "
            ":unit, :unit_price)"), {"org": org, "po": po, **line})


def create_draft(ws: Workspace, org: uuid.UUID, draft: OrderDraft, *,
                 new_id: uuid.UUID | None = None) -> uuid.UUID:
    """A new draft order with its lines, in one transaction; its id.

    The order gets the id ``new_id``, chosen by the caller when the form opens and passed
    again when Save is pressed again: when the connection broke after the database had stored
    it (the answer lost, not the save), it is found by that id and returned, never stored
    twice -- nor a second PO number taken (T-NET-03). Without it, one is chosen here.
    """
    head, lines = check_draft(draft)
    po_id: uuid.UUID = new_id or uuid.uuid4()
    me = ws.identity.person_id

    def landed(conn: Connection) -> uuid.UUID | None:
        return po_id if units.created_by(conn, "purchase_orders", org, po_id, me) else None

    def run(conn: Connection) -> uuid.UUID:
        if landed(conn) is not None:  # stored before; its answer was lost
            return po_id
        conn.execute(text(
            "INSERT INTO purchase_orders (id, organization_id, po_number, supplier_id, "
            "project_id, currency, due_date, priority, notes) VALUES (:id, :org, :po_number, "
            ":supplier, :project, :currency, :due, CAST(:priority AS priority_level), :notes)"),
            {"id": po_id, "org": org, **head})
        _insert_lines(conn, org, po_id, lines)
        return po_id

    # A lost connection: the draft is found by its client id, or nothing was stored.
    return units.write_once(ws, run, landed)


def save_draft(ws: Workspace, org: uuid.UUID, po: uuid.UUID, expected_version: int,
               draft: OrderDraft) -> int:
    """Replace a draft's header and lines if nobody changed it since; its new version.

    When the connection is lost on the way, or Save is pressed again with the old version
    after a save whose answer was lost, a save of mine that landed is returned instead of
    "nothing was stored" or a conflict with oneself (T-NET-03): see `_my_draft_landed` for
    what it compares.
    """
    head, lines = check_draft(draft)
    me = ws.identity.person_id

    def landed(conn: Connection) -> int | None:
        return _my_draft_landed(conn, org, po, expected_version, head, lines, me)

    def run(conn: Connection) -> int:
        changed = conn.execute(text(
            "UPDATE purchase_orders SET po_number = coalesce(:po_number, po_number), "
            "supplier_id = :supplier, "
            "project_id = :project, currency = :currency, due_date = :due, "
            "priority = CAST(:priority AS priority_level), notes = :notes "
            "WHERE organization_id = :org AND id = :id AND version = :version "
            "AND status = 'draft' RETURNING id"),
            {"org": org, "id": po, "version": expected_version, **head}).first()
        if changed is None:
            mine = landed(conn)  # pressed again after a save whose answer was lost
            if mine is not None:
                return mine
            raise _why_not(conn, org, po, "changed")
        conn.execute(text("DELETE FROM purchase_order_lines WHERE organization_id = :org "
                          "AND purchase_order_id = :po"), {"org": org, "po": po})
        _insert_lines(conn, org, po, lines)
        return int(conn.execute(text(
            "SELECT version FROM purchase_orders WHERE organization_id = :org AND id = :po"),
            {"org": org, "po": po}).scalar_one())
    return units.write_once(ws, run, landed, describe=_refusal)


def _my_draft_landed(conn: Connection, org: uuid.UUID, po: uuid.UUID, expected_version: int,
                     head: dict[str, Any], lines: list[dict[str, Any]],
                     me: uuid.UUID) -> int | None:
    """The draft's version if a save of mine after `expected_version` stored this header and
    these lines; else None.

    Compared: the header (the PO number when one was typed, supplier, project, currency, due
    date, priority, notes; still a draft) and every line in order (number, stock item -- by
    id, or by code when typed so --, name, description, quantity, unit, unit price; the name
    and unit a line takes from its stock item when left empty / "pcs" are accepted as
    stored). Saving the lines moves the version once per change of the total, so "mine" means
    every version after `expected_version` was made by me.
    """
    row = conn.execute(text(
        "SELECT po_number, supplier_id, project_id, currency, due_date, priority::text AS "
        "priority, notes, status, version FROM purchase_orders WHERE organization_id = :org "
        "AND id = :po"), {"org": org, "po": po}).one_or_none()
    if row is None or row.status != "draft" or row.version <= expected_version:
        return None
    if head["po_number"] is not None and row.po_number != head["po_number"]:
        return None
    if (row.supplier_id, row.project_id, row.currency, row.due_date, row.priority,
            row.notes) != (head["supplier"], head["project"], head["currency"], head["due"],
                           head["priority"], head["notes"]):
        return None
    stored = conn.execute(text(
        "SELECT l.line_no, l.inventory_item_id, i.item_code, l.item_name, l.description, "
        "l.quantity, l.unit, l.unit_price FROM purchase_order_lines l "
        "LEFT JOIN inventory_items i ON i.organization_id = l.organization_id "
        "AND i.id = l.inventory_item_id WHERE l.organization_id = :org "
        "AND l.purchase_order_id = :po ORDER BY l.line_no"), {"org": org, "po": po}).all()
    if len(stored) != len(lines) or not all(
            _line_stored(s, typed) for s, typed in zip(stored, lines, strict=True)):
        return None
    mine = units.changed_only_by(conn, "purchase_orders", org, po, expected_version, me)
    return int(row.version) if mine else None


def _line_stored(stored: Any, typed: dict[str, Any]) -> bool:
    """Whether `stored` is what `_insert_lines` makes of the checked line `typed`."""
    by_code = typed["inventory_item_id"] is None and typed["item_code"] is not None
    if by_code:
        if stored.inventory_item_id is None or stored.item_code != typed["item_code"]:
            return False
    elif stored.inventory_item_id != typed["inventory_item_id"]:
        return False
    return (stored.line_no == typed["line_no"]
            and (stored.item_name == typed["item_name"]
                 or (by_code and typed["item_name"] is None))
            and stored.description == typed["description"]
            and stored.quantity == typed["quantity"]
            and stored.unit_price == typed["unit_price"]
            and (stored.unit == typed["unit"] or (by_code and typed["unit"] == "pcs")))


def delete_draft(ws: Workspace, org: uuid.UUID, po: uuid.UUID, expected_version: int) -> None:
    """Delete a draft nobody changed since (other orders are cancelled, never deleted)."""
    def run(conn: Connection) -> None:
        gone = conn.execute(text(
            "DELETE FROM purchase_orders WHERE organization_id = :org AND id = :id "
            "AND version = :version RETURNING id"),
            {"org": org, "id": po, "version": expected_version}).first()
        if gone is None:
            raise _why_not(conn, org, po, "changed")
    units.write(ws, run, describe=_refusal)


# -- status moves ------------------------------------------------------------------------------
def _why_not(conn: Connection, org: uuid.UUID, po: uuid.UUID, what: str) -> UserFacingError:
    """Why a compare-and-set touched no row: gone, not allowed, or changed meanwhile."""
    row = conn.execute(text(
        "SELECT o.po_number, o.status, pe.display_name, o.updated_at FROM purchase_orders o "
        "LEFT JOIN change_log c ON c.organization_id = o.organization_id AND c.entity_id = o.id "
        "AND c.id = (SELECT max(id) FROM change_log x WHERE x.organization_id = o.organization_id "
        "AND x.entity_id = o.id) LEFT JOIN persons pe ON pe.id = c.actor_id "
        "WHERE o.organization_id = :org AND o.id = :po"), {"org": org, "po": po}).first()
    if row is None:
        return UserFacingError("This purchase order no longer exists, or you may not see it.")
    who = f" by {row.display_name}" if row.display_name else ""
    return PurchaseOrderConflictError(
        f"{row.po_number} was {what}{who} after you opened it; it is now "
        f"{row.status.replace('_', ' ')}. Nothing was changed: reload to see it as it is.")


def _refusal(error: exc.DBAPIError) -> UserFacingError:
    words = friendly_error(error)
    if getattr(driver_error(error), "sqlstate", None) == "FP409":
        return PurchaseOrderConflictError(str(words))
    return words


def _move(ws: Workspace, org: uuid.UUID, po: uuid.UUID, expected_version: int,
          to: str) -> None:
    def run(conn: Connection) -> None:
        moved = conn.execute(text(
            "UPDATE purchase_orders SET status = :to WHERE organization_id = :org AND id = :id "
            "AND version = :version RETURNING id"),
            {"org": org, "id": po, "version": expected_version, "to": to}).first()
        if moved is None:
            raise _why_not(conn, org, po, "changed")
    units.write(ws, run, describe=_refusal)


def submit(ws: Workspace, org: uuid.UUID, po: uuid.UUID, expected_version: int) -> str:
    """Ask for approval: "approved" at once below every threshold, else "pending_approval"."""
    return units.write(ws, lambda conn: str(conn.execute(text(
        "SELECT fp_private.submit_purchase_order(:org, :po, :version)"),
        {"org": org, "po": po, "version": expected_version}).scalar_one()), describe=_refusal)


def mark_sent(ws: Workspace, org: uuid.UUID, po: uuid.UUID, expected_version: int) -> None:
    _move(ws, org, po, expected_version, "sent")


def cancel(ws: Workspace, org: uuid.UUID, po: uuid.UUID, expected_version: int) -> None:
    _move(ws, org, po, expected_version, "cancelled")


def close(ws: Workspace, org: uuid.UUID, po: uuid.UUID, expected_version: int) -> None:
    _move(ws, org, po, expected_version, "closed")


def acknowledge(ws: Workspace, org: uuid.UUID, po: uuid.UUID, expected_version: int) -> None:
    """The supplier confirmed the order (a supplier on the portal, or procurement for them)."""
    units.write(ws, lambda conn: conn.execute(text(
        "SELECT fp_private.acknowledge_purchase_order(:org, :po, :version)"),
        {"org": org, "po": po, "version": expected_version}), describe=_refusal)


@dataclass(frozen=True)
class ReceiptEntry:
    line_id: uuid.UUID
    quantity: str | Decimal
    location_id: uuid.UUID | None = None


def receive(ws: Workspace, org: uuid.UUID, po: uuid.UUID, entries: Sequence[ReceiptEntry],
            client_id: uuid.UUID) -> str:
    """Book what arrived; the order's new status. Keep `client_id` across retries of the same
    receipt: the database books it once however often it is sent."""
    booked = []
    for n, entry in enumerate(entries, start=1):
        quantity = parse_number(entry.quantity, field_name="quantity",
                                label=f"Received quantity {n}", maximum=MAX_QUANTITY,
                                places=3, allow_zero=True)
        if quantity > 0:
            booked.append({"line": str(entry.line_id), "quantity": str(quantity),
                           "location": str(entry.location_id) if entry.location_id else None})
    if not booked:
        raise FieldError("quantity", "Enter the quantity that arrived for at least one line.")
    return units.write(ws, lambda conn: str(conn.execute(text(
        "SELECT fp_private.receive_purchase_order(:org, :po, CAST(:lines AS jsonb), :client)"),
        {"org": org, "po": po, "lines": json.dumps(booked), "client": client_id}).scalar_one()),
        describe=_refusal)


# -- the document for the supplier ---------------------------------------------------------------
@dataclass(frozen=True)
class PrintableOrder:
    """Everything the supplier's copy shows, as plain values (the PDF is made by the UI)."""

    organization: str
    po_number: str
    order_date: dt.date | None
    due_date: dt.date | None
    currency: str
    supplier: str
    supplier_address: tuple[str, ...]
    status: str
    notes: str | None
    lines: tuple[OrderLine, ...]
    total: Decimal


def printable(ws: Workspace, org: uuid.UUID, po: uuid.UUID) -> PrintableOrder:
    def run(conn: Connection) -> PrintableOrder:
        row = conn.execute(text(
            "SELECT g.name, o.po_number, o.order_date, o.due_date, o.currency, s.company_name, "
            "s.contact_name, s.address, s.postal_code, s.city, s.country, o.status, o.notes, "
            "o.total_amount FROM purchase_orders o JOIN organizations g ON "
            "g.id = o.organization_id JOIN contacts s ON s.organization_id = o.organization_id "
            "AND s.id = o.supplier_id WHERE o.organization_id = :org AND o.id = :po"),
            {"org": org, "po": po}).first()
        if row is None:
            raise UserFacingError("This purchase order no longer exists, or you may not see it.")
        lines = tuple(OrderLine(*r) for r in conn.execute(text(
            "SELECT l.id, l.line_no, l.inventory_item_id, i.item_code, l.item_name, "
            "l.description, l.quantity, l.unit, l.unit_price, l.total_price, "
            "l.quantity_received, i.default_location_id FROM purchase_order_lines l "
            "LEFT JOIN inventory_items i ON i.organization_id = l.organization_id "
            "AND i.id = l.inventory_item_id WHERE l.organization_id = :org "
            "AND l.purchase_order_id = :po ORDER BY l.line_no"), {"org": org, "po": po}))
        city = " ".join(p for p in (row.postal_code, row.city) if p)
        address = tuple(p for p in (row.contact_name, row.address, city, row.country) if p)
        return PrintableOrder(row.name, row.po_number, row.order_date, row.due_date,
                              row.currency, row.company_name, address, row.status, row.notes,
                              lines, row.total_amount)
    return units.read(ws, run)


# -- reports ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenOrder:
    id: uuid.UUID
    po_number: str
    supplier_name: str
    status: str
    currency: str
    total_amount: Decimal
    outstanding_amount: Decimal  # what is still to arrive, at the order's prices
    due_date: dt.date | None
    days_late: int  # 0 when not yet due


def open_orders(ws: Workspace, org: uuid.UUID) -> list[OpenOrder]:
    """Orders approved or on their way but not fully received, the earliest due first (so
    the most overdue lead)."""
    return units.read(ws, lambda conn: [OpenOrder(*r) for r in conn.execute(text(
        "SELECT o.id, o.po_number, s.company_name, o.status, o.currency, o.total_amount, "
        "coalesce((SELECT sum(round((l.quantity - l.quantity_received) * l.unit_price, 2)) "
        "FROM purchase_order_lines l WHERE l.organization_id = o.organization_id "
        "AND l.purchase_order_id = o.id), 0), o.due_date, "
        "greatest(coalesce(current_date - o.due_date, 0), 0) "
        "FROM purchase_orders o JOIN contacts s ON s.organization_id = o.organization_id "
        "AND s.id = o.supplier_id WHERE o.organization_id = :org "
        "AND o.status = ANY (CAST(:open AS text[])) "
        "ORDER BY o.due_date NULLS LAST, o.po_number"),
        {"org": org, "open": list(OPEN_STATUSES)})])


@dataclass(frozen=True)
class SupplierPerformance:
    supplier_id: uuid.UUID
    supplier_name: str
    orders_received: int  # fully received orders with a due date
    on_time: int  # of those, received by the due date
    rfqs_sent: int
    rfqs_quoted: int

    @property
    def on_time_rate(self) -> Decimal | None:
        if not self.orders_received:
            return None
        return (Decimal(100) * self.on_time / self.orders_received).quantize(Decimal("0.1"))

    @property
    def response_rate(self) -> Decimal | None:
        if not self.rfqs_sent:
            return None
        return (Decimal(100) * self.rfqs_quoted / self.rfqs_sent).quantize(Decimal("0.1"))


# When an order was fully received: its last receipt (activity), else its last stock receipt,
# else when it was closed (orders from before receiving was recorded).
_PERFORMANCE = """
WITH done AS (
    SELECT o.supplier_id, o.due_date,
           coalesce((SELECT max(a.occurred_at) FROM activity_log a
                     WHERE a.organization_id = o.organization_id
                       AND a.entity_type = 'purchase_order' AND a.entity_id = o.id
                       AND a.action = 'received'),
                    (SELECT max(m.moved_at) FROM stock_movements m
                     JOIN purchase_order_lines l ON l.organization_id = m.organization_id
                      AND l.id = m.purchase_order_line_id
                     WHERE m.organization_id = o.organization_id AND l.purchase_order_id = o.id
                       AND m.movement_type = 'receipt'),
                    o.closed_at) AS received_at
    FROM purchase_orders o
    WHERE o.organization_id = :org AND o.status IN ('received', 'closed')
      AND o.due_date IS NOT NULL
), deliveries AS (
    SELECT supplier_id, count(*) FILTER (WHERE received_at IS NOT NULL) AS received,
           count(*) FILTER (WHERE received_at::date <= due_date) AS on_time
    FROM done GROUP BY supplier_id
), rfqs AS (
    SELECT r.supplier_id, count(*) AS sent,
           count(*) FILTER (WHERE r.status = 'quoted' OR EXISTS (
               SELECT 1 FROM supplier_quotes q WHERE q.organization_id = r.organization_id
                 AND q.supplier_rfq_id = r.id AND q.status <> 'draft')) AS quoted
    FROM supplier_rfqs r
    WHERE r.organization_id = :org AND r.status NOT IN ('draft', 'cancelled')
    GROUP BY r.supplier_id
)
SELECT c.id, c.company_name, coalesce(d.received, 0), coalesce(d.on_time, 0),
       coalesce(f.sent, 0), coalesce(f.quoted, 0)
FROM contacts c
LEFT JOIN deliveries d ON d.supplier_id = c.id
LEFT JOIN rfqs f ON f.supplier_id = c.id
WHERE c.organization_id = :org AND c.type = 'supplier'
  AND (d.supplier_id IS NOT NULL OR f.supplier_id IS NOT NULL)
ORDER BY c.company_name, c.id
"""


def supplier_performance(ws: Workspace, org: uuid.UUID) -> list[SupplierPerformance]:
    """Per supplier: on-time delivery (received by the due date) and RFQ response rate
    (RFQs quoted / RFQs sent; cancelled RFQs left out)."""
    return units.read(ws, lambda conn: [SupplierPerformance(*r) for r in conn.execute(
        text(_PERFORMANCE), {"org": org})])
