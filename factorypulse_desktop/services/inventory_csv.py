"""Inventory items from and to CSV files (spreadsheets): parse, import all-or-nothing, export
(no Qt).

The same rules as ``services/contacts_csv.py`` (and its file reading: encodings UTF-8 with or
without BOM, UTF-16, Windows-1252; delimiter ``,``, ``;`` or tab; rows numbered as a
spreadsheet shows them): :func:`parse_items_csv` never raises for a bad file but lists every
problem by row and column; :func:`import_items` writes only a file without a single problem,
in one transaction (RELIABILITY.md T-IN-04: 0 partial imports); :func:`export_items` escapes
every cell a spreadsheet would run as a formula (T-IN-05) and the importer reads the export
back unchanged.

Items are added, never changed, by an import: an item code already in the organization (case
does not count) or twice in the file is a row error. The export's "On hand" column is
information only; the import ignores it (stock moves only through the ledger).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import friendly_error
from factorypulse_desktop.domain.csv_safety import (
    CellProblem,
    clean_cell,
    spreadsheet_csv,
    unescape_cell,
)
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import units
from factorypulse_desktop.services.csv_reading import (
    MAX_ERRORS,
    RowError,
    RowErrors,
    TooManyErrors,
    allow_large_fields,
    decode,
    heading_key,
    is_blank,
    read_records,
    sniff_delimiter,
)
from factorypulse_desktop.services.inventory import (
    COST_BOUND,
    ITEM_STATUSES,
    MAX_LENGTHS,
    ItemEdit,
    check_item,
    parse_number,
)
from factorypulse_desktop.services.workspace import Workspace, connection_lost

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 100_000
INSERT_CHUNK = 500


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("item_code", "Item code", ("code", "item", "sku", "part number")),
    Column("item_name", "Name", ("item name", "description short")),
    Column("description", "Description"),
    Column("category", "Category"),
    Column("unit", "Unit", ("uom",)),
    Column("min_stock_level", "Min stock", ("minimum", "min")),
    Column("max_stock_level", "Max stock", ("maximum", "max")),
    Column("unit_cost", "Unit cost", ("cost", "price")),
    Column("status", "Status"),
    Column("allow_negative", "Allow negative"),
    Column("barcode", "Barcode", ("ean", "gtin")),
    Column("on_hand", "On hand"),  # exported for reading; ignored on import
)
_BY_HEADING = {heading_key(s): c for c in COLUMNS for s in (c.field, c.label, *c.aliases)}
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0", ""})


@dataclass(frozen=True)
class ParsedItems:
    rows: tuple[tuple[int, ItemEdit], ...]
    errors: tuple[RowError, ...]
    encoding: str = ""
    delimiter: str = ","


@dataclass(frozen=True)
class ImportReport:
    imported: int
    item_ids: tuple[uuid.UUID, ...]
    encoding: str
    delimiter: str


class ItemsImportError(UserFacingError):
    """Nothing was imported; ``errors`` holds every problem found (for a per-row table)."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = tuple(errors)
        first = str(self.errors[0]) if self.errors else ""
        if len(self.errors) == 1:
            message = f"Nothing was imported. {first.rstrip('.')}."
        else:
            message = (f"Nothing was imported: the file has {len(self.errors)} problems. "
                       f"The first: {first.rstrip('.')}.")
        super().__init__(message)


# -- parsing ----------------------------------------------------------------------------------


def parse_items_csv(data: bytes) -> ParsedItems:
    """Read a CSV file of items; never raises for a bad file (see ``errors``)."""
    errors = RowErrors()
    try:
        return _parse(data, errors)
    except TooManyErrors:
        errors.items.append(RowError(None, None, (
            f"The check stopped after {MAX_ERRORS} problems; fix these first and try again.")))
        return ParsedItems((), tuple(errors.items))


def _parse(data: bytes, errors: RowErrors) -> ParsedItems:
    if len(data) > MAX_FILE_BYTES:
        errors.add(None, None, f"The file is too large; at most {MAX_FILE_BYTES // 1_048_576} "
                               "MB can be imported at once. Split it into parts.")
        return ParsedItems((), tuple(errors.items))
    decoded = decode(data)
    if decoded is None:
        errors.add(None, None, "The file is not text this import can read. In Excel, save it "
                               "as \"CSV UTF-8 (comma delimited)\" and try again.")
        return ParsedItems((), tuple(errors.items))
    content, encoding = decoded
    delimiter, content = sniff_delimiter(content.removeprefix("\ufeff"))
    allow_large_fields()
    records = read_records(content, delimiter, errors)
    header = next(((n, cells) for n, cells in records if not is_blank(cells)), None)
    if header is None:
        if not errors:
            errors.add(None, None, "The file is empty: it has no heading row.")
        return ParsedItems((), tuple(errors.items), encoding, delimiter)
    slots = _read_header(*header, errors)
    rows: list[tuple[int, ItemEdit]] = []
    if slots is not None:
        seen: dict[str, int] = {}
        code_heading = next(h for h, c in slots if c is not None and c.field == "item_code")
        for number, cells in records:
            if is_blank(cells):
                continue
            if len(cells) != len(slots):
                errors.add(number, None, (
                    f"This row has {len(cells)} cells but the heading row has {len(slots)}. "
                    "Check for a stray separator or a quote that is not closed."))
                continue
            if len(rows) >= MAX_ROWS:
                errors.add(number, None, f"The file has more than {MAX_ROWS:,} items; split it.")
                break
            item = _read_row(number, slots, cells, errors)
            if item is None:
                continue
            key = item.item_code.casefold()
            if key in seen:
                errors.add(number, code_heading, (
                    f"The item code \u201c{item.item_code}\u201d is already on row {seen[key]}; "
                    "an item can be in the file only once."))
                continue
            seen[key] = number
            rows.append((number, item))
    return ParsedItems(tuple(rows) if not errors else (), tuple(errors.items), encoding,
                       delimiter)


def _read_header(number: int, cells: Sequence[str], errors: RowErrors
                 ) -> list[tuple[str, Column | None]] | None:
    slots: list[tuple[str, Column | None]] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(cells, start=1):
        try:
            heading = clean_cell(raw)
        except CellProblem as problem:
            errors.add(number, f"column {index}", str(problem))
            continue
        if not heading:
            slots.append((f"column {index}", None))
            continue
        column = _BY_HEADING.get(heading_key(heading))
        if column is None:
            known = ", ".join(c.label for c in COLUMNS)
            errors.add(number, heading, (f"This import does not know the column "
                                         f"\u201c{heading}\u201d; the known columns are: "
                                         f"{known}."))
            continue
        if column.field in seen:
            errors.add(number, heading, (
                f"The heading row has the column \u201c{column.label}\u201d twice (as "
                f"\u201c{seen[column.field]}\u201d and \u201c{heading}\u201d); keep one."))
            continue
        seen[column.field] = heading
        slots.append((heading, column))
    for needed, label in (("item_code", "Item code"), ("item_name", "Name")):
        if needed not in seen and not errors:
            errors.add(number, None, (f"The heading row has no \u201c{label}\u201d column; "
                                      "every item needs one. Is the first row the heading?"))
    return None if errors else slots


def _read_row(number: int, slots: Sequence[tuple[str, Column | None]], cells: Sequence[str],
              errors: RowErrors) -> ItemEdit | None:
    values: dict[str, Any] = {}
    headings: dict[str, str] = {}
    before = len(errors.items)
    for (heading, column), raw in zip(slots, cells, strict=True):
        try:
            value = unescape_cell(clean_cell(raw))
            if column is None:
                if value:
                    raise CellProblem("This cell has a value but its column has no heading; "
                                      "add the heading or delete the value.")
                continue
            if column.field == "on_hand":
                continue
            headings[column.field] = heading
            values[column.field] = _convert(column, value)
        except (CellProblem, FieldError) as problem:
            errors.add(number, heading, str(problem))
    if len(errors.items) > before:
        return None
    if not values.get("unit"):
        values["unit"] = "pcs"
    values["status"] = values.get("status") or "active"
    try:
        return check_item(ItemEdit(**values))
    except FieldError as problem:
        errors.add(number, headings.get(problem.field), problem.message)
        return None


def _convert(column: Column, value: str) -> Any:
    field = column.field
    label = f"The {column.label.lower()}"
    if field in ("min_stock_level", "max_stock_level"):
        return parse_number(value, field=field, label=label, decimals=3)
    if field == "unit_cost":
        return parse_number(value, field=field, label=label, decimals=4, bound=COST_BOUND)
    if field == "allow_negative":
        word = value.casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise CellProblem(f"\u201c{value}\u201d is not yes or no; write yes or no (empty "
                          "means no).")
    if field == "status":
        if value and value.casefold() not in ITEM_STATUSES:
            raise CellProblem(f"\u201c{value}\u201d is not an item status; use one of: "
                              f"{', '.join(ITEM_STATUSES)}.")
        return value.casefold()
    if len(value) > MAX_LENGTHS[field]:
        raise CellProblem(f"This text is {len(value):,} characters long; {column.label} holds "
                          f"at most {MAX_LENGTHS[field]:,}.")
    return value or None


# -- database ---------------------------------------------------------------------------------

_FIELDS = ("item_code", "item_name", "description", "category", "unit", "min_stock_level",
           "max_stock_level", "unit_cost", "status", "allow_negative", "barcode")
_INSERT = text(f"""
INSERT INTO inventory_items (id, organization_id, {", ".join(_FIELDS)})
VALUES (:id, :org, {", ".join(":" + f for f in _FIELDS)})
""")
_NOT_ALLOWED = ("You are not allowed to add items in this organization; only administrators, "
                "management, procurement and production can import them.")


def import_items(ws: Workspace, org: uuid.UUID, data: bytes) -> ImportReport:
    """Add every item of the CSV file ``data`` to the organization, or none of them."""
    parsed = parse_items_csv(data)
    if parsed.errors:
        raise ItemsImportError(parsed.errors)
    if not parsed.rows:
        raise ItemsImportError([RowError(None, None, "The file has no items to import, only "
                                                     "the heading row.")])
    ids = tuple(uuid.uuid4() for _ in parsed.rows)
    try:
        with ws.transaction() as conn:
            if conn.execute(text("SELECT 1 FROM organizations WHERE id = :id"),
                            {"id": org}).first() is None:
                raise UserFacingError("You are not a member of this organization.")
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                         {"key": f"factorypulse.items-import.{org}"})
            existing = {r[0].casefold() for r in conn.execute(text(
                "SELECT item_code FROM inventory_items WHERE organization_id = :org"),
                {"org": org})}
            taken = [RowError(n, "Item code", f"The item code \u201c{item.item_code}\u201d "
                                              "already exists; delete the row or change the code.")
                     for n, item in parsed.rows if item.item_code.casefold() in existing]
            if taken:
                raise ItemsImportError(taken[:MAX_ERRORS])
            _insert(conn, org, parsed.rows, ids)
    except UserFacingError:
        raise
    except exc.DBAPIError as error:
        if connection_lost(error):
            raise UserFacingError("The connection to the database was lost during the import; "
                                  "nothing was saved. Import the file again.") from error
        raise friendly_error(error) from error
    return ImportReport(len(ids), ids, parsed.encoding, parsed.delimiter)


def _params(org: uuid.UUID, item: ItemEdit, item_id: uuid.UUID) -> dict[str, Any]:
    params = {f: getattr(item, f) for f in _FIELDS}
    params.update(id=item_id, org=org)
    return params


def _insert(conn: Connection, org: uuid.UUID, rows: Sequence[tuple[int, ItemEdit]],
            ids: Sequence[uuid.UUID]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = list(zip(rows[start:start + INSERT_CHUNK], ids[start:start + INSERT_CHUNK],
                         strict=True))
        try:
            with conn.begin_nested():
                conn.execute(_INSERT, [_params(org, item, i) for (_n, item), i in chunk])
        except exc.DBAPIError as error:
            if connection_lost(error):
                raise
            for (number, item), item_id in chunk:  # name the refused row
                try:
                    with conn.begin_nested():
                        conn.execute(_INSERT, _params(org, item, item_id))
                except exc.DBAPIError as refused:
                    if connection_lost(refused):
                        raise
                    state = getattr(getattr(refused, "orig", None), "sqlstate", None)
                    reason = (_NOT_ALLOWED if state == "42501" else
                              f"The database refused this row: "
                              f"{str(friendly_error(refused)).rstrip('.')}.")
                    raise ItemsImportError([RowError(number, None, reason)]) from refused
            raise


# -- export -----------------------------------------------------------------------------------

_EXPORT = text(f"""
SELECT {", ".join("i." + f for f in _FIELDS)},
       coalesce((SELECT sum(b.on_hand) FROM inventory_balances b
                 WHERE b.organization_id = i.organization_id AND b.inventory_item_id = i.id), 0)
           AS on_hand
FROM inventory_items i WHERE i.organization_id = :org ORDER BY i.item_code
""")


def export_items(ws: Workspace, org: uuid.UUID) -> bytes:
    """The organization's items as a CSV file: UTF-8 with BOM, comma, CRLF, formula-safe."""
    rows = units.read(ws, lambda conn: [dict(r._mapping) for r in conn.execute(
        _EXPORT, {"org": org})])
    return spreadsheet_csv([[c.label for c in COLUMNS], *(
        [_cell(c.field, row[c.field]) for c in COLUMNS] for row in rows)])


def _cell(field: str, value: Any) -> str:
    if value is None:
        return ""
    if field == "allow_negative":
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}"
    return str(value)
