"""The RFQ document sent to a supplier, as a PDF written with Qt (QPdfWriter).

Built with a text cursor, never from HTML: every value (requirements, titles, names) is
inserted as plain text, so nothing a person typed is read as markup (T-IN-10).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import (
    QFont,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextTableFormat,
)

from factorypulse_desktop.services.supplier_rfqs import RfqDocumentData
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.documents_model import format_moment

__all__ = ["build_rfq_document", "write_rfq_pdf"]

_BODY_PT = 10.0


def _format(size: float = _BODY_PT, *, bold: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setFontPointSize(size)
    fmt.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
    return fmt


def build_rfq_document(data: RfqDocumentData, formatter: Formatter) -> QTextDocument:
    """The RFQ as a text document: who asks, what for, by when, with which documents."""
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    cursor = QTextCursor(doc)
    cursor.insertText(data.organization_name, _format(16, bold=True))
    cursor.insertBlock()
    cursor.insertText(f"Request for Quotation {data.rfq_number}", _format(14, bold=True))
    cursor.insertBlock()
    cursor.insertBlock()

    fields: list[tuple[str, str]] = [
        ("RFQ number", data.rfq_number),
        ("To", data.supplier_name),
        ("Attention", ", ".join(filter(None, (data.supplier_contact, data.supplier_email)))),
        ("Project", " ".join(filter(None, (data.project_number, data.project_title)))),
        ("Quote due by", formatter.date(data.due_date) or "as soon as possible"),
        ("Expected response", formatter.date(data.expected_response_date)),
        ("Sent", format_moment(formatter, data.sent_at)),
        ("Buyer", ", ".join(filter(None, (data.buyer_name, data.buyer_email)))),
    ]
    fields = [(label, value) for label, value in fields if value]
    table_format = QTextTableFormat()
    table_format.setBorder(0)
    table_format.setCellPadding(2)
    table = cursor.insertTable(len(fields), 2, table_format)
    for row, (label, value) in enumerate(fields):
        table.cellAt(row, 0).firstCursorPosition().insertText(label, _format(bold=True))
        table.cellAt(row, 1).firstCursorPosition().insertText(value, _format())
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertBlock()

    def section(title: str, body: str) -> None:
        cursor.insertBlock()
        cursor.insertText(title, _format(12, bold=True))
        for line in body.splitlines() or [""]:
            cursor.insertBlock()
            cursor.insertText(line, _format())
        cursor.insertBlock()

    section("Requirements", data.requirements)
    if data.special_instructions:
        section("Special instructions", data.special_instructions)
    if data.document_titles:
        section("Attached documents", "\n".join(f"• {t}" for t in data.document_titles))
    section("How to answer", "Please quote per line: description, quantity, unit price, "
                             f"currency, lead time and validity, quoting {data.rfq_number}.")
    return doc


def write_rfq_pdf(data: RfqDocumentData, path: str | Path, formatter: Formatter) -> Path:
    """Write the RFQ to `path` as an A4 PDF; returns the path."""
    target = Path(path)
    writer = QPdfWriter(str(target))
    writer.setTitle(f"RFQ {data.rfq_number}")
    writer.setCreator("Factory Pulse")
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Portrait,
                                     QMarginsF(18, 18, 18, 18), QPageLayout.Unit.Millimeter))
    doc = build_rfq_document(data, formatter)
    # Lay the text out on the printable area in points, as QTextDocument.print_ expects.
    rect = writer.pageLayout().paintRect(QPageLayout.Unit.Point)
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    doc.print_(writer)
    return target
