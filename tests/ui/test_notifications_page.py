"""The Notifications page, signed in as acme.engineering on the demo database.

Notifications come from real events: management puts engineering on projects through the
services and the database writes them. The GUI thread is banned from database I/O.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTreeWidgetItem
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import notifications, project_detail
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.pages.notifications import NotificationsPage
from factorypulse_desktop.ui.tasks import TaskRunner

WAIT = 15000
MARKUP_TITLE = "<b>Bold</b> bracket <img src=x onerror=alert(1)>"


@dataclass
class Env:
    runner: TaskRunner
    engineering: Workspace
    management: Workspace
    org: uuid.UUID
    projects: list[uuid.UUID]

    def assign(self, project: uuid.UUID) -> None:
        off_gui(lambda: project_detail.assign_person(self.management, project,
                                                     self.engineering.identity.person_id))


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    runner = TaskRunner()
    engineering = off_gui(lambda: sign_in(profile_for(demo_db), "acme.engineering",
                                          DEMO_PASSWORD))
    management = off_gui(lambda: sign_in(profile_for(demo_db), "acme.management",
                                         DEMO_PASSWORD))
    org = engineering.identity.memberships[0].organization_id
    with psycopg.connect(demo_db.owner_conninfo()) as conn:
        titles = ("Pump bracket", MARKUP_TITLE)
        projects = [uuid.UUID(str(row[0])) for row in (conn.execute(
            "INSERT INTO projects (organization_id, title) VALUES (%s, %s) RETURNING id",
            (org, title)).fetchone() for title in titles) if row is not None]
        # Start from an empty inbox: what the page shows is what this test made.
        conn.execute("DELETE FROM notifications WHERE person_id = %s",
                     (engineering.identity.person_id,))
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, engineering, management, org, projects)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        engineering.close()
        management.close()


def make_page(qtbot: QtBot, env: Env) -> NotificationsPage:
    page = NotificationsPage(env.runner, env.engineering, env.org, Formatter())
    qtbot.addWidget(page)
    page.resize(1100, 600)
    page.show()
    qtbot.waitUntil(lambda: page.loaded, timeout=WAIT)
    return page


def row(page: NotificationsPage, n: int) -> QTreeWidgetItem:
    item = page.list.topLevelItem(n)
    assert item is not None
    return item


def test_lists_unread_in_bold_opens_the_project_and_marks_it_read(
        qtbot: QtBot, env: Env) -> None:
    page = make_page(qtbot, env)
    assert page.list.topLevelItemCount() == 0
    assert page.status.text() == "No unread notifications."
    env.assign(env.projects[0])
    page.on_notifications_changed([])  # what the ChangeBus calls for table "notifications"
    qtbot.waitUntil(lambda: page.list.topLevelItemCount() == 1, timeout=WAIT)
    item = row(page, 0)
    assert item.text(0).startswith("You were added to P-") and item.text(0).endswith(
        "Pump bracket")
    assert item.text(1).endswith(" added you to the project as member.")
    assert not item.text(1).startswith("Someone")  # the name of who did it
    assert item.text(2)  # when
    assert item.font(0).bold()
    opened: list[uuid.UUID] = []
    page.sig_open_project.connect(opened.append)
    page.list.itemActivated.emit(item, 0)
    assert opened == [env.projects[0]]
    assert not item.font(0).bold()
    qtbot.waitUntil(lambda: off_gui(lambda: notifications.unread_count(
        env.engineering, env.org)) == 0, timeout=WAIT)
    # Read ones are listed under "All", not under "Unread".
    page.filter.setCurrentIndex(1)
    qtbot.waitUntil(lambda: page.list.topLevelItemCount() == 1, timeout=WAIT)
    assert not row(page, 0).font(0).bold()
    page.filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: page.list.topLevelItemCount() == 0, timeout=WAIT)


def test_T_IN_10_markup_in_a_notification_is_shown_as_typed(qtbot: QtBot, env: Env) -> None:
    env.assign(env.projects[1])
    page = make_page(qtbot, env)
    item = row(page, 0)
    assert item.text(0).endswith(MARKUP_TITLE)
    assert item.toolTip(0) == "" and item.toolTip(1) == ""
    # Tree items never render markup; the only labels are plain text.
    assert page.status.textFormat() == Qt.TextFormat.PlainText


def test_mark_all_read_and_older_pages(qtbot: QtBot, env: Env,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for project in env.projects:
        env.assign(project)
    monkeypatch.setattr(notifications, "PAGE", 1)  # one per page, to see "Show older" work
    page = make_page(qtbot, env)
    assert page.list.topLevelItemCount() == 1 and page.more_button.isVisible()
    page.more_button.click()
    qtbot.waitUntil(lambda: page.list.topLevelItemCount() == 2, timeout=WAIT)
    assert row(page, 0).text(0).endswith(MARKUP_TITLE)  # newest first
    assert row(page, 1).text(0).endswith("Pump bracket")
    page.more_button.click()
    qtbot.waitUntil(lambda: not page.more_button.isVisible(), timeout=WAIT)
    assert page.list.topLevelItemCount() == 2
    page.mark_all_button.click()
    qtbot.waitUntil(lambda: page.list.topLevelItemCount() == 0, timeout=WAIT)
    assert page.status.text() == "No unread notifications."
    assert off_gui(lambda: notifications.unread_count(env.engineering, env.org)) == 0


def test_preferences_dialog_saves_the_choices(qtbot: QtBot, env: Env) -> None:
    page = make_page(qtbot, env)
    page.preferences_button.click()
    qtbot.waitUntil(lambda: page.preferences_dialog is not None, timeout=WAIT)
    dialog = page.preferences_dialog
    assert dialog is not None
    assert dialog.in_app["mention"].isChecked() and not dialog.desktop["mention"].isChecked()
    dialog.desktop["mention"].setChecked(True)
    dialog.desktop["assignment"].setChecked(True)
    dialog.in_app["assignment"].setChecked(False)  # no desktop without the app
    assert not dialog.desktop["assignment"].isChecked()
    assert not dialog.desktop["assignment"].isEnabled()
    dialog.save_button.click()
    qtbot.waitUntil(lambda: page.status.text() == "Your notification preferences were saved.",
                    timeout=WAIT)
    saved = {p.event: p for p in off_gui(lambda: notifications.preferences(
        env.engineering, env.org))}
    assert (saved["mention"].in_app, saved["mention"].desktop) == (True, True)
    assert (saved["assignment"].in_app, saved["assignment"].desktop) == (False, False)
    # and the database honours it: being put on a project no longer notifies.
    env.assign(env.projects[0])
    assert off_gui(lambda: notifications.unread_count(env.engineering, env.org)) == 0
