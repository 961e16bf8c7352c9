"""Previews rendered in a separate, limited process (T-IN-07).

Every hostile input is built here, in tmp_path, at test time: no binary fixtures.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from PySide6.QtGui import QImage, QImageReader
from support import one_page_pdf

from factorypulse_desktop.preview import runner
from factorypulse_desktop.preview.runner import (
    PreviewCancelled,
    PreviewError,
    preview_kind,
    render_preview,
    worker_command,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
MIB = 1024 * 1024


# -- building inputs ---------------------------------------------------------------------

def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _png(width: int, height: int, bit_depth: int, color_type: int, idat: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def _zero_rows_idat(width_bytes: int, height: int) -> bytes:
    """The compressed pixels of an all-zero image, streamed: never the raw image in memory."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + width_bytes)  # filter byte + pixels
    parts = [compressor.compress(row) for _ in range(height)]
    return b"".join([*parts, compressor.flush()])


def _zeros(total: int, chunk: int = MIB) -> Iterator[bytes]:
    block = bytes(chunk)
    for _ in range(total // chunk):
        yield block


# -- watching the worker -----------------------------------------------------------------

@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    """The processes render_preview starts, to check afterwards that none is left."""
    processes: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def recording(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        process: subprocess.Popen[bytes] = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        processes.append(process)
        return process

    monkeypatch.setattr(runner.subprocess, "Popen", recording)
    return processes


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _assert_all_gone(processes: list[subprocess.Popen[bytes]]) -> None:
    assert processes, "no worker was started"
    for process in processes:
        assert process.returncode is not None
        assert _gone(process.pid)


# -- which files get a preview -----------------------------------------------------------

@pytest.mark.parametrize(("name", "mime", "kind"), [
    ("drawing.PNG", None, "image"),
    ("photo.jpeg", "image/jpeg", "image"),
    ("scan.tif", None, "image"),
    ("offer.pdf", None, "pdf"),
    ("part.step", None, "text"),
    ("program.gcode", None, "text"),
    ("notes", "text/plain; charset=utf-8", "text"),
    ("blob", "application/pdf", "pdf"),
    ("archive.zip", "application/zip", None),
    ("logo.svg", "image/svg+xml", None),
    ("setup.exe", None, None),
    ("", None, None),
])
def test_preview_kind(name: str, mime: str | None, kind: str | None) -> None:
    assert preview_kind(name, mime) == kind


def test_worker_command_from_source_and_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert worker_command() == [sys.executable, "-m", "factorypulse_desktop.preview.worker"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert worker_command() == [sys.executable, "--preview-worker"]


def test_unknown_kind_starts_no_process(tmp_path: Path,
                                        started: list[subprocess.Popen[bytes]]) -> None:
    with pytest.raises(PreviewError, match="has no preview") as caught:
        render_preview(tmp_path / "x.zip", "zip", tmp_path)
    assert caught.value.code == "unsupported"
    assert started == []


def test_zero_memory_budget_is_a_caller_bug(tmp_path: Path) -> None:
    # Zero would mean "unlimited" to Qt's allocation limit.
    with pytest.raises(ValueError, match="memory_mb"):
        render_preview(tmp_path / "x.png", "image", tmp_path, memory_mb=0)


# -- images ------------------------------------------------------------------------------

def test_large_png_is_scaled_to_max_side(tmp_path: Path,
                                         started: list[subprocess.Popen[bytes]]) -> None:
    source = tmp_path / "wide.png"
    image = QImage(3200, 800, QImage.Format.Format_RGB32)
    image.fill(0x336699)
    assert image.save(str(source))

    result = render_preview(source, "image", tmp_path, max_side=1600)

    assert result.kind == "image" and result.text is None and result.page_count is None
    assert result.png_path is not None and result.png_path.parent == tmp_path
    reader = QImageReader(str(result.png_path))
    assert bytes(reader.format().data()) == b"png"
    assert (reader.size().width(), reader.size().height()) == (1600, 400)
    _assert_all_gone(started)


def test_T_IN_07_huge_dimensions_png_refused_from_header(
        tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    source = tmp_path / "huge.png"
    # 50,000 x 50,000 RGB: 7.5 GB of pixels behind a 74-byte file.
    source.write_bytes(_png(50_000, 50_000, 8, 2, zlib.compress(bytes(1000))))

    began = time.monotonic()
    with pytest.raises(PreviewError, match="too large") as caught:
        render_preview(source, "image", tmp_path)
    elapsed = time.monotonic() - began

    # "too_large" comes from the header check only: a decode would have hit RLIMIT_AS
    # ("memory") long before finishing, and taken far longer.
    assert caught.value.code == "too_large"
    assert elapsed < 3.0
    assert list(tmp_path.glob("preview-*")) == []
    _assert_all_gone(started)


def test_T_IN_07_png_decompression_bomb(tmp_path: Path) -> None:
    # 20,000 x 20,000 1-bit grey, all zero: 50 MB of rows deflate to ~50 KB in ~0.2 s.
    source = tmp_path / "bomb.png"
    source.write_bytes(_png(20_000, 20_000, 1, 0, _zero_rows_idat(20_000 // 8, 20_000)))
    assert source.stat().st_size < 100_000

    with pytest.raises(PreviewError, match="too large"):
        render_preview(source, "image", tmp_path)


def test_T_IN_07_image_over_memory_budget_refused(tmp_path: Path) -> None:
    # 9,000 x 9,000 is under the pixel cap, but decodes to ~324 MB: over a 64 MB budget.
    source = tmp_path / "big.png"
    source.write_bytes(_png(9_000, 9_000, 1, 0, _zero_rows_idat(9_000 // 8 + 1, 9_000)))

    with pytest.raises(PreviewError, match="too large"):
        render_preview(source, "image", tmp_path, memory_mb=64)


def test_svg_named_png_never_reaches_the_svg_decoder(tmp_path: Path) -> None:
    # Qt itself would sniff the content and render this SVG (checked): the worker refuses.
    source = tmp_path / "logo.png"
    source.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')

    with pytest.raises(PreviewError, match="has no preview") as caught:
        render_preview(source, "image", tmp_path)
    assert caught.value.code == "unsupported"


# -- PDF ---------------------------------------------------------------------------------

def test_small_pdf_renders_first_page(tmp_path: Path,
                                      started: list[subprocess.Popen[bytes]]) -> None:
    source = tmp_path / "offer.pdf"
    source.write_bytes(one_page_pdf("Hello"))

    result = render_preview(source, "pdf", tmp_path, max_side=200)

    assert result.kind == "image"
    assert result.page_count == 1
    assert result.note == "Page 1 of 1"
    assert result.png_path is not None
    image = QImage(str(result.png_path))
    assert max(image.width(), image.height()) == 200
    # The text was drawn: some pixel is dark (a wrong stride or format would not show this).
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    assert any(grey.pixelColor(x, y).value() < 128
               for y in range(grey.height()) for x in range(grey.width()))
    _assert_all_gone(started)


def test_T_IN_07_malformed_pdf(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    source = tmp_path / "broken.pdf"
    source.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)

    with pytest.raises(PreviewError, match="may be damaged") as caught:
        render_preview(source, "pdf", tmp_path)

    assert caught.value.code == "damaged"
    _assert_all_gone(started)


# -- text --------------------------------------------------------------------------------

def test_text_is_plain_text_without_control_characters(tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    markup = "<img src=x onerror=alert(1)>"
    source.write_bytes(f"a\u202etxt.exe {markup}\r\nb\x00c\x1b[31m\td\x7f\x85\n".encode())

    result = render_preview(source, "text", tmp_path)

    # Markup and bidi marks are content: the UI shows them as plain text.
    assert result.text == f"a\u202etxt.exe {markup}\nbc[31m\td\n"
    assert result.kind == "text" and result.note is None and result.png_path is None
    assert list(tmp_path.glob("preview-*")) == []  # the hand-over file is gone


def test_text_falls_back_to_windows_1252(tmp_path: Path) -> None:
    source = tmp_path / "legacy.csv"
    source.write_bytes("Maß;Preis\n25 mm;12 €\n".encode("cp1252"))

    assert render_preview(source, "text", tmp_path).text == "Maß;Preis\n25 mm;12 €\n"


def test_T_IN_07_zip_bomb(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("zeros.bin", "w", force_zip64=True) as entry:
        for block in _zeros(1024 * MIB):
            entry.write(block)
    assert bomb.stat().st_size < 2 * MIB
    assert zipfile.ZipFile(bomb).getinfo("zeros.bin").file_size == 1024 * MIB

    assert preview_kind(bomb.name, "application/zip") is None
    # Forced to text, only the first 200 KB of the archive's bytes are read: never expanded.
    result = render_preview(bomb, "text", tmp_path)

    assert result.note == "First 200 KB shown"
    assert result.text is not None and 0 < len(result.text) <= 200 * 1024
    assert not any(ch < " " and ch not in "\t\n" for ch in result.text)


# -- misbehaving workers -----------------------------------------------------------------

def test_T_IN_07_hanging_worker_is_killed_on_timeout(
        tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    began = time.monotonic()
    with pytest.raises(PreviewError, match="took too long") as caught:
        render_preview(tmp_path / "x.txt", "text", tmp_path, timeout_s=1.0, command=SLEEPER)

    assert caught.value.code == "timeout"
    assert time.monotonic() - began < 2.0
    _assert_all_gone(started)


def test_T_IN_07_memory_hungry_worker_is_killed(
        tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    # Started as-is, this program sets no RLIMIT_AS: the RSS watchdog must stop it.
    hungry = [sys.executable, "-c", "b = bytearray(2_000_000_000); import time; time.sleep(5)"]
    own_rss = psutil.Process().memory_info().rss

    with pytest.raises(PreviewError, match="too much memory") as caught:
        render_preview(tmp_path / "x.txt", "text", tmp_path, memory_mb=200, command=hungry)

    assert caught.value.code == "memory"
    assert psutil.Process().memory_info().rss - own_rss < 20 * MIB
    _assert_all_gone(started)


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_AS is POSIX only")
def test_T_IN_07_worker_address_space_limit_turns_allocation_into_memory_error(
        tmp_path: Path) -> None:
    # The worker's own limit (200 MB + baseline) makes a 2 GB allocation fail at once.
    limited = [sys.executable, "-c",
               "from factorypulse_desktop.preview import worker; worker.limit_resources(200, 10); "
               "b = bytearray(2_000_000_000)"]

    with pytest.raises(PreviewError, match="too much memory"):
        render_preview(tmp_path / "x.txt", "text", tmp_path, memory_mb=200, command=limited)


def test_T_IN_07_cancel_stops_the_worker(tmp_path: Path,
                                         started: list[subprocess.Popen[bytes]]) -> None:
    began = time.monotonic()

    def cancelled() -> bool:
        return time.monotonic() - began > 0.2

    with pytest.raises(PreviewCancelled, match="Preview cancelled"):
        render_preview(tmp_path / "x.txt", "text", tmp_path, cancelled=cancelled,
                       command=SLEEPER)

    assert time.monotonic() - began < 1.0
    _assert_all_gone(started)
