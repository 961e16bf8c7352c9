"""The project's review dialogs: ask for reviews, decide one (with risks), ask for an approval.

Each stays open while the panel saves (SubmitDialog), so a refusal or a conflict is shown
with everything typed still there.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.numbers import NumberProblem, parse_decimal
from factorypulse_desktop.services.admin import PersonRow
from factorypulse_desktop.services.reviews import (
    RISK_CATEGORIES,
    RISK_SEVERITIES,
    ReviewRow,
    Risk,
)
from factorypulse_desktop.ui.dialogs.submit_dialog import SubmitDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.approval_words import (
    APPROVAL_TYPE_CHOICES,
    approval_type_label,
    review_type_label,
    risk_category_label,
    risk_severity_label,
)
from factorypulse_desktop.ui.widgets.forms import add_form_row

__all__ = [
    "ApprovalAsk",
    "AskApprovalDialog",
    "DecideReviewDialog",
    "RequestReviewsDialog",
    "ReviewDecision",
    "ReviewRequest",
]

DEFAULT_DUE_DAYS = 5


@dataclass(frozen=True)
class ReviewRequest:
    types: tuple[str, ...]
    reviewers: dict[str, uuid.UUID]  # type → person; the others go to the type's role
    due_date: dt.date | None


@dataclass(frozen=True)
class ReviewDecision:
    decision: str
    comments: str
    recommendations: str
    risks: tuple[Risk, ...]


@dataclass(frozen=True)
class ApprovalAsk:
    approval_id: uuid.UUID  # kept by the dialog: sending again never makes two
    approval_type: str
    title: str
    amount: Decimal | None
    currency: str | None
    reason: str


def _plain(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class RequestReviewsDialog(SubmitDialog):
    """Engineering, QA and production: each by its role, or by a chosen person; a due date."""

    def __init__(self, people: list[PersonRow], parent: QWidget | None = None) -> None:
        super().__init__("", "", parent)
        self.setWindowTitle(self.tr("Request reviews"))
        self.set_ok_text(self.tr("Request"))
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.addWidget(_plain(self.tr(
            "Anyone of the role may answer a review asked of the role; a named person "
            "answers it themselves.")))
        grid = QGridLayout()
        self.checks: dict[str, QCheckBox] = {}
        self.reviewer_boxes: dict[str, QComboBox] = {}
        for row, kind in enumerate(("engineering", "qa", "production")):
            check = QCheckBox(review_type_label(kind))
            check.setChecked(True)
            box = QComboBox()
            box.addItem(self.tr("Anyone in {role}").format(role=review_type_label(kind)), None)
            for person in people:
                box.addItem(person.display_name, person.person_id)
            check.toggled.connect(box.setEnabled)
            grid.addWidget(check, row, 0)
            grid.addWidget(box, row, 1)
            self.checks[kind] = check
            self.reviewer_boxes[kind] = box
        layout.addLayout(grid)
        due_row = QHBoxLayout()
        self.due_check = QCheckBox(self.tr("Due by"))
        self.due_check.setChecked(True)
        self.due_edit = QDateEdit(QDate.currentDate().addDays(DEFAULT_DUE_DAYS))
        self.due_edit.setCalendarPopup(True)
        self.due_check.toggled.connect(self.due_edit.setEnabled)
        due_row.addWidget(self.due_check)
        due_row.addWidget(self.due_edit)
        due_row.addStretch(1)
        layout.addLayout(due_row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def payload(self) -> ReviewRequest:
        types = tuple(k for k, c in self.checks.items() if c.isChecked())
        if not types:
            raise UserFacingError(self.tr("Tick at least one review: engineering, QA or "
                                          "production."))
        reviewers = {k: self.reviewer_boxes[k].currentData() for k in types
                     if self.reviewer_boxes[k].currentData() is not None}
        due = self.due_edit.date().toPython() if self.due_check.isChecked() else None
        assert due is None or isinstance(due, dt.date)
        return ReviewRequest(types, reviewers, due)


class DecideReviewDialog(SubmitDialog):
    """Approve, reject or ask for a revision; comments, recommendations and a risks table."""

    DECISIONS = ("approved", "rejected", "revision_requested")

    def __init__(self, review: ReviewRow, parent: QWidget | None = None) -> None:
        super().__init__("", "", parent)
        self.review = review
        self.setWindowTitle(self.tr("Decide the {kind} review").format(
            kind=review_type_label(review.review_type)))
        self.set_ok_text(self.tr("Save decision"))
        self.setMinimumWidth(640)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        choices = QHBoxLayout()
        self.decision_group = QButtonGroup(self)
        self.decision_buttons: dict[str, QRadioButton] = {}
        for text, decision in ((self.tr("Approve"), "approved"), (self.tr("Reject"), "rejected"),
                               (self.tr("Ask for a revision"), "revision_requested")):
            button = QRadioButton(text)
            self.decision_group.addButton(button)
            self.decision_buttons[decision] = button
            choices.addWidget(button)
        choices.addStretch(1)
        self.decision_buttons["approved"].setChecked(True)
        layout.addLayout(choices)
        layout.addWidget(QLabel(self.tr(
            "Comments (required to reject or ask for a revision: say what to change):")))
        self.comments = QPlainTextEdit(review.comments or "")
        self.comments.setFixedHeight(70)
        layout.addWidget(self.comments)
        layout.addWidget(QLabel(self.tr("Recommendations:")))
        self.recommendations = QPlainTextEdit(review.recommendations or "")
        self.recommendations.setFixedHeight(56)
        layout.addWidget(self.recommendations)
        layout.addWidget(QLabel(self.tr("Risks:")))
        self.risks = QTableWidget(0, 4)
        self.risks.setHorizontalHeaderLabels([self.tr("Category"), self.tr("Severity"),
                                              self.tr("Risk"), self.tr("Mitigation")])
        self.risks.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.risks.verticalHeader().setVisible(False)
        header = self.risks.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.risks.setMinimumHeight(120)
        layout.addWidget(self.risks)
        risk_buttons = QHBoxLayout()
        self.add_risk_button = QPushButton(self.tr("Add risk"))
        self.remove_risk_button = QPushButton(self.tr("Remove risk"))
        self.add_risk_button.clicked.connect(lambda: self.add_risk())
        self.remove_risk_button.clicked.connect(self.remove_risk)
        risk_buttons.addWidget(self.add_risk_button)
        risk_buttons.addWidget(self.remove_risk_button)
        risk_buttons.addStretch(1)
        layout.addLayout(risk_buttons)
        for risk in review.risks:
            self.add_risk(risk)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def set_decision(self, decision: str) -> None:
        self.decision_buttons[decision].setChecked(True)

    def add_risk(self, risk: Risk | None = None) -> int:
        row = self.risks.rowCount()
        self.risks.insertRow(row)
        for column, (values, label, chosen) in enumerate((
                (RISK_CATEGORIES, risk_category_label, risk.category if risk else "technical"),
                (RISK_SEVERITIES, risk_severity_label, risk.severity if risk else "medium"))):
            box = QComboBox()
            for value in values:
                box.addItem(label(value), value)
            box.setCurrentIndex(max(0, box.findData(chosen)))
            self.risks.setCellWidget(row, column, box)
        self.risks.setItem(row, 2, QTableWidgetItem(risk.description if risk else ""))
        self.risks.setItem(row, 3, QTableWidgetItem(risk.mitigation if risk else ""))
        return row

    def set_risk(self, row: int, category: str, severity: str, description: str,
                 mitigation: str = "") -> None:
        """Fill a risk row as a person would (used by tests and by `add_risk`)."""
        for column, value in ((0, category), (1, severity)):
            box = self.risks.cellWidget(row, column)
            assert isinstance(box, QComboBox)
            box.setCurrentIndex(box.findData(value))
        self.risks.setItem(row, 2, QTableWidgetItem(description))
        self.risks.setItem(row, 3, QTableWidgetItem(mitigation))

    def remove_risk(self) -> None:
        rows = sorted({i.row() for i in self.risks.selectionModel().selectedRows()}, reverse=True)
        if not rows and self.risks.currentRow() >= 0:
            rows = [self.risks.currentRow()]
        for row in rows:
            self.risks.removeRow(row)

    def decision(self) -> str:
        return next(d for d, b in self.decision_buttons.items() if b.isChecked())

    def payload(self) -> ReviewDecision:
        risks = []
        for row in range(self.risks.rowCount()):
            category, severity = (self.risks.cellWidget(row, c) for c in (0, 1))
            assert isinstance(category, QComboBox) and isinstance(severity, QComboBox)
            described, mitigation = (self.risks.item(row, c) for c in (2, 3))
            text = described.text().strip() if described else ""
            if not text:
                raise UserFacingError(self.tr(
                    "Risk {n} has no description: describe it or remove the row.").format(
                    n=row + 1))
            risks.append(Risk(category.currentData(), severity.currentData(), text,
                              mitigation.text().strip() if mitigation else ""))
        return ReviewDecision(self.decision(), self.comments.toPlainText(),
                              self.recommendations.toPlainText(), tuple(risks))


class AskApprovalDialog(SubmitDialog):
    """Ask for an approval of the project; prefilled for the quote (management signs it)."""

    def __init__(self, formatter: Formatter, *, title: str, approval_type: str = "cost_approval",
                 parent: QWidget | None = None) -> None:
        super().__init__("", "", parent)
        self.formatter = formatter
        self.approval_id = uuid.uuid4()
        self.setWindowTitle(self.tr("Ask for approval"))
        self.set_ok_text(self.tr("Ask for approval"))
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.addWidget(_plain(self.tr(
            "The approvers follow the organization's rules for this kind of approval (for "
            "example, management above an amount).")))
        form = QFormLayout()
        self.type_box = QComboBox()
        for kind in APPROVAL_TYPE_CHOICES:
            self.type_box.addItem(approval_type_label(kind), kind)
        self.type_box.setCurrentIndex(max(0, self.type_box.findData(approval_type)))
        add_form_row(form, self.tr("Kind:"), self.type_box)
        self.title_edit = QLineEdit(title)
        add_form_row(form, self.tr("Title:"), self.title_edit)
        amount_row = QHBoxLayout()
        self.amount_edit = QLineEdit()
        self.amount_edit.setPlaceholderText(self.tr("optional, e.g. {example}").format(
            example=formatter.number(12500.5, 2)))
        self.currency_edit = QLineEdit(formatter.currency)
        self.currency_edit.setMaxLength(3)
        self.currency_edit.setFixedWidth(60)
        amount_row.addWidget(self.amount_edit, 1)
        amount_row.addWidget(self.currency_edit)
        holder = QWidget()
        holder.setLayout(amount_row)
        amount_row.setContentsMargins(0, 0, 0, 0)
        add_form_row(form, self.tr("Amount:"), holder)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setFixedHeight(60)
        add_form_row(form, self.tr("Why:"), self.reason_edit)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _amount(self) -> Decimal | None:
        try:  # one rule for every form (domain.numbers); no float on the way
            return parse_decimal(self.amount_edit.text(), decimals=2)
        except NumberProblem as problem:
            raise UserFacingError(self.tr("The amount: {problem}").format(
                problem=problem)) from None

    def payload(self) -> ApprovalAsk:
        return ApprovalAsk(self.approval_id, self.type_box.currentData(),
                           self.title_edit.text(), self._amount(),
                           self.currency_edit.text() or None,
                           self.reason_edit.toPlainText())
