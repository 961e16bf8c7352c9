"""New production order…: quantity, planned dates, operations with work centers, materials.

The choices (projects, work centers, items) are loaded by the caller on the task runner and
handed in. OK checks the form (`services.production.check`) and emits the order; the dialog
stays open until it is saved, so nothing typed is lost on an error (`SubmitDialog`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import production
from factorypulse_desktop.services.production import Choice, NewMaterial, NewOperation, NewOrder
from factorypulse_desktop.ui.dialogs.submit_dialog import SubmitDialog

__all__ = ["NewProductionOrder", "ProductionOrderDialog"]


@dataclass(frozen=True)
class NewProductionOrder:
    project_id: uuid.UUID | None
    order: NewOrder


def _combo(choices: list[Choice], none: str | None = None) -> QComboBox:
    combo = QComboBox()
    if none is not None:
        combo.addItem(none, None)
    for choice in choices:
        combo.addItem(f"{choice.code} — {choice.name}", choice.id)
    return combo


def _day(date: QDate) -> dt.date:
    return dt.date(date.year(), date.month(), date.day())


class ProductionOrderDialog(SubmitDialog):
    """Plan a production order for a project (fixed, or chosen from `projects`)."""

    def __init__(self, *, work_centers: list[Choice], items: list[Choice],
                 project_id: uuid.UUID | None = None, projects: list[Choice] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(self.tr("New production order"), self.tr("Plan order"), parent)
        self._centers = work_centers
        self._items = items
        self._project_id = project_id
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.project = _combo(projects or [], self.tr("No project (stock)"))
        if project_id is None:
            form.addRow(self.tr("&Project"), self.project)
        self.quantity = QLineEdit()
        self.quantity.setPlaceholderText(self.tr("e.g. 25"))
        form.addRow(self.tr("&Quantity"), self.quantity)
        today = dt.date.today()
        self.start = QDateEdit(QDate(today.year, today.month, today.day))
        self.end = QDateEdit(QDate(today.year, today.month, today.day).addDays(7))
        for edit in (self.start, self.end):
            edit.setCalendarPopup(True)
        form.addRow(self.tr("Planned &start"), self.start)
        form.addRow(self.tr("Planned &end"), self.end)
        self.description = QLineEdit()
        form.addRow(self.tr("&Description"), self.description)
        layout.addLayout(form)

        layout.addWidget(QLabel(self.tr("Operations, in order")))
        self.operations = QTableWidget(0, 3)
        self.operations.setHorizontalHeaderLabels(
            [self.tr("Operation"), self.tr("Work center"), self.tr("Planned minutes")])
        self.operations.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.operations.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.operations)
        layout.addLayout(self._row_buttons(self.add_operation, self.operations))

        layout.addWidget(QLabel(self.tr("Materials")))
        self.materials = QTableWidget(0, 2)
        self.materials.setHorizontalHeaderLabels([self.tr("Item"), self.tr("Required quantity")])
        self.materials.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.materials.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.materials)
        layout.addLayout(self._row_buttons(self.add_material, self.materials))
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.add_operation()
        self.resize(720, 620)

    def _row_buttons(self, add: object, table: QTableWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        add_button = QPushButton(self.tr("Add"))
        remove_button = QPushButton(self.tr("Remove"))
        add_button.clicked.connect(add)
        remove_button.clicked.connect(lambda: table.removeRow(table.currentRow())
                                      if table.currentRow() >= 0 else None)
        row.addWidget(add_button)
        row.addWidget(remove_button)
        row.addStretch(1)
        return row

    def add_operation(self, name: str = "", center: int = 0, minutes: int = 0) -> None:
        row = self.operations.rowCount()
        self.operations.insertRow(row)
        self.operations.setCellWidget(row, 0, QLineEdit(name))
        combo = _combo(self._centers, self.tr("No work center"))
        combo.setCurrentIndex(min(center, combo.count() - 1))
        self.operations.setCellWidget(row, 1, combo)
        spin = QSpinBox()
        spin.setRange(0, 100_000)
        spin.setValue(minutes)
        self.operations.setCellWidget(row, 2, spin)

    def add_material(self, item: int = 0, quantity: str = "") -> None:
        row = self.materials.rowCount()
        self.materials.insertRow(row)
        combo = _combo(self._items)
        if combo.count():
            combo.setCurrentIndex(min(item, combo.count() - 1))
        self.materials.setCellWidget(row, 0, combo)
        self.materials.setCellWidget(row, 1, QLineEdit(quantity))

    def payload(self) -> NewProductionOrder:
        operations = []
        for row in range(self.operations.rowCount()):
            name = self.operations.cellWidget(row, 0)
            center = self.operations.cellWidget(row, 1)
            minutes = self.operations.cellWidget(row, 2)
            assert isinstance(name, QLineEdit) and isinstance(center, QComboBox)
            assert isinstance(minutes, QSpinBox)
            operations.append(NewOperation(name.text(), center.currentData(),
                                           minutes.value() or None))
        materials = []
        for row in range(self.materials.rowCount()):
            item = self.materials.cellWidget(row, 0)
            amount = self.materials.cellWidget(row, 1)
            assert isinstance(item, QComboBox) and isinstance(amount, QLineEdit)
            if item.currentData() is None:
                raise UserFacingError(self.tr("Material {n}: choose an item.").format(n=row + 1))
            materials.append(NewMaterial(item.currentData(), amount.text()))
        order = NewOrder(quantity=self.quantity.text(), planned_start=_day(self.start.date()),
                         planned_end=_day(self.end.date()),
                         description=self.description.text(), operations=operations,
                         materials=materials)
        production.check(order)  # the form's mistakes in words, before anything is sent
        project = self._project_id if self._project_id is not None else \
            self.project.currentData()
        return NewProductionOrder(project, order)
