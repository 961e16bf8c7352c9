"""One document's details: what it is (title, category, who may see it, tags, description), its
versions and who opened it.

Everything is read and saved through the task runner. A save carries the version that was
loaded; when someone saved first, the stored values are shown next to the form and what was
typed stays in the form (T-CONC-01): "Save" again keeps the typed values, "Use theirs" takes
the stored ones.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import document_files, documents
from factorypulse_desktop.services.documents import (
    ACCESS_LEVELS,
    CATEGORIES,
    DocumentConflictError,
    DocumentEdit,
    DocumentRow,
    VersionRow,
)
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.documents_model import (
    access_label,
    category_label,
    format_moment,
    human_size,
)
from factorypulse_desktop.ui.tasks import TaskRunner, TaskState, describe_error
from factorypulse_desktop.ui.widgets.asking import ask_folder, ask_yes
from factorypulse_desktop.ui.widgets.banner import Banner

__all__ = ["DocumentDialog"]

AccessEntry = tuple[dt.datetime, str, str | None, str | None]


@dataclass(frozen=True)
class _Loaded:
    row: DocumentRow
    versions: list[VersionRow]
    log: list[AccessEntry]


def _read_table(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.setItem(r, c, QTableWidgetItem(value))  # items show plain text


def _table(headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.setShowGrid(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


class DocumentDialog(QDialog):
    """Details, versions and access log of one document; `sig_changed` after any change."""

    sig_changed = Signal(object)  # the document's uuid
    sig_loaded = Signal()

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 row: DocumentRow, formatter: Formatter | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Document details"))
        self.resize(820, 640)
        self._runner = runner
        self._workspace = workspace
        self._org = organization_id
        self._formatter = formatter or Formatter()
        self.base = row
        """What the form was filled from: its version is what a save expects."""
        self.versions: list[VersionRow] = []
        self.loaded = False
        self.choose_folder: Callable[[], Path | None] = lambda: ask_folder(self)
        self.confirm: Callable[[str, str], bool] = functools.partial(ask_yes, self)
        self._build()
        self._fill_form(row)
        self.reload()

    # -- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.heading = QLabel(self.base.title)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setStyleSheet("font-size: 13pt; font-weight: 600;")
        layout.addWidget(self.heading)
        self.banner = Banner()
        layout.addWidget(self.banner)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_form(), self.tr("Details"))
        self.tabs.addTab(self._build_versions(), self.tr("Versions"))
        self.log_table = _table([self.tr("When"), self.tr("What"), self.tr("Who"),
                                 self.tr("Computer")])
        self.tabs.addTab(self.log_table, self.tr("Who opened it"))
        layout.addWidget(self.tabs, 1)
        close = QHBoxLayout()
        close.addStretch(1)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.clicked.connect(self.close)
        close.addWidget(self.close_button)
        layout.addLayout(close)

    def _build_form(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        form = QFormLayout()
        self.title_edit = QLineEdit()
        self.title_edit.setMaxLength(documents.MAX_TITLE)
        self.category_box = QComboBox()
        for key in CATEGORIES:
            self.category_box.addItem(category_label(key), key)
        self.access_box = QComboBox()
        for key in ACCESS_LEVELS:
            self.access_box.addItem(access_label(key), key)
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText(self.tr("Separate words with commas"))
        self.description_edit = QPlainTextEdit()
        form.addRow(self.tr("Title"), self.title_edit)
        form.addRow(self.tr("Category"), self.category_box)
        form.addRow(self.tr("Who may see it"), self.access_box)
        form.addRow(self.tr("Tags"), self.tags_edit)
        form.addRow(self.tr("Description"), self.description_edit)
        layout.addLayout(form)

        # Shown only after a conflict: what is stored now, next to the typed values.
        self.conflict_box = QFrame()
        self.conflict_box.setObjectName("card")
        box = QVBoxLayout(self.conflict_box)
        self.conflict_label = QLabel()
        self.conflict_label.setTextFormat(Qt.TextFormat.PlainText)
        self.conflict_label.setWordWrap(True)
        self.use_theirs_button = QPushButton(self.tr("Use theirs"))
        self.use_theirs_button.clicked.connect(self._use_theirs)
        box.addWidget(self.conflict_label)
        box.addWidget(self.use_theirs_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.conflict_box.hide()
        layout.addWidget(self.conflict_box)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        return page

    def _build_versions(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.versions_table = _table([
            self.tr("Version"), self.tr("File name"), self.tr("Size"), self.tr("Uploaded by"),
            self.tr("When"), self.tr("Current"), self.tr("What changed")])
        self.versions_table.itemSelectionChanged.connect(self._update_version_buttons)
        layout.addWidget(self.versions_table, 1)
        buttons = QHBoxLayout()
        self.make_current_button = QPushButton(self.tr("Make current"))
        self.download_button = QPushButton(self.tr("Download…"))
        self.delete_version_button = QPushButton(self.tr("Delete version…"))
        self.make_current_button.clicked.connect(self.make_current)
        self.download_button.clicked.connect(self.download_version)
        self.delete_version_button.clicked.connect(self.delete_version)
        for button in (self.make_current_button, self.download_button,
                       self.delete_version_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self._update_version_buttons()
        return page

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        ws, org, doc = self._workspace, self._org, self.base.id

        def read() -> _Loaded:
            return _Loaded(documents.load_document(ws, org, doc),
                           documents.list_versions(ws, org, doc),
                           documents.access_log(ws, org, doc))

        self._runner.run(read, on_done=self._loaded, on_error=self._show_error,
                         key=f"document-dialog-{id(self)}")

    def _loaded(self, loaded: _Loaded) -> None:
        if not self.is_dirty():
            self._fill_form(loaded.row)
        self.heading.setText(loaded.row.title)
        self.versions = loaded.versions
        _read_table(self.versions_table, [
            (f"v{v.number}", v.file_name or "", human_size(v.file_size), v.uploader or "",
             format_moment(self._formatter, v.uploaded_at), "✓" if v.is_current else "",
             v.change_summary or "") for v in loaded.versions])
        _read_table(self.log_table, [
            (format_moment(self._formatter, when), action, who or "", where or "")
            for when, action, who, where in loaded.log])
        self._update_version_buttons()
        self.loaded = True
        self.sig_loaded.emit()

    # -- the form -----------------------------------------------------------------------------

    def _fill_form(self, row: DocumentRow) -> None:
        self.base = row
        self.title_edit.setText(row.title)
        self.category_box.setCurrentIndex(max(0, self.category_box.findData(row.category)))
        self.access_box.setCurrentIndex(max(0, self.access_box.findData(row.access_level)))
        self.tags_edit.setText(", ".join(row.tags))
        self.description_edit.setPlainText(row.description or "")
        self.conflict_box.hide()

    def form_edit(self) -> DocumentEdit:
        tags = tuple(t.strip() for t in self.tags_edit.text().split(",") if t.strip())
        return DocumentEdit(self.title_edit.text(), str(self.category_box.currentData()),
                            str(self.access_box.currentData()), tags,
                            self.description_edit.toPlainText())

    @staticmethod
    def _edit_of(row: DocumentRow) -> DocumentEdit:
        return DocumentEdit(row.title, row.category, row.access_level, row.tags,
                            row.description or "")

    def is_dirty(self) -> bool:
        return self.form_edit() != self._edit_of(self.base)

    def save(self) -> None:
        ws, org, doc, version, edit = (self._workspace, self._org, self.base.id,
                                       self.base.version, self.form_edit())
        self.save_button.setEnabled(False)
        self._runner.run(lambda: documents.save_document(ws, org, doc, version, edit),
                         on_done=self._saved, on_error=self._save_failed)

    def _saved(self, row: DocumentRow) -> None:
        self.save_button.setEnabled(True)
        self._fill_form(row)
        self.heading.setText(row.title)
        self.banner.show_message(self.tr("Saved."), kind="ok", timeout_ms=5000)
        self.sig_changed.emit(row.id)

    def _save_failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(error, DocumentConflictError):
            self._show_conflict(error.current)
            return
        self._show_error(error)  # the typed values stay in the form

    def _show_conflict(self, current: DocumentRow) -> None:
        # The next save expects the stored version: "Save" again keeps what was typed.
        self.base = current
        self.banner.show_message(str(DocumentConflictError(current)), kind="warning")
        stored = [
            self.tr("Title: {v}").format(v=current.title),
            self.tr("Category: {v}").format(v=category_label(current.category)),
            self.tr("Who may see it: {v}").format(v=access_label(current.access_level)),
            self.tr("Tags: {v}").format(v=", ".join(current.tags)),
            self.tr("Description: {v}").format(v=current.description or ""),
        ]
        self.conflict_label.setText(self.tr("Stored now (by someone else):") + "\n"
                                    + "\n".join(stored) + "\n\n" + self.tr(
            "Your values are still in the form. Click Save to keep yours, or Use theirs."))
        self.conflict_box.show()

    def _use_theirs(self) -> None:
        self._fill_form(self.base)
        self.banner.hide()

    # -- versions -----------------------------------------------------------------------------

    def selected_version(self) -> VersionRow | None:
        rows = self.versions_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.versions):
            return None
        return self.versions[rows[0].row()]

    def _update_version_buttons(self) -> None:
        version = self.selected_version()
        self.make_current_button.setEnabled(version is not None and not version.is_current
                                            and version.has_content)
        self.download_button.setEnabled(version is not None and version.has_content)
        self.delete_version_button.setEnabled(version is not None and not version.is_current)

    def make_current(self) -> None:
        version = self.selected_version()
        if version is None:
            return
        ws, org, doc = self._workspace, self._org, self.base.id
        self._write(lambda: documents.make_current(ws, org, doc, version.number),
                    self.tr("Version {n} is now the current one.").format(n=version.number))

    def delete_version(self) -> None:
        version = self.selected_version()
        if version is None or not self.confirm(
                self.tr("Delete version"),
                self.tr("Delete version {n}? This cannot be undone.").format(n=version.number)):
            return
        ws, org = self._workspace, self._org
        self._write(lambda: documents.delete_version(ws, org, version.id),
                    self.tr("Version {n} was deleted.").format(n=version.number))

    def _write(self, fn: Callable[[], object], done_text: str) -> None:
        def done(_result: object) -> None:
            self.banner.show_message(done_text, kind="ok", timeout_ms=5000)
            self.sig_changed.emit(self.base.id)
            self.reload()

        self._runner.run(fn, on_done=done, on_error=self._show_error)

    def download_version(self) -> None:
        version = self.selected_version()
        folder = self.choose_folder() if version is not None else None
        if version is None or folder is None:
            return
        ws, org, doc = self._workspace, self._org, self.base.id

        def body(state: TaskState) -> Path:
            return document_files.download(ws, org, doc, folder, version_number=version.number,
                                           cancelled=lambda: state.cancelled)

        self.banner.show_message(self.tr("Downloading…"), kind="info")
        self._runner.run_long(body, on_done=self._downloaded, on_error=self._show_error)

    def _downloaded(self, path: Path) -> None:
        self.banner.show_message(self.tr("Saved as “{name}” in {folder}.").format(
            name=path.name, folder=str(path.parent)), kind="ok")
        self.reload()

    # -- helpers ------------------------------------------------------------------------------

    def _show_error(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error), kind="error")
