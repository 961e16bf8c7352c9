"""Dialogs of the Contacts page: the problems of a refused import, a save conflict, duplicates.

All open with `open()` (never `exec()`), keep what the person chose, and show user text as
plain text. The duplicates dialog merges through the task runner and stays open with the
database's words when the merge is refused; it asks before merging (`confirm`, replaceable
in tests).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import ContactType
from factorypulse_desktop.services import contacts
from factorypulse_desktop.services.auth import Workspace
from factorypulse_desktop.services.contacts import (
    ContactConflictError,
    ContactDetail,
    ContactEdit,
    DuplicateCandidate,
    DuplicateGroup,
    MergeReport,
)
from factorypulse_desktop.services.contacts_csv import RowError
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.models.contacts_model import type_label
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error

__all__ = [
    "ContactConflictDialog",
    "DuplicatesDialog",
    "ImportErrorsDialog",
    "describe_merge",
]


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("dialogTitle")
    label.setStyleSheet("font-size: 13pt; font-weight: 600;")
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def _plain(text: str = "", *, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if muted:
        label.setObjectName("muted")
    return label


def _table_style(table: QTableWidget) -> None:
    colors = theme.current()
    table.setStyleSheet(
        f"QTableWidget {{ background: {colors.base}; alternate-background-color: "
        f"{colors.alt_base}; border: 1px solid {colors.border}; border-radius: 6px; }}"
        "QTableWidget::item { padding: 4px 8px; border: none; }"
        f"QHeaderView::section {{ background: {colors.base}; color: {colors.muted}; "
        f"font-weight: 600; padding: 6px 8px; border: none; "
        f"border-bottom: 1px solid {colors.border}; }}")
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    # Tables to read (the import problems can be copied with a button): no current cell.
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(True)
    header = table.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setHighlightSections(False)


def _item(text: str, tooltip: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(tooltip if tooltip is not None else text)
    return item


# -- import problems --------------------------------------------------------------------------


class ImportErrorsDialog(QDialog):
    """Every problem of a refused CSV import, one row each: row, column, problem."""

    def __init__(self, errors: Sequence[RowError], file_name: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.errors = tuple(errors)
        self.setWindowTitle(self.tr("Nothing was imported"))
        self.setMinimumSize(720, 420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(12)
        layout.addWidget(_heading(self.tr("Nothing was imported")))
        count = len(self.errors)
        where = self.tr(" in “{file}”").format(file=file_name) if file_name else ""
        self.summary = _plain(
            self.tr("The file{where} has a problem; fix it in the file and import it again. "
                    "No contact was added.").format(where=where) if count == 1 else
            self.tr("The file{where} has {count} problems; fix them in the file and import it "
                    "again. No contact was added.").format(where=where, count=count))
        layout.addWidget(self.summary)
        self.table = QTableWidget(count, 3)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Row"), self.tr("Column"), self.tr("Problem")])
        _table_style(self.table)
        for row, error in enumerate(self.errors):
            where_row = str(error.row) if error.row is not None else self.tr("File")
            number = _item(where_row)
            number.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            self.table.setItem(row, 0, number)
            column = _item(error.column or "—")
            column.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            self.table.setItem(row, 1, column)
            problem = _item(error.message)
            problem.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            self.table.setItem(row, 2, problem)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 150)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton(self.tr("Copy the list"))
        self.copy_button.setToolTip(self.tr("Copy every problem as text, e.g. to send it on."))
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.setObjectName("primary")
        self.close_button.setDefault(True)
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.table.resizeRowsToContents()

    def as_text(self) -> str:
        return "\n".join(str(e) for e in self.errors)

    def copy_to_clipboard(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.as_text())


# -- save conflict ----------------------------------------------------------------------------


def _shown(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, ContactType):
        return type_label(value)
    return str(value)


class ContactConflictDialog(QDialog):
    """Someone saved the contact meanwhile: their values next to the ones typed here.

    "Keep my changes" (``choice == "mine"``) leaves the typed values in the form, ready to be
    saved over theirs; "Use the saved version" (``"theirs"``) puts theirs in the form. Closing
    the dialog keeps the typed values too, without taking their version.
    """

    def __init__(self, mine: ContactEdit, theirs: ContactDetail,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice: str | None = None
        self.theirs = theirs
        self.setWindowTitle(self.tr("Saved by someone else"))
        self.setMinimumSize(620, 360)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(12)
        layout.addWidget(_heading(self.tr("“{name}” was changed meanwhile").format(
            name=theirs.company_name)))
        layout.addWidget(_plain(self.tr(
            "Someone else saved this contact while you were editing it. Nothing of yours was "
            "saved yet; your changes are still in the form. These fields differ:")))
        baseline = theirs.as_edit()
        changed = contacts.changed_fields(mine, baseline)
        self.table = QTableWidget(len(changed), 3)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Field"), self.tr("Yours (not saved)"), self.tr("Saved now")])
        _table_style(self.table)
        for row, name in enumerate(changed):
            self.table.setItem(row, 0, _item(self.tr(contacts.describe_field(name))))
            self.table.setItem(row, 1, _item(_shown(getattr(mine, name))))
            self.table.setItem(row, 2, _item(_shown(getattr(baseline, name))))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        if not changed:
            layout.addWidget(_plain(self.tr("(They saved the same values you typed.)"),
                                    muted=True))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.theirs_button = QPushButton(self.tr("Use the saved version"))
        self.mine_button = QPushButton(self.tr("Keep my changes"))
        self.mine_button.setObjectName("primary")
        self.mine_button.setDefault(True)
        self.mine_button.setToolTip(self.tr(
            "Your values stay in the form; saving then replaces theirs."))
        self.theirs_button.clicked.connect(lambda: self._choose("theirs"))
        self.mine_button.clicked.connect(lambda: self._choose("mine"))
        buttons.addWidget(self.theirs_button)
        buttons.addWidget(self.mine_button)
        layout.addLayout(buttons)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()


# -- duplicates -------------------------------------------------------------------------------


def describe_merge(report: MergeReport, tr: Callable[[str], str] | None = None) -> str:
    """One or two sentences about a merge, for the banner and the dialog."""
    t = tr or (lambda s: s)
    labels = {
        "projects": t("projects"), "supplier_rfqs": t("supplier RFQs"),
        "supplier_quotes": t("supplier quotes"), "purchase_orders": t("purchase orders"),
        "inventory_items": t("inventory items"), "memberships": t("portal logins"),
    }
    merged = len(report.merged_ids)
    first = (t("Merged 1 contact into “{name}”.") if merged == 1
             else t("Merged {n} contacts into “{name}”.")).format(n=merged,
                                                                   name=report.kept_name)
    moved = [f"{n} {labels.get(table, table)}" for table, n in report.moved.items() if n]
    if moved:
        first += " " + t("Moved to it: {what}.").format(what=", ".join(moved))
    else:
        first += " " + t("Nothing referred to the merged contacts.")
    if report.filled_fields:
        first += " " + t("Filled in: {fields}.").format(fields=", ".join(
            t(contacts.describe_field(f)).lower() for f in report.filled_fields))
    return first


class DuplicatesDialog(QDialog):
    """Groups of contacts with the same name; choose the one to keep and merge the others."""

    sig_merged = Signal(object)
    """A merge succeeded (`MergeReport`)."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 groups: Sequence[DuplicateGroup], *, can_merge: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self._organization_id = organization_id
        self._groups: list[DuplicateGroup] = list(groups)
        self._keep: dict[int, uuid.UUID] = {}  # group index -> id chosen to keep
        self._can_merge = can_merge
        self._busy = False
        self.confirm: Callable[[str], bool] = self._ask
        self.last_report: MergeReport | None = None
        self.setWindowTitle(self.tr("Duplicate contacts"))
        self.setMinimumSize(980, 480)
        self._build()
        self._fill_groups()

    # -- construction ---------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(12)
        layout.addWidget(_heading(self.tr("Duplicate contacts")))
        layout.addWidget(_plain(self.tr(
            "Active contacts of the same type whose names differ only in case, accents or "
            "spaces. Choose the one to keep: the others are archived (not deleted), and their "
            "projects, RFQs, quotes and orders move to the one you keep. Its empty fields are "
            "filled from the others."), muted=True))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.group_list = QListWidget()
        self.group_list.setMinimumWidth(200)
        colors = theme.current()
        self.group_list.setStyleSheet(
            f"QListWidget {{ background: {colors.base}; border: 1px solid {colors.border}; "
            "border-radius: 6px; padding: 4px; outline: 0; }"
            "QListWidget::item { padding: 6px 8px; border-radius: 4px; }"
            f"QListWidget::item:selected {{ background: {colors.sidebar_selected}; "
            f"color: {colors.text}; }}")
        self.group_list.currentRowChanged.connect(self._show_group)
        splitter.addWidget(self.group_list)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, 7)
        self.table.setHorizontalHeaderLabels([
            self.tr("Keep"), self.tr("Company"), self.tr("Contact / e-mail"), self.tr("Place"),
            self.tr("Projects"), self.tr("RFQs / POs"), self.tr("Logins")])
        for column, tip in ((5, self.tr("Supplier RFQs / purchase orders")),
                            (6, self.tr("Portal logins (customer or supplier users)"))):
            header_item = self.table.horizontalHeaderItem(column)
            if header_item is not None:
                header_item.setToolTip(tip)
        _table_style(self.table)
        self.table.setWordWrap(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(44)
        for column, width in ((0, 54), (2, 160), (3, 100), (4, 78), (5, 96), (6, 68)):
            self.table.setColumnWidth(column, width)
        right_layout.addWidget(self.table, 1)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([210, 720])
        layout.addWidget(splitter, 1)
        self.message = _plain()
        self.message.hide()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.clicked.connect(self.reject)
        self.merge_button = QPushButton(self.tr("Merge…"))
        self.merge_button.setObjectName("primary")
        self.merge_button.clicked.connect(self.merge)
        if not self._can_merge:
            self.merge_button.setEnabled(False)
            self.merge_button.setToolTip(self.tr(
                "Only administrators, management, sales and procurement can merge contacts."))
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.merge_button)
        layout.addLayout(buttons)
        self._keep_buttons = QButtonGroup(self)
        self._keep_buttons.idClicked.connect(self._keep_clicked)

    # -- state ----------------------------------------------------------------------------------
    def groups(self) -> list[DuplicateGroup]:
        return list(self._groups)

    def current_group(self) -> DuplicateGroup | None:
        row = self.group_list.currentRow()
        return self._groups[row] if 0 <= row < len(self._groups) else None

    def kept(self) -> DuplicateCandidate | None:
        group = self.current_group()
        if group is None:
            return None
        chosen = self._keep.get(self.group_list.currentRow())
        return next((c for c in group.contacts if c.id == chosen), group.suggested_keep())

    def select_group(self, index: int) -> None:
        self.group_list.setCurrentRow(index)

    def set_keep(self, contact_id: uuid.UUID) -> None:
        """Choose the contact to keep in the group shown (as clicking its radio button)."""
        group = self.current_group()
        if group is None:
            return
        for index, candidate in enumerate(group.contacts):
            if candidate.id == contact_id:
                button = self._keep_buttons.button(index)
                if button is not None:
                    button.setChecked(True)
                self._keep_clicked(index)
                return

    def show_message(self, text: str, *, error: bool = False) -> None:
        colors = theme.current()
        self.message.setStyleSheet(f"color: {colors.error if error else colors.ok};")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # -- filling --------------------------------------------------------------------------------
    def _fill_groups(self) -> None:
        self.group_list.blockSignals(True)
        self.group_list.clear()
        for group in self._groups:
            item = QListWidgetItem(self.tr("{name}\n{kind} · {count} contacts").format(
                name=group.name, kind=type_label(group.type), count=len(group.contacts)))
            item.setToolTip(group.name)
            self.group_list.addItem(item)
        self.group_list.blockSignals(False)
        if self._groups:
            self.group_list.setCurrentRow(0)
        else:
            self._show_group(-1)
        self._update_buttons()

    def _show_group(self, index: int) -> None:
        for button in self._keep_buttons.buttons():
            self._keep_buttons.removeButton(button)
        self.table.setRowCount(0)
        group = self._groups[index] if 0 <= index < len(self._groups) else None
        if group is None:
            self._update_buttons()
            return
        keep = self.kept()
        self.table.setRowCount(len(group.contacts))
        for row, candidate in enumerate(group.contacts):
            radio = QRadioButton()
            radio.setToolTip(self.tr("Keep this one"))
            radio.setChecked(keep is not None and candidate.id == keep.id)
            self._keep_buttons.addButton(radio, row)
            holder = QWidget()
            holder_layout = QHBoxLayout(holder)
            holder_layout.setContentsMargins(0, 0, 0, 0)
            holder_layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
            holder_layout.addWidget(radio)
            self.table.setCellWidget(row, 0, holder)
            who = candidate.contact_name or ""
            if candidate.email:
                who = f"{who} <{candidate.email}>" if who else candidate.email
            place = ", ".join(p for p in (candidate.city, candidate.country) if p)
            cells = [candidate.company_name, who, place, str(candidate.project_count),
                     f"{candidate.rfq_count} / {candidate.purchase_order_count}",
                     str(candidate.portal_login_count)]
            for column, value in enumerate(cells, start=1):
                item = _item(value)
                if column >= 4:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self._update_buttons()

    def _keep_clicked(self, index: int) -> None:
        group = self.current_group()
        if group is not None and 0 <= index < len(group.contacts):
            self._keep[self.group_list.currentRow()] = group.contacts[index].id

    def _update_buttons(self) -> None:
        self.merge_button.setEnabled(self._can_merge and not self._busy
                                     and self.current_group() is not None)
        self.close_button.setEnabled(not self._busy)

    # -- merging --------------------------------------------------------------------------------
    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(
            self, self.tr("Merge contacts"), question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def merge(self) -> None:
        group, keep = self.current_group(), self.kept()
        if group is None or keep is None or self._busy or not self._can_merge:
            return
        others = [c for c in group.contacts if c.id != keep.id]
        question = self.tr(
            "Keep “{name}” and merge {count} other contact(s) into it? Their projects, RFQs, "
            "quotes and orders move to it and they are archived. This cannot be undone with "
            "one click.").format(name=keep.company_name, count=len(others))
        if not self.confirm(question):
            return
        versions = {c.id: c.version for c in group.contacts}
        merge_ids = [c.id for c in others]
        ws, keep_id, index = self._workspace, keep.id, self.group_list.currentRow()
        self._set_busy(True)
        self.show_message(self.tr("Merging…"))
        self._runner.run(lambda: contacts.merge_contacts(ws, keep_id, merge_ids, versions),
                         on_done=lambda report: self._merged(index, report),
                         on_error=self._failed)

    def _merged(self, index: int, report: MergeReport) -> None:
        self._set_busy(False)
        self.last_report = report
        if 0 <= index < len(self._groups):
            del self._groups[index]
            self._keep = {(i if i < index else i - 1): v for i, v in self._keep.items()
                          if i != index}
        self._fill_groups()
        self.show_message(describe_merge(report, self.tr))
        self.sig_merged.emit(report)

    def _failed(self, error: BaseException) -> None:
        self._set_busy(False)
        text = describe_error(error)
        if isinstance(error, ContactConflictError):
            text += " " + self.tr("Close this window and look for duplicates again.")
        self.show_message(text, error=True)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.group_list.setEnabled(not busy)
        self.table.setEnabled(not busy)
        self._update_buttons()

    @property
    def busy(self) -> bool:
        return self._busy

    def reject(self) -> None:
        if not self._busy:  # a merge on its way cannot be taken back
            super().reject()
