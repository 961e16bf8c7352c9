"""The RFQ document for a supplier renders as a PDF with what the supplier needs to read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pypdfium2 as pdfium
from PySide6.QtWidgets import QApplication

from factorypulse_desktop.services.supplier_rfqs import RfqDocumentData
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.printing.rfq_pdf import write_rfq_pdf

HTML = '<b>Bold</b> <a href="https://evil.example">click</a>'


def pdf_text(path: Path) -> str:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def test_rfq_pdf_renders_with_number_requirements_and_documents(
        qapp: QApplication, tmp_path: Path) -> None:
    data = RfqDocumentData(
        organization_name="Acme Precision Manufacturing", rfq_number="RFQ-26112601",
        status="sent", project_number="P-26112503", project_title="Pump bracket",
        supplier_name="TrueCut CNC Services", supplier_contact="Tom Becker",
        supplier_email="tom.becker@truecut-cnc.example",
        requirements="200 pcs 6061-T6 brackets per drawing B-100\nRa 1.6 on sealing faces " + HTML,
        special_instructions="Material certificates 3.1",
        due_date=dt.date(2026, 12, 3), expected_response_date=None,
        sent_at=dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC),
        document_titles=("Drawing B-100", "Specification S-7"),
        buyer_name="Grace Liu", buyer_email=None)
    path = write_rfq_pdf(data, tmp_path / "rfq.pdf", Formatter())
    assert path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    for expected in ("RFQ-26112601", "TrueCut CNC Services", "Pump bracket",
                     "Drawing B-100", "Specification S-7", "Ra 1.6 on sealing faces",
                     "Acme Precision Manufacturing", "12/3/26"):
        assert expected in text, expected
    assert "<b>Bold</b>" in text  # typed markup is printed as typed, never interpreted


def test_a_long_rfq_flows_onto_more_pages(qapp: QApplication, tmp_path: Path) -> None:
    data = RfqDocumentData("Acme", "RFQ-26112602", "draft", "P-1", "Frame", "Keystone", None,
                           None, "\n".join(f"Requirement line {n}" for n in range(300)), "",
                           None, None, None, (), None, None)
    path = write_rfq_pdf(data, tmp_path / "long.pdf", Formatter())
    pdf = pdfium.PdfDocument(str(path))
    try:
        assert len(pdf) > 1
    finally:
        pdf.close()
    assert "Requirement line 299" in pdf_text(path)
