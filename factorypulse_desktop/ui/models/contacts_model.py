"""`ContactsTableModel`: the contacts list as a Qt model over keyset pages (DESIGN.md §5).

Like the projects model, it never queries itself: `sig_page_wanted(after)` asks the page to
load the next page through the task runner, and `add_page` / `reset_rows` put the answer in.
Sorting asks for a new first page sorted in SQL (`sig_sort_wanted`). Live changes replace
rows in place (`update_rows`), so the selection and the scroll position stay where they were.
Also the wording of contact types shared by the page and its dialogs.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont

from factorypulse_desktop.domain.enums import ContactType
from factorypulse_desktop.services.contacts import ContactRow
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.keyset import KeysetTableModel

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


class ContactsTableModel(KeysetTableModel[ContactRow]):
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

    def __init__(self, formatter: Formatter | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.formatter = formatter or Formatter()

    def column_title(self, section: int) -> str:
        return _tr(self.COLUMNS[section][0])

    def contact(self, row: int) -> ContactRow | None:
        return self.row_at(row)

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
