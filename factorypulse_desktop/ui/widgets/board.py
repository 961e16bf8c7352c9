"""The board: a column per stage, a card per project; drag a card to ask for a move.

The board never moves a card by itself: a drop emits `sig_move_requested` and the page asks
the database (which applies the workflow rules); the board is then reloaded with what the
database says. Cards are painted by a delegate (no widget per card), so 2,000 cards stay light.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import (
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDrag,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QPainter,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services.projects import BoardColumn, ProjectRow
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.formatting import Formatter

MIME_TYPE = "application/x-factorypulse-project"
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
CARD_HEIGHT = 78
COLUMN_WIDTH = 250
PRIORITY_COLORS = {"critical": "#dc2626", "high": "#ea580c", "medium": "#2563eb", "low": "#94a3b8"}


class CardDelegate(QStyledItemDelegate):
    """Paints a project card: number and days in stage, title, customer and due date."""

    def __init__(self, formatter: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.formatter = formatter

    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(COLUMN_WIDTH - 24, CARD_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        row = index.data(ROW_ROLE)
        if not isinstance(row, ProjectRow):
            return
        colors = theme.current()
        rect = option.rect.adjusted(2, 3, -2, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QColor(colors.error if row.overdue else
                        colors.accent if selected else colors.border)
        painter.setPen(QPen(border, 2 if (row.overdue or selected) else 1))
        painter.setBrush(QColor(colors.base))
        painter.drawRoundedRect(rect, 6, 6)
        stripe = QRect(rect.left() + 1, rect.top() + 6, 4, rect.height() - 12)
        painter.fillRect(stripe, QColor(PRIORITY_COLORS.get(row.priority, colors.muted)))
        inner = rect.adjusted(12, 6, -8, -6)
        line = inner.height() // 3
        bold = QFont(painter.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor(colors.text))
        painter.drawText(QRect(inner.left(), inner.top(), inner.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, row.number)
        painter.setFont(option.font)
        days_color = colors.warn if row.too_long_in_stage else colors.muted
        painter.setPen(QColor(days_color))
        days = self.tr("{n} d in stage").format(n=row.days_in_stage)
        painter.drawText(QRect(inner.left(), inner.top(), inner.width(), line),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, days)
        painter.setPen(QColor(colors.text))
        metrics = painter.fontMetrics()
        title = metrics.elidedText(row.title, Qt.TextElideMode.ElideRight, inner.width())
        painter.drawText(QRect(inner.left(), inner.top() + line, inner.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
        due = (self.tr("due {date}").format(date=self.formatter.date(row.due_date))
               if row.due_date else self.tr("no due date"))
        customer = metrics.elidedText(row.customer or "—", Qt.TextElideMode.ElideRight,
                                      inner.width() - metrics.horizontalAdvance(due) - 12)
        painter.setPen(QColor(colors.muted))
        third = QRect(inner.left(), inner.top() + 2 * line, inner.width(), line)
        painter.drawText(third, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         customer)
        painter.setPen(QColor(colors.error if row.overdue else colors.muted))
        painter.drawText(third, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, due)
        painter.restore()


class StageList(QListWidget):
    """One column's cards; a drop on it asks the board to move the dragged project here."""

    sig_dropped = Signal(object, object)  # project id, this column's stage id
    sig_open = Signal(object)  # project id

    def __init__(self, stage_id: uuid.UUID, delegate: CardDelegate,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stage_id = stage_id
        self.setItemDelegate(delegate)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.itemActivated.connect(self._activated)

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        item = self.currentItem()
        row = item.data(ROW_ROLE) if item is not None else None
        if not isinstance(row, ProjectRow):
            return
        mime = QMimeData()
        mime.setData(MIME_TYPE, QByteArray(str(row.id).encode()))
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.MoveAction)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(MIME_TYPE):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(MIME_TYPE):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        data = event.mimeData().data(MIME_TYPE)
        try:
            project_id = uuid.UUID(bytes(data.data()).decode())
        except ValueError:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.IgnoreAction)  # the database moves it, not Qt
        event.accept()
        self.sig_dropped.emit(project_id, self.stage_id)

    def _activated(self, item: QListWidgetItem) -> None:
        row = item.data(ROW_ROLE)
        if isinstance(row, ProjectRow):
            self.sig_open.emit(row.id)


class BoardView(QScrollArea):
    """Columns side by side; `set_columns` fills it, `drop` is what a drag-and-drop does."""

    sig_move_requested = Signal(object, object, object)  # project id, from stage, to stage
    sig_open_project = Signal(object)

    def __init__(self, formatter: Formatter | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._delegate = CardDelegate(formatter or Formatter(), self)
        self._columns: list[BoardColumn] = []
        self.lists: dict[uuid.UUID, StageList] = {}
        self.headers: dict[uuid.UUID, QLabel] = {}
        holder = QWidget()
        self._row = QHBoxLayout(holder)
        self._row.setContentsMargins(16, 8, 16, 16)
        self._row.setSpacing(12)
        self._row.addStretch(1)
        self.setWidget(holder)

    def set_formatter(self, formatter: Formatter) -> None:
        self._delegate.formatter = formatter
        self.viewport().update()

    def set_columns(self, columns: Sequence[BoardColumn]) -> None:
        """Show `columns`; lists for the same stages are reused, so scroll positions stay."""
        self._columns = list(columns)
        wanted = [c.stage_id for c in columns]
        for stage_id in list(self.lists):
            if stage_id not in wanted:
                frame = self.lists.pop(stage_id).parentWidget()
                self.headers.pop(stage_id, None)
                if frame is not None:
                    frame.deleteLater()
        for position, column in enumerate(columns):
            stage_list = self.lists.get(column.stage_id) or self._add_column(column, position)
            header = self.headers[column.stage_id]
            shown = len(column.cards)
            count = (str(column.total) if shown == column.total
                     else self.tr("{shown} of {total}").format(shown=shown, total=column.total))
            header.setText(f"{column.stage}  ·  {count}")
            header.setStyleSheet(f"border-top: 3px solid {column.color}; padding-top: 6px; "
                                 "font-weight: 600;")
            selected = stage_list.currentItem()
            keep = selected.data(ROW_ROLE).id if selected is not None else None
            stage_list.clear()
            for card in column.cards:
                item = QListWidgetItem()
                item.setData(ROW_ROLE, card)
                item.setToolTip(f"{card.number} · {card.title}")
                stage_list.addItem(item)
                if card.id == keep:
                    stage_list.setCurrentItem(item)

    def columns(self) -> list[BoardColumn]:
        return list(self._columns)

    def card_stage(self, project_id: uuid.UUID) -> uuid.UUID | None:
        for column in self._columns:
            if any(c.id == project_id for c in column.cards):
                return column.stage_id
        return None

    def drop(self, project_id: uuid.UUID, to_stage_id: uuid.UUID) -> None:
        """A card was dropped on a column: ask for the move (nothing if it is already there)."""
        from_stage = self.card_stage(project_id)
        if from_stage is not None and from_stage != to_stage_id:
            self.sig_move_requested.emit(project_id, from_stage, to_stage_id)

    def _add_column(self, column: BoardColumn, position: int) -> StageList:
        frame = QFrame()
        frame.setObjectName("card")
        frame.setFixedWidth(COLUMN_WIDTH)
        box = QVBoxLayout(frame)
        box.setContentsMargins(8, 8, 8, 8)
        box.setSpacing(6)
        header = QLabel()
        header.setTextFormat(Qt.TextFormat.PlainText)
        box.addWidget(header)
        stage_list = StageList(column.stage_id, self._delegate)
        stage_list.sig_dropped.connect(self.drop)
        stage_list.sig_open.connect(self.sig_open_project)
        box.addWidget(stage_list, 1)
        self._row.insertWidget(position, frame)
        self.lists[column.stage_id] = stage_list
        self.headers[column.stage_id] = header
        return stage_list
