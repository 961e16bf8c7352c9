"""Supplier RFQs (services.supplier_rfqs, revision 0014) as real persons: the status flow,
what the supplier portal and customers see, recording quotes, comparing and awarding."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from rls_support import owner_conn, person_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import supplier_rfqs as rfqs
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.supplier_rfqs import QuoteInput, QuoteLineInput, RfqDraft

STATUSES = ("draft", "sent", "viewed", "quoted", "declined", "expired", "cancelled")
# What a person may move an RFQ to by changing its status (quoted also needs a quote).
ALLOWED = {
    ("draft", "sent"), ("draft", "cancelled"),
    ("sent", "viewed"), ("sent", "quoted"), ("sent", "declined"), ("sent", "expired"),
    ("sent", "cancelled"),
    ("viewed", "quoted"), ("viewed", "declined"), ("viewed", "expired"),
    ("viewed", "cancelled"),
}
NEXT_WEEK = dt.date.today() + dt.timedelta(days=7)


@pytest.fixture
def project(demo_db: Any, acme: uuid.UUID) -> uuid.UUID:
    with owner_conn(demo_db) as conn:
        row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, "
                           "'Pump bracket') RETURNING id", (acme,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


@pytest.fixture
def suppliers(demo_db: Any, acme: uuid.UUID) -> dict[str, uuid.UUID]:
    with owner_conn(demo_db) as conn:
        rows = conn.execute("SELECT company_name, id FROM contacts WHERE organization_id = %s "
                            "AND type = 'supplier'", (acme,)).fetchall()
    return {name: ident for name, ident in rows}


@pytest.fixture
def buyer(demo_db: Any) -> Iterator[Workspace]:
    with sign_in(profile_for(demo_db), "acme.procurement", DEMO_PASSWORD) as ws:
        yield ws


def draft_for(*suppliers: uuid.UUID, documents: tuple[uuid.UUID, ...] = ()) -> RfqDraft:
    return RfqDraft(tuple(suppliers), "200 pcs 6061-T6 brackets per drawing B-100, Ra 1.6",
                    NEXT_WEEK, "Material certificates 3.1", documents)


def quote(total_line: str, lead: int, currency: str = "USD") -> QuoteInput:
    return QuoteInput((QuoteLineInput("Bracket B-100", Decimal("200"), Decimal(total_line)),
                       QuoteLineInput("Set-up", Decimal("1"), Decimal("350"), "lot")),
                      currency, lead, NEXT_WEEK + dt.timedelta(days=30), "Q-1")


def test_rfqs_are_numbered_one_per_supplier_in_one_group(
        buyer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        suppliers: dict[str, uuid.UUID]) -> None:
    cnc = rfqs.list_suppliers(buyer, acme, ["CNC"])
    assert [s.company_name for s in cnc] == ["TrueCut CNC Services"]
    assert len(rfqs.list_suppliers(buyer, acme)) == len(suppliers)
    made = rfqs.create_rfqs(buyer, acme, project, draft_for(
        suppliers["TrueCut CNC Services"], suppliers["Precision Metals Supply Co."]))
    assert len(made) == 2 and len({r.rfq_group for r in made}) == 1
    assert {r.status for r in made} == {"draft"} and all(r.sent_at is None for r in made)
    # RFQ-YYMMDDNN, the day in the organization's time zone.
    first, second = sorted(r.rfq_number for r in made)
    assert re.fullmatch(r"RFQ-\d{6}01", first) and second == first[:-2] + "02"
    with pytest.raises(FieldError, match="at least one supplier"):
        rfqs.create_rfqs(buyer, acme, project, draft_for())
    with pytest.raises(FieldError, match="Requirements is required"):
        rfqs.create_rfqs(buyer, acme, project, RfqDraft(
            (suppliers["Keystone Fasteners"],), "  ", NEXT_WEEK))


def test_each_status_move_is_allowed_or_refused(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID,
        suppliers: dict[str, uuid.UUID]) -> None:
    supplier = suppliers["Keystone Fasteners"]
    with owner_conn(demo_db) as owner, person_conn(demo_db, "acme.procurement") as conn:
        for old in STATUSES:
            for new in STATUSES:
                if old == new:
                    continue
                row = owner.execute(
                    "INSERT INTO supplier_rfqs (organization_id, project_id, supplier_id, "
                    "rfq_number, status) VALUES (%s, %s, %s, NULL, %s) RETURNING id",
                    (acme, project, supplier, old)).fetchone()
                assert row is not None
                owner.commit()
                try:
                    with conn.transaction():
                        conn.execute("UPDATE supplier_rfqs SET status = %s WHERE id = %s",
                                     (new, row[0]))
                    moved = True
                except psycopg.Error as error:
                    moved = False
                    message = str(error)
                allowed = (old, new) in ALLOWED
                if new == "quoted" and allowed:
                    # Allowed by the flow, but only a recorded quote makes an RFQ quoted.
                    assert not moved and "when its quote is recorded" in message
                else:
                    assert moved == allowed, (old, new)
                    if not allowed:
                        assert f"cannot become {new}" in message, (old, new, message)


def test_times_are_stamped_and_sent_requirements_stay(
        demo_db: Any, buyer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        suppliers: dict[str, uuid.UUID]) -> None:
    [rfq] = rfqs.create_rfqs(buyer, acme, project, draft_for(suppliers["Keystone Fasteners"]))
    with person_conn(demo_db, "acme.procurement") as conn:
        # A draft's requirements may change; a forged sent time is ignored.
        conn.execute("UPDATE supplier_rfqs SET requirements = 'Changed', "
                     "sent_at = '2000-01-01' WHERE id = %s", (rfq.id,))
        conn.commit()
    [sent] = rfqs.send_rfqs(buyer, acme, rfqs.get_rfqs(buyer, acme, [rfq.id]))
    assert sent.status == "sent" and sent.requirements == "Changed"
    assert sent.sent_at is not None and sent.sent_at.year >= 2026 and sent.viewed_at is None
    with person_conn(demo_db, "acme.procurement") as conn:
        with pytest.raises(psycopg.Error, match="requirements no longer change"):
            conn.execute("UPDATE supplier_rfqs SET requirements = 'Other' WHERE id = %s",
                         (rfq.id,))
        conn.rollback()
        with pytest.raises(psycopg.Error, match="requirements no longer change"):
            conn.execute("UPDATE supplier_rfqs SET due_date = due_date + 3 WHERE id = %s",
                         (rfq.id,))
        conn.rollback()
        # Its supplier stays too (only merging duplicate contacts moves an RFQ).
        with pytest.raises(psycopg.Error, match="keeps its number, project, supplier"):
            conn.execute("UPDATE supplier_rfqs SET supplier_id = %s WHERE id = %s",
                         (suppliers["TrueCut CNC Services"], rfq.id))
    with pytest.raises(rfqs.RfqConflictError):
        rfqs.move_rfqs(buyer, acme, [rfq], "cancelled")  # the version read before sending
    [cancelled] = rfqs.move_rfqs(buyer, acme, [sent], "cancelled")
    assert cancelled.status == "cancelled"
    with pytest.raises(UserFacingError, match="cancelled and cannot become sent"):
        rfqs.send_rfqs(buyer, acme, [cancelled])
    # Someone who is not procurement cannot send RFQs.
    [other] = rfqs.create_rfqs(buyer, acme, project, draft_for(suppliers["Keystone Fasteners"]))
    with (sign_in(profile_for(demo_db), "acme.sales", DEMO_PASSWORD) as sales,
          pytest.raises(rfqs.RfqConflictError)):  # the row is not theirs to change
        rfqs.send_rfqs(sales, acme, [other])


def test_supplier_portal_sees_only_rfqs_sent_to_it_and_customers_none(
        demo_db: Any, buyer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        suppliers: dict[str, uuid.UUID]) -> None:
    truecut, keystone = suppliers["TrueCut CNC Services"], suppliers["Keystone Fasteners"]
    with owner_conn(demo_db) as owner:
        public_doc, internal_doc = (owner.execute(
            "INSERT INTO documents (organization_id, project_id, title, access_level) "
            "VALUES (%s, %s, %s, %s) RETURNING id", (acme, project, title, level)
        ).fetchall()[0][0] for title, level in (("Drawing B-100", "public"),
                                                  ("Cost sheet", "internal")))
    made = rfqs.create_rfqs(buyer, acme, project, draft_for(
        truecut, keystone, documents=(public_doc, internal_doc)))
    mine = next(r for r in made if r.supplier_id == truecut)
    theirs = next(r for r in made if r.supplier_id == keystone)
    assert mine.document_titles == ("Cost sheet", "Drawing B-100")

    def visible(who: str) -> set[uuid.UUID]:
        with person_conn(demo_db, who) as conn:
            return {r[0] for r in conn.execute("SELECT id FROM supplier_rfqs "
                                               "WHERE project_id = %s", (project,))}

    assert visible("acme.supplier") == set()  # drafts are not sent yet
    rfqs.send_rfqs(buyer, acme, made)
    assert visible("acme.supplier") == {mine.id}
    assert visible("acme.customer") == set()
    with person_conn(demo_db, "acme.customer") as conn:
        assert conn.execute("SELECT count(*) FROM supplier_quotes").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM supplier_rfqs").fetchone() == (0,)
    with person_conn(demo_db, "acme.supplier") as conn:
        # Only the public document attached to its RFQ.
        titles = {r[0] for r in conn.execute("SELECT title FROM documents")}
        assert "Drawing B-100" in titles and "Cost sheet" not in titles
        # It may mark its RFQ viewed, and nothing else.
        assert conn.execute("UPDATE supplier_rfqs SET status = 'viewed' WHERE id = %s",
                            (theirs.id,)).rowcount == 0
        conn.execute("UPDATE supplier_rfqs SET status = 'viewed' WHERE id = %s", (mine.id,))
        conn.commit()
        for change in ("status = 'cancelled'", "requirements = 'Cheaper please'",
                       "supplier_id = supplier_id, due_date = NULL"):
            with pytest.raises(psycopg.Error):
                conn.execute(f"UPDATE supplier_rfqs SET {change} WHERE id = %s", (mine.id,))
            conn.rollback()
        # It submits its quote with lines; the RFQ becomes quoted, the total is the lines'.
        quote_id = uuid.uuid4()
        conn.execute(
            "INSERT INTO supplier_quotes (id, organization_id, project_id, supplier_rfq_id, "
            "supplier_id, quote_number, currency, lead_time_days, total_amount) "
            "VALUES (%s, %s, %s, %s, %s, 'TC-77', 'USD', 12, 1)",
            (quote_id, acme, project, mine.id, truecut))
        conn.execute("INSERT INTO supplier_quote_lines (organization_id, supplier_quote_id, "
                     "line_no, description, quantity, unit_price) VALUES "
                     "(%s, %s, 1, 'Bracket', 200, 9.5)", (acme, quote_id))
        conn.commit()
        assert conn.execute("SELECT status, viewed_at IS NOT NULL FROM supplier_rfqs "
                            "WHERE id = %s", (mine.id,)).fetchone() == ("quoted", True)
        assert conn.execute("SELECT total_amount FROM supplier_quotes WHERE id = %s",
                            (quote_id,)).fetchone() == (Decimal("1900.00"),)
        # Not for another supplier's RFQ, and it cannot accept its own quote.
        with pytest.raises(psycopg.Error):
            conn.execute(
                "INSERT INTO supplier_quotes (organization_id, project_id, supplier_rfq_id, "
                "supplier_id) VALUES (%s, %s, %s, %s)", (acme, project, theirs.id, truecut))
        conn.rollback()
        with pytest.raises(psycopg.Error, match="accepted by awarding it"):
            conn.execute("UPDATE supplier_quotes SET status = 'accepted' WHERE id = %s",
                         (quote_id,))
        conn.rollback()
        with pytest.raises(psycopg.Error, match="not decide it"):
            conn.execute("UPDATE supplier_quotes SET status = 'under_review' WHERE id = %s",
                         (quote_id,))
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT fp_private.award_quote(%s, %s, 1)", (acme, quote_id))
    quotes = rfqs.list_quotes(buyer, acme, project)
    assert [(q.supplier_name, q.total, q.lead_time_days) for q in quotes] == [
        ("TrueCut CNC Services", Decimal("1900.00"), 12)]


def test_quotes_compare_and_award_makes_one_draft_po(
        demo_db: Any, buyer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        suppliers: dict[str, uuid.UUID]) -> None:
    truecut, metals = suppliers["TrueCut CNC Services"], suppliers["Precision Metals Supply Co."]
    made = rfqs.send_rfqs(buyer, acme, rfqs.create_rfqs(buyer, acme, project,
                                                        draft_for(truecut, metals)))
    by_supplier = {r.supplier_id: r for r in made}
    with pytest.raises(FieldError, match="three-letter code"):
        rfqs.record_quote(buyer, acme, by_supplier[truecut], quote("10", 5, "dollars"))
    with pytest.raises(FieldError, match="quantity of line 1"):
        rfqs.record_quote(buyer, acme, by_supplier[truecut], QuoteInput(
            (QuoteLineInput("Bracket", Decimal("0"), Decimal("1")),)))
    cheap = rfqs.record_quote(buyer, acme, by_supplier[truecut], quote("11.25", 20))
    fast = rfqs.record_quote(buyer, acme, by_supplier[metals], quote("12.5", 6))
    assert (cheap.total, fast.total) == (Decimal("2600.00"), Decimal("2850.00"))
    assert {r.status for r in rfqs.list_rfqs(buyer, acme, project)} == {"quoted"}

    side = rfqs.compare(buyer, acme, group=made[0].rfq_group)
    assert [q.id for q in side.quotes] == [cheap.id, fast.id]
    assert side.cheapest == {cheap.id} and side.fastest == {fast.id}
    assert [(ln.description, ln.unit_prices[cheap.id], ln.unit_prices[fast.id])
            for ln in side.lines] == [("Bracket B-100", Decimal("11.2500"), Decimal("12.5000")),
                                      ("Set-up", Decimal("350.0000"), Decimal("350.0000"))]
    assert rfqs.compare(buyer, acme, project_id=project).quotes == side.quotes

    with (sign_in(profile_for(demo_db), "acme.sales", DEMO_PASSWORD) as sales,
          pytest.raises(UserFacingError, match="Only procurement and management")):
        rfqs.award(sales, acme, cheap)
    awarded = rfqs.award(buyer, acme, cheap)
    assert re.fullmatch(r"PO-\d{8}", awarded.po_number)
    with owner_conn(demo_db) as owner:
        orders = owner.execute(
            "SELECT id, status, supplier_id, project_id, currency, total_amount, po_number "
            "FROM purchase_orders WHERE supplier_quote_id IN (%s, %s)",
            (cheap.id, fast.id)).fetchall()
        assert orders == [(awarded.purchase_order_id, "draft", truecut, project, "USD",
                           Decimal("2600.00"), awarded.po_number)]
        lines = owner.execute(
            "SELECT line_no, item_name, quantity, unit, unit_price, total_price "
            "FROM purchase_order_lines WHERE purchase_order_id = %s ORDER BY line_no",
            (awarded.purchase_order_id,)).fetchall()
        assert lines == [(1, "Bracket B-100", Decimal("200.000"), "pcs", Decimal("11.2500"),
                          Decimal("2250.00")),
                         (2, "Set-up", Decimal("1.000"), "lot", Decimal("350.0000"),
                          Decimal("350.00"))]
    statuses = {q.id: q.status for q in rfqs.list_quotes(buyer, acme, project)}
    assert statuses == {cheap.id: "accepted", fast.id: "rejected"}
    # Awarding again — the same quote, or the other one of the group — is refused.
    with pytest.raises(UserFacingError, match="already awarded") as again:
        rfqs.award(buyer, acme, rfqs.list_quotes(buyer, acme, project)[0])
    assert awarded.po_number in str(again.value)
    with person_conn(demo_db, "acme.procurement") as conn:
        for quote_id, version in ((cheap.id, cheap.version + 1), (fast.id, fast.version)):
            with pytest.raises(psycopg.Error) as refused:
                conn.execute("SELECT fp_private.award_quote(%s, %s, %s)",
                             (acme, quote_id, version))
            assert refused.value.sqlstate == "FP409"
            conn.rollback()
        # The accepted quote's lines no longer change.
        with pytest.raises(psycopg.Error, match="already decided"):
            conn.execute("UPDATE supplier_quote_lines SET unit_price = 1 "
                         "WHERE supplier_quote_id = %s", (cheap.id,))
    with owner_conn(demo_db) as owner:
        assert owner.execute("SELECT count(*) FROM purchase_orders WHERE supplier_quote_id "
                             "IN (%s, %s)", (cheap.id, fast.id)).fetchone() == (1,)


def test_a_stale_quote_is_not_awarded(
        demo_db: Any, buyer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        suppliers: dict[str, uuid.UUID]) -> None:
    [rfq] = rfqs.send_rfqs(buyer, acme, rfqs.create_rfqs(
        buyer, acme, project, draft_for(suppliers["Keystone Fasteners"])))
    seen = rfqs.record_quote(buyer, acme, rfq, quote("3", 4))
    with person_conn(demo_db, "acme.procurement") as conn:
        conn.execute("UPDATE supplier_quotes SET lead_time_days = 40 WHERE id = %s", (seen.id,))
        conn.commit()
    with pytest.raises(UserFacingError, match="changed since you opened it"):
        rfqs.award(buyer, acme, seen)
    with owner_conn(demo_db) as owner:
        assert owner.execute("SELECT count(*) FROM purchase_orders WHERE supplier_quote_id = "
                             "%s", (seen.id,)).fetchone() == (0,)


def test_no_quote_for_a_draft_or_cancelled_rfq(
        buyer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        suppliers: dict[str, uuid.UUID]) -> None:
    [draft] = rfqs.create_rfqs(buyer, acme, project, draft_for(suppliers["Keystone Fasteners"]))
    with pytest.raises(UserFacingError, match=r"draft and takes no quotes\. Send it first"):
        rfqs.record_quote(buyer, acme, draft, quote("3", 4))
    [cancelled] = rfqs.move_rfqs(buyer, acme, [draft], "cancelled")
    with pytest.raises(UserFacingError, match="cancelled and takes no quotes"):
        rfqs.record_quote(buyer, acme, cancelled, quote("3", 4))


def test_rfq_document_data(buyer: Workspace, acme: uuid.UUID, project: uuid.UUID,
                           suppliers: dict[str, uuid.UUID]) -> None:
    [rfq] = rfqs.create_rfqs(buyer, acme, project, draft_for(suppliers["Keystone Fasteners"]))
    data = rfqs.rfq_document(buyer, acme, rfq.id)
    assert (data.rfq_number, data.supplier_name, data.project_title, data.due_date) == (
        rfq.rfq_number, "Keystone Fasteners", "Pump bracket", NEXT_WEEK)
    assert data.organization_name and data.buyer_name


def test_two_buyers_awarding_one_group_at_once_make_one_order(
        demo_db: Any, buyer: Workspace, acme: uuid.UUID, project: uuid.UUID,
        suppliers: dict[str, uuid.UUID]) -> None:
    made = rfqs.send_rfqs(buyer, acme, rfqs.create_rfqs(buyer, acme, project, draft_for(
        suppliers["TrueCut CNC Services"], suppliers["Keystone Fasteners"])))
    quotes = [rfqs.record_quote(buyer, acme, r, quote("5", 3)) for r in made]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def award(who: str, chosen: rfqs.QuoteRow) -> None:
        with person_conn(demo_db, who) as conn:
            barrier.wait(10)
            try:
                conn.execute("SELECT fp_private.award_quote(%s, %s, %s)",
                             (acme, chosen.id, chosen.version))
                conn.commit()
                outcomes.append("awarded")
            except psycopg.Error as error:
                outcomes.append(str(error.sqlstate))

    threads = [threading.Thread(target=award, args=(who, chosen)) for who, chosen in
               (("acme.procurement", quotes[0]), ("acme.management", quotes[1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["FP409", "awarded"]
    with owner_conn(demo_db) as owner:
        assert owner.execute(
            "SELECT count(*) FROM purchase_orders WHERE supplier_quote_id = ANY (%s)",
            ([q.id for q in quotes],)).fetchone() == (1,)
        assert sorted(r[0] for r in owner.execute(
            "SELECT status FROM supplier_quotes WHERE id = ANY (%s)",
            ([q.id for q in quotes],))) == ["accepted", "rejected"]
