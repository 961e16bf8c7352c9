"""The Supplier RFQs tab's dialogs: a new RFQ to chosen suppliers, a supplier's quote, and
the quotes side by side with Award.

New RFQ and Record quote stay open while the panel saves (SubmitDialog): a refusal is shown
with everything typed still there. Names, titles and descriptions are table items or
plain-text labels, never rich text (T-IN-10).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.numbers import NumberProblem, parse_decimal
from factorypulse_desktop.services.supplier_rfqs import (
    Comparison,
    DocumentChoice,
    QuoteInput,
    QuoteLineInput,
    QuoteRow,
    RfqDraft,
    RfqRow,
    SupplierChoice,
)
from factorypulse_desktop.ui.dialogs.submit_dialog import SubmitDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.widgets.forms import add_form_row

__all__ = ["CompareQuotesDialog", "NewRfqDialog", "RecordQuoteDialog", "money_in", "parse_number"]

DEFAULT_DUE_DAYS = 7
DEFAULT_VALID_DAYS = 30


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def money_in(formatter: Formatter, amount: Decimal | None, currency: str | None) -> str:
    """`amount` in its own currency (the formatter's symbol only for the organization's)."""
    if amount is None:
        return ""
    if not currency or currency == formatter.currency:
        return formatter.money(amount)
    return f"{formatter.number(amount, 2)} {currency}"


def parse_number(text: str) -> Decimal:
    """A typed number (`domain.numbers`: "1,250.50", "1250,5", "1 250.5"); a `NumberProblem`
    (a ValueError) when it is not one or is empty."""
    number = parse_decimal(text)
    if number is None:
        raise NumberProblem("Nothing was typed.")
    return number


class NewRfqDialog(SubmitDialog):
    """Suppliers (filtered by capability), requirements, due date, project documents."""

    def __init__(self, suppliers: list[SupplierChoice], documents: list[DocumentChoice],
                 parent: QWidget | None = None) -> None:
        super().__init__("", "", parent)
        self.setWindowTitle(self.tr("New RFQ"))
        self.set_ok_text(self.tr("Create RFQs"))
        self.setMinimumWidth(620)
        self._suppliers = suppliers
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.addWidget(_plain(self.tr(
            "One RFQ is made for each supplier you tick; they share the requirements and "
            "documents, and their quotes can be compared side by side.")))
        filter_row = QHBoxLayout()
        filter_row.addWidget(QLabel(self.tr("Capabilities:")))
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText(self.tr("e.g. cnc, anodizing — suppliers having all"))
        self.tags_edit.textChanged.connect(self._filter)
        filter_row.addWidget(self.tags_edit, 1)
        layout.addLayout(filter_row)
        self.supplier_list = QListWidget()
        self.supplier_list.setMinimumHeight(140)
        for supplier in suppliers:
            tags = ", ".join(supplier.capability_tags)
            item = QListWidgetItem(f"{supplier.company_name}  ({tags})" if tags
                                   else supplier.company_name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.UserRole, supplier.id)
            self.supplier_list.addItem(item)
        layout.addWidget(self.supplier_list)
        self.no_supplier_label = _plain(self.tr("No supplier has all these capabilities."))
        self.no_supplier_label.setObjectName("muted")
        self.no_supplier_label.setVisible(not suppliers)
        layout.addWidget(self.no_supplier_label)

        form = QFormLayout()
        self.requirements = QPlainTextEdit()
        self.requirements.setPlaceholderText(self.tr(
            "What to quote: parts, quantities, material, tolerances, finish…"))
        self.requirements.setFixedHeight(90)
        add_form_row(form, self.tr("Requirements:"), self.requirements)
        self.instructions = QPlainTextEdit()
        self.instructions.setFixedHeight(50)
        add_form_row(form, self.tr("Special instructions:"), self.instructions)
        due_row = QWidget()
        due_layout = QHBoxLayout(due_row)
        due_layout.setContentsMargins(0, 0, 0, 0)
        self.due_check = QCheckBox(self.tr("Quote due by"))
        self.due_check.setChecked(True)
        self.due_edit = QDateEdit(QDate.currentDate().addDays(DEFAULT_DUE_DAYS))
        self.due_edit.setCalendarPopup(True)
        self.due_check.toggled.connect(self.due_edit.setEnabled)
        due_layout.addWidget(self.due_check)
        due_layout.addWidget(self.due_edit)
        due_layout.addStretch(1)
        add_form_row(form, self.tr("Due:"), due_row)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("Attach project documents:")))
        self.document_list = QListWidget()
        self.document_list.setMaximumHeight(110)
        for document in documents:
            item = QListWidgetItem(document.title if document.access_level == "public" else
                                   self.tr("{title}  (not shared: {level})").format(
                                       title=document.title, level=document.access_level))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.UserRole, document.id)
            self.document_list.addItem(item)
        if not documents:
            self.document_list.setVisible(False)
            layout.addWidget(_plain(self.tr("The project has no documents yet.")))
        layout.addWidget(self.document_list)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _filter(self) -> None:
        wanted = [t.strip().casefold() for t in self.tags_edit.text().split(",") if t.strip()]
        shown = 0
        for row, supplier in enumerate(self._suppliers):
            have = {t.casefold() for t in supplier.capability_tags}
            hidden = not all(t in have for t in wanted)
            self.supplier_list.item(row).setHidden(hidden)
            shown += not hidden
        self.no_supplier_label.setVisible(shown == 0)

    def visible_suppliers(self) -> list[str]:
        return [self._suppliers[row].company_name for row in range(self.supplier_list.count())
                if not self.supplier_list.item(row).isHidden()]

    def set_checked(self, names: list[str]) -> None:
        for row, supplier in enumerate(self._suppliers):
            self.supplier_list.item(row).setCheckState(
                Qt.CheckState.Checked if supplier.company_name in names
                else Qt.CheckState.Unchecked)

    def check_document(self, row: int) -> None:
        self.document_list.item(row).setCheckState(Qt.CheckState.Checked)

    @staticmethod
    def _ticked(widget: QListWidget) -> tuple[uuid.UUID, ...]:
        return tuple(widget.item(row).data(Qt.ItemDataRole.UserRole)
                     for row in range(widget.count())
                     if not widget.item(row).isHidden()
                     and widget.item(row).checkState() == Qt.CheckState.Checked)

    def payload(self) -> RfqDraft:
        suppliers = self._ticked(self.supplier_list)
        if not suppliers:
            raise UserFacingError(self.tr("Tick at least one supplier."))
        if not self.requirements.toPlainText().strip():
            raise UserFacingError(self.tr("Write the requirements: what should be quoted."))
        due = self.due_edit.date().toPython() if self.due_check.isChecked() else None
        assert due is None or isinstance(due, dt.date)
        return RfqDraft(suppliers, self.requirements.toPlainText(), due,
                        self.instructions.toPlainText(), self._ticked(self.document_list))


class RecordQuoteDialog(SubmitDialog):
    """A supplier's quote for one RFQ: lines, currency, lead time, validity."""

    COLUMNS = ("Description", "Quantity", "Unit", "Unit price")

    def __init__(self, rfq: RfqRow, formatter: Formatter, parent: QWidget | None = None) -> None:
        super().__init__("", "", parent)
        self.rfq = rfq
        self._formatter = formatter
        self.setWindowTitle(self.tr("Record quote for {number}").format(number=rfq.rfq_number))
        self.set_ok_text(self.tr("Record quote"))
        self.setMinimumWidth(680)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.addWidget(_plain(self.tr("{supplier} — {number}").format(
            supplier=rfq.supplier_name, number=rfq.rfq_number)))
        form = QFormLayout()
        self.number_edit = QLineEdit()
        self.number_edit.setPlaceholderText(self.tr("The supplier's quote number (optional)"))
        add_form_row(form, self.tr("Quote number:"), self.number_edit)
        self.currency_edit = QLineEdit(formatter.currency)
        self.currency_edit.setMaxLength(3)
        self.currency_edit.setMaximumWidth(80)
        add_form_row(form, self.tr("Currency:"), self.currency_edit)
        self.lead_spin = QSpinBox()
        self.lead_spin.setRange(-1, 3650)
        self.lead_spin.setSpecialValueText(self.tr("not given"))
        self.lead_spin.setSuffix(self.tr(" days"))
        self.lead_spin.setValue(-1)
        add_form_row(form, self.tr("Lead time:"), self.lead_spin)
        valid_row = QWidget()
        valid_layout = QHBoxLayout(valid_row)
        valid_layout.setContentsMargins(0, 0, 0, 0)
        self.valid_check = QCheckBox(self.tr("Valid until"))
        self.valid_check.setChecked(True)
        self.valid_edit = QDateEdit(QDate.currentDate().addDays(DEFAULT_VALID_DAYS))
        self.valid_edit.setCalendarPopup(True)
        self.valid_check.toggled.connect(self.valid_edit.setEnabled)
        valid_layout.addWidget(self.valid_check)
        valid_layout.addWidget(self.valid_edit)
        valid_layout.addStretch(1)
        add_form_row(form, self.tr("Validity:"), valid_row)
        layout.addLayout(form)
        self.lines = QTableWidget(0, len(self.COLUMNS))
        self.lines.setHorizontalHeaderLabels([self.tr(c) for c in self.COLUMNS])
        self.lines.verticalHeader().setVisible(False)
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.lines.setMinimumHeight(150)
        self.lines.itemChanged.connect(self._update_total)
        layout.addWidget(self.lines)
        line_buttons = QHBoxLayout()
        self.add_line_button = QPushButton(self.tr("Add line"))
        self.remove_line_button = QPushButton(self.tr("Remove line"))
        self.add_line_button.clicked.connect(lambda: self.add_line())
        self.remove_line_button.clicked.connect(self.remove_line)
        line_buttons.addWidget(self.add_line_button)
        line_buttons.addWidget(self.remove_line_button)
        line_buttons.addStretch(1)
        self.total_label = _plain()
        line_buttons.addWidget(self.total_label)
        layout.addLayout(line_buttons)
        self.add_line()
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def add_line(self, description: str = "", quantity: str = "1", unit: str = "pcs",
                 unit_price: str = "") -> int:
        row = self.lines.rowCount()
        self.lines.insertRow(row)
        self.set_line(row, description, quantity, unit, unit_price)
        return row

    def set_line(self, row: int, description: str, quantity: str, unit: str,
                 unit_price: str) -> None:
        """Fill a line as a person would type it."""
        for column, value in enumerate((description, quantity, unit, unit_price)):
            self.lines.setItem(row, column, QTableWidgetItem(value))

    def remove_line(self) -> None:
        row = self.lines.currentRow()
        if row >= 0:
            self.lines.removeRow(row)
            self._update_total()

    def _cell(self, row: int, column: int) -> str:
        item = self.lines.item(row, column)
        return item.text() if item else ""

    def _read_lines(self) -> list[QuoteLineInput]:
        lines = []
        for row in range(self.lines.rowCount()):
            description, quantity, unit, price = (self._cell(row, c) for c in range(4))
            if not any(v.strip() for v in (description, price)):
                continue  # an empty line is left out
            no = row + 1
            if not description.strip():
                raise UserFacingError(self.tr("Line {no} needs a description.").format(no=no))
            try:
                amount = parse_number(quantity)
            except NumberProblem as problem:
                raise UserFacingError(self.tr(
                    "The quantity of line {no}: {problem}").format(
                        no=no, problem=problem)) from None
            try:
                unit_price = parse_number(price)
            except NumberProblem as problem:
                raise UserFacingError(self.tr(
                    "The unit price of line {no}: {problem}").format(
                        no=no, problem=problem)) from None
            lines.append(QuoteLineInput(description, amount, unit_price, unit.strip() or "pcs"))
        return lines

    def _update_total(self) -> None:
        try:
            total = sum((ln.quantity * ln.unit_price for ln in self._read_lines()), Decimal(0))
        except UserFacingError:
            self.total_label.setText("")
            return
        currency = self.currency_edit.text().strip().upper()
        self.total_label.setText(self.tr("Total: {total}").format(
            total=money_in(self._formatter, total.quantize(Decimal("0.01")), currency)))

    def payload(self) -> QuoteInput:
        lines = self._read_lines()
        if not lines:
            raise UserFacingError(self.tr("Enter at least one quoted line."))
        valid = self.valid_edit.date().toPython() if self.valid_check.isChecked() else None
        assert valid is None or isinstance(valid, dt.date)
        lead = self.lead_spin.value()
        return QuoteInput(tuple(lines), self.currency_edit.text().strip().upper(),
                          None if lead < 0 else lead, valid, self.number_edit.text())


class CompareQuotesDialog(QDialog):
    """The quotes side by side (one column each), cheapest and fastest marked; Award."""

    sig_award = Signal(object)  # QuoteRow

    def __init__(self, comparison: Comparison, formatter: Formatter,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison = comparison
        self.setWindowTitle(self.tr("Compare quotes"))
        self.setMinimumSize(720, 420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        quotes = comparison.quotes
        if comparison.mixed_currencies:
            layout.addWidget(_plain(self.tr(
                "The quotes are in different currencies: compare the totals yourself.")))
        self.table = QTableWidget(0, len(quotes))
        self.table.setHorizontalHeaderLabels([q.supplier_name for q in quotes])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectColumns)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        rows: list[tuple[str, list[str]]] = [
            (self.tr("Marks"), [self.marks(q) for q in quotes]),
            (self.tr("Total"), [money_in(formatter, q.total, q.currency) for q in quotes]),
            (self.tr("Currency"), [q.currency for q in quotes]),
            (self.tr("Lead time"), [self.tr("{n} days").format(n=q.lead_time_days)
                                    if q.lead_time_days is not None else "" for q in quotes]),
            (self.tr("Valid until"), [formatter.date(q.valid_until) for q in quotes]),
            (self.tr("RFQ"), [q.rfq_number or "" for q in quotes]),
            (self.tr("Quote number"), [q.quote_number or "" for q in quotes]),
            (self.tr("Status"), [q.status.replace("_", " ") for q in quotes]),
        ]
        for line in comparison.lines:
            whole = line.quantity == line.quantity.to_integral()
            label = self.tr("Line {no}: {text} ({qty} {unit})").format(
                no=line.line_no, text=line.description,
                qty=formatter.number(line.quantity, 0 if whole else 3), unit=line.unit)
            rows.append((label, [money_in(formatter, line.unit_prices.get(q.id), q.currency)
                                 for q in quotes]))
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels([label for label, _cells in rows])
        bold = QFont()
        bold.setBold(True)
        for r, (_label, cells) in enumerate(rows):
            for c, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if r == 0 and value:
                    item.setFont(bold)
                self.table.setItem(r, c, item)
        layout.addWidget(self.table, 1)
        self.empty_label = _plain(self.tr("No quotes recorded yet."))
        self.empty_label.setVisible(not quotes)
        layout.addWidget(self.empty_label)
        self.result_label = _plain()
        self.result_label.setObjectName("ok")
        self.result_label.hide()
        layout.addWidget(self.result_label)
        self.error_label = _plain()
        self.error_label.setObjectName("error")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.award_button = QPushButton(self.tr("Award to selected"))
        self.award_button.setObjectName("primary")
        buttons.addButton(self.award_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.award_button.clicked.connect(self.award_selected)
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(buttons)
        self._selected()

    def marks(self, quote: QuoteRow) -> str:
        marks = []
        if quote.id in self.comparison.cheapest:
            marks.append(self.tr("★ Cheapest"))
        if quote.id in self.comparison.fastest:
            marks.append(self.tr("⚡ Fastest"))
        if quote.status == "accepted":
            marks.append(self.tr("✓ Awarded"))
        return "  ".join(marks)

    def selected_quote(self) -> QuoteRow | None:
        columns = self.table.selectionModel().selectedColumns()
        if not columns:
            return None
        return self.comparison.quotes[columns[0].column()]

    def select_quote(self, quote_id: uuid.UUID) -> None:
        for column, quote in enumerate(self.comparison.quotes):
            if quote.id == quote_id:
                self.table.selectColumn(column)

    def _selected(self) -> None:
        quote = self.selected_quote()
        awarded = any(q.status == "accepted" for q in self.comparison.quotes)
        self.award_button.setEnabled(quote is not None and not awarded and quote.status in (
            "draft", "submitted", "under_review"))

    def award_selected(self) -> None:
        quote = self.selected_quote()
        if quote is None:
            return
        self.award_button.setEnabled(False)
        self.error_label.hide()
        self.sig_award.emit(quote)

    def awarded(self, text: str) -> None:
        self.result_label.setText(text)
        self.result_label.show()
        self.award_button.setEnabled(False)

    def failed(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self._selected()
