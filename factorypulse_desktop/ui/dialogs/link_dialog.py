"""Adding a link (Google Drive, Dropbox, OneDrive or any https page) as a document.

The address is checked as it is typed (`domain.links.parse_link`, pure and fast): the dialog
names the host the browser will really visit, or says in one sentence why the link is refused
(T-IN-08). Saving runs on the task runner; a refused save keeps the dialog open with what was
typed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.links import ExternalLink, LinkError, parse_link
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import documents
from factorypulse_desktop.services.documents import DocumentEdit, DocumentRow, check_edit
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.dialogs.upload_dialog import (
    AccessLevelField,
    CategoryBox,
    error_label,
    title_of,
)
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.forms import add_form_row

__all__ = ["LinkDialog", "suggested_title"]


def suggested_title(link: ExternalLink) -> str:
    """A title from a plain link's last path segment; provider links carry only ids."""
    if link.provider != "url":
        return ""
    segment = PurePosixPath(unquote(urlsplit(link.url).path)).name
    return title_of(segment) if segment else ""


class LinkDialog(QDialog):
    """Paste a link, check where it goes, describe it, add it. Open with `open()`."""

    sig_added = Signal(object)
    """The stored `DocumentRow`, after the link was saved (the dialog then closes)."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 project_id: uuid.UUID | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self._org = organization_id
        self._project_id = project_id
        self._link: ExternalLink | None = None
        self._auto_title = ""  # the title we filled in; replaced while the person keeps it
        self._saving = False
        # The new document's id, chosen when the dialog opens: Add pressed again after a lost
        # answer sends the same id, so the link is found, not stored twice (T-NET-03).
        self.new_id = uuid.uuid4()
        self.setWindowTitle(self.tr("Add a link"))
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        layout.addLayout(self._build_form())
        self.error = error_label()
        layout.addWidget(self.error)
        layout.addLayout(self._build_buttons())
        self.url.textChanged.connect(self._url_changed)
        self.title.textChanged.connect(self._update)
        self._url_changed()
        self.url.setFocus()

    def _build_form(self) -> QFormLayout:
        form = QFormLayout()
        self.url = QLineEdit()
        self.url.setPlaceholderText(self.tr("Paste the link, e.g. https://drive.google.com/…"))
        add_form_row(form, self.tr("Link:"), self.url)
        # Shows the real host, or why the link is refused; always plain text (T-IN-10).
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setTextFormat(Qt.TextFormat.PlainText)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("", self.where)
        self.title = QLineEdit()
        add_form_row(form, self.tr("Title:"), self.title)
        self.category = CategoryBox()
        add_form_row(form, self.tr("Category:"), self.category)
        self.access = AccessLevelField()
        add_form_row(form, self.tr("Who may see it:"), self.access)
        self.permission = QComboBox()
        for label, value in ((self.tr("Not recorded"), None), (self.tr("View only"), "view"),
                             (self.tr("Can comment"), "comment"), (self.tr("Can edit"), "edit")):
            self.permission.addItem(label, value)
        self.permission.setToolTip(self.tr("What the link lets whoever opens it do, as it was "
                                           "shared"))
        add_form_row(form, self.tr("The link allows:"), self.permission)
        expiry = QHBoxLayout()
        self.expires_set = QCheckBox(self.tr("Stops working on"))
        self.expires = QDateEdit(QDate.currentDate().addMonths(1))
        self.expires.setCalendarPopup(True)
        self.expires.setDisplayFormat("yyyy-MM-dd")
        self.expires.setMinimumDate(QDate.currentDate())
        self.expires.setEnabled(False)
        self.expires_set.toggled.connect(self.expires.setEnabled)
        expiry.addWidget(self.expires_set)
        expiry.addWidget(self.expires)
        expiry.addStretch(1)
        form.addRow(self.tr("Expires:"), expiry)
        self.description = QPlainTextEdit()
        self.description.setFixedHeight(64)
        add_form_row(form, self.tr("Description:"), self.description)
        return form

    def _build_buttons(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.reject)
        self.add_button = QPushButton(self.tr("Add link"))
        self.add_button.setObjectName("primary")
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(self.save)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.add_button)
        return buttons

    # -- public API -----------------------------------------------------------------------

    @property
    def link(self) -> ExternalLink | None:
        """The checked link, or None while the address is refused."""
        return self._link

    def save(self) -> None:
        """Store the link as a document (on the task runner); stays open if it is refused."""
        link = self._link
        if link is None or self._saving:
            return
        try:
            edit = check_edit(DocumentEdit(
                self.title.text(), self.category.category() or "other",
                self.access.access_level(), (), self.description.toPlainText()))
        except FieldError as error:
            self._show_error(str(error))
            return
        self._show_error("")
        self._saving = True
        self._update()
        ws, org, project = self._workspace, self._org, self._project_id
        permission = self.permission.currentData()
        picked = self.expires.date()
        expires = (dt.date(picked.year(), picked.month(), picked.day())
                   if self.expires_set.isChecked() else None)
        new_id = self.new_id
        self._runner.run(lambda: documents.add_link(ws, org, project, link, edit,
                                                    permission=permission, expires_on=expires,
                                                    document_id=new_id),
                         on_done=self._saved, on_error=self._refused)

    # -- reacting -------------------------------------------------------------------------

    def _url_changed(self) -> None:
        text = self.url.text()
        colors = theme.current()
        try:
            self._link = parse_link(text)
        except LinkError as error:
            self._link = None
            # An empty field is not a mistake yet: a hint, not an error.
            self.where.setText(str(error) if text.strip() else "")
            self.where.setStyleSheet(f"color: {colors.error};")
        else:
            self.where.setText(self._describe(self._link))
            self.where.setStyleSheet(f"color: {colors.muted};")
            title = self.title.text().strip()
            if not title or title == self._auto_title:
                self._auto_title = suggested_title(self._link)
                self.title.setText(self._auto_title)
        self._update()

    def _describe(self, link: ExternalLink) -> str:
        providers = {"google_drive": self.tr("Google Drive"), "dropbox": self.tr("Dropbox"),
                     "onedrive": self.tr("OneDrive"), "url": self.tr("Web page")}
        kinds = {"file": self.tr("file"), "folder": self.tr("folder"),
                 "shared_link": self.tr("shared link"), "embed": self.tr("view")}
        what = providers.get(link.provider, link.provider)
        if link.provider != "url":
            what = f"{what} {kinds.get(link.link_type, link.link_type)}"
        # Both forms when they differ, so a look-alike host shows itself.
        host = link.host if link.host == link.host_ascii else (
            f"{link.host} ({link.host_ascii})")
        return f"{what} · {host}"

    def _update(self) -> None:
        ready = self._link is not None and bool(self.title.text().strip())
        self.add_button.setEnabled(ready and not self._saving)
        for field in (self.url, self.title, self.category, self.access, self.permission,
                      self.expires_set, self.description):
            field.setEnabled(not self._saving)

    def _saved(self, row: DocumentRow) -> None:
        self._saving = False
        self.sig_added.emit(row)
        self.accept()

    def _refused(self, error: BaseException) -> None:
        self._saving = False
        self._show_error(describe_error(error))
        self._update()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
