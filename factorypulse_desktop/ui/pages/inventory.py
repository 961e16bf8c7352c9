"""The Inventory page: items with on-hand (low stock marked), search and filters, an item's
balances and ledger, New/Edit item, Receive/Issue/Return/Adjust/Transfer, CSV import/export
and a PDF of labels.

All database work runs on the task runner; the GUI thread only shows results. User text goes
into table items and plain-text labels (never rich text, T-IN-10). A dialog stays open with
what was typed when the database refuses, and says why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import inventory, inventory_csv
from factorypulse_desktop.services.contacts import read_import_file
from factorypulse_desktop.services.inventory import ItemDetail, ItemEdit, ItemFilter, ItemRow
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.dialogs.contact_dialogs import ImportErrorsDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.printing.labels import write_labels
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error

COLUMNS = ("Code", "Name", "Category", "On hand", "Unit", "Min", "Status")
LOW_COLOR = QColor("#b3261e")
MOVE_KINDS = (("receipt", "Receive"), ("issue", "Issue"), ("return", "Return"),
              ("adjustment", "Adjust (count)"), ("transfer", "Transfer"))


def qty(value: Decimal | None) -> str:
    """12, 2.5: a quantity without trailing zeros."""
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def _cell(text: str, *, right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _table(headings: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headings))
    table.setHorizontalHeaderLabels(list(headings))
    table.verticalHeader().setVisible(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class ItemDialog(QDialog):
    """New or Edit item; ``submit`` is called with the edit, the dialog closes on success."""

    def __init__(self, detail: ItemDetail | None, locations: Sequence[inventory.Location],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit item" if detail else "New item")
        self.detail = detail
        # A new item's id, chosen when the dialog opens: Save pressed again after a lost
        # answer sends the same id, so the database recognizes an item it already stored
        # (T-NET-03).
        self.new_id: uuid.UUID | None = None if detail else uuid.uuid4()
        edit = detail.as_edit() if detail else ItemEdit()
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        for name, label, value in (
                ("item_code", "Item code", edit.item_code), ("item_name", "Name", edit.item_name),
                ("category", "Category", edit.category or ""), ("unit", "Unit", edit.unit),
                ("min_stock_level", "Min stock", qty(edit.min_stock_level)),
                ("max_stock_level", "Max stock", qty(edit.max_stock_level)),
                ("unit_cost", "Unit cost", qty(edit.unit_cost)),
                ("barcode", "Barcode", edit.barcode or "")):
            field = QLineEdit(value)
            field.setObjectName(name)
            self.fields[name] = field
            form.addRow(label, field)
        self.description = QPlainTextEdit(edit.description or "")
        form.addRow("Description", self.description)
        self.location = QComboBox()
        self.location.addItem("(none)", None)
        for loc in locations:
            self.location.addItem(f"{loc.code} \u2013 {loc.name}", loc.id)
        index = self.location.findData(edit.default_location_id)
        self.location.setCurrentIndex(max(0, index))
        form.addRow("Default location", self.location)
        self.status = QComboBox()
        for status in inventory.ITEM_STATUSES:
            self.status.addItem(status.capitalize(), status)
        self.status.setCurrentIndex(max(0, self.status.findData(edit.status)))
        form.addRow("Status", self.status)
        self.allow_negative = QCheckBox("Allow negative stock")
        self.allow_negative.setChecked(edit.allow_negative)
        form.addRow("", self.allow_negative)
        self.error = _plain()
        self.error.setStyleSheet(f"color: {LOW_COLOR.name()}")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.submit: Callable[[ItemEdit], None] = lambda _edit: None

    def edit(self) -> ItemEdit:
        """What is typed; raises :class:`FieldError` for a number that is not one."""
        f = self.fields
        numbers = {
            name: inventory.parse_number(f[name].text(), field=name, label=label,
                                         decimals=decimals, bound=bound)
            for name, label, decimals, bound in (
                ("min_stock_level", "The minimum", 3, inventory.QUANTITY_BOUND),
                ("max_stock_level", "The maximum", 3, inventory.QUANTITY_BOUND),
                ("unit_cost", "The unit cost", 4, inventory.COST_BOUND))}
        return ItemEdit(
            item_code=f["item_code"].text(), item_name=f["item_name"].text(),
            description=self.description.toPlainText(), category=f["category"].text(),
            unit=f["unit"].text(), default_location_id=self.location.currentData(),
            preferred_supplier_id=self.detail.preferred_supplier_id if self.detail else None,
            status=str(self.status.currentData()), allow_negative=self.allow_negative.isChecked(),
            barcode=f["barcode"].text(), **numbers)

    def show_error(self, message: str, field: str | None = None) -> None:
        self.error.setText(message)
        self.error.show()
        self.save_button.setEnabled(True)
        if field in self.fields:
            self.fields[field].setFocus()

    def _save(self) -> None:
        try:
            edit = inventory.check_item(self.edit())
        except FieldError as error:
            self.show_error(error.message, error.field)
            return
        self.save_button.setEnabled(False)
        self.submit(edit)


class MovementDialog(QDialog):
    """Receive, issue, return, adjust (a count) or transfer one item."""

    def __init__(self, item: ItemRow, locations: Sequence[inventory.Location], kind: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        # One id per dialog: pressing OK again after a lost connection books once.
        self.client_event_id = uuid.uuid4()
        self.setWindowTitle(f"Stock movement \u2013 {item.item_code}")
        form = QFormLayout()
        form.addRow("Item", _plain(f"{item.item_code} {item.item_name}"))
        self.kind = QComboBox()
        for value, label in MOVE_KINDS:
            self.kind.addItem(label, value)
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        form.addRow("Movement", self.kind)
        self.location = QComboBox()
        self.target = QComboBox()
        for loc in locations:
            self.location.addItem(f"{loc.code} \u2013 {loc.name}", loc.id)
            self.target.addItem(f"{loc.code} \u2013 {loc.name}", loc.id)
        if len(locations) > 1:
            self.target.setCurrentIndex(1)
        form.addRow("Location", self.location)
        self.target_label = QLabel("To location")
        form.addRow(self.target_label, self.target)
        self.quantity_label = QLabel("Quantity")
        self.quantity = QLineEdit()
        self.quantity.setObjectName("quantity")
        form.addRow(self.quantity_label, self.quantity)
        self.unit_cost = QLineEdit(qty(item.unit_cost))
        form.addRow("Unit cost", self.unit_cost)
        self.reference = QLineEdit()
        form.addRow("Reference", self.reference)
        self.note = QLineEdit()
        form.addRow("Note", self.note)
        self.error = _plain()
        self.error.setStyleSheet(f"color: {LOW_COLOR.name()}")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self.submit: Callable[[Callable[[Workspace, uuid.UUID], object]], None] = (
            lambda _call: None)

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        self.target.setVisible(kind == "transfer")
        self.target_label.setVisible(kind == "transfer")
        self.unit_cost.setEnabled(kind in ("receipt", "return"))
        self.quantity_label.setText("Counted quantity" if kind == "adjustment" else "Quantity")

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.ok_button.setEnabled(True)

    def call(self) -> Callable[[Workspace, uuid.UUID], object]:
        """The service call for what is typed; raises :class:`FieldError`."""
        kind = str(self.kind.currentData())
        quantity = inventory.parse_number(self.quantity.text(), field="quantity",
                                          label="The quantity", decimals=3)
        if quantity is None or (quantity == 0 and kind != "adjustment"):
            raise FieldError("quantity", "Enter a quantity.")
        cost = inventory.parse_number(self.unit_cost.text(), field="unit_cost",
                                      label="The unit cost", decimals=4,
                                      bound=inventory.COST_BOUND) \
            if self.unit_cost.isEnabled() else None
        item, loc, event = self.item.id, self.location.currentData(), self.client_event_id
        ref, note = self.reference.text(), self.note.text()
        if kind == "transfer":
            target = self.target.currentData()
            return lambda ws, org: inventory.transfer(
                ws, org, item=item, from_location=loc, to_location=target, quantity=quantity,
                reference=ref, note=note, client_event_id=event)
        if kind == "adjustment":
            return lambda ws, org: inventory.adjust(ws, org, item=item, location=loc,
                                                    counted=quantity, note=note,
                                                    client_event_id=event)
        return lambda ws, org: inventory.move(
            ws, org, item=item, location=loc, type=kind, quantity=quantity, unit_cost=cost,
            reference=ref, note=note, client_event_id=event)

    def _ok(self) -> None:
        try:
            call = self.call()
        except FieldError as error:
            self.show_error(error.message)
            return
        self.ok_button.setEnabled(False)
        self.submit(call)


class InventoryPage(QWidget):
    sig_loaded = Signal()
    sig_detail_loaded = Signal(object)
    sig_saved = Signal(object)
    sig_moved = Signal(object)
    sig_import_finished = Signal(object)
    sig_export_finished = Signal(object)
    sig_labels_written = Signal(object)

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page-inventory")
        self._runner = runner
        self._workspace = workspace
        self._org = organization_id
        self._formatter = formatter or Formatter()
        self._generation = 0
        self.rows: list[ItemRow] = []
        self.valuation: inventory.Valuation | None = None
        self.detail: ItemDetail | None = None
        self.locations: list[inventory.Location] = []
        self._next_after: tuple[str, uuid.UUID] | None = None
        self.dialog: QDialog | None = None
        membership = workspace.identity.membership(organization_id)
        self.can_edit = inventory.can_edit(membership.role if membership else None)
        # Replaceable in tests.
        self.choose_import_file: Callable[[], str | None] = self._ask_import_file
        self.choose_export_file: Callable[[str], str | None] = self._ask_export_file
        self.choose_labels_file: Callable[[str], str | None] = self._ask_labels_file
        self._build()
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self.reload)
        self._load_choices()
        self.reload()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 12)
        top = QHBoxLayout()
        heading = QLabel(self.tr("Inventory"))
        heading.setObjectName("pageTitle")
        top.addWidget(heading)
        self.count_label = _plain()
        top.addWidget(self.count_label)
        top.addStretch(1)
        self.new_button = QPushButton(self.tr("New item"))
        self.edit_button = QPushButton(self.tr("Edit item"))
        self.move_button = QPushButton(self.tr("Stock movement…"))
        self.import_button = QPushButton(self.tr("Import CSV…"))
        self.export_button = QPushButton(self.tr("Export CSV…"))
        self.labels_button = QPushButton(self.tr("Print labels…"))
        self.valuation_button = QPushButton(self.tr("Valuation…"))
        for button in (self.new_button, self.edit_button, self.move_button, self.import_button,
                       self.export_button, self.labels_button, self.valuation_button):
            top.addWidget(button)
        self.new_button.clicked.connect(self.new_item)
        self.edit_button.clicked.connect(self.edit_item)
        self.move_button.clicked.connect(lambda: self.open_movement("receipt"))
        self.import_button.clicked.connect(self.import_csv)
        self.export_button.clicked.connect(self.export_csv)
        self.labels_button.clicked.connect(self.print_labels)
        self.valuation_button.clicked.connect(self.show_valuation)
        outer.addLayout(top)

        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search code, name or barcode"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.category = QComboBox()
        self.category.addItem(self.tr("All categories"), "")
        self.category.currentIndexChanged.connect(lambda _i: self.reload())
        self.low_only = QCheckBox(self.tr("Low stock only"))
        self.low_only.toggled.connect(lambda _on: self.reload())
        filters.addWidget(self.search, 1)
        filters.addWidget(self.category)
        filters.addWidget(self.low_only)
        outer.addLayout(filters)

        self.banner = _plain()
        self.banner.hide()
        outer.addWidget(self.banner)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.table = _table([self.tr(c) for c in COLUMNS])
        self.table.itemSelectionChanged.connect(self._selection_changed)
        left_layout.addWidget(self.table)
        self.more_button = QPushButton(self.tr("Load more"))
        self.more_button.clicked.connect(self.load_more)
        self.more_button.hide()
        left_layout.addWidget(self.more_button)
        split.addWidget(left)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 0, 0, 0)
        self.detail_title = _plain(self.tr("Select an item to see its stock."))
        self.detail_title.setObjectName("sectionTitle")
        self.detail_info = _plain()
        self.balances = _table([self.tr("Location"), self.tr("On hand")])
        self.ledger = _table([self.tr("When"), self.tr("Movement"), self.tr("Quantity"),
                              self.tr("Location"), self.tr("Reference"), self.tr("By"),
                              self.tr("Note")])
        right_layout.addWidget(self.detail_title)
        right_layout.addWidget(self.detail_info)
        right_layout.addWidget(_plain(self.tr("Balances")))
        right_layout.addWidget(self.balances, 1)
        right_layout.addWidget(_plain(self.tr("Recent movements")))
        right_layout.addWidget(self.ledger, 2)
        split.addWidget(right)
        split.setSizes([700, 500])
        outer.addWidget(split, 1)
        self._apply_rights()

    def _apply_rights(self) -> None:
        has_item = self.current_row() is not None
        for button in (self.new_button, self.import_button):
            button.setEnabled(self.can_edit)
        self.edit_button.setEnabled(self.can_edit and self.detail is not None)
        self.move_button.setEnabled(self.can_edit and has_item and bool(self.locations))
        self.labels_button.setEnabled(bool(self.rows))

    # --- loading --------------------------------------------------------------------------
    def current_filter(self) -> ItemFilter:
        return ItemFilter(text=self.search.text(), category=str(self.category.currentData()
                                                                or ""),
                          low_only=self.low_only.isChecked())

    def _load_choices(self) -> None:
        ws, org = self._workspace, self._org

        def read() -> tuple[list[inventory.Location], list[str]]:
            return inventory.locations(ws, org), inventory.categories(ws, org)

        self._runner.run(read, on_done=self._choices_loaded, on_error=self._show_error,
                         key=f"inventory-choices-{id(self)}")

    def _choices_loaded(self, loaded: tuple[list[inventory.Location], list[str]]) -> None:
        self.locations, names = loaded
        chosen = self.category.currentData()
        self.category.blockSignals(True)
        self.category.clear()
        self.category.addItem(self.tr("All categories"), "")
        for name in names:
            self.category.addItem(name, name)
        self.category.setCurrentIndex(max(0, self.category.findData(chosen)))
        self.category.blockSignals(False)
        self._apply_rights()

    def reload(self) -> None:
        self._generation += 1
        generation, ws, org, flt = self._generation, self._workspace, self._org, \
            self.current_filter()
        self._runner.run(lambda: inventory.list_items(ws, org, flt),
                         on_done=lambda page: self._page_loaded(generation, page, True),
                         on_error=self._show_error, key=f"inventory-list-{id(self)}")

    def load_more(self) -> None:
        after = self._next_after
        if after is None:
            return
        generation, ws, org, flt = self._generation, self._workspace, self._org, \
            self.current_filter()
        self._runner.run(lambda: inventory.list_items(ws, org, flt, after=after),
                         on_done=lambda page: self._page_loaded(generation, page, False),
                         on_error=self._show_error)

    def _page_loaded(self, generation: int, page: inventory.ItemPage, first: bool) -> None:
        if generation != self._generation:
            return  # an answer for an older filter
        selected = self.detail.id if self.detail else None
        self.rows = list(page.rows) if first else self.rows + list(page.rows)
        self._next_after = page.next_after
        self._fill_table()
        self.more_button.setVisible(page.next_after is not None)
        low = sum(1 for r in self.rows if r.low)
        more = "+" if page.next_after else ""
        self.count_label.setText(self.tr("{n}{more} items, {low} low on stock").format(
            n=len(self.rows), more=more, low=low))
        if selected is not None:
            self.select_item(selected)
        self._apply_rights()
        self.sig_loaded.emit()

    def _fill_table(self) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            self._fill_row(index, row)
        self.table.blockSignals(False)

    def _fill_row(self, index: int, row: ItemRow) -> None:
        status = self.tr("LOW") if row.low else row.status
        cells = [_cell(row.item_code), _cell(row.item_name), _cell(row.category or ""),
                 _cell(qty(row.on_hand), right=True), _cell(row.unit),
                 _cell(qty(row.min_stock_level), right=True), _cell(status)]
        for column, cell in enumerate(cells):
            if row.low:
                cell.setForeground(LOW_COLOR)
                if column in (3, 6):
                    font = cell.font()
                    font.setBold(True)
                    cell.setFont(font)
                cell.setToolTip(self.tr("Below the minimum of {min} {unit}").format(
                    min=qty(row.min_stock_level), unit=row.unit))
            self.table.setItem(index, column, cell)

    def row_of(self, item_id: uuid.UUID) -> int:
        return next((i for i, r in enumerate(self.rows) if r.id == item_id), -1)

    def current_row(self) -> ItemRow | None:
        selected = self.table.selectionModel().selectedRows() if self.table.selectionModel() \
            else []
        if not selected:
            return None
        index = selected[0].row()
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def select_item(self, item_id: uuid.UUID) -> None:
        index = self.row_of(item_id)
        if index >= 0:
            self.table.selectRow(index)

    def _selection_changed(self) -> None:
        row = self.current_row()
        self._apply_rights()
        if row is not None:
            self.load_detail(row.id)

    def load_detail(self, item_id: uuid.UUID) -> None:
        ws = self._workspace
        self._runner.run(lambda: inventory.get_item(ws, item_id), on_done=self._show_detail,
                         on_error=self._show_error, key=f"inventory-detail-{id(self)}")

    def _show_detail(self, detail: ItemDetail) -> None:
        self.detail = detail
        self.detail_title.setText(f"{detail.item_code} {detail.item_name}")
        parts = [self.tr("On hand: {n} {unit}").format(n=qty(detail.on_hand), unit=detail.unit)]
        if detail.min_stock_level is not None:
            parts.append(self.tr("min {n}").format(n=qty(detail.min_stock_level)))
        if detail.max_stock_level is not None:
            parts.append(self.tr("max {n}").format(n=qty(detail.max_stock_level)))
        if detail.unit_cost is not None:
            parts.append(self.tr("unit cost {cost}").format(
                cost=self._formatter.money(detail.unit_cost)))
        if detail.preferred_supplier:
            parts.append(self.tr("supplier {name}").format(name=detail.preferred_supplier))
        self.detail_info.setText(" · ".join(parts))
        self.balances.setRowCount(len(detail.balances))
        for i, b in enumerate(detail.balances):
            self.balances.setItem(i, 0, _cell(f"{b.location_code} \u2013 {b.location_name}"))
            self.balances.setItem(i, 1, _cell(qty(b.on_hand), right=True))
        self.ledger.setRowCount(len(detail.recent))
        for i, m in enumerate(detail.recent):
            values = (m.moved_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                      m.movement_type.replace("_", " "), qty(m.quantity), m.location_code,
                      m.reference or "", m.moved_by or "", m.note or "")
            for column, value in enumerate(values):
                self.ledger.setItem(i, column, _cell(value, right=column == 2))
        self._apply_rights()
        self.sig_detail_loaded.emit(detail)

    # --- live updates ---------------------------------------------------------------------
    def on_inventory_items_changed(self, ids: list[uuid.UUID]) -> None:
        """ChangeBus "inventory_items": re-read the rows shown (new ones: reload)."""
        shown = [i for i in ids if self.row_of(i) >= 0]
        if len(shown) < len(ids):
            self.reload()
            self._load_choices()
            return
        self._refresh(shown)

    def on_stock_movements_changed(self, ids: list[uuid.UUID]) -> None:
        """ChangeBus "stock_movements": ids are ledger rows; on-hand of any shown item may
        have changed, so the shown rows (one page) and the open item are read again."""
        self._refresh([r.id for r in self.rows])

    def _refresh(self, item_ids: list[uuid.UUID]) -> None:
        ws = self._workspace
        if item_ids:
            self._runner.run(lambda: inventory.get_items(ws, item_ids),
                             on_done=self._rows_updated, on_error=lambda _e: None)
        if self.detail is not None and self.detail.id in item_ids:
            self.load_detail(self.detail.id)

    def _rows_updated(self, rows: list[ItemRow]) -> None:
        for row in rows:
            index = self.row_of(row.id)
            if index >= 0:
                self.rows[index] = row
                self._fill_row(index, row)
        self.sig_loaded.emit()

    # --- items ----------------------------------------------------------------------------
    def new_item(self) -> None:
        self._open_item_dialog(None)

    def edit_item(self) -> None:
        if self.detail is not None:
            self._open_item_dialog(self.detail)

    def _open_item_dialog(self, detail: ItemDetail | None) -> None:
        dialog = ItemDialog(detail, self.locations, self)
        ws, org = self._workspace, self._org
        item_id = detail.id if detail else None
        version = detail.version if detail else None
        new_id = dialog.new_id  # the same for every press while the dialog is open

        def submit(edit: ItemEdit) -> None:
            self._runner.run(lambda: inventory.save_item(ws, org, item_id, edit, version,
                                                         new_id=new_id),
                             on_done=lambda saved: self._saved(dialog, saved),
                             on_error=lambda error: self._dialog_error(dialog, error))

        dialog.submit = submit
        self._show_dialog(dialog)

    def _saved(self, dialog: ItemDialog, saved: ItemDetail) -> None:
        dialog.accept()
        self.detail = saved
        self._show_ok(self.tr("Saved {code}.").format(code=saved.item_code))
        self.reload()
        self._load_choices()
        self.sig_saved.emit(saved)

    def _dialog_error(self, dialog: ItemDialog | MovementDialog, error: BaseException) -> None:
        message = str(error) if isinstance(error, UserFacingError) else describe_error(error)
        if isinstance(error, inventory.ItemConflictError) and isinstance(dialog, ItemDialog) \
                and error.current is not None:
            dialog.detail = error.current  # save again over what is saved now
        dialog.show_error(message)

    # --- movements ------------------------------------------------------------------------
    def open_movement(self, kind: str = "receipt") -> None:
        row = self.current_row()
        if row is None or not self.locations:
            return
        dialog = MovementDialog(row, self.locations, kind, self)
        ws, org = self._workspace, self._org

        def submit(call: Callable[[Workspace, uuid.UUID], object]) -> None:
            self._runner.run(lambda: call(ws, org),
                             on_done=lambda result: self._moved(dialog, result),
                             on_error=lambda error: self._dialog_error(dialog, error))

        dialog.submit = submit
        self._show_dialog(dialog)

    def _moved(self, dialog: MovementDialog, result: object) -> None:
        dialog.accept()
        self._show_ok(self.tr("Booked."))
        self._refresh([dialog.item.id])
        self.sig_moved.emit(result)

    # --- CSV and labels -------------------------------------------------------------------
    def _ask_import_file(self) -> str | None:
        path, _f = QFileDialog.getOpenFileName(self, self.tr("Import items"), "",
                                               self.tr("CSV files (*.csv *.txt)"))
        return path or None

    def _ask_export_file(self, suggested: str) -> str | None:
        path, _f = QFileDialog.getSaveFileName(self, self.tr("Export items"), suggested,
                                               self.tr("CSV files (*.csv)"))
        return path or None

    def _ask_labels_file(self, suggested: str) -> str | None:
        path, _f = QFileDialog.getSaveFileName(self, self.tr("Save labels"), suggested,
                                               self.tr("PDF files (*.pdf)"))
        return path or None

    def import_csv(self) -> None:
        path = self.choose_import_file()
        if not path:
            return
        ws, org, name = self._workspace, self._org, Path(path).name
        self.import_button.setEnabled(False)

        def done(report: inventory_csv.ImportReport) -> None:
            self._apply_rights()
            self._show_ok(self.tr("{n} items imported from “{file}”.").format(
                n=report.imported, file=name))
            self.reload()
            self._load_choices()
            self.sig_import_finished.emit(report)

        def failed(error: BaseException) -> None:
            self._apply_rights()
            if isinstance(error, inventory_csv.ItemsImportError):
                self._show_error(error)
                self._show_dialog(ImportErrorsDialog(error.errors, name, self))
            else:
                self._show_error(error)
            self.sig_import_finished.emit(error)

        self._runner.run(lambda: inventory_csv.import_items(ws, org, read_import_file(path)),
                         on_done=done, on_error=failed)

    def export_csv(self) -> None:
        path = self.choose_export_file(f"items-{dt.date.today().isoformat()}.csv")
        if not path:
            return
        ws, org = self._workspace, self._org

        def write() -> Path:
            target = Path(path)
            target.write_bytes(inventory_csv.export_items(ws, org))
            return target

        def done(written: Path) -> None:
            self._show_ok(self.tr("The items were exported to {path}.").format(path=str(written)))
            self.sig_export_finished.emit(written)

        def failed(error: BaseException) -> None:
            self._show_error(error)
            self.sig_export_finished.emit(error)

        self._runner.run(write, on_done=done, on_error=failed)

    def print_labels(self) -> None:
        """Labels for the selected items, or for every item shown when none is selected."""
        chosen = {i.row() for i in self.table.selectionModel().selectedRows()}
        items = [r for i, r in enumerate(self.rows) if i in chosen] or list(self.rows)
        if not items:
            return
        path = self.choose_labels_file(f"labels-{dt.date.today().isoformat()}.pdf")
        if not path:
            return

        def written(pages: int) -> None:
            self._show_ok(self.tr("{n} labels on {pages} pages saved to {path}.").format(
                n=len(items), pages=pages, path=path))
            self.sig_labels_written.emit(Path(path))

        def failed(error: BaseException) -> None:
            if isinstance(error, OSError):
                error = UserFacingError(
                    f"The labels could not be saved to {path}: {error.strerror or error}.")
            self._show_error(error)

        # On a worker: Qt paints into a PDF on any thread, and the file may be on a network
        # drive.
        self._runner.run(lambda: write_labels(items, path), on_done=written, on_error=failed)

    def show_valuation(self) -> None:
        """What the stock is worth: on hand times unit cost per item, and the total."""
        ws, org = self._workspace, self._org
        self._runner.run(lambda: inventory.valuation(ws, org), on_done=self._valuation_read,
                         on_error=self._show_error)

    def _valuation_read(self, valuation: inventory.Valuation) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Inventory valuation"))
        dialog.resize(720, 520)
        layout = QVBoxLayout(dialog)
        money = self._formatter.money
        total = _plain(self.tr("Total: {total}").format(total=money(valuation.total)))
        total.setObjectName("sectionTitle")
        layout.addWidget(total)
        if valuation.without_cost:
            layout.addWidget(_plain(self.tr(
                "{n} items in stock have no unit cost and count as 0.").format(
                    n=valuation.without_cost)))
        table = _table([self.tr("Code"), self.tr("Item"), self.tr("On hand"),
                        self.tr("Unit cost"), self.tr("Value")])
        table.setRowCount(len(valuation.lines))
        for row, line in enumerate(valuation.lines):
            cells = (_cell(line.item_code), _cell(line.item_name),
                     _cell(f"{qty(line.on_hand)} {line.unit}", right=True),
                     _cell(money(line.unit_cost) if line.unit_cost is not None else "—",
                           right=True),
                     _cell(money(line.value), right=True))
            for column, cell in enumerate(cells):
                table.setItem(row, column, cell)
        layout.addWidget(table, 1)
        self.valuation = valuation
        self._show_dialog(dialog)

    # --- messages -------------------------------------------------------------------------
    def _show_dialog(self, dialog: QDialog) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.setModal(True)
        dialog.show()

    def _show_ok(self, message: str) -> None:
        self.banner.setStyleSheet("")
        self.banner.setText(message)
        self.banner.show()

    def _show_error(self, error: BaseException) -> None:
        message = str(error) if isinstance(error, UserFacingError) else describe_error(error)
        self.banner.setStyleSheet(f"color: {LOW_COLOR.name()}")
        self.banner.setText(message)
        self.banner.show()
