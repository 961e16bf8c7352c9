"""The Inventory page on the seeded database with the GUI thread banned from database I/O."""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pypdfium2 as pdfium
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import inventory
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.dialogs.contact_dialogs import ImportErrorsDialog
from factorypulse_desktop.ui.pages.inventory import InventoryPage, MovementDialog
from factorypulse_desktop.ui.tasks import TaskRunner


def owner(db: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    def run() -> list[tuple[Any, ...]]:
        with psycopg.connect(db.owner_conninfo(), autocommit=True) as conn:
            cur = conn.execute(sql, args)
            return list(cur.fetchall()) if cur.description else []
    return off_gui(run)


def cell(table: Any, row: int, column: int) -> str:
    item = table.item(row, column)
    return "" if item is None else str(item.text())


@dataclass
class Setup:
    page: InventoryPage
    workspace: Workspace
    db: Any
    org: uuid.UUID


def _open(qtbot: QtBot, db: Any, username: str) -> Generator[Setup, None, None]:
    # A fresh item whose name looks like markup, with 2 at a location: low (min 5).
    [(org,)] = owner(db, "SELECT id FROM organizations WHERE slug = 'acme'")
    [(item, loc)] = owner(
        db, "WITH i AS (INSERT INTO inventory_items (organization_id, item_code, item_name, "
            "min_stock_level) VALUES (%s, 'A-UI-1', '<b>Bold</b> bracket', 5) RETURNING id) "
            "SELECT i.id, (SELECT id FROM inventory_locations WHERE organization_id = %s "
            "ORDER BY code LIMIT 1) FROM i", org, org)
    owner(db, "INSERT INTO stock_movements (organization_id, inventory_item_id, location_id, "
              "movement_type, quantity) VALUES (%s, %s, %s, 'receipt', 2)", org, item, loc)
    workspace = sign_in(profile_for(db), username, DEMO_PASSWORD)
    runner = TaskRunner()
    page: InventoryPage | None = None
    forbid_database_io_on_current_thread()
    try:
        page = InventoryPage(runner, workspace, org)
        qtbot.addWidget(page)
        page.resize(1400, 800)
        page.show()
        qtbot.waitUntil(lambda: len(page.rows) > 0 and bool(page.locations), timeout=15000)
        yield Setup(page, workspace, db, org)
    finally:
        if page is not None and page.dialog is not None:
            page.dialog.close()
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


@pytest.fixture
def procurement(qtbot: QtBot, qapp: QApplication, demo_db: Any) -> Iterator[Setup]:
    yield from _open(qtbot, demo_db, "acme.procurement")


def select(qtbot: QtBot, page: InventoryPage, code: str) -> None:
    index = next(i for i, r in enumerate(page.rows) if r.item_code == code)
    with qtbot.waitSignal(page.sig_detail_loaded, timeout=10000):
        page.table.selectRow(index)


def test_list_marks_low_stock_and_shows_markup_as_text(qtbot: QtBot, procurement: Setup) -> None:
    page = procurement.page
    first = page.rows[0]
    assert cell(page.table, 0, 0) == first.item_code
    index = next(i for i, r in enumerate(page.rows) if r.item_code == "A-UI-1")
    assert cell(page.table, index, 1) == "<b>Bold</b> bracket"
    assert cell(page.table, index, 3) == "2" and cell(page.table, index, 6) == "LOW"
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.low_only.setChecked(True)
    assert page.rows and all(r.low for r in page.rows)
    [(low,)] = owner(procurement.db, """
        SELECT count(*) FROM inventory_items i WHERE i.organization_id = %s
          AND i.status = 'active' AND i.min_stock_level IS NOT NULL
          AND coalesce((SELECT sum(on_hand) FROM inventory_balances b
                        WHERE b.inventory_item_id = i.id), 0) < i.min_stock_level""",
        procurement.org)
    assert len(page.rows) == low
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.search.setText("a-ui")
    assert [r.item_code for r in page.rows] == ["A-UI-1"]


def test_detail_and_a_refused_issue_keeps_what_was_typed(qtbot: QtBot,
                                                         procurement: Setup) -> None:
    page = procurement.page
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.search.setText("A-UI-1")
    select(qtbot, page, "A-UI-1")
    assert page.detail_title.text() == "A-UI-1 <b>Bold</b> bracket"
    assert page.balances.rowCount() == 1 and cell(page.balances, 0, 1) == "2"
    assert cell(page.ledger, 0, 1) == "receipt"

    page.open_movement("issue")
    dialog = page.dialog
    assert isinstance(dialog, MovementDialog)
    dialog.quantity.setText("3")
    dialog.reference.setText("PO-7")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10000)
    assert dialog.error.text().startswith("Only 2 pcs of <b>Bold</b> bracket (A-UI-1) are in "
                                          "stock at ")
    assert dialog.quantity.text() == "3" and dialog.reference.text() == "PO-7"
    dialog.quantity.setText("two")
    dialog.ok_button.click()
    assert "not a number" in dialog.error.text()

    dialog.quantity.setText("1.5")
    with qtbot.waitSignal(page.sig_moved, timeout=10000):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: cell(page.table, 0, 3) == "0.5", timeout=10000)
    qtbot.waitUntil(lambda: cell(page.ledger, 0, 1) == "issue", timeout=10000)

    # A movement booked elsewhere arrives through the change bus.
    item = page.rows[0].id
    owner(procurement.db, "INSERT INTO stock_movements (organization_id, inventory_item_id, "
                          "location_id, movement_type, quantity) VALUES (%s, %s, %s, "
                          "'receipt', 10)", procurement.org, item, page.locations[0].id)
    page.on_stock_movements_changed([uuid.uuid4()])
    qtbot.waitUntil(lambda: cell(page.table, 0, 3) == "10.5", timeout=10000)
    assert cell(page.table, 0, 6) == "active"  # no longer low


def test_new_item_edit_conflict_and_validation(qtbot: QtBot, procurement: Setup) -> None:
    page = procurement.page
    page.new_item()
    dialog = page.dialog
    assert dialog is not None
    dialog.fields["item_code"].setText("A-UI-2")  # type: ignore[attr-defined]
    dialog.fields["item_name"].setText("Spacer")  # type: ignore[attr-defined]
    dialog.fields["min_stock_level"].setText("5")  # type: ignore[attr-defined]
    dialog.fields["max_stock_level"].setText("2")  # type: ignore[attr-defined]
    dialog.save_button.click()  # type: ignore[attr-defined]
    assert "maximum is below the minimum" in dialog.error.text()  # type: ignore[attr-defined]
    dialog.fields["max_stock_level"].setText("50")  # type: ignore[attr-defined]
    with qtbot.waitSignal(page.sig_saved, timeout=10000):
        dialog.save_button.click()  # type: ignore[attr-defined]
    rows = owner(procurement.db, "SELECT item_name, min_stock_level, max_stock_level FROM "
                                 "inventory_items WHERE item_code = 'A-UI-2'")
    assert rows == [("Spacer", Decimal(5), Decimal(50))]


def test_export_import_and_labels(qtbot: QtBot, procurement: Setup, tmp_path: Path) -> None:
    page = procurement.page
    export = tmp_path / "items.csv"
    page.choose_export_file = lambda _suggested: str(export)
    with qtbot.waitSignal(page.sig_export_finished, timeout=10000):
        page.export_csv()
    assert "A-UI-1" in export.read_text(encoding="utf-8-sig")

    bad = tmp_path / "bad.csv"
    bad.write_text("Item code,Name\r\nNEW-1,Fine\r\nNEW-2\r\n", encoding="utf-8")
    page.choose_import_file = lambda: str(bad)
    with qtbot.waitSignal(page.sig_import_finished, timeout=10000):
        page.import_csv()
    assert isinstance(page.dialog, ImportErrorsDialog)
    assert owner(procurement.db, "SELECT 1 FROM inventory_items WHERE item_code = 'NEW-1'") == []
    page.dialog.close()

    good = tmp_path / "good.csv"
    good.write_text("Item code;Name;Min stock\r\nNEW-1;Fine;1,5\r\n", encoding="cp1252")
    page.choose_import_file = lambda: str(good)
    with qtbot.waitSignal(page.sig_import_finished, timeout=10000):
        page.import_csv()
    assert owner(procurement.db, "SELECT min_stock_level FROM inventory_items WHERE "
                                 "item_code = 'NEW-1'") == [(Decimal("1.5"),)]

    target = tmp_path / "labels.pdf"
    page.choose_labels_file = lambda _suggested: str(target)
    page.table.clearSelection()
    with qtbot.waitSignal(page.sig_labels_written, timeout=10000):
        page.print_labels()
    text = pdfium.PdfDocument(str(target))[0].get_textpage().get_text_range()
    assert page.rows[0].item_code in text


def test_valuation_shows_each_item_and_the_total(qtbot: QtBot, procurement: Setup) -> None:
    page = procurement.page
    page.show_valuation()
    qtbot.waitUntil(lambda: getattr(page, "valuation", None) is not None, timeout=15000)
    expected = off_gui(lambda: inventory.valuation(procurement.workspace, procurement.org))
    assert page.valuation == expected and expected.total > 0
    assert expected.total == sum(line.value for line in expected.lines)
    assert page.dialog is not None and page.dialog.windowTitle() == "Inventory valuation"
