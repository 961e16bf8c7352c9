"""One project's page: header, stage stepper, steps checklist, attributes, people, history.

Every read and write goes through the task runner (the GUI thread never touches the
database). The database decides every rule — who may change the project, which moves and
step changes are allowed — and its refusals are shown in the page's banner (or in the move
dialog) in its own words. Saving uses the project's lock version: when someone saved first,
a dialog shows both sides and the typed values stay in the form whatever is chosen
(T-CONC-01). A live change (optional `ChangeBus`) reloads the page but never the form the
person is editing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, cast

import shiboken6
from PySide6.QtCore import QDate, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import Priority, ProjectStatus
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import admin, project_detail, workflow
from factorypulse_desktop.services.admin import PersonRow
from factorypulse_desktop.services.project_detail import (
    ASSIGNMENT_ROLES,
    EDIT_FIELDS,
    CustomerChoice,
    ProjectConflictError,
    ProjectDetail,
    ProjectEdit,
    ProjectInvalid,
    ProjectNotFoundError,
)
from factorypulse_desktop.services.workflow import (
    Stage,
    StageConflictError,
    Step,
    StepConflictError,
)
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.dialogs.conflict_dialog import ConflictDialog, ConflictRow
from factorypulse_desktop.ui.dialogs.move_dialog import MoveDialog
from factorypulse_desktop.ui.events import ChangeBus
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.documents_panel import DocumentsPanel
from factorypulse_desktop.ui.widgets.forms import add_form_row, muted_label
from factorypulse_desktop.ui.widgets.messages_panel import MessagesPanel
from factorypulse_desktop.ui.widgets.production_panel import ProductionPanel
from factorypulse_desktop.ui.widgets.purchase_orders_panel import PurchaseOrdersPanel
from factorypulse_desktop.ui.widgets.reviews_panel import ReviewsPanel
from factorypulse_desktop.ui.widgets.supplier_rfqs_panel import SupplierRfqsPanel
from factorypulse_desktop.ui.widgets.timeline_panel import LIVE_TABLES as TIMELINE_TABLES
from factorypulse_desktop.ui.widgets.timeline_panel import TimelinePanel

__all__ = ["ProjectPage", "StageStepper", "StepRow"]

PAGE_MARGIN = 24
SPACING = 12
_OK_TIMEOUT_MS = 8000
_NO_DATE = QDate(1999, 12, 31)  # the date edits' "no date" (dates start in 2000)


def _status_labels() -> dict[str, str]:
    tr = _tr
    return {"active": tr("Active"), "on_hold": tr("On hold"), "completed": tr("Completed"),
            "cancelled": tr("Cancelled")}


def _priority_labels() -> dict[str, str]:
    tr = _tr
    return {"low": tr("Low"), "medium": tr("Medium"), "high": tr("High"),
            "critical": tr("Critical")}


def _type_labels() -> dict[str, str]:
    tr = _tr
    return {"fabrication": tr("Fabrication"), "manufacturing": tr("Manufacturing"),
            "system_build": tr("System build")}


def _step_labels() -> dict[str, str]:
    tr = _tr
    return {"pending": tr("Not started"), "in_progress": tr("In progress"),
            "completed": tr("Done"), "skipped": tr("Skipped"), "blocked": tr("Blocked")}


def _field_labels() -> dict[str, str]:
    tr = _tr
    return {"title": tr("Title"), "description": tr("Description"), "customer_id": tr("Customer"),
            "priority": tr("Priority"), "estimated_value": tr("Estimated value"),
            "estimated_delivery_date": tr("Due date"),
            "actual_delivery_date": tr("Delivered on"), "project_type": tr("Project type"),
            "tags": tr("Tags"), "notes": tr("Notes"), "assigned_to": tr("Assigned to"),
            "status": tr("Status")}


def _tr(text: str) -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("ProjectPage", text)


def _stylesheet(c: theme.Colors) -> str:
    return f"""
    QFrame#stepRow {{ border: none; border-bottom: 1px solid {c.border}; }}
    QPushButton#back {{ border: none; background: transparent; color: {c.accent};
        padding: 2px 0; text-align: left; }}
    QPushButton#back:hover {{ text-decoration: underline; }}
    QToolButton#stepMore {{ border: 1px solid {c.border}; border-radius: 6px;
        padding: 4px 6px; background: {c.base}; }}
    QToolButton#stepMore::menu-indicator {{ image: none; width: 0; }}
    QToolButton#stageToggle {{ border: none; background: transparent; color: {c.muted};
        font-weight: 600; padding: 4px 0; }}
    QDateEdit {{ padding: 3px 6px; }}
    """


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # may hold a stage's name
    label.setStyleSheet("font-weight: 600; font-size: 11pt;")
    return label


def _plain(text: str = "", *, wrap: bool = False) -> QLabel:
    """A label for text people typed: never interpreted as rich text."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    return label


def _chip(text: str, color: str) -> QLabel:
    label = _plain(text)
    label.setStyleSheet(
        f"color: {color}; border: 1px solid {color}; border-radius: 9px; padding: 1px 8px; "
        "font-weight: 600;")
    return label


def _card() -> tuple[QFrame, QVBoxLayout]:
    card = QFrame()
    card.setObjectName("card")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(20, 16, 20, 16)
    layout.setSpacing(10)
    return card, layout


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone() if moment.tzinfo is not None else moment


# --------------------------------------------------------------------------------------------
# The stage stepper
# --------------------------------------------------------------------------------------------


class StageStepper(QWidget):
    """The stages as a horizontal row of steps: done, current (in its colour), later."""

    DONE = "done"
    CURRENT = "current"
    LATER = "later"
    HEIGHT = 66  # circles and two lines of names

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stages: list[Stage] = []
        self._current: uuid.UUID | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.HEIGHT)

    def set_stages(self, stages: Sequence[Stage], current_id: uuid.UUID) -> None:
        self._stages = list(stages)
        self._current = current_id
        current = next((s for s in self._stages if s.id == current_id), None)
        self.setToolTip(self.tr("Now in “{stage}”").format(stage=current.name) if current
                        else "")
        self.update()

    def states(self) -> list[tuple[str, str]]:
        """(stage name, "done" | "current" | "later") in order."""
        current = next((s for s in self._stages if s.id == self._current), None)
        out = []
        for stage in self._stages:
            if current is None or stage.order > current.order:
                state = self.LATER
            elif stage.id == current.id:
                state = self.CURRENT
            else:
                state = self.DONE
            out.append((stage.name, state))
        return out

    def sizeHint(self) -> QSize:
        return QSize(720, self.HEIGHT)

    def minimumSizeHint(self) -> QSize:
        return QSize(40 * max(1, len(self._stages)), self.HEIGHT)

    def paintEvent(self, _event: QPaintEvent) -> None:
        states = self.states()
        if not states:
            return
        colors = theme.current()
        current = next((s for s in self._stages if s.id == self._current), None)
        stage_color = QColor(current.color if current else colors.accent)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        slot = self.width() / len(states)
        cy = 16.0
        centres = [slot * (i + 0.5) for i in range(len(states))]
        for i in range(len(states) - 1):  # the connecting line, coloured up to the current
            done = states[i + 1][1] != self.LATER
            pen = QPen(QColor(colors.ok if done else colors.border), 2.5)
            painter.setPen(pen)
            painter.drawLine(QPointF(centres[i] + 11, cy), QPointF(centres[i + 1] - 11, cy))
        small = QFont(self.font())
        small.setPointSizeF(max(7.5, small.pointSizeF() * 0.9))
        bold = QFont(small)
        bold.setBold(True)
        for i, (name, state) in enumerate(states):
            x = centres[i]
            if state == self.CURRENT:
                halo = QColor(stage_color)
                halo.setAlpha(60)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(halo)
                painter.drawEllipse(QPointF(x, cy), 14, 14)
                painter.setBrush(stage_color)
                painter.drawEllipse(QPointF(x, cy), 9, 9)
                painter.setBrush(QColor("#ffffff"))
                painter.drawEllipse(QPointF(x, cy), 3.5, 3.5)
            elif state == self.DONE:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(colors.ok))
                painter.drawEllipse(QPointF(x, cy), 9, 9)
                tick = QPen(QColor("#ffffff"), 2.0)
                tick.setCapStyle(Qt.PenCapStyle.RoundCap)
                painter.setPen(tick)
                painter.drawPolyline([QPointF(x - 4, cy), QPointF(x - 1, cy + 3),
                                      QPointF(x + 4.5, cy - 3.5)])
            else:
                painter.setPen(QPen(QColor(colors.border), 2))
                painter.setBrush(QColor(colors.base))
                painter.drawEllipse(QPointF(x, cy), 8, 8)
                painter.setPen(QColor(colors.muted))
                painter.setFont(small)
                painter.drawText(QRectF(x - 8, cy - 8, 16, 16), Qt.AlignmentFlag.AlignCenter,
                                 str(i + 1))
            painter.setFont(bold if state == self.CURRENT else small)
            painter.setPen(stage_color if state == self.CURRENT
                           else QColor(colors.text if state == self.DONE else colors.muted))
            rect = QRectF(x - slot / 2 + 3, cy + 17, slot - 6, self.height() - cy - 17)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                                       | Qt.TextFlag.TextWordWrap), name)
        painter.end()


# --------------------------------------------------------------------------------------------
# A step of the checklist
# --------------------------------------------------------------------------------------------


class StepRow(QFrame):
    """One step: status, name, required or optional, assignee, who did it; its actions."""

    ACTIONS = ("start", "complete", "ask_approval", "skip", "block", "reopen", "assign")

    def __init__(self, step: Step, *, actionable: bool,
                 on_action: Callable[[Step, str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepRow")
        self.step = step
        colors = theme.current()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 8, 2, 8)
        layout.setSpacing(10)
        symbol, color = {
            "completed": ("✓", colors.ok), "skipped": ("↷", colors.muted),
            "in_progress": ("●", colors.accent), "blocked": ("!", colors.error),
        }.get(step.status, ("○", colors.muted))
        mark = QLabel(symbol)
        mark.setFixedWidth(18)
        mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        mark.setStyleSheet(f"color: {color}; font-weight: 700; font-size: 12pt;")
        layout.addWidget(mark, 0, Qt.AlignmentFlag.AlignTop)

        text = QVBoxLayout()
        text.setSpacing(2)
        top = QHBoxLayout()
        top.setSpacing(8)
        self.name_label = _plain(step.name)
        if step.status in ("completed", "skipped"):
            self.name_label.setStyleSheet(f"color: {colors.muted};")
        else:
            self.name_label.setStyleSheet("font-weight: 600;")
        top.addWidget(self.name_label)
        if not step.is_required:
            top.addWidget(_chip(self.tr("Optional"), colors.muted))
        if step.requires_approval and step.status not in ("completed", "skipped"):
            waiting = step.awaiting_approval
            top.addWidget(_chip(self.tr("Waiting for approval") if waiting
                                else self.tr("Needs approval"),
                                colors.warn if waiting else colors.muted))
        top.addStretch(1)
        text.addLayout(top)
        details = [_step_labels().get(step.status, step.status)]
        details.append(self.tr("Assigned to {name}").format(name=step.assignee_name)
                       if step.assignee_name else self.tr("Unassigned"))
        if step.completed_by_name and step.status in ("completed", "skipped"):
            details.append(self.tr("by {name}").format(name=step.completed_by_name))
        # Wraps: the details card keeps its room.
        self.detail_label = muted_label(" · ".join(details))
        text.addWidget(self.detail_label)
        layout.addLayout(text, 1)

        self.step_actions: dict[str, QAction] = {}
        self.primary_button: QPushButton | None = None
        self.more_button: QToolButton | None = None
        if not actionable:
            return
        labels = {"start": self.tr("Start"), "complete": self.tr("Complete"),
                  "skip": self.tr("Skip"), "block": self.tr("Block"),
                  "reopen": self.tr("Reopen"), "assign": self.tr("Assign to…"),
                  "ask_approval": self.tr("Ask for approval…")}
        offered: tuple[str, ...] = {
            "pending": ("start", "complete", "skip", "block"),
            "in_progress": ("complete", "skip", "block"),
            "blocked": ("start", "complete", "skip"),
            "completed": ("reopen",),
            "skipped": ("reopen",),
        }.get(step.status, ())
        if step.requires_approval and "complete" in offered:
            # It completes when approved (revision 0009); approved already: complete by hand.
            if step.approval_status == "approved":
                pass
            elif step.awaiting_approval:
                offered = tuple(k for k in offered if k != "complete")
            else:
                offered = tuple("ask_approval" if k == "complete" else k for k in offered)
        menu = QMenu(self)
        for key in (*offered, "assign"):
            action = QAction(labels[key], self)
            if key == "skip" and step.is_required and not step.can_skip:
                action.setToolTip(self.tr("A required step: the database decides whether it "
                                          "may be skipped."))
            action.triggered.connect(lambda _checked=False, k=key: on_action(self.step, k))
            menu.addAction(action)
            self.step_actions[key] = action
        primary = next((k for k in ("complete", "ask_approval", "reopen", "start")
                        if k in offered), None)
        if step.status == "blocked":
            primary = "start"
        if primary is not None:
            self.primary_button = QPushButton(labels[primary] if primary != "start"
                                              or step.status != "blocked"
                                              else self.tr("Unblock"))
            self.primary_button.clicked.connect(
                lambda _checked=False, k=primary: on_action(self.step, k))
            layout.addWidget(self.primary_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.more_button = QToolButton()
        self.more_button.setObjectName("stepMore")
        self.more_button.setText("⋯")
        self.more_button.setToolTip(self.tr("More actions"))
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_button.setMenu(menu)
        layout.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignVCenter)

    def set_enabled_actions(self, enabled: bool) -> None:
        for widget in (self.primary_button, self.more_button):
            if widget is not None:
                widget.setEnabled(enabled)
        for action in self.step_actions.values():
            action.setEnabled(enabled)


# --------------------------------------------------------------------------------------------
# Small widgets and dialogs
# --------------------------------------------------------------------------------------------


class _DateField(QWidget):
    """A date or none: a date edit whose lowest value means "no date", and a clear button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.edit = QDateEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.edit.setMinimumDate(_NO_DATE)
        self.edit.setMaximumDate(QDate(2100, 12, 31))
        self.edit.setSpecialValueText(self.tr("No date"))
        self.edit.setMinimumWidth(140)
        self.clear_button = QToolButton()
        self.clear_button.setText("✕")
        self.clear_button.setToolTip(self.tr("No date"))
        self.clear_button.setAutoRaise(True)
        layout.addWidget(self.edit)
        layout.addWidget(self.clear_button)
        layout.addStretch(1)
        self.clear_button.clicked.connect(lambda: self.set_value(None))
        self.edit.dateChanged.connect(self._sync)
        self._sync()

    def value(self) -> dt.date | None:
        qdate = self.edit.date()
        if qdate <= _NO_DATE:
            return None
        return dt.date(qdate.year(), qdate.month(), qdate.day())

    def set_value(self, value: dt.date | None) -> None:
        self.edit.setDate(_NO_DATE if value is None else QDate(value.year, value.month,
                                                               value.day))
        if value is None:
            # The calendar opens on this month rather than on December 1999.
            self.edit.calendarWidget().setCurrentPage(QDate.currentDate().year(),
                                                      QDate.currentDate().month())

    def _sync(self) -> None:
        self.clear_button.setVisible(self.value() is not None)


class _PersonDialog(QDialog):
    """Choose a person (and, for a project assignment, their role on it)."""

    def __init__(self, title: str, people: Sequence[PersonRow], *, with_role: bool,
                 allow_nobody: bool, current: uuid.UUID | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(400)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        form = QFormLayout()
        form.setHorizontalSpacing(SPACING)
        self.person_box = QComboBox()
        if allow_nobody:
            self.person_box.addItem(self.tr("Nobody"), None)
        for person in people:
            self.person_box.addItem(person.display_name, person.person_id)
        if current is not None:
            index = self.person_box.findData(current)
            if index >= 0:
                self.person_box.setCurrentIndex(index)
        add_form_row(form, self.tr("Person"), self.person_box)
        self.role_box: QComboBox | None = None
        if with_role:
            self.role_box = QComboBox()
            self.role_box.setEditable(True)
            self.role_box.addItems(list(ASSIGNMENT_ROLES))
            self.role_box.setCurrentText("member")
            add_form_row(form, self.tr("Role on the project"), self.role_box)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.ok_button = QPushButton(self.tr("Assign"))
        self.ok_button.setObjectName("primary")
        self.ok_button.setDefault(True)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.ok_button)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button.clicked.connect(self.accept)

    def person_id(self) -> uuid.UUID | None:
        data = self.person_box.currentData()
        return data if isinstance(data, uuid.UUID) else None

    def role(self) -> str:
        return self.role_box.currentText().strip() if self.role_box is not None else ""


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


class ProjectPage(QWidget):
    """One project: its stage, steps, attributes, people and history."""

    sig_back = Signal()
    """The person clicked Back (show the projects list again)."""
    sig_closed = Signal()
    """Nothing left to show: the project was deleted (here or elsewhere) or is no longer
    visible. The host goes back to the list."""
    sig_changed = Signal(object)
    """This page changed the project (its uuid): lists showing it may refresh the row."""
    sig_loaded = Signal(object)
    """The page shows a newly read `ProjectDetail`."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, project_id: uuid.UUID,
                 formatter: Formatter | None = None, parent: QWidget | None = None, *,
                 bus: ChangeBus | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page-project")
        self._runner = runner
        self._workspace = workspace
        self._project_id = project_id
        self._formatter = formatter or Formatter()
        self._detail: ProjectDetail | None = None
        self._form_base: ProjectDetail | None = None
        """What the form was filled from: its version is what a save expects."""
        self._clean_form: tuple[Any, ...] | None = None
        self._people: list[PersonRow] = []
        self._customers: list[CustomerChoice] = []
        self._pickers_requested = False
        self._writing = False
        self._saving = False
        self._filling = False
        self.dialog: QDialog | None = None
        """The dialog open on this page (move, conflict, person), for tests."""
        self.conflict_dialog: ConflictDialog | None = None
        self.move_dialog: MoveDialog | None = None
        self.step_rows: list[StepRow] = []
        self._bus = bus
        self._build()
        self.setStyleSheet(_stylesheet(theme.current()))
        if bus is not None:
            bus.subscribe("projects", self.on_projects_changed)
            bus.subscribe("project_sub_stage_progress", self.on_steps_changed)
            bus.subscribe("project_assignments", self.on_assignments_changed)
        self.reload()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(PAGE_MARGIN, 14, PAGE_MARGIN, PAGE_MARGIN)
        outer.setSpacing(SPACING)
        colors = theme.current()

        top = QHBoxLayout()
        top.setSpacing(8)
        self.back_button = QPushButton(self.tr("← Projects"))
        self.back_button.setObjectName("back")
        self.back_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.back_button.clicked.connect(self.sig_back)
        top.addWidget(self.back_button)
        top.addStretch(1)
        self.archive_button = QPushButton(self.tr("Archive"))
        self.delete_button = QPushButton(self.tr("Delete…"))
        self.delete_button.setStyleSheet(f"color: {colors.error};")
        top.addWidget(self.archive_button)
        top.addWidget(self.delete_button)
        self.archive_button.clicked.connect(self.toggle_archived)
        self.delete_button.clicked.connect(self.delete)
        outer.addLayout(top)

        header = QVBoxLayout()
        header.setSpacing(4)
        self.number_label = muted_label(wrap=False)
        self.number_label.setTextFormat(Qt.TextFormat.PlainText)
        header.addWidget(self.number_label)
        self.title_label = _plain(self.tr("Loading project…"), wrap=True)
        self.title_label.setObjectName("pageTitle")
        header.addWidget(self.title_label)
        facts = QHBoxLayout()
        facts.setSpacing(8)
        self.customer_label = _plain()
        self.customer_label.setStyleSheet("font-weight: 600;")
        self.status_chip = _chip("", colors.ok)
        self.priority_chip = _chip("", colors.accent)
        self.archived_chip = _chip(self.tr("Archived"), colors.muted)
        self.days_label = muted_label(wrap=False)
        self.due_label = _plain()
        for widget in (self.customer_label, self.status_chip, self.priority_chip,
                       self.archived_chip, self.days_label, self.due_label):
            facts.addWidget(widget)
        facts.addStretch(1)
        header.addLayout(facts)
        outer.addLayout(header)
        for chip in (self.status_chip, self.priority_chip, self.archived_chip):
            chip.hide()

        self.banner = Banner()
        outer.addWidget(self.banner)

        stepper_card, stepper_layout = _card()
        self.stepper = StageStepper()
        stepper_layout.addWidget(self.stepper)
        moves = QHBoxLayout()
        moves.setSpacing(8)
        self.blockers_label = _plain(wrap=True)
        moves.addWidget(self.blockers_label, 1)
        self.move_button = QPushButton(self.tr("Move…"))
        self.advance_button = QPushButton(self.tr("Advance"))
        self.advance_button.setObjectName("primary")
        moves.addWidget(self.move_button)
        moves.addWidget(self.advance_button)
        stepper_layout.addLayout(moves)
        self.move_button.clicked.connect(self.open_move_dialog)
        self.advance_button.clicked.connect(self.advance)
        outer.addWidget(stepper_card)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("projectTabs")
        self.tabs.setProperty("class", "pageTabs")  # underlined tabs (ui/theme.py)
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        self.tabs.addTab(self._build_overview(), self.tr("Overview"))
        self.tabs.addTab(self._build_people(), self.tr("People"))
        self.tabs.addTab(self._build_history(), self.tr("History"))
        self.tabs.currentChanged.connect(lambda _index: self.history_table.resizeRowsToContents())
        # The Documents tab is filled once the project (and so its organization) is known.
        self.documents_tab = QWidget()
        QVBoxLayout(self.documents_tab).setContentsMargins(0, 0, 0, 0)
        self.documents_panel: DocumentsPanel | None = None
        self.tabs.addTab(self.documents_tab, self.tr("Documents"))
        # Panels that need the organization are made once the project is loaded.
        self.panels: dict[str, QWidget] = {}
        self._panel_tabs: dict[str, QWidget] = {}
        for key, title in (("reviews", self.tr("Reviews && approvals")),
                           ("messages", self.tr("Messages"))):
            self._panel_tabs[key] = self._panel_tab(title)
        self._panel_tabs["supplier_rfqs"] = self._panel_tab(self.tr("Supplier RFQs"))
        self._panel_tabs["purchasing"] = self._panel_tab(self.tr("Purchasing"))
        self._panel_tabs["production"] = self._panel_tab(self.tr("Production"))
        self._panel_tabs["timeline"] = self._panel_tab(self.tr("Timeline"))
        outer.addWidget(self.tabs, 1)
        self._set_loaded(False)

    def _panel_tab(self, title: str) -> QWidget:
        tab = QWidget()
        QVBoxLayout(tab).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(tab, title)
        return tab

    def _build_overview(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, SPACING, 0, 0)
        row.setSpacing(SPACING)

        steps_card, steps_layout = _card()
        self.steps_heading = _section(self.tr("Steps"))
        steps_layout.addWidget(self.steps_heading)
        self.steps_hint = muted_label()
        steps_layout.addWidget(self.steps_hint)
        self.steps_box = QVBoxLayout()
        self.steps_box.setSpacing(0)
        steps_layout.addLayout(self.steps_box)
        self.other_steps_box = QVBoxLayout()
        self.other_steps_box.setSpacing(2)
        steps_layout.addSpacing(6)
        steps_layout.addLayout(self.other_steps_box)
        steps_layout.addStretch(1)
        row.addWidget(steps_card, 3, Qt.AlignmentFlag.AlignTop)

        details_card, details = _card()
        details_card.setMinimumWidth(400)
        heading = QHBoxLayout()
        heading.addWidget(_section(self.tr("Details")))
        heading.addStretch(1)
        self.version_label = muted_label(wrap=False)
        heading.addWidget(self.version_label)
        details.addLayout(heading)
        self.edit_hint = muted_label()
        self.edit_hint.hide()
        details.addWidget(self.edit_hint)
        form = QFormLayout()
        form.setHorizontalSpacing(SPACING)
        form.setVerticalSpacing(8)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        labels = _field_labels()
        self.title_edit = QLineEdit()
        self.title_edit.setMaxLength(project_detail.MAX_TITLE)
        self.customer_box = QComboBox()
        self.status_box = QComboBox()
        for value, label in _status_labels().items():
            self.status_box.addItem(label, value)
        self.priority_box = QComboBox()
        for value, label in _priority_labels().items():
            self.priority_box.addItem(label, value)
        self.value_edit = QLineEdit()
        self.value_edit.setPlaceholderText(self.tr("e.g. 12500.00"))
        self.due_edit = _DateField()
        self.delivered_edit = _DateField()
        self.type_box = QComboBox()
        self.type_box.addItem(self.tr("Not set"), None)
        for value, label in _type_labels().items():
            self.type_box.addItem(label, value)
        self.assignee_box = QComboBox()
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText(self.tr("Separated by commas"))
        self.description_edit = QPlainTextEdit()
        self.description_edit.setFixedHeight(84)
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setFixedHeight(64)
        self._field_widgets: dict[str, QWidget] = {
            "title": self.title_edit, "customer_id": self.customer_box,
            "status": self.status_box, "priority": self.priority_box,
            "estimated_value": self.value_edit, "estimated_delivery_date": self.due_edit,
            "actual_delivery_date": self.delivered_edit, "project_type": self.type_box,
            "assigned_to": self.assignee_box, "tags": self.tags_edit,
            "description": self.description_edit, "notes": self.notes_edit,
        }
        for box in (self.customer_box, self.assignee_box):
            box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        for box in (self.status_box, self.priority_box, self.type_box):
            box.setMinimumWidth(170)
        for name in ("title", "customer_id", "status", "priority", "estimated_value",
                     "estimated_delivery_date", "actual_delivery_date", "project_type",
                     "assigned_to", "tags"):
            add_form_row(form, labels[name], self._field_widgets[name])
        for name in ("description", "notes"):  # labels at the top of a tall field
            top_label = QLabel(labels[name])
            top_label.setContentsMargins(0, 4, 0, 0)
            top_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            top_label.setBuddy(self._field_widgets[name])
            form.addRow(top_label, self._field_widgets[name])
        details.addLayout(form)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.save_status = muted_label(wrap=False)
        buttons.addWidget(self.save_status, 1)
        self.revert_button = QPushButton(self.tr("Revert"))
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setObjectName("primary")
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        details.addLayout(buttons)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        for line in (self.title_edit, self.value_edit, self.tags_edit):
            line.textChanged.connect(self._update_dirty)
        for text_edit in (self.description_edit, self.notes_edit):
            text_edit.textChanged.connect(self._update_dirty)
        for box in (self.customer_box, self.status_box, self.priority_box, self.type_box,
                    self.assignee_box):
            box.currentIndexChanged.connect(self._update_dirty)
        for date in (self.due_edit, self.delivered_edit):
            date.edit.dateChanged.connect(self._update_dirty)
        row.addWidget(details_card, 2, Qt.AlignmentFlag.AlignTop)
        scroll.setWidget(body)
        return scroll

    def _table(self, headers: Sequence[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(list(headers))
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setShowGrid(False)
        table.setAlternatingRowColors(True)
        table.setWordWrap(True)
        table.setTextElideMode(Qt.TextElideMode.ElideNone)
        table.verticalHeader().setMinimumSectionSize(34)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return table

    def _build_people(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, SPACING, 0, 0)
        layout.setSpacing(SPACING)
        bar = QHBoxLayout()
        self.people_hint = muted_label(self.tr("The people working on this project."), wrap=False)
        bar.addWidget(self.people_hint)
        bar.addStretch(1)
        self.remove_person_button = QPushButton(self.tr("Remove"))
        self.add_person_button = QPushButton(self.tr("Add person…"))
        bar.addWidget(self.remove_person_button)
        bar.addWidget(self.add_person_button)
        layout.addLayout(bar)
        self.assignments_table = self._table(
            [self.tr("Person"), self.tr("Role"), self.tr("Since"), self.tr("Added by")])
        for column, width in ((0, 240), (1, 160), (2, 160)):
            self.assignments_table.setColumnWidth(column, width)
        layout.addWidget(self.assignments_table, 1)
        self.add_person_button.clicked.connect(self.add_person)
        self.remove_person_button.clicked.connect(self.remove_person)
        self.assignments_table.itemSelectionChanged.connect(self._update_people_buttons)
        return tab

    def _build_history(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, SPACING, 0, 0)
        layout.setSpacing(SPACING)
        layout.addWidget(muted_label(self.tr("Every stage change, newest first. The database "
                                        "writes this history itself.")))
        self.history_table = self._table(
            [self.tr("When"), self.tr("Move"), self.tr("Reason"), self.tr("Comment"),
             self.tr("By")])
        for column, width in ((0, 140), (1, 380), (2, 230), (3, 210)):
            self.history_table.setColumnWidth(column, width)
        layout.addWidget(self.history_table, 1)
        return tab

    # --- public API -----------------------------------------------------------------------
    @property
    def project_id(self) -> uuid.UUID:
        return self._project_id

    @property
    def detail(self) -> ProjectDetail | None:
        """The project as last read (None until the first read arrives)."""
        return self._detail

    def reload(self) -> None:
        """Read the project again; a form with unsaved changes is kept as it is."""
        self._reload(live=False)

    def is_dirty(self) -> bool:
        """Whether the attributes form holds changes that are not saved."""
        return self._clean_form is not None and self._form_snapshot() != self._clean_form

    def on_projects_changed(self, ids: list[uuid.UUID]) -> None:
        """Live update (ChangeBus "projects")."""
        if self._project_id in ids:
            self._reload(live=True)

    def on_steps_changed(self, ids: list[uuid.UUID]) -> None:
        """Live update (ChangeBus "project_sub_stage_progress")."""
        if self._detail is not None and set(ids) & {s.id for s in self._detail.steps}:
            self._reload(live=False)

    def on_assignments_changed(self, _ids: list[uuid.UUID]) -> None:
        """Live update (ChangeBus "project_assignments"): a new one may be this project's."""
        self._reload(live=False)

    def confirm(self, title: str, question: str) -> bool:
        """Ask before something that cannot be undone (tests replace this)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                          self)
        box.setTextFormat(Qt.TextFormat.PlainText)  # the question quotes the project's title
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes

    # --- loading ---------------------------------------------------------------------------
    def _reload(self, *, live: bool) -> None:
        workspace, project = self._workspace, self._project_id
        self._runner.run(lambda: project_detail.load_project(workspace, project),
                         on_done=lambda detail: self._apply(detail, live=live),
                         on_error=self._load_failed, key=f"project-load-{id(self)}")

    def _load_pickers(self) -> None:
        """People and customers of the project's organization, for the pickers."""
        if self._detail is None:
            return
        workspace, org = self._workspace, self._detail.organization_id

        def read() -> tuple[list[PersonRow], list[CustomerChoice]]:
            people = [p for p in admin.list_people(workspace, org)
                      if p.is_active and not p.role.is_portal]
            return people, project_detail.list_customers(workspace, org)

        self._pickers_requested = True
        self._runner.run(read, on_done=self._pickers_loaded,
                         on_error=self._pickers_failed, key=f"project-pickers-{id(self)}")

    def _pickers_loaded(self, result: tuple[list[PersonRow], list[CustomerChoice]]) -> None:
        self._people, self._customers = result
        self._fill_pickers()

    def _pickers_failed(self, _error: BaseException) -> None:
        # The form still works with the stored choices; the next reload asks again.
        self._pickers_requested = False

    def _load_failed(self, error: BaseException) -> None:
        if isinstance(error, ProjectNotFoundError):
            self.title_label.setText(self.tr("Project not found"))
            self._set_loaded(False)
            self.banner.show_message(str(error), kind="warning", action=self.tr("Back to projects"),
                              on_action=self.sig_closed.emit)
            return
        self._show_error(error, retry=self.reload)

    def _apply(self, detail: ProjectDetail, *, live: bool = False,
               refill: bool = False) -> None:
        """Show `detail`; refill the form only when it holds no unsaved changes (or `refill`)."""
        dirty = self.is_dirty() and not refill
        self._detail = detail
        self._fill_header(detail)
        self._fill_stepper(detail)
        self._fill_steps(detail)
        self._fill_assignments(detail)
        self._fill_history(detail)
        if not dirty or self._form_base is None:
            self._fill_form(detail)
        elif live and detail.edit != self._form_base.edit:
            self.banner.show_message(self.tr(
                "Someone changed this project; your unsaved changes are kept — Save will "
                "check for conflicts."), kind="info")
        self._set_loaded(True)
        self._update_buttons()
        if not self._pickers_requested:
            self._load_pickers()
        if self.documents_panel is None:
            self._add_documents_panel(detail.organization_id)
        if not self.panels:
            self._add_panels(detail.organization_id)
        else:
            cast(ReviewsPanel, self.panels["reviews"]).set_project_label(self._project_label())
        self.sig_loaded.emit(detail)

    def _project_label(self) -> str:
        d = self._detail
        return f"{d.number} {d.title}" if d else ""

    def _add_panels(self, organization_id: uuid.UUID) -> None:
        """The project's reviews and approvals, messages, supplier RFQs, purchase orders,
        production orders and timeline, each following the live changes of its tables."""
        args = (self._runner, self._workspace, organization_id, self._project_id,
                self._formatter)
        reviews = ReviewsPanel(*args, project_label=self._project_label())
        messages = MessagesPanel(*args)
        timeline = TimelinePanel(*args)
        rfqs = SupplierRfqsPanel(*args)
        purchasing = PurchaseOrdersPanel(*args)
        production = ProductionPanel(*args)
        subscriptions: dict[str, list[tuple[str, Callable[[list[uuid.UUID]], None]]]] = {
            "timeline": [(table, timeline.on_changes) for table in TIMELINE_TABLES]
            + [("projects", timeline.on_projects_changed)],
            "reviews": [("reviews", reviews.on_reviews_changed),
                        ("review_risks", reviews.on_reviews_changed),
                        ("approvals", reviews.on_approvals_changed)],
            "messages": [("messages", messages.on_messages_changed)],
            "supplier_rfqs": [("supplier_rfqs", rfqs.on_supplier_rfqs_changed),
                              ("supplier_quotes", rfqs.on_supplier_quotes_changed)],
            "purchasing": [("purchase_orders", purchasing.on_purchase_orders_changed),
                           ("purchase_order_lines", purchasing.on_purchase_order_lines_changed)],
            "production": [
                ("production_orders", production.on_production_orders_changed),
                ("production_operations", production.on_production_operations_changed),
                ("production_order_materials", production.on_production_order_materials_changed),
                ("production_events", production.on_production_events_changed)],
        }
        for key, panel in (("reviews", reviews), ("messages", messages),
                           ("supplier_rfqs", rfqs), ("purchasing", purchasing),
                           ("production", production), ("timeline", timeline)):
            layout = self._panel_tabs[key].layout()
            assert layout is not None
            layout.addWidget(panel)
            self.panels[key] = panel
            for table, slot in subscriptions.get(key, ()):
                if self._bus is not None:
                    self._bus.subscribe(table, slot)

    def _add_documents_panel(self, organization_id: uuid.UUID) -> None:
        panel = DocumentsPanel(self._runner, self._workspace, organization_id,
                               self._formatter, project_id=self._project_id)
        panel.sig_count_changed.connect(self._documents_counted)
        layout = self.documents_tab.layout()
        assert layout is not None
        layout.addWidget(panel)
        self.documents_panel = panel
        if self._bus is not None:
            self._bus.subscribe("documents", panel.on_documents_changed)

    def _documents_counted(self, count: int) -> None:
        index = self.tabs.indexOf(self.documents_tab)
        self.tabs.setTabText(index, self.tr("Documents ({count})").format(count=count)
                             if count else self.tr("Documents"))

    def _set_loaded(self, loaded: bool) -> None:
        for widget in (self.tabs, self.move_button, self.advance_button,
                       self.archive_button, self.delete_button):
            widget.setEnabled(loaded)

    # --- header and stepper -----------------------------------------------------------------
    def _fill_header(self, d: ProjectDetail) -> None:
        colors = theme.current()
        created = self._formatter.date(_local(d.created_at).date())
        number = d.number + (f"  ·  {self.tr('created {date}').format(date=created)}"
                             if created else "")
        if d.intake_type:
            intake = {"rfq": self.tr("RFQ"), "purchase_order": self.tr("Purchase order"),
                      "project_idea": self.tr("Project idea"),
                      "direct_request": self.tr("Direct request")}
            number += f"  ·  {intake.get(d.intake_type, d.intake_type)}"
        self.number_label.setText(number)
        self.title_label.setText(d.title)
        self.customer_label.setText(d.customer.name if d.customer else self.tr("No customer"))
        status_colors = {"active": colors.ok, "on_hold": colors.warn,
                         "completed": colors.accent, "cancelled": colors.muted}
        self._set_chip(self.status_chip, _status_labels().get(d.status, d.status),
                       status_colors.get(d.status, colors.muted))
        priority_colors = {"low": colors.muted, "medium": colors.accent, "high": colors.warn,
                           "critical": colors.error}
        self._set_chip(self.priority_chip, self.tr("{priority} priority").format(
            priority=_priority_labels().get(d.priority, d.priority)),
            priority_colors.get(d.priority, colors.muted))
        self.archived_chip.setVisible(d.archived)
        days = self.tr("{days} days in {stage}").format(days=d.days_in_stage,
                                                        stage=d.stage.name)
        if d.days_in_stage == 1:
            days = self.tr("1 day in {stage}").format(stage=d.stage.name)
        if d.stage.estimated_duration_days is not None:
            days += self.tr(" (usually {limit})").format(limit=d.stage.estimated_duration_days)
        self.days_label.setText("·  " + days)
        self.days_label.setStyleSheet(f"color: {colors.warn};" if d.too_long_in_stage else "")
        if d.estimated_delivery_date is None:
            self.due_label.setText("·  " + self.tr("No due date"))
            self.due_label.setStyleSheet(f"color: {colors.muted};")
        else:
            due = self._formatter.date(d.estimated_delivery_date)
            if d.overdue:
                self.due_label.setText("·  " + self.tr("Overdue since {date}").format(date=due))
                self.due_label.setStyleSheet(f"color: {colors.error}; font-weight: 600;")
            else:
                self.due_label.setText("·  " + self.tr("Due {date}").format(date=due))
                self.due_label.setStyleSheet("")
        self.archive_button.setText(self.tr("Restore") if d.archived else self.tr("Archive"))
        self.delete_button.setVisible(d.may_delete)

    @staticmethod
    def _set_chip(chip: QLabel, text: str, color: str) -> None:
        chip.setText(text)
        chip.setStyleSheet(
            f"color: {color}; border: 1px solid {color}; border-radius: 9px; "
            "padding: 1px 8px; font-weight: 600;")
        chip.show()

    def _fill_stepper(self, d: ProjectDetail) -> None:
        colors = theme.current()
        self.stepper.set_stages(d.stages, d.stage.id)
        following = d.next_stage
        if following is None:
            self.advance_button.setText(self.tr("Last stage"))
        else:
            self.advance_button.setText(self.tr("Advance to {stage}").format(
                stage=following.name))
        if d.archived:
            self.blockers_label.setText(self.tr("This project is archived; restore it to move "
                                                "it."))
            self.blockers_label.setStyleSheet(f"color: {colors.muted};")
        elif d.blockers:
            self.blockers_label.setText(self.tr("Before advancing: {what}.").format(
                what="; ".join(d.blockers)))
            self.blockers_label.setStyleSheet(f"color: {colors.warn};")
        elif following is not None:
            self.blockers_label.setText(self.tr("Every required step of “{stage}” is done.")
                                        .format(stage=d.stage.name))
            self.blockers_label.setStyleSheet(f"color: {colors.ok};")
        else:
            self.blockers_label.setText(self.tr("The project is in the last stage."))
            self.blockers_label.setStyleSheet(f"color: {colors.muted};")

    # --- steps ------------------------------------------------------------------------------
    def _clear(self, layout: QVBoxLayout) -> None:
        while layout.count():
            item = layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()

    def _fill_steps(self, d: ProjectDetail) -> None:
        self._clear(self.steps_box)
        self._clear(self.other_steps_box)
        self.step_rows = []
        current = d.steps_of(d.stage.id)
        done = sum(1 for s in current if s.status in ("completed", "skipped"))
        self.steps_heading.setText(self.tr("Steps of “{stage}”").format(stage=d.stage.name))
        roles = ", ".join(d.stage.responsible_roles)
        self.steps_hint.setText(self.tr("{done} of {total} done · responsible: {roles}").format(
            done=done, total=len(current), roles=roles or self.tr("anyone")))
        for step in current:
            row = StepRow(step, actionable=not d.archived, on_action=self.step_action)
            self.step_rows.append(row)
            self.steps_box.addWidget(row)
        if not current:
            self.steps_box.addWidget(muted_label(self.tr("This stage has no steps.")))
        others = [s for s in d.stages if s.id != d.stage.id and d.steps_of(s.id)]
        if others:
            self.other_steps_box.addWidget(muted_label(self.tr("Other stages this project has been "
                                                          "in:")))
        for stage in others:
            steps = d.steps_of(stage.id)
            finished = sum(1 for s in steps if s.status in ("completed", "skipped"))
            toggle = QToolButton()
            toggle.setObjectName("stageToggle")
            toggle.setCheckable(True)
            toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            toggle.setArrowType(Qt.ArrowType.RightArrow)
            toggle.setText(self.tr("{stage} — {done} of {total} done").format(
                stage=stage.name, done=finished, total=len(steps)))
            box = QWidget()
            inner = QVBoxLayout(box)
            inner.setContentsMargins(18, 0, 0, 0)
            inner.setSpacing(0)
            for step in steps:
                row = StepRow(step, actionable=False, on_action=self.step_action)
                self.step_rows.append(row)
                inner.addWidget(row)
            box.hide()

            def flip(checked: bool, button: QToolButton = toggle, body: QWidget = box) -> None:
                body.setVisible(checked)
                button.setArrowType(Qt.ArrowType.DownArrow if checked
                                    else Qt.ArrowType.RightArrow)

            toggle.toggled.connect(flip)
            self.other_steps_box.addWidget(toggle)
            self.other_steps_box.addWidget(box)

    def step_row(self, name: str) -> StepRow:
        """The row of the current stage's step called `name` (for tests)."""
        stage = self._detail.stage.id if self._detail else None
        return next(r for r in self.step_rows if r.step.name == name and r.step.stage_id == stage)

    def step_action(self, step: Step, action: str) -> None:
        """Start, complete, skip, block, reopen or assign a step; the database decides."""
        if self._writing:
            return
        if action == "assign":
            self._assign_step(step)
            return
        if action == "ask_approval":
            self._ask_step_approval(step)
            return
        status = {"start": "in_progress", "complete": "completed", "skip": "skipped",
                  "block": "blocked", "reopen": "in_progress"}[action]
        workspace = self._workspace
        self._write(lambda: workflow.update_step(workspace, step.id, step.version,
                                                 status=status))

    def _ask_step_approval(self, step: Step) -> None:
        """The step goes to its approvers' inbox and completes when approved (revision 0009)."""
        d = self._detail
        if d is None:
            return
        workspace, org = self._workspace, d.organization_id
        self._write(lambda: workflow.request_step_approval(workspace, org, step.id),
                    done_message=self.tr("Approval asked for: “{step}” completes when it is "
                                         "approved.").format(step=step.name))

    def _assign_step(self, step: Step) -> None:
        if not self._people:
            self.banner.show_message(self.tr("The list of people is still loading; try again in a "
                                      "moment."), kind="info", timeout_ms=_OK_TIMEOUT_MS)
            self._load_pickers()
            return
        dialog = _PersonDialog(self.tr("Assign “{step}”").format(step=step.name), self._people,
                               with_role=False, allow_nobody=True, current=step.assigned_to,
                               parent=self)
        workspace = self._workspace

        def chosen() -> None:
            person = dialog.person_id()
            self._write(lambda: workflow.update_step(workspace, step.id, step.version,
                                                     assign=True, assignee_id=person))

        self._open(dialog, chosen)

    # --- moves ------------------------------------------------------------------------------
    def advance(self) -> None:
        d = self._detail
        if d is None or d.next_stage is None or self._writing:
            return
        workspace, project, stage, target = self._workspace, d.id, d.stage.id, d.next_stage
        self._write(lambda: workflow.advance_project(workspace, project, stage),
                    done_message=self.tr("Moved to “{stage}”.").format(stage=target.name))

    def open_move_dialog(self) -> None:
        d = self._detail
        if d is None or self._writing:
            return
        dialog = MoveDialog(d.stages, d.stage, d.blockers,
                            project_label=f"{d.number} {d.title}", parent=self)
        self.move_dialog = dialog
        if d.next_stage is not None:
            dialog.select_stage(d.next_stage.id)
        workspace, project, expected = self._workspace, d.id, d.stage.id

        def move(stage_id: object, reason: str, comment: str) -> None:
            assert isinstance(stage_id, uuid.UUID)
            target = next(s for s in d.stages if s.id == stage_id)
            dialog.set_busy(True)

            def open_still() -> bool:  # Escape may have closed it while the move ran
                return shiboken6.isValid(dialog) and dialog.isVisible()

            def moved(_kind: str) -> None:
                self._show_ok(self.tr("Moved to “{stage}”.").format(stage=target.name))
                self.sig_changed.emit(self._project_id)
                self.reload()
                if open_still():
                    dialog.accept()

            def refused(error: BaseException) -> None:
                if isinstance(error, StageConflictError) or not open_still():
                    self.banner.show_message(describe_error(error), kind=(
                        "warning" if isinstance(error, StageConflictError) else "error"))
                    self.reload()
                    if open_still():
                        dialog.reject()
                else:
                    dialog.show_error(describe_error(error))

            self._runner.run(lambda: workflow.move_project(workspace, project, expected,
                                                           stage_id, reason=reason,
                                                           comment=comment),
                             on_done=moved, on_error=refused)

        dialog.sig_move.connect(move)
        self._open(dialog, lambda: None)

    # --- attributes ---------------------------------------------------------------------------
    def _fill_pickers(self) -> None:
        """Refill the customer and person lists; what is selected stays selected."""
        self._filling = True
        try:
            edit = self.form_values_raw()
            self.customer_box.clear()
            self.customer_box.addItem(self.tr("No customer"), None)
            for customer in self._customers:
                self.customer_box.addItem(customer.name, customer.id)
            self.assignee_box.clear()
            self.assignee_box.addItem(self.tr("Nobody"), None)
            for person in self._people:
                self.assignee_box.addItem(person.display_name, person.person_id)
            for shown in (self._form_base, self._detail):
                if shown is not None:
                    self._ensure_choice(self.customer_box, shown.customer)
                    self._ensure_choice(self.assignee_box, shown.assigned_to)
            self._select(self.customer_box, edit["customer_id"])
            self._select(self.assignee_box, edit["assigned_to"])
        finally:
            self._filling = False
        # The snapshot holds the chosen ids, not positions: a form nobody touched stays clean.
        self._update_dirty()

    @staticmethod
    def _ensure_choice(box: QComboBox, ref: project_detail.Ref | None) -> None:
        if ref is not None and box.findData(ref.id) < 0:
            box.addItem(ref.name, ref.id)

    @staticmethod
    def _select(box: QComboBox, value: object) -> None:
        index = box.findData(value)
        box.setCurrentIndex(index if index >= 0 else 0)

    def _fill_form(self, d: ProjectDetail) -> None:
        self._filling = True
        try:
            self._form_base = d
            if self.customer_box.count() == 0:
                self.customer_box.addItem(self.tr("No customer"), None)
            if self.assignee_box.count() == 0:
                self.assignee_box.addItem(self.tr("Nobody"), None)
            self._ensure_choice(self.customer_box, d.customer)
            self._ensure_choice(self.assignee_box, d.assigned_to)
            self.title_edit.setText(d.title)
            self._select(self.customer_box, d.customer.id if d.customer else None)
            self._select(self.status_box, d.status)
            self._select(self.priority_box, d.priority)
            self.value_edit.setText(self._value_text(d.estimated_value))
            self.due_edit.set_value(d.estimated_delivery_date)
            self.delivered_edit.set_value(d.actual_delivery_date)
            self._select(self.type_box, d.project_type)
            self._select(self.assignee_box, d.assigned_to.id if d.assigned_to else None)
            self.tags_edit.setText(", ".join(d.tags))
            self.description_edit.setPlainText(d.description or "")
            self.notes_edit.setPlainText(d.notes or "")
        finally:
            self._filling = False
        self._clean_form = self._form_snapshot()
        self.version_label.setText(self.tr("Version {version} · saved {when}").format(
            version=d.version, when=self._when(d.updated_at)))
        if d.may_edit:
            self.edit_hint.hide()
        else:
            roles = ", ".join(d.stage.responsible_roles)
            self.edit_hint.setText(self.tr(
                "You can read this project. Changes are saved only for management, the roles "
                "responsible for “{stage}” ({roles}) and the people assigned to it.").format(
                    stage=d.stage.name, roles=roles))
            self.edit_hint.show()
        self._update_dirty()

    @staticmethod
    def _value_text(value: Decimal | None) -> str:
        return "" if value is None else f"{value:.2f}"

    def _form_snapshot(self) -> tuple[Any, ...]:
        raw = self.form_values_raw()
        return (raw["title"], raw["description"], raw["customer_id"], raw["status"],
                raw["priority"], raw["estimated_value"], raw["estimated_delivery_date"],
                raw["actual_delivery_date"], raw["project_type"], raw["assigned_to"],
                raw["tags"], raw["notes"])

    def form_values_raw(self) -> dict[str, Any]:
        """What the form holds, as typed (no parsing)."""
        return {
            "title": self.title_edit.text(),
            "description": self.description_edit.toPlainText(),
            "customer_id": self.customer_box.currentData(),
            "status": self.status_box.currentData(),
            "priority": self.priority_box.currentData(),
            "estimated_value": self.value_edit.text(),
            "estimated_delivery_date": self.due_edit.value(),
            "actual_delivery_date": self.delivered_edit.value(),
            "project_type": self.type_box.currentData(),
            "assigned_to": self.assignee_box.currentData(),
            "tags": self.tags_edit.text(),
            "notes": self.notes_edit.toPlainText(),
        }

    def form_edit(self) -> ProjectEdit:
        """The form as a checked `ProjectEdit`; `ProjectInvalid` names what is wrong."""
        raw = self.form_values_raw()
        edit = ProjectEdit(
            title=raw["title"], description=raw["description"] or None,
            customer_id=raw["customer_id"], priority=raw["priority"] or Priority.MEDIUM.value,
            estimated_value=project_detail.parse_value(raw["estimated_value"]),
            estimated_delivery_date=raw["estimated_delivery_date"],
            actual_delivery_date=raw["actual_delivery_date"],
            project_type=raw["project_type"], tags=project_detail.parse_tag_text(raw["tags"]),
            notes=raw["notes"] or None, assigned_to=raw["assigned_to"],
            status=raw["status"] or ProjectStatus.ACTIVE.value)
        return project_detail.check_edit(edit)

    def _update_dirty(self) -> None:
        if self._filling:
            return
        dirty = self.is_dirty()
        self.save_button.setEnabled(dirty and not self._saving and self._form_base is not None)
        self.revert_button.setEnabled(dirty and not self._saving)
        if not self._saving:
            self.save_status.setText(self.tr("Unsaved changes") if dirty else "")

    def revert(self) -> None:
        """Throw away the unsaved changes: the form shows the project as last read."""
        if self._detail is not None:
            self._fill_form(self._detail)
            self.banner.hide()

    def save(self) -> None:
        base = self._form_base
        if base is None or self._saving or not self.is_dirty():
            return
        try:
            edit = self.form_edit()
        except ProjectInvalid as error:
            self._invalid(error)
            return
        self._save(edit, base.version, base.edit)

    def _invalid(self, error: ProjectInvalid) -> None:
        self._show_error(error)
        widget = next((self._field_widgets[f] for f in EDIT_FIELDS
                       if f in error.errors and f in self._field_widgets), None)
        if widget is not None:
            widget.setFocus()

    def _save(self, edit: ProjectEdit, version: int, base: ProjectEdit) -> None:
        workspace, project = self._workspace, self._project_id

        def body() -> ProjectDetail | None:
            project_detail.save_project(workspace, project, version, edit)
            try:
                return project_detail.load_project(workspace, project)
            except UserFacingError:
                return None  # saved; the page reads it again below

        self._set_saving(True)
        self._runner.run(body, on_done=self._saved,
                         on_error=lambda error: self._save_failed(error, edit, base))

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        if saving:
            self.save_status.setText(self.tr("Saving…"))
        self._update_dirty()

    def _saved(self, detail: ProjectDetail | None) -> None:
        self._set_saving(False)
        if detail is None:
            self._form_base = None
            self._clean_form = None
            self.reload()
        else:
            self._apply(detail, refill=True)
        self.save_status.setText(self.tr("Saved."))
        self._show_ok(self.tr("The project was saved."))
        self.sig_changed.emit(self._project_id)

    def _save_failed(self, error: BaseException, mine: ProjectEdit, base: ProjectEdit) -> None:
        # The form keeps what was typed: nothing is refilled here.
        self._set_saving(False)
        if isinstance(error, ProjectConflictError):
            if error.theirs == base:
                # Only columns outside this form changed (a stage move, archiving): nothing to
                # compare; save again over the newer version.
                self._save(mine, error.version, base)
                return
            self._open_conflict(error, mine, base)
        elif isinstance(error, ProjectInvalid):
            self._invalid(error)
        else:
            self._show_error(error)

    def _open_conflict(self, error: ProjectConflictError, mine: ProjectEdit,
                       base: ProjectEdit) -> None:
        labels = _field_labels()
        mine_changed = set(mine.changed_fields(base))
        theirs_changed = set(error.theirs.changed_fields(base))
        rows = [ConflictRow(field=f, label=labels[f], mine=self.describe(f, getattr(mine, f)),
                            theirs=self.describe(f, getattr(error.theirs, f)),
                            changed_by_me=f in mine_changed,
                            changed_by_them=f in theirs_changed)
                for f in EDIT_FIELDS
                if f in mine_changed | theirs_changed
                and getattr(mine, f) != getattr(error.theirs, f)]
        dialog = ConflictDialog(rows, saved_by=error.updated_by,
                                saved_at=self._when(error.updated_at), parent=self)
        self.conflict_dialog = dialog

        def finished(_result: int) -> None:
            if self.conflict_dialog is dialog:
                self.conflict_dialog = None
            if dialog.choice == ConflictDialog.MINE:
                self._save(error.theirs.with_changes_of(mine, base), error.version,
                           error.theirs)
            elif dialog.choice == ConflictDialog.THEIRS:
                self._form_base = None
                self._clean_form = None
                self.banner.hide()
                self.reload()
            else:
                self.banner.show_message(self.tr(
                    "Your changes are still in the form and not saved. Saving again compares "
                    "them with the newest version."), kind="warning")

        dialog.finished.connect(finished)
        self._open(dialog, lambda: None)

    def describe(self, field: str, value: object) -> str:
        """A field's value in words, as the conflict dialog shows it."""
        if value is None or value == () or value == "":
            return ""
        if field == "customer_id" and isinstance(value, uuid.UUID):
            names = {c.id: c.name for c in self._customers}
            for shown in (self._form_base, self._detail):
                if shown is not None and shown.customer is not None:
                    names.setdefault(shown.customer.id, shown.customer.name)
            return names.get(value, self.tr("another customer"))
        if field == "assigned_to" and isinstance(value, uuid.UUID):
            people = {p.person_id: p.display_name for p in self._people}
            for shown in (self._form_base, self._detail):
                if shown is not None and shown.assigned_to is not None:
                    people.setdefault(shown.assigned_to.id, shown.assigned_to.name)
            return people.get(value, self.tr("another person"))
        if field == "status":
            return _status_labels().get(str(value), str(value))
        if field == "priority":
            return _priority_labels().get(str(value), str(value))
        if field == "project_type":
            return _type_labels().get(str(value), str(value))
        if isinstance(value, Decimal):
            return self._formatter.money(value)
        if isinstance(value, dt.date):
            return self._formatter.date(value)
        if isinstance(value, tuple):
            return ", ".join(str(v) for v in value)
        return str(value)

    # --- archive and delete ---------------------------------------------------------------
    def toggle_archived(self) -> None:
        d = self._detail
        if d is None or self._writing:
            return
        workspace, project, version = self._workspace, d.id, d.version
        if d.archived:
            self._write(lambda: project_detail.restore_project(workspace, project, version),
                        done_message=self.tr("The project is back on the lists."))
        else:
            self._write(lambda: project_detail.archive_project(workspace, project, version),
                        done_message=self.tr("The project was archived; it no longer shows "
                                             "on the lists."))

    def delete(self) -> None:
        d = self._detail
        if d is None or self._writing:
            return
        if not self.confirm(self.tr("Delete project"), self.tr(
                "Delete {number} “{title}” with its steps and history? This cannot be "
                "undone; archiving keeps it.").format(number=d.number, title=d.title)):
            return
        workspace, project, version = self._workspace, d.id, d.version

        def deleted(_result: None) -> None:
            self._set_writing(False)
            self.sig_changed.emit(project)
            self.sig_closed.emit()

        def failed(error: BaseException) -> None:
            self._set_writing(False)
            if isinstance(error, ProjectConflictError):
                self.banner.show_message(str(error), kind="warning")
                self.reload()
            else:
                self._show_error(error)

        self._set_writing(True)
        self._runner.run(lambda: project_detail.delete_project(workspace, project, version),
                         on_done=deleted, on_error=failed)

    # --- people -------------------------------------------------------------------------------
    def _fill_assignments(self, d: ProjectDetail) -> None:
        table = self.assignments_table
        table.setRowCount(len(d.assignments))
        for row, a in enumerate(d.assignments):
            person = QTableWidgetItem(a.person_name)
            person.setData(Qt.ItemDataRole.UserRole, a.id)
            table.setItem(row, 0, person)
            table.setItem(row, 1, QTableWidgetItem(a.role.replace("_", " ")))
            table.setItem(row, 2, QTableWidgetItem(self._when(a.assigned_at)))
            table.setItem(row, 3, QTableWidgetItem(a.assigned_by or ""))
        count = len(d.assignments)
        self.tabs.setTabText(1, self.tr("People ({count})").format(count=count) if count
                             else self.tr("People"))
        self.people_hint.setText(
            self.tr("The people working on this project.") if d.may_manage else
            self.tr("The people working on this project. Management and administrators "
                    "change who is on it."))
        self._update_people_buttons()

    def _selected_assignment(self) -> uuid.UUID | None:
        rows = {i.row() for i in self.assignments_table.selectedIndexes()}
        if len(rows) != 1:
            return None
        item = self.assignments_table.item(rows.pop(), 0)
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return value if isinstance(value, uuid.UUID) else None

    def _update_people_buttons(self) -> None:
        self.remove_person_button.setEnabled(
            self._selected_assignment() is not None and not self._writing)
        self.add_person_button.setEnabled(not self._writing)

    def add_person(self) -> None:
        if not self._people:
            self.banner.show_message(self.tr("The list of people is still loading; try again in a "
                                      "moment."), kind="info", timeout_ms=_OK_TIMEOUT_MS)
            self._load_pickers()
            return
        dialog = _PersonDialog(self.tr("Add a person to the project"), self._people,
                               with_role=True, allow_nobody=False, parent=self)
        workspace, project = self._workspace, self._project_id

        def chosen() -> None:
            person, role = dialog.person_id(), dialog.role()
            if person is not None:
                self._write(lambda: project_detail.assign_person(workspace, project, person,
                                                                 role or "member"))

        self._open(dialog, chosen)

    def remove_person(self) -> None:
        assignment = self._selected_assignment()
        if assignment is None:
            return
        workspace = self._workspace
        self._write(lambda: project_detail.unassign(workspace, assignment))

    # --- history ----------------------------------------------------------------------------
    def _fill_history(self, d: ProjectDetail) -> None:
        table = self.history_table
        table.setRowCount(len(d.history))
        kinds = {"created": self.tr("Created in"), "advance": self.tr("Advanced"),
                 "back": self.tr("Moved back"), "skip": self.tr("Skipped ahead")}
        for row, h in enumerate(d.history):
            kind = kinds.get(h.kind, h.kind)
            move = (f"{kind}: {h.to_stage}" if h.from_stage is None
                    else f"{kind}: {h.from_stage} → {h.to_stage}")
            table.setItem(row, 0, QTableWidgetItem(self._when(h.occurred_at)))
            table.setItem(row, 1, QTableWidgetItem(move))
            table.setItem(row, 2, QTableWidgetItem(h.reason or ""))
            table.setItem(row, 3, QTableWidgetItem(h.comment or ""))
            table.setItem(row, 4, QTableWidgetItem(h.actor or ""))
        table.resizeRowsToContents()

    # --- writes -------------------------------------------------------------------------------
    def _write(self, fn: Callable[[], object], *, done_message: str | None = None) -> None:
        """Run a change, then read the project again; refusals in the banner."""

        def done(_result: object) -> None:
            self._set_writing(False)
            if done_message:
                self._show_ok(done_message)
            else:
                self.banner.hide()
            self.sig_changed.emit(self._project_id)
            self.reload()

        def failed(error: BaseException) -> None:
            self._set_writing(False)
            if isinstance(error, StageConflictError | StepConflictError | ProjectConflictError):
                self.banner.show_message(str(error), kind="warning")
                self.reload()
            else:
                self._show_error(error)

        self._set_writing(True)
        self._runner.run(fn, on_done=done, on_error=failed)

    def _set_writing(self, writing: bool) -> None:
        self._writing = writing
        for row in self.step_rows:
            row.set_enabled_actions(not writing)
        self._update_buttons()
        self._update_people_buttons()

    def _update_buttons(self) -> None:
        d = self._detail
        idle = d is not None and not self._writing
        self.advance_button.setEnabled(
            idle and d is not None and d.next_stage is not None and not d.blockers
            and not d.archived)
        self.move_button.setEnabled(idle and d is not None and not d.archived)
        self.archive_button.setEnabled(idle)
        self.delete_button.setEnabled(idle)

    # --- dialogs and messages ---------------------------------------------------------------
    def _open(self, dialog: QDialog, on_accepted: Callable[[], None]) -> None:
        self.dialog = dialog
        dialog.accepted.connect(on_accepted)
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        dialog.open()

    def _dialog_closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        if self.move_dialog is dialog:
            self.move_dialog = None
        dialog.deleteLater()

    def _when(self, moment: dt.datetime) -> str:
        local = _local(moment)
        return f"{self._formatter.date(local.date())} {local:%H:%M}"


    def _show_error(self, error: BaseException,
                    retry: Callable[[], None] | None = None) -> None:
        self.banner.show_message(describe_error(error), kind="error",
                          action=self.tr("Retry") if retry else None, on_action=retry)

    def _show_ok(self, text: str) -> None:
        self.banner.show_message(text, kind="ok", timeout_ms=_OK_TIMEOUT_MS)

