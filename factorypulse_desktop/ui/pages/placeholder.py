"""A page whose content arrives with a later issue: it says what will be there."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from factorypulse_desktop.ui import icons, theme


class PlaceholderPage(QWidget):
    def __init__(self, title: str, icon_name: str, description: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"page-{icon_name}")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 28, 32, 28)
        heading = QLabel(title)
        heading.setObjectName("pageTitle")
        outer.addWidget(heading)
        outer.addSpacing(12)
        card = QFrame()
        card.setObjectName("card")
        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 28, 28, 28)
        inner.setSpacing(10)
        picture = QLabel()
        picture.setPixmap(icons.icon(icon_name, theme.current().accent).pixmap(48, 48))
        inner.addWidget(picture, 0, Qt.AlignmentFlag.AlignLeft)
        self.description = QLabel(description)
        self.description.setWordWrap(True)
        self.description.setObjectName("muted")
        inner.addWidget(self.description)
        outer.addWidget(card)
        outer.addStretch(1)
