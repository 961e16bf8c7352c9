"""Asking why: moving a project back or skipping ahead needs a reason (the database checks)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

MAX_REASON = 2000


class ReasonDialog(QDialog):
    """A reason (required) and an optional comment; OK stays off until a reason is typed."""

    def __init__(self, title: str, explanation: str, *, ok_text: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        self.explanation = QLabel(explanation)
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.explanation)
        layout.addWidget(QLabel(self.tr("Reason (kept in the project's history):")))
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText(self.tr("For example: the customer sent a new drawing"))
        self.reason.setFixedHeight(72)
        layout.addWidget(self.reason)
        layout.addWidget(QLabel(self.tr("Comment (optional):")))
        self.comment = QPlainTextEdit()
        self.comment.setFixedHeight(56)
        layout.addWidget(self.comment)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reason.textChanged.connect(self._update)
        self._update()
        self.reason.setFocus()

    def _update(self) -> None:
        text = self.reason.toPlainText().strip()
        self.ok_button.setEnabled(0 < len(text) <= MAX_REASON)

    def reason_text(self) -> str:
        return self.reason.toPlainText().strip()

    def comment_text(self) -> str | None:
        return self.comment.toPlainText().strip() or None
