"""Dialogs of purchasing: a draft order with its lines, and receiving goods.

They only collect what the person types; checking and storing happen in the service on a
worker thread. When that refuses, the panel opens the dialog again with everything typed
still in it (nothing typed is lost on an error).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services.purchase_orders import (
    PRIORITIES,
    Choice,
    DraftLine,
    OrderDraft,
    OrderLine,
    ReceiptEntry,
)

LINE_HEADERS = ("Item code", "Item", "Quantity", "Unit", "Unit price")


def quantity_text(value: Decimal) -> str:
    """12.000 -> "12", 2.500 -> "2.5"."""
    return f"{value.normalize():f}"


class OrderDialog(QDialog):
    """A new draft order, or a draft being edited: header and lines."""

    def __init__(self, suppliers: Sequence[Choice], initial: OrderDraft,
                 parent: QWidget | None = None, *, title: str = "New purchase order",
                 problem: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(820, 560)
        self._project_id = initial.project_id
        layout = QVBoxLayout(self)
        self.problem = QLabel(problem)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.setObjectName("errorText")
        self.problem.setVisible(bool(problem))
        layout.addWidget(self.problem)
        form = QFormLayout()
        self.number = QLineEdit(initial.po_number)
        self.number.setPlaceholderText(self.tr("Given when saved"))
        self.supplier = QComboBox()
        for choice in suppliers:
            self.supplier.addItem(choice.label, choice.id)
        if initial.supplier_id is not None:
            self.supplier.setCurrentIndex(max(0, self.supplier.findData(initial.supplier_id)))
        self.currency = QLineEdit(initial.currency)
        self.currency.setMaxLength(3)
        due_row = QHBoxLayout()
        self.has_due = QCheckBox(self.tr("Deliver by"))
        self.due = QDateEdit()
        self.due.setCalendarPopup(True)
        day = initial.due_date or dt.date.today() + dt.timedelta(days=14)
        self.due.setDate(QDate(day.year, day.month, day.day))
        self.has_due.setChecked(initial.due_date is not None)
        self.due.setEnabled(initial.due_date is not None)
        self.has_due.toggled.connect(self.due.setEnabled)
        due_row.addWidget(self.has_due)
        due_row.addWidget(self.due, 1)
        self.priority = QComboBox()
        for value in PRIORITIES:
            self.priority.addItem(value.capitalize(), value)
        self.priority.setCurrentIndex(max(0, self.priority.findData(initial.priority)))
        self.notes = QPlainTextEdit(initial.notes or "")
        self.notes.setMaximumHeight(70)
        form.addRow(self.tr("PO number"), self.number)
        form.addRow(self.tr("Supplier"), self.supplier)
        form.addRow(self.tr("Currency"), self.currency)
        form.addRow(self.tr("Due"), due_row)
        form.addRow(self.tr("Priority"), self.priority)
        form.addRow(self.tr("Notes"), self.notes)
        layout.addLayout(form)

        hint = QLabel(self.tr("Lines: give a stock item's code to receive it into stock, or "
                              "leave the code empty for a service or a one-off part."))
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.lines = QTableWidget(0, len(LINE_HEADERS))
        self.lines.setHorizontalHeaderLabels([self.tr(h) for h in LINE_HEADERS])
        self.lines.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.lines.verticalHeader().setVisible(False)
        for line in initial.lines or (DraftLine("", "", ""),):
            self._add_row(line)
        layout.addWidget(self.lines, 1)
        row_buttons = QHBoxLayout()
        add = QPushButton(self.tr("Add line"))
        add.clicked.connect(lambda: self._add_row(DraftLine("", "", "")))
        remove = QPushButton(self.tr("Remove line"))
        remove.clicked.connect(self._remove_row)
        row_buttons.addWidget(add)
        row_buttons.addWidget(remove)
        row_buttons.addStretch(1)
        layout.addLayout(row_buttons)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _add_row(self, line: DraftLine) -> None:
        row = self.lines.rowCount()
        self.lines.insertRow(row)
        values = (line.item_code or "", line.item_name, str(line.quantity), line.unit,
                  str(line.unit_price))
        for column, value in enumerate(values):
            self.lines.setItem(row, column, QTableWidgetItem(value))  # plain text items

    def _remove_row(self) -> None:
        row = self.lines.currentRow()
        if row >= 0:
            self.lines.removeRow(row)

    def _cell(self, row: int, column: int) -> str:
        item = self.lines.item(row, column)
        return item.text().strip() if item is not None else ""

    def value(self) -> OrderDraft:
        """What is typed, unchecked (the service checks it and says what to fix)."""
        lines = []
        for row in range(self.lines.rowCount()):
            cells = [self._cell(row, c) for c in range(len(LINE_HEADERS))]
            if not any(cells):
                continue  # an empty row at the end is no line
            # The stock item is found again by its code when saved (the code may be changed).
            lines.append(DraftLine(
                item_name=cells[1], quantity=cells[2], unit_price=cells[4],
                unit=cells[3] or "pcs", item_code=cells[0] or None))
        due = self.due.date()
        return OrderDraft(
            po_number=self.number.text(), supplier_id=self.supplier.currentData(),
            project_id=self._project_id, currency=self.currency.text(),
            due_date=dt.date(due.year(), due.month(), due.day()) if self.has_due.isChecked()
            else None,
            priority=str(self.priority.currentData()), notes=self.notes.toPlainText(),
            lines=tuple(lines))


class ReceiveDialog(QDialog):
    """How much of each open line arrived, and where stocked items go."""

    def __init__(self, po_number: str, lines: Sequence[OrderLine], locations: Sequence[Choice],
                 parent: QWidget | None = None, *, typed: Sequence[str] | None = None,
                 problem: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Receive goods: %1").replace("%1", po_number))
        self.resize(760, 420)
        self._lines = [line for line in lines if line.outstanding > 0]
        layout = QVBoxLayout(self)
        self.problem = QLabel(problem)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.setVisible(bool(problem))
        layout.addWidget(self.problem)
        layout.addWidget(QLabel(self.tr("Enter what arrived; 0 or empty for lines that did "
                                        "not come.")))
        headers = ("#", "Item", "Ordered", "Received so far", "Arrived now", "Stock location")
        self.table = QTableWidget(len(self._lines), len(headers))
        self.table.setHorizontalHeaderLabels([self.tr(h) for h in headers])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.quantities: list[QLineEdit] = []
        self.places: list[QComboBox | None] = []
        for row, line in enumerate(self._lines):
            for column, value in enumerate((str(line.line_no), line.item_name,
                                            f"{quantity_text(line.quantity)} {line.unit}",
                                            quantity_text(line.quantity_received))):
                item = QTableWidgetItem(value)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, item)
            amount = QLineEdit(typed[row] if typed and row < len(typed)
                               else quantity_text(line.outstanding))
            self.quantities.append(amount)
            self.table.setCellWidget(row, 4, amount)
            if line.inventory_item_id is None:
                self.places.append(None)
                note = QTableWidgetItem(self.tr("not stocked"))
                note.setFlags(note.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, 5, note)
                continue
            place = QComboBox()
            for choice in locations:
                place.addItem(choice.label, choice.id)
            if line.default_location_id is not None:
                place.setCurrentIndex(max(0, place.findData(line.default_location_id)))
            self.places.append(place)
            self.table.setCellWidget(row, 5, place)
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Receive"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def typed(self) -> list[str]:
        return [field.text() for field in self.quantities]

    def value(self) -> list[ReceiptEntry]:
        entries = []
        for line, amount, place in zip(self._lines, self.quantities, self.places, strict=True):
            words = amount.text().strip()
            if not words:
                continue
            entries.append(ReceiptEntry(line.id, words,
                                        place.currentData() if place is not None else None))
        return entries
