"""Small dialogs of the People tab: add a person, change a role, reset a password.

Each dialog checks what it can before sending, then saves through the task runner and stays
open with the typed input when the database refuses, showing its sentence; it accepts (and
closes) only after the save succeeded. Open them with `open()`, never `exec()`.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import PORTAL_ROLES, Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.validation import check_password, check_username
from factorypulse_desktop.services import admin
from factorypulse_desktop.services.admin import ContactChoice, PersonRow
from factorypulse_desktop.services.auth import Workspace
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.models.people_model import role_label
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.forms import add_form_row

__all__ = ["AddPersonDialog", "ChangeRoleDialog", "ResetPasswordDialog", "add_form_row"]


def checked_password_pair(owner: QWidget, password: QLineEdit, confirm: QLineEdit) -> str:
    """The new password if it is acceptable and typed twice the same; focus the field at fault."""
    text = password.text()
    try:
        check_password(text)
    except UserFacingError:
        password.setFocus()
        raise
    if confirm.text() != text:
        confirm.setFocus()
        confirm.selectAll()
        raise UserFacingError(
            owner.tr("The two passwords differ; type the same one twice."))
    return text

class _PersonDialog(QDialog):
    """Shared frame: a title, a form, a message line, Cancel and a primary button."""

    def __init__(self, runner: TaskRunner, title: str, action: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(24, 20, 24, 18)
        self._layout.setSpacing(12)
        heading = QLabel(title)
        heading.setObjectName("dialogTitle")
        heading.setStyleSheet("font-size: 13pt; font-weight: 600;")
        self._layout.addWidget(heading)
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(10)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._layout.addLayout(self.form)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # may quote typed text
        self.message.hide()
        self._layout.addWidget(self.message)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button = QPushButton(action)
        self.ok_button.setObjectName("primary")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        self._layout.addSpacing(4)
        self._layout.addLayout(buttons)
        self._busy = False

    # -- for subclasses -----------------------------------------------------------------------

    def _inputs(self) -> Sequence[QWidget]:
        return ()

    def _validate(self) -> Callable[[], Any] | None:
        """Check the input; return the task to run, or None after showing what is wrong."""
        raise NotImplementedError

    def _saved(self, result: Any) -> None:
        self.accept()

    # -- behaviour ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._busy

    def show_message(self, text: str, *, error: bool = True) -> None:
        colors = theme.current()
        self.message.setStyleSheet(f"color: {colors.error if error else colors.muted};")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def submit(self) -> None:
        if self._busy:
            return
        try:
            task = self._validate()
        except UserFacingError as error:
            self.show_message(str(error))
            return
        if task is None:
            return
        self._set_busy(True)
        self.show_message(self.tr("Saving…"), error=False)
        self._runner.run(task, on_done=self._on_done, on_error=self._on_error)

    def _on_done(self, result: Any) -> None:
        self._set_busy(False)
        self.show_message("")
        self._saved(result)

    def _on_error(self, error: BaseException) -> None:
        # The typed input stays: the user corrects it and tries again.
        self._set_busy(False)
        self.show_message(describe_error(error))

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in (*self._inputs(), self.ok_button):
            widget.setEnabled(not busy)

    def reject(self) -> None:
        if not self._busy:  # a save on its way cannot be taken back
            super().reject()


def _suggest_username(name: str) -> str:
    """ "Quinn O'Neil" -> "quinn.oneil" (a suggestion; the admin may change it)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    parts = [re.sub(r"[^a-z0-9]", "", p) for p in ascii_name.split()]
    return ".".join(p for p in parts if p)[:63]


def _role_of(data: object, default: Role) -> Role:
    # Item data comes back from Qt as the plain value string.
    try:
        return Role(str(data))
    except ValueError:
        return default


class AddPersonDialog(_PersonDialog):
    """A new login for someone, or a membership for someone who already has one elsewhere."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(runner, self.tr("Add a person"), self.tr("Add person"), parent)
        self._workspace = workspace
        self._organization_id = organization_id
        self._contacts: list[ContactChoice] | None = None
        self._username_edited = False
        self.person_id: uuid.UUID | None = None
        self.added_username = ""
        self._build()

    def _build(self) -> None:
        mode_row = QHBoxLayout()
        mode_row.setSpacing(16)
        self.new_login = QRadioButton(self.tr("New to Factory Pulse"))
        self.existing_login = QRadioButton(self.tr("Already has a user name"))
        self.new_login.setChecked(True)
        self._modes = QButtonGroup(self)
        for button in (self.new_login, self.existing_login):
            self._modes.addButton(button)
            mode_row.addWidget(button)
        mode_row.addStretch(1)
        self.form.addRow(mode_row)

        self.display_name = QLineEdit()
        self.display_name.setPlaceholderText(self.tr("e.g. Quinn Okafor"))
        self.display_name.textEdited.connect(self._suggest)
        self.username = QLineEdit()
        self.username.setPlaceholderText(self.tr("e.g. quinn.okafor"))
        self.username.textEdited.connect(self._username_typed)
        self.email = QLineEdit()
        self.email.setPlaceholderText(self.tr("optional"))
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role_label(role), role.value)
        self.role.setCurrentIndex(self.role.findData(Role.SALES.value))
        self.role.currentIndexChanged.connect(self._role_changed)
        self.company = QComboBox()
        self.company.setPlaceholderText(self.tr("Choose the company they represent"))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("at least 8 characters"))
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)

        add_form_row(self.form, self.tr("Full name"), self.display_name)
        add_form_row(self.form, self.tr("User name"), self.username)
        add_form_row(self.form, self.tr("E-mail"), self.email)
        add_form_row(self.form, self.tr("Role"), self.role)
        add_form_row(self.form, self.tr("Company"), self.company)
        add_form_row(self.form, self.tr("Password"), self.password)
        add_form_row(self.form, self.tr("Repeat password"), self.confirm)
        self.hint = QLabel()
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        self.form.addRow(self.hint)
        self.new_login.toggled.connect(self._mode_changed)
        self._mode_changed()
        self._role_changed()

    def _inputs(self) -> Sequence[QWidget]:
        return (self.new_login, self.existing_login, self.display_name, self.username,
                self.email, self.role, self.company, self.password, self.confirm)

    # -- behaviour ----------------------------------------------------------------------------

    @property
    def creating(self) -> bool:
        return self.new_login.isChecked()

    def _mode_changed(self) -> None:
        creating = self.creating
        for widget in (self.display_name, self.email, self.password, self.confirm):
            self.form.setRowVisible(widget, creating)
        self.hint.setText(
            self.tr("They sign in with this user name and password; tell them the password "
                    "in person. They can change it later.") if creating else
            self.tr("For someone who already works in another organization of this database: "
                    "they keep their password and can switch between organizations."))
        self.adjustSize()

    def _role_changed(self) -> None:
        role = self.selected_role
        portal = role in PORTAL_ROLES
        self.form.setRowVisible(self.company, portal)
        if portal:
            if self._contacts is None:
                self._load_contacts()
            else:
                self._fill_companies()
        self.adjustSize()

    def _load_contacts(self) -> None:
        self.company.setEnabled(False)
        self.company.setPlaceholderText(self.tr("Loading companies…"))
        workspace, org = self._workspace, self._organization_id
        self._runner.run(lambda: admin.list_portal_contacts(workspace, org),
                         on_done=self._contacts_loaded, on_error=self._on_error,
                         key=f"portal-contacts-{id(self)}")

    def _contacts_loaded(self, contacts: list[ContactChoice]) -> None:
        self._contacts = contacts
        self.company.setEnabled(not self._busy)
        self._fill_companies()

    def _fill_companies(self) -> None:
        kind = "customer" if self.selected_role is Role.CUSTOMER else "supplier"
        chosen = self.company.currentData()
        self.company.clear()
        for contact in self._contacts or []:
            if contact.kind == kind:
                self.company.addItem(contact.company_name, str(contact.contact_id))
        self.company.setCurrentIndex(self.company.findData(chosen) if chosen else -1)
        self.company.setPlaceholderText(
            self.tr("Choose the company they represent") if self.company.count() else
            self.tr("No {kind} companies yet: add one under Contacts first").format(kind=kind))

    def _suggest(self, name: str) -> None:
        if not self._username_edited:
            self.username.setText(_suggest_username(name))

    def _username_typed(self, text: str) -> None:
        self._username_edited = bool(text)

    @property
    def selected_role(self) -> Role:
        return _role_of(self.role.currentData(), Role.SALES)

    def _validate(self) -> Callable[[], uuid.UUID] | None:
        username = self.username.text().strip()
        role = self.selected_role
        if not username:
            self.username.setFocus()
            raise UserFacingError(self.tr("Type the user name they will sign in with."))
        try:
            check_username(username)
        except UserFacingError:
            self.username.setFocus()
            raise
        chosen = self.company.currentData() if role in PORTAL_ROLES else None
        contact = uuid.UUID(str(chosen)) if chosen else None
        if role in PORTAL_ROLES and contact is None:
            self.company.setFocus()
            raise UserFacingError(self.tr(
                "A {role} login must be linked to the company it represents: choose the "
                "company.").format(role=role.value))
        workspace, org = self._workspace, self._organization_id
        if not self.creating:
            return lambda: admin.add_existing_person(workspace, org, username, role,
                                                     contact_id=contact)
        name = self.display_name.text().strip()
        if not name:
            self.display_name.setFocus()
            raise UserFacingError(self.tr("Type the person's full name."))
        email = admin.check_email(self.email.text())
        password = checked_password_pair(self, self.password, self.confirm)
        return lambda: admin.add_person(workspace, org, username, role, password, name, email,
                                        contact_id=contact)

    def _saved(self, result: Any) -> None:
        self.person_id = result
        self.added_username = self.username.text().strip()
        self.accept()

    def _on_error(self, error: BaseException) -> None:
        super()._on_error(error)
        if "user name" in str(error):
            self.username.setFocus()
            self.username.selectAll()


class ChangeRoleDialog(_PersonDialog):
    """Choose another role for one member."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 person: PersonRow, parent: QWidget | None = None) -> None:
        super().__init__(runner, self.tr("Change role"), self.tr("Change role"), parent)
        self._workspace = workspace
        self._organization_id = organization_id
        self.person = person
        who = QLabel(self.tr("{name} ({username}) is now: {role}.").format(
            name=person.display_name, username=person.username, role=role_label(person.role)))
        who.setWordWrap(True)
        who.setTextFormat(Qt.TextFormat.PlainText)
        self.form.addRow(who)
        self.role = QComboBox()
        for role in Role:
            # Customers and suppliers need the company they represent: only a login linked to
            # one can take those roles.
            if role in PORTAL_ROLES and person.contact_id is None:
                continue
            self.role.addItem(role_label(role), role.value)
        self.role.setCurrentIndex(self.role.findData(person.role.value))
        add_form_row(self.form, self.tr("New role"), self.role)
        note = QLabel(self.tr("The new role applies the next time they sign in."))
        note.setObjectName("muted")
        note.setWordWrap(True)
        self.form.addRow(note)

    def _inputs(self) -> Sequence[QWidget]:
        return (self.role,)

    @property
    def selected_role(self) -> Role:
        return _role_of(self.role.currentData(), self.person.role)

    def _validate(self) -> Callable[[], None] | None:
        role = self.selected_role
        if role is self.person.role:
            raise UserFacingError(self.tr("Choose a different role, or cancel."))
        workspace, org, person_id = self._workspace, self._organization_id, self.person.person_id
        return lambda: admin.change_role(workspace, org, person_id, role)


class ResetPasswordDialog(_PersonDialog):
    """Give a member a new password (they are not told automatically)."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, person: PersonRow,
                 parent: QWidget | None = None) -> None:
        super().__init__(runner, self.tr("Reset password"), self.tr("Set password"), parent)
        self._workspace = workspace
        self.person = person
        who = QLabel(self.tr("A new password for {name} ({username}).").format(
            name=person.display_name, username=person.username))
        who.setWordWrap(True)
        who.setTextFormat(Qt.TextFormat.PlainText)
        self.form.addRow(who)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("at least 8 characters"))
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_password = QCheckBox(self.tr("Show the password"))
        self.show_password.toggled.connect(self._show_password)
        add_form_row(self.form, self.tr("New password"), self.password)
        add_form_row(self.form, self.tr("Repeat password"), self.confirm)
        self.form.addRow("", self.show_password)
        note = QLabel(self.tr("Tell them the new password in person. The old one stops working "
                              "at once; signed-in sessions stay open."))
        note.setObjectName("muted")
        note.setWordWrap(True)
        self.form.addRow(note)

    def _inputs(self) -> Sequence[QWidget]:
        return (self.password, self.confirm, self.show_password)

    def _show_password(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.password.setEchoMode(mode)
        self.confirm.setEchoMode(mode)

    def _validate(self) -> Callable[[], None] | None:
        password = checked_password_pair(self, self.password, self.confirm)
        workspace, person = self._workspace, self.person
        return lambda: admin.reset_password(workspace, person.person_id, person.username,
                                            password)
