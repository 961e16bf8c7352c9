"""The Production area and the project page's Production tab on the demo database: planning an
order through the dialog (a mistake keeps what was typed), releasing it, a station event shown
live, reports; user text stays plain text (T-IN-10).

The GUI thread is banned from database I/O for the whole test (`off_gui` for the test's own).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from PySide6.QtWidgets import QApplication, QLineEdit, QTableWidget
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import production, station
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.pages.production import ProductionPage
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.production_panel import ProductionPanel

WAIT = 15000
HTML = '<b>Bold</b> <a href="https://evil.example">x</a>'


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None
    return item.text()


@dataclass
class Env:
    runner: TaskRunner
    ws: Workspace
    org: uuid.UUID
    project: uuid.UUID


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    runner = TaskRunner()
    ws = off_gui(lambda: sign_in(profile_for(demo_db), "acme.production", DEMO_PASSWORD))
    org = ws.identity.memberships[0].organization_id

    def new_project() -> uuid.UUID:
        with psycopg.connect(demo_db.owner_conninfo()) as conn:
            row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, "
                               "'Pump skid') RETURNING id", (org,)).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    project = off_gui(new_project)
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, ws, org, project)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        ws.close()


def test_plan_release_and_follow_an_order_on_the_project_tab(qtbot: QtBot, env: Env) -> None:
    panel = ProductionPanel(env.runner, env.ws, env.org, env.project, Formatter())
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
    assert panel.table.rowCount() == 0
    panel.new_button.click()
    qtbot.waitUntil(lambda: panel.dialog is not None, timeout=WAIT)
    dialog = panel.dialog
    assert dialog is not None
    dialog.quantity.setText("twelve")
    dialog.description.setText(HTML)
    name = dialog.operations.cellWidget(0, 0)
    assert isinstance(name, QLineEdit)
    name.setText("Saw")
    dialog.add_operation("Drill", center=2, minutes=20)
    dialog.add_material(item=0, quantity="24")
    dialog.ok_button.click()
    assert "must be a number" in dialog.error_label.text()
    assert dialog.quantity.text() == "twelve" and dialog.isVisible()  # nothing typed is lost
    dialog.quantity.setText("12")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: panel.dialog is None and panel.table.rowCount() == 1, timeout=WAIT)
    assert cell(panel.table, 0, 2) == "Planned"
    assert cell(panel.table, 0, 8) == HTML  # plain text, not rendered
    qtbot.waitUntil(lambda: panel.detail is not None, timeout=WAIT)
    assert panel.operations.rowCount() == 2 and panel.materials.rowCount() == 1
    assert cell(panel.materials, 0, 2) == "24"
    assert not panel.action_buttons["resume"].isEnabled()

    panel.action_buttons["release"].click()
    qtbot.waitUntil(lambda: cell(panel.table, 0, 2) == "Released", timeout=WAIT)
    assert panel.banner.text.endswith("is now released.")

    # Another station starts the first operation: the tab follows the live change.
    assert panel.detail is not None
    order = panel.detail.order
    first = panel.detail.operations[0].id
    off_gui(lambda: station.send(env.ws, env.org, station.StationEvent(
        "start", order.id, first)))
    panel.on_production_events_changed([])
    panel.on_production_orders_changed([order.id])
    qtbot.waitUntil(lambda: cell(panel.table, 0, 2) == "In progress", timeout=WAIT)
    qtbot.waitUntil(lambda: panel.events.rowCount() == 1, timeout=WAIT)
    assert cell(panel.events, 0, 1) == "Started"

    # Hold it; a stale second click gets a conflict in words, not an overwrite.
    stale = panel.orders[0]
    panel.action_buttons["hold"].click()
    qtbot.waitUntil(lambda: cell(panel.table, 0, 2) == "On hold", timeout=WAIT)
    with pytest.raises(production.ProductionConflictError):
        off_gui(lambda: production.hold(env.ws, env.org, stale.id, stale.version))


def test_production_area_filters_and_reports(qtbot: QtBot, env: Env) -> None:
    page = ProductionPage(env.runner, env.ws, env.org, Formatter())
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.orders.loaded, timeout=WAIT)
    open_orders = {o.status for o in page.orders.orders}
    assert open_orders and open_orders <= {"planned", "released", "in_progress", "on_hold"}
    qtbot.waitUntil(lambda: page.center_filter.count() > 1, timeout=WAIT)
    page.status_filter.setCurrentIndex(page.status_filter.findText("Completed"))
    qtbot.waitUntil(lambda: bool(page.orders.orders) and all(
        o.status == "completed" for o in page.orders.orders), timeout=WAIT)

    page.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: page.throughput.rowCount() == 12, timeout=WAIT)
    assert all(w.week_start.weekday() == 0 for w in page.throughput_rows)  # Mondays
    # The demo completed one order about five weeks ago, with scrap at its second operation.
    assert sum(w.orders_completed for w in page.throughput_rows) >= 1
    assert sum((w.scrapped_quantity for w in page.throughput_rows), Decimal(0)) > 0
    assert page.scrap.rowCount() >= 1 and cell(page.scrap, 0, 4).endswith("%")
