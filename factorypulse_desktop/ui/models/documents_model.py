"""`DocumentsTableModel`: documents, one row each, for a project's tab and the Documents page.

The wording shared with the document dialogs (categories, access levels, providers, sizes,
dates) lives here too, so every place says the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QIcon

from factorypulse_desktop.services.documents import DocumentRow
from factorypulse_desktop.storage.blobs import size_words
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.row_sync import update_in_place

__all__ = [
    "DocumentsTableModel", "access_label", "category_label", "format_moment", "human_size",
    "provider_label",
]

_CONTEXT = "DocumentsTableModel"

_CATEGORIES = {
    "rfq": QT_TRANSLATE_NOOP(_CONTEXT, "Request for quote"),
    "drawing": QT_TRANSLATE_NOOP(_CONTEXT, "Drawing"),
    "specification": QT_TRANSLATE_NOOP(_CONTEXT, "Specification"),
    "quote": QT_TRANSLATE_NOOP(_CONTEXT, "Quote"),
    "contract": QT_TRANSLATE_NOOP(_CONTEXT, "Contract / order"),
    "bom": QT_TRANSLATE_NOOP(_CONTEXT, "Bill of materials"),
    "inspection": QT_TRANSLATE_NOOP(_CONTEXT, "Inspection"),
    "certificate": QT_TRANSLATE_NOOP(_CONTEXT, "Certificate"),
    "other": QT_TRANSLATE_NOOP(_CONTEXT, "Other"),
}
_ACCESS = {
    "public": QT_TRANSLATE_NOOP(_CONTEXT, "Public"),
    "internal": QT_TRANSLATE_NOOP(_CONTEXT, "Internal"),
    "confidential": QT_TRANSLATE_NOOP(_CONTEXT, "Confidential"),
}
_PROVIDERS = {
    "database": QT_TRANSLATE_NOOP(_CONTEXT, "Stored file"),
    "google_drive": QT_TRANSLATE_NOOP(_CONTEXT, "Google Drive"),
    "dropbox": QT_TRANSLATE_NOOP(_CONTEXT, "Dropbox"),
    "onedrive": QT_TRANSLATE_NOOP(_CONTEXT, "OneDrive"),
    "url": QT_TRANSLATE_NOOP(_CONTEXT, "Link"),
}


def _tr(text: object) -> str:
    return QCoreApplication.translate(_CONTEXT, str(text))


def category_label(category: str) -> str:
    return _tr(_CATEGORIES.get(category, category))


def access_label(level: str) -> str:
    return _tr(_ACCESS.get(level, level))


def provider_label(provider: str) -> str:
    return _tr(_PROVIDERS.get(provider, provider))


def human_size(size: int | None) -> str:
    """A file's size as the rest of the app writes it (blank when unknown)."""
    return "" if size is None else size_words(size)


def format_moment(formatter: Formatter, moment: dt.datetime | None) -> str:
    """A stored time as the person's local date and time."""
    if moment is None:
        return ""
    local = moment.astimezone() if moment.tzinfo else moment
    return f"{formatter.date(local.date())} {local:%H:%M}"


class DocumentsTableModel(QAbstractTableModel):
    """Documents as rows; `update_rows` changes them in place so views keep their selection."""

    COLUMN_TITLE = 0
    COLUMN_CATEGORY = 1
    COLUMN_VERSION = 2
    COLUMN_SIZE = 3
    COLUMN_ACCESS = 4
    COLUMN_UPLOADER = 5
    COLUMN_CHANGED = 6
    COLUMN_PROJECT = 7

    _HEADERS = (
        QT_TRANSLATE_NOOP(_CONTEXT, "Title"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Category"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Version"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Size"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Access"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Uploaded by"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Changed"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Project"),
    )

    DocumentRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, formatter: Formatter, *, with_project: bool = False,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._formatter = formatter
        self._with_project = with_project
        self._rows: list[DocumentRow] = []
        self._file_icon: QIcon | None = None

    # -- public API ---------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[DocumentRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def update_rows(self, rows: Sequence[DocumentRow]) -> None:
        """Bring the rows in line with `rows` in place (changed, removed, new appended)."""
        update_in_place(self, self._rows, rows, lambda r: r.id)

    def rows(self) -> list[DocumentRow]:
        return list(self._rows)

    def row_at(self, index: QModelIndex | QPersistentModelIndex | int) -> DocumentRow:
        row = index if isinstance(index, int) else index.row()
        return self._rows[row]

    def row_of(self, document_id: object) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == document_id), -1)

    # -- Qt overrides -------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid():
            return 0
        return len(self._HEADERS) if self._with_project else len(self._HEADERS) - 1

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < self.columnCount()):
            return _tr(self._HEADERS[section])
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == self.DocumentRole:
            return row
        if role == Qt.ItemDataRole.DecorationRole and column == self.COLUMN_TITLE:
            return self._icon()
        if role == Qt.ItemDataRole.ToolTipRole and column == self.COLUMN_TITLE:
            return "\n".join(t for t in (row.title, row.file_name or row.external_url) if t)
        if role == Qt.ItemDataRole.ForegroundRole and column in (
                self.COLUMN_VERSION, self.COLUMN_SIZE, self.COLUMN_CHANGED):
            return QColor(theme.current().muted)
        return None

    # -- helpers ------------------------------------------------------------------------------

    def _icon(self) -> QIcon:
        if self._file_icon is None:  # drawn once: SVG rendering is not free
            self._file_icon = icons.icon("documents", theme.current().muted)
        return self._file_icon

    def _display(self, row: DocumentRow, column: int) -> str | None:
        if column == self.COLUMN_TITLE:
            return row.title
        if column == self.COLUMN_CATEGORY:
            return category_label(row.category)
        if column == self.COLUMN_VERSION:
            return "" if row.is_link else f"v{row.current_version}"
        if column == self.COLUMN_SIZE:
            return provider_label(row.storage_provider) if row.is_link else human_size(
                row.file_size)
        if column == self.COLUMN_ACCESS:
            return access_label(row.access_level)
        if column == self.COLUMN_UPLOADER:
            return row.uploader or ""
        if column == self.COLUMN_CHANGED:
            return format_moment(self._formatter, row.updated_at)
        if column == self.COLUMN_PROJECT:
            return " ".join(p for p in (row.project_number, row.project_title) if p)
        return None
