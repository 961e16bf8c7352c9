"""Small bar charts painted with QPainter (PySide6-Essentials has no QtCharts).

`BarChart` draws one or two series over a list of labels, horizontally (labels on the left,
for stage names) or vertically (labels below, for weeks). Values are shown as text too, so
the figures can be read without guessing bar lengths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from factorypulse_desktop.ui import theme


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]
    color: str | None = None
    """None: each bar takes the colour of its label (`BarChart.set_data(colors=...)`)."""


class BarChart(QWidget):
    def __init__(self, *, horizontal: bool = True, value_text: Callable[[float], str] = str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.horizontal = horizontal
        self.value_text = value_text
        self.labels: tuple[str, ...] = ()
        self.colors: tuple[str, ...] = ()
        self.series: tuple[Series, ...] = ()
        self.empty_text = self.tr("Nothing to show yet.")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_data(self, labels: Sequence[str], series: Sequence[Series],
                 colors: Sequence[str] = ()) -> None:
        self.labels = tuple(labels)
        self.series = tuple(series)
        self.colors = tuple(colors)
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        rows = max(len(self.labels), 1)
        if self.horizontal:
            return QSize(420, 28 + rows * (12 + 14 * len(self.series or (None,))))
        return QSize(420, 220)

    def minimumSizeHint(self) -> QSize:
        return QSize(240, 120)

    def _maximum(self) -> float:
        values = [v for s in self.series for v in s.values if v is not None]
        return max(values, default=0.0)

    def paintEvent(self, _event: QPaintEvent) -> None:
        colors = theme.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        maximum = self._maximum()
        if not self.labels or maximum <= 0:
            painter.setPen(QColor(colors.muted))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        if self.horizontal:
            self._paint_horizontal(painter, maximum)
        else:
            self._paint_vertical(painter, maximum)
        self._paint_legend(painter)

    def _bar_color(self, series: Series, index: int) -> QColor:
        if series.color is not None:
            return QColor(series.color)
        return QColor(self.colors[index] if index < len(self.colors) else theme.current().accent)

    def _paint_horizontal(self, painter: QPainter, maximum: float) -> None:
        colors = theme.current()
        metrics = painter.fontMetrics()
        label_width = min(max((metrics.horizontalAdvance(x) for x in self.labels), default=0)
                          + 12, self.width() // 3)
        value_width = metrics.horizontalAdvance(self.value_text(maximum)) + 12
        legend = 20 if len(self.series) > 1 else 0
        bar_h = 12
        row_h = (self.height() - legend - 8) / max(len(self.labels), 1)
        bar_h = max(6, min(bar_h, int((row_h - 6) / max(len(self.series), 1))))
        span = max(self.width() - label_width - value_width - 8, 10)
        for row, label in enumerate(self.labels):
            top = legend + 4 + row * row_h
            painter.setPen(QColor(colors.text))
            text = metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_width - 8)
            painter.drawText(QRectF(0, top, label_width - 8, row_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
            block = bar_h * len(self.series)
            y = top + (row_h - block) / 2
            for series in self.series:
                value = series.values[row] if row < len(series.values) else None
                if value is not None:
                    width = span * value / maximum
                    painter.fillRect(QRectF(label_width, y, max(width, 1), bar_h - 2),
                                     self._bar_color(series, row))
                    painter.setPen(QColor(colors.muted))
                    painter.drawText(QRectF(label_width + width + 4, y - 2, value_width,
                                            bar_h + 2),
                                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                     self.value_text(value))
                y += bar_h

    def _paint_vertical(self, painter: QPainter, maximum: float) -> None:
        colors = theme.current()
        metrics = painter.fontMetrics()
        legend = 20 if len(self.series) > 1 else 0
        bottom = self.height() - metrics.height() - 6
        top = legend + metrics.height() + 4
        column_w = self.width() / max(len(self.labels), 1)
        bar_w = max(4.0, min(28.0, column_w * 0.6 / max(len(self.series), 1)))
        painter.setPen(QColor(colors.border))
        painter.drawLine(0, bottom, self.width(), bottom)
        for column, label in enumerate(self.labels):
            x = column * column_w + (column_w - bar_w * len(self.series)) / 2
            for series in self.series:
                value = series.values[column] if column < len(series.values) else None
                if value is not None:
                    height = (bottom - top) * value / maximum
                    painter.fillRect(QRectF(x, bottom - height, bar_w - 1, height),
                                     self._bar_color(series, column))
                    painter.setPen(QColor(colors.muted))
                    painter.drawText(QRectF(x - 10, bottom - height - metrics.height() - 2,
                                            bar_w + 20, metrics.height()),
                                     Qt.AlignmentFlag.AlignCenter, self.value_text(value))
                x += bar_w
            painter.setPen(QColor(colors.muted))
            painter.drawText(QRectF(column * column_w, bottom + 2, column_w, metrics.height()),
                             Qt.AlignmentFlag.AlignCenter,
                             metrics.elidedText(label, Qt.TextElideMode.ElideRight,
                                                int(column_w)))

    def _paint_legend(self, painter: QPainter) -> None:
        if len(self.series) < 2:
            return
        colors = theme.current()
        x = 4.0
        for series in self.series:
            painter.fillRect(QRectF(x, 5, 10, 10), self._bar_color(series, 0))
            painter.setPen(QColor(colors.text))
            width = painter.fontMetrics().horizontalAdvance(series.name)
            painter.drawText(QRectF(x + 14, 0, width + 4, 20),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             series.name)
            x += width + 32
