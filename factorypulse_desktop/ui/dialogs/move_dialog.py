"""Moving a project to any stage: back or ahead, with the reason the database asks for.

The dialog only collects the choice; the page runs the move and, when the database refuses,
shows its words here (`show_error`) with everything typed still in place.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services.workflow import Stage
from factorypulse_desktop.ui import theme

__all__ = ["MoveDialog"]

MAX_REASON = 2000


class MoveDialog(QDialog):
    """Choose a stage; moving back or skipping ahead needs a reason."""

    sig_move = Signal(object, str, str)
    """(stage id, reason, comment): the person clicked Move."""

    def __init__(self, stages: Sequence[Stage], current: Stage, blockers: Sequence[str], *,
                 project_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Move project"))
        self.setMinimumWidth(520)
        self._current = current
        self._blockers = list(blockers)
        later = [s for s in stages if s.order > current.order]
        self._next_id = later[0].id if later else None
        self._stages = {s.id: s for s in stages if s.id != current.id}
        colors = theme.current()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 20, 22, 16)
        layout.setSpacing(10)
        intro = QLabel(self.tr("Move {project} from “{stage}” to:").format(
            project=project_label, stage=current.name))
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.stage_box = QComboBox()
        for stage in stages:
            if stage.id == current.id:
                continue
            self.stage_box.addItem(f"{stage.order}. {stage.name}  {self._kind_label(stage)}",
                                   stage.id)
        layout.addWidget(self.stage_box)
        self.explanation = QLabel()
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)  # step names
        self.explanation.setObjectName("muted")
        self.explanation.setWordWrap(True)
        layout.addWidget(self.explanation)
        self.reason_label = QLabel()
        layout.addWidget(self.reason_label)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText(self.tr("For example: the customer sent a new "
                                                    "drawing"))
        self.reason_edit.setFixedHeight(70)
        layout.addWidget(self.reason_edit)
        layout.addWidget(QLabel(self.tr("Comment (optional):")))
        self.comment_edit = QPlainTextEdit()
        self.comment_edit.setFixedHeight(54)
        layout.addWidget(self.comment_edit)
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)  # the database's words
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {colors.error};")
        self.error_label.hide()
        layout.addWidget(self.error_label)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.move_button = QPushButton(self.tr("Move"))
        self.move_button.setObjectName("primary")
        self.move_button.setDefault(True)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.move_button)
        layout.addLayout(buttons)

        self.cancel_button.clicked.connect(self.reject)
        self.move_button.clicked.connect(self._move)
        self.stage_box.currentIndexChanged.connect(self._update)
        self.reason_edit.textChanged.connect(self._update)
        self._busy = False
        self._update()

    # -- choices -----------------------------------------------------------------------------
    def _kind(self, stage: Stage) -> str:
        if stage.order < self._current.order:
            return "back"
        if stage.id == self._next_id:
            return "next" if not self._blockers else "next-blocked"
        return "skip"

    def _kind_label(self, stage: Stage) -> str:
        return {"back": self.tr("(back)"), "next": self.tr("(next)"),
                "next-blocked": self.tr("(next, steps not done)"),
                "skip": self.tr("(skip ahead)")}[self._kind(stage)]

    def selected_stage(self) -> Stage | None:
        stage_id = self.stage_box.currentData()
        return self._stages.get(stage_id) if isinstance(stage_id, uuid.UUID) else None

    def select_stage(self, stage_id: uuid.UUID) -> None:
        index = self.stage_box.findData(stage_id)
        if index >= 0:
            self.stage_box.setCurrentIndex(index)

    def reason_needed(self) -> bool:
        stage = self.selected_stage()
        return stage is not None and self._kind(stage) != "next"

    def reason(self) -> str:
        return self.reason_edit.toPlainText().strip()

    def comment(self) -> str:
        return self.comment_edit.toPlainText().strip()

    def _update(self) -> None:
        stage = self.selected_stage()
        kind = self._kind(stage) if stage is not None else "next"
        text = {
            "back": self.tr("Moving a project back needs a reason; it is kept in the "
                            "project's history."),
            "next": self.tr("All required steps are done: the project may advance."),
            "next-blocked": self.tr("Before advancing: {blockers}. Only sales, management or "
                                    "an administrator may advance anyway, with a reason.")
                            .format(blockers="; ".join(self._blockers)),
            "skip": self.tr("Skipping stages needs a reason; only sales, management or an "
                            "administrator may skip."),
        }[kind]
        self.explanation.setText(text)
        self.reason_label.setText(self.tr("Reason (required, kept in the history):")
                                  if self.reason_needed() else self.tr("Reason (optional):"))
        reason = self.reason()
        ok = stage is not None and len(reason) <= MAX_REASON and (
            bool(reason) or not self.reason_needed())
        self.move_button.setEnabled(ok and not self._busy)
        self.error_label.hide()

    def _move(self) -> None:
        stage = self.selected_stage()
        if stage is None or not self.move_button.isEnabled():
            return
        self.sig_move.emit(stage.id, self.reason(), self.comment())

    # -- for the page -------------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.stage_box.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)
        self._update()

    def show_error(self, message: str) -> None:
        """The database refused: its words, with the typed reason kept."""
        self.set_busy(False)
        self.error_label.setText(message)
        self.error_label.show()
