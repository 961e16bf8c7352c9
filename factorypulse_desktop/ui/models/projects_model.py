"""`ProjectsTableModel`: the projects list as a Qt model over keyset pages (DESIGN.md §5).

The model never queries itself: `sig_page_wanted(after)` asks its page to load the next page
through the task runner, and `add_page` / `reset_rows` put the answer in. Sorting asks for a
new first page sorted in SQL (`sig_sort_wanted`), since only the database knows the order of
rows not loaded yet. Live changes replace rows in place (`update_rows`), so the selection and
the scroll position stay where they were.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont

from factorypulse_desktop.services.projects import ProjectRow
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.keyset import KeysetTableModel

_CONTEXT = "ProjectsTableModel"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


PRIORITY_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}
STATUS_LABELS = {"active": "Active", "completed": "Completed", "cancelled": "Cancelled",
                 "on_hold": "On hold"}


class ProjectsTableModel(KeysetTableModel[ProjectRow]):
    # (heading, sort key of services.projects.SORTS or None when not sortable)
    COLUMNS: tuple[tuple[str, str | None], ...] = (
        ("Number", "number"), ("Title", "title"), ("Customer", "customer"),
        ("Stage", "stage"), ("Priority", "priority"), ("Due", "due"), ("Value", "value"),
        ("Assignee", None), ("In stage", "days_in_stage"),
    )
    ProjectRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, formatter: Formatter | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.formatter = formatter or Formatter()

    def column_title(self, section: int) -> str:
        return _tr(str(self.COLUMNS[section][0]))

    def project(self, row: int) -> ProjectRow | None:
        return self.row_at(row)

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
