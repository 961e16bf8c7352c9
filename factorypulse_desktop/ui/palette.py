"""Ctrl+K: search every kind of record while typing, keyboard only."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.search import SearchHit
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.tasks import TaskRunner

KIND_LABELS = {
    "project": "Projects", "contact": "Contacts", "document": "Documents",
    "purchase_order": "Purchase orders", "inventory_item": "Inventory items",
    "production_order": "Production orders", "person": "People",
}
KIND_ICONS = {
    "project": "projects", "contact": "contacts", "document": "documents",
    "purchase_order": "purchasing", "inventory_item": "inventory",
    "production_order": "production", "person": "contacts",
}
HIT_ROLE = Qt.ItemDataRole.UserRole + 1

# Run the query once typing pauses this long; a newer keystroke supersedes an older query.
DEBOUNCE_MS = 60

Searcher = Callable[[str], Sequence[SearchHit]]


class SearchPalette(QDialog):
    """A search box over results grouped by kind; Enter opens, Escape closes."""

    sig_open = Signal(str, object)
    """The user chose a result: its kind and id."""

    def __init__(self, runner: TaskRunner, searcher: Searcher,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._searcher = searcher
        self.setWindowTitle(self.tr("Search"))
        self.setModal(True)
        self.resize(620, 440)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 14, 14, 10)
        layout.setSpacing(8)
        colors = theme.current()
        self.query = QLineEdit()
        self.query.setPlaceholderText(
            self.tr("Search projects, contacts, documents, orders, items, people…"))
        self.query.addAction(icons.icon("search", colors.muted),
                             QLineEdit.ActionPosition.LeadingPosition)
        self.query.setClearButtonEnabled(True)
        self.query.setStyleSheet("font-size: 12pt; padding: 8px;")
        self.query.installEventFilter(self)
        self.results = QListWidget()
        self.results.setIconSize(QSize(18, 18))
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the box
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.results.setSpacing(1)
        self.results.itemActivated.connect(self._open_item)
        self.results.itemClicked.connect(self._open_item)
        self.status = QLabel(self.tr("Type at least two characters."))
        self.status.setObjectName("muted")
        layout.addWidget(self.query)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._run_query)
        self.query.textEdited.connect(lambda _text: self._timer.start())
        self.hits: list[SearchHit] = []

    # --- searching ------------------------------------------------------------------------
    def _run_query(self) -> None:
        text = self.query.text().strip()
        if len(text) < 2:
            self._show([], text)
            return
        self.status.setText(self.tr("Searching…"))
        self._runner.run(lambda: list(self._searcher(text)), key="palette",
                         on_done=lambda hits: self._show(hits, text),
                         on_error=lambda error: self.status.setText(str(error)))

    def _show(self, hits: list[SearchHit], text: str) -> None:
        if text != self.query.text().strip():
            return  # an answer to older typing
        self.hits = hits
        self.results.clear()
        colors = theme.current()
        last_kind = None
        for hit in hits:
            if hit.kind != last_kind:
                header = QListWidgetItem(self.tr(KIND_LABELS.get(hit.kind, hit.kind)).upper())
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                header.setSizeHint(QSize(0, 26))
                header.setForeground(QColor(colors.muted))
                self.results.addItem(header)
                last_kind = hit.kind
            line = hit.title if not hit.subtitle else f"{hit.title}   ·   {hit.subtitle}"
            item = QListWidgetItem(icons.icon(KIND_ICONS.get(hit.kind, "search"), colors.accent),
                                   line)
            item.setData(HIT_ROLE, hit)
            item.setSizeHint(QSize(0, 30))
            item.setToolTip(line)
            self.results.addItem(item)
        self._select(0, 1)
        if len(text) < 2:
            self.status.setText(self.tr("Type at least two characters."))
        elif not hits:
            self.status.setText(self.tr("Nothing found for “{text}”.").format(text=text))
        else:
            self.status.setText(self.tr("{n} found · ↑↓ to choose, Enter to open, Esc to close")
                                .format(n=len(hits)))

    # --- keyboard -------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.query and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._select(self.results.currentRow(), 1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.results.currentItem()
                if item is not None:
                    self._open_item(item)
                return True
        return super().eventFilter(watched, event)

    def _select(self, start: int, step: int) -> None:
        """Move to the next selectable row (headers are skipped)."""
        row = start if self.results.currentRow() < 0 else start + step
        while 0 <= row < self.results.count():
            if self.results.item(row).data(HIT_ROLE) is not None:
                self.results.setCurrentRow(row)
                return
            row += step

    def _open_item(self, item: QListWidgetItem) -> None:
        hit = item.data(HIT_ROLE)
        if isinstance(hit, SearchHit):
            self.sig_open.emit(hit.kind, hit.id)
            self.accept()

    @property
    def result_ids(self) -> list[uuid.UUID]:
        return [h.id for h in self.hits]
