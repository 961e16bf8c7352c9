"""The project page's "Reviews & approvals" tab: engineering, QA and production reviews with
their risks, and the approvals the project has asked for.

Everything a person typed is shown as plain text (T-IN-10): table cells, and labels set to
PlainText. The database decides who may do what; the panel only offers Decide… on reviews the
person can answer (theirs, their role's, or any as a manager) and shows a refusal in words.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.services import admin, approvals, reviews
from factorypulse_desktop.services.admin import PersonRow
from factorypulse_desktop.services.approvals import ProjectApproval
from factorypulse_desktop.services.reviews import ReviewConflictError, ReviewRow
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.dialogs.review_dialogs import (
    ApprovalAsk,
    AskApprovalDialog,
    DecideReviewDialog,
    RequestReviewsDialog,
    ReviewDecision,
    ReviewRequest,
)
from factorypulse_desktop.ui.dialogs.submit_dialog import SubmitDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.approval_words import (
    approval_status_label,
    approval_type_label,
    review_status_label,
    review_type_label,
    risk_category_label,
    risk_severity_label,
    step_words,
)
from factorypulse_desktop.ui.models.documents_model import format_moment
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner

__all__ = ["ReviewsPanel"]

OPEN_REVIEW = ("pending", "in_progress")
MANAGERS = (Role.ADMIN, Role.MANAGEMENT)


@dataclass(frozen=True)
class _Loaded:
    reviews: list[ReviewRow]
    approvals: list[ProjectApproval]
    people: list[PersonRow] | None


def _plain(wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # user text, never rich text (T-IN-10)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            table.setItem(r, c, QTableWidgetItem(text))  # items are plain text


class ReviewsPanel(QWidget):
    """Reviews and approvals of one project."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 project_id: uuid.UUID, formatter: Formatter, *, project_label: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self.project_id = project_id
        self._formatter = formatter
        self.project_label = project_label
        self.reviews: list[ReviewRow] = []
        self.approvals: list[ProjectApproval] = []
        self.people: list[PersonRow] | None = None
        self.loaded = False
        self.dialog: SubmitDialog | None = None
        membership = workspace.identity.membership(organization_id)
        self._role = membership.role if membership else None
        self._build()
        self.reload()

    # -- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
        self.banner = Banner()
        layout.addWidget(self.banner)

        head = QHBoxLayout()
        title = QLabel(self.tr("Reviews"))
        title.setObjectName("sectionTitle")
        head.addWidget(title)
        head.addStretch(1)
        self.request_button = QPushButton(self.tr("Request reviews…"))
        self.decide_button = QPushButton(self.tr("Decide…"))
        self.decide_button.setObjectName("primary")
        self.request_button.clicked.connect(self.request_reviews)
        self.decide_button.clicked.connect(self.decide_selected)
        head.addWidget(self.request_button)
        head.addWidget(self.decide_button)
        layout.addLayout(head)
        self.reviews_table = _table([self.tr("Review"), self.tr("Reviewer"), self.tr("Status"),
                                     self.tr("Due"), self.tr("Decided")])
        self.reviews_table.itemSelectionChanged.connect(self._review_selected)
        layout.addWidget(self.reviews_table, 2)
        self.reviews_empty = QLabel(self.tr(
            "No reviews yet. Ask engineering, QA and production with Request reviews…"))
        self.reviews_empty.setObjectName("muted")
        layout.addWidget(self.reviews_empty)

        detail = QHBoxLayout()
        texts = QVBoxLayout()
        texts.addWidget(QLabel(self.tr("Comments:")))
        self.comments_label = _plain()
        texts.addWidget(self.comments_label)
        texts.addWidget(QLabel(self.tr("Recommendations:")))
        self.recommendations_label = _plain()
        texts.addWidget(self.recommendations_label)
        texts.addStretch(1)
        detail.addLayout(texts, 1)
        self.risks_table = _table([self.tr("Category"), self.tr("Severity"), self.tr("Risk"),
                                   self.tr("Mitigation")])
        self.risks_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        detail.addWidget(self.risks_table, 2)
        layout.addLayout(detail, 1)

        head = QHBoxLayout()
        title = QLabel(self.tr("Approvals"))
        title.setObjectName("sectionTitle")
        head.addWidget(title)
        head.addStretch(1)
        self.ask_button = QPushButton(self.tr("Ask for approval…"))
        self.ask_button.clicked.connect(self.ask_for_approval)
        head.addWidget(self.ask_button)
        layout.addLayout(head)
        self.approvals_table = _table([
            self.tr("Title"), self.tr("Kind"), self.tr("Status"), self.tr("Step"),
            self.tr("Requested by"), self.tr("Requested"), self.tr("Decided")])
        layout.addWidget(self.approvals_table, 2)
        self._review_selected()

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        ws, org, project = self._workspace, self.organization_id, self.project_id
        need_people = self.people is None

        def read() -> _Loaded:
            people = ([p for p in admin.list_people(ws, org)
                       if p.is_active and not p.role.is_portal] if need_people else None)
            return _Loaded(reviews.list_reviews(ws, org, project),
                           approvals.project_approvals(ws, org, project), people)

        self._runner.run(read, on_done=self._loaded, on_error=self._show_error,
                         key=f"reviews-panel-{id(self)}")

    def on_reviews_changed(self, _ids: list[uuid.UUID]) -> None:
        """Live update (ChangeBus "reviews"); the risks come with their review."""
        self.reload()

    def on_approvals_changed(self, _ids: list[uuid.UUID]) -> None:
        """Live update (ChangeBus "approvals")."""
        self.reload()

    def set_project_label(self, label: str) -> None:
        """"P-0042 Gear housing": prefills the title of a quote approval."""
        self.project_label = label

    def _loaded(self, loaded: _Loaded) -> None:
        selected = self.selected_review()
        self.reviews, self.approvals = loaded.reviews, loaded.approvals
        if loaded.people is not None:
            self.people = loaded.people
        fmt = self._formatter
        self.reviews_table.blockSignals(True)
        _fill(self.reviews_table, [(
            review_type_label(r.review_type),
            r.reviewer or self.tr("Anyone in {role}").format(
                role=review_type_label(r.reviewer_role or r.review_type)),
            review_status_label(r.status), fmt.date(r.due_date),
            " ".join(filter(None, (r.reviewer if r.completed_at else None,
                                   format_moment(fmt, r.completed_at)))))
            for r in self.reviews])
        self.reviews_table.blockSignals(False)
        if selected is not None:
            self.select_review(selected.id)
        _fill(self.approvals_table, [(
            a.title, approval_type_label(a.approval_type),
            self.tr("Changed since asked — ask again") if a.stale
            else approval_status_label(a.status),
            step_words(a.step_number, a.total_steps, a.step_name),
            a.requested_by or "", format_moment(fmt, a.requested_at),
            " ".join(filter(None, (a.decided_by, format_moment(fmt, a.decided_at)))))
            for a in self.approvals])
        self.reviews_empty.setVisible(not self.reviews)
        self.loaded = True
        self._review_selected()

    # -- reviews ------------------------------------------------------------------------------

    def selected_review(self) -> ReviewRow | None:
        rows = self.reviews_table.selectionModel().selectedRows()
        return self.reviews[rows[0].row()] if rows and rows[0].row() < len(self.reviews) \
            else None

    def select_review(self, review_id: uuid.UUID) -> None:
        for row, review in enumerate(self.reviews):
            if review.id == review_id:
                self.reviews_table.selectRow(row)
                return

    def may_decide(self, review: ReviewRow) -> bool:
        """Whether to offer Decide… (the database has the last word)."""
        if review.status not in OPEN_REVIEW or self._role is None:
            return False
        if self._role in MANAGERS:
            return True
        if review.reviewer_id is not None:
            return review.reviewer_id == self._workspace.identity.person_id
        return review.reviewer_role == self._role.value

    def _review_selected(self) -> None:
        review = self.selected_review()
        self.decide_button.setEnabled(review is not None and self.may_decide(review))
        self.comments_label.setText((review.comments or "") if review else "")
        self.recommendations_label.setText((review.recommendations or "") if review else "")
        _fill(self.risks_table, [
            (risk_category_label(k.category), risk_severity_label(k.severity), k.description,
             k.mitigation) for k in (review.risks if review else ())])

    def request_reviews(self) -> None:
        dialog = RequestReviewsDialog(self.people or [], self)
        ws, org, project = self._workspace, self.organization_id, self.project_id
        request_id = dialog.new_id  # the same for every press while the dialog is open

        def save(asked: ReviewRequest) -> None:
            self._save(dialog, lambda: reviews.request_reviews(
                ws, org, project, asked.types, due_date=asked.due_date,
                reviewers=asked.reviewers, request_id=request_id),
                self.tr("Reviews requested."))

        self._open(dialog, save)

    def decide_selected(self) -> None:
        review = self.selected_review()
        if review is None:
            return
        dialog = DecideReviewDialog(review, self)
        ws, org = self._workspace, self.organization_id

        def save(chosen: ReviewDecision) -> None:
            self._save(dialog, lambda: reviews.decide_review(
                ws, org, review, chosen.decision, comments=chosen.comments,
                recommendations=chosen.recommendations, risks=chosen.risks),
                self.tr("Decision saved."))

        self._open(dialog, save)

    # -- approvals ----------------------------------------------------------------------------

    def ask_for_approval(self) -> None:
        title = (self.tr("Quote for {project}").format(project=self.project_label)
                 if self.project_label else self.tr("Customer quote approval"))
        dialog = AskApprovalDialog(self._formatter, title=title, parent=self)
        ws, org, project = self._workspace, self.organization_id, self.project_id

        def save(ask: ApprovalAsk) -> None:
            self._save(dialog, lambda: approvals.request(
                ws, org, approval_type=ask.approval_type, title=ask.title,
                entity_type="project", entity_id=project, project_id=project,
                amount=ask.amount, currency=ask.currency if ask.amount is not None else None,
                reason=ask.reason, approval_id=ask.approval_id),
                self.tr("Approval requested."))

        self._open(dialog, save)

    # -- helpers ------------------------------------------------------------------------------

    def _open(self, dialog: SubmitDialog, save: Callable[[Any], None]) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_submitted.connect(save)
        self.dialog = dialog
        dialog.show()

    def _save(self, dialog: SubmitDialog, work: Callable[[], object], done_text: str) -> None:
        """Run `work` on the runner; the dialog closes when it worked, keeps its text if not."""

        def done(_result: object) -> None:
            dialog.finish()
            self.banner.show_message(done_text, kind="ok", timeout_ms=6000)
            self.reload()

        def failed(error: BaseException) -> None:
            dialog.fail(describe_error(error))
            if isinstance(error, (ReviewConflictError, approvals.ApprovalConflictError)):
                self.reload()  # show what the other person did; the dialog keeps the text

        self._runner.run(work, on_done=done, on_error=failed)

    def _show_error(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error), kind="error",
                                 action=self.tr("Retry"), on_action=self.reload)
