"""Documents in the window: a project's Documents tab, the Documents page, preview, open,
download and the details dialog, on the demo database signed in as acme.engineering.

The GUI thread is banned from database I/O for the whole test; the test reaches the database
only from helper threads (`off_gui`). No modal dialog opens: file and folder choosers,
confirmations and the system opener are replaced on the panel.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import documents
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.documents import DocumentEdit, DocumentQuery, DocumentRow
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.dialogs.document_dialog import DocumentDialog
from factorypulse_desktop.ui.dialogs.preview_dialog import PreviewDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.pages.documents import DocumentsPage
from factorypulse_desktop.ui.pages.project_page import ProjectPage
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.documents_panel import DocumentsPanel

WAIT = 15000


@dataclass
class Env:
    runner: TaskRunner
    workspace: Workspace
    org: uuid.UUID
    rows: list[DocumentRow]
    """Every document the person sees, read off the GUI thread before the test."""
    pages: list[DocumentsPage] = dataclasses.field(default_factory=list)

    def first(self, suffix: str) -> DocumentRow:
        return next(r for r in self.rows if (r.file_name or "").lower().endswith(suffix)
                    and not r.is_link)


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    runner = TaskRunner()
    workspace = off_gui(lambda: sign_in(profile_for(demo_db), "acme.engineering",
                                        DEMO_PASSWORD))
    org = workspace.identity.memberships[0].organization_id
    rows = off_gui(lambda: documents.list_documents(workspace, org, DocumentQuery()))
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, workspace, org, rows)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def page_panel(qtbot: QtBot, env: Env) -> DocumentsPanel:
    page = DocumentsPage(env.runner, env.workspace, env.org, Formatter())
    qtbot.addWidget(page)
    env.pages.append(page)  # the panel lives as long as its page
    page.resize(1200, 700)
    page.show()
    qtbot.waitUntil(lambda: page.panel.loaded, timeout=WAIT)
    return page.panel


def select(qtbot: QtBot, panel: DocumentsPanel, row: DocumentRow) -> None:
    panel.select(row.id)
    assert panel.selected() == row


def test_project_tab_lists_its_documents_and_the_page_searches(qtbot: QtBot,
                                                               env: Env) -> None:
    counts = Counter(r.project_id for r in env.rows if r.project_id)
    project, count = counts.most_common(1)[0]
    page = ProjectPage(env.runner, env.workspace, project, Formatter())
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.documents_panel is not None
                    and page.documents_panel.loaded, timeout=WAIT)
    panel = page.documents_panel
    assert panel is not None
    assert panel.model.rowCount() == count
    assert {r.project_id for r in panel.model.rows()} == {project}
    index = page.tabs.indexOf(page.documents_tab)
    assert page.tabs.tabText(index) == f"Documents ({count})"

    everything = page_panel(qtbot, env)
    assert everything.model.rowCount() == len(env.rows)
    assert everything.model.columnCount() == 8, "the page shows the Project column"
    target = env.first(".csv")
    everything.search.setText(target.title)
    qtbot.waitUntil(lambda: 0 < everything.model.rowCount() < len(env.rows), timeout=WAIT)
    assert target.id in {r.id for r in everything.model.rows()}
    everything.search.setText("no document is called like this")
    qtbot.waitUntil(lambda: everything.stack.currentWidget() is everything.empty_label,
                    timeout=WAIT)
    assert "No documents match" in everything.empty_label.text()


def test_preview_shows_a_pdf_page_and_csv_text(qtbot: QtBot, env: Env) -> None:
    panel = page_panel(qtbot, env)
    pdf = env.first(".pdf")
    panel.preview(pdf)
    dialog = panel.dialog
    assert isinstance(dialog, PreviewDialog)
    assert dialog.status.text() == "Loading preview…"
    qtbot.waitUntil(lambda: dialog.shows_image, timeout=WAIT)
    dialog.close()

    csv = env.first(".csv")
    panel.preview(csv)
    text_dialog = panel.dialog
    assert isinstance(text_dialog, PreviewDialog)
    qtbot.waitUntil(lambda: bool(text_dialog.shown_text), timeout=WAIT)
    assert "," in text_dialog.shown_text.splitlines()[0]
    text_dialog.close()


def test_link_opens_only_after_confirmation_naming_the_host(qtbot: QtBot, env: Env) -> None:
    panel = page_panel(qtbot, env)
    link = next(r for r in env.rows if r.is_link)
    asked: list[str] = []
    opened: list[QUrl] = []
    answer = [False]

    def confirm(_title: str, question: str) -> bool:
        asked.append(question)
        return answer[0]

    panel.confirm = confirm
    panel.open_url = opened.append
    panel.open_link(link)
    assert "drive.google.com" in asked[-1]
    assert opened == [], "not confirmed: nothing opens"
    answer[0] = True
    panel.open_link(link)
    assert [u.toString() for u in opened] == [link.external_url]
    assert opened[0].scheme() == "https"

    asked.clear()
    panel.open_link(dataclasses.replace(link, external_url="http://drive.google.com/x"))
    assert asked == [] and len(opened) == 1, "a plain http link is refused before asking"
    assert panel.banner.isVisible()


def test_download_and_a_changed_opened_copy_becomes_a_new_version(
        qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    panel = page_panel(qtbot, env)
    row = env.first(".txt")
    select(qtbot, panel, row)
    panel.choose_folder = lambda: tmp_path
    panel.download_button.click()
    qtbot.waitUntil(lambda: panel.last_download is not None, timeout=WAIT)
    assert panel.last_download == tmp_path / (row.file_name or "")
    assert panel.last_download.stat().st_size == row.file_size

    opened: list[Path] = []
    panel.open_local = opened.append
    panel.open_button.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT)
    with opened[0].open("a", encoding="utf-8") as copy:
        copy.write("\nChecked on the shop floor.\n")
    panel.check_opened_copies()
    qtbot.waitUntil(lambda: panel.prompt.isVisible(), timeout=WAIT)
    assert f"version {row.current_version + 1}?" in panel.prompt.label.text()
    panel.prompt.save_button.click()
    qtbot.waitUntil(lambda: "Saved as version" in panel.banner.text, timeout=WAIT)
    versions = off_gui(lambda: documents.list_versions(env.workspace, env.org, row.id))
    assert versions[0].number == row.current_version + 1 and versions[0].is_current
    assert versions[0].change_summary == "Edited in its application."
    assert versions[0].file_size == opened[0].stat().st_size


def test_details_save_and_a_stale_save_keeps_the_typed_values(qtbot: QtBot, env: Env) -> None:
    panel = page_panel(qtbot, env)
    row = env.first(".csv")
    select(qtbot, panel, row)
    panel.details_button.click()
    dialog = panel.dialog
    assert isinstance(dialog, DocumentDialog)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=WAIT)
    assert dialog.versions_table.rowCount() >= 1
    dialog.title_edit.setText("Inspection sheet, checked")
    dialog.tags_edit.setText("inspection, checked")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.banner.text == "Saved.", timeout=WAIT)
    stored = off_gui(lambda: documents.load_document(env.workspace, env.org, row.id))
    assert stored.title == "Inspection sheet, checked"
    assert stored.tags == ("inspection", "checked")

    # Someone else saves meanwhile; this dialog still holds the older version.
    off_gui(lambda: documents.save_document(
        env.workspace, env.org, row.id, stored.version,
        DocumentEdit("Their title", stored.category, stored.access_level)))
    dialog.title_edit.setText("My title")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.conflict_box.isVisible(), timeout=WAIT)
    assert dialog.title_edit.text() == "My title", "typed values stay"
    assert "Their title" in dialog.conflict_label.text()
    dialog.save_button.click()  # keep mine
    qtbot.waitUntil(lambda: dialog.banner.text == "Saved.", timeout=WAIT)
    final = off_gui(lambda: documents.load_document(env.workspace, env.org, row.id))
    assert final.title == "My title"
    dialog.close()


def test_delete_asks_first(qtbot: QtBot, env: Env) -> None:
    panel = page_panel(qtbot, env)
    row = env.first(".pdf")
    select(qtbot, panel, row)
    questions: list[str] = []
    panel.confirm = lambda _title, question: questions.append(question) or False
    panel.delete_button.click()
    assert row.title in questions[0]
    assert panel.model.row_of(row.id) >= 0




def test_T_IN_10_html_in_titles_and_descriptions_is_shown_as_typed(
        qtbot: QtBot, env: Env) -> None:
    hostile = '<img src=x onerror=alert(1)><a href="javascript:alert(2)">b</a>'
    row = env.first(".csv")
    saved = off_gui(lambda: documents.save_document(
        env.workspace, env.org, row.id, row.version,
        DocumentEdit(hostile, row.category, row.access_level, description=hostile)))
    panel = page_panel(qtbot, env)
    shown = panel.model.row_of(saved.id)
    assert shown >= 0
    title_index = panel.model.index(shown, 0)
    assert panel.model.data(title_index) == hostile  # a table item: plain text
    select(qtbot, panel, saved)
    panel.details_button.click()
    dialog = panel.dialog
    assert isinstance(dialog, DocumentDialog)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=WAIT)
    assert dialog.heading.textFormat() == Qt.TextFormat.PlainText
    assert dialog.heading.text() == hostile
    assert dialog.description_edit.toPlainText() == hostile
    dialog.close()
    panel.preview(saved)
    preview = panel.dialog
    assert isinstance(preview, PreviewDialog)
    assert preview.title_label.textFormat() == Qt.TextFormat.PlainText
    assert preview.title_label.text() == hostile
    qtbot.waitUntil(lambda: bool(preview.shown_text), timeout=WAIT)
    preview.close()
