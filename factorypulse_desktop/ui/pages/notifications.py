"""The Notifications page: what the database told me, newest first.

Unread ones are bold; opening one (double-click or Enter) marks it read and, when it is about
a project (or something of a project), asks the window to open that project. Titles and
messages hold people's names and words, so they are shown as plain text only (T-IN-10): tree
items never interpret markup, and no user text goes into a tooltip (Qt guesses rich text
there).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import notifications
from factorypulse_desktop.services.notifications import NotificationRow, Preference
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.dialogs.notification_preferences import (
    NotificationPreferencesDialog,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error

__all__ = ["NotificationsPage"]

PAGE_MARGIN = 24
ROW_ROLE = Qt.ItemDataRole.UserRole


class NotificationsPage(QWidget):
    sig_open_project = Signal(object)  # the project's uuid

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page-notifications")
        self._runner = runner
        self._workspace = workspace
        self._org = organization_id
        self._formatter = formatter
        self.rows: list[NotificationRow] = []
        self.loaded = False
        self.preferences_dialog: NotificationPreferencesDialog | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(PAGE_MARGIN, 18, PAGE_MARGIN, PAGE_MARGIN)
        heading = QLabel(self.tr("Notifications"))
        heading.setObjectName("pageTitle")
        layout.addWidget(heading)

        bar = QHBoxLayout()
        self.filter = QComboBox()
        self.filter.addItem(self.tr("Unread"), True)
        self.filter.addItem(self.tr("All"), False)
        self.filter.setAccessibleName(self.tr("Show"))
        self.filter.currentIndexChanged.connect(lambda _i: self.reload())
        bar.addWidget(self.filter)
        bar.addStretch(1)
        self.mark_all_button = QPushButton(self.tr("Mark all read"))
        self.mark_all_button.clicked.connect(self.mark_all_read)
        bar.addWidget(self.mark_all_button)
        self.preferences_button = QPushButton(self.tr("Preferences…"))
        self.preferences_button.clicked.connect(self.open_preferences)
        bar.addWidget(self.preferences_button)
        layout.addLayout(bar)

        self.list = QTreeWidget()
        self.list.setObjectName("notificationsList")
        self.list.setHeaderLabels([self.tr("Notification"), self.tr("Details"), self.tr("When")])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.list.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.list.setColumnWidth(0, 380)
        self.list.itemActivated.connect(lambda item, _col: self.open_item(item))
        layout.addWidget(self.list, 1)

        foot = QHBoxLayout()
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        foot.addWidget(self.status, 1)
        self.more_button = QPushButton(self.tr("Show older"))
        self.more_button.clicked.connect(self.load_more)
        self.more_button.hide()
        foot.addWidget(self.more_button)
        layout.addLayout(foot)
        self.reload()

    # -- loading -------------------------------------------------------------------------

    @property
    def unread_only(self) -> bool:
        return bool(self.filter.currentData())

    def set_organization(self, organization_id: uuid.UUID) -> None:
        self._org = organization_id
        self.reload()

    def reload(self) -> None:
        ws, org, unread = self._workspace, self._org, self.unread_only
        limit = max(notifications.PAGE, len(self.rows))  # a live reload keeps what was shown
        self._runner.run(lambda: notifications.recent(ws, org, unread_only=unread, limit=limit),
                         on_done=lambda rows: self._fill(rows, limit, append=False),
                         on_error=self._failed, key=f"notifications-page-{id(self)}")

    def load_more(self) -> None:
        if not self.rows:
            return
        ws, org, unread = self._workspace, self._org, self.unread_only
        after, limit = self.rows[-1].cursor, notifications.PAGE
        self._runner.run(
            lambda: notifications.recent(ws, org, unread_only=unread, after=after, limit=limit),
            on_done=lambda rows: self._fill(rows, limit, append=True),
            on_error=self._failed, key=f"notifications-page-{id(self)}")

    def on_notifications_changed(self, ids: list[uuid.UUID]) -> None:
        self.reload()

    def _fill(self, rows: Sequence[NotificationRow], asked: int, *, append: bool) -> None:
        if not append:
            self.list.clear()
            self.rows = []
        for note in rows:
            self.rows.append(note)
            self.list.addTopLevelItem(self._item(note))
        self.more_button.setVisible(len(rows) >= asked)
        self.loaded = True
        if not self.rows:
            self.status.setText(self.tr("No unread notifications.") if self.unread_only
                                else self.tr("No notifications yet."))
        else:
            self.status.setText("")

    def _item(self, note: NotificationRow) -> QTreeWidgetItem:
        item = QTreeWidgetItem([note.title, note.message, self.when(note.created_at)])
        item.setData(0, ROW_ROLE, note.id)
        self._set_bold(item, note.unread)
        return item

    @staticmethod
    def _set_bold(item: QTreeWidgetItem, bold: bool) -> None:
        for column in range(item.columnCount()):
            font = item.font(column)
            font.setBold(bold)
            item.setFont(column, font)

    def when(self, at: dt.datetime) -> str:
        local = at.astimezone()
        time = self._formatter.locale.toString(QTime(local.hour, local.minute),
                                               self._formatter.locale.FormatType.ShortFormat)
        if local.date() == dt.datetime.now().astimezone().date():
            return time
        return f"{self._formatter.date(local.date())} {time}"

    def _failed(self, error: BaseException) -> None:
        self.loaded = True
        self.status.setText(describe_error(error))

    # -- actions -------------------------------------------------------------------------

    def row_of(self, item: QTreeWidgetItem) -> NotificationRow | None:
        wanted = item.data(0, ROW_ROLE)
        return next((r for r in self.rows if r.id == wanted), None)

    def open_item(self, item: QTreeWidgetItem) -> None:
        """Mark it read, then open its project if it has one."""
        note = self.row_of(item)
        if note is None:
            return
        if note.unread:
            self.rows[self.rows.index(note)] = dataclasses.replace(note, unread=False)
            self._set_bold(item, False)
            ws, org = self._workspace, self._org
            self._runner.run(lambda: notifications.mark_read(ws, org, [note.id]),
                             on_error=self._failed)
        if note.opens_project is not None:
            self.sig_open_project.emit(note.opens_project)

    def mark_all_read(self) -> None:
        ws, org = self._workspace, self._org
        self.mark_all_button.setEnabled(False)

        def done(_count: int) -> None:
            self.mark_all_button.setEnabled(True)
            self.reload()

        def failed(error: BaseException) -> None:
            self.mark_all_button.setEnabled(True)
            self._failed(error)

        self._runner.run(lambda: notifications.mark_all_read(ws, org), on_done=done,
                         on_error=failed)

    def open_preferences(self) -> None:
        ws, org = self._workspace, self._org
        self.preferences_button.setEnabled(False)

        def failed(error: BaseException) -> None:
            self.preferences_button.setEnabled(True)
            self._failed(error)

        self._runner.run(lambda: notifications.preferences(ws, org),
                         on_done=self._show_preferences, on_error=failed)

    def _show_preferences(self, prefs: list[Preference]) -> None:
        self.preferences_button.setEnabled(True)
        dialog = NotificationPreferencesDialog(prefs, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._save_preferences(dialog.preferences()))
        dialog.finished.connect(lambda _r: setattr(self, "preferences_dialog", None))
        self.preferences_dialog = dialog
        dialog.open()

    def _save_preferences(self, prefs: list[Preference]) -> None:
        ws, org = self._workspace, self._org
        self.status.setText(self.tr("Saving your preferences…"))
        self._runner.run(lambda: notifications.save_preferences(ws, org, prefs),
                         on_done=lambda _r: self.status.setText(
                             self.tr("Your notification preferences were saved.")),
                         on_error=self._failed)
