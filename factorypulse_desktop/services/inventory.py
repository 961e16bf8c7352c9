"""Inventory: items with their on-hand, one item's balances and ledger, stock movements and
the valuation (no Qt).

The rules live in the database (revision 0013): the ledger ``stock_movements`` is append-only,
``inventory_balances`` holds on-hand per item and location (kept by the ledger's triggers), a
movement that would take on-hand below zero is refused in words unless the item allows it, and
a ``client_event_id`` books a retried movement once. This module reads in keyset pages, checks
what a person typed before anything is sent, and turns refusals into sentences.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import driver_error
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.numbers import NumberProblem, parse_decimal
from factorypulse_desktop.domain.text import FieldError, clean_text
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

PAGE_SIZE = 50
RECENT_MOVEMENTS = 50
ITEM_STATUSES = ("active", "inactive", "discontinued")
# What a person books with move(); transfers go through transfer() (two rows).
MOVE_TYPES = ("receipt", "issue", "return", "adjustment")
INCOMING = frozenset({"receipt", "return", "transfer_in"})
OUTGOING = frozenset({"issue", "transfer_out"})
# The INSERT/UPDATE policies of inventory_items and stock_movements.
EDITOR_ROLES = frozenset({Role.ADMIN, Role.MANAGEMENT, Role.PROCUREMENT, Role.PRODUCTION})
QUANTITY_BOUND = Decimal(10) ** 11  # numeric(14, 3)
COST_BOUND = Decimal(10) ** 11  # numeric(15, 4)
MAX_LENGTHS = {"item_code": 60, "item_name": 200, "description": 5_000, "category": 100,
               "unit": 20, "barcode": 100, "reference": 200, "note": 2_000}
_LABELS = {"item_code": "The item code", "item_name": "The name", "description": "The description",
           "category": "The category", "unit": "The unit", "barcode": "The barcode",
           "reference": "The reference", "note": "The note"}

_GONE = "This item no longer exists, or you may no longer see it."
_CONFLICT = ("Someone else saved this item while you were editing it. Your changes are still in "
             "the form: compare them with the saved version, then save again.")
_NOT_ALLOWED = ("You may not change items in this organization; only administrators, "
                "management, procurement and production can.")
_NOT_ALLOWED_MOVE = ("You may not book stock in this organization; only administrators, "
                     "management, procurement and production can.")


def can_edit(role: Role | None) -> bool:
    """Whether the role may add items and book stock (the database decides in the end)."""
    return role in EDITOR_ROLES


# -- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    id: uuid.UUID
    code: str
    name: str
    is_active: bool


@dataclass(frozen=True)
class ItemRow:
    """One item as the list shows it; ``on_hand`` over all locations."""

    id: uuid.UUID
    item_code: str
    item_name: str
    category: str | None
    unit: str
    status: str
    min_stock_level: Decimal | None
    max_stock_level: Decimal | None
    unit_cost: Decimal | None
    on_hand: Decimal
    version: int

    @property
    def low(self) -> bool:
        """Below its minimum (the low-stock mark and notification use the same rule)."""
        return self.min_stock_level is not None and self.on_hand < self.min_stock_level


@dataclass(frozen=True)
class ItemFilter:
    """``text``: every word in the code, name or barcode; ``category``: "" for any;
    ``low_only``: items below their minimum; ``status``: one of ITEM_STATUSES or "" for any."""

    text: str = ""
    category: str = ""
    low_only: bool = False
    status: str = "active"


@dataclass(frozen=True)
class ItemPage:
    rows: list[ItemRow]
    next_after: tuple[str, uuid.UUID] | None
    """Pass as ``after`` for the next page; None when this was the last."""


@dataclass(frozen=True)
class Balance:
    location_id: uuid.UUID
    location_code: str
    location_name: str
    on_hand: Decimal


@dataclass(frozen=True)
class Movement:
    id: uuid.UUID
    moved_at: dt.datetime
    movement_type: str
    quantity: Decimal
    location_code: str
    unit_cost: Decimal | None
    reference: str | None
    note: str | None
    moved_by: str | None
    transfer_group_id: uuid.UUID | None


@dataclass(frozen=True)
class ItemEdit:
    """What a person typed for an item (before :func:`check_item` cleans it)."""

    item_code: str = ""
    item_name: str = ""
    description: str | None = None
    category: str | None = None
    unit: str = "pcs"
    default_location_id: uuid.UUID | None = None
    min_stock_level: Decimal | None = None
    max_stock_level: Decimal | None = None
    unit_cost: Decimal | None = None
    preferred_supplier_id: uuid.UUID | None = None
    status: str = "active"
    allow_negative: bool = False
    barcode: str | None = None


@dataclass(frozen=True)
class ItemDetail:
    id: uuid.UUID
    organization_id: uuid.UUID
    item_code: str
    item_name: str
    description: str | None
    category: str | None
    unit: str
    default_location_id: uuid.UUID | None
    min_stock_level: Decimal | None
    max_stock_level: Decimal | None
    unit_cost: Decimal | None
    preferred_supplier_id: uuid.UUID | None
    status: str
    allow_negative: bool
    barcode: str | None
    version: int
    preferred_supplier: str | None
    balances: tuple[Balance, ...]
    recent: tuple[Movement, ...]

    @property
    def on_hand(self) -> Decimal:
        return sum((b.on_hand for b in self.balances), Decimal(0))

    def as_edit(self) -> ItemEdit:
        return ItemEdit(**{f.name: getattr(self, f.name) for f in fields(ItemEdit)})


class ItemConflictError(UserFacingError):
    """Someone saved the item after it was loaded; ``current`` is what is saved now."""

    def __init__(self, message: str, current: ItemDetail | None = None) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class ValuationLine:
    item_id: uuid.UUID
    item_code: str
    item_name: str
    unit: str
    on_hand: Decimal
    unit_cost: Decimal | None
    value: Decimal


@dataclass(frozen=True)
class Valuation:
    lines: tuple[ValuationLine, ...]
    total: Decimal
    without_cost: int
    """Items with stock but no unit cost (valued at 0; the report says how many)."""


# -- typed numbers ----------------------------------------------------------------------------

def parse_number(value: str | None, *, field: str, label: str, decimals: int,
                 allow_negative: bool = False, bound: Decimal = QUANTITY_BOUND
                 ) -> Decimal | None:
    """A number as typed ("12", "2.5", "2,5", "1 200"; `domain.numbers`); None when empty.

    Raises :class:`FieldError` in words for anything else.
    """
    try:
        number = parse_decimal(value or "", decimals=decimals)  # domain.numbers: one rule
    except NumberProblem as problem:
        raise FieldError(field, f"{label}: {problem}") from None
    if number is None:
        return None
    if abs(number) >= bound:  # before quantize, which fails on numbers this long
        raise FieldError(field, f"{label} is too large.")
    if number < 0 and not allow_negative:
        raise FieldError(field, f"{label} cannot be negative.")
    if number != number.quantize(Decimal(1).scaleb(-decimals)):
        raise FieldError(field, f"{label} has at most {decimals} decimals.")
    return number


# -- validation -------------------------------------------------------------------------------


def check_item(edit: ItemEdit) -> ItemEdit:
    """``edit`` cleaned (trimmed, NFC, empty -> None) or :class:`FieldError` naming the first
    field at fault."""
    values: dict[str, Any] = {}
    for name in ("item_code", "item_name", "description", "category", "unit", "barcode"):
        values[name] = clean_text(getattr(edit, name), field=name, label=_LABELS[name],
                                  max_length=MAX_LENGTHS[name],
                                  required=name in ("item_code", "item_name", "unit"))
        if name != "description" and values[name] is not None:
            values[name] = " ".join(values[name].split())
    if edit.status not in ITEM_STATUSES:
        raise FieldError("status", f"\u201c{edit.status}\u201d is not an item status; use "
                                   "active, inactive or discontinued.")
    for name, label in (("min_stock_level", "The minimum"), ("max_stock_level", "The maximum")):
        number = getattr(edit, name)
        if number is not None and (number < 0 or number >= QUANTITY_BOUND):
            raise FieldError(name, f"{label} must be 0 or more and less than 100 billion.")
    if edit.unit_cost is not None and (edit.unit_cost < 0 or edit.unit_cost >= COST_BOUND):
        raise FieldError("unit_cost", "The unit cost must be 0 or more.")
    if (edit.min_stock_level is not None and edit.max_stock_level is not None
            and edit.max_stock_level < edit.min_stock_level):
        raise FieldError("max_stock_level", "The maximum is below the minimum; raise the "
                                            "maximum or lower the minimum.")
    return ItemEdit(
        default_location_id=edit.default_location_id, min_stock_level=edit.min_stock_level,
        max_stock_level=edit.max_stock_level, unit_cost=edit.unit_cost,
        preferred_supplier_id=edit.preferred_supplier_id, status=edit.status,
        allow_negative=bool(edit.allow_negative), **values)


# -- reading ----------------------------------------------------------------------------------

_ROW = """
i.id, i.item_code, i.item_name, i.category, i.unit, i.status, i.min_stock_level,
i.max_stock_level, i.unit_cost, i.version,
coalesce((SELECT sum(b.on_hand) FROM inventory_balances b
          WHERE b.organization_id = i.organization_id AND b.inventory_item_id = i.id), 0)
    AS on_hand"""


def _where(org: uuid.UUID, flt: ItemFilter, params: dict[str, Any]) -> str:
    params["org"] = org
    parts = ["i.organization_id = :org"]
    if flt.status:
        if flt.status not in ITEM_STATUSES:
            raise UserFacingError(f"\u201c{flt.status}\u201d is not an item status.")
        params["status"] = flt.status
        parts.append("i.status = :status")
    if flt.category:
        params["category"] = flt.category
        parts.append("i.category = :category")
    for n, word in enumerate(flt.text.replace("\x00", "").split()[:8]):
        key = f"w{n}"
        params[key] = "%" + word[:100].replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        parts.append(f"(i.item_code ILIKE :{key} OR i.item_name ILIKE :{key} "
                     f"OR i.barcode ILIKE :{key})")
    if flt.low_only:
        parts.append("i.min_stock_level IS NOT NULL AND coalesce((SELECT sum(b.on_hand) FROM "
                     "inventory_balances b WHERE b.organization_id = i.organization_id AND "
                     "b.inventory_item_id = i.id), 0) < i.min_stock_level")
    return " AND ".join(parts)


def list_items(ws: Workspace, org: uuid.UUID, flt: ItemFilter | None = None, *,
               after: tuple[str, uuid.UUID] | None = None, limit: int = PAGE_SIZE) -> ItemPage:
    """One page of items (by code) matching ``flt``, each with its on-hand over all
    locations read from the balances."""
    flt = flt or ItemFilter()
    params: dict[str, Any] = {"limit": max(1, min(limit, 500)) + 1}
    where = _where(org, flt, params)
    keyset = ""
    if after is not None:
        params["after_code"], params["after_id"] = after
        keyset = " AND (i.item_code, i.id) > (:after_code, :after_id)"
    sql = text(f"SELECT {_ROW} FROM inventory_items i WHERE {where}{keyset} "
               "ORDER BY i.item_code, i.id LIMIT :limit")

    def read(conn: Connection) -> ItemPage:
        found = [_item_row(r) for r in conn.execute(sql, params)]
        page = found[: params["limit"] - 1]
        more = len(found) > len(page)
        return ItemPage(page, (page[-1].item_code, page[-1].id) if more and page else None)

    return units.read(ws, read)


def get_items(ws: Workspace, ids: Sequence[uuid.UUID]) -> list[ItemRow]:
    """The current rows of ``ids`` the person may see (live updates in place)."""
    if not ids:
        return []
    sql = text(f"SELECT {_ROW} FROM inventory_items i WHERE i.id = ANY (:ids)")
    return units.read(ws, lambda conn: [_item_row(r) for r in conn.execute(
        sql, {"ids": list(ids)})])


def on_hand(ws: Workspace, org: uuid.UUID, item_ids: Sequence[uuid.UUID]
            ) -> dict[uuid.UUID, Decimal]:
    """On-hand over all locations of each item of ``item_ids`` (0 for one without stock)."""
    sql = text("SELECT b.inventory_item_id, sum(b.on_hand) AS on_hand FROM inventory_balances b "
               "WHERE b.organization_id = :org AND b.inventory_item_id = ANY (:ids) "
               "GROUP BY b.inventory_item_id")

    def read(conn: Connection) -> dict[uuid.UUID, Decimal]:
        totals = {item: Decimal(0) for item in item_ids}
        for r in conn.execute(sql, {"org": org, "ids": list(item_ids)}):
            totals[r.inventory_item_id] = Decimal(r.on_hand)
        return totals

    return units.read(ws, read)


def _item_row(r: Any) -> ItemRow:
    return ItemRow(id=r.id, item_code=r.item_code, item_name=r.item_name, category=r.category,
                   unit=r.unit, status=r.status, min_stock_level=r.min_stock_level,
                   max_stock_level=r.max_stock_level, unit_cost=r.unit_cost,
                   on_hand=Decimal(r.on_hand), version=r.version)


def categories(ws: Workspace, org: uuid.UUID) -> list[str]:
    sql = text("SELECT DISTINCT category FROM inventory_items WHERE organization_id = :org "
               "AND category IS NOT NULL ORDER BY category")
    return units.read(ws, lambda conn: [r.category for r in conn.execute(sql, {"org": org})])


def locations(ws: Workspace, org: uuid.UUID, *, active_only: bool = True) -> list[Location]:
    sql = text("SELECT id, code, name, is_active FROM inventory_locations WHERE "
               "organization_id = :org AND (is_active OR NOT :active_only) ORDER BY code")
    return units.read(ws, lambda conn: [
        Location(r.id, r.code, r.name, r.is_active)
        for r in conn.execute(sql, {"org": org, "active_only": active_only})])


_DETAIL = text("""
SELECT i.*, c.company_name AS preferred_supplier
FROM inventory_items i
LEFT JOIN contacts c ON c.organization_id = i.organization_id AND c.id = i.preferred_supplier_id
WHERE i.id = :id
""")
_BALANCES = text("""
SELECT b.location_id, l.code, l.name, b.on_hand FROM inventory_balances b
JOIN inventory_locations l ON l.organization_id = b.organization_id AND l.id = b.location_id
WHERE b.organization_id = :org AND b.inventory_item_id = :id
ORDER BY l.code
""")
_RECENT = text("""
SELECT m.id, m.moved_at, m.movement_type, m.quantity, l.code AS location_code, m.unit_cost,
       m.reference, m.note, p.display_name AS moved_by, m.transfer_group_id
FROM stock_movements m
JOIN inventory_locations l ON l.organization_id = m.organization_id AND l.id = m.location_id
LEFT JOIN persons p ON p.id = m.moved_by
WHERE m.organization_id = :org AND m.inventory_item_id = :id
ORDER BY m.moved_at DESC, m.id DESC LIMIT :limit
""")


def _detail(conn: Connection, item_id: uuid.UUID) -> ItemDetail | None:
    r = conn.execute(_DETAIL, {"id": item_id}).one_or_none()
    if r is None:
        return None
    params = {"org": r.organization_id, "id": item_id, "limit": RECENT_MOVEMENTS}
    balances = tuple(Balance(b.location_id, b.code, b.name, Decimal(b.on_hand))
                     for b in conn.execute(_BALANCES, params))
    recent = tuple(Movement(m.id, m.moved_at, m.movement_type, m.quantity, m.location_code,
                            m.unit_cost, m.reference, m.note, m.moved_by, m.transfer_group_id)
                   for m in conn.execute(_RECENT, params))
    return ItemDetail(
        id=r.id, organization_id=r.organization_id, item_code=r.item_code,
        item_name=r.item_name, description=r.description, category=r.category, unit=r.unit,
        default_location_id=r.default_location_id, min_stock_level=r.min_stock_level,
        max_stock_level=r.max_stock_level, unit_cost=r.unit_cost,
        preferred_supplier_id=r.preferred_supplier_id, status=r.status,
        allow_negative=r.allow_negative, barcode=r.barcode, version=r.version,
        preferred_supplier=r.preferred_supplier, balances=balances, recent=recent)


def get_item(ws: Workspace, item_id: uuid.UUID) -> ItemDetail:
    """The item with its balances per location and its newest ledger rows."""
    found = units.read(ws, lambda conn: _detail(conn, item_id))
    if found is None:
        raise UserFacingError(_GONE)
    return found


# -- saving -----------------------------------------------------------------------------------

_EDIT_COLUMNS = tuple(f.name for f in fields(ItemEdit))
_INSERT = text(f"""
INSERT INTO inventory_items (id, organization_id, {", ".join(_EDIT_COLUMNS)})
VALUES (:id, :org, {", ".join(":" + c for c in _EDIT_COLUMNS)}) RETURNING id
""")
_UPDATE = text(f"""
UPDATE inventory_items SET {", ".join(f"{c} = :{c}" for c in _EDIT_COLUMNS)}
WHERE id = :id AND organization_id = :org AND version = :expected RETURNING id
""")


def _refused_by_rls(error: BaseException) -> bool:
    return getattr(driver_error(error), "sqlstate", None) == "42501"


def _code_taken(conn: Connection, org: uuid.UUID, code: str, item_id: uuid.UUID | None) -> bool:
    return conn.execute(text(
        "SELECT 1 FROM inventory_items WHERE organization_id = :org AND lower(item_code) = "
        "lower(:code) AND (CAST(:id AS uuid) IS NULL OR id <> CAST(:id AS uuid))"),
        {"org": org, "code": code, "id": item_id}).first() is not None


def save_item(ws: Workspace, org: uuid.UUID, item_id: uuid.UUID | None, edit: ItemEdit,
              expected_version: int | None = None, *,
              new_id: uuid.UUID | None = None) -> ItemDetail:
    """Add an item (``item_id`` None) or change one still at ``expected_version``.

    A new item gets the id ``new_id``, chosen by the caller when the form opens and passed
    again when Save is pressed again: when the connection broke after the database had stored
    it (the answer lost, not the save), it is found by that id and returned, never stored
    twice -- and its own code is not reported as taken (T-NET-03). Without it, one is chosen
    here.

    Raises :class:`FieldError` for input that cannot be stored (nothing is sent),
    :class:`ItemConflictError` when someone saved it meanwhile, and a
    :class:`UserFacingError` when the database refuses. A change whose answer was lost is
    returned when it landed -- also when Save is pressed again with the old version: no
    conflict with oneself, nothing saved twice (T-NET-03).
    """
    clean = check_item(edit)
    if item_id is not None and expected_version is None:
        raise ValueError("changing an item needs the version it was loaded at")
    params: dict[str, Any] = {c: getattr(clean, c) for c in _EDIT_COLUMNS}
    params["org"] = org
    client_id: uuid.UUID = new_id or uuid.uuid4()
    me = ws.identity.person_id

    def landed(conn: Connection) -> ItemDetail | None:
        if item_id is None:
            return _my_new_item(conn, org, client_id, me)
        assert expected_version is not None
        return _my_edit_landed(conn, org, item_id, expected_version, clean, me)

    def run(conn: Connection) -> ItemDetail:
        if item_id is None:
            stored = landed(conn)
            if stored is not None:  # added before; its answer was lost
                return stored
        if _code_taken(conn, org, clean.item_code, item_id):
            raise FieldError("item_code", f"The item code \u201c{clean.item_code}\u201d is "
                                          "already used by another item; choose another.")
        try:
            with conn.begin_nested():
                if item_id is None:
                    params["id"] = client_id
                    saved_id = conn.execute(_INSERT, params).scalar_one()
                else:
                    params.update(id=item_id, expected=expected_version)
                    saved_id = conn.execute(_UPDATE, params).scalar_one_or_none()
        except exc.DBAPIError as error:
            if _refused_by_rls(error):
                raise UserFacingError(_NOT_ALLOWED) from error
            raise
        if saved_id is None:
            assert item_id is not None
            current = _detail(conn, item_id)
            if current is None:
                raise UserFacingError(_GONE)
            if current.version != expected_version:
                mine = landed(conn)  # pressed again after a save whose answer was lost
                if mine is not None:
                    return mine
                raise ItemConflictError(_CONFLICT, current)
            raise UserFacingError(_NOT_ALLOWED)
        saved = _detail(conn, saved_id)
        if saved is None:  # pragma: no cover - saved in this very transaction
            raise UserFacingError(_GONE)
        return saved

    # A save whose connection broke: a new item found by its client id, a change by its
    # version, author and values, or nothing was stored; the form keeps its values either way
    # (T-NET-03).
    return units.write_once(ws, run, landed)


def _my_new_item(conn: Connection, org: uuid.UUID, item_id: uuid.UUID,
                 me: uuid.UUID) -> ItemDetail | None:
    """The item with this id if I added it in `org`; else None. Items have no author column:
    the change_log row of its insert tells who added it."""
    found = _detail(conn, item_id)
    if found is None or found.organization_id != org:
        return None
    mine = conn.execute(text(
        "SELECT 1 FROM change_log WHERE organization_id = :org AND entity_type = "
        "'inventory_items' AND entity_id = :id AND operation = 'I' AND actor_id = :me"),
        {"org": org, "id": item_id, "me": me}).first()
    return found if mine is not None else None


def _my_edit_landed(conn: Connection, org: uuid.UUID, item_id: uuid.UUID,
                    expected_version: int, edit: ItemEdit, me: uuid.UUID) -> ItemDetail | None:
    """The item if it holds exactly `edit` and every version after `expected_version` was
    made by me (a stock movement changes no item version); else None."""
    found = _detail(conn, item_id)
    if found is None or found.organization_id != org or found.version <= expected_version:
        return None
    if found.as_edit() != edit:
        return None
    mine = units.changed_only_by(conn, "inventory_items", org, item_id, expected_version, me)
    return found if mine else None


# -- stock movements --------------------------------------------------------------------------

_MOVE = text("""
INSERT INTO stock_movements (organization_id, inventory_item_id, location_id, movement_type,
    quantity, unit_cost, reference, note, production_order_id, purchase_order_line_id,
    client_event_id)
VALUES (:org, :item, :location, :type, :quantity, :unit_cost, :reference, :note,
        :production_order_id, :purchase_order_line_id, :client_event_id)
RETURNING id
""")
_BOOKED = text("SELECT id FROM stock_movements WHERE organization_id = :org AND "
               "client_event_id = :event")


def _clean_words(reference: str | None, note: str | None) -> tuple[str | None, str | None]:
    return (clean_text(reference, field="reference", label=_LABELS["reference"],
                       max_length=MAX_LENGTHS["reference"]),
            clean_text(note, field="note", label=_LABELS["note"],
                       max_length=MAX_LENGTHS["note"]))


def _signed(movement_type: str, quantity: Decimal) -> Decimal:
    if movement_type not in MOVE_TYPES:
        raise UserFacingError(f"\u201c{movement_type}\u201d is not a stock movement; use one "
                              f"of: {', '.join(MOVE_TYPES)}.")
    if quantity == 0:
        raise FieldError("quantity", "Enter a quantity other than 0.")
    if abs(quantity) >= QUANTITY_BOUND or quantity != quantity.quantize(Decimal("0.001")):
        raise FieldError("quantity", "The quantity has at most 3 decimals and fewer than 12 "
                                     "digits.")
    if movement_type == "adjustment":
        return quantity  # a correction either way, as counted
    if quantity < 0:
        raise FieldError("quantity", "Enter the quantity without a minus sign.")
    return -quantity if movement_type in OUTGOING else quantity


def _book(conn: Connection, params: dict[str, Any]) -> uuid.UUID:
    try:
        with conn.begin_nested():
            new_id = conn.execute(_MOVE, params).scalar_one_or_none()
    except exc.DBAPIError as error:
        if _refused_by_rls(error):
            raise UserFacingError(_NOT_ALLOWED_MOVE) from error
        raise
    if new_id is None:  # the trigger skipped it: that client_event_id was booked already
        return uuid.UUID(str(conn.execute(_BOOKED, {"org": params["org"],
                                                    "event": params["client_event_id"]})
                             .scalar_one()))
    return uuid.UUID(str(new_id))


def move(ws: Workspace, org: uuid.UUID, *, item: uuid.UUID, location: uuid.UUID, type: str,
         quantity: Decimal, unit_cost: Decimal | None = None, reference: str | None = None,
         note: str | None = None, production_order_id: uuid.UUID | None = None,
         purchase_order_line_id: uuid.UUID | None = None,
         client_event_id: uuid.UUID | None = None) -> uuid.UUID:
    """Book one movement; returns its id (the earlier one's when ``client_event_id`` was
    booked already).

    ``quantity`` is how much moves, without a sign (receipt and return add, issue takes out);
    for an adjustment it is the signed correction. The database refuses taking out more than
    is in stock unless the item allows negative stock.
    """
    signed = _signed(type, quantity)
    if unit_cost is not None and (unit_cost < 0 or unit_cost >= COST_BOUND):
        raise FieldError("unit_cost", "The unit cost must be 0 or more.")
    reference, note = _clean_words(reference, note)
    params = {"org": org, "item": item, "location": location, "type": type,
              "quantity": signed, "unit_cost": unit_cost, "reference": reference, "note": note,
              "production_order_id": production_order_id,
              "purchase_order_line_id": purchase_order_line_id,
              "client_event_id": client_event_id}
    with units.transaction(ws) as conn:
        return _book(conn, params)


def transfer(ws: Workspace, org: uuid.UUID, *, item: uuid.UUID, from_location: uuid.UUID,
             to_location: uuid.UUID, quantity: Decimal, reference: str | None = None,
             note: str | None = None, client_event_id: uuid.UUID | None = None) -> uuid.UUID:
    """Move ``quantity`` from one location to another (two ledger rows, one group id, in one
    transaction); returns the transfer group id."""
    if from_location == to_location:
        raise FieldError("to_location", "Choose a target location other than the source.")
    _signed("issue", quantity)
    reference, note = _clean_words(reference, note)
    with units.transaction(ws) as conn:
        try:
            with conn.begin_nested():
                group = conn.execute(text(
                    "SELECT fp_private.transfer_stock(:org, :item, :src, :dst, :qty, :ref, "
                    ":note, :event)"), {"org": org, "item": item, "src": from_location,
                                        "dst": to_location, "qty": quantity, "ref": reference,
                                        "note": note, "event": client_event_id}).scalar_one()
        except exc.DBAPIError as error:
            if _refused_by_rls(error):
                raise UserFacingError(_NOT_ALLOWED_MOVE) from error
            raise
    return uuid.UUID(str(group))


def adjust(ws: Workspace, org: uuid.UUID, *, item: uuid.UUID, location: uuid.UUID,
           counted: Decimal, note: str | None = None,
           client_event_id: uuid.UUID | None = None) -> uuid.UUID | None:
    """Book a stock count: an adjustment by the difference between ``counted`` and the
    balance; None when they agree (nothing is booked)."""
    if counted < 0:
        raise FieldError("counted", "A counted quantity cannot be negative.")
    with units.transaction(ws) as conn:
        current = conn.execute(text(
            "SELECT on_hand FROM inventory_balances WHERE organization_id = :org AND "
            "inventory_item_id = :item AND location_id = :loc"),
            {"org": org, "item": item, "loc": location}).scalar_one_or_none()
        difference = counted - Decimal(current or 0)
        if difference == 0:
            return None
        signed = _signed("adjustment", difference)
        reference, clean_note = _clean_words("STOCK-COUNT", note)
        return _book(conn, {"org": org, "item": item, "location": location,
                            "type": "adjustment", "quantity": signed, "unit_cost": None,
                            "reference": reference, "note": clean_note,
                            "production_order_id": None, "purchase_order_line_id": None,
                            "client_event_id": client_event_id})


# -- valuation --------------------------------------------------------------------------------

_VALUATION = text("""
SELECT i.id, i.item_code, i.item_name, i.unit, i.unit_cost, t.on_hand
FROM (SELECT b.inventory_item_id, sum(b.on_hand) AS on_hand FROM inventory_balances b
      WHERE b.organization_id = :org GROUP BY b.inventory_item_id) t
JOIN inventory_items i ON i.organization_id = :org AND i.id = t.inventory_item_id
WHERE t.on_hand <> 0
ORDER BY i.item_code
""")


def valuation(ws: Workspace, org: uuid.UUID) -> Valuation:
    """On-hand times unit cost per item with stock, and the total."""
    rows = units.read(ws, lambda conn: list(conn.execute(_VALUATION, {"org": org})))
    lines = tuple(ValuationLine(
        r.id, r.item_code, r.item_name, r.unit, Decimal(r.on_hand), r.unit_cost,
        (Decimal(r.on_hand) * (r.unit_cost or Decimal(0))).quantize(Decimal("0.01")))
        for r in rows)
    return Valuation(lines, sum((line.value for line in lines), Decimal("0.00")),
                     sum(1 for line in lines if line.unit_cost is None))
