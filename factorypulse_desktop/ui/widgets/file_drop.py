"""Dropping files and folders from the file manager onto any widget.

`FileDropTarget.install(widget, on_paths)` makes a widget take drops of local files: it looks
only at the drag's URLs (never at the disk, so a slow network share cannot freeze the window)
and hands the paths to `on_paths`. What to do with folders is the receiver's business.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

__all__ = ["DROP_HOVER_PROPERTY", "FileDropTarget", "local_paths"]

# Set to True on the widget while files are dragged over it; style sheets may select on it:
# `QTableWidget[dropHover="true"] { border: 2px dashed ... }`.
DROP_HOVER_PROPERTY = "dropHover"

_DRAG_OVER = (QEvent.Type.DragEnter, QEvent.Type.DragMove)


def local_paths(mime: QMimeData | None) -> list[Path]:
    """The local files and folders in a drag; web and other non-file URLs are left out."""
    if mime is None or not mime.hasUrls():
        return []
    paths: list[Path] = []
    for url in mime.urls():
        local = url.toLocalFile() if url.isLocalFile() else ""
        if local:
            paths.append(Path(local))
    return paths


class FileDropTarget(QObject):
    """An event filter that accepts drops of local files on one widget."""

    def __init__(self, widget: QWidget, on_paths: Callable[[list[Path]], None]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._on_paths = on_paths

    @classmethod
    def install(cls, widget: QWidget,
                on_paths: Callable[[list[Path]], None]) -> FileDropTarget:
        """Make `widget` accept dropped files; `on_paths` gets them (on the GUI thread)."""
        # A scroll area (table, list) receives drag events on its viewport, not on itself.
        receiver = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget
        target = cls(widget, on_paths)
        widget.setAcceptDrops(True)
        receiver.setAcceptDrops(True)
        receiver.installEventFilter(target)
        return target

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _DRAG_OVER and isinstance(event, QDragMoveEvent):
            wanted = bool(local_paths(event.mimeData()))
            if wanted:
                event.acceptProposedAction()
            else:
                event.ignore()
            self._highlight(wanted)
            return True
        if kind == QEvent.Type.DragLeave:
            self._highlight(False)
            return False
        if kind == QEvent.Type.Drop and isinstance(event, QDropEvent):
            self._highlight(False)
            paths = local_paths(event.mimeData())
            if not paths:
                event.ignore()
                return True
            event.acceptProposedAction()
            self._on_paths(paths)
            return True
        return False

    def _highlight(self, on: bool) -> None:
        if bool(self._widget.property(DROP_HOVER_PROPERTY)) == on:
            return
        self._widget.setProperty(DROP_HOVER_PROPERTY, on)
        # Style sheets read dynamic properties only when the widget is polished again.
        style = self._widget.style()
        style.unpolish(self._widget)
        style.polish(self._widget)
