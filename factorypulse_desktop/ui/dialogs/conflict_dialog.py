"""Someone saved first: the person's unsaved values and the stored ones, side by side.

The dialog only asks; the page does what was chosen. Its three buttons are attributes
(`keep_mine_button`, `take_theirs_button`, `cancel_button`) and the choice is `choice` once
the dialog is finished ("mine", "theirs" or "cancel"), so tests can drive it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.ui import theme

__all__ = ["ConflictDialog", "ConflictRow"]


@dataclass(frozen=True)
class ConflictRow:
    """One field that differs: what the person typed and what is stored now."""

    field: str
    label: str
    mine: str
    theirs: str
    changed_by_me: bool
    changed_by_them: bool


class ConflictDialog(QDialog):
    """Keep mine (save over theirs), take theirs (discard mine), or keep editing."""

    MINE = "mine"
    THEIRS = "theirs"
    CANCEL = "cancel"

    def __init__(self, rows: Sequence[ConflictRow], *, saved_by: str | None, saved_at: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Someone else saved this project"))
        self.setMinimumWidth(780)
        self.rows = list(rows)
        self.choice: str | None = None
        colors = theme.current()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(12)

        heading = QLabel(self.tr("Your changes are not saved yet"))
        heading.setStyleSheet("font-size: 13pt; font-weight: 600;")
        layout.addWidget(heading)
        who = saved_by or self.tr("Someone")
        self.explanation = QLabel(self.tr(
            "{who} saved this project at {when}, while you were editing it. Compare the "
            "values below. “Keep mine” saves your changes over theirs; fields only they "
            "changed keep their values.").format(who=who, when=saved_at))
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)  # a name is user text
        self.explanation.setWordWrap(True)
        layout.addWidget(self.explanation)

        self.table = QTableWidget(len(self.rows), 3)
        self.table.setHorizontalHeaderLabels([
            self.tr("Field"), self.tr("Yours (not saved)"),
            self.tr("Saved by {who}").format(who=who)])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        muted = QColor(colors.muted)
        bold = QFont(self.font())
        bold.setBold(True)
        for row, item in enumerate(self.rows):
            label = QTableWidgetItem(item.label)
            label.setFont(bold)
            mine = QTableWidgetItem(item.mine or self.tr("(empty)"))
            theirs = QTableWidgetItem(item.theirs or self.tr("(empty)"))
            if not item.changed_by_me:
                mine.setForeground(muted)
                mine.setToolTip(self.tr("You did not change this field."))
            if not item.changed_by_them:
                theirs.setForeground(muted)
                theirs.setToolTip(self.tr("They did not change this field."))
            for column, cell in enumerate((label, mine, theirs)):
                cell.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, cell)
        self.table.verticalHeader().setMinimumSectionSize(30)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.table)
        self._fit_table()

        legend = QLabel(self.tr("Greyed values were not changed on that side."))
        legend.setObjectName("muted")
        layout.addWidget(legend)

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.cancel_button = QPushButton(self.tr("Cancel (keep editing)"))
        self.take_theirs_button = QPushButton(self.tr("Take theirs (discard mine)"))
        self.keep_mine_button = QPushButton(self.tr("Keep mine (save over theirs)"))
        self.keep_mine_button.setObjectName("primary")
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.take_theirs_button)
        buttons.addWidget(self.keep_mine_button)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(lambda: self._choose(self.CANCEL))
        self.take_theirs_button.clicked.connect(lambda: self._choose(self.THEIRS))
        self.keep_mine_button.clicked.connect(lambda: self._choose(self.MINE))
        self.cancel_button.setDefault(True)  # Enter never overwrites anything by accident
        self.cancel_button.setFocus()

    def _fit_table(self) -> None:
        """Rows as tall as their text, the table as tall as its rows (up to a limit)."""
        self.table.resizeRowsToContents()
        height = (self.table.horizontalHeader().sizeHint().height() + 2 * self.table.frameWidth()
                  + sum(self.table.rowHeight(r) for r in range(self.table.rowCount())))
        self.table.setFixedHeight(min(max(height, 80), 380))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_table()  # the style sheet is applied now: heights are final

    def _choose(self, choice: str) -> None:
        self.choice = choice
        if choice == self.CANCEL:
            self.reject()
        else:
            self.accept()

    def reject(self) -> None:  # Escape and the window's close button count as "Cancel"
        if self.choice is None:
            self.choice = self.CANCEL
        super().reject()

    def fields(self) -> list[str]:
        return [r.field for r in self.rows]

    def row_texts(self) -> list[tuple[str, str, str]]:
        """(field label, mine, theirs) as shown."""
        def cell(row: int, column: int) -> str:
            item = self.table.item(row, column)
            return item.text() if item is not None else ""

        return [(cell(r, 0), cell(r, 1), cell(r, 2)) for r in range(self.table.rowCount())]
