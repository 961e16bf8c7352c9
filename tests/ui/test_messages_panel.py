"""A project's Messages tab on the demo database, signed in as acme.engineering.

The GUI thread is banned from database I/O for the whole test; the test reaches the database
only from helper threads (`off_gui`). No modal dialog opens: the document chooser is replaced.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import documents, messages
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.documents import DocumentQuery, DocumentRow
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.messages_panel import MessagesPanel

WAIT = 15000


@dataclass
class Env:
    runner: TaskRunner
    workspace: Workspace
    sales: Workspace
    org: uuid.UUID
    project: uuid.UUID
    docs: list[DocumentRow]


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    runner = TaskRunner()
    workspace = off_gui(lambda: sign_in(profile_for(demo_db), "acme.engineering",
                                        DEMO_PASSWORD))
    sales = off_gui(lambda: sign_in(profile_for(demo_db), "acme.sales", DEMO_PASSWORD))
    org = workspace.identity.memberships[0].organization_id
    rows = off_gui(lambda: documents.list_documents(workspace, org, DocumentQuery()))
    project, _count = Counter(r.project_id for r in rows if r.project_id).most_common(1)[0]
    assert project is not None
    docs = [r for r in rows if r.project_id == project]
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, workspace, sales, org, project, docs)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()
        sales.close()


def open_panel(qtbot: QtBot, env: Env) -> MessagesPanel:
    panel = MessagesPanel(env.runner, env.workspace, env.org, env.project, Formatter())
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded and bool(panel.people), timeout=WAIT)
    return panel


def shows(panel: MessagesPanel, thread: uuid.UUID, count: int) -> bool:
    """The panel shows `count` messages, all of `thread`."""
    return len(panel.cards) == count and all(
        c.row.thread_id == thread for c in panel.cards.values())


def test_post_a_thread_with_a_mention_and_an_attachment_then_a_reply(
        qtbot: QtBot, env: Env) -> None:
    panel = open_panel(qtbot, env)
    before = len(panel.thread_rows)
    chosen = env.docs[0]
    panel.choose_documents = lambda rows, _chosen: [r for r in rows if r.id == chosen.id]
    panel.new_thread_button.click()
    assert panel.subject_edit.isVisible()
    panel.subject_edit.setText("Deburring spec")
    panel.reply_box.setPlainText("Please check the edges, @acme.q")
    panel.reply_box.moveCursor(panel.reply_box.textCursor().MoveOperation.End)
    panel._offer_completion()
    assert panel.completer.completionCount() == 1  # acme.qa
    panel.insert_mention("acme.qa")
    assert panel.reply_box.toPlainText() == "Please check the edges, @acme.qa "
    panel.attach_button.click()
    qtbot.waitUntil(lambda: panel.attached == [chosen], timeout=WAIT)
    assert chosen.title in panel.attached_label.text()
    panel.send_button.click()
    qtbot.waitUntil(lambda: len(panel.thread_rows) == before + 1 and bool(panel.cards)
                    and all(c.row.thread_id == panel.current_thread
                            for c in panel.cards.values()), timeout=WAIT)
    assert panel.reply_box.toPlainText() == "" and panel.attached == []
    root = panel.current_thread
    assert root is not None and panel.heading.text() == "Deburring spec"
    [card] = panel.cards.values()
    assert card.mentions_label.text().startswith("Mentions: ") and card.mentions_label.isVisible()
    assert chosen.title in card.attachments_label.text()

    panel.reply_box.setPlainText("Edges done, @\"Sam Ortiz\" not needed")
    panel.send_button.click()
    qtbot.waitUntil(lambda: len(panel.cards) == 2, timeout=WAIT)
    stored = off_gui(lambda: messages.thread(env.workspace, env.org, root))
    assert [m.content for m in stored] == ["Please check the edges, @acme.qa",
                                           "Edges done, @\"Sam Ortiz\" not needed"]
    assert [p.username for p in stored[0].mentions] == ["acme.qa"]
    assert [a.document_id for a in stored[0].attachments] == [chosen.id]
    assert stored[1].parent_id == root


def test_failed_send_keeps_the_text(qtbot: QtBot, env: Env) -> None:
    panel = open_panel(qtbot, env)
    panel.new_thread_button.click()
    panel.subject_edit.setText("x" * 10)
    panel.reply_box.setPlainText("   ")
    panel.send_button.click()
    assert "Write a message" in panel.banner.text
    panel.reply_box.setPlainText("Attach the other project's file")
    other = uuid.uuid4()  # not a document of this project: the database refuses
    panel.attached = [dataclasses.replace(env.docs[0], id=other)]
    panel.send_button.click()
    qtbot.waitUntil(lambda: "not sent" in panel.banner.text, timeout=WAIT)
    assert panel.reply_box.toPlainText() == "Attach the other project's file"
    assert panel.subject_edit.text() == "x" * 10


def test_unread_count_drops_after_opening_the_thread(qtbot: QtBot, env: Env) -> None:
    root = off_gui(lambda: messages.post(env.sales, env.org, project_id=env.project,
                                         subject="Material cert", content="Cert is in."))
    off_gui(lambda: messages.post(env.sales, env.org, project_id=env.project, parent_id=root,
                                  content="And the CMM report."))
    # A newer thread: the panel opens the newest at first, which would read ours too soon.
    off_gui(lambda: messages.post(env.sales, env.org, project_id=env.project,
                                  subject="Packaging", content="Foam inserts, please."))
    panel = open_panel(qtbot, env)
    assert panel.thread_list.currentItem().data(Qt.ItemDataRole.UserRole) != root
    assert panel.unread(root) == 2
    item = next(panel.thread_list.item(i) for i in range(panel.thread_list.count())
                if panel.thread_list.item(i).data(Qt.ItemDataRole.UserRole) == root)
    assert "2 new" in item.text()
    panel.thread_list.setCurrentItem(item)
    qtbot.waitUntil(lambda: panel.unread(root) == 0, timeout=WAIT)
    # Live: another reply arrives while the thread is open, and is read at once.
    off_gui(lambda: messages.post(env.sales, env.org, project_id=env.project, parent_id=root,
                                  content="Shipping Friday."))
    panel.on_messages_changed([root])
    qtbot.waitUntil(lambda: shows(panel, root, 3) and panel.unread(root) == 0, timeout=WAIT)


def test_search_within_the_thread_shows_only_matching_messages(
        qtbot: QtBot, env: Env) -> None:
    root = off_gui(lambda: messages.post(env.sales, env.org, project_id=env.project,
                                         subject="Finish", content="Anodize black."))
    off_gui(lambda: messages.post(env.sales, env.org, project_id=env.project, parent_id=root,
                                  content="Seal faces Ra 1.6"))
    panel = open_panel(qtbot, env)
    panel.open_thread(root)
    qtbot.waitUntil(lambda: shows(panel, root, 2), timeout=WAIT)
    panel.search.setText("seal")
    qtbot.waitUntil(lambda: panel.matches is not None, timeout=WAIT)
    visible = [m for m, card in panel.cards.items() if not card.isHidden()]
    assert len(visible) == 1 and panel.cards[visible[0]].row.content == "Seal faces Ra 1.6"
    assert panel.search_status.text() == "1 matching"


MARKUP = ('<img src=x onerror=alert(1)>', '<a href="javascript:alert(1)">x</a>')


def test_T_IN_10_messages_show_markup_as_plain_text(qtbot: QtBot, env: Env) -> None:
    root = off_gui(lambda: messages.post(env.sales, env.org, project_id=env.project,
                                         subject=MARKUP[1], content=MARKUP[0]))
    off_gui(lambda: messages.post(env.sales, env.org, project_id=env.project, parent_id=root,
                                  content=MARKUP[1]))
    panel = open_panel(qtbot, env)
    item = next(panel.thread_list.item(i) for i in range(panel.thread_list.count())
                if panel.thread_list.item(i).data(Qt.ItemDataRole.UserRole) == root)
    assert item.text().startswith(MARKUP[1] + "\n")
    panel.open_thread(root)
    qtbot.waitUntil(lambda: shows(panel, root, 2), timeout=WAIT)
    assert panel.heading.text() == MARKUP[1]
    assert panel.heading.textFormat() == Qt.TextFormat.PlainText
    shown = [card.content_label for card in panel.cards.values()]
    assert [label.text() for label in shown] == list(MARKUP)
    for card in panel.cards.values():
        for label in (card.content_label, card.header_label, card.mentions_label,
                      card.attachments_label):
            assert label.textFormat() == Qt.TextFormat.PlainText
