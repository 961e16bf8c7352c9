"""Which events notify me: in the app (the bell and the list) and on the desktop.

The dialog only edits the choices it is given; the page loads and saves them through the task
runner. A desktop notification needs the in-app one (it announces a notification in the list),
so "On the desktop" is off and disabled while "In the app" is off.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services.notifications import Preference

__all__ = ["NotificationPreferencesDialog"]


class NotificationPreferencesDialog(QDialog):
    def __init__(self, prefs: Sequence[Preference], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notificationPreferencesDialog")
        self.setWindowTitle(self.tr("Notification preferences"))
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("Choose what you want to hear about. Desktop notifications "
                               "appear even when Factory Pulse is in the background."))
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(intro)
        grid = QGridLayout()
        grid.addWidget(QLabel(self.tr("When…")), 0, 0)
        grid.addWidget(QLabel(self.tr("In the app")), 0, 1)
        grid.addWidget(QLabel(self.tr("On the desktop")), 0, 2)
        self._prefs = list(prefs)
        self.in_app: dict[str, QCheckBox] = {}
        self.desktop: dict[str, QCheckBox] = {}
        for row, pref in enumerate(self._prefs, start=1):
            label = QLabel(pref.label)
            label.setTextFormat(Qt.TextFormat.PlainText)
            grid.addWidget(label, row, 0)
            in_app, desktop = QCheckBox(), QCheckBox()
            in_app.setAccessibleName(self.tr("%1: in the app").replace("%1", pref.label))
            desktop.setAccessibleName(self.tr("%1: on the desktop").replace("%1", pref.label))
            in_app.setChecked(pref.in_app)
            desktop.setChecked(pref.desktop and pref.in_app)
            desktop.setEnabled(pref.in_app)
            in_app.toggled.connect(lambda on, box=desktop: self._in_app_toggled(box, on))
            grid.addWidget(in_app, row, 1, Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(desktop, row, 2, Qt.AlignmentFlag.AlignCenter)
            self.in_app[pref.event] = in_app
            self.desktop[pref.event] = desktop
        layout.addLayout(grid)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout.addWidget(buttons)

    @staticmethod
    def _in_app_toggled(desktop: QCheckBox, on: bool) -> None:
        desktop.setEnabled(on)
        if not on:
            desktop.setChecked(False)

    def preferences(self) -> list[Preference]:
        """The choices as they stand in the dialog."""
        return [Preference(p.event, p.label, self.in_app[p.event].isChecked(),
                           self.desktop[p.event].isChecked()) for p in self._prefs]
