"""Supplier RFQs of a project: choose suppliers, send, record quotes, compare, award.

"Send an RFQ to three suppliers" makes three RFQ rows (one per supplier) sharing one
``rfq_group``, the requirements and the attached project documents. The database keeps the
status flow (draft → sent → viewed → quoted / declined / expired / cancelled), stamps the
times, numbers the RFQs and keeps a sent RFQ's requirements as they were (revision 0014).
Recording a quote moves its RFQ to quoted; the quote's total is the sum of its lines.
Awarding a quote (``fp_private.award_quote``) accepts it, rejects the other quotes of the
group and creates a draft purchase order with the quote's lines, in one transaction.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.currency import is_currency
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError, clean_text
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

RFQ_STATUSES = ("draft", "sent", "viewed", "quoted", "declined", "expired", "cancelled")
# Moves a person may ask for directly; "quoted" comes from recording a quote.
STATUS_MOVES: dict[str, tuple[str, ...]] = {
    "draft": ("sent", "cancelled"),
    "sent": ("viewed", "declined", "expired", "cancelled"),
    "viewed": ("declined", "expired", "cancelled"),
}
OPEN_QUOTE = ("draft", "submitted", "under_review")
MAX_REQUIREMENTS = 20_000
MAX_LINES = 200
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MAX_QUANTITY = Decimal("99999999999.999")  # numeric(14, 3)
_MAX_PRICE = Decimal("99999999999.9999")  # numeric(15, 4)


@dataclass(frozen=True)
class SupplierChoice:
    id: uuid.UUID
    company_name: str
    contact_name: str | None
    email: str | None
    capability_tags: tuple[str, ...]


@dataclass(frozen=True)
class DocumentChoice:
    id: uuid.UUID
    title: str
    category: str
    access_level: str


@dataclass(frozen=True)
class RfqDraft:
    supplier_ids: tuple[uuid.UUID, ...]
    requirements: str
    due_date: dt.date | None
    special_instructions: str = ""
    document_ids: tuple[uuid.UUID, ...] = ()
    expected_response_date: dt.date | None = None


@dataclass(frozen=True)
class RfqRow:
    id: uuid.UUID
    rfq_number: str
    project_id: uuid.UUID
    rfq_group: uuid.UUID | None
    supplier_id: uuid.UUID
    supplier_name: str
    status: str
    due_date: dt.date | None
    sent_at: dt.datetime | None
    viewed_at: dt.datetime | None
    requirements: str | None
    special_instructions: str | None
    quote_total: Decimal | None  # of its latest quote
    quote_currency: str | None
    document_titles: tuple[str, ...]
    version: int


@dataclass(frozen=True)
class QuoteLineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = "pcs"


@dataclass(frozen=True)
class QuoteInput:
    lines: tuple[QuoteLineInput, ...]
    currency: str = "USD"
    lead_time_days: int | None = None
    valid_until: dt.date | None = None
    quote_number: str = ""
    notes: str = ""


@dataclass(frozen=True)
class QuoteLine:
    line_no: int
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class QuoteRow:
    id: uuid.UUID
    supplier_rfq_id: uuid.UUID | None
    rfq_number: str | None
    rfq_group: uuid.UUID | None
    supplier_id: uuid.UUID
    supplier_name: str
    quote_number: str | None
    total: Decimal
    currency: str
    lead_time_days: int | None
    valid_until: dt.date | None
    status: str
    submitted_at: dt.datetime | None
    lines: tuple[QuoteLine, ...]
    version: int


@dataclass(frozen=True)
class ComparedLine:
    """One line position across the quotes: the unit price each quote asks (None: absent)."""

    line_no: int
    description: str
    quantity: Decimal
    unit: str
    unit_prices: dict[uuid.UUID, Decimal | None]


@dataclass(frozen=True)
class Comparison:
    quotes: tuple[QuoteRow, ...]  # cheapest first
    lines: tuple[ComparedLine, ...]
    cheapest: frozenset[uuid.UUID] = field(default_factory=frozenset)
    fastest: frozenset[uuid.UUID] = field(default_factory=frozenset)
    mixed_currencies: bool = False


@dataclass(frozen=True)
class Award:
    purchase_order_id: uuid.UUID
    po_number: str
    quote_id: uuid.UUID


@dataclass(frozen=True)
class RfqDocumentData:
    """What the printed RFQ shows (plain data: the PDF writer lives in the UI layer)."""

    organization_name: str
    rfq_number: str
    status: str
    project_number: str
    project_title: str
    supplier_name: str
    supplier_contact: str | None
    supplier_email: str | None
    requirements: str
    special_instructions: str
    due_date: dt.date | None
    expected_response_date: dt.date | None
    sent_at: dt.datetime | None
    document_titles: tuple[str, ...]
    buyer_name: str | None
    buyer_email: str | None


class RfqConflictError(UserFacingError):
    def __init__(self, what: str = "this RFQ") -> None:
        super().__init__(f"Someone else changed {what} after you opened it. Reload to see "
                         "its current state; nothing was changed.")


# -- choices ----------------------------------------------------------------------------------


def list_suppliers(ws: Workspace, org: uuid.UUID,
                   tags: Sequence[str] = ()) -> list[SupplierChoice]:
    """Active supplier contacts having every one of `tags` (case and accents ignored)."""
    wanted = [t.strip() for t in tags if t.strip()]
    sql = text(
        "SELECT c.id, c.company_name, c.contact_name, c.email, c.capability_tags "
        "FROM contacts c WHERE c.organization_id = :org AND c.type = 'supplier' "
        "AND c.is_active AND NOT EXISTS (SELECT 1 FROM unnest(CAST(:tags AS text[])) w (tag) "
        "WHERE NOT EXISTS (SELECT 1 FROM unnest(c.capability_tags) t (tag) "
        "WHERE lower(public.unaccent(t.tag)) = lower(public.unaccent(w.tag)))) "
        "ORDER BY lower(c.company_name), c.id")
    return units.read(ws, lambda conn: [
        SupplierChoice(r.id, r.company_name, r.contact_name, r.email,
                       tuple(r.capability_tags or ()))
        for r in conn.execute(sql, {"org": org, "tags": wanted})])


def list_project_documents(ws: Workspace, org: uuid.UUID,
                           project_id: uuid.UUID) -> list[DocumentChoice]:
    """The project's current documents the person may see, to attach to an RFQ."""
    sql = text(
        "SELECT d.id, d.title, d.category, d.access_level FROM documents d "
        "WHERE d.organization_id = :org AND d.project_id = :project AND d.archived_at IS NULL "
        "ORDER BY lower(d.title), d.id")
    return units.read(ws, lambda conn: [
        DocumentChoice(r.id, r.title, r.category, r.access_level)
        for r in conn.execute(sql, {"org": org, "project": project_id})])


# -- RFQs -------------------------------------------------------------------------------------

_RFQ_SELECT = """
SELECT r.id, r.rfq_number, r.project_id, r.rfq_group, r.supplier_id, c.company_name,
       r.status, r.due_date, r.sent_at, r.viewed_at, r.requirements, r.special_instructions,
       q.total_amount AS quote_total, q.currency AS quote_currency, r.version,
       coalesce((SELECT array_agg(d.title ORDER BY lower(d.title))
                 FROM supplier_rfq_documents l JOIN documents d
                   ON d.organization_id = l.organization_id AND d.id = l.document_id
                 WHERE l.organization_id = r.organization_id AND l.supplier_rfq_id = r.id),
                '{}') AS titles
FROM supplier_rfqs r
JOIN contacts c ON c.organization_id = r.organization_id AND c.id = r.supplier_id
LEFT JOIN LATERAL (
    SELECT x.total_amount, x.currency FROM supplier_quotes x
    WHERE x.organization_id = r.organization_id AND x.supplier_rfq_id = r.id
    ORDER BY x.created_at DESC, x.id LIMIT 1) q ON true
"""


def _rfq(r: Any) -> RfqRow:
    return RfqRow(r.id, r.rfq_number, r.project_id, r.rfq_group, r.supplier_id, r.company_name,
                  r.status, r.due_date, r.sent_at, r.viewed_at, r.requirements,
                  r.special_instructions, r.quote_total, r.quote_currency,
                  tuple(r.titles or ()), r.version)


def _rfqs(conn: Connection, org: uuid.UUID, *, project: uuid.UUID | None = None,
          ids: Sequence[uuid.UUID] | None = None) -> list[RfqRow]:
    rows = conn.execute(text(
        _RFQ_SELECT + "WHERE r.organization_id = :org "
        "AND (CAST(:project AS uuid) IS NULL OR r.project_id = :project) "
        "AND (CAST(:ids AS uuid[]) IS NULL OR r.id = ANY (:ids)) "
        "ORDER BY r.created_at DESC, r.rfq_number DESC"),
        {"org": org, "project": project, "ids": list(ids) if ids is not None else None})
    return [_rfq(r) for r in rows]


def list_rfqs(ws: Workspace, org: uuid.UUID, project_id: uuid.UUID) -> list[RfqRow]:
    """The project's RFQs, newest first."""
    return units.read(ws, lambda conn: _rfqs(conn, org, project=project_id))


def get_rfqs(ws: Workspace, org: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[RfqRow]:
    return units.read(ws, lambda conn: _rfqs(conn, org, ids=ids))


def check_draft(draft: RfqDraft) -> RfqDraft:
    """The draft cleaned, or a `FieldError` saying what to fix."""
    if not draft.supplier_ids:
        raise FieldError("suppliers", "Choose at least one supplier.")
    requirements = clean_text(draft.requirements, field="requirements", label="Requirements",
                              max_length=MAX_REQUIREMENTS, required=True)
    instructions = clean_text(draft.special_instructions, field="special_instructions",
                              label="Special instructions", max_length=MAX_REQUIREMENTS)
    if draft.due_date is not None and draft.due_date < dt.date.today():
        raise FieldError("due_date", "The due date is in the past; choose a later day.")
    return RfqDraft(tuple(dict.fromkeys(draft.supplier_ids)), requirements or "",
                    draft.due_date, instructions or "", tuple(dict.fromkeys(draft.document_ids)),
                    draft.expected_response_date)


def create_rfqs(ws: Workspace, org: uuid.UUID, project_id: uuid.UUID,
                draft: RfqDraft, *, group: uuid.UUID | None = None) -> list[RfqRow]:
    """One draft RFQ per chosen supplier, in one group, with the documents attached.

    The group is ``group``, chosen by the caller when the form opens and passed again when
    OK is pressed again: when the connection broke after the database had stored the RFQs
    (the answer lost, not the save), they are found by their group and returned, never
    stored -- nor numbered -- twice (T-NET-03). Without it, one is chosen here.
    """
    draft = check_draft(draft)
    rfq_group: uuid.UUID = group or uuid.uuid4()
    me = ws.identity.person_id

    def in_group(conn: Connection) -> Sequence[Any]:
        return conn.execute(text(
            "SELECT id, coalesce(created_by = :me, false) AS mine FROM supplier_rfqs "
            "WHERE organization_id = :org AND rfq_group = :group"),
            {"org": org, "group": rfq_group, "me": me}).all()

    def landed(conn: Connection) -> list[RfqRow] | None:
        rows = in_group(conn)
        if not rows or not all(r.mine for r in rows):
            return None
        return _rfqs(conn, org, ids=[r.id for r in rows])

    def run(conn: Connection) -> list[RfqRow]:
        rows = in_group(conn)
        if rows:
            if not all(r.mine for r in rows):  # a group of someone else's: never add to it
                raise UserFacingError("These RFQs could not be created; close the form and "
                                      "create them again.")
            return _rfqs(conn, org, ids=[r.id for r in rows])  # the answer was lost
        ids = []
        for supplier in draft.supplier_ids:
            rfq_id = conn.execute(text(
                "INSERT INTO supplier_rfqs (organization_id, project_id, supplier_id, "
                "rfq_number, rfq_group, due_date, expected_response_date, requirements, "
                "special_instructions) VALUES (:org, :project, :supplier, NULL, :group, :due, "
                ":expected, :requirements, :instructions) RETURNING id"),
                {"org": org, "project": project_id, "supplier": supplier, "group": rfq_group,
                 "due": draft.due_date, "expected": draft.expected_response_date,
                 "requirements": draft.requirements,
                 "instructions": draft.special_instructions or None}).scalar_one()
            for document in draft.document_ids:
                conn.execute(text(
                    "INSERT INTO supplier_rfq_documents (organization_id, supplier_rfq_id, "
                    "document_id) VALUES (:org, :rfq, :document)"),
                    {"org": org, "rfq": rfq_id, "document": document})
            ids.append(rfq_id)
        return _rfqs(conn, org, ids=ids)

    # A lost connection: the RFQs are found by their group, or nothing was stored.
    return units.write_once(ws, run, landed)


def move_rfqs(ws: Workspace, org: uuid.UUID, rfqs: Sequence[RfqRow],
              status: str) -> list[RfqRow]:
    """Move each RFQ (sent, viewed, declined, expired, cancelled), if nobody changed it since;
    all or none. A move of mine that landed while its answer was lost is returned, also when
    this is called again with the rows as they were shown (T-NET-03)."""
    if status not in RFQ_STATUSES or status in ("draft", "quoted"):
        raise UserFacingError("An RFQ becomes quoted by recording its quote.")
    for rfq in rfqs:
        if status not in STATUS_MOVES.get(rfq.status, ()):
            raise UserFacingError(
                f"RFQ {rfq.rfq_number} is {rfq.status} and cannot become {status}.")

    me = ws.identity.person_id

    def landed(conn: Connection) -> list[RfqRow] | None:
        """All of them moved by an earlier call of mine whose answer was lost: each RFQ has
        `status` and every version after the one shown was made by me; else None."""
        found = {r.id: r for r in _rfqs(conn, org, ids=[r.id for r in rfqs])}
        for rfq in rfqs:
            now = found.get(rfq.id)
            if now is None or now.status != status or now.version <= rfq.version \
                    or not units.changed_only_by(conn, "supplier_rfqs", org, rfq.id,
                                                 rfq.version, me):
                return None
        return list(found.values())

    def run(conn: Connection) -> list[RfqRow]:
        for n, rfq in enumerate(rfqs):
            changed = conn.execute(text(
                "UPDATE supplier_rfqs SET status = :status WHERE organization_id = :org "
                "AND id = :id AND version = :version RETURNING id"),
                {"status": status, "org": org, "id": rfq.id,
                 "version": rfq.version}).scalar_one_or_none()
            if changed is None:
                # Pressed again after a move whose answer was lost: the first RFQ is already
                # moved (all or none), so nothing of this call has been written yet.
                mine = landed(conn) if n == 0 else None
                if mine is not None:
                    return mine
                raise RfqConflictError(f"RFQ {rfq.rfq_number}")
        return _rfqs(conn, org, ids=[r.id for r in rfqs])

    # A lost connection: the move is found by status, version and author, or nothing was
    # stored (T-NET-03).
    return units.write_once(ws, run, landed)


def send_rfqs(ws: Workspace, org: uuid.UUID, rfqs: Sequence[RfqRow]) -> list[RfqRow]:
    """Mark draft RFQs sent (the database stamps when)."""
    return move_rfqs(ws, org, rfqs, "sent")


# -- quotes -----------------------------------------------------------------------------------


def check_quote(quote: QuoteInput) -> QuoteInput:
    """The quote cleaned, or a `FieldError` saying what to fix."""
    currency = (quote.currency or "").strip().upper()
    if not _CURRENCY.match(currency) or not is_currency(currency):
        raise FieldError("currency", "The currency is a three-letter code such as USD or EUR.")
    if quote.lead_time_days is not None and not 0 <= quote.lead_time_days <= 3650:
        raise FieldError("lead_time_days", "The lead time is a number of days from 0 to 3650.")
    if not quote.lines:
        raise FieldError("lines", "Enter at least one quoted line.")
    if len(quote.lines) > MAX_LINES:
        raise FieldError("lines", f"A quote has at most {MAX_LINES} lines.")
    lines = []
    for no, line in enumerate(quote.lines, start=1):
        description = clean_text(line.description, field="lines",
                                 label=f"The description of line {no}", max_length=2000,
                                 required=True)
        unit = clean_text(line.unit, field="lines", label=f"The unit of line {no}",
                          max_length=20) or "pcs"
        if not line.quantity.is_finite() or not Decimal(0) < line.quantity <= _MAX_QUANTITY:
            raise FieldError("lines", f"The quantity of line {no} must be more than 0.")
        if not line.unit_price.is_finite() or not Decimal(0) <= line.unit_price <= _MAX_PRICE:
            raise FieldError("lines", f"The unit price of line {no} must be 0 or more.")
        lines.append(QuoteLineInput(description or "", line.quantity, line.unit_price, unit))
    number = clean_text(quote.quote_number, field="quote_number", label="The quote number",
                        max_length=100)
    notes = clean_text(quote.notes, field="notes", label="Notes", max_length=MAX_REQUIREMENTS)
    return QuoteInput(tuple(lines), currency, quote.lead_time_days, quote.valid_until,
                      number or "", notes or "")


_QUOTE_SELECT = """
SELECT q.id, q.supplier_rfq_id, r.rfq_number, r.rfq_group, q.supplier_id, c.company_name,
       q.quote_number, coalesce(q.total_amount, 0) AS total, q.currency, q.lead_time_days,
       q.valid_until, q.status, q.submitted_at, q.version
FROM supplier_quotes q
JOIN contacts c ON c.organization_id = q.organization_id AND c.id = q.supplier_id
LEFT JOIN supplier_rfqs r ON r.organization_id = q.organization_id AND r.id = q.supplier_rfq_id
"""


def _quotes(conn: Connection, org: uuid.UUID, where: str,
            params: dict[str, Any]) -> list[QuoteRow]:
    rows = conn.execute(text(f"{_QUOTE_SELECT} WHERE q.organization_id = :org AND {where} "
                             "ORDER BY q.created_at, q.id"), {"org": org, **params}).all()
    lines: dict[uuid.UUID, list[QuoteLine]] = {}
    if rows:
        for ln in conn.execute(text(
                "SELECT l.supplier_quote_id, l.line_no, l.description, l.quantity, l.unit, "
                "l.unit_price, l.amount FROM supplier_quote_lines l "
                "WHERE l.organization_id = :org AND l.supplier_quote_id = ANY (:ids) "
                "ORDER BY l.supplier_quote_id, l.line_no"),
                {"org": org, "ids": [r.id for r in rows]}):
            lines.setdefault(ln.supplier_quote_id, []).append(QuoteLine(
                ln.line_no, ln.description, ln.quantity, ln.unit, ln.unit_price, ln.amount))
    return [QuoteRow(r.id, r.supplier_rfq_id, r.rfq_number, r.rfq_group, r.supplier_id,
                     r.company_name, r.quote_number, r.total, r.currency.strip(),
                     r.lead_time_days, r.valid_until, r.status, r.submitted_at,
                     tuple(lines.get(r.id, ())), r.version) for r in rows]


def list_quotes(ws: Workspace, org: uuid.UUID, project_id: uuid.UUID) -> list[QuoteRow]:
    """The project's supplier quotes with their lines, oldest first."""
    return units.read(ws, lambda conn: _quotes(conn, org, "q.project_id = :project",
                                               {"project": project_id}))


def record_quote(ws: Workspace, org: uuid.UUID, rfq: RfqRow, quote: QuoteInput, *,
                 quote_id: uuid.UUID | None = None) -> QuoteRow:
    """Record the supplier's quote for `rfq` with its lines; the RFQ becomes quoted.

    The quote gets the id ``quote_id``, chosen by the caller when the form opens and passed
    again when OK is pressed again: when the connection broke after the database had stored
    it (the answer lost, not the save), it is found by that id and returned, never recorded
    twice (T-NET-03). Without it, one is chosen here.
    """
    quote = check_quote(quote)
    new_id: uuid.UUID = quote_id or uuid.uuid4()
    me = ws.identity.person_id

    def landed(conn: Connection) -> QuoteRow | None:
        found = _quotes(conn, org, "q.id = :id AND q.created_by = :me",
                        {"id": new_id, "me": me})
        return found[0] if found else None

    def run(conn: Connection) -> QuoteRow:
        stored = landed(conn)
        if stored is not None:  # recorded before; its answer was lost
            return stored
        conn.execute(text(
            "INSERT INTO supplier_quotes (id, organization_id, project_id, supplier_rfq_id, "
            "supplier_id, quote_number, currency, lead_time_days, valid_until, status, notes, "
            "metadata) VALUES (:id, :org, :project, :rfq, :supplier, :number, :currency, "
            ":lead, :valid, 'submitted', :notes, "
            "jsonb_build_object('rfq_number', CAST(:rfq_number AS text)))"),
            {"id": new_id, "org": org, "project": rfq.project_id, "rfq": rfq.id,
             "supplier": rfq.supplier_id, "number": quote.quote_number or None,
             "currency": quote.currency, "lead": quote.lead_time_days,
             "valid": quote.valid_until, "notes": quote.notes or None,
             "rfq_number": rfq.rfq_number})
        for no, line in enumerate(quote.lines, start=1):
            conn.execute(text(
                "INSERT INTO supplier_quote_lines (organization_id, supplier_quote_id, line_no, "
                "description, quantity, unit, unit_price) VALUES (:org, :quote, :no, "
                ":description, :quantity, :unit, :price)"),
                {"org": org, "quote": new_id, "no": no, "description": line.description,
                 "quantity": line.quantity, "unit": line.unit, "price": line.unit_price})
        return _quotes(conn, org, "q.id = :id", {"id": new_id})[0]

    # A lost connection: the quote is found by its client id, or nothing was stored.
    return units.write_once(ws, run, landed)


# -- comparison and award ---------------------------------------------------------------------


def compare(ws: Workspace, org: uuid.UUID, *, project_id: uuid.UUID | None = None,
            group: uuid.UUID | None = None) -> Comparison:
    """The quotes of a project (or of one RFQ group) side by side, cheapest first.

    Lines are matched by their position (line 1 with line 1): the lines of a quote follow
    the RFQ's requirements. Withdrawn and expired quotes are left out. The cheapest are only
    marked when every quote is in the same currency (no exchange rates are guessed).
    """
    if (project_id is None) == (group is None):
        raise ValueError("compare a project or an RFQ group")
    params: dict[str, Any] = {"group": group, "project": project_id}
    where = "r.rfq_group = :group" if group is not None else "q.project_id = :project"
    where += " AND q.status NOT IN ('withdrawn', 'expired')"
    quotes = units.read(ws, lambda conn: _quotes(conn, org, where, params))
    return build_comparison(quotes)


def build_comparison(quotes: Sequence[QuoteRow]) -> Comparison:
    ordered = tuple(sorted(quotes, key=lambda q: (q.currency, q.total, q.lead_time_days
                                                  if q.lead_time_days is not None else 10**6)))
    positions: dict[int, QuoteLine] = {}
    for quote in ordered:
        for line in quote.lines:
            positions.setdefault(line.line_no, line)
    lines = tuple(
        ComparedLine(no, first.description, first.quantity, first.unit, {
            q.id: next((ln.unit_price for ln in q.lines if ln.line_no == no), None)
            for q in ordered})
        for no, first in sorted(positions.items()))
    mixed = len({q.currency for q in ordered}) > 1
    cheapest: frozenset[uuid.UUID] = frozenset()
    if ordered and not mixed:
        low = min(q.total for q in ordered)
        cheapest = frozenset(q.id for q in ordered if q.total == low)
    timed = [q for q in ordered if q.lead_time_days is not None]
    fastest: frozenset[uuid.UUID] = frozenset()
    if timed:
        quick = min(q.lead_time_days or 0 for q in timed)
        fastest = frozenset(q.id for q in timed if q.lead_time_days == quick)
    return Comparison(ordered, lines, cheapest, fastest, mixed)


def award(ws: Workspace, org: uuid.UUID, quote: QuoteRow) -> Award:
    """Accept `quote` (as it was read), reject the others of its RFQ group and create the
    draft purchase order; refused when the group was already awarded."""

    def run(conn: Connection) -> Award:
        po = conn.execute(text("SELECT fp_private.award_quote(:org, :quote, :version)"),
                          {"org": org, "quote": quote.id,
                           "version": quote.version}).scalar_one()
        number = conn.execute(text("SELECT po_number FROM purchase_orders "
                                   "WHERE organization_id = :org AND id = :id"),
                              {"org": org, "id": po}).scalar_one()
        return Award(po, number, quote.id)

    return units.write(ws, run)


# -- the printed RFQ --------------------------------------------------------------------------


def rfq_document(ws: Workspace, org: uuid.UUID, rfq_id: uuid.UUID) -> RfqDocumentData:
    """What the RFQ document for its supplier says."""

    def read(conn: Connection) -> RfqDocumentData:
        r = conn.execute(text(
            "SELECT o.name AS org_name, r.rfq_number, r.status, p.project_number, p.title, "
            "c.company_name, c.contact_name, c.email, r.requirements, r.special_instructions, "
            "r.due_date, r.expected_response_date, r.sent_at, b.display_name AS buyer, "
            "b.email AS buyer_email "
            "FROM supplier_rfqs r JOIN organizations o ON o.id = r.organization_id "
            "JOIN projects p ON p.organization_id = r.organization_id AND p.id = r.project_id "
            "JOIN contacts c ON c.organization_id = r.organization_id AND c.id = r.supplier_id "
            "LEFT JOIN persons b ON b.id = r.created_by "
            "WHERE r.organization_id = :org AND r.id = :id"),
            {"org": org, "id": rfq_id}).one_or_none()
        if r is None:
            raise UserFacingError("This RFQ is gone or you may no longer see it.")
        titles = conn.execute(text(
            "SELECT d.title FROM supplier_rfq_documents l JOIN documents d "
            "ON d.organization_id = l.organization_id AND d.id = l.document_id "
            "WHERE l.organization_id = :org AND l.supplier_rfq_id = :id ORDER BY lower(d.title)"),
            {"org": org, "id": rfq_id}).scalars().all()
        return RfqDocumentData(
            r.org_name, r.rfq_number, r.status, r.project_number, r.title, r.company_name,
            r.contact_name, r.email, r.requirements or "", r.special_instructions or "",
            r.due_date, r.expected_response_date, r.sent_at, tuple(titles), r.buyer,
            r.buyer_email)

    return units.read(ws, read)
