"""The purchase order services as a buyer uses them: a draft to a received order, reports."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from rls_support import owner_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import purchase_orders as po_service
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.purchase_orders import (
    DraftLine,
    OrderDraft,
    PurchaseOrderConflictError,
    ReceiptEntry,
)


@pytest.fixture
def buyer(demo_db: Any) -> Iterator[Workspace]:
    with sign_in(profile_for(demo_db), "acme.procurement", DEMO_PASSWORD) as ws:
        yield ws


def _draft(ws: Workspace, org: uuid.UUID, number: str = "PO-T-0001") -> OrderDraft:
    supplier = po_service.suppliers(ws, org)[0]
    item = po_service.find_items(ws, org, "")[0]
    return OrderDraft(po_number=number, supplier_id=supplier.id, currency="usd",
                      due_date=dt.date.today() + dt.timedelta(days=10), lines=(
                          DraftLine(item.name, "12", "2,50", item.unit, item.id),
                          DraftLine("Inspection report", "1", "80"),
                      ))


def test_a_draft_is_created_submitted_sent_and_received(buyer: Workspace,
                                                        acme: uuid.UUID) -> None:
    po = po_service.create_draft(buyer, acme, _draft(buyer, acme))
    order = po_service.detail(buyer, acme, po)
    assert order.order.status == "draft" and order.order.currency == "USD"
    assert order.order.total_amount == Decimal("110.00")
    assert [line.quantity for line in order.lines] == [Decimal("12.000"), Decimal("1.000")]
    assert po_service.submit(buyer, acme, po, order.order.version) == "approved"
    order = po_service.detail(buyer, acme, po)
    po_service.mark_sent(buyer, acme, po, order.order.version)
    order = po_service.detail(buyer, acme, po)
    stock, service = order.lines
    client = uuid.uuid4()
    entries = [ReceiptEntry(stock.id, "5", stock.default_location_id),
               ReceiptEntry(service.id, "0")]
    assert po_service.receive(buyer, acme, po, entries, client) == "partially_received"
    assert po_service.receive(buyer, acme, po, entries, client) == "partially_received"  # retry
    order = po_service.detail(buyer, acme, po)
    assert [line.quantity_received for line in order.lines] == [Decimal("5.000"),
                                                                Decimal("0.000")]
    assert order.order.received_percent == Decimal("38.5")  # 5 of 13
    assert len(order.receipts) == 1 and order.receipts[0].lines[0][2] == Decimal("5")
    rows = po_service.list_orders(buyer, acme, statuses=["partially_received"])
    assert po in [r.id for r in rows]


def test_a_stale_edit_is_refused_and_says_so(buyer: Workspace, acme: uuid.UUID) -> None:
    po = po_service.create_draft(buyer, acme, _draft(buyer, acme))
    version = po_service.detail(buyer, acme, po).order.version
    new_version = po_service.save_draft(buyer, acme, po, version,
                                        _draft(buyer, acme, "PO-T-0002"))
    assert new_version > version
    with pytest.raises(PurchaseOrderConflictError, match="after you opened it"):
        po_service.save_draft(buyer, acme, po, version, _draft(buyer, acme, "PO-T-0003"))
    assert po_service.detail(buyer, acme, po).order.po_number == "PO-T-0002"
    with pytest.raises(PurchaseOrderConflictError):
        po_service.mark_sent(buyer, acme, po, version)


def test_refusals_come_in_words(buyer: Workspace, acme: uuid.UUID) -> None:
    good = _draft(buyer, acme)
    for line, words in ((DraftLine("Bolt", "abc", "1"), "“abc” is not a number"),
                        (DraftLine("Bolt", "0", "1"), "more than zero"),
                        (DraftLine("", "1", "1"), "item is required"),
                        (DraftLine("Bolt", "1", "-2"), "cannot be negative")):
        with pytest.raises(FieldError, match=words):
            po_service.create_draft(buyer, acme, OrderDraft(
                good.po_number, good.supplier_id, lines=(line,)))
    po = po_service.create_draft(buyer, acme, good)
    version = po_service.detail(buyer, acme, po).order.version
    with pytest.raises(UserFacingError, match="approved only through its approval"), \
            po_service.units.transaction(buyer) as conn:
        conn.exec_driver_sql(f"UPDATE purchase_orders SET status = 'approved' WHERE id = '{po}'")
    with pytest.raises(UserFacingError, match="only on a sent order"):
        po_service.receive(buyer, acme, po, [ReceiptEntry(
            po_service.detail(buyer, acme, po).lines[1].id, "1")], uuid.uuid4())
    po_service.cancel(buyer, acme, po, version)
    assert po_service.detail(buyer, acme, po).order.status == "cancelled"


def test_reports_open_orders_and_supplier_performance(demo_db: Any, buyer: Workspace,
                                                      acme: uuid.UUID) -> None:
    opened = po_service.open_orders(buyer, acme)
    statuses = {o.status for o in opened}
    assert statuses <= set(po_service.OPEN_STATUSES) and "partially_received" in statuses
    partial = next(o for o in opened if o.status == "partially_received")
    assert Decimal(0) < partial.outstanding_amount < partial.total_amount
    # A new supplier: one order closed on time, one late; two RFQs sent, one quoted.
    today = dt.date.today()
    with owner_conn(demo_db) as conn:
        row = conn.execute(
            "INSERT INTO contacts (organization_id, type, company_name) VALUES "
            "(%s, 'supplier', 'Zeta Castings') RETURNING id", (acme,)).fetchone()
        project = conn.execute("SELECT id FROM projects WHERE organization_id = %s LIMIT 1",
                               (acme,)).fetchone()
        assert row is not None and project is not None
        for n, (due, closed) in enumerate(((today - dt.timedelta(days=3), today - dt.timedelta(
                days=5)), (today - dt.timedelta(days=9), today - dt.timedelta(days=2)))):
            conn.execute(
                "INSERT INTO purchase_orders (organization_id, po_number, supplier_id, status, "
                "due_date, closed_at) VALUES (%s, %s, %s, 'closed', %s, %s)",
                (acme, f"PO-Z-{n}", row[0], due, closed))
        for n, state in enumerate(("quoted", "sent", "draft")):
            conn.execute(
                "INSERT INTO supplier_rfqs (organization_id, project_id, supplier_id, "
                "rfq_number, status) VALUES (%s, %s, %s, %s, %s)",
                (acme, project[0], row[0], f"RFQ-Z-{n}", state))
    zeta = next(p for p in po_service.supplier_performance(buyer, acme)
                if p.supplier_name == "Zeta Castings")
    assert (zeta.orders_received, zeta.on_time, zeta.rfqs_sent, zeta.rfqs_quoted) == (2, 1, 2, 1)
    assert zeta.on_time_rate == zeta.response_rate == Decimal("50.0")


def test_a_draft_saved_without_a_number_gets_the_next_of_the_po_series(
        buyer: Workspace, acme: uuid.UUID) -> None:
    first = po_service.create_draft(buyer, acme, _draft(buyer, acme, number=""))
    second = po_service.create_draft(buyer, acme, _draft(buyer, acme, number=" "))
    numbers = [po_service.detail(buyer, acme, x).order.po_number for x in (first, second)]
    assert all(n.startswith("PO-") for n in numbers) and numbers[0] != numbers[1]
