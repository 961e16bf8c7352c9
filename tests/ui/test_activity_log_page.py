"""The Activity log page on the demo database, signed in as acme.admin.

The GUI thread is banned from database I/O for the whole test; data is written before the ban.
No modal dialog opens: the export file chooser is replaced on the page.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.pages.activity_log import ActivityLogPage
from factorypulse_desktop.ui.tasks import TaskRunner

WAIT = 15000
FORMULA = '=HYPERLINK("http://evil.example","Click")'


def one(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


@dataclass
class Env:
    runner: TaskRunner
    workspace: Workspace
    org: uuid.UUID
    sales_name: str


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    with psycopg.connect(demo_db.owner_conninfo(), autocommit=True) as conn:
        org = one(conn, "SELECT id FROM organizations WHERE slug = 'acme'")
        sales_name = one(conn, "SELECT display_name FROM persons WHERE role_name = "
                         "'acme.sales'")
    with psycopg.connect(demo_db.conninfo_for("acme.sales")) as conn:
        # A person writes their own entry; the description is whatever they typed.
        conn.execute("INSERT INTO activity_log (organization_id, entity_type, action, "
                     "description) VALUES (%s, 'contact', 'note', %s)", (org, FORMULA))
        conn.execute("UPDATE projects SET priority_score = priority_score + 1 WHERE id = "
                     "(SELECT id FROM projects WHERE organization_id = %s ORDER BY "
                     "project_number LIMIT 1)", (org,))
    runner = TaskRunner()
    workspace = off_gui(lambda: sign_in(profile_for(demo_db), "acme.admin", DEMO_PASSWORD))
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, workspace, org, sales_name)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def make_page(qtbot: QtBot, env: Env) -> ActivityLogPage:
    page = ActivityLogPage(env.runner, env.workspace, env.org, Formatter())
    qtbot.addWidget(page)
    page.resize(1280, 720)
    page.show()
    qtbot.waitUntil(lambda: page.loaded and page.person_box.count() > 1, timeout=WAIT)
    return page


def column(page: ActivityLogPage, index: int) -> list[str]:
    items = [page.table.item(r, index) for r in range(page.table.rowCount())]
    return [item.text() if item is not None else "" for item in items]


def test_filter_by_person(qtbot: QtBot, env: Env) -> None:
    page = make_page(qtbot, env)
    assert len(set(column(page, 1))) > 1  # everyone's activity at first
    index = page.person_box.findText(env.sales_name)
    assert index > 0
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.person_box.setCurrentIndex(index)
    assert set(column(page, 1)) == {env.sales_name}
    descriptions = column(page, 4)
    assert FORMULA in descriptions  # shown as typed (plain text)
    changes = column(page, 5)
    assert any(c.startswith("Priority score: ") and "\u2192" in c for c in changes)
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.text_edit.setText("hyperlink")
    assert column(page, 4) == [FORMULA]


def test_T_IN_05_export_csv_neutralises_a_formula_description(
        qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    page = make_page(qtbot, env)
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.action_box.setCurrentIndex(page.action_box.findData("note"))
    assert column(page, 4) == [FORMULA]
    target = tmp_path / "audit"
    page.choose_export_file = lambda suggested: str(target)
    with qtbot.waitSignal(page.sig_export_finished, timeout=WAIT) as finished:
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert finished.args == [1]
    written = tmp_path / "audit.csv"
    with written.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][6] == "Description"
    assert rows[1][6] == "'" + FORMULA and rows[1][1] == env.sales_name
    assert page.export_button.isEnabled() and not page.transfer_status.isVisible()
