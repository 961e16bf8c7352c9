"""The supplier's copy of a purchase order renders as a PDF holding its number and total."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PySide6.QtWidgets import QApplication

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services.purchase_orders import OrderLine, PrintableOrder
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.printing.po_pdf import write_pdf


def _line(no: int, name: str, quantity: str, price: str) -> OrderLine:
    total = (Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))
    return OrderLine(uuid.uuid4(), no, None, f"IT-{no:03d}", name, None, Decimal(quantity),
                     "pcs", Decimal(price), total, Decimal(0), None)


def _order(lines: int = 2, notes: str | None = None) -> PrintableOrder:
    rows = tuple(_line(n, f"Bracket {n}", "12", "2.5") for n in range(1, lines + 1))
    return PrintableOrder(
        organization="Acme Fabrication", po_number="PO-26-0042", order_date=dt.date(2026, 11, 2),
        due_date=dt.date(2026, 11, 20), currency="EUR", supplier="Müller Stahl <GmbH>",
        supplier_address=("Anna Müller", "Hafenstraße 4", "20457 Hamburg", "Germany"),
        status="approved", notes=notes, lines=rows, total=sum(
            (r.total_price for r in rows), Decimal(0)))


def _text(path: Path) -> str:
    """The PDF's text without whitespace (extraction splits runs at odd places)."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        words = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()
    return "".join(words.split())


def _has(words: str, *needles: str) -> bool:
    return all("".join(n.split()) in words for n in needles)


def test_the_pdf_holds_number_supplier_lines_and_total(qapp: QApplication,
                                                       tmp_path: Path) -> None:
    path = write_pdf(_order(notes="<b>Deliver to dock 2</b>"), tmp_path / "po.pdf",
                     Formatter("en_US", "USD"))
    assert path.read_bytes().startswith(b"%PDF")
    words = _text(path)
    assert _has(words, "Purchase order PO-26-0042", "Acme Fabrication")
    assert _has(words, "Müller Stahl <GmbH>")  # plain text: no markup is read from it
    assert _has(words, "<b>Deliver to dock 2</b>", "IT-002 Bracket 2", "Hafenstraße 4")
    assert _has(words, "Total", "EUR60.00")  # 2 x 12 x 2.50, in the order's currency
    assert not _has(words, "EUR70.00")


def test_a_long_order_runs_onto_more_pages(qapp: QApplication, tmp_path: Path) -> None:
    path = write_pdf(_order(lines=120), tmp_path / "long.pdf", Formatter())
    pdf = pdfium.PdfDocument(str(path))
    try:
        assert len(pdf) > 1
    finally:
        pdf.close()
    assert _has(_text(path), "Bracket 120", "EUR3,600.00")


def test_an_unwritable_place_gets_a_message(qapp: QApplication, tmp_path: Path) -> None:
    with pytest.raises(UserFacingError, match="cannot be written"):
        write_pdf(_order(), tmp_path / "missing-folder" / "po.pdf", Formatter())
