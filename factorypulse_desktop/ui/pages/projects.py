"""The Projects page: a list (keyset pages, sorted and filtered in SQL) and a board by stage.

Every read and move runs through the task runner. A drag on the board asks the database to
move the project (`services/workflow.py`); when a move needs a reason — back, or skipping
ahead — the page asks for one first, and when the database refuses it shows the database's
words. Live changes from other people update rows in place.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QDate, QLocale, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.intake import ROUTES
from factorypulse_desktop.services import admin, projects, workflow
from factorypulse_desktop.services.admin import PersonRow
from factorypulse_desktop.services.projects import (
    BoardColumn,
    BulkResult,
    Page,
    ProjectFilter,
    Sort,
)
from factorypulse_desktop.services.workflow import Stage, StageConflictError
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.dialogs.reason_dialog import ReasonDialog
from factorypulse_desktop.ui.dialogs.workflow_dialog import WorkflowDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.projects_model import PRIORITY_LABELS, ProjectsTableModel
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.board import BoardView

# (reason, comment) typed by the person, or None when they cancelled.
ReasonAsker = Callable[[str, str, str], "tuple[str, str | None] | None"]
STATUS_CHOICES = (("Active", ("active",)), ("On hold", ("on_hold",)),
                  ("Completed", ("completed",)), ("Cancelled", ("cancelled",)), ("All", ()))
# The database's hint when a bypass role may skip the undone steps with a reason.
_MAY_SKIP_HINT = "give a reason to skip them"


class ProjectsPage(QWidget):
    sig_open_project = Signal(object)
    """A project was opened (double-click, Enter): its id."""
    sig_new_project = Signal()
    """The person asked for the intake form."""
    sig_loaded = Signal()
    """A list or board answer was shown (tests wait for it)."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter | None = None, parent: QWidget | None = None, *,
                 settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self._settings = settings or QSettings()
        self._people: list[PersonRow] = []
        self.confirm: Callable[[str, str], bool] = self._confirm_box
        self._runner = runner
        self._workspace = workspace
        self._organization_id = organization_id
        self._formatter = formatter or Formatter()
        self._stages: list[Stage] = []
        self._sort = Sort()
        self._generation = 0  # answers for an older filter or organization are dropped
        self.ask_reason: ReasonAsker = self._ask_reason_dialog
        self._build()
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self.reload)
        self._board_timer = QTimer(self, singleShot=True, interval=300)
        self._board_timer.timeout.connect(self._load_board)
        self._update_role_controls()
        self._fill_saved_filters()
        self.reload_stages()
        self._load_people()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        colors = theme.current()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 12)
        outer.setSpacing(10)
        top = QHBoxLayout()
        heading = QLabel(self.tr("Projects"))
        heading.setObjectName("pageTitle")
        top.addWidget(heading)
        top.addSpacing(12)
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        top.addWidget(self.count_label)
        top.addStretch(1)
        self.list_button = QPushButton(icons.icon("list", colors.muted), self.tr("List"))
        self.board_button = QPushButton(icons.icon("board", colors.muted), self.tr("Board"))
        self._views = QButtonGroup(self)
        for index, button in enumerate((self.list_button, self.board_button)):
            button.setCheckable(True)
            self._views.addButton(button, index)
            top.addWidget(button)
        self.list_button.setChecked(True)
        self._views.idClicked.connect(self.show_view)
        top.addSpacing(12)
        self.workflow_button = QPushButton(self.tr("Workflow…"))
        self.workflow_button.setToolTip(self.tr("Stages and steps of this organization"))
        self.workflow_button.clicked.connect(self.open_workflow_settings)
        top.addWidget(self.workflow_button)
        self.new_button = QPushButton(self.tr("New project…"))
        self.new_button.setDefault(True)
        self.new_button.setObjectName("primary")
        self.new_button.clicked.connect(self.sig_new_project)
        top.addWidget(self.new_button)
        outer.addLayout(top)

        filters = QHBoxLayout()
        filters.setSpacing(8)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Filter by number, title or customer"))
        self.search.setClearButtonEnabled(True)
        self.search.setMaxLength(200)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        filters.addWidget(self.search, 2)
        self.stage_filter = QComboBox()
        self.stage_filter.addItem(self.tr("All stages"), None)
        filters.addWidget(self.stage_filter, 1)
        self.priority_filter = QComboBox()
        self.priority_filter.addItem(self.tr("Any priority"), None)
        for key, label in PRIORITY_LABELS.items():
            self.priority_filter.addItem(self.tr(label), key)
        filters.addWidget(self.priority_filter)
        self.status_filter = QComboBox()
        for label, statuses in STATUS_CHOICES:
            self.status_filter.addItem(self.tr(label), statuses)
        filters.addWidget(self.status_filter)
        outer.addLayout(filters)

        more = QHBoxLayout()
        more.setSpacing(8)
        self.assignee_filter = QComboBox()
        self.assignee_filter.setMinimumWidth(170)
        self.assignee_filter.addItem(self.tr("Anyone"), None)
        self.assignee_filter.addItem(self.tr("Me"), self._workspace.identity.person_id)
        more.addWidget(self.assignee_filter)
        self.intake_filter = QComboBox()
        self.intake_filter.addItem(self.tr("Any intake"), None)
        for kind, route in ROUTES.items():
            self.intake_filter.addItem(self.tr(route.label), kind.value)
        more.addWidget(self.intake_filter)
        self.due_filter_on = QCheckBox(self.tr("Due before"))
        self.due_filter = QDateEdit(QDate.currentDate().addDays(14))
        self.due_filter.setCalendarPopup(True)
        self.due_filter.setDisplayFormat(
            self._formatter.locale.dateFormat(QLocale.FormatType.ShortFormat))
        self.due_filter.setEnabled(False)
        self.due_filter_on.toggled.connect(self.due_filter.setEnabled)
        more.addWidget(self.due_filter_on)
        more.addWidget(self.due_filter)
        more.addStretch(1)
        for combo in (self.stage_filter, self.priority_filter, self.status_filter,
                      self.assignee_filter, self.intake_filter):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.due_filter_on.toggled.connect(lambda _on: self.reload())
        self.due_filter.dateChanged.connect(
            lambda _d: self.reload() if self.due_filter_on.isChecked() else None)
        filters = more
        self.saved_filters = QComboBox()
        self.saved_filters.setMinimumWidth(150)
        self.saved_filters.setToolTip(self.tr("Filters saved on this computer"))
        self.saved_filters.activated.connect(self._apply_saved_filter)
        filters.addWidget(self.saved_filters)
        self.save_filter_button = QPushButton(self.tr("Save filter…"))
        self.save_filter_button.clicked.connect(self._save_filter_asked)
        filters.addWidget(self.save_filter_button)
        outer.addLayout(filters)

        self.bulk_bar = QWidget()
        bulk = QHBoxLayout(self.bulk_bar)
        bulk.setContentsMargins(0, 0, 0, 0)
        self.selection_label = QLabel()
        bulk.addWidget(self.selection_label)
        self.assign_button = QPushButton(self.tr("Assign to…"))
        self.assign_menu = QMenu(self.assign_button)
        self.assign_button.setMenu(self.assign_menu)
        bulk.addWidget(self.assign_button)
        self.archive_button = QPushButton(self.tr("Archive"))
        self.archive_button.clicked.connect(self._archive_asked)
        bulk.addWidget(self.archive_button)
        bulk.addStretch(1)
        self.bulk_bar.hide()
        outer.addWidget(self.bulk_bar)

        self.banner = Banner()
        outer.addWidget(self.banner)
        self.stack = QStackedWidget()
        self.model = ProjectsTableModel(self._formatter, self)
        self.model.sig_page_wanted.connect(self._load_more)
        self.model.sig_sort_wanted.connect(self._sort_by)
        self.table = QTableView()
        self.table.setModel(self.model)
        # No column sorted at first (the list starts with the latest changed): set before
        # enabling, which sorts by the indicator at once.
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        # Title and customer share what the fixed-width columns leave.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 100), (3, 145), (4, 75), (5, 85), (6, 100), (7, 125),
                              (8, 70)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(
            lambda *_args: self._update_bulk_bar())
        self.table.doubleClicked.connect(self._table_opened)
        self.table.activated.connect(self._table_opened)
        self.stack.addWidget(self.table)
        self.board = BoardView(self._formatter)
        self.board.sig_move_requested.connect(self.move_project)
        self.board.sig_open_project.connect(self.sig_open_project)
        self.stack.addWidget(self.board)
        outer.addWidget(self.stack, 1)

    # --- public API -----------------------------------------------------------------------
    @property
    def organization_id(self) -> uuid.UUID:
        return self._organization_id

    def set_organization(self, organization_id: uuid.UUID,
                         formatter: Formatter | None = None) -> None:
        if formatter is not None:
            self._formatter = formatter
            self.model.formatter = formatter
            self.board.set_formatter(formatter)
        if organization_id != self._organization_id:
            self._organization_id = organization_id
            self._update_role_controls()
            self._fill_saved_filters()
            self._load_people()
            self.reload_stages()

    def current_filter(self) -> ProjectFilter:
        stage = self.stage_filter.currentData()
        priority = self.priority_filter.currentData()
        statuses = self.status_filter.currentData()
        assignee = self.assignee_filter.currentData()
        intake = self.intake_filter.currentData()
        return ProjectFilter(
            text=self.search.text(),
            stage_ids=(stage,) if isinstance(stage, uuid.UUID) else (),
            priorities=(priority,) if isinstance(priority, str) else (),
            statuses=tuple(statuses) if statuses is not None else ("active",),
            assignee_id=assignee if isinstance(assignee, uuid.UUID) else None,
            intake_types=(intake,) if isinstance(intake, str) else (),
            due_before=_py_date(self.due_filter.date()) if self.due_filter_on.isChecked()
            else None)

    def open_workflow_settings(self) -> QDialog:
        """Stages and steps (admin and management; the database refuses anyone else)."""
        dialog = WorkflowDialog(self._runner, self._workspace, self._organization_id, self)
        dialog.sig_saved.connect(self.reload_stages)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _update_role_controls(self) -> None:
        membership = self._workspace.identity.membership(self._organization_id)
        role = membership.role if membership is not None else None
        self.workflow_button.setVisible(role in (Role.ADMIN, Role.MANAGEMENT))
        self.new_button.setVisible(role in (Role.ADMIN, Role.MANAGEMENT, Role.SALES,
                                            Role.PROCUREMENT))

    def show_view(self, index: int) -> None:
        """0: the list, 1: the board."""
        self.stack.setCurrentIndex(index)
        (self.board_button if index == 1 else self.list_button).setChecked(True)
        self._update_bulk_bar()
        self.reload()

    def board_shown(self) -> bool:
        return self.stack.currentWidget() is self.board

    def reload_stages(self) -> None:
        ws, org = self._workspace, self._organization_id
        self._runner.run(lambda: workflow.load_workflow(ws, org),
                         on_done=self._stages_loaded, on_error=self._show_error,
                         key=f"projects-stages-{id(self)}")

    def reload(self) -> None:
        self._generation += 1
        if self.board_shown():
            self._load_board()
            return
        ws, org, flt, sort = (self._workspace, self._organization_id, self.current_filter(),
                              self._sort)
        generation = self._generation
        self._runner.run(lambda: projects.list_projects(ws, org, flt, sort),
                         on_done=lambda page: self._first_page(generation, page),
                         on_error=self._show_error, key=f"projects-list-{id(self)}")

    def on_projects_changed(self, ids: list[uuid.UUID]) -> None:
        """ChangeBus "projects": re-read those rows (list) or the board, in place."""
        if self.board_shown():
            self._board_timer.start()
            return
        shown = [i for i in ids if self.model.row_of(i) >= 0]
        if not shown:
            return
        ws = self._workspace
        self._runner.run(lambda: projects.get_projects(ws, shown),
                         on_done=lambda rows: self.model.update_rows(rows, shown),
                         on_error=self._show_error)

    # --- moves ----------------------------------------------------------------------------
    def move_project(self, project_id: uuid.UUID, from_stage: uuid.UUID,
                     to_stage: uuid.UUID, reason: str | None = None,
                     comment: str | None = None) -> None:
        """Ask the database to move the project (a board drop does this)."""
        orders = {s.id: s for s in self._stages}
        source, target = orders.get(from_stage), orders.get(to_stage)
        if source is None or target is None:
            return
        if reason is None:
            next_stage = next((s for s in self._stages if s.order > source.order), None)
            if target.order < source.order:
                asked = self.ask_reason(
                    self.tr("Move back"),
                    self.tr("Moving the project back from “{a}” to “{b}” needs a reason.")
                    .format(a=source.name, b=target.name), self.tr("Move back"))
                if asked is None:
                    return
                reason, comment = asked
            elif next_stage is None or target.id != next_stage.id:
                asked = self.ask_reason(
                    self.tr("Skip stages"),
                    self.tr("Skipping from “{a}” ahead to “{b}” needs a reason; sales, "
                            "management and administrators may do it.")
                    .format(a=source.name, b=target.name), self.tr("Skip ahead"))
                if asked is None:
                    return
                reason, comment = asked
        ws = self._workspace
        self._runner.run(
            lambda: workflow.move_project(ws, project_id, from_stage, to_stage, reason=reason,
                                          comment=comment),
            on_done=lambda _kind: self._moved(),
            on_error=lambda error: self._move_failed(error, project_id, from_stage, to_stage,
                                                     reason))

    def _moved(self) -> None:
        self.banner.hide()
        self.reload()

    def _move_failed(self, error: BaseException, project_id: uuid.UUID, from_stage: uuid.UUID,
                     to_stage: uuid.UUID, reason: str | None) -> None:
        if isinstance(error, StageConflictError):
            self.banner.show_message(str(error) + " " + self.tr("The view was refreshed."),
                                     kind="warning")
            self.reload()
            return
        message = str(error)
        if isinstance(error, UserFacingError) and reason is None and _MAY_SKIP_HINT in message:
            asked = self.ask_reason(self.tr("Skip unfinished steps"), message,
                                    self.tr("Skip and move"))
            if asked is not None:
                self.move_project(project_id, from_stage, to_stage, *asked)
            return
        self.banner.show_message(message, kind="error")

    def _ask_reason_dialog(self, title: str, explanation: str,
                           ok_text: str) -> tuple[str, str | None] | None:
        dialog = ReasonDialog(title, explanation, ok_text=ok_text, parent=self)
        if dialog.exec() != ReasonDialog.DialogCode.Accepted:
            return None
        return dialog.reason_text(), dialog.comment_text()

    # --- bulk actions -------------------------------------------------------------------------
    def selected_ids(self) -> list[uuid.UUID]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [r.id for r in (self.model.project(i) for i in rows) if r is not None]

    def _update_bulk_bar(self) -> None:
        count = len(self.selected_ids())
        self.bulk_bar.setVisible(count > 0 and not self.board_shown())
        self.selection_label.setText(self.tr("{n} selected").format(n=count))

    def _load_people(self) -> None:
        ws, org = self._workspace, self._organization_id
        self._runner.run(lambda: admin.list_people(ws, org), on_done=self._people_loaded,
                         on_error=lambda _e: None, key=f"projects-people-{id(self)}")

    def _people_loaded(self, people: Sequence[PersonRow]) -> None:
        self._people = [p for p in people if p.is_active
                        and p.role not in (Role.CUSTOMER, Role.SUPPLIER)]
        chosen = self.assignee_filter.currentData()
        self.assignee_filter.blockSignals(True)
        while self.assignee_filter.count() > 2:  # keep "Anyone" and "Me"
            self.assignee_filter.removeItem(2)
        me = self._workspace.identity.person_id
        for person in self._people:
            if person.person_id != me:
                self.assignee_filter.addItem(person.display_name, person.person_id)
        self.assignee_filter.setCurrentIndex(_index_of(self.assignee_filter, chosen))
        self.assignee_filter.blockSignals(False)
        self.assign_menu.clear()
        nobody = self.assign_menu.addAction(self.tr("Nobody"))
        nobody.triggered.connect(lambda: self.assign_selected(None))
        self.assign_menu.addSeparator()
        for person in self._people:
            action = self.assign_menu.addAction(person.display_name)
            action.triggered.connect(
                lambda _checked=False, pid=person.person_id: self.assign_selected(pid))

    def assign_selected(self, person_id: uuid.UUID | None) -> None:
        ids, ws = self.selected_ids(), self._workspace
        if ids:
            self._runner.run(lambda: projects.bulk_assign(ws, ids, person_id),
                             on_done=self._bulk_done, on_error=self._show_error)

    def _archive_asked(self) -> None:
        ids, ws = self.selected_ids(), self._workspace
        if ids and self.confirm(self.tr("Archive projects"),
                                self.tr("Archive {n} projects? They leave the lists and the "
                                        "board; they can be restored from the project page.")
                                .format(n=len(ids))):
            self._runner.run(lambda: projects.bulk_archive(ws, ids), on_done=self._bulk_done,
                             on_error=self._show_error)

    def _bulk_done(self, result: BulkResult) -> None:
        text = self.tr("{n} projects changed.").format(n=len(result.changed))
        if result.skipped:
            text += " " + self.tr("{n} were left as they were: your role may not change them "
                                  "in their current stage, or nothing was to change.").format(
                n=len(result.skipped))
        self.banner.show_message(text, kind="warning" if result.skipped else "ok",
                                 timeout_ms=0 if result.skipped else 5000)
        self.reload()

    def _confirm_box(self, title: str, question: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, title, question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        return box.exec() == QMessageBox.StandardButton.Yes

    # --- saved filters ------------------------------------------------------------------------
    def _filters_key(self) -> str:
        return f"projects/saved_filters/{self._organization_id}"

    def saved_filter_names(self) -> list[str]:
        return list(self._stored_filters())

    def _stored_filters(self) -> dict[str, dict[str, Any]]:
        raw = self._settings.value(self._filters_key(), "{}")
        try:
            stored = json.loads(raw if isinstance(raw, str) else "{}")
        except ValueError:
            return {}
        return stored if isinstance(stored, dict) else {}

    def save_filter(self, name: str) -> None:
        name = " ".join(name.split())[:60]
        if not name:
            return
        stored = self._stored_filters()
        stage = self.stage_filter.currentData()
        stored[name] = {"text": self.search.text(),
                        "stage": str(stage) if isinstance(stage, uuid.UUID) else None,
                        "priority": self.priority_filter.currentData(),
                        "status": self.status_filter.currentIndex(),
                        "assignee": str(self.assignee_filter.currentData() or ""),
                        "intake": self.intake_filter.currentData(),
                        "due_days": (QDate.currentDate().daysTo(self.due_filter.date())
                                     if self.due_filter_on.isChecked() else None)}
        self._settings.setValue(self._filters_key(), json.dumps(stored))
        self._fill_saved_filters(select=name)

    def apply_filter(self, name: str) -> None:
        saved = self._stored_filters().get(name)
        if saved is None:
            return
        widgets = (self.search, self.stage_filter, self.priority_filter, self.status_filter,
                   self.assignee_filter, self.intake_filter, self.due_filter_on, self.due_filter)
        for widget in widgets:
            widget.blockSignals(True)
        self.search.setText(str(saved.get("text") or ""))
        stage = saved.get("stage")
        self.stage_filter.setCurrentIndex(_index_of(self.stage_filter,
                                                    uuid.UUID(stage) if stage else None))
        self.priority_filter.setCurrentIndex(
            max(self.priority_filter.findData(saved.get("priority")), 0))
        status = saved.get("status")
        self.status_filter.setCurrentIndex(status if isinstance(status, int) else 0)
        assignee = saved.get("assignee")
        self.assignee_filter.setCurrentIndex(_index_of(
            self.assignee_filter, uuid.UUID(assignee) if assignee else None))
        self.intake_filter.setCurrentIndex(max(self.intake_filter.findData(saved.get("intake")),
                                               0))
        due_days = saved.get("due_days")  # relative: "due within two weeks" stays that
        self.due_filter_on.setChecked(isinstance(due_days, int))
        self.due_filter.setEnabled(isinstance(due_days, int))
        if isinstance(due_days, int):
            self.due_filter.setDate(QDate.currentDate().addDays(due_days))
        for widget in widgets:
            widget.blockSignals(False)
        self.reload()

    def delete_filter(self, name: str) -> None:
        stored = self._stored_filters()
        if stored.pop(name, None) is not None:
            self._settings.setValue(self._filters_key(), json.dumps(stored))
        self._fill_saved_filters()

    def _fill_saved_filters(self, select: str | None = None) -> None:
        self.saved_filters.blockSignals(True)
        self.saved_filters.clear()
        self.saved_filters.addItem(self.tr("Saved filters"), None)
        for name in sorted(self._stored_filters(), key=str.casefold):
            self.saved_filters.addItem(name, name)
        if self.saved_filters.count() > 1:
            self.saved_filters.addItem(self.tr("Remove a saved filter…"), "__remove__")
        if select is not None:
            self.saved_filters.setCurrentIndex(max(self.saved_filters.findData(select), 0))
        self.saved_filters.blockSignals(False)

    def _apply_saved_filter(self, index: int) -> None:
        name = self.saved_filters.itemData(index)
        if name == "__remove__":
            names = self.saved_filter_names()
            chosen, ok = QInputDialog.getItem(self, self.tr("Remove a saved filter"),
                                              self.tr("Filter:"), names, 0, False)
            if ok and chosen:
                self.delete_filter(chosen)
            else:
                self.saved_filters.setCurrentIndex(0)
        elif isinstance(name, str):
            self.apply_filter(name)

    def _save_filter_asked(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("Save filter"),
                                        self.tr("Name for the current filter:"))
        if ok:
            self.save_filter(name)

    # --- answers --------------------------------------------------------------------------
    def _stages_loaded(self, stages: Sequence[Stage]) -> None:
        self._stages = list(stages)
        chosen = self.stage_filter.currentData()
        self.stage_filter.blockSignals(True)
        self.stage_filter.clear()
        self.stage_filter.addItem(self.tr("All stages"), None)
        for stage in self._stages:
            self.stage_filter.addItem(stage.name, stage.id)
        self.stage_filter.setCurrentIndex(_index_of(self.stage_filter, chosen))
        self.stage_filter.blockSignals(False)
        self.reload()

    def _first_page(self, generation: int, page: Page) -> None:
        if generation != self._generation:
            return
        self.model.reset_rows(page.rows, page.next_after)
        self._update_count()
        self.sig_loaded.emit()

    def _load_more(self, after: Any) -> None:
        ws, org, flt, sort = (self._workspace, self._organization_id, self.current_filter(),
                              self._sort)
        generation = self._generation

        def done(page: Page) -> None:
            if generation == self._generation:
                self.model.add_page(page.rows, page.next_after)
                self._update_count()
            self.sig_loaded.emit()

        def failed(error: BaseException) -> None:
            self.model.page_failed()
            self._show_error(error)

        self._runner.run(lambda: projects.list_projects(ws, org, flt, sort, after=after),
                         on_done=done, on_error=failed)

    def _sort_by(self, key: str, descending: bool) -> None:
        self._sort = Sort(key, descending)
        self.reload()

    def _load_board(self) -> None:
        ws, org, flt = self._workspace, self._organization_id, self.current_filter()
        generation = self._generation
        self._runner.run(lambda: projects.load_board(ws, org, flt),
                         on_done=lambda columns: self._board_loaded(generation, columns),
                         on_error=self._show_error, key=f"projects-board-{id(self)}")

    def _board_loaded(self, generation: int, columns: Sequence[BoardColumn]) -> None:
        if generation != self._generation:
            return
        self.board.set_columns(columns)
        total = sum(c.total for c in columns)
        self.count_label.setText(self.tr("{n} projects").format(n=total))
        self.sig_loaded.emit()

    def _update_count(self) -> None:
        shown = self.model.rowCount()
        more = "+" if self.model.canFetchMore() else ""
        self.count_label.setText(self.tr("{n}{more} projects").format(n=shown, more=more))

    def _table_opened(self, index: Any) -> None:
        row = self.model.project(index.row())
        if row is not None:
            self.sig_open_project.emit(row.id)

    def _show_error(self, error: BaseException) -> None:
        self.banner.show_message(str(error), kind="error")


def _py_date(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


def _index_of(combo: QComboBox, value: object) -> int:
    """The item holding `value` (compared in Python: findData cannot compare uuids), else 0."""
    return next((i for i in range(combo.count()) if combo.itemData(i) == value), 0)
