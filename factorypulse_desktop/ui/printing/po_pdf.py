"""The purchase order as the supplier receives it: one PDF made with QPdfWriter.

The document is built with a QTextCursor, so every value — the supplier's name, an item, the
notes — goes in as plain text and can never be read as markup (T-IN-10).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import (
    QFont,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextLength,
    QTextTableFormat,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services.purchase_orders import PrintableOrder
from factorypulse_desktop.ui.formatting import Formatter

HEADERS = ("#", "Item", "Quantity", "Unit", "Unit price", "Amount")
WIDTHS = (6, 40, 13, 9, 16, 16)  # percent of the page width


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"  # 12.000 -> 12, 2.500 -> 2.5


def build_document(order: PrintableOrder, formatter: Formatter) -> QTextDocument:
    """The order as a text document (also usable for a print preview)."""
    money = Formatter(formatter.locale.name(), order.currency)
    document = QTextDocument()
    document.setDefaultFont(QFont("Sans Serif", 10))
    cursor = QTextCursor(document)
    title = QTextCharFormat()
    title.setFontPointSize(18)
    title.setFontWeight(QFont.Weight.Bold)
    bold = QTextCharFormat()
    bold.setFontWeight(QFont.Weight.Bold)
    plain = QTextCharFormat()

    cursor.insertText(order.organization, bold)
    cursor.insertBlock()
    cursor.insertText(f"Purchase order {order.po_number}", title)
    cursor.insertBlock()
    facts = [("Order date", formatter.date(order.order_date)),
             ("Deliver by", formatter.date(order.due_date) or "as agreed"),
             ("Currency", order.currency)]
    for label, value in facts:
        cursor.insertText(f"{label}: ", bold)
        cursor.insertText(value, plain)
        cursor.insertBlock()
    cursor.insertBlock()
    cursor.insertText("Supplier", bold)
    for part in (order.supplier, *order.supplier_address):
        cursor.insertBlock()
        cursor.insertText(part, plain)
    cursor.insertBlock()
    cursor.insertBlock()

    table_format = QTextTableFormat()
    table_format.setHeaderRowCount(1)
    table_format.setCellPadding(3)
    table_format.setCellSpacing(0)
    table_format.setBorder(0.5)
    table_format.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
    table_format.setColumnWidthConstraints(
        [QTextLength(QTextLength.Type.PercentageLength, w) for w in WIDTHS])
    table = cursor.insertTable(len(order.lines) + 2, len(HEADERS), table_format)
    for column, header in enumerate(HEADERS):
        table.cellAt(0, column).firstCursorPosition().insertText(header, bold)
    for row, line in enumerate(order.lines, start=1):
        item = line.item_name if not line.item_code else f"{line.item_code} {line.item_name}"
        if line.description:
            item = f"{item}\n{line.description}"
        values = (str(line.line_no), item, _quantity(line.quantity), line.unit,
                  money.money(line.unit_price), money.money(line.total_price))
        for column, value in enumerate(values):
            table.cellAt(row, column).firstCursorPosition().insertText(value, plain)
    last = len(order.lines) + 1
    table.mergeCells(last, 0, 1, len(HEADERS) - 1)
    table.cellAt(last, 0).firstCursorPosition().insertText("Total", bold)
    table.cellAt(last, len(HEADERS) - 1).firstCursorPosition().insertText(
        money.money(order.total), bold)
    cursor.movePosition(QTextCursor.MoveOperation.End)
    if order.notes:
        cursor.insertBlock()
        cursor.insertText("Notes", bold)
        cursor.insertBlock()
        cursor.insertText(order.notes, plain)
    cursor.insertBlock()
    cursor.insertBlock()
    cursor.insertText(f"Please quote {order.po_number} on your order confirmation, delivery "
                      "note and invoice.", plain)
    return document


def write_pdf(order: PrintableOrder, path: Path, formatter: Formatter) -> Path:
    """Write the order to `path` (A4); a UserFacingError when the file cannot be written."""
    document = build_document(order, formatter)
    try:
        with path.open("ab"):
            pass  # a clear message now rather than an empty result from Qt later
    except OSError as error:
        raise UserFacingError(f"The PDF cannot be written to {path}: {error.strerror or error}. "
                              "Choose another folder.") from error
    writer = QPdfWriter(str(path))
    writer.setTitle(f"Purchase order {order.po_number}")
    writer.setCreator("Factory Pulse")
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    document.print_(writer)  # paginates onto the writer's pages
    return path
