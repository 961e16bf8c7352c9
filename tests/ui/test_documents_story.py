"""Issue 5's "done when", as a person does it: drag a folder of drawings onto a project, watch
it upload, preview a PDF, open a drawing in its application, save it there and get version 2;
then the storage sweep is clean.

Signed in as acme.engineering on the demo database; the GUI thread is banned from database
I/O; the system opener is replaced on the panel (no real application starts).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from drops import drop
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, one_page_pdf, profile_for

from factorypulse_desktop.services import document_files, documents
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.document_files import UploadRequest
from factorypulse_desktop.services.documents import DocumentQuery
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.upload_journal import UploadJournal
from factorypulse_desktop.ui.dialogs.preview_dialog import PreviewDialog
from factorypulse_desktop.ui.dialogs.upload_dialog import FileStatus, UploadDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.documents_panel import DocumentsPanel

sys.path.append(str(Path(__file__).resolve().parents[1] / "db"))
from rls_support import owner_conn

WAIT = 20000


def new_project(db: Any, org: uuid.UUID, title: str) -> uuid.UUID:
    with owner_conn(db) as conn:
        row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, %s) "
                           "RETURNING id", (org, title)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


@pytest.fixture
def signed_in(qapp: QApplication, demo_db: Any) -> Iterator[tuple[TaskRunner, Workspace]]:
    runner = TaskRunner()
    workspace = off_gui(lambda: sign_in(profile_for(demo_db), "acme.engineering",
                                        DEMO_PASSWORD))
    forbid_database_io_on_current_thread()
    try:
        yield runner, workspace
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def test_drawings_folder_upload_preview_open_save_version_2_and_a_clean_sweep(
        qtbot: QtBot, demo_db: Any, signed_in: tuple[TaskRunner, Workspace],
        tmp_path: Path) -> None:
    runner, workspace = signed_in
    org = workspace.identity.memberships[0].organization_id

    project = off_gui(lambda: new_project(demo_db, org, "Hydraulic press frame"))
    folder = tmp_path / "drawings"
    (folder / "details").mkdir(parents=True)
    (folder / "frame.pdf").write_bytes(one_page_pdf("Press frame rev A"))
    (folder / "frame.dxf").write_text("0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n")
    (folder / "details" / "pin.dxf").write_text("0\nSECTION\n0\nENDSEC\n0\nEOF\n")

    panel = DocumentsPanel(runner, workspace, org, Formatter(), project_id=project)
    qtbot.addWidget(panel)
    opened: list[Path] = []
    panel.open_local = opened.append  # the system application
    panel.resize(1100, 600)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)

    # Drag the folder onto the project's documents: the upload window lists its drawings.
    drop(panel.table, [folder])
    upload = panel.dialog
    assert isinstance(upload, UploadDialog)
    qtbot.waitUntil(lambda: upload.ready and upload.table.rowCount() == 3, timeout=WAIT)
    with qtbot.waitSignal(upload.sig_uploaded, timeout=WAIT) as done:
        upload.start()
    assert len(done.args[0]) == 3
    assert upload.statuses() == [FileStatus.DONE] * 3
    assert all(upload.table.bar(r).value() == 100 for r in range(3))
    upload.close()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3, timeout=WAIT)

    # Preview the PDF inside the app.
    rows = {r.file_name: r for r in panel.model.rows()}
    assert set(rows) == {"frame.pdf", "frame.dxf", "pin.dxf"}
    panel.preview(rows["frame.pdf"])
    preview = panel.dialog
    assert isinstance(preview, PreviewDialog)
    qtbot.waitUntil(lambda: preview.shows_image, timeout=WAIT)
    assert preview.page_count == 1
    preview.close()

    # Open the drawing in its application, which saves it: the panel offers version 2.
    panel.open_document(rows["frame.dxf"])
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT)
    copy = opened[0]
    copy.write_text(copy.read_text() + "999\nedited in CAD\n")
    panel.check_opened_copies()
    qtbot.waitUntil(lambda: panel.prompt.isVisible(), timeout=WAIT)
    panel.save_offered_copy()

    def current_version() -> int:
        return documents.load_document(workspace, org, rows["frame.dxf"].id).current_version

    qtbot.waitUntil(lambda: off_gui(current_version) == 2, timeout=WAIT)
    versions = off_gui(lambda: documents.list_versions(workspace, org, rows["frame.dxf"].id))
    assert [(v.number, v.is_current) for v in versions] == [(2, True), (1, False)]
    assert off_gui(lambda: documents.list_documents(
        workspace, org, DocumentQuery(project_id=project)))[0].file_name is not None

    # The storage sweep of the whole database finds nothing wrong.
    sweep = subprocess.run(
        [sys.executable, "-m", "factorypulse_desktop.cli", "storage", "verify",
         "--database-url", demo_db.owner_url],
        capture_output=True, text=True, timeout=120)
    assert sweep.returncode == 0, sweep.stdout + sweep.stderr
    assert "all intact" in sweep.stdout


class _AppKilled(Exception):
    """Stands for the app being closed in the middle of an upload."""


def test_T_FILE_02_an_upload_cut_off_is_offered_for_resuming_on_the_project(
        qtbot: QtBot, demo_db: Any, signed_in: tuple[TaskRunner, Workspace],
        tmp_path: Path) -> None:
    runner, workspace = signed_in
    org = workspace.identity.memberships[0].organization_id

    project = off_gui(lambda: new_project(demo_db, org, "Gearbox housing"))
    source = tmp_path / "housing.step"
    source.write_bytes(bytes(range(256)) * (20 * 4096 + 7))  # 20 MiB + 1.75 KiB
    journal = UploadJournal(tmp_path / "journal")

    def killed_halfway(sent: int) -> None:
        if sent >= 12 * 1024 * 1024:
            raise _AppKilled

    def start_and_die() -> None:
        with pytest.raises(_AppKilled):
            document_files.upload(workspace, org, UploadRequest(
                path=source, title="Gearbox housing", category="drawing", project_id=project),
                journal=journal, progress=killed_halfway)

    off_gui(start_and_die)
    panel = DocumentsPanel(runner, workspace, org, Formatter(), project_id=project)
    panel.journal = journal
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded and panel.banner.isVisible(), timeout=WAIT)
    assert panel.model.rowCount() == 0  # nothing half-uploaded shows as a document
    assert "stopped halfway" in panel.banner.text and "housing.step" in panel.banner.text
    panel.banner._action.click()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=WAIT)
    row = panel.model.row_at(0)
    assert (row.title, row.category, row.file_size) == (
        "Gearbox housing", "drawing", source.stat().st_size)
    assert journal.pending(org) == []
    out = tmp_path / "out"
    out.mkdir()
    saved = off_gui(lambda: document_files.download(workspace, org, row.id, out))
    assert saved.read_bytes() == source.read_bytes()
