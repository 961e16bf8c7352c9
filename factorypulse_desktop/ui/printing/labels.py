"""A PDF sheet of item labels: code, name and a Code 39 barcode of the code (QPdfWriter).

A4 with 3 x 8 labels of 70 x 37 mm (the common self-adhesive sheet). The barcode is drawn as
rectangles from ``domain.code39``; a handheld scanner acting as a keyboard types the item code
back. A code with characters Code 39 cannot hold gets its label without a barcode and says so.
Text is drawn as plain text, never interpreted (T-IN-10).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPageLayout, QPageSize, QPainter, QPdfWriter

from factorypulse_desktop.domain import code39

COLUMNS, ROWS = 3, 8
LABEL_W_MM, LABEL_H_MM = 70.0, 37.0
TOP_MM = (297.0 - ROWS * LABEL_H_MM) / 2
DPI = 300


class LabelItem(Protocol):
    @property
    def item_code(self) -> str: ...

    @property
    def item_name(self) -> str: ...


def _mm(value: float) -> float:
    return value * DPI / 25.4


def write_labels(items: Sequence[LabelItem], path: str | Path, *, copies: int = 1) -> int:
    """Write a PDF of labels for ``items`` (``copies`` of each) to ``path``; returns the
    number of pages."""
    if not items:
        raise ValueError("no items to print labels for")
    writer = QPdfWriter(str(path))
    writer.setResolution(DPI)
    writer.setTitle("Item labels")
    writer.setCreator("Factory Pulse")
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4),
                                     QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    per_page = COLUMNS * ROWS
    queue = [item for item in items for _ in range(max(1, copies))]
    painter = QPainter(writer)
    pages = 1
    try:
        for index, item in enumerate(queue):
            if index and index % per_page == 0:
                writer.newPage()
                pages += 1
            slot = index % per_page
            x = _mm(slot % COLUMNS * LABEL_W_MM)
            y = _mm(TOP_MM + slot // COLUMNS * LABEL_H_MM)
            _draw_label(painter, QRectF(x, y, _mm(LABEL_W_MM), _mm(LABEL_H_MM)), item)
    finally:
        painter.end()
    return pages


def _draw_label(painter: QPainter, box: QRectF, item: LabelItem) -> None:
    inner = box.adjusted(_mm(4), _mm(3), -_mm(4), -_mm(3))
    bold = QFont("Helvetica")
    bold.setPixelSize(int(_mm(4.2)))
    bold.setBold(True)
    painter.setFont(bold)
    painter.setPen(QColor("black"))
    code_h = QFontMetricsF(bold).height()
    painter.drawText(QRectF(inner.left(), inner.top(), inner.width(), code_h),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                     _elide(item.item_code, bold, inner.width()))
    plain = QFont("Helvetica")
    plain.setPixelSize(int(_mm(3.2)))
    painter.setFont(plain)
    name_h = QFontMetricsF(plain).height()
    painter.drawText(QRectF(inner.left(), inner.top() + code_h, inner.width(), name_h),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                     _elide(" ".join(item.item_name.split()), plain, inner.width()))
    bars = QRectF(inner.left(), inner.top() + code_h + name_h + _mm(1), inner.width(),
                  inner.bottom() - (inner.top() + code_h + name_h + _mm(1)))
    try:
        elements = code39.encode(item.item_code)
    except ValueError:
        painter.drawText(bars, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         "No barcode: the code has characters a barcode cannot hold.")
        return
    total = sum(width for _bar, width in elements)
    module = bars.width() / total
    x = bars.left()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("black"))
    for is_bar, width in elements:
        if is_bar:
            painter.drawRect(QRectF(x, bars.top(), module * width, bars.height()))
        x += module * width
    painter.setBrush(Qt.BrushStyle.NoBrush)


def _elide(value: str, font: QFont, width: float) -> str:
    return QFontMetricsF(font).elidedText(value, Qt.TextElideMode.ElideRight, width)
