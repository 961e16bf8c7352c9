"""The Purchasing area and the project's Purchasing tab on the demo database, as acme's buyer:
a new order with lines, a refused entry that keeps what was typed, submit (approved at once
below the threshold), send, receive part and the rest, a PDF, the reports, live updates.

The GUI thread is banned from database I/O for the whole test (`off_gui` for the test's own).
Dialogs and the file chooser are answered through the panel's replaceable `ask_*`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pypdfium2 as pdfium
import pytest
from PySide6.QtWidgets import QApplication, QTableWidget
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import purchase_orders as po_service
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.purchase_orders import DraftLine, OrderDraft, ReceiptEntry
from factorypulse_desktop.ui.dialogs.purchase_order_dialogs import OrderDialog, ReceiveDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.pages.purchasing import PurchasingPage
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.purchase_orders_panel import (
    OrderRequest,
    PurchaseOrdersPanel,
    ReceiptRequest,
)

WAIT = 15000
HTML = "<b>Bold</b> <img src=x>"


@dataclass
class Env:
    runner: TaskRunner
    ws: Workspace
    org: uuid.UUID
    item_code: str
    db: Any


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    runner = TaskRunner()
    ws = off_gui(lambda: sign_in(profile_for(demo_db), "acme.procurement", DEMO_PASSWORD))
    org = ws.identity.memberships[0].organization_id
    code = off_gui(lambda: po_service.find_items(ws, org, "")[0].code)
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, ws, org, code, demo_db)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        ws.close()


def texts(table: QTableWidget, row: int) -> list[str]:
    return [table.item(row, c).text() if table.item(row, c) else ""  # type: ignore[union-attr]
            for c in range(table.columnCount())]


def page_for(qtbot: QtBot, env: Env) -> PurchasingPage:
    page = PurchasingPage(env.runner, env.ws, env.org, Formatter())
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    qtbot.waitUntil(lambda: page.orders.loaded, timeout=WAIT)
    return page


def select(qtbot: QtBot, panel: PurchaseOrdersPanel, number: str) -> None:
    qtbot.waitUntil(lambda: any(r.po_number == number for r in panel.rows), timeout=WAIT)
    panel.select(next(r.id for r in panel.rows if r.po_number == number))
    qtbot.waitUntil(lambda: panel.detail is not None
                    and panel.detail.order.po_number == number, timeout=WAIT)


def test_a_buyer_orders_sends_and_receives_through_the_page(
        qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    page = page_for(qtbot, env)
    panel = page.orders
    assert panel.table.rowCount() >= 9  # the demo's orders
    requests: list[OrderRequest] = []
    answers = [
        # first a bad quantity: refused in words, the dialog comes back with it all
        lambda r: OrderDraft(r.draft.po_number, r.draft.supplier_id, currency="USD",
                             notes=HTML, lines=(
                                 DraftLine("", "twelve", "2.50", item_code=env.item_code),
                                 DraftLine("Inspection report", "1", "80"))),
        lambda r: OrderDraft(r.draft.po_number, r.draft.supplier_id, currency="USD",
                             notes=HTML, lines=(
                                 DraftLine("", "12", "2.50", item_code=env.item_code),
                                 DraftLine("Inspection report", "1", "80"))),
    ]

    def ask_order(_parent: Any, request: OrderRequest) -> OrderDraft | None:
        requests.append(request)
        return answers[len(requests) - 1](request)

    panel.ask_order = ask_order
    before = {r.po_number for r in panel.rows}
    panel.new_button.click()
    qtbot.waitUntil(lambda: "saved" in panel.banner.text, timeout=WAIT)
    assert len(requests) == 2
    assert "the quantity: “twelve” is not a number" in requests[1].problem
    assert requests[1].draft.lines[0].quantity == "twelve"  # nothing typed was lost
    assert requests[0].draft.po_number == ""  # the database numbers it when saved
    qtbot.waitUntil(lambda: len({r.po_number for r in panel.rows} - before) == 1, timeout=WAIT)
    [number] = {r.po_number for r in panel.rows} - before
    assert number.startswith("PO-")
    select(qtbot, panel, number)
    assert panel.detail is not None
    assert panel.facts.text().count(HTML) == 1  # shown as typed, as plain text
    assert texts(panel.lines_table, 0)[1] == env.item_code
    assert panel.edit_button.isEnabled() and not panel.receive_button.isEnabled()

    panel.submit_button.click()
    qtbot.waitUntil(lambda: "below every approval threshold" in panel.banner.text,
                    timeout=WAIT)
    qtbot.waitUntil(lambda: getattr(panel.selected_row(), "status", None) == "approved",
                    timeout=WAIT)
    panel.sent_button.click()
    qtbot.waitUntil(lambda: panel.detail is not None and panel.detail.order.status == "sent"
                    and panel.receive_button.isEnabled(), timeout=WAIT)

    receipts: list[ReceiptRequest] = []

    def ask_receipt(_parent: Any, request: ReceiptRequest
                    ) -> tuple[list[ReceiptEntry], list[str]] | None:
        receipts.append(request)
        stock, _service = request.detail.lines
        if len(receipts) == 1:  # more than ordered: refused, asked again with the text
            return [ReceiptEntry(stock.id, "13", stock.default_location_id)], ["13", ""]
        return [ReceiptEntry(stock.id, "5", stock.default_location_id)], ["5", ""]

    panel.ask_receipt = ask_receipt
    panel.receive_button.click()
    qtbot.waitUntil(lambda: "Received on" in panel.banner.text, timeout=WAIT)
    assert "more than ordered" in receipts[1].problem and receipts[1].typed == ["13", ""]
    qtbot.waitUntil(lambda: panel.detail is not None
                    and panel.detail.order.status == "partially_received", timeout=WAIT)
    assert panel.detail.lines[0].quantity_received == Decimal("5")
    assert "Receipts:" in panel.receipts.text()

    path = tmp_path / "order.pdf"
    panel.ask_pdf_path = lambda _parent, suggested: path
    panel.pdf_button.click()
    qtbot.waitUntil(lambda: "Saved" in panel.banner.text, timeout=WAIT)
    pdf = pdfium.PdfDocument(str(path))
    try:
        words = "".join(pdf[0].get_textpage().get_text_range().split())
    finally:
        pdf.close()
    assert number in words and "$110.00" in words

    page.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: page.reports is not None, timeout=WAIT)
    assert page.reports is not None
    assert number in [o.po_number for o in page.reports.open_orders]
    assert page.supplier_table.rowCount() > 0


def test_the_dialogs_keep_what_is_typed(qtbot: QtBot, env: Env) -> None:
    supplier = po_service.Choice(uuid.uuid4(), "Müller <Stahl>")
    draft = OrderDraft("PO-26-0001", supplier.id, currency="EUR", lines=(
        DraftLine("Bolt", "1,5", "abc", item_code="B-1"),))
    dialog = OrderDialog([supplier], draft, problem="Line 1: the unit price must be a number.")
    qtbot.addWidget(dialog)
    assert dialog.value() == OrderDraft("PO-26-0001", supplier.id, currency="EUR", lines=(
        DraftLine("Bolt", "1,5", "abc", "pcs", item_code="B-1"),), notes="")
    assert dialog.problem.text().startswith("Line 1")
    line = po_service.OrderLine(uuid.uuid4(), 1, None, None, "Coating", None, Decimal(4), "h",
                                Decimal(20), Decimal(80), Decimal(1), None)
    receive = ReceiveDialog("PO-1", [line], [], typed=["2,5"])
    qtbot.addWidget(receive)
    assert receive.value() == [ReceiptEntry(line.id, "2,5", None)]


def test_the_project_tab_shows_its_orders_and_follows_changes(qtbot: QtBot, env: Env) -> None:
    def project_with_orders() -> tuple[uuid.UUID, int]:
        with psycopg.connect(env.db.owner_conninfo()) as conn:
            row = conn.execute(
                "SELECT project_id, count(*) FROM purchase_orders WHERE organization_id = %s "
                "AND project_id IS NOT NULL GROUP BY project_id ORDER BY 2 DESC LIMIT 1",
                (env.org,)).fetchone()
        assert row is not None
        return row[0], row[1]

    project, count = off_gui(project_with_orders)
    panel = PurchaseOrdersPanel(env.runner, env.ws, env.org, project, Formatter())
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
    assert len(panel.rows) == count
    assert {r.project_id for r in panel.rows} == {project}
    first = panel.rows[0]

    def rename() -> None:
        with psycopg.connect(env.db.owner_conninfo()) as conn:
            conn.execute("UPDATE purchase_orders SET notes = 'changed elsewhere' WHERE id = %s",
                         (first.id,))

    off_gui(rename)
    panel.on_purchase_orders_changed([first.id])
    qtbot.waitUntil(lambda: any(r.id == first.id and r.version > first.version
                                for r in panel.rows), timeout=WAIT)
