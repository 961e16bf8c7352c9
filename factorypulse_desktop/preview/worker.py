"""The preview worker: renders one file in its own, limited process (T-IN-07).

Started by `preview.runner`::

    python -m factorypulse_desktop.preview.worker --kind image --source=F --out=D \
        --max-side 1600 --page 0 --memory-mb 512 --cpu-seconds 16

It sets its own resource limits before importing Qt or PDFium, so that even their start-up
runs under the cap, then prints exactly one JSON line on stdout:
``{"ok": true, "kind": ..., "png": ..., "text_path": ..., "page_count": ..., "note": ...}``
or ``{"ok": false, "error": CODE}`` with a non-zero exit. Tracebacks only go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

MIB = 1024 * 1024

# Address space the worker needs besides the file's own pixels: CPython, QtGui with its image
# plugins, PDFium, one render. Measured on Linux x86-64 (Python 3.11, PySide6 6.11.3,
# pypdfium2 5.15): VmPeak 101 MiB for a small PNG, 117 MiB for a one-page PDF at 1600 px,
# 17 MiB for text; under RLIMIT_AS the smallest cap that works is 100 MiB (PNG) and 120 MiB
# (PDF), below that QtGui fails to load. RLIMIT_AS = memory_mb + 256: twice the need, for
# other builds and platforms.
ADDRESS_SPACE_BASELINE_MB = 256

# Decoding cost is width x height x 4 bytes whatever the file size, so a 50,000 x 50,000 PNG
# of a few KB is refused from its header, before a single pixel is allocated.
MAX_IMAGE_PIXELS = 100_000_000
# Formats Qt may decode here. Qt picks the decoder from the content when the suffix lies, so
# an SVG (XML entities) or a PDF named .png must not reach the svg/pdf plugins.
IMAGE_FORMATS = frozenset({"png", "jpeg", "jpg", "gif", "bmp", "webp", "tif", "tiff"})

TEXT_LIMIT_BYTES = 200 * 1024
TEXT_TRUNCATED_NOTE = "First 200 KB shown"
# C0 controls (but tab and newline), DEL and C1 controls: they garble or hide text in a
# viewer. Format characters (bidi marks) are content and stay.
_CONTROL_CHARS = dict.fromkeys(
    [*(c for c in range(0x20) if c not in (0x09, 0x0A)), *range(0x7F, 0xA0)]
)

EXIT_OK = 0
EXIT_REFUSED = 3


class Refusal(Exception):
    """The file will not be previewed; `code` is one of the runner's error codes."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="preview-worker")
    parser.add_argument("--kind", required=True)
    parser.add_argument("--source", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--max-side", type=int, default=1600)
    parser.add_argument("--page", type=int, default=0)
    parser.add_argument("--memory-mb", type=int, default=512)
    parser.add_argument("--cpu-seconds", type=int, default=30)
    return parser.parse_args(argv)


def limit_resources(memory_mb: int, cpu_seconds: int) -> None:
    """Cap this process's address space and CPU time (POSIX; elsewhere the runner's RSS
    watchdog and timeout are the only guards)."""
    try:
        import resource
    except ImportError:  # Windows
        return
    _lower_limit(resource.RLIMIT_AS, (memory_mb + ADDRESS_SPACE_BASELINE_MB) * MIB)
    _lower_limit(resource.RLIMIT_CPU, cpu_seconds)


def _lower_limit(which: int, value: int) -> None:
    import resource

    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    # macOS refuses RLIMIT_AS; the runner's RSS watchdog still applies there.
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (value, value))


def fitted_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size that fits in max_side x max_side, keeping the aspect; never enlarged."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def check_image_dimensions(width: int, height: int, memory_mb: int) -> None:
    if width <= 0 or height <= 0:
        raise Refusal("damaged")
    pixels = width * height
    if pixels > MAX_IMAGE_PIXELS or pixels * 4 > memory_mb * MIB:
        raise Refusal("too_large")


def _new_file(out_dir: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="preview-", suffix=suffix, dir=out_dir)
    os.close(fd)
    return Path(name)


def save_png(image: QImage, out_dir: Path) -> Path:
    path = _new_file(out_dir, ".png")
    if not image.save(str(path)):  # the format follows the ".png" suffix
        raise OSError(f"could not write {path}")
    return path


def render_image(source: Path, out_dir: Path, max_side: int, memory_mb: int) -> dict[str, Any]:
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QImageReader

    # Qt's own guard against huge decodes (default 256 MB) follows the caller's budget.
    QImageReader.setAllocationLimit(memory_mb)
    reader = QImageReader(str(source))
    if bytes(reader.format().data()).decode("ascii", "replace").lower() not in IMAGE_FORMATS:
        raise Refusal("unsupported" if reader.canRead() else "damaged")
    size = reader.size()  # from the header only
    check_image_dimensions(size.width(), size.height(), memory_mb)
    width, height = fitted_size(size.width(), size.height(), max_side)
    if (width, height) != (size.width(), size.height()):
        # JPEG decodes straight at the smaller size; other formats scale after decoding.
        reader.setScaledSize(QSize(width, height))
    image = reader.read()
    if image.isNull():
        raise Refusal("damaged")
    return {"kind": "image", "png": str(save_png(image, out_dir))}


def _pdf_load_error(exc: Exception) -> Refusal:
    import pypdfium2.raw as pdfium_c

    if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
        return Refusal("protected")
    return Refusal("damaged")


def render_pdf(source: Path, out_dir: Path, max_side: int, page_index: int) -> dict[str, Any]:
    import pypdfium2 as pdfium
    from PySide6.QtGui import QImage

    try:
        document = pdfium.PdfDocument(str(source))
    except pdfium.PdfiumError as exc:
        raise _pdf_load_error(exc) from exc
    try:
        count = len(document)
        if count < 1:
            raise Refusal("damaged")
        index = min(max(page_index, 0), count - 1)
        page = document[index]
        width, height = page.get_size()
        if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
            raise Refusal("damaged")
        # The bitmap is at most max_side on its longest side, whatever the page claims.
        bitmap = page.render(scale=max_side / max(width, height),
                             rev_byteorder=True, prefer_bgrx=True)
        image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride,
                       QImage.Format.Format_RGBX8888)
        png = save_png(image, out_dir)  # while `bitmap` still owns the pixels QImage points at
    finally:
        document.close()
    return {"kind": "image", "png": str(png), "page_count": count,
            "note": f"Page {index + 1} of {count}"}


def decode_text(data: bytes, truncated: bool) -> str:
    """UTF-8 when it is; otherwise Windows-1252, the usual legacy encoding of shop files."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Cutting at 200 KB may split the last character: that alone is still UTF-8.
        if truncated and exc.reason == "unexpected end of data":
            return data[: exc.start].decode("utf-8")
    return data.decode("cp1252", errors="replace")


def clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_CONTROL_CHARS)


def render_text(source: Path, out_dir: Path) -> dict[str, Any]:
    with source.open("rb") as stream:
        data = stream.read(TEXT_LIMIT_BYTES + 1)  # never more, whatever the file holds
    truncated = len(data) > TEXT_LIMIT_BYTES
    text = clean_text(decode_text(data[:TEXT_LIMIT_BYTES], truncated))
    # Through a file, not the pipe: the runner reads only one short line from stdout.
    path = _new_file(out_dir, ".txt")
    path.write_text(text, encoding="utf-8", newline="")
    return {"kind": "text", "text_path": str(path),
            "note": TEXT_TRUNCATED_NOTE if truncated else None}


def render(args: argparse.Namespace) -> dict[str, Any]:
    if args.kind == "image":
        return render_image(args.source, args.out, args.max_side, args.memory_mb)
    if args.kind == "pdf":
        return render_pdf(args.source, args.out, args.max_side, args.page)
    if args.kind == "text":
        return render_text(args.source, args.out)
    raise Refusal("unsupported")


def emit(reply: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Render per ``argv`` (without the program name); the exit code for the process."""
    args = parse_args(argv)
    limit_resources(args.memory_mb, args.cpu_seconds)
    try:
        reply = render(args)
    except Refusal as refusal:
        emit({"ok": False, "error": refusal.code})
        return EXIT_REFUSED
    except MemoryError:
        emit({"ok": False, "error": "memory"})
        return EXIT_REFUSED
    except ImportError:  # Qt or PDFium missing or unmappable: not the file's fault
        traceback.print_exc(file=sys.stderr)
        emit({"ok": False, "error": "failed"})
        return EXIT_REFUSED
    except Exception:
        traceback.print_exc(file=sys.stderr)
        emit({"ok": False, "error": "damaged"})
        return EXIT_REFUSED
    emit({"ok": True, **reply})
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
