"""The approvals inbox: what waits for the person's decision (theirs, their role's, and their
delegators'), with each one's history, approve/reject with a comment, and bulk decisions.

A bulk decision is one transaction (services.approvals.decide_all): if any selected approval
changed meanwhile, nothing is applied and the page says which and why, in words, then reloads.
Every read and decision runs on the task runner.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import admin, approvals
from factorypulse_desktop.services.approvals import ApprovalConflictError, BulkResult, InboxItem
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.dialogs.approval_decision_dialog import DecisionDialog
from factorypulse_desktop.ui.dialogs.delegation_dialog import DelegationDialog, DelegationRequest
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.approval_words import (
    APPROVAL_TYPE_CHOICES,
    approval_type_label,
    history_line,
    is_overdue,
    step_words,
)
from factorypulse_desktop.ui.models.documents_model import format_moment
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner

__all__ = ["ApprovalsPage"]

PAGE_MARGIN = 24


class ApprovalsPage(QWidget):
    """The person's approvals inbox."""

    sig_open_project = Signal(object)
    """Double-click: open the project the approval belongs to (its uuid)."""

    HEADERS = ("Title", "Type", "Project", "Requested by", "Requested", "Due", "Step",
               "On behalf of")

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page-approvals")
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self._formatter = formatter
        self.items: list[InboxItem] = []
        self.history: list[dict[str, Any]] = []
        self.has_more = False
        self.loaded = False
        self.loading = False  # a read is on its way: "Load more" waits for it
        self.dialog: DecisionDialog | None = None
        self.delegation_dialog: DelegationDialog | None = None
        self._build()
        self.reload()

    # -- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(PAGE_MARGIN, 18, PAGE_MARGIN, PAGE_MARGIN)
        layout.setSpacing(8)
        heading = QLabel(self.tr("Approvals"))
        heading.setObjectName("pageTitle")
        layout.addWidget(heading)

        row = QHBoxLayout()
        self.kind_box = QComboBox()
        self.kind_box.addItem(self.tr("All types"), None)
        for kind in APPROVAL_TYPE_CHOICES:
            self.kind_box.addItem(approval_type_label(kind), kind)
        self.kind_box.currentIndexChanged.connect(lambda _i: self.reload())
        row.addWidget(QLabel(self.tr("Show:")))
        row.addWidget(self.kind_box)
        self.delegate_button = QPushButton(self.tr("Delegate…"))
        self.delegate_button.setToolTip(self.tr("Let a colleague decide for you while you "
                                                "are away"))
        self.delegate_button.clicked.connect(self.open_delegation)
        row.addWidget(self.delegate_button)
        row.addStretch(1)
        self.approve_button = QPushButton(self.tr("Approve…"))
        self.approve_button.setObjectName("primary")
        self.reject_button = QPushButton(self.tr("Reject…"))
        self.approve_button.clicked.connect(lambda: self.decide_selected("approved"))
        self.reject_button.clicked.connect(lambda: self.decide_selected("rejected"))
        row.addWidget(self.approve_button)
        row.addWidget(self.reject_button)
        layout.addLayout(row)

        self.banner = Banner()
        layout.addWidget(self.banner)
        # The per-item report of a bulk decision that was not applied stays until dismissed.
        self.report_label = QLabel()
        self.report_label.setObjectName("card")
        self.report_label.setWordWrap(True)
        self.report_label.setTextFormat(Qt.TextFormat.PlainText)  # quotes titles
        self.report_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report_label.hide()
        layout.addWidget(self.report_label)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setHorizontalHeaderLabels([self.tr(h) for h in self.HEADERS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The title gets a readable width of its own; the rest fit their contents.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 260)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.cellDoubleClicked.connect(self._open_project_of_row)
        self.empty_label = QLabel(self.tr("Nothing waits for your decision."))
        self.empty_label.setObjectName("muted")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty_label)
        left_layout.addWidget(self.stack, 1)
        self.more_button = QPushButton(self.tr("Load more"))
        self.more_button.clicked.connect(self.load_more)
        self.more_button.hide()
        left_layout.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignLeft)
        split.addWidget(left)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 0, 0, 0)
        self.detail_title = QLabel()
        self.detail_title.setObjectName("sectionTitle")
        self.detail_title.setWordWrap(True)
        self.detail_title.setTextFormat(Qt.TextFormat.PlainText)
        right_layout.addWidget(self.detail_title)
        self.stale_note = QLabel()
        self.stale_note.setObjectName("muted")
        self.stale_note.setWordWrap(True)
        self.stale_note.setTextFormat(Qt.TextFormat.PlainText)  # quotes names
        self.stale_note.hide()
        right_layout.addWidget(self.stale_note)
        right_layout.addWidget(QLabel(self.tr("History")))
        self.history_list = QListWidget()  # item texts are plain text (T-IN-10)
        self.history_list.setWordWrap(True)
        right_layout.addWidget(self.history_list, 1)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        self._selection_changed()

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the inbox again (as many rows as are shown, at least one page)."""
        ws, org, kind = self._workspace, self.organization_id, self.kind_box.currentData()
        limit = max(approvals.PAGE, len(self.items))
        self._set_loading(True)
        self._runner.run(lambda: approvals.inbox(ws, org, kind=kind, limit=limit),
                         on_done=lambda rows: self._loaded(rows, limit),
                         on_error=self._load_failed, key=f"approvals-inbox-{id(self)}")

    def load_more(self) -> None:
        if not self.items or self.loading:
            return
        self._set_loading(True)
        ws, org, kind = self._workspace, self.organization_id, self.kind_box.currentData()
        after, limit = self.items[-1].cursor, approvals.PAGE
        self._runner.run(lambda: approvals.inbox(ws, org, kind=kind, after=after, limit=limit),
                         on_done=self._more_loaded, on_error=self._load_failed,
                         key=f"approvals-inbox-{id(self)}")

    def on_approvals_changed(self, _ids: list[uuid.UUID]) -> None:
        """Live update (ChangeBus "approvals"): decided ones leave, new ones arrive."""
        self.reload()

    def set_organization(self, organization_id: uuid.UUID) -> None:
        if organization_id != self.organization_id:
            self.organization_id = organization_id
            self.items = []
            self.reload()

    def _set_loading(self, loading: bool) -> None:
        self.loading = loading
        self.more_button.setEnabled(not loading)

    def _load_failed(self, error: BaseException) -> None:
        self._set_loading(False)
        self._show_error(error)

    def _loaded(self, rows: list[InboxItem], limit: int) -> None:
        selected = set(self.selected_ids())
        self.items = list(rows)
        self.has_more = len(rows) >= limit
        self._fill(selected)

    def _more_loaded(self, rows: list[InboxItem]) -> None:
        selected = set(self.selected_ids())
        known = {i.id for i in self.items}
        self.items += [r for r in rows if r.id not in known]
        self.has_more = len(rows) >= approvals.PAGE
        self._fill(selected)

    def _fill(self, selected: set[uuid.UUID]) -> None:
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(self.items))
        now = dt.datetime.now(dt.UTC)
        late = QBrush(QColor(theme.current().error))
        faded = QBrush(QColor(theme.current().muted))
        for row, item in enumerate(self.items):
            overdue = is_overdue(item.due_date, now) and not item.stale
            due = format_moment(self._formatter, item.due_date)
            step = (self.tr("Changed since asked") if item.stale
                    else step_words(item.step_number, item.total_steps, item.step_name))
            cells = (item.title, approval_type_label(item.approval_type),
                     item.project_number or "", item.requested_by or "",
                     format_moment(self._formatter, item.requested_at),
                     self.tr("{due} (overdue)").format(due=due) if overdue else due,
                     step, item.on_behalf_of or "")
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)  # table items are plain text (T-IN-10)
                cell.setData(Qt.ItemDataRole.UserRole, item.id)
                if item.stale:
                    cell.setForeground(faded)
                    cell.setToolTip(self._stale_words(item))
                elif overdue:
                    cell.setForeground(late)
                self.table.setItem(row, column, cell)
            if item.id in selected:
                self.table.selectRow(row)
        self.table.blockSignals(False)
        self._set_loading(False)
        self.stack.setCurrentIndex(0 if self.items else 1)
        self.more_button.setVisible(self.has_more)
        self.loaded = True
        self._selection_changed()

    # -- selection and history ----------------------------------------------------------------

    def selected_ids(self) -> list[uuid.UUID]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.items[r].id for r in rows if r < len(self.items)]

    def _open_project_of_row(self, row: int, _column: int) -> None:
        if row < len(self.items) and self.items[row].project_id is not None:
            self.sig_open_project.emit(self.items[row].project_id)

    def selected_items(self) -> list[InboxItem]:
        wanted = set(self.selected_ids())
        return [i for i in self.items if i.id in wanted]

    def select(self, ids: list[uuid.UUID]) -> None:
        """Select these approvals (those shown), as a person would with Ctrl-click."""
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row, item in enumerate(self.items):
            if item.id in ids:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def decidable_items(self) -> list[InboxItem]:
        """The selected approvals that can still be decided (not changed since asked)."""
        return [i for i in self.selected_items() if not i.stale]

    def _stale_words(self, item: InboxItem) -> str:
        return self.tr(
            "The record was changed after this approval was asked for, so it can no longer "
            "be decided. {who} can ask again; the new request replaces this one.").format(
                who=item.requested_by or self.tr("Whoever asked"))

    def _selection_changed(self) -> None:
        chosen = self.selected_items()
        count = len(self.decidable_items())
        stale = [i for i in chosen if i.stale]
        self.stale_note.setText(self._stale_words(stale[0]) if len(stale) == 1 else self.tr(
            "{n} of the selected approvals were changed since they were asked for and "
            "cannot be decided; they are left out.").format(n=len(stale)))
        self.stale_note.setVisible(bool(stale))
        self.approve_button.setEnabled(count > 0)
        self.reject_button.setEnabled(count > 0)
        if count > 1:
            self.approve_button.setText(self.tr("Approve selected ({n})…").format(n=count))
            self.reject_button.setText(self.tr("Reject selected ({n})…").format(n=count))
        else:
            self.approve_button.setText(self.tr("Approve…"))
            self.reject_button.setText(self.tr("Reject…"))
        self.history = []
        self.history_list.clear()
        if len(chosen) == 1:
            self.detail_title.setText(chosen[0].title)
            self._load_history(chosen[0].id)
        elif chosen:
            self.detail_title.setText(self.tr("{n} approvals selected").format(n=len(chosen)))
        else:
            self.detail_title.setText("")

    def _load_history(self, approval: uuid.UUID) -> None:
        ws, org = self._workspace, self.organization_id
        self._runner.run(lambda: approvals.history(ws, org, approval),
                         on_done=lambda rows: self._history_loaded(approval, rows),
                         on_error=self._show_error, key=f"approvals-history-{id(self)}")

    def _history_loaded(self, approval: uuid.UUID, rows: list[dict[str, Any]]) -> None:
        if self.selected_ids() != [approval]:
            return  # the selection moved on
        self.history = rows
        self.history_list.clear()
        for entry in rows:
            self.history_list.addItem(history_line(
                format_moment(self._formatter, entry["action_at"]), entry["who"],
                entry["action_type"], entry["comments"]))

    # -- deciding -----------------------------------------------------------------------------

    def decide_selected(self, decision: str) -> None:
        """Open the comment dialog for the selected approval(s); it stays open until saved.
        Those changed since they were asked for are left out (they cannot be decided)."""
        chosen = self.decidable_items()
        if not chosen:
            return
        what = chosen[0].title if len(chosen) == 1 else "\n".join(
            f"• {i.title}" for i in chosen[:10]) + ("\n…" if len(chosen) > 10 else "")
        dialog = DecisionDialog(decision, what, count=len(chosen), parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        pairs = [(i.id, i.version) for i in chosen]
        titles = {i.id: i.title for i in chosen}
        steps = {i.id: i.step_number for i in chosen}
        dialog.sig_submitted.connect(
            lambda comment: self._submit(dialog, decision, pairs, titles, str(comment), steps))
        self.dialog = dialog
        dialog.show()

    def _submit(self, dialog: DecisionDialog, decision: str,
                pairs: list[tuple[uuid.UUID, int]], titles: dict[uuid.UUID, str],
                comment: str, steps: dict[uuid.UUID, int] | None = None) -> None:
        ws, org = self._workspace, self.organization_id
        self.report_label.hide()

        def failed(error: BaseException) -> None:
            if isinstance(error, ApprovalConflictError):
                # Someone decided first: there is nothing left to type for; show it and reload.
                dialog.finish()
                self.banner.show_message(
                    self.tr("Not saved: {why} The list now shows the current state.").format(
                        why=str(error)), kind="warning")
                self.reload()
            else:
                dialog.fail(describe_error(error))  # the comment stays in the dialog

        if len(pairs) == 1:
            approval, version = pairs[0]

            def one_done(_status: str) -> None:
                dialog.finish()
                self.banner.show_message(
                    (self.tr("Approved.") if decision == "approved" else self.tr("Rejected.")),
                    kind="ok", timeout_ms=6000)
                self.reload()

            step = (steps or {}).get(approval)
            self._runner.run(lambda: approvals.decide(ws, org, approval, version, decision,
                                                      comment, step_number=step),
                             on_done=one_done, on_error=failed)
            return

        def all_done(result: BulkResult) -> None:
            dialog.finish()
            if result.ok:
                self.banner.show_message(
                    (self.tr("{n} approvals approved.") if decision == "approved"
                     else self.tr("{n} approvals rejected.")).format(n=result.applied),
                    kind="ok", timeout_ms=6000)
            else:
                self._show_report(decision, len(pairs), result, titles)
            self.reload()

        self._runner.run(lambda: approvals.decide_all(ws, org, pairs, decision, comment),
                         on_done=all_done, on_error=failed)

    # -- delegation ---------------------------------------------------------------------------

    def open_delegation(self) -> None:
        """Read colleagues and current delegations on a worker, then open the dialog."""
        ws, org, me = self._workspace, self.organization_id, self._workspace.identity.person_id

        def read() -> tuple[list[tuple[uuid.UUID, str]], list[approvals.Delegation]]:
            people = [(p.person_id, p.display_name) for p in admin.list_people(ws, org)
                      if p.is_active and not p.role.is_portal and p.person_id != me]
            return people, approvals.delegations(ws, org)

        self.delegate_button.setEnabled(False)
        self._runner.run(read, on_done=self._show_delegation,
                         on_error=self._delegation_failed)

    def _delegation_failed(self, error: BaseException) -> None:
        self.delegate_button.setEnabled(True)
        self.banner.show_message(describe_error(error), kind="error")

    def _show_delegation(self, found: tuple[list[tuple[uuid.UUID, str]],
                                            list[approvals.Delegation]]) -> None:
        self.delegate_button.setEnabled(True)
        colleagues, current = found
        dialog = DelegationDialog(colleagues, current, self._formatter, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        ws, org = self._workspace, self.organization_id

        def saved(message: str) -> None:
            dialog.finish()
            self.banner.show_message(message, kind="ok", timeout_ms=6000)

        def submitted(request: object) -> None:
            assert isinstance(request, DelegationRequest)
            new_id = dialog.new_id  # the same for every press while the dialog is open
            self._runner.run(
                lambda: approvals.delegate(ws, org, request.delegate_id, request.start,
                                           request.end, request.reason,
                                           delegation_id=new_id),
                on_done=lambda _id: saved(self.tr("Delegated: your stand-in sees your "
                                                  "approvals in that period.")),
                on_error=lambda error: dialog.fail(describe_error(error)))

        def end(delegation: object) -> None:
            assert isinstance(delegation, approvals.Delegation)
            self._runner.run(lambda: approvals.end_delegation(ws, org, delegation),
                             on_done=lambda _r: saved(self.tr("Delegation ended.")),
                             on_error=lambda error: dialog.fail(describe_error(error)))

        dialog.sig_submitted.connect(submitted)
        dialog.sig_end.connect(end)
        self.delegation_dialog = dialog
        dialog.show()

    def _show_report(self, decision: str, count: int, result: BulkResult,
                     titles: dict[uuid.UUID, str]) -> None:
        lines = [(self.tr("Nothing was approved") if decision == "approved"
                  else self.tr("Nothing was rejected"))
                 + self.tr(": {stale} of the {n} selected approvals changed meanwhile, so none "
                           "of them was decided. The list now shows the current state; select "
                           "again and retry.").format(stale=len(result.stale), n=count)]
        for approval, why in result.stale:
            lines.append(f"• “{titles.get(approval, str(approval))}”: {why}")
        self.report_label.setText("\n".join(lines))
        self.report_label.show()

    # -- helpers ------------------------------------------------------------------------------

    def _show_error(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error), kind="error", action=self.tr("Retry"),
                                 on_action=self.reload)
