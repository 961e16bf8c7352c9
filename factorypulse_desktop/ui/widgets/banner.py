"""A non-modal message strip at the top of a window: errors in plain words, never a dialog."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from factorypulse_desktop.ui import theme


class Banner(QFrame):
    """Shows one message with an optional action; hides itself when dismissed."""

    sig_action = Signal()
    """The user clicked the action button (e.g. "Retry")."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        self._label = QLabel()
        self._label.setWordWrap(True)
        self._label.setTextFormat(Qt.TextFormat.PlainText)  # messages may quote user text
        self._action = QPushButton()
        self._action.clicked.connect(self._acted)
        self._on_action: Callable[[], None] | None = None
        self._close = QPushButton(self.tr("Dismiss"))
        self._close.clicked.connect(self.hide)
        layout.addWidget(self._label, 1)
        layout.addWidget(self._action)
        layout.addWidget(self._close)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, *, kind: str = "error", action: str | None = None,
                     on_action: Callable[[], None] | None = None, timeout_ms: int = 0) -> None:
        """Show `text`; with `action`, a button that hides the banner and calls `on_action`."""
        self._on_action = on_action if action else None
        colors = theme.current()
        color = {"error": colors.error, "warning": colors.warn, "info": colors.accent,
                 "ok": colors.ok}[kind]
        self.setStyleSheet(
            f"QFrame#banner {{ background: {colors.base}; border: 1px solid {color}; "
            f"border-left: 4px solid {color}; }}"
        )
        self._label.setText(text)
        self._action.setVisible(action is not None)
        if action:
            self._action.setText(action)
        self.show()
        if timeout_ms:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def _acted(self) -> None:
        callback, self._on_action = self._on_action, None
        self.hide()
        if callback is not None:
            callback()
        self.sig_action.emit()

    @property
    def text(self) -> str:
        return self._label.text()
