"""Small questions to the person: a folder to save into, files to upload, yes or cancel.

Pages keep these as replaceable attributes, so tests answer without a modal dialog.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


def ask_files(parent: QWidget) -> list[Path]:
    chosen, _filter = QFileDialog.getOpenFileNames(parent, parent.tr("Choose files"))
    return [Path(name) for name in chosen]


def ask_folder(parent: QWidget) -> Path | None:
    chosen = QFileDialog.getExistingDirectory(parent, parent.tr("Save the file in"))
    return Path(chosen) if chosen else None


def ask_yes(parent: QWidget, title: str, question: str) -> bool:
    """Yes or Cancel (the default); the question may quote titles and host names."""
    box = QMessageBox(QMessageBox.Icon.Question, title, question,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                      parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box.exec() == QMessageBox.StandardButton.Yes
