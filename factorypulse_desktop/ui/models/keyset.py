"""`KeysetTableModel`: a Qt table model over rows loaded in keyset pages (DESIGN.md §5).

The model never queries: `sig_page_wanted(after)` asks its page to load the next page through
the task runner and `add_page` / `reset_rows` put the answer in. Sorting asks for a new first
page sorted in SQL (`sig_sort_wanted`), since only the database knows the order of rows not
loaded yet. Live changes replace rows in place (`update_rows`), so the selection and the
scroll position stay where they were. Subclasses name the columns and say what a cell shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)


class _Row(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


RowT = TypeVar("RowT", bound=_Row)


class KeysetTableModel(QAbstractTableModel, Generic[RowT]):
    # (heading, sort key in the service's allowlist, or None when the column cannot sort)
    COLUMNS: tuple[tuple[Any, str | None], ...] = ()

    sig_page_wanted = Signal(object)
    """The view scrolled to the end: load the page after this keyset position."""
    sig_sort_wanted = Signal(str, bool)
    """Sort key and descending: load a new first page in that order."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[RowT] = []
        self._next_after: tuple[Any, ...] | None = None
        self._loading = False

    def column_title(self, section: int) -> str:
        """The heading of a column, translated (subclasses use their own context)."""
        return str(self.COLUMNS[section][0])

    # -- filling ---------------------------------------------------------------------------
    def reset_rows(self, rows: Sequence[RowT], next_after: tuple[Any, ...] | None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._next_after = next_after
        self._loading = False
        self.endResetModel()

    def add_page(self, rows: Sequence[RowT], next_after: tuple[Any, ...] | None) -> None:
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

    def update_rows(self, changed: Sequence[RowT], asked: Sequence[uuid.UUID]) -> None:
        """Rows re-read after a live change: replace them in place; an asked-for row that did
        not come back is no longer visible to this person and leaves the list."""
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

    def rows(self) -> list[RowT]:
        return list(self._rows)

    def row_of(self, row_id: uuid.UUID) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == row_id), -1)

    def row_at(self, row: int) -> RowT | None:
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
            return self.column_title(section)
        return None
