"""The forms that send a save keep the same client-chosen id when the person presses Save or
Send again (RELIABILITY.md T-NET-03, the UI path): after a save whose COMMIT landed, whose
answer was lost, and whose "did it land?" check failed too, the form keeps the input, says it
is not known yet, and the second press stores nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from faults_support import answer_lost_after_commit, count, killed_at
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import units
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.pages.contacts import ContactsPage
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.messages_panel import MessagesPanel

WAIT = 15000
UNKNOWN = "cannot be checked yet"


def _signed(db: Any, who: str) -> Workspace:
    return off_gui(lambda: sign_in(profile_for(db), who, DEMO_PASSWORD))


def _runner() -> Iterator[TaskRunner]:
    runner = TaskRunner()
    forbid_database_io_on_current_thread()
    try:
        yield runner
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()


def test_T_NET_03_contacts_page_saves_a_new_contact_once_when_pressed_again(
        qtbot: QtBot, qapp: QApplication, demo_db: Any) -> None:
    ws = _signed(demo_db, "acme.sales")
    runner_gen = _runner()
    runner = next(runner_gen)
    try:
        page = ContactsPage(runner, ws, ws.identity.memberships[0].organization_id)
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=WAIT)
        page.new_button.click()
        page.editor.lines["company_name"].setText("Twice Pressed Gears")
        with (answer_lost_after_commit(demo_db, ws, r"INSERT INTO contacts") as trap,
              killed_at(demo_db, ws, r"FROM contacts c\s+LEFT JOIN persons", times=3,
                        after=trap, about=page._new_id)):
            page.save_button.click()
            qtbot.waitUntil(lambda: UNKNOWN in page.banner.text, timeout=WAIT)
        assert trap.fired
        assert page.editing_new and page.editor.lines["company_name"].text() == \
            "Twice Pressed Gears", "the form keeps the input"
        with qtbot.waitSignal(page.sig_saved, timeout=WAIT):
            page.save_button.click()  # not "already exists": it is the same contact
        assert page.detail is not None and page.detail.company_name == "Twice Pressed Gears"
    finally:
        next(runner_gen, None)
        ws.close()
    assert count(demo_db, "SELECT count(*) FROM contacts WHERE company_name = %s",
                 "Twice Pressed Gears") == 1


def test_T_NET_03_message_panel_sends_once_when_send_is_pressed_again(
        qtbot: QtBot, qapp: QApplication, demo_db: Any) -> None:
    ws = _signed(demo_db, "acme.engineering")
    org = ws.identity.memberships[0].organization_id
    project = off_gui(lambda: units.read(ws, lambda conn: conn.exec_driver_sql(
        "SELECT id FROM projects ORDER BY project_number LIMIT 1").scalar_one()))
    runner_gen = _runner()
    runner = next(runner_gen)
    try:
        panel = MessagesPanel(runner, ws, org, project, Formatter())
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitUntil(lambda: panel.loaded and bool(panel.people), timeout=WAIT)
        panel.new_thread_button.click()
        panel.subject_edit.setText("Pressed twice")
        panel.reply_box.setPlainText("Only one of me should exist")
        with (answer_lost_after_commit(demo_db, ws, r"INSERT INTO messages") as trap,
              killed_at(demo_db, ws, r"SELECT 1 FROM messages", times=3, after=trap)):
            panel.send_button.click()
            qtbot.waitUntil(lambda: UNKNOWN in panel.banner.text, timeout=WAIT)
        assert trap.fired
        assert panel.reply_box.toPlainText() == "Only one of me should exist"
        panel.send_button.click()
        qtbot.waitUntil(lambda: panel.reply_box.toPlainText() == "", timeout=WAIT)
        # A different message afterwards is a new one.
        panel.reply_box.setPlainText("A reply of its own")
        panel.send_button.click()
        qtbot.waitUntil(lambda: panel.reply_box.toPlainText() == "", timeout=WAIT)
    finally:
        next(runner_gen, None)
        ws.close()
    assert count(demo_db, "SELECT count(*) FROM messages WHERE content = %s",
                 "Only one of me should exist") == 1
    assert count(demo_db, "SELECT count(*) FROM messages WHERE content = %s",
                 "A reply of its own") == 1
