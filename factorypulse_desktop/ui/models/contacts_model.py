"""`ContactsTableModel`: the contacts list as a Qt model over keyset pages (DESIGN.md §5).

Like the projects model, it never queries itself: `sig_page_wanted(after)` asks the page to
load the next page through the task runner, and `add_page` / `reset_rows` put the answer in.
Sorting asks for a new first page sorted in SQL (`sig_sort_wanted`). Live changes replace
rows in place (`update_rows`), so the selection and the scroll position stay where they were.
Also the wording of contact types shared by the page and its dialogs.
"""

from __future__ import annotations

import uuid
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
    Signal,
)
from PySide6.QtGui import QColor, QFont

from factorypulse_desktop.domain.enums import ContactType
from factorypulse_desktop.services.contacts import ContactRow
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.formatting import Formatter

_CONTEXT = "ContactsTableModel"

_TYPE_LABELS = {
    ContactType.CUSTOMER: QT_TRANSLATE_NOOP(_CONTEXT, "Customer"),
    ContactType.SUPPLIER: QT_TRANSLATE_NOOP(_CONTEXT, "Supplier"),
    ContactType.PARTNER: QT_TRANSLATE_NOOP(_CONTEXT, "Partner"),
    ContactType.INTERNAL: QT_TRANSLATE_NOOP(_CONTEXT, "Internal"),
}


def _tr(text: object) -> str:
    return QCoreApplication.translate(_CONTEXT, str(text))


def type_label(kind: ContactType) -> str:
    """"Customer", "Supplier", "Partner", "Internal"."""
    return _tr(_TYPE_LABELS[ContactType(kind)])


class ContactsTableModel(QAbstractTableModel):
    # (heading, sort key of services.contacts.SORTS or None when not sortable)
    COLUMNS: tuple[tuple[object, str | None], ...] = (
        (QT_TRANSLATE_NOOP(_CONTEXT, "Company"), "company"),
        (QT_TRANSLATE_NOOP(_CONTEXT, "Type"), "type"),
        (QT_TRANSLATE_NOOP(_CONTEXT, "Contact"), None),
        (QT_TRANSLATE_NOOP(_CONTEXT, "City"), "city"),
        (QT_TRANSLATE_NOOP(_CONTEXT, "Country"), "country"),
        (QT_TRANSLATE_NOOP(_CONTEXT, "Updated"), "updated"),
    )
    COLUMN_COMPANY = 0
    COLUMN_UPDATED = 5
    ContactRole = Qt.ItemDataRole.UserRole + 1

    sig_page_wanted = Signal(object)
    """The view scrolled to the end: load the page after this keyset position."""
    sig_sort_wanted = Signal(str, bool)
    """Sort key and descending: load a new first page in that order."""

    def __init__(self, formatter: Formatter | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ContactRow] = []
        self._next_after: tuple[Any, ...] | None = None
        self._loading = False
        self.formatter = formatter or Formatter()

    # -- filling ---------------------------------------------------------------------------
    def reset_rows(self, rows: Sequence[ContactRow], next_after: tuple[Any, ...] | None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._next_after = next_after
        self._loading = False
        self.endResetModel()

    def add_page(self, rows: Sequence[ContactRow], next_after: tuple[Any, ...] | None) -> None:
        known = {r.id for r in self._rows}
        fresh = [r for r in rows if r.id not in known]
        self._loading = False
        self._next_after = next_after
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh)
            self.endInsertRows()

    def page_failed(self) -> None:
        self._loading = False

    def update_rows(self, changed: Sequence[ContactRow], asked: Sequence[uuid.UUID]) -> None:
        """Rows re-read after a change: replace them in place; an asked-for row that did not
        come back is no longer visible to this person and leaves the list."""
        by_id = {r.id: r for r in changed}
        gone = set(asked) - set(by_id)
        for index in range(len(self._rows) - 1, -1, -1):
            if self._rows[index].id in gone:
                self.beginRemoveRows(QModelIndex(), index, index)
                del self._rows[index]
                self.endRemoveRows()
        last = self.columnCount() - 1
        for index, row in enumerate(self._rows):
            new = by_id.get(row.id)
            if new is not None and new != row:
                self._rows[index] = new
                self.dataChanged.emit(self.index(index, 0), self.index(index, last))

    def rows(self) -> list[ContactRow]:
        return list(self._rows)

    def row_of(self, contact_id: uuid.UUID) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == contact_id), -1)

    def contact(self, row: int) -> ContactRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # -- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._next_after is not None and not self._loading

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._loading = True
            self.sig_page_wanted.emit(self._next_after)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self.COLUMNS[column][1] if 0 <= column < len(self.COLUMNS) else None
        if key is not None:
            self.sig_sort_wanted.emit(key, order == Qt.SortOrder.DescendingOrder)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.COLUMNS)):
            return _tr(self.COLUMNS[section][0])
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.contact(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == self.ContactRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.COLUMN_COMPANY:
                tip = row.company_name
                if row.capability_tags:
                    tip += "\n" + ", ".join(row.capability_tags)
                if not row.is_active:
                    tip += "\n" + _tr("Archived")
                return tip
            if column == 2 and row.email:
                return row.email
        if role == Qt.ItemDataRole.ForegroundRole and not row.is_active:
            return QColor(theme.current().muted)
        if role == Qt.ItemDataRole.FontRole and (column == self.COLUMN_COMPANY
                                                 or not row.is_active):
            font = QFont()
            font.setBold(column == self.COLUMN_COMPANY and row.is_active)
            font.setItalic(not row.is_active)
            return font
        return None

    def _display(self, row: ContactRow, column: int) -> str:
        if column == self.COLUMN_COMPANY:
            if row.is_active:
                return row.company_name
            return _tr("{name} (archived)").format(name=row.company_name)
        if column == 1:
            return type_label(row.type)
        if column == 2:
            return row.contact_name or row.email or ""
        if column == 3:
            return row.city or ""
        if column == 4:
            return row.country or ""
        return self.formatter.date(row.updated_at.astimezone().date())
