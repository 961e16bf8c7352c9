"""Render resources/icons/app.svg into the platform icon files of the packages.

    python packaging/make_icons.py [--out packaging/icons]

Writes factorypulse.png (256 px, Linux), factorypulse.ico (Windows) and factorypulse.icns
(macOS). Qt draws every size (QSvgRenderer, offscreen). The containers hold PNG entries:
Qt's ico and icns writers store a single image per file, and both formats accept PNG
entries (Windows Vista and later, macOS 10.7 and later), so small sizes stay crisp.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "app.svg"
DEFAULT_OUT = Path(__file__).resolve().parent / "icons"
NAME = "factorypulse"

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns entry types holding a PNG of the given pixel size (Apple's "icns" type list).
ICNS_TYPES = (
    (b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256),
    (b"ic09", 512), (b"ic10", 1024), (b"ic11", 32), (b"ic12", 64), (b"ic13", 256),
    (b"ic14", 512),
)


def render_pngs(svg: Path, sizes: set[int]) -> dict[int, bytes]:
    """PNG bytes of `svg` drawn at each size."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    result: dict[int, bytes] = {}
    for size in sorted(sizes):
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        # PySide6 takes the format as str at run time; its stubs say bytes.
        if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
            raise SystemExit(f"could not encode the {size} px icon")
        buffer.close()
        result[size] = bytes(data.data())
    return result


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An .ico file: header, one directory entry per size, then the PNGs."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, png in sorted(pngs.items()):
        side = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """An .icns file: 'icns' + total length, then (type, length, PNG) entries."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def make_icons(out: Path, svg: Path = SVG) -> dict[str, Path]:
    sizes = set(ICO_SIZES) | {size for _kind, size in ICNS_TYPES}
    pngs = render_pngs(svg, sizes)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "png": out / f"{NAME}.png",
        "ico": out / f"{NAME}.ico",
        "icns": out / f"{NAME}.icns",
    }
    files["png"].write_bytes(pngs[256])
    files["ico"].write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    files["icns"].write_bytes(icns_bytes(pngs))
    return files


def icons_missing(out: Path = DEFAULT_OUT) -> bool:
    return not all((out / f"{NAME}.{ext}").is_file() for ext in ("png", "ico", "icns"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--svg", type=Path, default=SVG)
    args = parser.parse_args(argv)
    for path in make_icons(args.out, args.svg).values():
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
