"""The shop-floor station window on the demo database: a barcode scanner (keys + Enter) opens
an operation, names the operator, starts and completes with quantities, issues an item; when
the database is unreachable events queue with a visible "Not yet synced" count and are sent
once when it returns.

The GUI thread is banned from database I/O for the whole test (`off_gui` for the test's own).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import production
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.outbox import Outbox
from factorypulse_desktop.services.workspace import CONNECTION_LOST_MESSAGE
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.station.station_window import TOUCH_HEIGHT, StationWindow
from factorypulse_desktop.ui.tasks import TaskRunner

WAIT = 15000


@dataclass
class Env:
    runner: TaskRunner
    ws: Workspace
    org: uuid.UUID
    db: Any
    order: uuid.UUID
    number: str
    item_code: str
    badge: str
    operator: str


def _prepare(db: Any, ws: Workspace) -> tuple[uuid.UUID, uuid.UUID, str, str, str]:
    org = ws.identity.memberships[0].organization_id
    with psycopg.connect(db.owner_conninfo()) as conn:
        location = conn.execute("INSERT INTO inventory_locations (organization_id, code, name) "
                                "VALUES (%s, 'ST-1', 'Station store') RETURNING id",
                                (org,)).fetchone()[0]  # type: ignore[index]
        item = conn.execute(
            "INSERT INTO inventory_items (organization_id, item_code, item_name, "
            "default_location_id) VALUES (%s, 'ST-PLATE', 'Steel plate 4 mm', %s) RETURNING id",
            (org, location)).fetchone()[0]  # type: ignore[index]
        conn.execute("INSERT INTO stock_movements (organization_id, inventory_item_id, "
                     "location_id, movement_type, quantity) VALUES (%s, %s, %s, 'receipt', 50)",
                     (org, item, location))
        badge, name = conn.execute(
            "SELECT m.employee_id, p.display_name FROM memberships m JOIN persons p ON p.id = "
            "m.person_id WHERE m.organization_id = %s AND p.role_name = 'acme.qa'",
            (org,)).fetchone()  # type: ignore[misc]
    centers = production.work_centers(ws, org)
    order = production.create(ws, org, None, production.NewOrder(
        quantity=3, planned_start=dt.date.today(),
        operations=[production.NewOperation("Laser cut", centers[0].id),
                    production.NewOperation("Bend", centers[1].id)],
        materials=[production.NewMaterial(item, 6)]))
    detail = production.detail(ws, org, order)
    production.release(ws, org, order, detail.order.version)
    return org, order, detail.order.production_number, badge, name


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    runner = TaskRunner()
    ws = off_gui(lambda: sign_in(profile_for(demo_db), "acme.production", DEMO_PASSWORD))
    org, order, number, badge, name = off_gui(lambda: _prepare(demo_db, ws))
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, ws, org, demo_db, order, number, "ST-PLATE", badge, name)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        ws.close()


def window_for(qtbot: QtBot, env: Env, tmp_path: Path) -> StationWindow:
    window = StationWindow(env.runner, env.ws, env.org, Formatter(),
                           outbox=Outbox(tmp_path / "outbox.jsonl"), poll_ms=200)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    return window


def scan(qtbot: QtBot, window: StationWindow, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code, then Enter."""
    assert window.scan_field.hasFocus()
    qtbot.keyClicks(window.scan_field, code)
    qtbot.keyClick(window.scan_field, Qt.Key.Key_Return)


def events(env: Env) -> list[tuple[str, str | None, Decimal | None]]:
    def read() -> list[tuple[str, str | None, Decimal | None]]:
        with psycopg.connect(env.db.owner_conninfo()) as conn:
            return [(r[0], r[1], r[2]) for r in conn.execute(
                "SELECT e.event_type, p.role_name, e.quantity FROM production_events e "
                "LEFT JOIN persons p ON p.id = e.operator_id WHERE e.production_order_id = %s "
                "ORDER BY e.occurred_at, e.created_at", (env.order,))]
    return off_gui(read)


def test_scanner_drives_start_complete_and_issue(qtbot: QtBot, env: Env,
                                                 tmp_path: Path) -> None:
    window = window_for(qtbot, env, tmp_path)
    qtbot.waitUntil(lambda: window.scan_field.hasFocus(), timeout=WAIT)
    buttons = [window.start_button, window.pause_button, window.complete_button]
    assert all(b.minimumHeight() >= 64 for b in buttons)
    assert all(b.minimumHeight() >= 64 for b in window.quantity_panel.findChildren(QPushButton))
    assert TOUCH_HEIGHT >= 64

    scan(qtbot, window, f"BD:{env.badge}")
    qtbot.waitUntil(lambda: window.operator_label.text() == f"Operator: {env.operator}",
                    timeout=WAIT)
    scan(qtbot, window, f"OP:{env.number}:1")
    qtbot.waitUntil(lambda: "Laser cut — Not started" in window.operation_label.text(),
                    timeout=WAIT)
    assert window.order_label.text() == f"Order {env.number} — Released"
    assert window.center_label.text().startswith("Work center: ")

    qtbot.keyClick(window.scan_field, Qt.Key.Key_F1)  # Start, by keyboard alone
    qtbot.waitUntil(lambda: "Laser cut — Running" in window.operation_label.text(),
                    timeout=WAIT)
    assert window.order_label.text() == f"Order {env.number} — Running"

    qtbot.keyClick(window.scan_field, Qt.Key.Key_F3)  # Complete: good and scrap
    assert window.quantity_panel.isVisible() and window.quantity_panel.good.hasFocus()
    qtbot.keyClicks(window.quantity_panel.good, "x")
    qtbot.keyClick(window.quantity_panel.good, Qt.Key.Key_Return)
    qtbot.keyClick(window.quantity_panel.scrap, Qt.Key.Key_Return)
    assert "must be a number" in window.quantity_panel.error.text()
    assert window.quantity_panel.good.text() == "x"  # nothing typed is lost
    window.quantity_panel.good.clear()
    qtbot.keyClicks(window.quantity_panel.good, "3")
    qtbot.keyClick(window.quantity_panel.good, Qt.Key.Key_Return)
    assert window.quantity_panel.scrap.hasFocus()
    qtbot.keyClicks(window.quantity_panel.scrap, "1")
    qtbot.keyClick(window.quantity_panel.scrap, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Laser cut — Completed" in window.operation_label.text(),
                    timeout=WAIT)
    assert window.scan_field.hasFocus()
    assert sorted(events(env), key=str) == sorted([
        ("start", "acme.qa", None), ("complete", "acme.qa", Decimal(3)),
        ("scrap", "acme.qa", Decimal(1))], key=str)  # the badge's person on every event

    scan(qtbot, window, f"IT:{env.item_code}")  # an item: the issue quantity
    qtbot.waitUntil(lambda: window.quantity_panel.isVisible(), timeout=WAIT)
    assert "Issue ST-PLATE" in window.quantity_panel.title.text()
    qtbot.keyClicks(window.quantity_panel.good, "2")
    qtbot.keyClick(window.quantity_panel.good, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.banner.text.startswith("Done: Issue ST-PLATE"),
                    timeout=WAIT)
    detail = off_gui(lambda: production.detail(env.ws, env.org, env.order))
    assert detail.materials[0].quantity_issued == Decimal(2)

    scan(qtbot, window, "OP:NO-SUCH:1")
    qtbot.waitUntil(lambda: "No operation 1 on production order NO-SUCH" in window.banner.text,
                    timeout=WAIT)
    assert window.scan_field.hasFocus() and window.scan_field.text() == ""


def test_unreachable_database_queues_and_replays_once(qtbot: QtBot, env: Env, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    window = window_for(qtbot, env, tmp_path)
    qtbot.waitUntil(lambda: window.scan_field.hasFocus(), timeout=WAIT)
    scan(qtbot, window, f"{env.number}/1")  # a bare code
    qtbot.waitUntil(lambda: "Laser cut" in window.operation_label.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: window.sync_label.text() == "All events are synced.",
                    timeout=WAIT)

    def lost(*_args: object, **_kw: object) -> Any:
        raise UserFacingError(CONNECTION_LOST_MESSAGE)

    monkeypatch.setattr(env.ws, "read", lost)
    monkeypatch.setattr(env.ws, "transaction", lost)
    window.start_button.click()
    qtbot.waitUntil(lambda: window.sync_label.text() == "Not yet synced: 1", timeout=WAIT)
    assert "saved on this station" in window.banner.text
    qtbot.keyClick(window.scan_field, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: window.sync_label.text() == "Not yet synced: 2", timeout=WAIT)
    qtbot.wait(600)  # a few polls while offline: still queued, nothing lost
    assert window.pending == 2 and events(env) == []

    monkeypatch.undo()  # the connection is back
    qtbot.waitUntil(lambda: window.sync_label.text() == "All events are synced.",
                    timeout=WAIT)
    qtbot.waitUntil(lambda: "Paused" in window.operation_label.text(), timeout=WAIT)
    qtbot.wait(600)  # more polls: nothing is sent twice
    assert [e[0] for e in events(env)] == ["start", "pause"]
    assert [e[1] for e in events(env)] == ["acme.production", "acme.production"]
