"""The restore wizard's question: which new database, and the warnings read before restoring."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services.backups import BackupFile

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RestoreDialog(QDialog):
    """Restore stays off until the name is valid and the warnings are acknowledged."""

    def __init__(self, backup: BackupFile, suggested_name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Restore a backup"))
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        layout.addWidget(self._text(self.tr("Backup: {name}").format(name=backup.path.name)))
        if backup.status != "verified":
            warning = self._text(self.tr(
                "This backup has not passed a check (its status is “{status}”). Verify it "
                "first if you can: a restore of a damaged backup stops with nothing restored."
            ).format(status=backup.status))
            warning.setObjectName("warningText")
            layout.addWidget(warning)
        layout.addWidget(self._text(self.tr("Name of the new database:")))
        self.database = QLineEdit(suggested_name)
        self.database.setMaxLength(63)
        layout.addWidget(self.database)
        self.name_problem = self._text("")
        self.name_problem.setObjectName("errorText")
        layout.addWidget(self.name_problem)
        layout.addWidget(self._text(self.tr(
            "• The backup is restored into a NEW database. The database everyone uses now is "
            "not changed, and nobody is signed out.\n"
            "• The restore runs in one step: if anything fails, the new database is removed "
            "again and nothing is half restored.\n"
            "• People whose login does not exist on this database server get one WITHOUT a "
            "password: set a password for them (Administration → People) before they sign in.\n"
            "• Afterwards you can add a connection to the restored database and sign in to it "
            "to check it. Work saved since the backup was made is not in it.")))
        self.understood = QCheckBox(self.tr("I have read this and want to restore"))
        layout.addWidget(self.understood)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Restore"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.database.textChanged.connect(self._update)
        self.understood.toggled.connect(self._update)
        self._update()

    def _text(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        return label

    def _update(self) -> None:
        name = self.database_name()
        valid = bool(_DB_NAME.match(name))
        self.name_problem.setText("" if valid or not name else self.tr(
            "Use lowercase letters, digits and _ only, starting with a letter."))
        self.name_problem.setVisible(not valid and bool(name))
        self.ok_button.setEnabled(valid and self.understood.isChecked())

    def database_name(self) -> str:
        return self.database.text().strip()
