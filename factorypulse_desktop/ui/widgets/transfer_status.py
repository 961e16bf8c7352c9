"""A status line for one running transfer: what is moving, a progress bar, Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class TransferStatus(QWidget):
    """Hidden while nothing moves; `show_transfer(text)` shows it with a busy bar."""

    sig_cancel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # quotes file names
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.sig_cancel)
        row.addWidget(self.label, 1)
        row.addWidget(self.bar)
        row.addWidget(self.cancel_button)
        self.show_transfer(None)

    def show_transfer(self, text: str | None) -> None:
        """Show `text` with a busy bar, or hide the line (None)."""
        self.label.setText(text or "")
        self.bar.setRange(0, 0)
        self.setVisible(text is not None)

    def set_fraction(self, fraction: float | None, _message: str = "") -> None:
        """A task runner's progress: a share done, or None when unknown (busy bar)."""
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 100)
            self.bar.setValue(int(fraction * 100))
