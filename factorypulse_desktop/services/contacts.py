"""Contacts: the list, one contact's card, saving, archiving, duplicates and merging (no Qt).

Customers, suppliers, partners and the organization itself, as rows of ``contacts``. Lists are
read in keyset pages like the projects list (``services/projects.py``): sorts come from an
allowlist (``SORTS``, T-IN-02) and end with the id, filters are bound parameters.

Everything runs as the signed-in person on their own connection, so row level security
decides: internal staff read every contact of their organization; administrators,
management, sales and procurement add and change them. The checks made here only turn a
refusal into a plain sentence.

Saves are optimistic: the caller passes the ``version`` it loaded and the update matches on
it; when someone saved in between, :class:`ContactConflictError` carries what they saved and
nothing is written. Contacts are archived (``is_active = false``), never deleted here.

Merging (:func:`merge_contacts`) moves every reference to the merged contacts onto the kept
one in one transaction (``REFERENCES`` lists them; a test compares it with the catalog),
fills the kept contact's empty fields, unites the capability tags and archives the merged
contacts with a note saying where they went. Any refusal -- a stale version, a row the person
may not change -- rolls all of it back.

Blocking (network, files): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import driver_error, friendly_error
from factorypulse_desktop.domain.csv_safety import CellProblem
from factorypulse_desktop.domain.enums import ContactType, Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.field_changes import field_label
from factorypulse_desktop.domain.text import FieldError, clean_text
from factorypulse_desktop.services import contacts_csv, units
from factorypulse_desktop.services.auth import Workspace
from factorypulse_desktop.services.contacts_csv import ImportReport

__all__ = [
    "ACTIVE_CHOICES",
    "EDITOR_ROLES",
    "PAGE_SIZE",
    "REFERENCES",
    "SORTS",
    "ContactConflictError",
    "ContactDetail",
    "ContactEdit",
    "ContactFieldError",
    "ContactFilter",
    "ContactRow",
    "DuplicateCandidate",
    "DuplicateGroup",
    "MergeRefusedError",
    "MergeReport",
    "Page",
    "Reference",
    "Sort",
    "can_edit",
    "check_contact",
    "export_contacts_file",
    "find_duplicates",
    "get_contact",
    "get_contacts",
    "import_contacts_file",
    "list_capability_tags",
    "list_contacts",
    "merge_contacts",
    "normalize_tags",
    "parse_credit_limit",
    "parse_tags",
    "save_contact",
    "set_active",
]


PAGE_SIZE = 100
MAX_DUPLICATE_GROUPS = 50
MAX_LENGTHS = contacts_csv.MAX_LENGTHS  # the same limits as the CSV import
MAX_TAGS = contacts_csv.MAX_TAGS
MAX_TAG_LENGTH = contacts_csv.MAX_TAG_LENGTH
CREDIT_LIMIT_BOUND = contacts_csv.CREDIT_LIMIT_BOUND

# Who may add and change contacts (the contacts INSERT/UPDATE policies); the rest only read.
EDITOR_ROLES = frozenset({Role.ADMIN, Role.MANAGEMENT, Role.SALES, Role.PROCUREMENT})
ACTIVE_CHOICES = ("active", "inactive", "all")

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TAG_SEPARATORS = re.compile(r"[;|,]")
# Company names compared without case, accents or extra spaces (as services/intake.py does).
_FOLDED = "lower(regexp_replace(public.unaccent(btrim({col})), '\\s+', ' ', 'g'))"
# The import takes the same lock: two saves (or a save and an import) never both miss the
# other's new company when they check for an existing one.
_NAMES_LOCK = "factorypulse.contacts-import.{org}"

_NOT_ALLOWED = (
    "You may not change contacts in this organization; only administrators, management, "
    "sales and procurement can."
)
_NOT_ALLOWED_ADD = (
    "You may not add contacts in this organization; only administrators, management, sales "
    "and procurement can."
)
_GONE = "This contact no longer exists, or you may no longer see it."
_CONFLICT = (
    "Someone else saved this contact while you were editing it. Your changes are still in the "
    "form: compare them with the saved version, then save again."
)

# Text fields of a contact as the form and the table hold them (credit limit, type, tags and
# the active flag are handled apart).
TEXT_FIELDS: tuple[str, ...] = (
    "company_name", "contact_name", "email", "phone", "address", "city", "state", "country",
    "postal_code", "website", "tax_id", "payment_terms", "notes",
)
# One wording for a contact's fields here and in the activity log.
_LABELS: dict[str, str] = {name: field_label(name) for name in (
    "type", *TEXT_FIELDS, "credit_limit", "capability_tags")}
# Filled as one block in a merge: an address is not mixed from two contacts.
_ADDRESS_BLOCK = ("address", "city", "state", "postal_code", "country")
_SINGLE_FILL = ("contact_name", "email", "phone", "website", "tax_id", "payment_terms",
                "credit_limit", "notes")


# -- values -----------------------------------------------------------------------------------


def can_edit(role: Role | None) -> bool:
    """Whether the role may add and change contacts (the database decides in the end)."""
    return role in EDITOR_ROLES


@dataclass(frozen=True)
class ContactRow:
    """One contact as the list shows it."""

    id: uuid.UUID
    type: ContactType
    company_name: str
    contact_name: str | None
    email: str | None
    phone: str | None
    city: str | None
    country: str | None
    is_active: bool
    capability_tags: tuple[str, ...]
    updated_at: dt.datetime
    version: int


@dataclass(frozen=True)
class ContactFilter:
    """``text``: every word somewhere in company, contact name, e-mail or city (case and
    accents do not count); ``active``: one of ``ACTIVE_CHOICES``; ``capability``: contacts
    with that tag (case does not count), "" for any."""

    text: str = ""
    types: tuple[ContactType, ...] = ()
    active: str = "active"
    capability: str = ""


@dataclass(frozen=True)
class Sort:
    """One of ``SORTS``, ascending or descending."""

    key: str = "company"
    descending: bool = False


@dataclass(frozen=True)
class Page:
    rows: list[ContactRow]
    next_after: tuple[Any, ...] | None
    """Pass as ``after`` for the next page; None when this was the last."""
    total: int | None = None
    """How many contacts match the filter (first page only; None on later pages)."""


@dataclass(frozen=True)
class ContactEdit:
    """What a person typed for a contact (before :func:`check_contact` cleans it)."""

    company_name: str = ""
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
    notes: str | None = None
    capability_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContactDetail:
    """Every field of one contact, its lock version and what refers to it."""

    id: uuid.UUID
    organization_id: uuid.UUID
    type: ContactType
    company_name: str
    contact_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    city: str | None
    state: str | None
    country: str | None
    postal_code: str | None
    website: str | None
    tax_id: str | None
    payment_terms: str | None
    credit_limit: Decimal | None
    is_active: bool
    notes: str | None
    capability_tags: tuple[str, ...]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str | None = None
    """The display name of the person who added it (None: unknown or imported)."""
    project_count: int = 0
    rfq_count: int = 0
    purchase_order_count: int = 0
    portal_login_count: int = 0
    merged_into: uuid.UUID | None = None
    merged_into_name: str | None = None

    def as_edit(self) -> ContactEdit:
        return ContactEdit(**{f.name: getattr(self, f.name) for f in fields(ContactEdit)})


class ContactConflictError(UserFacingError):
    """Someone saved the contact after it was loaded; ``current`` is what is saved now
    (None when it is gone or no longer visible)."""

    def __init__(self, message: str, current: ContactDetail | None = None) -> None:
        super().__init__(message)
        self.current = current


class ContactFieldError(UserFacingError):
    """A value of the form cannot be stored; ``field`` names the ``ContactEdit`` field (as
    ``domain.text.FieldError`` does, but a sentence for the person)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class MergeRefusedError(UserFacingError):
    """The merge cannot be done as asked; nothing was changed."""


@dataclass(frozen=True)
class Reference:
    """A column that refers to a contact: re-pointed by a merge."""

    table: str
    column: str
    label: str  # plural, for messages: "projects"


# Every foreign key to contacts (a test compares this with pg_constraint). Identifiers in SQL
# come from here only.
REFERENCES: tuple[Reference, ...] = (
    Reference("projects", "customer_id", "projects"),
    Reference("supplier_rfqs", "supplier_id", "supplier RFQs"),
    Reference("supplier_quotes", "supplier_id", "supplier quotes"),
    Reference("purchase_orders", "supplier_id", "purchase orders"),
    Reference("inventory_items", "preferred_supplier_id", "inventory items (preferred supplier)"),
    Reference("memberships", "contact_id", "portal logins"),
)


@dataclass(frozen=True)
class DuplicateCandidate:
    """One contact of a duplicate group, with what refers to it (to choose which to keep)."""

    id: uuid.UUID
    company_name: str
    contact_name: str | None
    email: str | None
    city: str | None
    country: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    project_count: int
    rfq_count: int
    purchase_order_count: int
    portal_login_count: int

    @property
    def reference_count(self) -> int:
        return self.project_count + self.rfq_count + self.purchase_order_count


@dataclass(frozen=True)
class DuplicateGroup:
    """Active contacts of one type whose company names are the same up to case, accents and
    spacing; ``contacts`` oldest first."""

    type: ContactType
    name: str
    contacts: tuple[DuplicateCandidate, ...]

    def suggested_keep(self) -> DuplicateCandidate:
        """The one with portal logins, else the most referred to, else the oldest."""
        return sorted(self.contacts, key=lambda c: (-c.portal_login_count, -c.reference_count,
                                                    c.created_at, str(c.id)))[0]


@dataclass(frozen=True)
class MergeReport:
    kept_id: uuid.UUID
    kept_name: str
    merged_ids: tuple[uuid.UUID, ...]
    moved: dict[str, int]
    """Table name (``Reference.table``) -> references moved to the kept contact, every table
    of ``REFERENCES`` included (0 when none)."""
    filled_fields: tuple[str, ...]
    added_tags: tuple[str, ...]
    version: int
    """The kept contact's new lock version."""

    @property
    def total_moved(self) -> int:
        return sum(self.moved.values())


# -- validation -------------------------------------------------------------------------------


def parse_tags(value: str) -> tuple[str, ...]:
    """Capabilities typed in one field, separated by commas, semicolons or bars."""
    return tuple(part for part in _TAG_SEPARATORS.split(value or "") if part.strip())


def normalize_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """Trimmed, NFC, empty ones dropped, the same tag twice (ignoring case) kept once (the
    first spelling wins). Raises :class:`ContactFieldError` for a tag that cannot be kept."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in tags:
        try:
            tag = clean_text(raw, field="capability_tags", label="A capability",
                             max_length=MAX_TAG_LENGTH)
        except FieldError as error:
            raise ContactFieldError(error.field, error.message) from None
        if tag is None:
            continue
        if _TAG_SEPARATORS.search(tag):
            raise ContactFieldError("capability_tags", (
                f"The capability \u201c{tag}\u201d contains , ; or |, which separate "
                "capabilities; write it without them."))
        tag = " ".join(tag.split())
        key = tag.casefold()
        if key not in seen:
            seen.add(key)
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise ContactFieldError("capability_tags", (
            f"There are {len(out)} capabilities; at most {MAX_TAGS} are allowed."))
    return tuple(out)


def parse_credit_limit(value: str) -> Decimal | None:
    """A credit limit as typed ("25000", "25 000,50", "25,000.50"); None when empty."""
    try:
        amount = contacts_csv.parse_amount(value or "")
    except CellProblem as problem:
        raise ContactFieldError("credit_limit", str(problem)) from None
    return _check_credit_limit(amount)


def _check_credit_limit(amount: Decimal | None) -> Decimal | None:
    if amount is None:
        return None
    if not amount.is_finite():
        raise ContactFieldError("credit_limit", "The credit limit is not an amount.")
    if amount < 0:
        raise ContactFieldError("credit_limit", "A credit limit cannot be negative.")
    if amount >= CREDIT_LIMIT_BOUND:
        raise ContactFieldError("credit_limit", "The credit limit is too large.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ContactFieldError("credit_limit", "A credit limit has at most two decimals.")
    return amount.quantize(Decimal("0.01"))


def check_contact(edit: ContactEdit) -> ContactEdit:
    """``edit`` cleaned (trimmed, NFC, empty -> None, tags normalised) or
    :class:`ContactFieldError` naming the first field at fault."""
    try:
        contact_type = ContactType(edit.type)
    except ValueError:
        raise ContactFieldError("type", f"\u201c{edit.type}\u201d is not a contact type.") from None
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        try:
            values[name] = clean_text(
                getattr(edit, name), field=name, label=_LABELS[name],
                max_length=MAX_LENGTHS[name], required=name == "company_name")
        except FieldError as error:
            raise ContactFieldError(error.field, error.message) from None
    # One line each, except address and notes: a pasted tab or line break becomes a space.
    for name in TEXT_FIELDS:
        if name not in ("address", "notes") and values[name] is not None:
            values[name] = " ".join(values[name].split())
    email = values["email"]
    if email is not None and not _EMAIL_RE.match(email):
        raise ContactFieldError("email", f"\u201c{email}\u201d is not an e-mail address.")
    return ContactEdit(
        type=contact_type,
        credit_limit=_check_credit_limit(edit.credit_limit),
        capability_tags=normalize_tags(edit.capability_tags),
        **values,
    )


def _folded(name: str) -> str:
    """Python's match of the SQL fold used for duplicates (only for messages and tests)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


# -- database helpers -------------------------------------------------------------------------


def _check_member(conn: Connection, organization_id: uuid.UUID) -> None:
    found = conn.execute(
        text("SELECT 1 FROM organizations WHERE id = :id"), {"id": organization_id}
    ).first()
    if found is None:  # row level security: not a member (or no longer an active one)
        raise UserFacingError("You are not a member of this organization.")


def _refused_by_rls(error: BaseException) -> bool:
    return getattr(driver_error(error), "sqlstate", None) == "42501"


# -- the list ---------------------------------------------------------------------------------

# Sort key -> SQL expression. Text is compared without accents (the database collates "C").
SORTS: dict[str, str] = {
    "company": "lower(public.unaccent(c.company_name))",
    "type": "c.type",
    "city": "lower(public.unaccent(coalesce(c.city, '')))",
    "country": "lower(public.unaccent(coalesce(c.country, '')))",
    "updated": "c.updated_at",
}

_ROW_COLUMNS = """
c.id, c.type::text AS type, c.company_name, c.contact_name, c.email, c.phone, c.city,
c.country, c.is_active, c.capability_tags, c.updated_at, c.version"""


def _where(organization_id: uuid.UUID, flt: ContactFilter, params: dict[str, Any]) -> str:
    """The filter as SQL with bound parameters (added to ``params``)."""
    params["org"] = organization_id
    parts = ["c.organization_id = :org"]
    if flt.active == "active":
        parts.append("c.is_active")
    elif flt.active == "inactive":
        parts.append("NOT c.is_active")
    elif flt.active != "all":
        raise UserFacingError(f'"{flt.active}" is not one of: active, inactive, all.')
    if flt.types:
        known = {t.value for t in ContactType}
        unknown = [str(t) for t in flt.types if str(t) not in known]
        if unknown:  # T-IN-02: a type that is not one of ours, in words
            raise UserFacingError(f'"{unknown[0]}" is not a contact type.')
        params["types"] = [ContactType(t).value for t in flt.types]
        parts.append("c.type::text = ANY (:types)")
    tag = " ".join((flt.capability or "").replace("\x00", "").split())[:MAX_TAG_LENGTH]
    if tag:
        params["tag"] = tag
        parts.append("EXISTS (SELECT 1 FROM unnest(c.capability_tags) AS t (tag) WHERE "
                     "lower(public.unaccent(t.tag)) = lower(public.unaccent(:tag)))")
    words = flt.text.replace("\x00", "").split()[:8]
    for i, word in enumerate(words):
        key = f"w{i}"
        params[key] = "%" + word[:100].replace("\\", "\\\\").replace("%", "\\%").replace(
            "_", "\\_") + "%"
        pattern = f"public.unaccent(:{key})"
        parts.append(
            f"(public.unaccent(c.company_name) ILIKE {pattern} "
            f"OR public.unaccent(c.contact_name) ILIKE {pattern} "
            f"OR public.unaccent(c.email) ILIKE {pattern} "
            f"OR public.unaccent(c.city) ILIKE {pattern})")
    return " AND ".join(parts)


def list_contacts(ws: Workspace, organization_id: uuid.UUID, flt: ContactFilter | None = None,
                  sort: Sort | None = None, *, after: Sequence[Any] | None = None,
                  limit: int = PAGE_SIZE) -> Page:
    """One page of the organization's contacts matching ``flt``, in ``sort`` order.

    The first page (``after`` None) also counts every match (``Page.total``).
    """
    flt, sort = flt or ContactFilter(), sort or Sort()
    expr = SORTS.get(sort.key)
    if expr is None:  # T-IN-02: never an identifier from outside
        raise UserFacingError(f'Contacts cannot be sorted by "{sort.key}".')
    params: dict[str, Any] = {"limit": max(1, min(limit, 1000)) + 1}
    where = _where(organization_id, flt, params)
    count_sql = text(f"SELECT count(*) FROM contacts c WHERE {where}")
    direction = "DESC" if sort.descending else "ASC"
    keyset = ""
    if after is not None:
        params["after_key"], params["after_id"] = after
        keyset = (f" AND ({expr}, c.id) {'<' if sort.descending else '>'} "
                  "(:after_key, :after_id)")
    sql = text(f"SELECT {_ROW_COLUMNS}, {expr} AS sort_key FROM contacts c "
               f"WHERE {where}{keyset} ORDER BY {expr} {direction}, c.id {direction} "
               "LIMIT :limit")

    def read(conn: Connection) -> Page:
        found = list(conn.execute(sql, params))
        page = found[: params["limit"] - 1]  # one more was asked for, to know if more exist
        more = len(found) > len(page)
        next_after = (page[-1].sort_key, page[-1].id) if more and page else None
        total = None
        if after is None:
            total = len(page) if not more else int(conn.execute(count_sql, params).scalar_one())
        return Page([_row(r) for r in page], next_after, total)

    return units.read(ws, read)


def get_contacts(ws: Workspace, ids: Sequence[uuid.UUID]) -> list[ContactRow]:
    """The current rows of ``ids`` that the person may see (for live updates in place)."""
    if not ids:
        return []
    sql = text(f"SELECT {_ROW_COLUMNS} FROM contacts c WHERE c.id = ANY (:ids)")
    return units.read(ws, lambda conn: [_row(r) for r in conn.execute(sql, {"ids": list(ids)})])


def list_capability_tags(ws: Workspace, organization_id: uuid.UUID) -> list[str]:
    """Every capability used by the organization's contacts, once each (ignoring case; the
    most used spelling), sorted."""
    sql = text("SELECT t.tag, count(*) AS n FROM contacts c, unnest(c.capability_tags) "
               "AS t (tag) WHERE c.organization_id = :org GROUP BY t.tag")
    rows = units.read(ws, lambda conn: list(conn.execute(sql, {"org": organization_id}).all()))
    totals: dict[str, int] = {}
    spelling: dict[str, tuple[int, str]] = {}
    for row in rows:
        tag = " ".join(str(row.tag).split())
        if not tag:
            continue
        key, count = tag.casefold(), int(row.n)
        totals[key] = totals.get(key, 0) + count
        if key not in spelling or (count, tag) > spelling[key]:
            spelling[key] = (count, tag)
    return sorted((tag for _n, tag in spelling.values()), key=lambda t: (t.casefold(), t))


def _row(r: Any) -> ContactRow:
    return ContactRow(
        id=r.id, type=ContactType(r.type), company_name=r.company_name,
        contact_name=r.contact_name, email=r.email, phone=r.phone, city=r.city,
        country=r.country, is_active=r.is_active, capability_tags=tuple(r.capability_tags or ()),
        updated_at=r.updated_at, version=r.version)


# -- one contact ------------------------------------------------------------------------------

_DETAIL = text("""
SELECT c.id, c.organization_id, c.type::text AS type, c.company_name, c.contact_name, c.email,
       c.phone, c.address, c.city, c.state, c.country, c.postal_code, c.website, c.tax_id,
       c.payment_terms, c.credit_limit, c.is_active, c.notes, c.capability_tags, c.version,
       c.created_at, c.updated_at, p.display_name AS created_by,
       (SELECT count(*) FROM projects x WHERE x.organization_id = c.organization_id
        AND x.customer_id = c.id) AS project_count,
       (SELECT count(*) FROM supplier_rfqs x WHERE x.organization_id = c.organization_id
        AND x.supplier_id = c.id) AS rfq_count,
       (SELECT count(*) FROM purchase_orders x WHERE x.organization_id = c.organization_id
        AND x.supplier_id = c.id) AS purchase_order_count,
       (SELECT count(*) FROM memberships x WHERE x.organization_id = c.organization_id
        AND x.contact_id = c.id) AS portal_login_count,
       c.metadata ->> 'merged_into' AS merged_into,
       (SELECT m.company_name FROM contacts m WHERE m.organization_id = c.organization_id
        AND m.id::text = c.metadata ->> 'merged_into') AS merged_into_name
FROM contacts c
LEFT JOIN persons p ON p.id = c.created_by
WHERE c.id = :id
""")


def _detail(conn: Connection, contact_id: uuid.UUID) -> ContactDetail | None:
    r = conn.execute(_DETAIL, {"id": contact_id}).one_or_none()
    if r is None:
        return None
    merged_into: uuid.UUID | None = None
    if r.merged_into:
        try:
            merged_into = uuid.UUID(r.merged_into)
        except ValueError:
            merged_into = None
    return ContactDetail(
        id=r.id, organization_id=r.organization_id, type=ContactType(r.type),
        company_name=r.company_name, contact_name=r.contact_name, email=r.email,
        phone=r.phone, address=r.address, city=r.city, state=r.state, country=r.country,
        postal_code=r.postal_code, website=r.website, tax_id=r.tax_id,
        payment_terms=r.payment_terms, credit_limit=r.credit_limit, is_active=r.is_active,
        notes=r.notes, capability_tags=tuple(r.capability_tags or ()), version=r.version,
        created_at=r.created_at, updated_at=r.updated_at, created_by=r.created_by,
        project_count=int(r.project_count), rfq_count=int(r.rfq_count),
        purchase_order_count=int(r.purchase_order_count),
        portal_login_count=int(r.portal_login_count), merged_into=merged_into,
        merged_into_name=r.merged_into_name)


def get_contact(ws: Workspace, contact_id: uuid.UUID) -> ContactDetail:
    """Every field of the contact, its version and counts of what refers to it."""
    found = units.read(ws, lambda conn: _detail(conn, contact_id))
    if found is None:
        raise UserFacingError(_GONE)
    return found


_EDIT_PARAMS = (*TEXT_FIELDS, "credit_limit")
_INSERT = text(f"""
INSERT INTO contacts (id, organization_id, type, {", ".join(_EDIT_PARAMS)}, capability_tags)
VALUES (:id, :org, CAST(:type AS contact_type), {", ".join(":" + f for f in _EDIT_PARAMS)},
        CAST(:capability_tags AS text[]))
RETURNING id
""")
_UPDATE = text(f"""
UPDATE contacts SET type = CAST(:type AS contact_type),
    {", ".join(f"{f} = :{f}" for f in _EDIT_PARAMS)},
    capability_tags = CAST(:capability_tags AS text[])
WHERE id = :id AND organization_id = :org AND version = :expected
RETURNING id
""")


def _edit_params(edit: ContactEdit) -> dict[str, Any]:
    params: dict[str, Any] = {name: getattr(edit, name) for name in _EDIT_PARAMS}
    params["type"] = edit.type.value
    params["capability_tags"] = list(edit.capability_tags)
    return params


def _why_unchanged(conn: Connection, contact_id: uuid.UUID, expected: int) -> UserFacingError:
    """An update matched no row: the contact is gone, was saved meanwhile, or RLS said no."""
    current = _detail(conn, contact_id)
    if current is None:
        return UserFacingError(_GONE)
    if current.version != expected:
        return ContactConflictError(_CONFLICT, current)
    return UserFacingError(_NOT_ALLOWED)


def _same_name_exists(conn: Connection, organization_id: uuid.UUID, edit: ContactEdit,
                      contact_id: uuid.UUID | None) -> str | None:
    """The name of another active contact of the same type and company name, if any."""
    row = conn.execute(text(f"""
        SELECT c.company_name FROM contacts c
        WHERE c.organization_id = :org AND c.is_active AND c.type = CAST(:type AS contact_type)
          AND {_FOLDED.format(col="c.company_name")} = {_FOLDED.format(col=":name")}
          AND (CAST(:id AS uuid) IS NULL OR c.id <> CAST(:id AS uuid))
        ORDER BY c.created_at LIMIT 1"""),
        {"org": organization_id, "type": edit.type.value, "name": edit.company_name,
         "id": contact_id}).first()
    return None if row is None else str(row.company_name)


def save_contact(ws: Workspace, organization_id: uuid.UUID, contact_id: uuid.UUID | None,
                 edit: ContactEdit, expected_version: int | None = None, *,
                 new_id: uuid.UUID | None = None) -> ContactDetail:
    """Add a contact (``contact_id`` None) or change one that is still at
    ``expected_version``; returns it as saved.

    A new contact gets the id ``new_id``, chosen by the caller when the form opens and passed
    again when Save is pressed again: when the connection broke after the database had stored
    it (the answer lost, not the save), it is found by that id and returned, never stored
    twice (T-NET-03) -- and the duplicate-name refusal does not mistake it for another one.

    Raises :class:`ContactFieldError` for input that cannot be stored (nothing is sent),
    :class:`ContactConflictError` when someone saved it meanwhile (nothing is changed), and a
    :class:`UserFacingError` when the database refuses (the person may not change contacts).
    A new company name that an active contact of the same type already has is refused too.

    A change of a contact whose connection broke on the way is found the same way by its
    version: when the contact holds exactly ``edit``, saved by this person after
    ``expected_version``, it is returned -- also when Save is pressed again with the old
    version: no conflict with oneself, nothing saved twice (T-NET-03).
    """
    clean = check_contact(edit)
    if contact_id is not None and expected_version is None:
        raise ValueError("changing a contact needs the version it was loaded at")
    client_id: uuid.UUID = new_id or uuid.uuid4()
    me = ws.identity.person_id

    def landed(conn: Connection) -> ContactDetail | None:
        if contact_id is not None:
            assert expected_version is not None
            return _my_change_landed(conn, organization_id, contact_id, expected_version, me,
                                     lambda stored: stored.as_edit() == clean)
        found = _detail(conn, client_id)
        return found if found is not None and found.organization_id == organization_id \
            else None

    def run(conn: Connection) -> ContactDetail:
        _check_member(conn, organization_id)
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                     {"key": _NAMES_LOCK.format(org=organization_id)})
        if contact_id is None:
            stored = landed(conn)
            if stored is not None:  # saved before; its answer was lost
                return stored
        check_name = True
        if contact_id is not None:
            before = _detail(conn, contact_id)
            if before is None or before.organization_id != organization_id:
                raise UserFacingError(_GONE)
            if before.version != expected_version:
                mine = landed(conn)  # pressed again after a save whose answer was lost
                if mine is not None:
                    return mine
                raise ContactConflictError(_CONFLICT, before)
            check_name = (before.type != clean.type
                          or _folded(before.company_name) != _folded(clean.company_name))
        if check_name:
            existing = _same_name_exists(conn, organization_id, clean, contact_id)
            if existing is not None:
                same = "" if existing == clean.company_name else f" (as \u201c{existing}\u201d)"
                raise ContactFieldError("company_name", (
                    f"\u201c{clean.company_name}\u201d already exists as a {clean.type.value}"
                    f"{same}; open that contact instead, or use Find duplicates to merge them."))
        params = _edit_params(clean)
        params["org"] = organization_id
        if contact_id is None:
            params["id"] = client_id
            try:
                with conn.begin_nested():
                    saved_id = conn.execute(_INSERT, params).scalar_one()
            except exc.DBAPIError as error:
                if _refused_by_rls(error):
                    raise UserFacingError(_NOT_ALLOWED_ADD) from error
                raise
        else:
            params.update(id=contact_id, expected=expected_version)
            try:
                with conn.begin_nested():
                    saved_id = conn.execute(_UPDATE, params).scalar_one_or_none()
            except exc.DBAPIError as error:
                if _refused_by_rls(error):
                    raise UserFacingError(_NOT_ALLOWED) from error
                raise
            if saved_id is None:
                assert expected_version is not None
                raise _why_unchanged(conn, contact_id, expected_version)
        saved = _detail(conn, saved_id)
        if saved is None:  # pragma: no cover - saved in this very transaction
            raise UserFacingError(_GONE)
        return saved

    # A lost connection: the save is found by its client id or by its version, author and
    # values, or nothing was stored; the form keeps its values either way.
    return units.write_once(ws, run, landed)


def _my_change_landed(conn: Connection, organization_id: uuid.UUID, contact_id: uuid.UUID,
                      expected_version: int, me: uuid.UUID,
                      holds: Callable[[ContactDetail], bool]) -> ContactDetail | None:
    """The contact, if it `holds` the change and every save of it after `expected_version`
    was mine; else None (nothing of mine landed, or someone else saved since)."""
    found = _detail(conn, contact_id)
    if found is None or found.organization_id != organization_id \
            or found.version <= expected_version or not holds(found):
        return None
    mine = units.changed_only_by(conn, "contacts", organization_id, contact_id,
                                 expected_version, me)
    return found if mine else None


def set_active(ws: Workspace, contact_id: uuid.UUID, expected_version: int,
               active: bool) -> ContactDetail:
    """Archive (``active`` False) or restore a contact that is still at ``expected_version``.

    Archived contacts stay with everything that refers to them; lists hide them by default.
    When the connection is lost on the way, or this is pressed again after that, an archive
    (restore) of mine that did land is returned instead of a conflict (T-NET-03).
    """
    sql = text("UPDATE contacts SET is_active = :active WHERE id = :id AND version = :expected "
               "RETURNING id")
    me = ws.identity.person_id

    def landed(conn: Connection) -> ContactDetail | None:
        row = conn.execute(text("SELECT organization_id FROM contacts WHERE id = :id"),
                           {"id": contact_id}).one_or_none()
        if row is None:
            return None
        return _my_change_landed(conn, row.organization_id, contact_id, expected_version, me,
                                 lambda stored: stored.is_active == active)

    def run(conn: Connection) -> ContactDetail:
        try:
            with conn.begin_nested():
                found = conn.execute(sql, {"id": contact_id, "expected": expected_version,
                                           "active": active}).first()
        except exc.DBAPIError as error:
            if _refused_by_rls(error):
                raise UserFacingError(_NOT_ALLOWED) from error
            raise
        if found is None:
            mine = landed(conn)
            if mine is not None:
                return mine
            raise _why_unchanged(conn, contact_id, expected_version)
        saved = _detail(conn, contact_id)
        if saved is None:  # pragma: no cover - changed in this very transaction
            raise UserFacingError(_GONE)
        return saved

    return units.write_once(ws, run, landed)


# -- duplicates -------------------------------------------------------------------------------

_DUPLICATES = text(f"""
WITH f AS (
    SELECT c.*, {_FOLDED.format(col="c.company_name")} AS folded
    FROM contacts c WHERE c.organization_id = :org AND c.is_active
), g AS (
    SELECT f.type, f.folded, min(lower(public.unaccent(f.company_name))) AS sort_name
    FROM f GROUP BY f.type, f.folded HAVING count(*) > 1
    ORDER BY sort_name, f.type LIMIT :limit
)
SELECT f.id, f.type::text AS type, f.folded, g.sort_name, f.company_name, f.contact_name,
       f.email, f.city, f.country, f.version, f.created_at, f.updated_at,
       (SELECT count(*) FROM projects x WHERE x.organization_id = f.organization_id
        AND x.customer_id = f.id) AS project_count,
       (SELECT count(*) FROM supplier_rfqs x WHERE x.organization_id = f.organization_id
        AND x.supplier_id = f.id) AS rfq_count,
       (SELECT count(*) FROM purchase_orders x WHERE x.organization_id = f.organization_id
        AND x.supplier_id = f.id) AS purchase_order_count,
       (SELECT count(*) FROM memberships x WHERE x.organization_id = f.organization_id
        AND x.contact_id = f.id) AS portal_login_count
FROM f JOIN g ON g.type = f.type AND g.folded = f.folded
ORDER BY g.sort_name, f.type, f.created_at, f.id
""")


def find_duplicates(ws: Workspace, organization_id: uuid.UUID,
                    limit: int = MAX_DUPLICATE_GROUPS) -> list[DuplicateGroup]:
    """Groups of active contacts of the same type whose company names are equal up to case,
    accents and spacing ("MÜLLER  gmbh" and "Muller GmbH"); at most ``limit`` groups."""

    def read(conn: Connection) -> list[Any]:
        _check_member(conn, organization_id)
        return list(conn.execute(_DUPLICATES, {"org": organization_id,
                                               "limit": max(1, min(limit, 1000))}).all())

    groups: dict[tuple[str, str], list[Any]] = {}
    for row in units.read(ws, read):
        groups.setdefault((row.type, row.folded), []).append(row)
    out: list[DuplicateGroup] = []
    for (kind, _folded_name), rows in groups.items():
        candidates = tuple(DuplicateCandidate(
            id=r.id, company_name=r.company_name, contact_name=r.contact_name, email=r.email,
            city=r.city, country=r.country, version=r.version, created_at=r.created_at,
            updated_at=r.updated_at, project_count=int(r.project_count),
            rfq_count=int(r.rfq_count), purchase_order_count=int(r.purchase_order_count),
            portal_login_count=int(r.portal_login_count)) for r in rows)
        out.append(DuplicateGroup(ContactType(kind), candidates[0].company_name, candidates))
    return out


# -- merging ----------------------------------------------------------------------------------

_MERGE_READ = text("""
SELECT c.id, c.organization_id, c.type::text AS type, c.company_name, c.contact_name, c.email,
       c.phone, c.address, c.city, c.state, c.country, c.postal_code, c.website, c.tax_id,
       c.payment_terms, c.credit_limit, c.is_active, c.notes, c.capability_tags, c.version
FROM contacts c WHERE c.id = ANY (:ids)
""")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def merge_contacts(ws: Workspace, keep_id: uuid.UUID, merge_ids: Sequence[uuid.UUID],
                   expected_versions: Mapping[uuid.UUID, int]) -> MergeReport:
    """Merge ``merge_ids`` into ``keep_id``, all or nothing.

    In one transaction: every reference of ``REFERENCES`` to a merged contact is moved to the
    kept one; the kept contact's empty fields are filled from the merged ones (in the order
    given; the address as one block), its capability tags united with theirs; the merged
    contacts are archived with a note (``notes``) and ``metadata.merged_into``.
    ``expected_versions`` holds the version each contact (kept and merged) was shown at:
    when one changed since, :class:`ContactConflictError` and nothing changes. A reference the
    person may not change (e.g. a project outside their stages, an RFQ for sales) makes the
    whole merge fail with :class:`MergeRefusedError`.
    """
    merge = list(dict.fromkeys(merge_ids))
    if not merge:
        raise MergeRefusedError("Choose at least one contact to merge into the one you keep.")
    if keep_id in merge:
        raise MergeRefusedError("A contact cannot be merged into itself.")
    missing = [i for i in (keep_id, *merge) if i not in expected_versions]
    if missing:
        raise ValueError(f"no expected version for {missing}")
    with units.transaction(ws) as conn:
        rows = {r.id: r for r in conn.execute(_MERGE_READ, {"ids": [keep_id, *merge]})}
        if len(rows) != len(merge) + 1:
            raise MergeRefusedError(
                "One of these contacts no longer exists, or you may no longer see it; look "
                "for duplicates again. Nothing was merged.")
        keep = rows[keep_id]
        merged = [rows[i] for i in merge]
        stale = [r for r in (keep, *merged) if r.version != expected_versions[r.id]]
        if stale:
            raise ContactConflictError(
                f"Someone changed \u201c{stale[0].company_name}\u201d since the duplicates were "
                "listed; look at them again before merging. Nothing was merged.",
                _detail(conn, stale[0].id))
        if any(r.organization_id != keep.organization_id for r in merged):
            raise MergeRefusedError("Contacts of different organizations cannot be merged.")
        if any(r.type != keep.type for r in merged):
            raise MergeRefusedError(
                "Only contacts of the same type can be merged (a customer with customers, a "
                "supplier with suppliers). Nothing was merged.")
        if not keep.is_active:
            raise MergeRefusedError(
                f"\u201c{keep.company_name}\u201d is archived; restore it before merging other "
                "contacts into it. Nothing was merged.")
        org = keep.organization_id
        _refuse_portal_logins(conn, org, merged)

        # The kept contact: empty fields filled, tags united, where the others went.
        updates: dict[str, Any] = {}
        filled: list[str] = []
        if all(_empty(getattr(keep, f)) for f in _ADDRESS_BLOCK):
            donor = next((r for r in merged
                          if any(not _empty(getattr(r, f)) for f in _ADDRESS_BLOCK)), None)
            if donor is not None:
                for name in _ADDRESS_BLOCK:
                    updates[name] = getattr(donor, name)
                    if not _empty(getattr(donor, name)):
                        filled.append(name)
        for name in _SINGLE_FILL:
            if _empty(getattr(keep, name)):
                value = next((getattr(r, name) for r in merged
                              if not _empty(getattr(r, name))), None)
                if value is not None:
                    updates[name] = value
                    filled.append(name)
        tags = list(keep.capability_tags or ())
        known = {t.casefold() for t in tags}
        added: list[str] = []
        for row in merged:
            for tag in row.capability_tags or ():
                if tag.casefold() not in known:
                    known.add(tag.casefold())
                    tags.append(tag)
                    added.append(tag)
        sets = [f"{name} = :{name}" for name in updates]
        params: dict[str, Any] = dict(updates)
        params.update(id=keep_id, expected=keep.version, tags=tags,
                      merged=json.dumps([str(i) for i in merge]))
        kept = _update_contact(conn, text(
            f"UPDATE contacts SET {''.join(s + ', ' for s in sets)}"
            "capability_tags = CAST(:tags AS text[]), "
            "metadata = jsonb_set(metadata, '{merged_from}', "
            "coalesce(metadata -> 'merged_from', '[]'::jsonb) || CAST(:merged AS jsonb)) "
            "WHERE id = :id AND version = :expected RETURNING version"), params,
            keep_id, keep.version)

        # The merged contacts: archived, with a note where they went.
        today = dt.datetime.now(dt.UTC).date().isoformat()
        note = f"Merged into \u201c{keep.company_name}\u201d on {today}."
        for row in merged:
            _update_contact(conn, text(
                "UPDATE contacts SET is_active = false, "
                "notes = concat_ws(E'\\n\\n', nullif(btrim(notes), ''), CAST(:note AS text)), "
                "metadata = metadata || jsonb_build_object('merged_into', CAST(:keep AS text), "
                "'merged_at', now()) "
                "WHERE id = :id AND version = :expected RETURNING version"),
                {"id": row.id, "expected": row.version, "note": note, "keep": str(keep_id)},
                row.id, row.version)

        moved = {ref.table: _repoint(conn, ref, org, keep_id, merge) for ref in REFERENCES}
        conn.execute(text(
            "INSERT INTO activity_log (organization_id, entity_type, entity_id, action, "
            "description, changes) VALUES (:org, 'contact', :id, 'contacts_merged', :text, "
            "CAST(:changes AS jsonb))"),
            {"org": org, "id": keep_id,
             "text": f"Merged {len(merge)} contact(s) into {keep.company_name}",
             "changes": json.dumps({"merged": [str(i) for i in merge], "moved": moved,
                                    "filled": filled, "added_tags": added})})
    return MergeReport(kept_id=keep_id, kept_name=keep.company_name, merged_ids=tuple(merge),
                       moved=moved, filled_fields=tuple(filled), added_tags=tuple(added),
                       version=int(kept))


def _update_contact(conn: Connection, sql: Any, params: dict[str, Any],
                    contact_id: uuid.UUID, expected: int) -> int:
    """A version-checked update of one contact; the new version, or the reason it failed."""
    try:
        with conn.begin_nested():
            version = conn.execute(sql, params).scalar_one_or_none()
    except exc.DBAPIError as error:
        if _refused_by_rls(error):
            raise MergeRefusedError(_NOT_ALLOWED + " Nothing was merged.") from error
        raise
    if version is None:
        reason = _why_unchanged(conn, contact_id, expected)
        if isinstance(reason, ContactConflictError):
            raise ContactConflictError(
                "Someone changed one of these contacts while they were being merged; look at "
                "them again. Nothing was merged.", reason.current)
        raise MergeRefusedError(f"{reason} Nothing was merged.")
    return int(version)


def _refuse_portal_logins(conn: Connection, org: uuid.UUID, merged: Sequence[Any]) -> None:
    """Portal logins represent one company and cannot be moved by a person (memberships are
    changed only through the administrators' functions, which keep the company)."""
    rows = conn.execute(text(
        "SELECT contact_id, count(*) AS n FROM memberships WHERE organization_id = :org "
        "AND contact_id = ANY (:ids) GROUP BY contact_id"),
        {"org": org, "ids": [r.id for r in merged]}).all()
    if rows:
        names = {r.id: r.company_name for r in merged}
        first = rows[0]
        raise MergeRefusedError(
            f"\u201c{names[first.contact_id]}\u201d has {first.n} portal login(s) (customer or "
            "supplier users), which cannot be moved to another contact. Keep that contact "
            "and merge the others into it instead. Nothing was merged.")


def _repoint(conn: Connection, ref: Reference, org: uuid.UUID, keep_id: uuid.UUID,
             merge: Sequence[uuid.UUID]) -> int:
    """Move ``ref``'s references from ``merge`` to ``keep_id``; all of them or refuse."""
    params = {"org": org, "keep": keep_id, "ids": list(merge)}
    where = f"organization_id = :org AND {ref.column} = ANY (:ids)"
    wanted = int(conn.execute(
        text(f"SELECT count(*) FROM {ref.table} WHERE {where}"), params).scalar_one())
    if not wanted:
        return 0
    refused = MergeRefusedError(
        f"You may not change the {ref.label} of these contacts ({wanted}), so they cannot be "
        "merged; ask management or an administrator to merge them. Nothing was merged.")
    try:
        with conn.begin_nested():
            result = conn.execute(
                text(f"UPDATE {ref.table} SET {ref.column} = :keep WHERE {where}"), params)
    except exc.IntegrityError as error:
        raise MergeRefusedError(
            f"Two of these contacts have {ref.label} that cannot both belong to one contact "
            f"({friendly_error(error)}). Nothing was merged.") from error
    except exc.DBAPIError as error:
        if _refused_by_rls(error):
            raise refused from error
        raise
    # Row level security skips rows the person may not update, silently: count them.
    if result.rowcount < wanted:
        raise refused
    return int(result.rowcount)


# -- files ------------------------------------------------------------------------------------


def _file_problem(path: Path, error: OSError, reading: bool) -> UserFacingError:
    name = str(path)
    if isinstance(error, FileNotFoundError):
        if reading:
            return UserFacingError(f"The file \u201c{name}\u201d does not exist (any more).")
        return UserFacingError(f"The folder of \u201c{name}\u201d does not exist (any more).")
    if isinstance(error, PermissionError):
        verb = "read" if reading else "write"
        hint = "" if reading else " If it is open in a spreadsheet, close it there first."
        return UserFacingError(f"You may not {verb} \u201c{name}\u201d.{hint}")
    if isinstance(error, IsADirectoryError):
        return UserFacingError(f"\u201c{name}\u201d is a folder, not a file.")
    reason = error.strerror or str(error)
    verb = "read" if reading else "written"
    return UserFacingError(f"The file \u201c{name}\u201d could not be {verb}: {reason}.")


def read_import_file(path: str | os.PathLike[str]) -> bytes:
    """The file's bytes, at most one more than the import accepts (it then says "too large")."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            return handle.read(contacts_csv.MAX_FILE_BYTES + 1)
    except OSError as error:
        raise _file_problem(file, error, reading=True) from error


def import_contacts_file(ws: Workspace, organization_id: uuid.UUID,
                         path: str | os.PathLike[str]) -> ImportReport:
    """Read a CSV file and import it all or nothing (``contacts_csv.import_contacts``)."""
    return contacts_csv.import_contacts(ws, organization_id, read_import_file(path))


def export_contacts_file(ws: Workspace, organization_id: uuid.UUID,
                         path: str | os.PathLike[str]) -> Path:
    """Write the organization's contacts to a CSV file (``contacts_csv.export_contacts``).

    The file is replaced whole or not at all: written next to it first, then renamed.
    """
    data = contacts_csv.export_contacts(ws, organization_id)
    target = Path(path)
    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                    dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
        temp = None
    except OSError as error:
        raise _file_problem(target, error, reading=False) from error
    finally:
        if temp is not None:
            with suppress(OSError):
                os.unlink(temp)
    return target


def describe_field(name: str) -> str:
    """The label of a ``ContactEdit`` field, as messages and the conflict view name it."""
    return _LABELS.get(name, name)


def changed_fields(a: ContactEdit, b: ContactEdit) -> list[str]:
    """Names of the fields in which two versions of a contact differ."""
    return [f.name for f in fields(ContactEdit) if getattr(a, f.name) != getattr(b, f.name)]

