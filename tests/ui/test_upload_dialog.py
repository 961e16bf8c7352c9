"""The upload dialog on a real database, signed in as acme.engineering.

The GUI thread is banned from database I/O for the whole test; the transfers open their own
psycopg connections, so `psycopg.connect` is also wrapped to refuse the GUI thread. The test
reaches the database only from helper threads (`off_gui`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from drops import drag, drop
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from support import off_gui, profile_for

from factorypulse_desktop.services import document_files, documents
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.document_files import UploadRequest
from factorypulse_desktop.services.documents import DocumentQuery
from factorypulse_desktop.services.io_guard import (
    DatabaseOnGuiThreadError,
    allow_database_io_on_current_thread,
    database_io_forbidden_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.upload_journal import UploadJournal
from factorypulse_desktop.ui.dialogs.upload_dialog import FileStatus, UploadDialog
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.file_drop import FileDropTarget, local_paths

PASSWORD = "factorypulse-demo"
WAIT = 15000
MIB = 1 << 20


@dataclass
class Env:
    db: Any
    runner: TaskRunner
    workspace: Workspace
    org: uuid.UUID
    project: uuid.UUID
    journal: UploadJournal

    def dialog(self, qtbot: QtBot, paths: list[Path], **kwargs: Any) -> UploadDialog:
        dialog = UploadDialog(self.runner, self.workspace, self.org, paths,
                              project_id=self.project, journal=self.journal, **kwargs)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    def titles(self) -> list[str]:
        rows = off_gui(lambda: documents.list_documents(
            self.workspace, self.org, DocumentQuery(project_id=self.project)))
        return sorted(row.title for row in rows)

    def owner(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        def run() -> Any:
            with psycopg.connect(self.db.owner_conninfo()) as conn:
                return conn.execute(sql, params).fetchone()

        return off_gui(run)


@pytest.fixture
def env(qtbot: QtBot, demo_db: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    real_connect = psycopg.connect

    def guarded_connect(*args: Any, **kwargs: Any) -> Any:
        # Transfers use psycopg directly, which the SQLAlchemy hooks do not see.
        if database_io_forbidden_on_current_thread():
            raise DatabaseOnGuiThreadError("psycopg.connect on the GUI thread")
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(psycopg, "connect", guarded_connect)
    runner = TaskRunner()
    workspace = off_gui(lambda: sign_in(profile_for(demo_db), "acme.engineering", PASSWORD))
    env = Env(demo_db, runner, workspace, uuid.UUID(int=0), uuid.UUID(int=0),
              UploadJournal(tmp_path / "journal"))
    org, project = env.owner(
        "SELECT o.id, p.id FROM organizations o JOIN projects p ON p.organization_id = o.id "
        "WHERE o.slug = 'acme' ORDER BY p.project_number LIMIT 1")
    env.org, env.project = org, project
    forbid_database_io_on_current_thread()
    try:
        yield env
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def write(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(i % 251 for i in range(size)))
    return path


def names(dialog: UploadDialog) -> list[str]:
    return [dialog.table.text(row, dialog.table.NAME) for row in range(dialog.table.rowCount())]


def statuses(dialog: UploadDialog) -> list[str]:
    return [dialog.table.text(row, dialog.table.STATUS)
            for row in range(dialog.table.rowCount())]


def test_dropped_folder_is_listed_and_uploaded(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    folder = tmp_path / "drawings"
    write(folder / "flange.dxf", 3000)
    write(folder / "parts-bom.csv", 200)
    write(folder / "sub" / "plate.pdf", 5000)
    write(folder / ".hidden", 10)
    dialog = env.dialog(qtbot, [])
    drop(dialog.table, [folder])
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 3 and dialog.ready, timeout=WAIT)
    assert names(dialog) == ["drawings/flange.dxf", "drawings/parts-bom.csv",
                             "drawings/sub/plate.pdf"]
    assert "1 hidden file" in dialog.notice.text()
    assert statuses(dialog) == ["Waiting"] * 3
    assert dialog.upload_button.isEnabled()

    with qtbot.waitSignal(dialog.sig_uploaded, timeout=WAIT) as uploaded:
        dialog.upload_button.click()
    ids = uploaded.args[0]
    assert len(ids) == 3 and all(isinstance(i, uuid.UUID) for i in ids)
    assert dialog.statuses() == [FileStatus.DONE] * 3
    assert statuses(dialog) == ["Done"] * 3
    assert [dialog.table.bar(row).value() for row in range(3)] == [100] * 3
    assert dialog.overall.value() == 100
    assert dialog.summary.text() == "3 files uploaded"
    assert dialog.cancel_button.text() == "Close" and dialog.upload_button.isHidden()

    rows = off_gui(lambda: documents.list_documents(
        env.workspace, env.org, DocumentQuery(project_id=env.project)))
    stored = {row.title: row for row in rows if row.id in ids}
    assert {title: row.category for title, row in stored.items()} == {
        "flange": "drawing", "parts-bom": "bom", "plate": "other"}
    assert stored["plate"].file_name == "plate.pdf"


def test_too_large_file_is_marked_and_not_sent(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    env.owner("UPDATE storage_buckets SET max_file_size = 1000 WHERE organization_id = %s "
              "AND name = 'documents' RETURNING 1", (env.org,))
    small = write(tmp_path / "note.txt", 100)
    big = write(tmp_path / "scan.pdf", 5000)
    dialog = env.dialog(qtbot, [small, big])
    qtbot.waitUntil(lambda: dialog.ready and dialog.table.rowCount() == 2, timeout=WAIT)
    assert statuses(dialog) == ["Waiting", "Too large — limit 1000 B"]

    with qtbot.waitSignal(dialog.sig_uploaded, timeout=WAIT) as uploaded:
        dialog.upload_button.click()
    assert len(uploaded.args[0]) == 1
    assert dialog.statuses() == [FileStatus.DONE, FileStatus.TOO_LARGE]
    assert dialog.table.bar(1).value() == 0
    assert dialog.summary.text() == "1 file uploaded, 1 too large"
    titles = env.titles()
    assert "note" in titles and "scan" not in titles


def test_cancel_stops_the_transfer_and_leaves_the_rest(
        qtbot: QtBot, env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    large = write(tmp_path / "model.step", 30 * MIB)
    after = write(tmp_path / "after.txt", 10)
    moved, go_on = threading.Event(), threading.Event()
    real_upload = document_files.upload

    def upload(*args: Any, progress: Callable[[int], None], **kwargs: Any) -> Any:
        def held(sent: int) -> None:
            progress(sent)
            if sent and not moved.is_set():
                moved.set()
                go_on.wait(10)  # hold the transfer until the test pressed Cancel

        return real_upload(*args, progress=held, **kwargs)

    monkeypatch.setattr(document_files, "upload", upload)
    dialog = env.dialog(qtbot, [large, after])
    qtbot.waitUntil(lambda: dialog.ready and dialog.table.rowCount() == 2, timeout=WAIT)
    uploaded: list[Any] = []
    dialog.sig_uploaded.connect(uploaded.append)
    dialog.upload_button.click()
    qtbot.waitUntil(lambda: dialog.table.bar(0).value() > 0, timeout=WAIT)
    assert statuses(dialog)[0] == "Uploading"
    dialog.cancel_button.click()
    go_on.set()
    qtbot.waitUntil(lambda: not dialog.uploading, timeout=WAIT)

    assert dialog.statuses() == [FileStatus.CANCELLED, FileStatus.CANCELLED]
    assert statuses(dialog) == ["Cancelled", "Cancelled"]
    assert dialog.summary.text() == "2 cancelled"
    assert dialog.upload_button.text() == "Try again" and not uploaded
    titles = env.titles()
    assert "model" not in titles and "after" not in titles
    (left,) = env.owner("SELECT count(*) FROM storage_objects WHERE organization_id = %s "
                        "AND status = 'uploading'", (env.org,))
    assert left == 0


def test_closing_while_uploading_cancels(qtbot: QtBot, env: Env, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    large = write(tmp_path / "big.bin", 8 * MIB)
    started = threading.Event()
    real_upload = document_files.upload

    def upload(*args: Any, cancelled: Callable[[], bool], **kwargs: Any) -> Any:
        started.set()
        assert _wait_for(cancelled)  # the close must reach the worker
        return real_upload(*args, cancelled=cancelled, **kwargs)

    monkeypatch.setattr(document_files, "upload", upload)
    dialog = env.dialog(qtbot, [large])
    qtbot.waitUntil(lambda: dialog.ready, timeout=WAIT)
    dialog.upload_button.click()
    qtbot.waitUntil(started.is_set, timeout=WAIT)
    dialog.close()
    qtbot.waitUntil(lambda: not dialog.uploading, timeout=WAIT)
    assert dialog.statuses() == [FileStatus.CANCELLED]
    assert "big" not in env.titles()


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    done = threading.Event()
    for _ in range(int(seconds * 100)):
        if condition():
            return True
        done.wait(0.01)
    return False


def test_new_version(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    first = write(tmp_path / "v1" / "flange.dxf", 500)
    stored = off_gui(lambda: document_files.upload(
        env.workspace, env.org, UploadRequest(path=first, title="Flange", category="drawing",
                                              project_id=env.project), journal=env.journal))
    second = write(tmp_path / "v2" / "flange.dxf", 700)
    dialog = env.dialog(qtbot, [second], document_id=stored.document_id,
                        document_title="Flange")
    assert dialog.heading.text() == "New version of “Flange”"
    qtbot.waitUntil(lambda: dialog.ready and dialog.upload_button.isEnabled(), timeout=WAIT)
    dialog.change_summary.setText("Hole spacing corrected")
    with qtbot.waitSignal(dialog.sig_uploaded, timeout=WAIT) as uploaded:
        dialog.upload_button.click()
    assert uploaded.args[0] == [stored.document_id]
    assert [u.version_number for u in dialog.uploaded()] == [2]
    versions = off_gui(lambda: documents.list_versions(env.workspace, env.org,
                                                       stored.document_id))
    assert versions[0].number == 2 and versions[0].is_current
    assert versions[0].change_summary == "Hole spacing corrected"


def test_local_paths_keep_only_local_files(qtbot: QtBot, tmp_path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/a.pdf"), QUrl.fromLocalFile(str(tmp_path / "b")),
                  QUrl("ftp://example.com/c")])
    assert local_paths(mime) == [tmp_path / "b"]
    assert local_paths(None) == []

    widget = QWidget()
    qtbot.addWidget(widget)
    got: list[list[Path]] = []
    FileDropTarget.install(widget, got.append)
    assert widget.acceptDrops()
    accepted, _ = drag(widget, [QUrl("https://example.com/a.pdf")])
    assert not accepted
    drop(widget, [tmp_path / "b"])
    assert got == [[tmp_path / "b"]]
