"""Approve or reject one or several approvals, with a comment (a rejection must say why)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services.approvals import MAX_COMMENT
from factorypulse_desktop.ui.dialogs.submit_dialog import SubmitDialog


class DecisionDialog(SubmitDialog):
    """`sig_submitted(comment: str)`; for a rejection OK waits until a reason is typed."""

    def __init__(self, decision: str, what: str, *, count: int = 1,
                 parent: QWidget | None = None) -> None:
        rejecting = decision == "rejected"
        super().__init__("", "", parent)
        ok_text = self.tr("Reject") if rejecting else self.tr("Approve")
        self.set_ok_text(ok_text)
        self.setWindowTitle(ok_text if count == 1 else (
            self.tr("Reject {n} approvals") if rejecting
            else self.tr("Approve {n} approvals")).format(n=count))
        self.decision = decision
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        self.what_label = QLabel(what)
        self.what_label.setWordWrap(True)
        self.what_label.setTextFormat(Qt.TextFormat.PlainText)  # titles are typed by people
        layout.addWidget(self.what_label)
        if count > 1:
            layout.addWidget(QLabel(self.tr(
                "All of them are decided together: if any one changed meanwhile, none is.")))
        self.hint_label = QLabel(
            self.tr("A rejection needs a comment: say why, so the requester knows what to "
                    "change.") if rejecting else self.tr("Comment (optional):"))
        self.hint_label.setWordWrap(True)
        layout.addWidget(self.hint_label)
        self.comment = QPlainTextEdit()
        self.comment.setFixedHeight(90)
        layout.addWidget(self.comment)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.comment.textChanged.connect(self._update)
        self._update()
        self.comment.setFocus()

    def _update(self) -> None:
        if self.decision == "rejected":
            self.ok_button.setEnabled(bool(self.comment.toPlainText().strip()))

    def payload(self) -> str:
        words = self.comment.toPlainText().strip()
        if self.decision == "rejected" and not words:
            raise UserFacingError(self.tr("Say why you reject it: the requester needs to know "
                                          "what to change."))
        if len(words) > MAX_COMMENT:
            raise UserFacingError(self.tr("The comment is too long (at most {n} characters)."
                                          ).format(n=MAX_COMMENT))
        return words
