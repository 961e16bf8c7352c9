"""The documents list with its actions: a project's Documents tab, and the Documents page.

With a project the panel shows that project's documents and takes dropped files and folders;
without one it searches every project (and shows a Project column). Every read, transfer and
file check runs through the task runner; links open only after the person confirmed the real
host (T-IN-08). A file opened in its application is watched: once saved there, the panel
offers to store it as a new version.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.filenames import display_name
from factorypulse_desktop.domain.links import LinkError, describe_for_confirmation, parse_link
from factorypulse_desktop.integrations.gdrive.tokens import GrantStore
from factorypulse_desktop.services import document_files, documents, gdrive, gdrive_links
from factorypulse_desktop.services.document_files import OpenedCopy, UploadRequest
from factorypulse_desktop.services.documents import CATEGORIES, DocumentQuery, DocumentRow
from factorypulse_desktop.services.upload_journal import PendingUpload, UploadJournal
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui import system_open
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.documents_model import (
    DocumentsTableModel,
    category_label,
    provider_label,
)
from factorypulse_desktop.ui.tasks import TaskHandle, TaskRunner, TaskState, describe_error
from factorypulse_desktop.ui.widgets.asking import ask_files, ask_folder, ask_yes
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.transfer_status import TransferStatus

__all__ = ["DocumentsPanel", "SaveChangesPrompt"]

SEARCH_DELAY_MS = 250
WATCH_INTERVAL_MS = 2000
MIN_TITLE = 200
MIN_PROJECT = 120


def _add_to(progress: Callable[[int], None], base: int, sent: int) -> None:
    progress(base + sent)


def _still_changed(copies: list[OpenedCopy]) -> list[tuple[OpenedCopy, OpenedCopy]]:
    """(watched copy, copy with its new stat) for each one saved since; runs on a worker."""
    found = []
    for copy in copies:
        if copy.changed():
            stat = copy.path.stat()
            found.append((copy, dataclasses.replace(copy, modified_ns=stat.st_mtime_ns,
                                                    size=stat.st_size)))
    return found


class SaveChangesPrompt(QFrame):
    """“drawing.dxf” was changed in its application: save it as a new version?"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # quotes a file name
        self.label.setWordWrap(True)
        self.save_button = QPushButton(self.tr("Save as new version"))
        self.save_button.setObjectName("primary")
        self.later_button = QPushButton(self.tr("Not now"))
        layout.addWidget(self.label, 1)
        layout.addWidget(self.save_button)
        layout.addWidget(self.later_button)
        self.hide()


class DocumentsPanel(QWidget):
    """Documents of one project (`project_id`) or of all projects, with search and actions."""

    sig_count_changed = Signal(int)
    """How many documents there are (sent after a load without search or filters)."""
    sig_open_project = Signal(object)
    """The person asked to go to a document's project (its uuid)."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter, *, project_id: uuid.UUID | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self._formatter = formatter
        self.project_id = project_id
        self.loaded = False
        self._shown_query: DocumentQuery | None = None
        self._watched: list[OpenedCopy] = []
        self._offered: tuple[OpenedCopy, OpenedCopy] | None = None
        self._checking = False
        self._transfer: TaskHandle | None = None
        self.last_download: Path | None = None
        self._column_widths: dict[int, int] = {}
        self.dialog: QWidget | None = None
        """The dialog this panel opened last (preview, details, upload), for tests."""
        self.journal: UploadJournal | None = None
        """Where this computer records unfinished uploads (None: the app's own)."""
        self._pending_checked = False
        # Replaced in tests so no modal dialog opens and nothing leaves the test.
        self.choose_files: Callable[[], list[Path]] = lambda: ask_files(self)
        self.choose_folder: Callable[[], Path | None] = lambda: ask_folder(self)
        self.confirm: Callable[[str, str], bool] = functools.partial(ask_yes, self)
        self.open_url: Callable[[QUrl], object] = system_open.open_url
        self.open_local: Callable[[Path], object] = system_open.open_file
        # Where Google is and where grants are kept (tests point these at the fakes).
        self.drive_endpoints: gdrive.GoogleEndpoints = gdrive.GOOGLE
        self.drive_store: GrantStore | None = None
        self._build()
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        self._watch_timer = QTimer(self, interval=WATCH_INTERVAL_MS)
        self._watch_timer.timeout.connect(self.check_opened_copies)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):  # back in the window: the file may be saved
            app.applicationStateChanged.connect(self._app_state_changed)
        if project_id is not None:
            from factorypulse_desktop.ui.widgets.file_drop import FileDropTarget

            FileDropTarget.install(self, self.upload_paths)
            FileDropTarget.install(self.table, self.upload_paths)
        else:
            self._load_uploaders()
        self.reload()

    # -- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
        filters, actions = self._build_filters(), self._build_actions()
        # Adding sits with the search, acting on the selection below it: one row of ten
        # buttons does not fit a 1280-pixel window.
        for button in (self.upload_button, self.link_button, self.drive_button):
            filters.addWidget(button)
        layout.addLayout(filters)
        layout.addLayout(actions)
        self.banner = Banner()
        layout.addWidget(self.banner)
        self.prompt = SaveChangesPrompt()
        self.prompt.save_button.clicked.connect(self.save_offered_copy)
        self.prompt.later_button.clicked.connect(self._not_now)
        layout.addWidget(self.prompt)

        self.model = DocumentsTableModel(self._formatter, with_project=self.project_id is None,
                                         parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(60)
        self.table.viewport().installEventFilter(self)  # the title column takes the width
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.empty_label = QLabel()
        self.empty_label.setObjectName("muted")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty_label)
        layout.addWidget(self.stack, 1)

        self.transfer_status = TransferStatus()
        self.transfer_status.sig_cancel.connect(self.cancel_transfer)
        layout.addWidget(self.transfer_status)
        self._update_buttons()

    def _build_filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(
            self.tr("Search title, file name, tag or project number")
            if self.project_id is None else self.tr("Search title, file name or tag"))
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        row.addWidget(self.search, 2)
        self.category_box = self._combo(self.tr("All categories"),
                                        [(category_label(c), c) for c in CATEGORIES])
        row.addWidget(self.category_box, 1)
        self.provider_box = self._combo(self.tr("Stored and linked"),
                                        [(provider_label(p), p) for p in documents.PROVIDERS])
        self.uploader_box = self._combo(self.tr("Anyone"), [])
        if self.project_id is None:
            row.addWidget(self.provider_box, 1)
            row.addWidget(self.uploader_box, 1)
        return row

    def _combo(self, everything: str, choices: list[tuple[str, object]]) -> QComboBox:
        box = QComboBox()
        box.addItem(everything, None)
        for text, value in choices:
            box.addItem(text, value)
        box.currentIndexChanged.connect(lambda _index: self.reload())
        return box

    def _build_actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.upload_button = QPushButton(self.tr("Upload files…"))
        self.upload_button.setObjectName("primary")
        self.link_button = QPushButton(self.tr("Add link…"))
        self.drive_button = QPushButton(self.tr("Google Drive…"))
        self.drive_refresh_button = QPushButton(self.tr("Refresh from Drive"))
        self.preview_button = QPushButton(self.tr("Preview"))
        self.open_button = QPushButton(self.tr("Open"))
        self.download_button = QPushButton(self.tr("Download…"))
        self.version_button = QPushButton(self.tr("New version…"))
        self.details_button = QPushButton(self.tr("Details…"))
        self.delete_button = QPushButton(self.tr("Delete…"))
        self.project_button = QPushButton(self.tr("Go to project"))
        actions: list[tuple[QPushButton, Callable[[], object]]] = [
            (self.upload_button, self.upload_files), (self.link_button, self.add_link),
            (self.drive_button, self.open_drive),
            (self.preview_button, self.preview_selected), (self.open_button, self.open_selected),
            (self.download_button, self.download_selected),
            (self.version_button, self.new_version), (self.details_button, self.show_details),
            (self.drive_refresh_button, self.refresh_from_drive),
            (self.delete_button, self.delete_selected),
            (self.project_button, self.go_to_project),
        ]
        adding = (self.upload_button, self.link_button, self.drive_button)
        for button, slot in actions:
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            if button not in adding:
                row.addWidget(button)
        row.addStretch(1)
        with_project = self.project_id is not None
        for button in (self.upload_button, self.link_button, self.drive_button,
                       self.version_button):
            button.setVisible(with_project)
        self.project_button.setVisible(not with_project)
        return row

    # -- loading ------------------------------------------------------------------------------

    def query(self) -> DocumentQuery:
        return DocumentQuery(project_id=self.project_id, text=self.search.text(),
                             category=self.category_box.currentData(),
                             provider=self.provider_box.currentData(),
                             uploader_id=self.uploader_box.currentData())

    def reload(self) -> None:
        """Read the list again for the current search and filters."""
        ws, org, query = self._workspace, self.organization_id, self.query()
        self._runner.run(lambda: documents.list_documents(ws, org, query),
                         on_done=lambda rows: self._loaded(query, rows),
                         on_error=self._show_error, key=f"documents-{id(self)}")

    def on_documents_changed(self, _ids: list[uuid.UUID]) -> None:
        """Live update (ChangeBus "documents"): refresh in place, keeping the selection."""
        self.reload()

    def set_organization(self, organization_id: uuid.UUID) -> None:
        if organization_id == self.organization_id:
            return
        self.organization_id = organization_id
        self._shown_query = None
        self.model.set_rows([])
        if self.project_id is None:
            self._load_uploaders()
        self.reload()

    def _loaded(self, query: DocumentQuery, rows: list[DocumentRow]) -> None:
        if query == self._shown_query:
            self.model.update_rows(rows)  # same list: keep selection and scroll
        else:
            self.model.set_rows(rows)
            self._shown_query = query
        self._resize_columns()
        filtered = query != DocumentQuery(project_id=self.project_id)
        if not rows:
            self.empty_label.setText(
                self.tr("No documents match your search.") if filtered else
                self.tr("No documents yet. Drag files or folders here, or click Upload files…")
                if self.project_id is not None else self.tr("No documents yet."))
        self.stack.setCurrentIndex(0 if rows else 1)
        if not filtered:
            self.sig_count_changed.emit(len(rows))
        self.loaded = True
        self._update_buttons()
        if not self._pending_checked and self.project_id is not None:
            self._pending_checked = True
            self._check_pending_uploads()

    # -- uploads that stopped halfway ------------------------------------------------------

    def _check_pending_uploads(self) -> None:
        """Offer to resume this project's uploads that a lost connection or a closed app cut
        off (the database keeps their parts for a day)."""
        ws, org, project, journal = (self._workspace, self.organization_id, self.project_id,
                                     self.journal)

        def find() -> list[PendingUpload]:
            pending = document_files.resume_pending(
                ws, org, journal or document_files.default_journal())
            return [p for p in pending if p.request.get("project_id") == str(project)]

        self._runner.run(find, on_done=self._offer_resume,
                         on_error=lambda _error: None)  # the janitor tidies up later

    def _offer_resume(self, pending: list[PendingUpload]) -> None:
        if not pending:
            return
        names = ", ".join(f"“{display_name(p.path.name)}”" for p in pending[:3])
        more = "…" if len(pending) > 3 else ""
        self.banner.show_message(
            self.tr("{n} upload(s) of this project stopped halfway ({names}{more}). Resume "
                    "them? Parts already sent are not sent again.").format(
                n=len(pending), names=names, more=more),
            kind="warning", action=self.tr("Resume"),
            on_action=lambda: self.resume_uploads(pending))

    def resume_uploads(self, pending: list[PendingUpload]) -> None:
        """Finish the uploads one after another, each from where it stopped."""
        ws, org, journal = self._workspace, self.organization_id, self.journal
        total = sum(p.size for p in pending)

        def body(state: TaskState, progress: Callable[[int], None]) -> list[str]:
            problems: list[str] = []
            sent_before = 0
            for item in pending:
                try:
                    document_files.upload(
                        ws, org, document_files.request_of(item),
                        journal=journal or document_files.default_journal(),
                        progress=functools.partial(_add_to, progress, sent_before),
                        cancelled=lambda: state.cancelled)
                except UserFacingError as error:
                    if state.cancelled:
                        raise
                    problems.append(f"{display_name(item.path.name)}: {error}")
                sent_before += item.size
            return problems

        def done(problems: list[str]) -> None:
            self.reload()
            if problems:
                self.banner.show_message("\n".join(problems), kind="error")
            else:
                self.banner.show_message(self.tr("The uploads are finished."), kind="ok",
                                         timeout_ms=8000)

        self._run_transfer(self.tr("Resuming {n} upload(s)…").format(n=len(pending)), total,
                           body, done)

    def _resize_columns(self) -> None:
        """Fit the small columns to their contents (capped); the title takes the rest."""
        if not self.model.rowCount():
            return
        model = DocumentsTableModel
        caps = {model.COLUMN_UPLOADER: 150, model.COLUMN_PROJECT: 180}
        self._column_widths = {}
        for column in range(1, self.model.columnCount()):
            self.table.resizeColumnToContents(column)
            width = min(self.table.columnWidth(column), caps.get(column, 150))
            self.table.setColumnWidth(column, width)
            self._column_widths[column] = width
        self._fit_title()

    def _fit_title(self) -> None:
        if not self._column_widths:
            return
        model = DocumentsTableModel
        rest = self.table.viewport().width() - sum(self._column_widths.values())
        self.table.setColumnWidth(model.COLUMN_TITLE, max(MIN_TITLE, rest))
        project = self._column_widths.get(model.COLUMN_PROJECT)
        if project is not None:  # too narrow for all: the project column gives way first
            short = max(0, MIN_TITLE - rest)
            self.table.setColumnWidth(model.COLUMN_PROJECT, max(MIN_PROJECT, project - short))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_title()
        return super().eventFilter(watched, event)

    def _load_uploaders(self) -> None:
        ws, org = self._workspace, self.organization_id
        self._runner.run(lambda: documents.uploaders(ws, org), on_done=self._fill_uploaders,
                         on_error=lambda _error: None, key=f"documents-uploaders-{id(self)}")

    def _fill_uploaders(self, people: list[tuple[uuid.UUID, str]]) -> None:
        box = self.uploader_box
        box.blockSignals(True)  # refilling is not a filter change
        current = box.currentData()
        while box.count() > 1:
            box.removeItem(1)
        for person_id, name in people:
            box.addItem(name, person_id)
        box.setCurrentIndex(max(0, box.findData(current)))
        box.blockSignals(False)

    # -- selection ----------------------------------------------------------------------------

    def selected(self) -> DocumentRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0]) if rows else None

    def select(self, document_id: uuid.UUID) -> None:
        row = self.model.row_of(document_id)
        if row >= 0:
            self.table.selectRow(row)

    def _update_buttons(self) -> None:
        row = self.selected()
        is_file = row is not None and not row.is_link
        for button in (self.preview_button, self.open_button, self.download_button,
                       self.version_button):
            button.setEnabled(is_file)
        self.open_button.setEnabled(row is not None)
        for button in (self.details_button, self.delete_button):
            button.setEnabled(row is not None)
        self.project_button.setEnabled(row is not None and row.project_id is not None)
        self.drive_refresh_button.setEnabled(
            row is not None and row.storage_provider == "google_drive")

    def _double_clicked(self, index: QModelIndex) -> None:
        row = self.model.row_at(index)
        if index.column() == DocumentsTableModel.COLUMN_PROJECT and row.project_id:
            self.sig_open_project.emit(row.project_id)
        elif row.is_link:
            self.open_link(row)
        else:
            self.preview(row)

    def go_to_project(self) -> None:
        row = self.selected()
        if row is not None and row.project_id is not None:
            self.sig_open_project.emit(row.project_id)

    # -- preview, details, links --------------------------------------------------------------

    def preview_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.preview(row)

    def preview(self, row: DocumentRow) -> None:
        from factorypulse_desktop.ui.dialogs.preview_dialog import PreviewDialog

        dialog = PreviewDialog(self._runner, self._workspace, self.organization_id, row, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_open_requested.connect(self.open_document)
        self._show_dialog(dialog)

    def show_details(self) -> None:
        row = self.selected()
        if row is None:
            return
        from factorypulse_desktop.ui.dialogs.document_dialog import DocumentDialog

        dialog = DocumentDialog(self._runner, self._workspace, self.organization_id, row,
                                self._formatter, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_changed.connect(lambda _id: self.reload())
        self._show_dialog(dialog)

    def _show_dialog(self, dialog: QWidget) -> None:
        self.dialog = dialog
        dialog.show()  # not modal: the list stays usable

    def open_link(self, row: DocumentRow) -> None:
        """Open a link in the browser after the person saw which host it really opens."""
        try:
            link = parse_link(row.external_url or "")  # checked again: the row may be old
        except LinkError as error:
            self.banner.show_message(str(error), kind="warning")
            return
        url = QUrl(link.url, QUrl.ParsingMode.StrictMode)
        if url.scheme() != "https" or not url.isValid():
            self.banner.show_message(self.tr("Only https links can be opened."), kind="warning")
            return
        if not self.confirm(self.tr("Open link"), describe_for_confirmation(link)):
            return
        self.open_url(url)
        ws, org, doc = self._workspace, self.organization_id, row.id
        self._runner.run(lambda: documents.log_access(ws, org, doc, "view",
                                                      document_files.workstation()),
                         on_error=lambda _error: None)  # the log must not stop the person

    # -- open and watch -----------------------------------------------------------------------

    def open_selected(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_document(row)

    def open_document(self, row: DocumentRow) -> None:
        if row.is_link:
            self.open_link(row)
            return
        ws, org, doc = self._workspace, self.organization_id, row.id
        self._run_transfer(
            self.tr("Opening “{name}”…").format(name=row.file_name or row.title), row.file_size,
            lambda state, progress: document_files.open_copy(
                ws, org, doc, progress=progress, cancelled=lambda: state.cancelled),
            self._opened)

    def _opened(self, copy: OpenedCopy) -> None:
        self.open_local(copy.path)
        self._watched.append(copy)
        self._watch_timer.start()

    def watched_copies(self) -> list[OpenedCopy]:
        return list(self._watched)

    def _app_state_changed(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationActive:
            self.check_opened_copies()

    def check_opened_copies(self) -> None:
        """Ask a worker whether an opened copy was saved (a stat is file I/O)."""
        if self._checking or self._offered is not None or not self._watched:
            return
        self._checking = True
        copies = list(self._watched)
        self._runner.run(lambda: _still_changed(copies), on_done=self._copies_checked,
                         on_error=self._check_failed)

    def _check_failed(self, _error: BaseException) -> None:
        self._checking = False

    def _copies_checked(self, changed: list[tuple[OpenedCopy, OpenedCopy]]) -> None:
        self._checking = False
        if not changed or self._offered is not None:
            return
        self._offered = changed[0]
        copy = changed[0][0]
        shown = self.model.row_of(copy.document_id)
        number = (self.model.row_at(shown).current_version if shown >= 0
                  else copy.version_number) + 1
        self.prompt.label.setText(self.tr(
            "“{name}” was changed in its application. Save it as version {n}?").format(
            name=copy.path.name, n=number))
        self.prompt.show()

    def _not_now(self) -> None:
        # Forget this change; a later save in the application asks again.
        offered, self._offered = self._offered, None
        if offered is not None:
            self._replace_watched(*offered)
        self.prompt.hide()

    def _replace_watched(self, old: OpenedCopy, new: OpenedCopy) -> None:
        self._watched = [new if c is old else c for c in self._watched]

    def save_offered_copy(self) -> None:
        """Store the changed copy as a new version of its document."""
        offered = self._offered
        if offered is None:
            return
        self.prompt.hide()
        old, new = offered
        shown = self.model.row_of(old.document_id)
        title = self.model.row_at(shown).title if shown >= 0 else old.path.stem
        request = UploadRequest(path=new.path, title=title, document_id=new.document_id,
                                change_summary="Edited in its application.")
        ws, org = self._workspace, self.organization_id

        def done(uploaded: document_files.Uploaded) -> None:
            self._offered = None
            self._replace_watched(old, dataclasses.replace(
                new, version_number=uploaded.version_number))
            self.banner.show_message(self.tr("Saved as version {n}.").format(
                n=uploaded.version_number), kind="ok", timeout_ms=8000)
            self.reload()

        def failed(error: BaseException) -> None:
            self._offered = None  # the next check offers it again
            self._show_error(error)

        self._run_transfer(
            self.tr("Saving “{name}” as a new version…").format(name=new.path.name), new.size,
            lambda state, progress: document_files.upload(
                ws, org, request, journal=document_files.default_journal(), progress=progress,
                cancelled=lambda: state.cancelled),
            done, on_error=failed)

    # -- download, upload, delete -------------------------------------------------------------

    def download_selected(self) -> None:
        row = self.selected()
        if row is None or row.is_link:
            return
        folder = self.choose_folder()
        if folder is None:
            return
        ws, org, doc = self._workspace, self.organization_id, row.id
        self._run_transfer(
            self.tr("Downloading “{name}”…").format(name=row.file_name or row.title),
            row.file_size,
            lambda state, progress: document_files.download(
                ws, org, doc, folder, progress=progress, cancelled=lambda: state.cancelled),
            self._downloaded)

    def _downloaded(self, path: Path) -> None:
        self.last_download = path
        self.banner.show_message(self.tr("Saved as “{name}” in {folder}.").format(
            name=path.name, folder=str(path.parent)), kind="ok")

    def upload_files(self) -> None:
        paths = self.choose_files()
        if paths:
            self.upload_paths(paths)

    def upload_paths(self, paths: list[Path], row: DocumentRow | None = None) -> None:
        """Files or folders dropped or chosen: the upload dialog asks for the details."""
        if self.project_id is None or not paths:
            return
        from factorypulse_desktop.ui.dialogs.upload_dialog import UploadDialog

        dialog = UploadDialog(self._runner, self._workspace, self.organization_id, paths,
                              project_id=self.project_id,
                              document_id=row.id if row else None,
                              document_title=row.title if row else None, parent=self)
        dialog.sig_uploaded.connect(lambda _ids: self.reload())
        self._show_dialog(dialog)

    def new_version(self) -> None:
        row = self.selected()
        if row is None or row.is_link:
            return
        paths = self.choose_files()
        if paths:
            self.upload_paths(paths[:1], row)

    def add_link(self) -> None:
        if self.project_id is None:
            return
        from factorypulse_desktop.ui.dialogs.link_dialog import LinkDialog

        dialog = LinkDialog(self._runner, self._workspace, self.organization_id,
                            self.project_id, parent=self)
        dialog.sig_added.connect(lambda _row: self.reload())
        self._show_dialog(dialog)

    def open_drive(self) -> None:
        """Browse Google Drive to link files and folders to this project."""
        if self.project_id is None:
            return
        from factorypulse_desktop.ui.dialogs.drive_browser import DriveBrowserDialog

        dialog = DriveBrowserDialog(self._runner, self._workspace, self.organization_id,
                                    self.project_id, store=self.drive_store,
                                    endpoints=self.drive_endpoints, formatter=self._formatter,
                                    parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_linked.connect(lambda _row: self.reload())
        self._show_dialog(dialog)

    def refresh_from_drive(self) -> None:
        """Read the selected Drive link's name, size and owner from Drive again."""
        row = self.selected()
        if row is None or row.storage_provider != "google_drive":
            return
        ws, org, doc = self._workspace, self.organization_id, row.id
        store = self.drive_store or gdrive.default_store()
        endpoints = self.drive_endpoints

        def refresh() -> DocumentRow:
            drive = gdrive_links.drive_for_document(ws, org, doc, store, endpoints=endpoints)
            return gdrive_links.refresh_link(ws, org, doc, drive)

        def done(fresh: DocumentRow) -> None:
            self.banner.show_message(self.tr("“{title}” is up to date with Drive.").format(
                title=fresh.title), kind="ok", timeout_ms=8000)
            self.reload()

        def failed(error: BaseException) -> None:
            self._show_error(error)
            self.reload()  # a removed file is now marked as failed

        self._runner.run(refresh, on_done=done, on_error=failed)

    def delete_selected(self) -> None:
        row = self.selected()
        if row is None or not self.confirm(self.tr("Delete document"), self.tr(
                "Delete “{title}” and all its versions? This cannot be undone.").format(
                title=row.title)):
            return
        ws, org, doc, version = self._workspace, self.organization_id, row.id, row.version

        def deleted(_result: None) -> None:
            self.banner.show_message(self.tr("“{title}” was deleted.").format(title=row.title),
                                     kind="ok", timeout_ms=8000)
            self.reload()

        self._runner.run(lambda: documents.delete_document(ws, org, doc, version),
                         on_done=deleted, on_error=self._show_error)

    # -- transfers ----------------------------------------------------------------------------

    def _run_transfer(self, text: str, size: int | None,
                      body: Callable[[TaskState, Callable[[int], None]], object],
                      on_done: Callable[..., None], *,
                      on_error: Callable[[BaseException], None] | None = None) -> None:
        """Run a download or upload with progress and Cancel in the status line."""
        if self._transfer is not None and not self._transfer.done:
            self.banner.show_message(self.tr("Wait until the current transfer is finished."),
                                     kind="info", timeout_ms=5000)
            return
        total = max(1, size or 0)

        def run(state: TaskState) -> object:
            return body(state, lambda sent: state.progress(sent / total if size else None))

        def finished(result: object) -> None:
            self._show_transfer(None)
            on_done(result)

        def failed(error: BaseException) -> None:
            self._show_transfer(None)
            (on_error or self._show_error)(error)

        self._show_transfer(text)
        self._transfer = self._runner.run_long(
            run, on_progress=self.transfer_status.set_fraction, on_done=finished,
            on_error=failed,
            on_cancelled=lambda: self._show_transfer(None))

    def _show_transfer(self, text: str | None) -> None:
        self.transfer_status.show_transfer(text)

    def cancel_transfer(self) -> None:
        if self._transfer is not None:
            self._transfer.cancel()

    # -- helpers ------------------------------------------------------------------------------

    def _show_error(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error), kind="error")
