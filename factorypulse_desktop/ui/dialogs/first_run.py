"""First start: "This computer" (embedded database, first organization and admin) or a server."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import setup
from factorypulse_desktop.services.profiles import ConnectionProfile, ProfileStore
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.forms import add_form_row

LOCAL_PROFILE_NAME = "This computer"


def suggest_slug(name: str) -> str:
    """"Acme Precision, Inc." -> "acme-precision-inc"."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:63] or ""


class FirstRunWizard(QDialog):
    sig_profile_ready = Signal(object)
    """A connection profile was created (`ConnectionProfile`); sign in with it next."""

    def __init__(self, runner: TaskRunner, store: ProfileStore,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._store = store
        self.setWindowTitle(self.tr("Factory Pulse — Set up"))
        self.setWindowIcon(icons.app_icon())
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(14)
        title = QLabel(self.tr("Welcome to Factory Pulse"))
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._choice_page())
        self.pages.addWidget(self._local_page())
        self.pages.addWidget(self._server_page())
        layout.addWidget(self.pages)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.back_button = QPushButton(self.tr("Back"))
        self.back_button.clicked.connect(lambda: self._go(0))
        self.next_button = QPushButton(self.tr("Next"))
        self.next_button.setObjectName("primary")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self._next)
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        layout.addLayout(buttons)
        self._go(0)

    # --- pages ----------------------------------------------------------------------------
    def _choice_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        intro = QLabel(self.tr("Where should Factory Pulse keep its data?"))
        layout.addWidget(intro)
        self.choice = QButtonGroup(page)
        options = (
            ("database", self.tr("This computer"),
             self.tr("A private database on this computer, for one workstation or a trial. "
                     "You create your organization and its first administrator now.")),
            ("server", self.tr("A shared server"),
             self.tr("Your company's PostgreSQL server, shared by every workstation. Your "
                     "administrator gives you its address and your user name.")),
        )
        colors = theme.current()
        for index, (icon_name, label, detail) in enumerate(options):
            radio = QRadioButton(label)
            radio.setIcon(icons.icon(icon_name, colors.accent))
            radio.setStyleSheet("font-weight: 600;")
            self.choice.addButton(radio, index)
            text = QLabel(detail)
            text.setWordWrap(True)
            text.setObjectName("muted")
            text.setContentsMargins(26, 0, 0, 10)
            layout.addWidget(radio)
            layout.addWidget(text)
        self.choice.button(0).setChecked(True)
        return page

    def _local_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.org_name = QLineEdit()
        self.org_name.setPlaceholderText(self.tr("e.g. Acme Precision Manufacturing"))
        self.org_slug = QLineEdit()
        self.org_slug.setPlaceholderText(self.tr("e.g. acme"))
        self.org_name.textEdited.connect(self._suggest_slug)
        self.admin_name = QLineEdit()
        self.admin_username = QLineEdit()
        self.admin_username.setPlaceholderText(self.tr("e.g. j.doe"))
        self.admin_password = QLineEdit()
        self.admin_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.admin_password2 = QLineEdit()
        self.admin_password2.setEchoMode(QLineEdit.EchoMode.Password)
        add_form_row(form, self.tr("Organization"), self.org_name)
        add_form_row(form, self.tr("Short name"), self.org_slug)
        add_form_row(form, self.tr("Your name"), self.admin_name)
        add_form_row(form, self.tr("User name"), self.admin_username)
        add_form_row(form, self.tr("Password"), self.admin_password)
        add_form_row(form, self.tr("Repeat password"), self.admin_password2)
        return page

    def _server_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.server_name = QLineEdit(self.tr("Company server"))
        self.server_host = QLineEdit()
        self.server_host.setPlaceholderText(self.tr("e.g. db.example.com"))
        self.server_port = QSpinBox()
        self.server_port.setRange(1, 65535)
        self.server_port.setValue(5432)
        self.server_database = QLineEdit("factorypulse")
        self.server_tls = QComboBox()
        for mode, label in (("verify-full", self.tr("Required, certificate checked (best)")),
                            ("require", self.tr("Required")),
                            ("prefer", self.tr("If the server offers it")),
                            ("disable", self.tr("Off (only inside a trusted network)"))):
            self.server_tls.addItem(label, mode)
        self.server_tls.setCurrentIndex(2)
        add_form_row(form, self.tr("Name"), self.server_name)
        add_form_row(form, self.tr("Server"), self.server_host)
        add_form_row(form, self.tr("Port"), self.server_port)
        add_form_row(form, self.tr("Database"), self.server_database)
        add_form_row(form, self.tr("Encryption (TLS)"), self.server_tls)
        return page

    # --- behaviour ------------------------------------------------------------------------
    def _suggest_slug(self, name: str) -> None:
        if not self.org_slug.isModified():
            self.org_slug.setText(suggest_slug(name))

    def _go(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.back_button.setVisible(index != 0)
        self.next_button.setText(self.tr("Next") if index == 0 else
                                 self.tr("Create") if index == 1 else self.tr("Save"))
        self._say("")

    def _say(self, text: str, *, error: bool = True) -> None:
        colors = theme.current()
        self.message.setStyleSheet(f"color: {colors.error if error else colors.muted};")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _busy(self, busy: bool, text: str = "") -> None:
        self.pages.setEnabled(not busy)
        self.next_button.setEnabled(not busy)
        self.back_button.setEnabled(not busy)
        if busy:
            self._say(text, error=False)

    def _next(self) -> None:
        page = self.pages.currentIndex()
        if page == 0:
            self._go(1 if self.choice.checkedId() == 0 else 2)
        elif page == 1:
            self._create_local()
        else:
            self._save_server()

    def _create_local(self) -> None:
        if self.admin_password.text() != self.admin_password2.text():
            self._say(self.tr("The two passwords differ."))
            self.admin_password2.setFocus()
            return
        request = setup.LocalSetup(
            organization_name=self.org_name.text().strip(),
            organization_slug=self.org_slug.text().strip(),
            admin_username=self.admin_username.text().strip(),
            admin_display_name=self.admin_name.text().strip(),
            admin_password=self.admin_password.text(),
        )
        profile = ConnectionProfile(name=LOCAL_PROFILE_NAME, kind="embedded",
                                    last_username=request.admin_username)

        def work() -> ConnectionProfile:
            setup.create_local_organization(request)
            self._store.upsert(profile)
            return profile

        self._busy(True, self.tr("Creating the database on this computer…"))
        self._runner.run(work, on_done=self._done, on_error=self._failed)

    def _save_server(self) -> None:
        try:
            profile = ConnectionProfile(
                name=self.server_name.text().strip(), kind="server",
                host=self.server_host.text().strip(), port=self.server_port.value(),
                database=self.server_database.text().strip(),
                sslmode=self.server_tls.currentData())
        except UserFacingError as error:
            self._say(str(error))
            return
        def work() -> ConnectionProfile:
            self._store.upsert(profile)
            return profile

        self._busy(True, self.tr("Saving…"))
        self._runner.run(work, on_done=self._done, on_error=self._failed)

    def _done(self, profile: ConnectionProfile) -> None:
        self._busy(False)
        self.sig_profile_ready.emit(profile)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._busy(False)
        self._say(str(error))
