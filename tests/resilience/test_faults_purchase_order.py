"""A draft purchase order (header and lines) saved with the version it was loaded at, cut
before COMMIT or with its answer lost (RELIABILITY.md T-NET-03): nothing is stored twice, and
Save pressed again after a save that did land is not reported as a conflict with oneself.

Saving a draft replaces its lines, and each change of the total moves the order's version, so
one save leaves several change_log rows: "nothing saved twice" is "no new row on the second
call", with the lines as sent once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
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
from factorypulse_desktop.services.workspace import Workspace

BUYER = "acme.procurement"


def a_draft(ws: Workspace, org: uuid.UUID, number: str) -> tuple[uuid.UUID, OrderDraft]:
    supplier = po_service.suppliers(ws, org)[0]
    item = po_service.find_items(ws, org, "")[0]
    draft = OrderDraft(po_number=number, supplier_id=supplier.id, currency="usd",
                       due_date=dt.date.today() + dt.timedelta(days=10), lines=(
                           DraftLine(item.name, "12", "2,50", item.unit, item.id),
                           DraftLine("Inspection report", "1", "80"),
                       ))
    return po_service.create_draft(ws, org, draft), draft


def changed(ws: Workspace, org: uuid.UUID, draft: OrderDraft) -> OrderDraft:
    """Other notes, a line by item code (name and unit from the item), other quantities."""
    item = po_service.find_items(ws, org, "")[-1]
    return dataclasses.replace(draft, notes="Deliver to gate 2", priority="high", lines=(
        dataclasses.replace(draft.lines[0], quantity="7"),
        DraftLine("", "3", "4.1", item_code=item.code, description="by code"),
        DraftLine("Inspection report", "2", "80"),
    ))


def changes_after(db: Any, po: uuid.UUID, version: int) -> int:
    return count(db, "SELECT count(*) FROM change_log WHERE entity_type = 'purchase_orders' "
                 "AND entity_id = %s AND row_version > %s", po, version)


def lines_of(db: Any, po: uuid.UUID) -> int:
    return count(db, "SELECT count(*) FROM purchase_order_lines WHERE purchase_order_id = %s",
                 po)


def test_T_NET_03_purchase_order_draft_cut_before_commit_keeps_the_version(
        demo_db: Any) -> None:
    org = acme(demo_db)
    with signed(demo_db, BUYER) as ws:
        po, draft = a_draft(ws, org, "PO-NET-0001")
        loaded = po_service.detail(ws, org, po)
        edit = changed(ws, org, draft)
        with (killed_before_commit(demo_db, ws, r"UPDATE purchase_orders SET") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED)):
            po_service.save_draft(ws, org, po, loaded.order.version, edit)
        assert trap.fired
        kept = po_service.detail(ws, org, po)
        assert kept.order.version == loaded.order.version, "nothing stored"
        assert len(kept.lines) == 2 and kept.notes is None
        saved = po_service.save_draft(ws, org, po, loaded.order.version, edit)  # again
        after = po_service.detail(ws, org, po)
    assert saved == after.order.version > loaded.order.version
    assert after.notes == "Deliver to gate 2" and after.priority == "high"
    assert [line.quantity for line in after.lines] == [Decimal(7), Decimal(3), Decimal(2)]
    assert lines_of(demo_db, po) == 3


def test_T_NET_03_purchase_order_draft_answer_lost_is_not_a_false_conflict(
        demo_db: Any) -> None:
    org = acme(demo_db)
    with signed(demo_db, BUYER) as ws:
        po, draft = a_draft(ws, org, "PO-NET-0002")
        loaded = po_service.detail(ws, org, po)
        edit = changed(ws, org, draft)
        with answer_lost_after_commit(demo_db, ws, r"UPDATE purchase_orders SET") as trap:
            landed = po_service.save_draft(ws, org, po, loaded.order.version, edit)
        assert trap.fired
        changes = changes_after(demo_db, po, loaded.order.version)
        # Save pressed again with the version the form was loaded at: my own save, not
        # someone else's -- no conflict dialog, and nothing saved a second time.
        again = po_service.save_draft(ws, org, po, loaded.order.version, edit)
        current = po_service.detail(ws, org, po)
    assert landed == again == current.order.version > loaded.order.version
    assert changes >= 1 and changes_after(demo_db, po, loaded.order.version) == changes
    assert lines_of(demo_db, po) == 3
    assert current.order.total_amount == Decimal("189.80"), "7 x 2.50 + 3 x 4.10 + 2 x 80"


def test_a_stale_draft_save_after_someone_else_saved_is_still_a_conflict(
        demo_db: Any) -> None:
    """The landed check recognizes only my own save of exactly this header and these lines."""
    org = acme(demo_db)
    with signed(demo_db, BUYER) as ws, signed(demo_db, "acme.management") as other:
        po, draft = a_draft(ws, org, "PO-NET-0003")
        loaded = po_service.detail(ws, org, po)
        same = changed(ws, org, draft)
        po_service.save_draft(other, org, po, loaded.order.version, same)
        with pytest.raises(po_service.PurchaseOrderConflictError, match="after you opened it"):
            po_service.save_draft(ws, org, po, loaded.order.version, same)
        # ...and a different edit of mine is no landed save either.
        with pytest.raises(po_service.PurchaseOrderConflictError):
            po_service.save_draft(ws, org, po, loaded.order.version,
                                  dataclasses.replace(same, notes="other"))
