"""Bringing a table model's rows in line with a fresh read, in place.

A live refresh must not reset the model: views keep their selection and scroll position when
changed rows are updated, rows that are gone removed and new ones appended.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from PySide6.QtCore import QAbstractItemModel, QModelIndex

Row = TypeVar("Row")


def update_in_place(model: QAbstractItemModel, current: list[Row], fresh: Sequence[Row],
                    key: Callable[[Row], Hashable]) -> None:
    """Make `current` (the model's own list) equal `fresh`, signalling each step."""
    wanted = {key(r): r for r in fresh}
    for index in range(len(current) - 1, -1, -1):
        if key(current[index]) not in wanted:
            model.beginRemoveRows(QModelIndex(), index, index)
            del current[index]
            model.endRemoveRows()
    last_column = model.columnCount() - 1
    for index, old in enumerate(current):
        new = wanted.pop(key(old))
        if new != old:
            current[index] = new
            model.dataChanged.emit(model.index(index, 0), model.index(index, last_column))
    if wanted:
        first = len(current)
        model.beginInsertRows(QModelIndex(), first, first + len(wanted) - 1)
        current.extend(wanted.values())
        model.endInsertRows()
