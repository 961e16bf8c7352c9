"""The link dialog: refused links keep "Add link" off and say where they really go; a Drive
link is saved as a google_drive document. Database work only off the GUI thread."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import QDate, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from support import off_gui, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import documents
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.documents import DocumentQuery, DocumentRow
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.dialogs.link_dialog import LinkDialog
from factorypulse_desktop.ui.tasks import TaskRunner

PASSWORD = "factorypulse-demo"
WAIT = 15000
DRIVE_FILE = "https://drive.google.com/file/d/1AbCdEfGhIjKlMnOpQrStUv/view?usp=sharing"


@pytest.fixture
def opened(qtbot: QtBot, demo_db: Any) -> Iterator[tuple[LinkDialog, Workspace, uuid.UUID,
                                                          uuid.UUID]]:
    def ids() -> tuple[uuid.UUID, uuid.UUID]:
        with psycopg.connect(demo_db.owner_conninfo()) as conn:
            row = conn.execute(
                "SELECT o.id, p.id FROM organizations o JOIN projects p ON "
                "p.organization_id = o.id WHERE o.slug = 'acme' ORDER BY p.project_number "
                "LIMIT 1").fetchone()
        assert row is not None
        return row[0], row[1]

    org, project = off_gui(ids)
    workspace = off_gui(lambda: sign_in(profile_for(demo_db), "acme.engineering", PASSWORD))
    runner = TaskRunner()
    forbid_database_io_on_current_thread()
    try:
        dialog = LinkDialog(runner, workspace, org, project)
        qtbot.addWidget(dialog)
        dialog.show()
        yield dialog, workspace, org, project
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def test_refused_links_keep_add_off_and_name_the_real_host(
        opened: tuple[LinkDialog, Workspace, uuid.UUID, uuid.UUID]) -> None:
    dialog = opened[0]
    assert not dialog.add_button.isEnabled() and dialog.where.text() == ""
    dialog.title.setText("Drawing")
    assert dialog.where.textFormat() == Qt.TextFormat.PlainText

    dialog.url.setText("javascript:alert(1)")
    assert not dialog.add_button.isEnabled() and dialog.link is None
    assert "javascript:" in dialog.where.text() and "https://" in dialog.where.text()

    dialog.url.setText("https://drive.google.com@evil.example/")
    assert not dialog.add_button.isEnabled() and dialog.link is None
    assert "evil.example" in dialog.where.text()
    assert "Google Drive" not in dialog.where.text()


def test_drive_link_is_saved_as_a_drive_document(
        qtbot: QtBot, opened: tuple[LinkDialog, Workspace, uuid.UUID, uuid.UUID]) -> None:
    dialog, workspace, org, project = opened
    dialog.url.setText("https://example.com/specs/flange%20spec.pdf")
    assert dialog.where.text() == "Web page · example.com"
    assert dialog.title.text() == "flange spec"  # filled in from the link

    dialog.url.setText(DRIVE_FILE)
    assert dialog.where.text() == "Google Drive file · drive.google.com"
    assert dialog.title.text() == ""  # the suggestion follows the link while untouched
    assert not dialog.add_button.isEnabled()
    dialog.title.setText("Flange drawing (Drive)")
    dialog.category.set_category("drawing")
    dialog.permission.setCurrentIndex(dialog.permission.findData("view"))
    dialog.expires_set.setChecked(True)
    dialog.expires.setDate(QDate(2099, 12, 31))
    assert dialog.add_button.isEnabled()

    with qtbot.waitSignal(dialog.sig_added, timeout=WAIT) as added:
        dialog.add_button.click()
    row = added.args[0]
    assert isinstance(row, DocumentRow) and row.storage_provider == "google_drive"
    assert dialog.result() == LinkDialog.DialogCode.Accepted

    stored = off_gui(lambda: documents.list_documents(
        workspace, org, DocumentQuery(project_id=project, provider="google_drive")))
    mine = next(d for d in stored if d.id == row.id)
    assert mine.title == "Flange drawing (Drive)" and mine.category == "drawing"
    assert mine.external_url is not None and mine.external_url.startswith(
        "https://drive.google.com/file/d/1AbCdEfGhIjKlMnOpQrStUv")
    granted = off_gui(lambda: workspace.read(lambda conn: conn.execute(text(
        "SELECT link_permissions, link_expires_at::date FROM documents WHERE id = :id"),
        {"id": row.id}).one()))
    assert granted[0] == {"access": "view"} and str(granted[1]) == "2099-12-31"


def test_refused_save_keeps_the_dialog_and_the_input(
        qtbot: QtBot, opened: tuple[LinkDialog, Workspace, uuid.UUID, uuid.UUID],
        monkeypatch: pytest.MonkeyPatch) -> None:
    dialog = opened[0]

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise UserFacingError("You are not allowed to add documents here.")

    monkeypatch.setattr(documents, "add_link", refuse)
    dialog.url.setText(DRIVE_FILE)
    dialog.title.setText("Kept title")
    dialog.add_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisibleTo(dialog), timeout=WAIT)
    assert dialog.error.text() == "You are not allowed to add documents here."
    assert dialog.isVisible() and dialog.title.text() == "Kept title"
    assert dialog.url.text() == DRIVE_FILE and dialog.add_button.isEnabled()
