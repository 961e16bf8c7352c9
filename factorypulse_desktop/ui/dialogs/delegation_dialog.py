"""Hand my approvals to a colleague for a period (holidays), and see who stands in for whom."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services.approvals import MAX_COMMENT, Delegation
from factorypulse_desktop.ui.dialogs.submit_dialog import SubmitDialog
from factorypulse_desktop.ui.formatting import Formatter


@dataclass(frozen=True)
class DelegationRequest:
    delegate_id: uuid.UUID
    start: dt.date
    end: dt.date
    reason: str


class DelegationDialog(SubmitDialog):
    """`sig_submitted(DelegationRequest)`; `sig_end(Delegation)` stops one I gave."""

    sig_end = Signal(object)

    def __init__(self, colleagues: Sequence[tuple[uuid.UUID, str]],
                 current: Sequence[Delegation], formatter: Formatter,
                 parent: QWidget | None = None) -> None:
        super().__init__("", "", parent)
        self.setWindowTitle(self.tr("Delegate my approvals"))
        self.set_ok_text(self.tr("Delegate"))
        self.setMinimumWidth(480)
        self._formatter = formatter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        intro = QLabel(self.tr(
            "While you are away, the person you choose decides what waits for you; each "
            "decision records that they stood in for you."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.person = QComboBox()
        self._people = [person_id for person_id, _name in colleagues]
        for _person_id, name in colleagues:
            self.person.addItem(name)
        form.addRow(self.tr("Stand-in:"), self.person)
        today = QDate.currentDate()
        self.start = QDateEdit(today)
        self.end = QDateEdit(today.addDays(7))
        for field in (self.start, self.end):
            field.setCalendarPopup(True)
        form.addRow(self.tr("From:"), self.start)
        form.addRow(self.tr("To (included):"), self.end)
        self.reason = QLineEdit()
        self.reason.setMaxLength(MAX_COMMENT)
        self.reason.setPlaceholderText(self.tr("For example: annual leave"))
        form.addRow(self.tr("Reason:"), self.reason)
        layout.addLayout(form)
        layout.addWidget(QLabel(self.tr("Current delegations:")))
        self.current = QListWidget()
        self.current.setFixedHeight(96)
        for delegation in current:
            item = QListWidgetItem(self._describe(delegation))  # names are plain item text
            item.setData(Qt.ItemDataRole.UserRole, delegation)
            self.current.addItem(item)
        if not current:
            self.current.addItem(self.tr("None"))
        row = QHBoxLayout()
        row.addWidget(self.current, 1)
        self.end_button = QPushButton(self.tr("End"))
        self.end_button.setEnabled(False)
        self.end_button.clicked.connect(self._end_selected)
        row.addWidget(self.end_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(row)
        self.current.currentItemChanged.connect(self._update_end)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        if not colleagues:
            self.ok_button.setEnabled(False)
            self.fail(self.tr("There is nobody else in this organization to stand in for you."))

    def choose(self, person_id: uuid.UUID) -> None:
        """Select `person_id` as the stand-in."""
        self.person.setCurrentIndex(self._people.index(person_id))

    def _describe(self, d: Delegation) -> str:
        period = self.tr("{start} to {end}").format(
            start=self._formatter.date(d.start_date), end=self._formatter.date(d.end_date))
        return (self.tr("{delegate} stands in for you, {period}") if d.mine else
                self.tr("You stand in for {delegator}, {period}")).format(
            delegate=d.delegate, delegator=d.delegator, period=period)

    def _update_end(self) -> None:
        item = self.current.currentItem()
        delegation = item.data(Qt.ItemDataRole.UserRole) if item else None
        self.end_button.setEnabled(isinstance(delegation, Delegation) and delegation.mine)

    def _end_selected(self) -> None:
        item = self.current.currentItem()
        delegation = item.data(Qt.ItemDataRole.UserRole) if item else None
        if isinstance(delegation, Delegation) and delegation.mine:
            self.sig_end.emit(delegation)

    def payload(self) -> DelegationRequest:
        index = self.person.currentIndex()
        if not 0 <= index < len(self._people):
            raise UserFacingError(self.tr("Choose who stands in for you."))
        person = self._people[index]
        start, end = self.start.date().toPython(), self.end.date().toPython()
        assert isinstance(start, dt.date) and isinstance(end, dt.date)
        if end < start:
            raise UserFacingError(self.tr("The last day comes before the first; check the "
                                          "dates."))
        return DelegationRequest(person, start, end, self.reason.text().strip())
