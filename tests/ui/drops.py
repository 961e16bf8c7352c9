"""Dragging local files onto widgets in tests, as the file manager would (importable as
`drops` from tests in this folder)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget


def drag(widget: QWidget, urls: list[QUrl]) -> tuple[bool, QMimeData]:
    """Drag `urls` over the widget's viewport; whether it would take them."""
    mime = QMimeData()
    mime.setUrls(urls)
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(_receiver(widget), enter)
    return enter.isAccepted(), mime


def drop(widget: QWidget, paths: list[Path]) -> None:
    accepted, mime = drag(widget, [QUrl.fromLocalFile(str(p)) for p in paths])
    assert accepted
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(_receiver(widget), event)


def _receiver(widget: QWidget) -> QWidget:
    viewport = getattr(widget, "viewport", None)
    return viewport() if callable(viewport) else widget
