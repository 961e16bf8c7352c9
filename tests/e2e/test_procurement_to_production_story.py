"""Issue 8's "done when": a project goes from supplier RFQs to an awarded purchase order, the
receipt into stock, a production order whose material is issued and which is run on the
shop-floor station with a scanner, to Completed.

Every person signs in with their own login; the office work goes through the services the pages
call, the shop floor through the station window driven by scanner keystrokes (the GUI thread is
banned from database I/O while it runs).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.enums import IntakeType
from factorypulse_desktop.domain.intake import IntakeForm
from factorypulse_desktop.services import (
    approvals,
    intake,
    inventory,
    production,
    purchase_orders,
    supplier_rfqs,
    workflow,
)
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.outbox import Outbox
from factorypulse_desktop.services.project_detail import load_project
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.station.station_window import StationWindow
from factorypulse_desktop.ui.tasks import TaskRunner

pytestmark = pytest.mark.slow
ROLES = ("sales", "engineering", "qa", "production", "management", "procurement")
WAIT = 15000


@pytest.fixture
def people(demo_db: Any) -> Iterator[dict[str, Workspace]]:
    with ExitStack() as stack:
        yield {role: stack.enter_context(sign_in(profile_for(demo_db), f"acme.{role}",
                                                 DEMO_PASSWORD)) for role in ROLES}


def approval_role(db: Any, step: uuid.UUID) -> str:
    with psycopg.connect(db.owner_conninfo()) as conn:
        row = conn.execute(
            "SELECT coalesce(ss.approval_roles[1]::text, 'management') FROM "
            "project_sub_stage_progress pr JOIN workflow_sub_stages ss ON ss.id = "
            "pr.sub_stage_id WHERE pr.id = %s", (step,)).fetchone()
    assert row is not None
    return str(row[0])


def finish_stage(db: Any, people: dict[str, Workspace], org: uuid.UUID,
                 project: uuid.UUID) -> str:
    """The project owner completes the stage's steps (asking for the approvals the steps need,
    which their roles give from their inboxes) and advances; the new stage's slug."""
    sales = people["sales"]
    detail = load_project(sales, project)
    for step in detail.steps_of(detail.stage.id):
        if not step.is_required or step.status in ("completed", "skipped"):
            continue
        if step.requires_approval:
            asked = workflow.request_step_approval(sales, org, step.id)
            approver = people[approval_role(db, step.id)]
            item = next(i for i in approvals.inbox(approver, org) if i.id == asked)
            approvals.decide(approver, org, item.id, item.version, "approved", "ok")
        else:
            workflow.update_step(sales, step.id, step.version, status="completed")
    workflow.advance_project(sales, project, detail.stage.id)
    return load_project(sales, project).stage.slug


def stock_of(db: Any, item: uuid.UUID) -> Decimal:
    with psycopg.connect(db.owner_conninfo()) as conn:
        row = conn.execute("SELECT coalesce(sum(quantity), 0) FROM stock_movements "
                           "WHERE inventory_item_id = %s", (item,)).fetchone()
    assert row is not None
    return Decimal(row[0])


def new_item(db: Any, org: uuid.UUID) -> tuple[uuid.UUID, str, uuid.UUID]:
    """A stock item for the manifold blanks, kept in the main store (none in stock yet)."""
    with psycopg.connect(db.owner_conninfo()) as conn:
        location = conn.execute("SELECT id FROM inventory_locations WHERE organization_id = %s "
                                "ORDER BY code LIMIT 1", (org,)).fetchone()
        assert location is not None
        item = conn.execute(
            "INSERT INTO inventory_items (organization_id, item_code, item_name, unit, "
            "default_location_id) VALUES (%s, 'BLK-AL-80', 'Aluminium block 80 mm', 'pcs', "
            "%s) RETURNING id", (org, location[0])).fetchone()
    assert item is not None
    return item[0], "BLK-AL-80", location[0]


def scan(qtbot: QtBot, window: StationWindow, code: str) -> None:
    """A keyboard-wedge scanner: the code's keys, then Enter."""
    qtbot.keyClicks(window.scan_field, code)
    qtbot.keyClick(window.scan_field, Qt.Key.Key_Return)


def run_on_the_station(qtbot: QtBot, people: dict[str, Workspace], org: uuid.UUID,
                       number: str, item_code: str, badge: str, tmp_path: Path) -> None:
    runner = TaskRunner()
    window = StationWindow(runner, people["production"], org, Formatter(),
                           outbox=Outbox(tmp_path / "outbox.jsonl"), poll_ms=200)
    qtbot.addWidget(window)
    forbid_database_io_on_current_thread()
    try:
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(lambda: window.scan_field.hasFocus(), timeout=WAIT)
        scan(qtbot, window, f"BD:{badge}")
        qtbot.waitUntil(lambda: window.operator_label.text().startswith("Operator: "),
                        timeout=WAIT)
        for sequence, name in ((1, "Mill"), (2, "Deburr and inspect")):
            scan(qtbot, window, f"OP:{number}:{sequence}")
            qtbot.waitUntil(lambda name=name: f"{name} — " in window.operation_label.text(),
                            timeout=WAIT)
            if sequence == 1:  # the blanks go to the machine
                scan(qtbot, window, f"IT:{item_code}")
                qtbot.waitUntil(lambda: window.quantity_panel.isVisible(), timeout=WAIT)
                qtbot.keyClicks(window.quantity_panel.good, "12")
                qtbot.keyClick(window.quantity_panel.good, Qt.Key.Key_Return)
                qtbot.waitUntil(lambda: window.banner.text.startswith(
                    f"Done: Issue {item_code}"), timeout=WAIT)
            qtbot.keyClick(window.scan_field, Qt.Key.Key_F1)  # Start
            qtbot.waitUntil(lambda name=name: f"{name} — Running" in
                            window.operation_label.text(), timeout=WAIT)
            qtbot.keyClick(window.scan_field, Qt.Key.Key_F3)  # Complete: 11 good, 1 scrap
            qtbot.keyClicks(window.quantity_panel.good, "11")
            qtbot.keyClick(window.quantity_panel.good, Qt.Key.Key_Return)
            qtbot.keyClicks(window.quantity_panel.scrap, "1")
            qtbot.keyClick(window.quantity_panel.scrap, Qt.Key.Key_Return)
            qtbot.waitUntil(lambda name=name: f"{name} — Completed" in
                            window.operation_label.text(), timeout=WAIT)
        assert window.sync_label.text() == "All events are synced."
    finally:
        window.close()
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()


def test_rfqs_to_po_to_stock_to_the_station_to_completed(
        qapp: QApplication, qtbot: QtBot, demo_db: Any, people: dict[str, Workspace],
        tmp_path: Path) -> None:
    sales, buyer = people["sales"], people["procurement"]
    org = sales.identity.memberships[0].organization_id
    made = intake.submit_intake(sales, org, IntakeForm(
        IntakeType.RFQ, company="Hallberg Fluidtechnik AB", contact_name="Sara Hallberg",
        email="sara@hallberg.example", title="Hydraulic manifold blocks, 12 pcs",
        estimated_value="18,400"))
    project = made.project_id
    assert finish_stage(demo_db, people, org, project) == "technical_review"
    assert finish_stage(demo_db, people, org, project) == "supplier_rfq_sent"
    item, item_code, location = new_item(demo_db, org)

    # 1. Supplier RFQs to two suppliers, their quotes side by side, the cheaper one awarded.
    suppliers = supplier_rfqs.list_suppliers(buyer, org)[:2]
    rfqs = supplier_rfqs.create_rfqs(buyer, org, project, supplier_rfqs.RfqDraft(
        tuple(s.id for s in suppliers), "12 aluminium blocks 80 mm, 6061-T6, certs 3.1",
        dt.date.today() + dt.timedelta(days=7)))
    rfqs = supplier_rfqs.send_rfqs(buyer, org, rfqs)
    assert {r.status for r in rfqs} == {"sent"}
    for rfq, price, days in zip(rfqs, ("41.50", "38.00"), (10, 14), strict=True):
        supplier_rfqs.record_quote(buyer, org, rfq, supplier_rfqs.QuoteInput(
            (supplier_rfqs.QuoteLineInput("Aluminium block 80 mm", Decimal(12),
                                          Decimal(price)),), currency="USD",
            lead_time_days=days))
    comparison = supplier_rfqs.compare(buyer, org, project_id=project)
    cheapest = comparison.quotes[0]  # cheapest first
    assert cheapest.total == Decimal("456.00") and cheapest.id in comparison.cheapest
    award = supplier_rfqs.award(buyer, org, cheapest)
    assert award.po_number.startswith("PO-")

    # 2. The draft order: its line is the stock item; submitted, approved, sent, received.
    detail = purchase_orders.detail(buyer, org, award.purchase_order_id)
    line = detail.lines[0]
    purchase_orders.save_draft(buyer, org, award.purchase_order_id, detail.order.version,
                               purchase_orders.OrderDraft(
        detail.order.po_number, detail.order.supplier_id, project, "USD", lines=(
            purchase_orders.DraftLine(line.item_name, line.quantity, line.unit_price,
                                      item_code=item_code),)))
    version = purchase_orders.detail(buyer, org, award.purchase_order_id).order.version
    purchase_orders.submit(buyer, org, award.purchase_order_id, version)
    order = purchase_orders.detail(buyer, org, award.purchase_order_id)
    assert order.order.status == "approved", "below the threshold: approved at once"
    purchase_orders.mark_sent(buyer, org, award.purchase_order_id, order.order.version)
    order = purchase_orders.detail(buyer, org, award.purchase_order_id)
    receipt = uuid.uuid4()
    entry = purchase_orders.ReceiptEntry(order.lines[0].id, "12", location)
    assert purchase_orders.receive(buyer, org, award.purchase_order_id, [entry],
                                   receipt) == "received"
    assert stock_of(demo_db, item) == 12
    assert inventory.on_hand(buyer, org, [item]) == {item: 12}, "the Inventory page's figure"

    assert finish_stage(demo_db, people, org, project) == "quoted"
    assert finish_stage(demo_db, people, org, project) == "order_confirmed"
    assert finish_stage(demo_db, people, org, project) == "procurement_planning"
    assert finish_stage(demo_db, people, org, project) == "production"

    # 3. The production order, released and run on the station with a scanner.
    floor = people["production"]
    centers = production.work_centers(floor, org)
    order_id = production.create(floor, org, project, production.NewOrder(
        quantity=11, planned_start=dt.date.today(),
        operations=[production.NewOperation("Mill", centers[0].id),
                    production.NewOperation("Deburr and inspect", centers[-1].id)],
        materials=[production.NewMaterial(item, 12)]))
    made_order = production.detail(floor, org, order_id)
    production.release(floor, org, order_id, made_order.order.version)
    with psycopg.connect(demo_db.owner_conninfo()) as conn:
        badge = conn.execute("SELECT m.employee_id FROM memberships m JOIN persons p ON "
                             "p.id = m.person_id WHERE p.role_name = 'acme.production'"
                             ).fetchone()
    assert badge is not None
    run_on_the_station(qtbot, people, org, made_order.order.production_number, item_code,
                       badge[0], tmp_path)
    done = production.detail(floor, org, order_id)
    assert done.order.status == "completed"
    assert (done.order.completed_quantity, done.order.scrapped_quantity) == (11, 2)
    assert stock_of(demo_db, item) == 0, "the twelve blanks went to the machine"
    assert inventory.on_hand(buyer, org, [item]) == {item: 0}

    # 4. The project finishes.
    assert finish_stage(demo_db, people, org, project) == "completed"
