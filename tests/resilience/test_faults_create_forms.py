"""The forms that create purchase orders, stock items, production orders, RFQs, quotes and
reviews send the same client-chosen id when OK / Save is pressed again (RELIABILITY.md
T-NET-03, the UI path): after a save whose COMMIT landed, whose answer was lost, and whose
"did it land?" check failed too, the form stays open with its input, says it is not known
yet, and the second press stores nothing new.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from faults_support import answer_lost_after_commit, count, killed_at
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import supplier_rfqs
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.purchase_orders import OrderDraft
from factorypulse_desktop.services.supplier_rfqs import RfqDraft
from factorypulse_desktop.ui.dialogs.production_order_dialog import ProductionOrderDialog
from factorypulse_desktop.ui.dialogs.review_dialogs import RequestReviewsDialog
from factorypulse_desktop.ui.dialogs.rfq_dialogs import NewRfqDialog, RecordQuoteDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.pages.inventory import InventoryPage, ItemDialog
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.production_panel import ProductionPanel
from factorypulse_desktop.ui.widgets.purchase_orders_panel import (
    OrderRequest,
    PurchaseOrdersPanel,
)
from factorypulse_desktop.ui.widgets.reviews_panel import ReviewsPanel
from factorypulse_desktop.ui.widgets.supplier_rfqs_panel import SupplierRfqsPanel

WAIT = 15000
UNKNOWN = "cannot be checked yet"
TRUECUT, METALS = "TrueCut CNC Services", "Precision Metals Supply Co."


@dataclass
class Env:
    ws: Workspace
    runner: TaskRunner
    org: uuid.UUID
    project: uuid.UUID


@contextmanager
def signed_ui(db: Any, who: str) -> Iterator[Env]:
    """`who` signed in, a task runner, a fresh project, the GUI thread banned from I/O."""
    ws = off_gui(lambda: sign_in(profile_for(db), who, DEMO_PASSWORD))
    org = ws.identity.memberships[0].organization_id

    def new_project() -> uuid.UUID:
        with psycopg.connect(db.owner_conninfo()) as conn:
            row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, "
                               "'Pressed twice') RETURNING id", (org,)).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    project = off_gui(new_project)
    runner = TaskRunner()
    forbid_database_io_on_current_thread()
    try:
        yield Env(ws, runner, org, project)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        ws.close()


def counted(db: Any, sql: str, *params: Any) -> int:
    return off_gui(lambda: count(db, sql, *params))


@contextmanager
def lost_and_unchecked(db: Any, ws: Workspace, insert: str, check: str,
                       about: Any = None) -> Iterator[Any]:
    """The save whose statement matches `insert` lands with its answer lost, and the three
    tries of its landed check (matching `check`) find the server gone."""
    with (answer_lost_after_commit(db, ws, insert) as trap,
          killed_at(db, ws, check, times=3, after=trap, about=about)):
        yield trap


def test_T_NET_03_purchase_order_form_creates_once_when_saved_again(
        qtbot: QtBot, qapp: QApplication, demo_db: Any) -> None:
    with signed_ui(demo_db, "acme.procurement") as env:
        panel = PurchaseOrdersPanel(env.runner, env.ws, env.org, env.project, Formatter())
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
        asked: list[tuple[OrderRequest, uuid.UUID | None]] = []

        def ask_order(_parent: Any, request: OrderRequest) -> OrderDraft | None:
            asked.append((request, panel.pending_order_id))
            return OrderDraft("", request.draft.supplier_id, project_id=env.project,
                              currency="USD", notes="Pressed twice PO")

        panel.ask_order = ask_order
        with lost_and_unchecked(demo_db, env.ws, r"INSERT INTO purchase_orders",
                                r"SELECT 1 FROM purchase_orders WHERE") as trap:
            panel.new_button.click()
            qtbot.waitUntil(lambda: len(asked) == 2, timeout=WAIT)
        assert trap.fired
        assert UNKNOWN in asked[1][0].problem, "the form comes back, saying it is not known"
        qtbot.waitUntil(lambda: "saved" in panel.banner.text, timeout=WAIT)
        first_id, again_id = asked[0][1], asked[1][1]
    assert first_id is not None and again_id == first_id, "the same id sent again"
    assert counted(demo_db, "SELECT count(*) FROM purchase_orders WHERE notes = %s",
                   "Pressed twice PO") == 1
    assert counted(demo_db, "SELECT count(*) FROM purchase_orders WHERE id = %s",
                   first_id) == 1


def test_T_NET_03_inventory_item_form_creates_once_when_saved_again(
        qtbot: QtBot, qapp: QApplication, demo_db: Any) -> None:
    with signed_ui(demo_db, "acme.procurement") as env:
        page = InventoryPage(env.runner, env.ws, env.org)
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: len(page.rows) > 0 and bool(page.locations), timeout=WAIT)
        page.new_item()
        dialog = page.dialog
        assert isinstance(dialog, ItemDialog) and dialog.new_id is not None
        dialog.fields["item_code"].setText("NET-UI-1")
        dialog.fields["item_name"].setText("Twice saved spacer")
        with lost_and_unchecked(demo_db, env.ws, r"INSERT INTO inventory_items",
                                r"FROM inventory_items i\s+LEFT JOIN contacts",
                                about=dialog.new_id) as trap:
            dialog.save_button.click()
            qtbot.waitUntil(lambda: UNKNOWN in dialog.error.text(), timeout=WAIT)
        assert trap.fired
        assert dialog.isVisible() and dialog.fields["item_code"].text() == "NET-UI-1"
        new_id = dialog.new_id
        with qtbot.waitSignal(page.sig_saved, timeout=WAIT):
            dialog.save_button.click()  # not "the code is already used": the same item
    assert counted(demo_db, "SELECT count(*) FROM inventory_items WHERE item_code = %s",
                   "NET-UI-1") == 1
    assert counted(demo_db, "SELECT count(*) FROM inventory_items WHERE id = %s", new_id) == 1


def test_T_NET_03_production_order_form_plans_once_when_pressed_again(
        qtbot: QtBot, qapp: QApplication, demo_db: Any) -> None:
    with signed_ui(demo_db, "acme.production") as env:
        panel = ProductionPanel(env.runner, env.ws, env.org, env.project, Formatter())
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
        panel.new_button.click()
        qtbot.waitUntil(lambda: panel.dialog is not None, timeout=WAIT)
        dialog = panel.dialog
        assert isinstance(dialog, ProductionOrderDialog)
        dialog.quantity.setText("12")
        name = dialog.operations.cellWidget(0, 0)
        assert isinstance(name, QLineEdit)
        name.setText("Saw")
        with lost_and_unchecked(demo_db, env.ws, r"INSERT INTO production_orders",
                                r"SELECT 1 FROM production_orders WHERE") as trap:
            dialog.ok_button.click()
            qtbot.waitUntil(lambda: UNKNOWN in dialog.error_label.text(), timeout=WAIT)
        assert trap.fired and dialog.isVisible() and dialog.quantity.text() == "12"
        new_id = dialog.new_id
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: panel.dialog is None and panel.table.rowCount() == 1,
                        timeout=WAIT)
    assert counted(demo_db, "SELECT count(*) FROM production_orders WHERE project_id = %s",
                   env.project) == 1
    assert counted(demo_db, "SELECT count(*) FROM production_orders WHERE id = %s",
                   new_id) == 1


def rfq_panel(qtbot: QtBot, env: Env) -> SupplierRfqsPanel:
    panel = SupplierRfqsPanel(env.runner, env.ws, env.org, env.project, Formatter())
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
    return panel


def test_T_NET_03_rfq_form_creates_once_when_pressed_again(
        qtbot: QtBot, qapp: QApplication, demo_db: Any) -> None:
    with signed_ui(demo_db, "acme.procurement") as env:
        panel = rfq_panel(qtbot, env)
        panel.new_button.click()
        qtbot.waitUntil(lambda: isinstance(panel.dialog, NewRfqDialog), timeout=WAIT)
        dialog = panel.dialog
        assert isinstance(dialog, NewRfqDialog)
        dialog.set_checked([TRUECUT, METALS])
        dialog.requirements.setPlainText("40 flanges per drawing F-7")
        with lost_and_unchecked(demo_db, env.ws, r"INSERT INTO supplier_rfqs ",
                                r"AS mine FROM supplier_rfqs") as trap:
            dialog.ok_button.click()
            qtbot.waitUntil(lambda: UNKNOWN in dialog.error_label.text(), timeout=WAIT)
        assert trap.fired and dialog.isVisible()
        group = dialog.new_id
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: len(panel.rfqs) == 2, timeout=WAIT)
    assert counted(demo_db, "SELECT count(*) FROM supplier_rfqs WHERE project_id = %s",
                   env.project) == 2
    assert counted(demo_db, "SELECT count(*) FROM supplier_rfqs WHERE rfq_group = %s",
                   group) == 2


def test_T_NET_03_quote_form_records_once_when_pressed_again(
        qtbot: QtBot, qapp: QApplication, demo_db: Any) -> None:
    with signed_ui(demo_db, "acme.procurement") as env:
        suppliers = off_gui(lambda: supplier_rfqs.list_suppliers(env.ws, env.org))
        truecut = next(s.id for s in suppliers if s.company_name == TRUECUT)
        draft = RfqDraft((truecut,), "Brackets", dt.date.today() + dt.timedelta(days=7))
        [rfq] = off_gui(lambda: supplier_rfqs.send_rfqs(env.ws, env.org, supplier_rfqs.create_rfqs(
            env.ws, env.org, env.project, draft)))
        panel = rfq_panel(qtbot, env)
        panel.select_rfqs([rfq.id])
        panel.quote_button.click()
        dialog = panel.dialog
        assert isinstance(dialog, RecordQuoteDialog)
        dialog.set_line(0, "Bracket B-100", "200", "pcs", "11.25")
        with lost_and_unchecked(demo_db, env.ws, r"INSERT INTO supplier_quotes ",
                                r"q\.created_by = ") as trap:
            dialog.ok_button.click()
            qtbot.waitUntil(lambda: UNKNOWN in dialog.error_label.text(), timeout=WAIT)
        assert trap.fired and dialog.isVisible()
        quote_id = dialog.new_id
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: next(r for r in panel.rfqs if r.id == rfq.id).status
                        == "quoted", timeout=WAIT)
    assert counted(demo_db, "SELECT count(*) FROM supplier_quotes WHERE supplier_rfq_id = %s",
                   rfq.id) == 1
    assert counted(demo_db, "SELECT count(*) FROM supplier_quotes WHERE id = %s",
                   quote_id) == 1


def test_T_NET_03_review_request_form_asks_once_when_pressed_again(
        qtbot: QtBot, qapp: QApplication, demo_db: Any) -> None:
    with signed_ui(demo_db, "acme.management") as env:
        panel = ReviewsPanel(env.runner, env.ws, env.org, env.project, Formatter())
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
        panel.request_button.click()
        dialog = panel.dialog
        assert isinstance(dialog, RequestReviewsDialog)
        with lost_and_unchecked(demo_db, env.ws, r"INSERT INTO reviews ",
                                r"AS mine FROM reviews") as trap:
            dialog.ok_button.click()
            qtbot.waitUntil(lambda: UNKNOWN in dialog.error_label.text(), timeout=WAIT)
        assert trap.fired and dialog.isVisible()
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: len(panel.reviews) == 3, timeout=WAIT)
    assert counted(demo_db, "SELECT count(*) FROM reviews WHERE project_id = %s",
                   env.project) == 3
