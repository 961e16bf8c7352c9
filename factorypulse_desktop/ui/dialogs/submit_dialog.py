"""A dialog that stays open while its answer is saved, so nothing typed is lost on an error.

OK does not close it: it emits `sig_submitted(payload)`; the page saves on the task runner and
calls `finish()` when that worked or `fail(message)` to show why not, the text still there.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QWidget

from factorypulse_desktop.domain.errors import UserFacingError


class SubmitDialog(QDialog):
    """Subclasses build their fields, add `self.error_label` and `self.buttons`, and say
    what OK sends in `payload()` (raising `UserFacingError` for what is missing)."""

    sig_submitted = Signal(object)

    def __init__(self, title: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        # The id of what this dialog creates (if it creates something), chosen when it opens
        # and kept while it stays open: OK pressed again after a lost answer sends the same
        # id, so the database recognizes what it already stored (T-NET-03).
        self.new_id = uuid.uuid4()
        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)  # may quote what was typed
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert ok is not None
        self.ok_button: QPushButton = ok
        self.ok_button.setText(ok_text)
        self._ok_text = ok_text
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

    def set_ok_text(self, text: str) -> None:
        self._ok_text = text
        self.ok_button.setText(text)

    def payload(self) -> object:
        raise NotImplementedError

    def submit(self) -> None:
        try:
            value = self.payload()
        except UserFacingError as error:
            self.fail(str(error))
            return
        self.error_label.hide()
        self.ok_button.setEnabled(False)
        self.ok_button.setText(self.tr("Saving…"))
        self.sig_submitted.emit(value)

    def fail(self, message: str) -> None:
        """Show why it did not work; everything typed stays."""
        self.ok_button.setText(self._ok_text)
        self.ok_button.setEnabled(True)
        self.error_label.setText(message)
        self.error_label.show()

    def finish(self) -> None:
        self.accept()
