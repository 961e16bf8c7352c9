"""A new draft purchase order (header and lines) created with a client-chosen id, cut before
COMMIT or with its answer lost (RELIABILITY.md T-NET-03): Save pressed again stores it once,
with its lines once, and takes one PO number, not two."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from faults_support import (
    NOT_STORED,
    acme,
    answer_lost_after_commit,
    count,
    killed_before_commit,
    signed,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import purchase_orders as po_service
from factorypulse_desktop.services.purchase_orders import DraftLine, OrderDraft
from factorypulse_desktop.services.units import NOT_STORED_MESSAGE
from factorypulse_desktop.services.workspace import Workspace

BUYER = "acme.procurement"


def a_draft(ws: Workspace, org: uuid.UUID, notes: str) -> OrderDraft:
    """Numbered by the database (PO number left empty), two lines."""
    supplier = po_service.suppliers(ws, org)[0]
    item = po_service.find_items(ws, org, "")[0]
    return OrderDraft(po_number="", supplier_id=supplier.id, currency="usd", notes=notes,
                      due_date=dt.date.today() + dt.timedelta(days=10), lines=(
                          DraftLine(item.name, "12", "2,50", item.unit, item.id),
                          DraftLine("Inspection report", "1", "80"),
                      ))


def orders_noted(db: Any, notes: str) -> int:
    return count(db, "SELECT count(*) FROM purchase_orders WHERE notes = %s", notes)


def lines_of(db: Any, po: uuid.UUID) -> int:
    return count(db, "SELECT count(*) FROM purchase_order_lines WHERE purchase_order_id = %s",
                 po)


def po_numbers_taken(db: Any) -> int:
    return count(db, "SELECT coalesce(sum(last_seq), 0) FROM procurement_number_counters "
                 "WHERE kind = 'po'")


def test_T_NET_03_purchase_order_create_cut_before_commit_is_stored_once(
        demo_db: Any) -> None:
    org, new_id = acme(demo_db), uuid.uuid4()
    with signed(demo_db, BUYER) as ws:
        draft = a_draft(ws, org, "Created once, cut")
        numbers = po_numbers_taken(demo_db)
        with (killed_before_commit(demo_db, ws, r"INSERT INTO purchase_orders") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED) as lost):
            po_service.create_draft(ws, org, draft, new_id=new_id)
        assert trap.fired and str(lost.value) == NOT_STORED_MESSAGE
        assert orders_noted(demo_db, "Created once, cut") == 0
        assert po_numbers_taken(demo_db) == numbers, "the number went back with the rest"
        po = po_service.create_draft(ws, org, draft, new_id=new_id)  # Save pressed again
        stored = po_service.detail(ws, org, po)
    assert po == new_id and stored.order.po_number.startswith("PO-")
    assert orders_noted(demo_db, "Created once, cut") == 1 and lines_of(demo_db, po) == 2
    assert po_numbers_taken(demo_db) == numbers + 1


def test_T_NET_03_purchase_order_create_answer_lost_is_found_not_stored_again(
        demo_db: Any) -> None:
    org, new_id = acme(demo_db), uuid.uuid4()
    with signed(demo_db, BUYER) as ws:
        draft = a_draft(ws, org, "Created once, answer lost")
        numbers = po_numbers_taken(demo_db)
        with answer_lost_after_commit(demo_db, ws, r"INSERT INTO purchase_orders") as trap:
            first = po_service.create_draft(ws, org, draft, new_id=new_id)
        assert trap.fired, "the commit's answer was lost"
        assert first == new_id, "found by its id"
        number = po_service.detail(ws, org, first).order.po_number
        again = po_service.create_draft(ws, org, draft, new_id=new_id)  # Save pressed again
        stored = po_service.detail(ws, org, again)
    assert again == new_id and stored.order.po_number == number
    assert orders_noted(demo_db, "Created once, answer lost") == 1
    assert lines_of(demo_db, new_id) == 2
    assert po_numbers_taken(demo_db) == numbers + 1, "one PO number, not two"


def test_an_id_of_someone_elses_order_is_not_taken_for_mine(demo_db: Any) -> None:
    """The landed check is by id, organization and author: another buyer's order with that id
    is no save of mine (its insert is refused, nothing is overwritten)."""
    org, new_id = acme(demo_db), uuid.uuid4()
    with signed(demo_db, "acme.management") as other, signed(demo_db, BUYER) as ws:
        po_service.create_draft(other, org, a_draft(other, org, "Theirs"), new_id=new_id)
        with pytest.raises(UserFacingError):
            po_service.create_draft(ws, org, a_draft(ws, org, "Mine"), new_id=new_id)
    assert orders_noted(demo_db, "Theirs") == 1 and orders_noted(demo_db, "Mine") == 0
