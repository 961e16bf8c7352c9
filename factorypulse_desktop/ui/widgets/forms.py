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
