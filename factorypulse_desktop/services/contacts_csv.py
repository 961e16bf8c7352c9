"""Contacts from and to CSV files (spreadsheets): parse, import all-or-nothing, export (no Qt).

Parsing (:func:`parse_contacts_csv`) is pure: it never raises for a bad file but returns every
problem found as a :class:`RowError` (spreadsheet row number, column heading, one sentence),
so the GUI can show a table of them before anything is written.

:func:`import_contacts` writes only a file without a single problem, in one transaction on the
signed-in person's own connection (RELIABILITY.md T-IN-04: 0 partial imports). Whatever goes
wrong -- a bad cell, a company that already exists, the database refusing a row (row level
security lets only admin, management, sales and procurement add contacts) -- it raises
:class:`ContactsImportError`, a :class:`UserFacingError` whose ``errors`` list every problem,
and nothing is kept. On success it returns an :class:`ImportReport`.

:func:`export_contacts` writes what the person may read (row level security decides) as UTF-8
with a BOM, every cell that a spreadsheet would run as a formula escaped (T-IN-05,
``domain.csv_safety``). The importer reads the export back unchanged.

Rules chosen here (the GUI's help text should say the same):

* Encodings: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text") or without
  one when the first character shows it, otherwise Windows-1252 (Excel's "CSV" on Western
  Windows). Delimiter ``,``, ``;`` or tab, the one found in the heading row (or an Excel
  ``sep=;`` first line).
* Rows are numbered as a spreadsheet shows them: the heading is row 1, a cell with line
  breaks does not add rows, empty rows still count (they are skipped).
* Lengths in characters: see ``MAX_LENGTHS``; notes up to 500 000 (a 200 KB text fits), at
  most ``MAX_ROWS`` contacts and ``MAX_FILE_BYTES`` per file.
* Credit limit: digits with an optional sign, an optional decimal part of 1 or 2 digits after
  ``.`` or ``,``, and optional thousands separators (space, ``.`` or ``,``) in groups of three.
  When both ``.`` and ``,`` appear, the last one is the decimal mark ("1.234,50", "1,234.50").
  A single ``.`` or ``,`` followed by exactly three digits ("1,234") is refused as ambiguous.
* Capability tags: one cell, tags separated by ``;``, ``|`` or ``,`` (whatever the file's
  delimiter: a quoted cell can hold it, and Excel quotes a cell when it re-saves our export
  with ``;``). A tag cannot itself hold those characters.
* Duplicates: the same company name (compared without case, accents, Unicode form or extra
  spaces, :func:`~factorypulse_desktop.domain.csv_safety.fold_name`) and the same type twice
  in the file, or already in the organization, is a row error. The same name with another
  type (a customer that is also a supplier) is allowed.
* Metadata, AI fields and ids are not exported; imported rows get ``metadata.source =
  "csv_import"``.

Blocking (network): call the database functions from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import driver_error, friendly_error
from factorypulse_desktop.domain.csv_safety import (
    CellProblem,
    clean_cell,
    fold_name,
    spreadsheet_csv,
    unescape_cell,
)
from factorypulse_desktop.domain.enums import ContactType
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import units
from factorypulse_desktop.services.auth import Workspace
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
from factorypulse_desktop.services.workspace import connection_lost

__all__ = [
    "COLUMNS",
    "MAX_FILE_BYTES",
    "MAX_LENGTHS",
    "MAX_ROWS",
    "Column",
    "ContactRow",
    "ContactsImportError",
    "ImportReport",
    "ParsedContacts",
    "RowError",
    "export_contacts",
    "import_contacts",
    "parse_amount",
    "parse_contacts_csv",
]


MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 50_000
MAX_TAGS = 100
MAX_TAG_LENGTH = 100
CREDIT_LIMIT_BOUND = Decimal(10) ** 13  # numeric(15, 2): 13 digits before the point

INSERT_CHUNK = 500  # rows per executemany; a refused chunk is retried row by row to name it

# Longest value per column, in characters after NFC (company name as the admin forms allow).
MAX_LENGTHS: dict[str, int] = {
    "company_name": 200,
    "contact_name": 200,
    "email": 320,
    "phone": 100,
    "address": 1_000,
    "city": 100,
    "state": 100,
    "country": 100,
    "postal_code": 40,
    "website": 2_000,
    "tax_id": 100,
    "payment_terms": 200,
    "notes": 500_000,
}

_TRUE = frozenset({"yes", "y", "true", "t", "1", "active"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "inactive"})
_TAG_SEPARATORS = re.compile(r"[;|,]")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# Spaces people (and Excel in French or Swiss locales) put between thousands.
_NUMBER_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
_AMOUNT = re.compile(
    r"(?P<sign>[-+]?)"
    r"(?P<int>[0-9]{1,3}(?:(?P<group>[ .,])[0-9]{3})(?:(?P=group)[0-9]{3})*|[0-9]+)"
    r"(?:(?P<dec>[.,])(?P<frac>[0-9]{1,2}))?"
)


# -- columns ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column the importer understands: the contacts field, its heading, other spellings."""

    field: str
    label: str  # the heading of the export
    aliases: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("type", "Type", ("contact type", "kind")),
    Column("company_name", "Company name", ("company", "organization", "organisation")),
    Column("contact_name", "Contact name", ("contact", "contact person")),
    Column("email", "E-mail", ("email address", "mail")),
    Column("phone", "Phone", ("telephone", "tel", "phone number")),
    Column("address", "Address", ("street", "street address")),
    Column("city", "City", ("town",)),
    Column("state", "State", ("region", "province")),
    Column("country", "Country"),
    Column("postal_code", "Postal code", ("postcode", "zip", "zip code")),
    Column("website", "Website", ("web", "url", "homepage")),
    Column("tax_id", "Tax ID", ("vat", "vat id", "vat number", "tax number")),
    Column("payment_terms", "Payment terms", ("terms",)),
    Column("credit_limit", "Credit limit"),
    Column("is_active", "Active", ("is active",)),
    Column("notes", "Notes", ("note", "comments", "remarks")),
    Column("capability_tags", "Capabilities", ("capability tags", "tags")),
)




_BY_HEADING: dict[str, Column] = {
    heading_key(spelling): column
    for column in COLUMNS
    for spelling in (column.field, column.label, *column.aliases)
}
_TEXT_FIELDS = tuple(MAX_LENGTHS)


# -- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactRow:
    """One contact of the file, checked and cleaned; ``row`` is its spreadsheet row number."""

    row: int
    company_name: str
    type: ContactType = ContactType.CUSTOMER
    contact_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    postal_code: str | None = None
    website: str | None = None
    tax_id: str | None = None
    payment_terms: str | None = None
    credit_limit: Decimal | None = None
    is_active: bool = True
    notes: str | None = None
    capability_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedContacts:
    """What :func:`parse_contacts_csv` made of a file; import it only when ``errors`` is empty."""

    rows: tuple[ContactRow, ...]
    errors: tuple[RowError, ...]
    encoding: str = ""  # "UTF-8", "UTF-16" or "Windows-1252"; "" when it could not be read
    delimiter: str = ","
    # Column.field -> the heading as written in the file, for the columns the file has.
    columns: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImportReport:
    """A successful import: every row of the file was added."""

    imported: int
    contact_ids: tuple[uuid.UUID, ...]
    encoding: str
    delimiter: str


class ContactsImportError(UserFacingError):
    """Nothing was imported; ``errors`` holds every problem found (for a per-row table)."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors: tuple[RowError, ...] = tuple(errors)
        super().__init__(_summary(self.errors))


def _summary(errors: Sequence[RowError]) -> str:
    """One line for a message box; the GUI shows ``errors`` as a table for the rest."""
    if not errors:
        return "Nothing was imported."
    first = str(errors[0])
    if not first.endswith((".", "?", "!")):
        first += "."
    if len(errors) == 1:
        return f"Nothing was imported. {first}"
    more = f"{len(errors)}+" if len(errors) >= MAX_ERRORS else str(len(errors))
    return f"Nothing was imported: the file has {more} problems. The first: {first}"


# -- parsing ----------------------------------------------------------------------------------


def parse_contacts_csv(data: bytes) -> ParsedContacts:
    """Read a CSV file of contacts; never raises for a bad file (see ``errors``)."""
    errors = RowErrors()
    try:
        return _parse(data, errors)
    except TooManyErrors:
        errors.items.append(RowError(None, None, (
            f"The check stopped after {MAX_ERRORS} problems; fix these first and try again."
        )))
        return ParsedContacts(rows=(), errors=tuple(errors.items))


def _parse(data: bytes, errors: RowErrors) -> ParsedContacts:
    if len(data) > MAX_FILE_BYTES:
        errors.add(None, None, (
            f"The file is too large ({len(data) / 1_048_576:.0f} MB); at most "
            f"{MAX_FILE_BYTES // 1_048_576} MB can be imported at once. Split it into parts."
        ))
        return ParsedContacts(rows=(), errors=tuple(errors.items))
    decoded = decode(data)
    if decoded is None:
        errors.add(None, None, (
            "The file is not text this import can read. In Excel, save it as "
            "\"CSV UTF-8 (comma delimited)\" and try again."
        ))
        return ParsedContacts(rows=(), errors=tuple(errors.items))
    content, encoding = decoded
    content = content.removeprefix("\ufeff")
    delimiter, content = sniff_delimiter(content)
    allow_large_fields()

    records = read_records(content, delimiter, errors)
    header: tuple[int, list[str]] | None = None
    for number, cells in records:
        if not is_blank(cells):
            header = (number, cells)
            break
    if header is None:
        if not errors:
            errors.add(None, None, "The file is empty: it has no heading row.")
        return _result((), errors, encoding, delimiter, {})
    slots = _read_header(header[0], header[1], errors)
    if errors:
        return _result((), errors, encoding, delimiter, {})
    assert slots is not None

    rows: list[ContactRow] = []
    count = 0
    for number, cells in records:
        if is_blank(cells):
            continue  # Excel writes ";;;;" for rows that were once used
        if len(cells) != len(slots):
            errors.add(number, None, (
                f"This row has {len(cells)} cells but the heading row has {len(slots)}. "
                "Check for a stray separator or a quote that is not closed."
            ))
            continue
        count += 1
        if count > MAX_ROWS:
            errors.add(number, None, (
                f"The file has more than {MAX_ROWS:,} contacts; split it into parts."
            ))
            break
        row = _read_row(number, slots, cells, errors)
        if row is not None:
            rows.append(row)
    _check_duplicates_in_file(rows, slots, errors)
    columns = {s.column.field: s.heading for s in slots if s.column is not None}
    return _result(rows, errors, encoding, delimiter, columns)


def _result(
    rows: Iterable[ContactRow], errors: RowErrors, encoding: str, delimiter: str,
    columns: dict[str, str],
) -> ParsedContacts:
    return ParsedContacts(
        rows=tuple(rows) if not errors else (),
        errors=tuple(errors.items),
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
    )


@dataclass(frozen=True)
class _Slot:
    """A column of this file: its heading as written and what it means (None: no heading)."""

    heading: str
    column: Column | None


def _read_header(number: int, cells: Sequence[str], errors: RowErrors) -> list[_Slot] | None:
    slots: list[_Slot] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(cells, start=1):
        try:
            heading = clean_cell(raw)
        except CellProblem as problem:
            errors.add(number, f"column {index}", str(problem))
            continue
        if not heading:
            slots.append(_Slot(f"column {index}", None))
            continue
        column = _BY_HEADING.get(heading_key(heading))
        if column is None:
            unknown.append(heading)
            continue
        if column.field in seen:
            errors.add(number, heading, (
                f"The heading row has the column \u201c{column.label}\u201d twice (as "
                f"\u201c{seen[column.field]}\u201d and \u201c{heading}\u201d); keep one."
            ))
            continue
        seen[column.field] = heading
        slots.append(_Slot(heading, column))
    if unknown:
        names = ", ".join(f"\u201c{u}\u201d" for u in unknown)
        known = ", ".join(c.label for c in COLUMNS)
        errors.add(number, None, (
            f"The heading row has columns this import does not know: {names}. Rename or "
            f"delete them; the known columns are: {known}."
        ))
    if "company_name" not in seen and not errors:
        errors.add(number, None, (
            "The heading row has no \u201cCompany name\u201d column; every contact needs one. "
            "Is the first row of the file the heading row?"
        ))
    return None if errors else slots


def _read_row(
    number: int, slots: Sequence[_Slot], cells: Sequence[str], errors: RowErrors
) -> ContactRow | None:
    values: dict[str, Any] = {}
    before = len(errors.items)
    for slot, raw in zip(slots, cells, strict=True):
        try:
            value = unescape_cell(clean_cell(raw))
        except CellProblem as problem:
            errors.add(number, slot.heading, str(problem))
            continue
        if slot.column is None:
            if value:
                errors.add(number, slot.heading, (
                    "This cell has a value but its column has no heading; add the heading "
                    "or delete the value."
                ))
            continue
        try:
            values[slot.column.field] = _convert(slot.column, value)
        except CellProblem as problem:
            errors.add(number, slot.heading, str(problem))
    if len(errors.items) > before:
        return None
    if not values.get("company_name"):
        errors.add(number, _company_heading(slots), (
            "The company name is missing; every contact needs one."
        ))
        return None
    return ContactRow(row=number, **values)


def _convert(column: Column, value: str) -> Any:
    field = column.field
    if field == "type":
        return _contact_type(value)
    if field == "is_active":
        return _yes_no(value)
    if field == "credit_limit":
        return parse_amount(value)
    if field == "capability_tags":
        return _tags(value)
    limit = MAX_LENGTHS[field]
    if len(value) > limit:
        raise CellProblem(
            f"This text is {len(value):,} characters long; {column.label} holds at most "
            f"{limit:,}."
        )
    return value or None


def _contact_type(value: str) -> ContactType:
    if not value:
        return ContactType.CUSTOMER
    try:
        return ContactType(value.casefold())
    except ValueError:
        choices = ", ".join(t.value for t in ContactType)
        raise CellProblem(
            f"\u201c{value}\u201d is not a contact type; use one of: {choices} "
            "(empty means customer)."
        ) from None


def _yes_no(value: str) -> bool:
    word = value.casefold()
    if not word or word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CellProblem(f"\u201c{value}\u201d is not yes or no; write yes or no (empty means yes).")


def parse_amount(value: str) -> Decimal | None:
    """A credit limit as typed in a spreadsheet ("1234.50", "1 234,50", "1.234,50").

    Raises :class:`CellProblem` for anything else, and for "1,234" or "1.234" (a thousands
    separator or a decimal mark? refused rather than guessed).
    """
    compact = value.translate(_NUMBER_SPACES).strip()
    if not compact:
        return None
    match = _AMOUNT.fullmatch(compact)
    example = "write it like 1234.50 or 1 234,50 (digits only, no currency)"
    if match is None or (match["group"] and match["group"] == match["dec"]):
        raise CellProblem(f"\u201c{value}\u201d is not an amount; {example}.")
    whole = match["int"]
    group = match["group"]
    if group in {".", ","} and whole.count(group) == 1 and not match["dec"]:
        raise CellProblem(
            f"\u201c{value}\u201d is ambiguous: is {group} a thousands separator or the decimal "
            f"mark? Write {whole.replace(group, '')} for a whole amount, or give two decimals."
        )
    digits = whole.replace(group, "") if group else whole
    amount = Decimal(f"{match['sign']}{digits}.{match['frac'] or '0'}").quantize(Decimal("0.01"))
    if abs(amount) >= CREDIT_LIMIT_BOUND:
        raise CellProblem(f"\u201c{value}\u201d is too large for a credit limit.")
    return amount


def _tags(value: str) -> tuple[str, ...]:
    tags: list[str] = []
    seen: set[str] = set()
    for part in _TAG_SEPARATORS.split(value):
        tag = part.strip()
        if not tag or tag.casefold() in seen:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise CellProblem(
                f"The capability \u201c{tag[:40]}\u2026\u201d is longer than {MAX_TAG_LENGTH} "
                "characters; separate capabilities with ; or |."
            )
        seen.add(tag.casefold())
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise CellProblem(f"There are {len(tags)} capabilities; at most {MAX_TAGS} are allowed.")
    return tuple(tags)


def _company_heading(slots: Sequence[_Slot]) -> str:
    return next(s.heading for s in slots if s.column and s.column.field == "company_name")


def _check_duplicates_in_file(
    rows: Sequence[ContactRow], slots: Sequence[_Slot], errors: RowErrors
) -> None:
    first: dict[tuple[ContactType, str], int] = {}
    for row in rows:
        key = (row.type, fold_name(row.company_name))
        if key in first:
            errors.add(row.row, _company_heading(slots), (
                f"\u201c{row.company_name}\u201d ({row.type.value}) is already on row "
                f"{first[key]}; a company can be in the file only once per type."
            ))
        else:
            first[key] = row.row


# -- database ---------------------------------------------------------------------------------


def _check_member(conn: Connection, organization_id: uuid.UUID) -> None:
    found = conn.execute(
        text("SELECT 1 FROM organizations WHERE id = :id"), {"id": organization_id}
    ).first()
    if found is None:  # row level security: not a member (or no longer an active one)
        raise UserFacingError("You are not a member of this organization.")


_EXISTING = text(
    "SELECT type::text AS type, company_name FROM contacts WHERE organization_id = :org"
)

_INSERT = text(
    """
    INSERT INTO contacts (
        id, organization_id, type, company_name, contact_name, email, phone, address, city,
        state, country, postal_code, website, tax_id, payment_terms, credit_limit, is_active,
        notes, capability_tags, metadata)
    VALUES (
        :id, :org, CAST(:type AS contact_type), :company_name, :contact_name, :email, :phone,
        :address, :city, :state, :country, :postal_code, :website, :tax_id, :payment_terms,
        :credit_limit, :is_active, :notes, CAST(:capability_tags AS text[]),
        CAST(:metadata AS jsonb))
    """
)

_IMPORT_METADATA = json.dumps({"source": "csv_import"})
_NOT_ALLOWED = (
    "You are not allowed to add contacts in this organization; only administrators, "
    "management, sales and procurement can import them."
)
_LOST_DURING_IMPORT = (
    "The connection to the database was lost during the import. Import the file again once "
    "the connection is back: if the first attempt was saved after all, every row will be "
    "reported as existing and nothing is added twice."
)


def import_contacts(ws: Workspace, organization_id: uuid.UUID, data: bytes) -> ImportReport:
    """Add every contact of the CSV file ``data`` to the organization, or none of them.

    Raises :class:`ContactsImportError` (nothing was written) listing each problem: a cell
    that cannot be read, a company already in the organization or twice in the file, a row
    the database refuses (for instance: the person may not add contacts).
    """
    parsed = parse_contacts_csv(data)
    if parsed.errors:
        raise ContactsImportError(parsed.errors)
    if not parsed.rows:
        raise ContactsImportError([RowError(None, None, (
            "The file has no contacts to import, only the heading row."
        ))])
    ids = tuple(uuid.uuid4() for _ in parsed.rows)
    try:
        with ws.transaction() as conn:
            _check_member(conn, organization_id)
            # Two imports at the same time would each miss the other's rows when checking
            # for duplicates: one import per organization at a time.
            conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": f"factorypulse.contacts-import.{organization_id}"},
            )
            existing = conn.execute(_EXISTING, {"org": organization_id}).all()
            duplicates = _existing_duplicates(
                parsed.rows, existing, parsed.columns.get("company_name", "Company name")
            )
            if duplicates:
                raise ContactsImportError(duplicates)
            _insert(conn, organization_id, parsed.rows, ids)
    except UserFacingError:
        raise
    except exc.DBAPIError as error:
        if connection_lost(error):
            raise UserFacingError(_LOST_DURING_IMPORT) from error
        raise friendly_error(error) from error
    return ImportReport(
        imported=len(ids), contact_ids=ids, encoding=parsed.encoding,
        delimiter=parsed.delimiter,
    )


def _existing_duplicates(
    rows: Sequence[ContactRow], existing: Sequence[Any], heading: str
) -> list[RowError]:
    known = {(r.type, fold_name(r.company_name)): r.company_name for r in existing}
    problems: list[RowError] = []
    for row in rows:
        name = known.get((row.type.value, fold_name(row.company_name)))
        if name is not None:
            same = "" if name == row.company_name else f" (as \u201c{name}\u201d)"
            problems.append(RowError(row.row, heading, (
                f"\u201c{row.company_name}\u201d already exists as a {row.type.value}{same}; "
                "delete the row or change the name."
            )))
            if len(problems) >= MAX_ERRORS:
                break
    return problems


def _params(organization_id: uuid.UUID, row: ContactRow, contact_id: uuid.UUID) -> dict[str, Any]:
    params: dict[str, Any] = {field: getattr(row, field) for field in _TEXT_FIELDS}
    params.update(
        id=contact_id,
        org=organization_id,
        type=row.type.value,
        credit_limit=row.credit_limit,
        is_active=row.is_active,
        capability_tags=list(row.capability_tags),
        metadata=_IMPORT_METADATA,
    )
    return params


def _insert(
    conn: Connection, organization_id: uuid.UUID, rows: Sequence[ContactRow],
    ids: Sequence[uuid.UUID],
) -> None:
    """Insert in chunks (one round trip each); find the refused row of a refused chunk."""
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = list(zip(rows[start:start + INSERT_CHUNK], ids[start:start + INSERT_CHUNK],
                         strict=True))
        try:
            with conn.begin_nested():
                conn.execute(_INSERT, [_params(organization_id, r, i) for r, i in chunk])
        except exc.DBAPIError as error:
            if connection_lost(error):
                raise
            # Back at the savepoint: again row by row; the first refusal names the row, and
            # the exception rolls the whole transaction back.
            for row, contact_id in chunk:
                try:
                    conn.execute(_INSERT, _params(organization_id, row, contact_id))
                except exc.DBAPIError as refused:
                    if connection_lost(refused):
                        raise
                    raise ContactsImportError([_refusal(row, refused)]) from refused
            raise  # the chunk failed but no single row did (should not happen)


def _refusal(row: ContactRow, error: exc.DBAPIError) -> RowError:
    if getattr(driver_error(error), "sqlstate", None) == "42501":  # row level security
        return RowError(row.row, None, _NOT_ALLOWED)
    reason = str(friendly_error(error)).rstrip(".")
    return RowError(row.row, None, f"The database refused this row: {reason}.")


# -- export -----------------------------------------------------------------------------------

_EXPORT = text(
    """
    SELECT type::text AS type, company_name, contact_name, email, phone, address, city, state,
           country, postal_code, website, tax_id, payment_terms, credit_limit, is_active, notes,
           capability_tags
    FROM contacts WHERE organization_id = :org
    """
)


def export_contacts(ws: Workspace, organization_id: uuid.UUID) -> bytes:
    """The organization's contacts the person may read, as a CSV file for spreadsheets.

    UTF-8 with BOM, comma-separated, CRLF line ends, the headings of ``COLUMNS``; sorted by
    company name (without regard to case or accents), then type.
    """

    def read(conn: Connection) -> list[dict[str, Any]]:
        _check_member(conn, organization_id)
        return [dict(r._mapping) for r in conn.execute(_EXPORT, {"org": organization_id})]

    contacts = units.read(ws, read)
    contacts.sort(key=lambda c: (fold_name(c["company_name"]), c["company_name"], c["type"]))
    return spreadsheet_csv([[c.label for c in COLUMNS], *(
        [_export_cell(c.field, contact[c.field]) for c in COLUMNS] for contact in contacts)])


def _export_cell(field: str, value: Any) -> str:
    if value is None:
        return ""
    if field == "is_active":
        return "yes" if value else "no"
    if field == "capability_tags":
        return "; ".join(value)
    if field == "credit_limit":
        return f"{value:f}"  # "1234.50": the importer reads "." before 2 digits as decimal
    return str(value)
