"""packaging/make_icons.py: the platform icons Qt itself can read back, at every size."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from PySide6.QtGui import QImageReader
from PySide6.QtWidgets import QApplication

MAKE_ICONS = Path(__file__).resolve().parents[2] / "packaging" / "make_icons.py"


def _sizes(path: Path) -> list[int]:
    reader = QImageReader(str(path))
    sizes = []
    for index in range(reader.imageCount()):
        reader.jumpToImage(index)
        image = reader.read()
        assert image.width() == image.height()
        sizes.append(image.width())
    return sizes


def test_icons_render_from_the_app_svg(qapp: QApplication, tmp_path: Path) -> None:
    # qapp (pytest-qt): the session's one QApplication, which the renderer then reuses.
    spec = importlib.util.spec_from_file_location("fp_make_icons", MAKE_ICONS)
    assert spec is not None and spec.loader is not None
    make_icons = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = make_icons
    spec.loader.exec_module(make_icons)

    files = make_icons.make_icons(tmp_path)
    assert _sizes(files["png"]) == [256]
    assert _sizes(files["ico"]) == [16, 24, 32, 48, 64, 128, 256]
    assert sorted(set(_sizes(files["icns"]))) == [16, 32, 64, 128, 256, 512, 1024]
    assert not make_icons.icons_missing(tmp_path)
