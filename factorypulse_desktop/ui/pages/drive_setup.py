"""Administration → Google Drive: the organization's OAuth client (docs/google-drive.md)."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import drive_settings
from factorypulse_desktop.services.drive_settings import DriveSettings
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.forms import add_form_row


class DriveSetupTab(QWidget):
    """Client id, secret (write-only here), the broader read scope, on/off."""

    sig_saved = Signal(object)

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self.settings: DriveSettings | None = None
        self.loaded = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        intro = QLabel(self.tr(
            "Connects this organization's projects with Google Drive. Create an OAuth client "
            "of type “Desktop app” in Google Cloud (the steps are in the admin guide, "
            "docs/google-drive.md) and paste its id and secret here. People then connect "
            "their own Google account; their sign-in stays in their computer's keyring."))
        intro.setObjectName("muted")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.banner = Banner()
        layout.addWidget(self.banner)
        form = QFormLayout()
        self.client_id = QLineEdit()
        self.client_id.setPlaceholderText("123456789012-abc….apps.googleusercontent.com")
        add_form_row(form, self.tr("Client ID"), self.client_id)
        self.client_secret = QLineEdit()
        self.client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        add_form_row(form, self.tr("Client secret"), self.client_secret)
        self.allow_readonly = QCheckBox(self.tr(
            "Also allow reading all Drive files (needed to link files and folders that were "
            "not created or opened with Factory Pulse; Google reviews this access)"))
        self.allow_readonly.setMinimumWidth(0)
        form.addRow("", self.allow_readonly)
        self.active = QCheckBox(self.tr("Active: people may connect and use Google Drive"))
        form.addRow("", self.active)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setObjectName("muted")
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.reload()

    def set_organization(self, organization_id: uuid.UUID) -> None:
        if organization_id != self.organization_id:
            self.organization_id = organization_id
            self.reload()

    def reload(self) -> None:
        ws, org = self._workspace, self.organization_id
        self.save_button.setEnabled(False)
        self._runner.run(lambda: drive_settings.load_drive_settings(ws, org),
                         on_done=lambda found: self._show(org, found),
                         on_error=self._failed, key=f"drive-setup-{id(self)}")

    def _show(self, org: uuid.UUID, found: DriveSettings | None) -> None:
        if org != self.organization_id:
            return
        self.settings = found
        self.client_id.setText(found.client_id if found else "")
        self.client_secret.clear()
        self.client_secret.setPlaceholderText(
            self.tr("Stored — type a new one to replace it") if found and found.has_secret
            else self.tr("Paste the client secret"))
        self.allow_readonly.setChecked(bool(found and found.allow_readonly))
        self.active.setChecked(found.is_active if found else True)
        self.status.setText(self.tr("Not set up yet.") if found is None else
                            self.tr("Set up.") if found.is_active else self.tr("Switched off."))
        self.save_button.setEnabled(True)
        self.loaded = True

    def save(self) -> None:
        ws, org = self._workspace, self.organization_id
        version = self.settings.version if self.settings else None
        secret = self.client_secret.text() or None
        client_id, readonly, active = (self.client_id.text(), self.allow_readonly.isChecked(),
                                       self.active.isChecked())
        self.save_button.setEnabled(False)
        self.status.setText(self.tr("Saving…"))
        self._runner.run(
            lambda: drive_settings.save_drive_settings(
                ws, org, client_id=client_id, client_secret=secret, allow_readonly=readonly,
                is_active=active, expected_version=version),
            on_done=self._saved, on_error=self._failed)

    def _saved(self, saved: DriveSettings) -> None:
        self._show(self.organization_id, saved)
        self.banner.show_message(self.tr("Saved. People can connect Google Drive now.")
                                 if saved.is_active else self.tr("Saved."), kind="ok",
                                 timeout_ms=6000)
        self.sig_saved.emit(saved)

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.status.setText("")
        self.banner.show_message(describe_error(error), kind="error")  # typed values stay
