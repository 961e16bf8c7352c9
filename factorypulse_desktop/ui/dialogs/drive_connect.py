"""Connecting Google Drive: the person's Google accounts, connect (sign in in the browser),
reconnect and disconnect.

Signing in waits for the browser on a long task with Cancel; the keyring and the database are
reached only on workers. Without a secure keyring the grant lasts this session only, and the
dialog says so (T-OAUTH-10).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.integrations.gdrive.tokens import GrantStore
from factorypulse_desktop.services import gdrive
from factorypulse_desktop.services.gdrive import GOOGLE, ConnectResult, DriveAccount
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui import system_open
from factorypulse_desktop.ui.tasks import TaskHandle, TaskRunner, TaskState, describe_error
from factorypulse_desktop.ui.widgets.asking import ask_yes
from factorypulse_desktop.ui.widgets.banner import Banner

__all__ = ["BrowserOpener", "DriveConnectDialog"]


class BrowserOpener(QObject):
    """Opens an address in the system browser on the GUI thread; callable from any thread
    (the sign-in flow asks for the browser from its worker)."""

    _sig_open = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sig_open.connect(self._open, Qt.ConnectionType.QueuedConnection)

    def __call__(self, url: str) -> None:
        self._sig_open.emit(url)

    @Slot(str)
    def _open(self, url: str) -> None:
        system_open.open_url(QUrl(url))


class DriveConnectDialog(QDialog):
    """The person's Google accounts for this organization, with Connect and Disconnect."""

    sig_connected = Signal(str)
    """A Google account id, after it was connected (or reconnected) on this computer."""

    COLUMN_ACCOUNT, COLUMN_STATUS, COLUMN_ACTION = range(3)

    def __init__(self, runner: TaskRunner, workspace: Workspace, org: uuid.UUID, *,
                 store: GrantStore | None = None, endpoints: gdrive.GoogleEndpoints = GOOGLE,
                 open_browser: Callable[[str], object] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self._org = org
        self._store = store or gdrive.default_store()
        self._endpoints = endpoints
        self._signing_in: TaskHandle | None = None
        self.accounts: list[DriveAccount] = []
        # Replaced in tests: the fake browser, and answers without a modal question.
        self.open_browser: Callable[[str], object] = open_browser or BrowserOpener(self)
        self.confirm: Callable[[str, str], bool] = functools.partial(ask_yes, self)
        self.loaded = False
        self.setWindowTitle(self.tr("Google Drive accounts"))
        self.setMinimumWidth(600)
        self._build()
        self.reload()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        self.banner = Banner()
        layout.addWidget(self.banner)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Google account"), self.tr("Status"), ""])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(self.COLUMN_ACCOUNT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.COLUMN_STATUS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.COLUMN_ACTION, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.empty_label = QLabel(self.tr("No Google account is connected yet."))
        self.empty_label.setObjectName("muted")
        layout.addWidget(self.empty_label)

        waiting = QHBoxLayout()
        self.waiting_label = QLabel(self.tr("Finish signing in in your browser…"))
        self.waiting_bar = QProgressBar()
        self.waiting_bar.setRange(0, 0)
        self.waiting_bar.setMaximumWidth(160)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel_sign_in)
        waiting.addWidget(self.waiting_label, 1)
        waiting.addWidget(self.waiting_bar)
        waiting.addWidget(self.cancel_button)
        layout.addLayout(waiting)

        buttons = QHBoxLayout()
        self.connect_button = QPushButton(self.tr("Connect Google Drive"))
        self.connect_button.setObjectName("primary")
        self.connect_button.clicked.connect(self.connect_drive)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.connect_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self._show_waiting(False)

    # -- the list -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the person's accounts (database and keyring: on a worker)."""
        ws, org, store = self._workspace, self._org, self._store
        self._runner.run(lambda: gdrive.accounts(ws, org, store), on_done=self._fill,
                         on_error=self._show_error, key=f"drive-accounts-{id(self)}")

    def _fill(self, accounts: list[DriveAccount]) -> None:
        self.accounts = accounts
        self.table.setRowCount(len(accounts))
        for row, account in enumerate(accounts):
            name = QTableWidgetItem(account.email or account.account_id)  # plain text
            self.table.setItem(row, self.COLUMN_ACCOUNT, name)
            self.table.setItem(row, self.COLUMN_STATUS, QTableWidgetItem(self.status_text(
                account)))
            self.table.setCellWidget(row, self.COLUMN_ACTION, self._action_button(account))
        # The header sizes columns by their items, not by the buttons placed in them.
        widths = [self.table.cellWidget(r, self.COLUMN_ACTION).sizeHint().width()
                  for r in range(len(accounts))]
        if widths:
            self.table.horizontalHeader().setSectionResizeMode(
                self.COLUMN_ACTION, QHeaderView.ResizeMode.Fixed)
            self.table.setColumnWidth(self.COLUMN_ACTION, max(widths) + 12)
        self.empty_label.setVisible(not accounts)
        self.loaded = True

    def status_text(self, account: DriveAccount) -> str:
        if account.status == "revoked":
            return self.tr("Access was withdrawn: reconnect")
        if account.status == "disconnected":
            return self.tr("Disconnected")
        if not account.on_this_computer:
            return self.tr("Connected on another computer")
        return self.tr("Connected")

    def _action_button(self, account: DriveAccount) -> QPushButton:
        if account.status == "connected" and account.on_this_computer:
            button = QPushButton(self.tr("Disconnect"))
            button.clicked.connect(lambda _checked=False, a=account: self.disconnect_account(a))
        else:
            button = QPushButton(self.tr("Reconnect"))
            button.clicked.connect(lambda _checked=False: self.connect_drive())
        return button

    def action_button(self, account_id: str) -> QPushButton | None:
        """The Disconnect or Reconnect button of an account (for tests)."""
        for row, account in enumerate(self.accounts):
            if account.account_id == account_id:
                widget = self.table.cellWidget(row, self.COLUMN_ACTION)
                return widget if isinstance(widget, QPushButton) else None
        return None

    # -- connect ------------------------------------------------------------------------------

    @property
    def signing_in(self) -> bool:
        return self._signing_in is not None and not self._signing_in.done

    def connect_drive(self) -> None:
        """Sign in in the browser; waits on a long task until Google answers or Cancel."""
        if self.signing_in:
            return
        ws, org, store, endpoints = self._workspace, self._org, self._store, self._endpoints
        opener = self.open_browser

        def run(state: TaskState) -> ConnectResult:
            return gdrive.connect(ws, org, store, open_browser=opener,
                                  cancelled=lambda: state.cancelled, endpoints=endpoints)

        self.banner.hide()
        self._show_waiting(True)
        self._signing_in = self._runner.run_long(
            run, on_done=self._connected, on_error=self._sign_in_failed,
            on_cancelled=self._sign_in_cancelled)

    def cancel_sign_in(self) -> None:
        if self._signing_in is not None:
            self._signing_in.cancel()

    def _connected(self, result: ConnectResult) -> None:
        self._show_waiting(False)
        who = result.account.email or result.account.account_id
        if result.remembered:
            self.banner.show_message(self.tr("Google Drive is connected for {who}.").format(
                who=who), kind="ok")
        else:
            self.banner.show_message(self.tr(
                "Drive sign-in will not be remembered on this computer: it has no secure "
                "keyring. You will connect again next time."), kind="warning")
        self.reload()
        self.sig_connected.emit(result.account.account_id)

    def _sign_in_failed(self, error: BaseException) -> None:
        self._show_waiting(False)
        self._show_error(error)  # OAuthError and DriveNotSetUpError say what to do

    def _sign_in_cancelled(self) -> None:
        self._show_waiting(False)
        self.banner.show_message(self.tr("Signing in was cancelled."), kind="info",
                                 timeout_ms=6000)

    # -- disconnect ---------------------------------------------------------------------------

    def disconnect_account(self, account: DriveAccount) -> None:
        who = account.email or account.account_id
        if not self.confirm(self.tr("Disconnect Google Drive"), self.tr(
                "Disconnect {who}? Linked documents stay in the projects; you can connect "
                "again at any time.").format(who=who)):
            return
        ws, org, store, endpoints = self._workspace, self._org, self._store, self._endpoints

        def done(confirmed: bool) -> None:
            self.banner.show_message(
                self.tr("{who} was disconnected.").format(who=who) if confirmed else self.tr(
                    "{who} was disconnected on this computer. Google could not be reached; "
                    "you can also remove the access in your Google account.").format(who=who),
                kind="ok" if confirmed else "warning")
            self.reload()

        self._runner.run(lambda: gdrive.disconnect(ws, org, account.account_id, store,
                                                   endpoints=endpoints),
                         on_done=done, on_error=self._show_error)

    # -- helpers ------------------------------------------------------------------------------

    def _show_waiting(self, waiting: bool) -> None:
        for widget in (self.waiting_label, self.waiting_bar, self.cancel_button):
            widget.setVisible(waiting)
        self.connect_button.setEnabled(not waiting)

    def _show_error(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error), kind="error")

    def done(self, result: int) -> None:
        self.cancel_sign_in()  # closing stops waiting for the browser
        super().done(result)
