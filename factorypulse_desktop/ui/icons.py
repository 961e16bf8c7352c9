"""SVG line icons tinted for the current theme (the files draw with `currentColor`)."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from factorypulse_desktop.ui.resources import icon_path

_SIZES = (16, 20, 24, 32, 48)


@lru_cache(maxsize=256)
def _svg_text(name: str) -> str:
    return icon_path(name).read_text(encoding="utf-8")


def icon(name: str, color: QColor | str = "#5f6b7a") -> QIcon:
    """The icon `name` drawn in `color` at the usual sizes."""
    rgb = QColor(color).name()
    data = QByteArray(_svg_text(name).replace("currentColor", rgb).encode("utf-8"))
    renderer = QSvgRenderer(data)
    result = QIcon()
    for size in _SIZES:
        pixmap = QPixmap(QSize(size, size))
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        result.addPixmap(pixmap)
    return result


def app_icon() -> QIcon:
    return QIcon(str(icon_path("app")))
