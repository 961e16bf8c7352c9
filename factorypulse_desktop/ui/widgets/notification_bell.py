"""The bell in the window's toolbar: unread notifications, live, and desktop pop-ups.

`refresh()` reads the count through the task runner (never on the GUI thread);
`on_notifications_changed(ids)` is the ChangeBus subscriber for table "notifications", so a
notification the database writes for this person shows within the live feed's latency.
Notifications that are new since the last refresh pop up on the desktop when the person chose
that for their event (the first refresh only learns what is there: nothing old pops up).
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QToolButton, QWidget

from factorypulse_desktop.services import notifications
from factorypulse_desktop.services.notifications import BellState
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.desktop_notifier import DesktopNotifier, Notifier
from factorypulse_desktop.ui.tasks import TaskRunner

__all__ = ["NotificationBell", "badge_text"]

MAX_SHOWN = 99
BADGE_HEIGHT = 16


def badge_text(count: int) -> str:
    """"" at 0 (no badge), the number up to 99, then "99+"."""
    if count <= 0:
        return ""
    return f"{MAX_SHOWN}+" if count > MAX_SHOWN else str(count)


class NotificationBell(QToolButton):
    """Click to open the notifications page (`sig_open`); the badge shows the unread count."""

    sig_open = Signal()
    sig_count_changed = Signal(int)

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 notifier: Notifier | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationBell")
        self._runner = runner
        self._workspace = workspace
        self._org = organization_id
        self._notifier: Notifier = notifier if notifier is not None else DesktopNotifier(self)
        self._seen: set[uuid.UUID] | None = None  # unread ids already known; None: not yet
        self.count = 0
        colors = theme.current()
        self.setIcon(icons.icon("notifications", colors.muted))
        self.setIconSize(QSize(22, 22))
        self.setAutoRaise(True)
        self.setToolTip(self.tr("Notifications"))
        self.setAccessibleName(self.tr("Notifications"))
        self.badge = QLabel(self)
        self.badge.setObjectName("notificationBadge")
        self.badge.setTextFormat(Qt.TextFormat.PlainText)
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.setStyleSheet(
            f"QLabel#notificationBadge {{ background: {colors.error}; color: #ffffff; "
            f"border-radius: {BADGE_HEIGHT // 2}px; font-size: 10px; font-weight: 600; "
            "padding: 0 4px; }")
        self.badge.hide()
        self.clicked.connect(self.sig_open)

    def sizeHint(self) -> QSize:
        return QSize(40, 36)

    def set_organization(self, organization_id: uuid.UUID) -> None:
        self._org = organization_id
        self._seen = None
        self.refresh()

    def refresh(self) -> None:
        ws, org = self._workspace, self._org
        self._runner.run(lambda: notifications.bell_state(ws, org), on_done=self._show,
                         on_error=lambda _error: None,  # the bell stays as it was
                         key=f"notification-bell-{id(self)}")

    def on_notifications_changed(self, ids: list[uuid.UUID]) -> None:
        self.refresh()

    def _show(self, state: BellState) -> None:
        self.count = state.unread
        text = badge_text(state.unread)
        self.badge.setText(text)
        self.badge.setVisible(bool(text))
        if text:
            self.badge.adjustSize()
            width = max(BADGE_HEIGHT, self.badge.width())
            self.badge.setGeometry(self.width() - width - 1, 1, width, BADGE_HEIGHT)
            self.badge.raise_()
        self.setToolTip(self.tr("Notifications: %n unread", "", state.unread))
        ids = {n.id for n in state.latest}
        if self._seen is not None:
            for note in reversed(state.latest):  # oldest first
                if note.id not in self._seen and note.type in state.desktop_events:
                    self._notifier.notify(note.title, note.message)
        self._seen = ids if self._seen is None else (self._seen | ids)
        self.sig_count_changed.emit(state.unread)

    def resizeEvent(self, event: QResizeEvent) -> None:  # keep the badge in the corner
        super().resizeEvent(event)
        if self.badge.isVisible():
            self.badge.move(self.width() - self.badge.width() - 1, 1)
