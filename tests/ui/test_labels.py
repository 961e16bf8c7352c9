"""The label sheet: a real PDF whose text holds the codes and whose barcodes scan back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from factorypulse_desktop.domain import code39
from factorypulse_desktop.ui.printing import labels


@dataclass(frozen=True)
class Item:
    item_code: str
    item_name: str


def _scan_line(bitmap: Any, y: int, x0: int, x1: int) -> list[tuple[bool, int]]:
    """Runs of dark and light pixels along one row, as a scanner's beam sees them."""
    row = bytes(bitmap.buffer)[y * bitmap.stride:(y + 1) * bitmap.stride]
    runs: list[tuple[bool, int]] = []
    for x in range(x0, x1):
        dark = row[x] < 128
        if runs and runs[-1][0] == dark:
            runs[-1] = (dark, runs[-1][1] + 1)
        else:
            runs.append((dark, 1))
    while runs and not runs[0][0]:
        runs.pop(0)
    while runs and not runs[-1][0]:
        runs.pop()
    narrow = min(width for _dark, width in runs)
    return [(dark, 3 if width > 2 * narrow else 1) for dark, width in runs]


def test_label_sheet_renders_with_codes_and_scannable_barcodes(qtbot: Any, tmp_path: Path) -> None:
    items = [Item(f"RM-{n:04d}", f"Steel plate {n} mm <b>bold?</b>") for n in range(30)]
    items.append(Item("odd_code", "Underscore cannot be a Code 39 character"))
    target = tmp_path / "labels.pdf"
    assert labels.write_labels(items, target) == 2  # 31 labels, 24 per page
    pdf = pdfium.PdfDocument(str(target))
    assert len(pdf) == 2
    first = pdf[0].get_textpage().get_text_range()
    assert "RM-0000" in first and "RM-0023" in first and "RM-0024" not in first
    assert "<b>bold?</b>" in first  # plain text, never markup
    second = pdf[1].get_textpage().get_text_range()
    assert "odd_code" in second and "No barcode" in second
    # Read the first label's barcode back from the rendered page.
    bitmap = pdf[0].render(scale=300 / 72, grayscale=True)
    dpmm = 300 / 25.4
    y = int((labels.TOP_MM + 3 + 9.5) * dpmm)  # below code and name, inside the bars
    x0, x1 = int(2 * dpmm), int(68 * dpmm)
    assert code39.decode(_scan_line(bitmap, y, x0, x1)) == "RM-0000"


def test_code39_round_trip_and_refusal() -> None:
    assert code39.decode(code39.encode("AB-12.5")) == "AB-12.5"
    with pytest.raises(ValueError, match="_"):
        code39.encode("A_B")
