"""A document's preview: a picture of the page (PDF, image) or its text (CSV, DXF, NC...).

The file is downloaded into a private temporary folder and rendered by `preview.runner` in a
separate process with a timeout and a memory cap (T-IN-07), all on a worker; the picture is
decoded there too (`QImage` is safe off the GUI thread) and only handed over. Closing stops
the work and removes the temporary files on a worker.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.preview.runner import PreviewError, preview_kind, render_preview
from factorypulse_desktop.services import document_files
from factorypulse_desktop.services.documents import DocumentRow
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.tasks import (
    Cancelled,
    TaskHandle,
    TaskRunner,
    TaskState,
    describe_error,
)

__all__ = ["PreviewDialog"]


class _Scratch:
    """The dialog's temporary folder: made on a worker when first needed, removed once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._closed = False

    def folder(self) -> Path:
        with self._lock:
            if self._closed:
                raise Cancelled
            if self._path is None:
                self._path = Path(tempfile.mkdtemp(prefix="factorypulse-preview-"))
            return self._path

    def remove(self) -> None:
        with self._lock:
            self._closed = True
            path, self._path = self._path, None
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class _Rendered:
    source: Path
    kind: str
    image: QImage | None
    text: str | None
    page_count: int | None
    note: str | None


def _render(ws: Workspace, org: uuid.UUID, row: DocumentRow, scratch: _Scratch,
            source: Path | None, page: int, state: TaskState) -> _Rendered:
    """Download (first time only) and render one page; runs on a worker."""
    try:
        if source is None:
            folder = scratch.folder() / "file"
            folder.mkdir()
            source = document_files.download(ws, org, row.id, folder, action="view",
                                             cancelled=lambda: state.cancelled)
        state.check()
        kind = preview_kind(row.file_name or source.name, row.mime_type)
        if kind is None:
            raise PreviewError("unsupported")
        out = scratch.folder() / f"page-{page}"
        out.mkdir(exist_ok=True)
        result = render_preview(source, kind, out, page=page,
                                cancelled=lambda: state.cancelled)
        image = QImage(str(result.png_path)) if result.png_path is not None else None
        return _Rendered(source, kind, image, result.text, result.page_count, result.note)
    finally:
        if state.cancelled:
            scratch.remove()


class PreviewDialog(QDialog):
    """Shows one document's current version; `sig_open_requested` asks the owner to open it."""

    sig_open_requested = Signal(object)  # the DocumentRow
    sig_shown = Signal()
    """A page or the text is on screen (or the error): for tests and screenshots."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 row: DocumentRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Preview: {title}").format(title=row.title))
        self.resize(900, 760)
        self._runner = runner
        self._workspace = workspace
        self._org = organization_id
        self.row = row
        self._scratch = _Scratch()
        self._source: Path | None = None
        self._handle: TaskHandle | None = None
        self._pixmap: QPixmap | None = None
        self.page = 0
        self.page_count: int | None = None
        self._build()
        self._render(0)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.title_label = QLabel(self.row.title)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)  # typed by people
        self.title_label.setStyleSheet("font-size: 13pt; font-weight: 600;")
        layout.addWidget(self.title_label)
        self.status = QLabel(self.tr("Loading preview…"))
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # error texts may quote names
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self.stack = QStackedWidget()
        self.image_label = QLabel()
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.image_scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # fits width
        scroll.setWidget(self.image_label)
        self.text_view = QPlainTextEdit()
        self.text_view.setReadOnly(True)
        self.text_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.stack.addWidget(scroll)
        self.stack.addWidget(self.text_view)
        layout.addWidget(self.stack, 1)

        buttons = QHBoxLayout()
        self.previous_button = QPushButton(self.tr("← Previous page"))
        self.next_button = QPushButton(self.tr("Next page →"))
        self.page_label = QLabel()
        self.previous_button.clicked.connect(lambda: self._render(self.page - 1))
        self.next_button.clicked.connect(lambda: self._render(self.page + 1))
        self.open_button = QPushButton(self.tr("Open in its application"))
        self.open_button.clicked.connect(lambda: self.sig_open_requested.emit(self.row))
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.clicked.connect(self.close)
        for widget in (self.previous_button, self.page_label, self.next_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self._update_paging(busy=True)

    # -- rendering ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._handle is not None and not self._handle.done

    def _render(self, page: int) -> None:
        if self.busy:
            return
        self.page = page
        self.status.setText(self.tr("Loading preview…"))
        self.status.show()
        self._update_paging(busy=True)
        ws, org, row, scratch, source = (self._workspace, self._org, self.row, self._scratch,
                                         self._source)
        self._handle = self._runner.run_long(
            lambda state: _render(ws, org, row, scratch, source, page, state),
            on_done=self._shown, on_error=self._failed, on_cancelled=lambda: None)

    def _shown(self, rendered: _Rendered) -> None:
        self._source = rendered.source
        self.page_count = rendered.page_count
        if rendered.image is not None:
            self._pixmap = QPixmap.fromImage(rendered.image)
            self.stack.setCurrentIndex(0)
            self._fit_image()
        else:
            self.text_view.setPlainText(rendered.text or "")  # plain text only (T-IN-10)
            self.stack.setCurrentIndex(1)
        self.status.setText(rendered.note or "")
        self.status.setVisible(bool(rendered.note))
        self._update_paging(busy=False)
        self.sig_shown.emit()

    def _fit_image(self) -> None:
        """The page as wide as the window (never enlarged): no sideways scrolling."""
        if self._pixmap is None:
            return
        scroll = self.image_scroll
        width = scroll.width() - scroll.verticalScrollBar().sizeHint().width() - 4
        pixmap = self._pixmap
        if 0 < width < pixmap.width():
            pixmap = pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
        self.image_label.setPixmap(pixmap)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_image()

    def _failed(self, error: BaseException) -> None:
        self.status.setText(describe_error(error))
        self.status.show()
        self._update_paging(busy=False)
        self.sig_shown.emit()

    def _update_paging(self, *, busy: bool) -> None:
        count = self.page_count or 0
        paged = count > 1
        for widget in (self.previous_button, self.next_button, self.page_label):
            widget.setVisible(paged)
        self.previous_button.setEnabled(not busy and self.page > 0)
        self.next_button.setEnabled(not busy and self.page + 1 < count)
        self.page_label.setText(self.tr("Page {n} of {count}").format(n=self.page + 1,
                                                                      count=count))

    @property
    def shows_image(self) -> bool:
        pixmap = self.image_label.pixmap()
        return self.stack.currentIndex() == 0 and pixmap is not None and not pixmap.isNull()

    @property
    def shown_text(self) -> str:
        return self.text_view.toPlainText() if self.stack.currentIndex() == 1 else ""

    # -- closing ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self._stop()
        super().done(result)

    def _stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        scratch = self._scratch
        self._runner.run(scratch.remove, on_error=lambda _error: None)
