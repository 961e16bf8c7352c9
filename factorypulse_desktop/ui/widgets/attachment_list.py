"""Files chosen to go with a form (the intake's drawings, specifications, BOM).

Only paths are kept here — nothing is read from the disk on the GUI thread; the upload
dialog walks folders and sends the files once the form is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.filenames import display_name
from factorypulse_desktop.ui.widgets.file_drop import FileDropTarget

ChooseFiles = Callable[[QWidget], list[Path]]


def _ask_for_files(parent: QWidget) -> list[Path]:
    names, _filter = QFileDialog.getOpenFileNames(parent, parent.tr("Attach files"))
    return [Path(n) for n in names]


class AttachmentList(QWidget):
    """A short list of files and folders, filled by drag and drop or “Attach files…”."""

    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None, *,
                 choose_files: ChooseFiles = _ask_for_files) -> None:
        super().__init__(parent)
        self._choose_files = choose_files
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.list = QListWidget()
        self.list.setObjectName("attachments")
        self.list.setMaximumHeight(96)
        self.list.setToolTip(self.tr("Drop drawings, specifications or the BOM here"))
        self.list.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.list)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.add_button = QPushButton(self.tr("Attach files…"))
        self.add_button.setAutoDefault(False)
        self.add_button.clicked.connect(self._add_chosen)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setAutoDefault(False)
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._remove_selected)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        FileDropTarget.install(self.list, self.add_paths)
        self._refresh()

    def paths(self) -> list[Path]:
        return [Path(self.list.item(i).data(Qt.ItemDataRole.UserRole))
                for i in range(self.list.count())]

    def add_paths(self, paths: list[Path]) -> None:
        known = set(self.paths())
        for path in paths:
            if path in known:
                continue
            known.add(path)
            item = QListWidgetItem(display_name(path.name))  # shown as plain text
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(str(path))
            self.list.addItem(item)
        self._refresh()
        self.sig_changed.emit()

    def clear(self) -> None:
        self.list.clear()
        self._refresh()
        self.sig_changed.emit()

    def _add_chosen(self) -> None:
        chosen = self._choose_files(self)
        if chosen:
            self.add_paths(chosen)

    def _remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self._refresh()
        self.sig_changed.emit()

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(bool(self.list.selectedItems()))

    def _refresh(self) -> None:
        # An empty list stays one line high with a hint; files make it grow up to 4 lines.
        if self.list.count() == 0:
            self.list.setMinimumHeight(0)
            self.list.setFixedHeight(34)
        else:
            self.list.setMinimumHeight(34)
            self.list.setFixedHeight(min(96, 10 + 22 * self.list.count()))
        self.remove_button.setEnabled(bool(self.list.selectedItems()))
