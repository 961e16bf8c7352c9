"""OS desktop notifications through the system tray, where the desktop has one.

Where there is no tray (some Linux desktops, the offscreen test platform) nothing is shown:
the bell in the window still counts the notification. Tests inject their own `Notifier`.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QSystemTrayIcon

from factorypulse_desktop.ui.icons import app_icon

__all__ = ["DesktopNotifier", "Notifier"]

SHOW_MS = 8000


class Notifier(Protocol):
    def notify(self, title: str, message: str) -> None: ...


class DesktopNotifier(QObject):
    """Shows a tray balloon / OS notification; made lazily, only if a tray exists."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tray: QSystemTrayIcon | None = None

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def notify(self, title: str, message: str) -> None:
        if not self.available():
            return
        if self._tray is None:
            self._tray = QSystemTrayIcon(app_icon(), self)
            self._tray.setToolTip("Factory Pulse")
            self._tray.show()
        # The OS shows plain text: no markup is interpreted in either string.
        self._tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, SHOW_MS)
