"""Form helpers shared by the dialogs and pages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget


def add_form_row(form: QFormLayout, text: str, field: QWidget) -> QLabel:
    """A form row whose label is centred on its field (QFormLayout aligns labels at the top)."""
    label = QLabel(text)
    field.ensurePolished()
    label.setMinimumHeight(field.sizeHint().height())
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    label.setBuddy(field)
    form.addRow(label, field)
    return label


def muted_label(text: str = "", *, wrap: bool = True) -> QLabel:
    """Secondary text in the muted colour (theme: objectName "muted"); plain text always,
    since it may hold names people typed."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setObjectName("muted")
    label.setWordWrap(wrap)
    return label
