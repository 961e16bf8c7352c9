"""`ProjectsTableModel`: the projects list as a Qt model over keyset pages (DESIGN.md §5).

The model never queries itself: `sig_page_wanted(after)` asks its page to load the next page
through the task runner, and `add_page` / `reset_rows` put the answer in. Sorting asks for a
new first page sorted in SQL (`sig_sort_wanted`), since only the database knows the order of
rows not loaded yet. Live changes replace rows in place (`update_rows`), so the selection and
the scroll position stay where they were.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from factorypulse_desktop.services.projects import ProjectRow
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.formatting import Formatter

_CONTEXT = "ProjectsTableModel"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


PRIORITY_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}
STATUS_LABELS = {"active": "Active", "completed": "Completed", "cancelled": "Cancelled",
                 "on_hold": "On hold"}


class ProjectsTableModel(QAbstractTableModel):
    # (heading, sort key of services.projects.SORTS or None when not sortable)
    COLUMNS: tuple[tuple[str, str | None], ...] = (
        ("Number", "number"), ("Title", "title"), ("Customer", "customer"),
        ("Stage", "stage"), ("Priority", "priority"), ("Due", "due"), ("Value", "value"),
        ("Assignee", None), ("In stage", "days_in_stage"),
    )
    ProjectRole = Qt.ItemDataRole.UserRole + 1

    sig_page_wanted = Signal(object)
    """The view scrolled to the end: load the page after this keyset position."""
    sig_sort_wanted = Signal(str, bool)
    """Sort key and descending: load a new first page in that order."""

    def __init__(self, formatter: Formatter | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ProjectRow] = []
        self._next_after: tuple[Any, ...] | None = None
        self._loading = False
        self.formatter = formatter or Formatter()

    # -- filling ---------------------------------------------------------------------------
    def reset_rows(self, rows: Sequence[ProjectRow], next_after: tuple[Any, ...] | None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._next_after = next_after
        self._loading = False
        self.endResetModel()

    def add_page(self, rows: Sequence[ProjectRow], next_after: tuple[Any, ...] | None) -> None:
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

    def update_rows(self, changed: Sequence[ProjectRow], asked: Sequence[uuid.UUID]) -> None:
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

    def rows(self) -> list[ProjectRow]:
        return list(self._rows)

    def row_of(self, project_id: uuid.UUID) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == project_id), -1)

    def project(self, row: int) -> ProjectRow | None:
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
        row = self.project(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == self.ProjectRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return {1: row.title, 8: _tr("{n} days in this stage").format(n=row.days_in_stage)
                    }.get(column)
        colors = theme.current()
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 5 and row.overdue:
                return QColor(colors.error)
            if column == 8 and row.too_long_in_stage:
                return QColor(colors.warn)
            if column == 4 and row.priority == "critical":
                return QColor(colors.error)
        if role == Qt.ItemDataRole.DecorationRole and column == 3:
            return QColor(row.stage_color)
        if role == Qt.ItemDataRole.FontRole and column == 0:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (6, 8):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: ProjectRow, column: int) -> str | None:
        fmt = self.formatter
        values: tuple[str | None, ...] = (
            row.number, row.title, row.customer or "—", row.stage,
            _tr(PRIORITY_LABELS.get(row.priority, row.priority)),
            fmt.date(row.due_date) if row.due_date else "—",
            fmt.money(row.value) if row.value is not None else "—",
            row.assignee or "—",
            str(row.days_in_stage),
        )
        return values[column]
