"""`PeopleTableModel`: the members of an organization, one row each (Vorta-style table model).

A small, fully loaded list: the page sorts and filters it with a `QSortFilterProxyModel`
(DESIGN.md 5 allows that for small lists). Also the role and status wording shared by the
administration dialogs.
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
)
from PySide6.QtGui import QColor, QFont

from factorypulse_desktop.domain.enums import PersonStatus, Role
from factorypulse_desktop.services.admin import PersonRow
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.models.row_sync import update_in_place

_CONTEXT = "PeopleTableModel"

_ROLE_LABELS = {
    Role.ADMIN: QT_TRANSLATE_NOOP(_CONTEXT, "Administrator"),
    Role.MANAGEMENT: QT_TRANSLATE_NOOP(_CONTEXT, "Management"),
    Role.SALES: QT_TRANSLATE_NOOP(_CONTEXT, "Sales"),
    Role.ENGINEERING: QT_TRANSLATE_NOOP(_CONTEXT, "Engineering"),
    Role.QA: QT_TRANSLATE_NOOP(_CONTEXT, "Quality (QA)"),
    Role.PRODUCTION: QT_TRANSLATE_NOOP(_CONTEXT, "Production"),
    Role.PROCUREMENT: QT_TRANSLATE_NOOP(_CONTEXT, "Procurement"),
    Role.SUPPLIER: QT_TRANSLATE_NOOP(_CONTEXT, "Supplier (portal)"),
    Role.CUSTOMER: QT_TRANSLATE_NOOP(_CONTEXT, "Customer (portal)"),
}
_STATUS_LABELS = {
    PersonStatus.ACTIVE: QT_TRANSLATE_NOOP(_CONTEXT, "Active"),
    PersonStatus.INACTIVE: QT_TRANSLATE_NOOP(_CONTEXT, "Inactive"),
    PersonStatus.PENDING: QT_TRANSLATE_NOOP(_CONTEXT, "Pending"),
    PersonStatus.SUSPENDED: QT_TRANSLATE_NOOP(_CONTEXT, "Suspended"),
}


def _tr(text: object) -> str:
    # QT_TRANSLATE_NOOP only marks the text for lupdate; it is translated here.
    return QCoreApplication.translate(_CONTEXT, str(text))


def role_label(role: Role) -> str:
    """The role as people call it ("Quality (QA)", "Customer (portal)")."""
    return _tr(_ROLE_LABELS[role])


def status_label(status: PersonStatus) -> str:
    return _tr(_STATUS_LABELS[status])


class PeopleTableModel(QAbstractTableModel):
    """Members of one organization; `set_rows` replaces them all."""

    COLUMN_NAME = 0
    COLUMN_USERNAME = 1
    COLUMN_ROLE = 2
    COLUMN_STATUS = 3
    COLUMN_EMAIL = 4

    _HEADERS = (
        QT_TRANSLATE_NOOP(_CONTEXT, "Name"),
        QT_TRANSLATE_NOOP(_CONTEXT, "User name"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Role"),
        QT_TRANSLATE_NOOP(_CONTEXT, "Status"),
        QT_TRANSLATE_NOOP(_CONTEXT, "E-mail"),
    )

    SortRole = Qt.ItemDataRole.UserRole + 1
    """Case-insensitive text (name, role label...) for the sort proxy."""
    PersonRole = Qt.ItemDataRole.UserRole + 2
    """The row's `PersonRow`."""

    def __init__(self, me: uuid.UUID | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[PersonRow] = []
        self._me = me  # the signed-in person, marked "(you)"

    # -- public API ---------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[PersonRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def update_rows(self, rows: Sequence[PersonRow]) -> None:
        """Bring the rows in line with `rows` in place: views keep selection and scroll.

        Changed people are updated, people who are gone removed, new ones appended (a sorting
        proxy puts them in their place).
        """
        update_in_place(self, self._rows, rows, lambda r: r.person_id)

    def rows(self) -> list[PersonRow]:
        return list(self._rows)

    def person(self, row: int) -> PersonRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, person_id: uuid.UUID) -> int:
        """The row of `person_id`, or -1."""
        return next((i for i, r in enumerate(self._rows) if r.person_id == person_id), -1)

    # -- Qt overrides -------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self._HEADERS)):
            return _tr(self._HEADERS[section])
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        person = self.person(index.row()) if index.isValid() else None
        if person is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(person, column)
        if role == self.SortRole:
            return (self._display(person, column) or "").casefold()
        if role == self.PersonRole:
            return person
        if role == Qt.ItemDataRole.ForegroundRole:
            colors = theme.current()
            if not person.is_active:
                return QColor(colors.muted)
            if column == self.COLUMN_STATUS:
                return QColor(colors.ok)
            if column in (self.COLUMN_USERNAME, self.COLUMN_EMAIL):
                return QColor(colors.muted)
            return None
        if role == Qt.ItemDataRole.FontRole and column == self.COLUMN_NAME and self._is_me(person):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and column == self.COLUMN_NAME:
            parts = [p for p in (person.title, person.department) if p]
            return " · ".join(parts) or None
        return None

    # -- helpers ------------------------------------------------------------------------------

    def _is_me(self, person: PersonRow) -> bool:
        return self._me is not None and person.person_id == self._me

    def _display(self, person: PersonRow, column: int) -> str | None:
        if column == self.COLUMN_NAME:
            return _tr("{name} (you)").format(name=person.display_name) if self._is_me(
                person) else person.display_name
        if column == self.COLUMN_USERNAME:
            return person.username
        if column == self.COLUMN_ROLE:
            return role_label(person.role)
        if column == self.COLUMN_STATUS:
            return status_label(person.status)
        if column == self.COLUMN_EMAIL:
            return person.email or ""
        return None
