"""The Activity log page for auditors and admins: who did what, when, to which record.

Filters (person, record type, action, period, words) are applied in SQL; rows arrive in keyset
pages ("Load more"). "Export CSV…" writes every row of the current filter on a worker thread
with progress and Cancel; cells that a spreadsheet would run as formulas are escaped
(T-IN-05). User text is shown as plain text (T-IN-10): table items never interpret markup.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import activity
from factorypulse_desktop.services.activity import ActivityFilter, ActivityRow
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskHandle, TaskRunner, TaskState, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.transfer_status import TransferStatus

TEXT_DELAY_MS = 350
_OK_TIMEOUT_MS = 8000
COLUMNS = ("When", "Who", "Record", "Action", "Description", "Changes")


def _words(code: str) -> str:
    """A code as a word for a list of choices ("stage_transition" → "Stage transition")."""
    return code.replace("_", " ").capitalize()


class ActivityLogPage(QWidget):
    """Filter, read and export the organization's activity log."""

    sig_loaded = Signal()
    """A page of rows arrived and is shown (tests wait for it)."""
    sig_export_finished = Signal(object)
    """An export ended: the number of rows written, or the error (None when cancelled)."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter | None = None, parent: QWidget | None = None, *,
                 page_size: int = activity.PAGE) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self._organization_id = organization_id
        self._formatter = formatter or Formatter()
        self._page_size = page_size
        self._generation = 0
        self._export: TaskHandle | None = None
        self.rows: list[ActivityRow] = []
        self.loaded = False
        self.choose_export_file: Callable[[str], str | None] = self._ask_export_file
        self._text_timer = QTimer(self, singleShot=True, interval=TEXT_DELAY_MS)
        self._text_timer.timeout.connect(self.reload)
        self._build()
        self._load_choices()
        self.reload()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 24)
        title = QLabel(self.tr("Activity log"))
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        self.banner = Banner(self)
        layout.addWidget(self.banner)

        filters = QHBoxLayout()
        filters.setSpacing(8)
        self.person_box = QComboBox()
        self.person_box.addItem(self.tr("Anyone"), None)
        self.record_box = QComboBox()
        self.record_box.addItem(self.tr("Any record"), None)
        self.action_box = QComboBox()
        self.action_box.addItem(self.tr("Any action"), None)
        for box in (self.person_box, self.record_box, self.action_box):
            box.setMinimumContentsLength(12)
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.currentIndexChanged.connect(lambda _i: self.reload())
            filters.addWidget(box)
        today = QDate.currentDate()
        self.since_check = QCheckBox(self.tr("From"))
        self.since_edit = QDateEdit(today.addDays(-30))
        self.until_check = QCheckBox(self.tr("to"))
        self.until_edit = QDateEdit(today)
        for check, edit in ((self.since_check, self.since_edit),
                            (self.until_check, self.until_edit)):
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(lambda _on: self.reload())
            edit.dateChanged.connect(lambda _d: self.reload())
            filters.addWidget(check)
            filters.addWidget(edit)
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText(self.tr("Words in the description"))
        self.text_edit.setClearButtonEnabled(True)
        self.text_edit.textChanged.connect(lambda _t: self._text_timer.start())
        filters.addWidget(self.text_edit, 1)
        layout.addLayout(filters)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("activityTable")
        self.table.setHorizontalHeaderLabels([self.tr(c) for c in COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((130, 150, 160, 140, 280)):
            self.table.setColumnWidth(column, width)
        layout.addWidget(self.table, 1)

        self.empty_label = QLabel(self.tr("No activity matches these filters."))
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()
        layout.addWidget(self.empty_label)

        self.transfer_status = TransferStatus(self)
        self.transfer_status.sig_cancel.connect(self.cancel_export)
        layout.addWidget(self.transfer_status)

        bottom = QHBoxLayout()
        self.count_label = QLabel()
        bottom.addWidget(self.count_label)
        bottom.addStretch(1)
        self.load_more_button = QPushButton(self.tr("Load more"))
        self.load_more_button.setEnabled(False)
        self.load_more_button.clicked.connect(self.load_more)
        self.export_button = QPushButton(self.tr("Export CSV…"))
        self.export_button.clicked.connect(self.export_csv)
        bottom.addWidget(self.load_more_button)
        bottom.addWidget(self.export_button)
        layout.addLayout(bottom)

    # --- filters ----------------------------------------------------------------------------
    def current_filter(self) -> ActivityFilter:
        """The filter the controls describe."""
        def chosen(box: QComboBox) -> object:
            return box.currentData()

        since = self.since_edit.date().toPython() if self.since_check.isChecked() else None
        until = self.until_edit.date().toPython() if self.until_check.isChecked() else None
        person = chosen(self.person_box)
        return ActivityFilter(
            person_id=person if isinstance(person, uuid.UUID) else None,
            entity_type=str(chosen(self.record_box) or "") or None,
            action=str(chosen(self.action_box) or "") or None,
            since=since if isinstance(since, dt.date) else None,
            until=until if isinstance(until, dt.date) else None,
            text=self.text_edit.text().strip() or None)

    def _load_choices(self) -> None:
        ws, org = self._workspace, self._organization_id

        def read() -> tuple[list[tuple[uuid.UUID, str]], list[str], list[str]]:
            return (activity.people(ws, org), activity.entity_types(ws, org),
                    activity.actions(ws, org))

        self._runner.run(read, on_done=self._choices_arrived, on_error=self._show_error)

    def _choices_arrived(self, choices: tuple[list[tuple[uuid.UUID, str]], list[str],
                                              list[str]]) -> None:
        people, records, actions = choices
        for box in (self.person_box, self.record_box, self.action_box):
            box.blockSignals(True)
        for person_id, name in people:
            self.person_box.addItem(name, person_id)
        for record in records:
            self.record_box.addItem(_words(record), record)
        for action in actions:
            self.action_box.addItem(_words(action), action)
        for box in (self.person_box, self.record_box, self.action_box):
            box.blockSignals(False)

    # --- reading ----------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the first page of the current filter."""
        self._generation += 1
        self._read(None, replace=True)

    def load_more(self) -> None:
        if self.rows:
            self.load_more_button.setEnabled(False)
            self._read(self.rows[-1].cursor, replace=False)

    def _read(self, before: tuple[dt.datetime, uuid.UUID] | None, *, replace: bool) -> None:
        generation = self._generation
        ws, org, flt, size = (self._workspace, self._organization_id, self.current_filter(),
                              self._page_size)
        self._runner.run(lambda: activity.page(ws, org, flt, before=before, limit=size),
                         on_done=lambda rows: self._arrived(generation, rows, replace),
                         on_error=lambda error: self._failed(generation, error))

    def _arrived(self, generation: int, rows: list[ActivityRow], replace: bool) -> None:
        if generation != self._generation:
            return
        self.banner.hide()
        if replace:
            self.rows = []
            self.table.setRowCount(0)
        start = len(self.rows)
        self.rows.extend(rows)
        self.table.setRowCount(len(self.rows))
        for offset, row in enumerate(rows):
            for column, value in enumerate(self.cells(row)):
                self.table.setItem(start + offset, column, QTableWidgetItem(value))
        self.table.resizeRowsToContents()
        self.load_more_button.setEnabled(len(rows) >= self._page_size)
        self.empty_label.setVisible(not self.rows)
        self.count_label.setText(self.tr("{count} shown").format(count=len(self.rows)))
        self.loaded = True
        self.sig_loaded.emit()

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation == self._generation:
            self.load_more_button.setEnabled(bool(self.rows))
            self._show_error(error)

    def cells(self, row: ActivityRow) -> list[str]:
        """The table's texts for one row."""
        local = row.occurred_at.astimezone()
        record = _words(row.entity_type)
        if row.project_number:
            record = f"{record} \u00b7 {row.project_number}"
        return [f"{self._formatter.date(local.date())} {local:%H:%M}",
                row.actor or self.tr("System"), record, _words(row.action),
                row.description or "", row.changes_text]

    # --- export -----------------------------------------------------------------------------
    def _ask_export_file(self, suggested: str) -> str | None:
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export the activity log"), suggested, self.tr("CSV files (*.csv)"))
        return path or None

    def export_csv(self) -> None:
        """Ask for a file and write every row of the current filter to it."""
        if self._export is not None and not self._export.done:
            return
        membership = self._workspace.identity.membership(self._organization_id)
        slug = membership.slug if membership else "organization"
        path = self.choose_export_file(f"activity-{slug}-{dt.date.today().isoformat()}.csv")
        if not path:
            return
        if not Path(path).suffix:
            path += ".csv"
        ws, org, flt = self._workspace, self._organization_id, self.current_filter()

        def body(state: TaskState) -> int:
            return activity.export_csv(ws, org, flt, path,
                                       progress=lambda share: state.progress(share),
                                       cancelled=lambda: state.cancelled)

        def done(written: int) -> None:
            self._export_ended()
            self.banner.show_message(self.tr("{count} rows were exported to {path}.").format(
                count=written, path=path), kind="ok", timeout_ms=_OK_TIMEOUT_MS)
            self.sig_export_finished.emit(written)

        def failed(error: BaseException) -> None:
            self._export_ended()
            self._show_error(error)
            self.sig_export_finished.emit(error)

        def cancelled() -> None:
            self._export_ended()
            self.banner.show_message(self.tr("The export was cancelled; no file was written."),
                                     kind="info", timeout_ms=_OK_TIMEOUT_MS)
            self.sig_export_finished.emit(None)

        self.export_button.setEnabled(False)
        self.transfer_status.show_transfer(self.tr("Exporting the activity log…"))
        self._export = self._runner.run_long(
            body, on_progress=self.transfer_status.set_fraction, on_done=done,
            on_error=failed, on_cancelled=cancelled)

    def cancel_export(self) -> None:
        if self._export is not None:
            self._export.cancel()

    def _export_ended(self) -> None:
        self.transfer_status.show_transfer(None)
        self.export_button.setEnabled(True)

    def _show_error(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error), kind="error")
