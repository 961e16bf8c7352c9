"""The project's Supplier RFQs tab on the demo database, as the buyer (acme.procurement):
an RFQ to two suppliers chosen by capability, sent, two quotes recorded, compared side by
side, the cheaper awarded to a draft purchase order; the RFQ saved as PDF; a refused quote
keeps what was typed; T-IN-10.

The GUI thread is banned from database I/O for the whole test (`off_gui` for the test's own).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pypdfium2 as pdfium
import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTableWidget
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.dialogs.rfq_dialogs import (
    CompareQuotesDialog,
    NewRfqDialog,
    RecordQuoteDialog,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.supplier_rfqs_panel import SupplierRfqsPanel

WAIT = 15000
HTML = '<b>Bold</b> <a href="https://evil.example">click</a>'
TRUECUT, METALS = "TrueCut CNC Services", "Precision Metals Supply Co."


@dataclass
class Env:
    runner: TaskRunner
    org: uuid.UUID
    project: uuid.UUID
    ws: Workspace
    db: Any


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    runner = TaskRunner()
    ws = off_gui(lambda: sign_in(profile_for(demo_db), "acme.procurement", DEMO_PASSWORD))
    org = ws.identity.memberships[0].organization_id

    def new_project() -> uuid.UUID:
        with psycopg.connect(demo_db.owner_conninfo()) as conn:
            row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, "
                               "'Pump bracket') RETURNING id", (org,)).fetchone()
            assert row is not None
            conn.execute("INSERT INTO documents (organization_id, project_id, title, "
                         "access_level, category) VALUES (%s, %s, 'Drawing B-100', 'public', "
                         "'drawing')", (org, row[0]))
        return uuid.UUID(str(row[0]))

    project = off_gui(new_project)
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, org, project, ws, demo_db)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        ws.close()


def make_panel(qtbot: QtBot, env: Env) -> SupplierRfqsPanel:
    panel = SupplierRfqsPanel(env.runner, env.ws, env.org, env.project, Formatter())
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
    return panel


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    return item.text() if item else ""


def texts(table: QTableWidget, row: int) -> list[str]:
    return [cell(table, row, c) for c in range(table.columnCount())]


def create_two(qtbot: QtBot, panel: SupplierRfqsPanel, requirements: str) -> None:
    panel.new_button.click()
    qtbot.waitUntil(lambda: isinstance(panel.dialog, NewRfqDialog), timeout=WAIT)
    dialog = panel.dialog
    assert isinstance(dialog, NewRfqDialog)
    dialog.tags_edit.setText("CNC")  # filtered by capability (case ignored)
    assert dialog.visible_suppliers() == [TRUECUT]
    dialog.tags_edit.setText("")
    assert {TRUECUT, METALS} <= set(dialog.visible_suppliers())
    dialog.ok_button.click()  # nothing ticked: refused in words, nothing sent
    assert dialog.error_label.text() == "Tick at least one supplier."
    dialog.set_checked([TRUECUT, METALS])
    dialog.requirements.setPlainText(requirements)
    dialog.check_document(0)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: len(panel.rfqs) == 2, timeout=WAIT)
    assert not shiboken6.isValid(dialog)  # closed (and deleted) once saved


def record(qtbot: QtBot, panel: SupplierRfqsPanel, supplier: str, price: str,
           lead: int) -> None:
    rfq = next(r for r in panel.rfqs if r.supplier_name == supplier)
    panel.select_rfqs([rfq.id])
    assert panel.quote_button.isEnabled()
    panel.quote_button.click()
    dialog = panel.dialog
    assert isinstance(dialog, RecordQuoteDialog)
    dialog.set_line(0, "Bracket B-100", "200", "pcs", price)
    dialog.add_line("Set-up", "1", "lot", "350")
    dialog.lead_spin.setValue(lead)
    dialog.number_edit.setText(f"Q-{supplier[:3]}")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: next(r for r in panel.rfqs if r.id == rfq.id).status == "quoted",
                    timeout=WAIT)


def test_rfq_to_two_suppliers_quotes_compared_and_awarded(
        qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    panel = make_panel(qtbot, env)
    assert panel.empty_label.isVisible() and not panel.send_button.isEnabled()
    create_two(qtbot, panel, "200 pcs 6061-T6 brackets per drawing B-100")
    rows = sorted(texts(panel.table, r)[1:3] for r in range(2))
    assert rows == [[METALS, "Draft"], [TRUECUT, "Draft"]]
    assert all(r.document_titles == ("Drawing B-100",) for r in panel.rfqs)

    panel.select_rfqs([r.id for r in panel.rfqs])
    assert panel.send_button.isEnabled() and not panel.quote_button.isEnabled()
    panel.send_button.click()
    qtbot.waitUntil(lambda: {r.status for r in panel.rfqs} == {"sent"}, timeout=WAIT)
    assert all(texts(panel.table, r)[4] for r in range(2))  # the sent time

    # The RFQ document for TrueCut, to mail.
    truecut = next(r for r in panel.rfqs if r.supplier_name == TRUECUT)
    panel.save_pdf_to(truecut, tmp_path / "rfq.pdf")
    qtbot.waitUntil(lambda: panel.last_pdf is not None, timeout=WAIT)
    pdf = pdfium.PdfDocument(str(tmp_path / "rfq.pdf"))
    try:
        text = pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()
    assert truecut.rfq_number in text and "Drawing B-100" in text and TRUECUT in text

    record(qtbot, panel, TRUECUT, "11.25", 20)
    record(qtbot, panel, METALS, "12.50", 6)
    totals = {texts(panel.table, r)[1]: texts(panel.table, r)[5] for r in range(2)}
    assert totals == {TRUECUT: "$2,600.00", METALS: "$2,850.00"}

    panel.select_rfqs([truecut.id])
    panel.compare_button.click()
    qtbot.waitUntil(lambda: panel.compare_dialog is not None, timeout=WAIT)
    compare = panel.compare_dialog
    assert isinstance(compare, CompareQuotesDialog)
    table = compare.table
    header = [table.model().headerData(c, Qt.Orientation.Horizontal) for c in range(2)]
    assert header == [TRUECUT, METALS]
    assert [cell(table, 0, c) for c in range(2)] == ["★ Cheapest", "⚡ Fastest"]
    assert [cell(table, 1, c) for c in range(2)] == ["$2,600.00", "$2,850.00"]
    assert [cell(table, 3, c) for c in range(2)] == ["20 days", "6 days"]
    line_row = next(r for r in range(table.rowCount())
                    if str(table.model().headerData(r, Qt.Orientation.Vertical)).startswith(
                        "Line 1: Bracket B-100"))
    assert [cell(table, line_row, c) for c in range(2)] == ["$11.25", "$12.50"]

    assert not compare.award_button.isEnabled()  # nothing chosen yet
    compare.select_quote(compare.comparison.quotes[0].id)
    compare.award_button.click()
    qtbot.waitUntil(lambda: panel.last_award is not None, timeout=WAIT)
    award = panel.last_award
    assert award is not None and award.po_number.startswith("PO-")
    assert compare.result_label.text() == (
        f"Awarded to {TRUECUT}: draft purchase order {award.po_number} created.")
    assert not compare.award_button.isEnabled()

    def stored() -> list[tuple[Any, ...]]:
        with psycopg.connect(env.db.owner_conninfo()) as conn:
            return conn.execute(
                "SELECT po.po_number, po.status, c.company_name, count(l.id) "
                "FROM purchase_orders po JOIN contacts c ON c.id = po.supplier_id "
                "JOIN purchase_order_lines l ON l.purchase_order_id = po.id "
                "WHERE po.project_id = %s GROUP BY 1, 2, 3", (env.project,)).fetchall()

    assert off_gui(stored) == [(award.po_number, "draft", TRUECUT, 2)]
    compare.close()


def test_a_refused_quote_keeps_what_was_typed_and_text_stays_plain(
        qtbot: QtBot, env: Env) -> None:
    panel = make_panel(qtbot, env)
    create_two(qtbot, panel, HTML)
    rfq = panel.rfqs[0]
    panel.select_rfqs([rfq.id])
    assert panel.requirements_label.textFormat() == Qt.TextFormat.PlainText
    assert panel.requirements_label.text() == HTML
    assert not panel.quote_button.isEnabled()  # a draft takes no quote yet
    panel.select_rfqs([r.id for r in panel.rfqs])
    panel.send_button.click()
    qtbot.waitUntil(lambda: {r.status for r in panel.rfqs} == {"sent"}, timeout=WAIT)
    panel.select_rfqs([rfq.id])
    panel.quote_button.click()
    dialog = panel.dialog
    assert isinstance(dialog, RecordQuoteDialog)
    dialog.set_line(0, "<i>Bracket</i>", "two hundred", "pcs", "11")
    dialog.ok_button.click()
    assert dialog.error_label.text() == (
        "The quantity of line 1: “two hundred” is not a number; write it like 1250 or 12.5.")
    dialog.set_line(0, "<i>Bracket</i>", "200", "pcs", "11")
    dialog.currency_edit.setText("US")
    dialog.ok_button.click()  # the service refuses the currency; the dialog keeps the lines
    qtbot.waitUntil(lambda: "three-letter code" in dialog.error_label.text(), timeout=WAIT)
    assert dialog.isVisible() and cell(dialog.lines, 0, 0) == "<i>Bracket</i>"
    dialog.currency_edit.setText("EUR")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: panel.rfqs[0].status == "quoted" or any(
        r.status == "quoted" for r in panel.rfqs), timeout=WAIT)
    quoted = next(r for r in panel.rfqs if r.id == rfq.id)
    assert quoted.quote_currency == "EUR"
    row = next(r for r in range(panel.table.rowCount()) if texts(panel.table, r)[0]
               == rfq.rfq_number)
    assert texts(panel.table, row)[5] == "2,200.00 EUR"
