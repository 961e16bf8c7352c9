"""Browsing Google Drive to link files and folders to a project, or upload one there.

Every Drive call (and the keyring, and the database) runs on the task runner; the dialog only
shows what comes back. A withdrawn grant shows a banner with Reconnect; other Drive problems
are shown in plain words and the dialog stays usable.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLocale, Qt, QTimer, QUrl, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.integrations.gdrive.drive import DriveClient, DriveItem, DrivePage
from factorypulse_desktop.integrations.gdrive.oauth import GrantRevokedError
from factorypulse_desktop.integrations.gdrive.tokens import GrantStore
from factorypulse_desktop.services import documents, gdrive, gdrive_links
from factorypulse_desktop.services.documents import DocumentEdit, DocumentRow
from factorypulse_desktop.services.gdrive import GOOGLE, GoogleEndpoints
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui import system_open
from factorypulse_desktop.ui.dialogs.drive_connect import DriveConnectDialog
from factorypulse_desktop.ui.dialogs.upload_dialog import AccessLevelField, CategoryBox, title_of
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.documents_model import format_moment, human_size
from factorypulse_desktop.ui.tasks import TaskHandle, TaskRunner, TaskState, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.forms import add_form_row
from factorypulse_desktop.ui.widgets.transfer_status import TransferStatus

__all__ = ["DriveBrowserDialog"]

SEARCH_DELAY_MS = 300
ROOT = "root"


def _ask_file(parent: QWidget) -> Path | None:
    chosen, _filter = QFileDialog.getOpenFileName(parent, parent.tr("Choose a file to upload"))
    return Path(chosen) if chosen else None


def _upload_and_link(drive: DriveClient, path: Path, folder_id: str, chunk_size: int,
                     state: TaskState, link: Callable[[DriveItem], DocumentRow]
                     ) -> DocumentRow:
    """Worker: send the file to Drive with progress, then link the new item."""
    size = path.stat().st_size
    item = drive.upload(path, folder_id, chunk_size=chunk_size,
                        progress=lambda sent: state.progress(sent / size if size else None),
                        cancelled=lambda: state.cancelled)
    return link(item)


class DriveTable(QTableWidget):
    """Drive items: icon and name, size, last change, owner (all plain text)."""

    COLUMN_NAME, COLUMN_SIZE, COLUMN_MODIFIED, COLUMN_OWNER = range(4)

    def __init__(self, formatter: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self._formatter = formatter
        self.drive_items: list[DriveItem] = []
        self.setHorizontalHeaderLabels([self.tr("Name"), self.tr("Size"), self.tr("Changed"),
                                        self.tr("Owner")])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.setShowGrid(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(self.COLUMN_NAME, QHeaderView.ResizeMode.Stretch)
        for column in (self.COLUMN_SIZE, self.COLUMN_MODIFIED, self.COLUMN_OWNER):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

    def show_items(self, items: list[DriveItem], *, append: bool = False) -> None:
        self.drive_items = [*self.drive_items, *items] if append else list(items)
        if not append:
            self.setRowCount(0)
        folder = self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        file = self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon)
        for item in items:
            row = self.rowCount()
            self.insertRow(row)
            name = QTableWidgetItem(folder if item.is_folder else file, item.name)
            self.setItem(row, self.COLUMN_NAME, name)
            self.setItem(row, self.COLUMN_SIZE, QTableWidgetItem(human_size(item.size)))
            self.setItem(row, self.COLUMN_MODIFIED, QTableWidgetItem(
                format_moment(self._formatter, item.modified)))
            self.setItem(row, self.COLUMN_OWNER, QTableWidgetItem(item.owner or ""))

    def selected_item(self) -> DriveItem | None:
        rows = self.selectionModel().selectedRows()
        return self.drive_items[rows[0].row()] if rows else None

    def names(self) -> list[str]:
        return [item.name for item in self.drive_items]


class DriveBrowserDialog(QDialog):
    """Pick Drive files or folders and link them to project `project_id`."""

    sig_linked = Signal(object)
    """The stored `DocumentRow` of each item linked (the dialog stays open for more)."""

    page_size = 100
    upload_chunk_size = 8 * 1024 * 1024

    def __init__(self, runner: TaskRunner, workspace: Workspace, org: uuid.UUID,
                 project_id: uuid.UUID, *, account_id: str | None = None,
                 store: GrantStore | None = None, endpoints: GoogleEndpoints = GOOGLE,
                 formatter: Formatter | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self._org = org
        self._project_id = project_id
        self._wanted_account = account_id
        self._store = store or gdrive.default_store()
        self._endpoints = endpoints
        self._drive: DriveClient | None = None
        self.account_id: str | None = None
        self.folder_id = ROOT
        self._next_page: str | None = None
        self._upload: TaskHandle | None = None
        self.loaded = False
        self.trail: list[DriveItem] = []
        self.connect_dialog: DriveConnectDialog | None = None
        # Replaced in tests so no modal dialog opens and nothing leaves the test.
        self.choose_file: Callable[[], Path | None] = lambda: _ask_file(self)
        self.open_url: Callable[[QUrl], object] = system_open.open_url
        self.setWindowTitle(self.tr("Google Drive"))
        self.resize(860, 620)
        self._build(formatter or Formatter(QLocale().name()))
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        self.start()

    # -- construction -------------------------------------------------------------------------

    def _build(self, formatter: Formatter) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(8)
        self.banner = Banner()
        layout.addWidget(self.banner)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_browser(formatter))
        self.pages.addWidget(self._build_not_connected())
        layout.addWidget(self.pages, 1)
        layout.addWidget(self._build_upload_status())
        buttons = QHBoxLayout()
        self.accounts_button = QPushButton(self.tr("Accounts…"))
        self.accounts_button.clicked.connect(self.show_accounts)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.accounts_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

    def _build_browser(self, formatter: Formatter) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.account_label = QLabel()
        self.account_label.setTextFormat(Qt.TextFormat.PlainText)  # an e-mail address
        self.account_label.setObjectName("muted")
        layout.addWidget(self.account_label)
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(self.tr("Search all of Drive by name"))
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        layout.addWidget(self.search)
        self.crumbs = QHBoxLayout()
        self.crumbs.setSpacing(2)
        layout.addLayout(self.crumbs)
        self.table = DriveTable(formatter)
        self.table.doubleClicked.connect(lambda index: self._double_clicked(index.row()))
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)
        self.more_button = QPushButton(self.tr("Load more"))
        self.more_button.clicked.connect(self.load_more)
        layout.addWidget(self.more_button)
        form = QFormLayout()
        self.category = CategoryBox()
        add_form_row(form, self.tr("Category:"), self.category)
        self.access = AccessLevelField()
        add_form_row(form, self.tr("Who may see it:"), self.access)
        layout.addLayout(form)
        actions = QHBoxLayout()
        self.open_button = QPushButton(self.tr("Open in browser"))
        self.open_button.clicked.connect(self.open_selected)
        self.upload_button = QPushButton(self.tr("Upload file here…"))
        self.upload_button.clicked.connect(self.upload_file)
        self.link_button = QPushButton(self.tr("Link to project"))
        self.link_button.setObjectName("primary")
        self.link_button.clicked.connect(self.link_selected)
        actions.addWidget(self.open_button)
        actions.addWidget(self.upload_button)
        actions.addStretch(1)
        actions.addWidget(self.link_button)
        layout.addLayout(actions)
        return page

    def _build_not_connected(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        self.not_connected_label = QLabel(self.tr(
            "Google Drive is not connected on this computer. Connect it to pick files and "
            "folders for this project."))
        self.not_connected_label.setWordWrap(True)
        self.not_connected_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.connect_button = QPushButton(self.tr("Connect Google Drive…"))
        self.connect_button.setObjectName("primary")
        self.connect_button.clicked.connect(self.show_accounts)
        layout.addWidget(self.not_connected_label)
        layout.addWidget(self.connect_button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        return page

    def _build_upload_status(self) -> TransferStatus:
        self.upload_status = TransferStatus()
        self.upload_status.sig_cancel.connect(self.cancel_upload)
        self.upload_label = self.upload_status.label
        self.upload_progress = self.upload_status.bar
        self._show_upload(None)
        return self.upload_status

    # -- the account --------------------------------------------------------------------------

    def start(self) -> None:
        """Find a connected account on this computer and open its drive (on workers)."""
        ws, org, store, endpoints = self._workspace, self._org, self._store, self._endpoints
        wanted = self._wanted_account

        def find() -> tuple[str, DriveClient] | None:
            account = gdrive_links.pick_account(gdrive.accounts(ws, org, store), wanted)
            if account is None:
                return None
            return account, gdrive.drive_for(ws, org, account, store, endpoints=endpoints)

        self._runner.run(find, on_done=self._started, on_error=self._failed)

    def _started(self, found: tuple[str, DriveClient] | None) -> None:
        if found is None:
            self.pages.setCurrentIndex(1)
            self.loaded = True
            return
        self.account_id, self._drive = found
        self.pages.setCurrentIndex(0)
        self.open_folder(ROOT)

    def show_accounts(self) -> None:
        """The accounts dialog; a connected account is then browsed."""
        dialog = DriveConnectDialog(self._runner, self._workspace, self._org,
                                    store=self._store, endpoints=self._endpoints, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_connected.connect(self._account_connected)
        self.connect_dialog = dialog
        dialog.show()

    def _account_connected(self, account_id: str) -> None:
        self._wanted_account = account_id
        self.banner.hide()
        self.start()

    # -- browsing -----------------------------------------------------------------------------

    @property
    def searching(self) -> str:
        return self.search.text().strip()

    def open_folder(self, folder_id: str) -> None:
        if self.search.text():
            self.search.blockSignals(True)  # leaving the results is not a new search
            self.search.clear()
            self.search.blockSignals(False)
        self.folder_id = folder_id
        self.reload()
        drive = self._drive
        if drive is not None:
            self._runner.run(lambda: drive.path_of(folder_id), on_done=self._show_trail,
                             on_error=self._failed, key=f"drive-trail-{id(self)}")

    def reload(self) -> None:
        """The first page of the current folder, or of the search results."""
        self._list(None)

    def load_more(self) -> None:
        if self._next_page is not None:
            self._list(self._next_page)

    def _list(self, page_token: str | None) -> None:
        drive = self._drive
        if drive is None:
            return
        folder, text, size = self.folder_id, self.searching, self.page_size

        def fetch() -> DrivePage:
            if text:
                return drive.search(text, page_token=page_token, page_size=size)
            return drive.list_folder(folder, page_token=page_token, page_size=size)

        self.more_button.setEnabled(False)
        self._runner.run(fetch, on_done=lambda page: self._listed(page, page_token is not None),
                         on_error=self._failed, key=f"drive-list-{id(self)}")

    def _listed(self, page: DrivePage, more: bool) -> None:
        self.table.show_items(list(page.items), append=more)
        self._next_page = page.next_page_token
        self.more_button.setVisible(page.next_page_token is not None)
        self.more_button.setEnabled(True)
        self._show_crumbs()
        self.loaded = True
        self._update_buttons()

    def _show_trail(self, trail: list[DriveItem]) -> None:
        self.trail = trail
        self._show_crumbs()

    def _show_crumbs(self) -> None:
        while (old := self.crumbs.takeAt(0)) is not None:
            if (widget := old.widget()) is not None:
                widget.deleteLater()
        if self.searching:
            self.crumbs.addWidget(QLabel(self.tr("Search results in all of Drive")))
        else:
            for index, item in enumerate(self.trail):
                if index:
                    self.crumbs.addWidget(QLabel("/"))
                name = self.tr("My Drive") if index == 0 else item.name
                button = QPushButton(name.replace("&", "&&"))  # no mnemonic from a name
                button.setFlat(True)
                button.clicked.connect(lambda _checked=False, i=item.id: self.open_folder(i))
                self.crumbs.addWidget(button)
        self.crumbs.addStretch(1)

    def crumb_texts(self) -> list[str]:
        """The breadcrumb buttons' names, root first (for tests)."""
        texts = []
        for index in range(self.crumbs.count()):
            entry = self.crumbs.itemAt(index)
            widget = entry.widget() if entry is not None else None
            if isinstance(widget, QPushButton):
                texts.append(widget.text().replace("&&", "&"))
        return texts

    def _double_clicked(self, row: int) -> None:
        item = self.table.drive_items[row]
        if item.is_folder:
            self.open_folder(item.id)

    def _update_buttons(self) -> None:
        chosen = self.table.selected_item() is not None
        busy = self._upload is not None and not self._upload.done
        self.link_button.setEnabled(chosen)
        self.open_button.setEnabled(chosen)
        self.upload_button.setEnabled(self._drive is not None and not busy
                                      and not self.searching)

    # -- actions ------------------------------------------------------------------------------

    def open_selected(self) -> None:
        item = self.table.selected_item()
        if item is not None:  # always the canonical drive.google.com address
            self.open_url(QUrl(gdrive_links.drive_url(item).url))

    def _linker(self) -> Callable[[DriveItem], DocumentRow]:
        """What links an item with the chosen category and access (runs on a worker)."""
        ws, org, project, account = (self._workspace, self._org, self._project_id,
                                     self.account_id)
        category, access = self.category.category() or "other", self.access.access_level()

        def link(item: DriveItem) -> DocumentRow:
            title = item.name if item.is_folder else title_of(item.name)
            edit = DocumentEdit(title[:documents.MAX_TITLE] or item.id, category, access)
            return gdrive_links.link_item(ws, org, project, item, edit, account_id=account)

        return link

    def link_selected(self) -> None:
        item = self.table.selected_item()
        if item is None:
            return
        link = self._linker()
        self._runner.run(lambda: link(item), on_done=self._linked, on_error=self._failed)

    def _linked(self, row: DocumentRow) -> None:
        self.banner.show_message(self.tr("“{title}” was linked to the project.").format(
            title=row.title), kind="ok", timeout_ms=8000)
        self.sig_linked.emit(row)

    def upload_file(self) -> None:
        """Upload a chosen file into the folder shown, then link it to the project."""
        drive = self._drive
        if drive is None or (self._upload is not None and not self._upload.done):
            return
        path = self.choose_file()
        if path is None:
            return
        folder, chunk, link = self.folder_id, self.upload_chunk_size, self._linker()

        def uploaded(row: DocumentRow) -> None:
            self._show_upload(None)
            self._linked(row)
            self.reload()

        def failed(error: BaseException) -> None:
            self._show_upload(None)
            self._failed(error)

        self._show_upload(self.tr("Uploading “{name}” to Drive…").format(name=path.name))
        self._upload = self._runner.run_long(
            lambda state: _upload_and_link(drive, path, folder, chunk, state, link),
            on_progress=self.upload_status.set_fraction, on_done=uploaded, on_error=failed,
            on_cancelled=lambda: self._show_upload(None))
        self._update_buttons()

    def cancel_upload(self) -> None:
        if self._upload is not None:
            self._upload.cancel()

    def _show_upload(self, text: str | None) -> None:
        self.upload_status.show_transfer(text)
        if text is None:
            self._upload = None
        self._update_buttons()

    # -- problems -----------------------------------------------------------------------------

    def _failed(self, error: BaseException) -> None:
        self.loaded = True
        self.more_button.setEnabled(True)
        if isinstance(error, GrantRevokedError):
            self._drive = None
            self._update_buttons()
            self.banner.show_message(describe_error(error), kind="error",
                                     action=self.tr("Reconnect…"),
                                     on_action=self.show_accounts)
        else:
            self.banner.show_message(describe_error(error), kind="error")

    def done(self, result: int) -> None:
        self.cancel_upload()
        super().done(result)
