"""A project's Timeline tab (TimelinePanel) on the demo database, signed in as acme.management.

The GUI thread is banned from database I/O for the whole test; data is written before the ban
or from helper threads (`off_gui`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QStyledItemDelegate
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.timeline_panel import EVENT_ROLE, TimelinePanel

WAIT = 15000
HTML_SUBJECT = '<a href="javascript:alert(1)">Click me</a>'
HTML_CONTENT = "<img src=x onerror=alert(1)><b>bold</b> & <i>more</i>"


def one(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


@dataclass
class Env:
    db: Any
    runner: TaskRunner
    workspace: Workspace
    org: uuid.UUID
    project: uuid.UUID


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    with psycopg.connect(demo_db.owner_conninfo(), autocommit=True) as conn:
        org = one(conn, "SELECT id FROM organizations WHERE slug = 'acme'")
        sales = one(conn, "SELECT id FROM persons WHERE role_name = 'acme.sales'")
        project = one(conn, "INSERT INTO projects (organization_id, title) VALUES (%s, "
                      "'Timeline tab') RETURNING id", (org,))
        conn.execute("INSERT INTO messages (organization_id, project_id, sender_id, subject, "
                     "content, created_at) VALUES (%s, %s, %s, %s, %s, now() - "
                     "interval '3 minutes')", (org, project, sales, HTML_SUBJECT, HTML_CONTENT))
        conn.execute("INSERT INTO documents (organization_id, project_id, title, uploaded_by, "
                     "created_at) VALUES (%s, %s, 'Flange drawing', %s, now() - "
                     "interval '2 minutes')", (org, project, sales))
        conn.execute("INSERT INTO reviews (organization_id, project_id, review_type, "
                     "reviewer_role, created_at) VALUES (%s, %s, 'engineering', 'engineering', "
                     "now() - interval '5 minutes')", (org, project))
        # Everything happened before the test's own edit (now).
        conn.execute("UPDATE project_stage_history SET occurred_at = now() - "
                     "interval '10 minutes' WHERE project_id = %s", (project,))
    runner = TaskRunner()
    workspace = off_gui(lambda: sign_in(profile_for(demo_db), "acme.management",
                                        DEMO_PASSWORD))
    forbid_database_io_on_current_thread()
    try:
        yield Env(demo_db, runner, workspace, org, project)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def make_panel(qtbot: QtBot, env: Env, **kwargs: Any) -> TimelinePanel:
    panel = TimelinePanel(env.runner, env.workspace, env.org, env.project, Formatter(),
                          **kwargs)
    qtbot.addWidget(panel)
    panel.resize(700, 600)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
    return panel


def kinds_shown(panel: TimelinePanel) -> list[str]:
    return [panel.list.item(i).data(EVENT_ROLE).kind for i in range(panel.list.count())]


def test_filters_show_one_kind_each(qtbot: QtBot, env: Env) -> None:
    panel = make_panel(qtbot, env)
    assert kinds_shown(panel) == ["files", "conversation", "approvals", "changes"]
    for key, expected in (("conversation", ["conversation"]), ("changes", ["changes"]),
                          ("files", ["files"]), ("approvals", ["approvals"]),
                          ("all", ["files", "conversation", "approvals", "changes"])):
        with qtbot.waitSignal(panel.sig_loaded, timeout=WAIT):
            qtbot.mouseClick(panel.filter_buttons[key], Qt.MouseButton.LeftButton)
        assert kinds_shown(panel) == expected, key
        assert panel.filter_buttons[key].isChecked()
    assert panel.list.item(0).text().startswith("Added \u201cFlange drawing\u201d\n")


def test_T_IN_10_messages_that_look_like_html_are_shown_as_plain_text(
        qtbot: QtBot, env: Env) -> None:
    panel = make_panel(qtbot, env)
    with qtbot.waitSignal(panel.sig_loaded, timeout=WAIT):
        panel.set_filter("conversation")
    [text] = [panel.list.item(i).text() for i in range(panel.list.count())]
    lines = text.split("\n")
    assert lines[0] == HTML_SUBJECT and lines[2] == HTML_CONTENT  # every character, verbatim
    # The list draws item text with the standard delegate, which never reads markup.
    assert type(panel.list.itemDelegate()) is QStyledItemDelegate
    assert panel.list.item(0).toolTip() == ""


def test_load_older_and_live_field_changes(qtbot: QtBot, env: Env) -> None:
    panel = make_panel(qtbot, env, page_size=2)
    assert panel.list.count() == 2 and panel.load_older_button.isEnabled()
    with qtbot.waitSignal(panel.sig_loaded, timeout=WAIT):
        qtbot.mouseClick(panel.load_older_button, Qt.MouseButton.LeftButton)
    assert panel.list.count() == 4
    with qtbot.waitSignal(panel.sig_loaded, timeout=WAIT):
        qtbot.mouseClick(panel.load_older_button, Qt.MouseButton.LeftButton)
    assert panel.list.count() == 4 and not panel.load_older_button.isEnabled()

    def edit() -> None:
        with psycopg.connect(env.db.conninfo_for("acme.management")) as conn:
            conn.execute("UPDATE projects SET priority_level = 'critical' WHERE id = %s",
                         (env.project,))

    off_gui(edit)
    with qtbot.waitSignal(panel.sig_loaded, timeout=WAIT):
        panel.on_projects_changed([uuid.uuid4()])  # another project: no read
        panel.on_projects_changed([env.project])
    first = panel.list.item(0).data(EVENT_ROLE)
    # As many events as were shown, the newest first: the oldest moves behind "Load older".
    assert first.event == "updated" and panel.list.count() == 4
    assert panel.load_older_button.isEnabled()
    assert panel.list.item(0).text().split("\n")[-1] == "Priority: Medium \u2192 Critical"
