"""The Dashboard: what needs attention, my tasks, and how work flows (from stage history).

One read (`services/dashboard.load_dashboard`) through the task runner fills every card; live
changes to projects refresh it after a short pause, so a burst of changes costs one read.
"""

from __future__ import annotations

import uuid

from PySide6.QtCore import QLocale, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import dashboard
from factorypulse_desktop.services.dashboard import ActionKind, Dashboard
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.charts import BarChart, Series

PROJECT_ROLE = Qt.ItemDataRole.UserRole + 1


def _card(title: str, body: QWidget, extra: QWidget | None = None) -> QFrame:
    frame = QFrame()
    frame.setObjectName("card")
    box = QVBoxLayout(frame)
    box.setContentsMargins(16, 12, 16, 14)
    box.setSpacing(8)
    head = QHBoxLayout()
    label = QLabel(title)
    label.setStyleSheet("font-weight: 600;")
    head.addWidget(label)
    head.addStretch(1)
    if extra is not None:
        head.addWidget(extra)
    box.addLayout(head)
    box.addWidget(body, 1)
    return frame


def _list() -> QListWidget:
    widget = QListWidget()
    widget.setFrameShape(QFrame.Shape.NoFrame)
    widget.setMinimumHeight(180)
    widget.setWordWrap(True)
    return widget


class DashboardPage(QScrollArea):
    sig_open_project = Signal(object)
    sig_loaded = Signal()

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self._organization_id = organization_id
        self._formatter = formatter or Formatter()
        self.data: Dashboard | None = None
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._build()
        self._refresh_timer = QTimer(self, singleShot=True, interval=1500)
        self._refresh_timer.timeout.connect(self.reload)
        self.reload()

    def _build(self) -> None:
        holder = QWidget()
        outer = QVBoxLayout(holder)
        outer.setContentsMargins(24, 20, 24, 20)
        outer.setSpacing(12)
        top = QHBoxLayout()
        heading = QLabel(self.tr("Dashboard"))
        heading.setObjectName("pageTitle")
        top.addWidget(heading)
        top.addStretch(1)
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.clicked.connect(self.reload)
        top.addWidget(self.refresh_button)
        outer.addLayout(top)
        self.banner = Banner()
        outer.addWidget(self.banner)

        grid = QGridLayout()
        grid.setSpacing(12)
        self.attention = _list()
        self.attention_counts = QLabel()
        self.attention_counts.setObjectName("muted")
        self.tasks = _list()
        self.stages = BarChart(horizontal=True, value_text=lambda v: str(int(v)))
        self.on_time_value = QLabel("—")
        self.on_time_value.setStyleSheet("font-size: 30px; font-weight: 600;")
        self.on_time_detail = QLabel()
        self.on_time_detail.setWordWrap(True)
        self.on_time_detail.setObjectName("muted")
        on_time = QWidget()
        on_time_box = QVBoxLayout(on_time)
        on_time_box.setContentsMargins(0, 0, 0, 0)
        on_time_box.addWidget(self.on_time_value)
        on_time_box.addWidget(self.on_time_detail)
        on_time_box.addStretch(1)
        self.stage_times = BarChart(horizontal=True, value_text=lambda v: f"{v:.1f}")
        self.throughput = BarChart(horizontal=False, value_text=lambda v: str(int(v)))
        self.throughput.setMinimumHeight(220)
        self.throughput.setMaximumHeight(300)
        self.activity = _list()
        for widget in (self.attention, self.tasks):
            widget.itemActivated.connect(self._open_item)
            widget.itemDoubleClicked.connect(self._open_item)
        grid.addWidget(_card(self.tr("Needs attention"), self.attention,
                             self.attention_counts), 0, 0)
        grid.addWidget(_card(self.tr("My tasks"), self.tasks), 0, 1)
        grid.addWidget(_card(self.tr("Active projects by stage"), self.stages), 1, 0)
        grid.addWidget(_card(self.tr("Delivered on time"), on_time), 1, 1)
        self.stage_times_card = _card(self.tr("Time in stage (days: average and 90th "
                                              "percentile)"), self.stage_times)
        grid.addWidget(self.stage_times_card, 2, 0)
        grid.addWidget(_card(self.tr("Projects completed per week"), self.throughput), 2, 1)
        grid.addWidget(_card(self.tr("Recent activity"), self.activity), 3, 0, 1, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        outer.addLayout(grid)
        outer.addStretch(1)
        self.setWidget(holder)

    # --- public API -----------------------------------------------------------------------
    def set_organization(self, organization_id: uuid.UUID,
                         formatter: Formatter | None = None) -> None:
        if formatter is not None:
            self._formatter = formatter
        if organization_id != self._organization_id:
            self._organization_id = organization_id
            self.reload()

    def on_projects_changed(self, _ids: list[uuid.UUID]) -> None:
        self._refresh_timer.start()

    def reload(self) -> None:
        ws, org = self._workspace, self._organization_id
        self._runner.run(lambda: dashboard.load_dashboard(ws, org), on_done=self._loaded,
                         on_error=lambda e: self.banner.show_message(str(e), kind="error"),
                         key=f"dashboard-{id(self)}")

    # --- filling --------------------------------------------------------------------------
    def _loaded(self, data: Dashboard) -> None:
        if data.organization_id != self._organization_id:
            return
        self.data = data
        self.banner.hide()
        colors = theme.current()
        counts = data.action_counts
        self.attention_counts.setText(self.tr("{o} overdue · {l} too long in stage · {w} for you")
                                      .format(o=counts.overdue, l=counts.too_long_in_stage,
                                              w=counts.waiting_for_me))
        self.attention.clear()
        kind_color = {ActionKind.OVERDUE: colors.error, ActionKind.TOO_LONG_IN_STAGE: colors.warn}
        for item in data.action_items:
            row = QListWidgetItem(f"{item.project_number} · {item.title}\n{item.reason}")
            row.setData(PROJECT_ROLE, item.project_id)
            row.setForeground(QBrush(QColor(kind_color.get(item.kind, colors.text))))
            self.attention.addItem(row)
        if not data.action_items:
            self.attention.addItem(self.tr("Nothing is overdue or waiting. Well done."))
        self.tasks.clear()
        for task in data.my_tasks:
            row = QListWidgetItem(f"{task.sub_stage_name} ({task.status.replace('_', ' ')})\n"
                                  f"{task.project_number} · {task.project_title} · "
                                  f"{task.stage_name}")
            row.setData(PROJECT_ROLE, task.project_id)
            self.tasks.addItem(row)
        if not data.my_tasks:
            self.tasks.addItem(self.tr("No open steps are assigned to you."))
        self.stages.set_data([s.name for s in data.stage_distribution],
                             [Series(self.tr("Projects"),
                                     tuple(float(s.projects) for s in data.stage_distribution))],
                             colors=[s.color for s in data.stage_distribution])
        times = list(data.time_in_stage)
        self.stage_times.set_data(
            [t.name for t in times],
            [Series(self.tr("Average"), tuple(t.average_days for t in times), colors.accent),
             Series(self.tr("90th percentile"), tuple(t.p90_days for t in times),
                    colors.warn)])
        delivered = data.on_time_delivery
        rate = delivered.rate
        self.on_time_value.setText("—" if rate is None else
                                   QLocale().toString(rate * 100, "f", 0) + " %")
        self.on_time_detail.setText(self.tr(
            "{on_time} of {delivered} deliveries since {since} were on or before the promised "
            "date; {without} delivered without a promised date are not counted.").format(
                on_time=delivered.on_time, delivered=delivered.delivered,
                since=self._formatter.date(data.period_start),
                without=delivered.without_estimate))
        self.throughput.set_data(
            [self._formatter.date(w.week_start) for w in data.weekly_throughput],
            [Series(self.tr("Completed"),
                    tuple(float(w.completed) for w in data.weekly_throughput), colors.ok)])
        self.activity.clear()
        for entry in data.recent_activity:
            when = self._formatter.date(entry.occurred_at.date())
            who = entry.actor_name or self.tr("System")
            what = entry.description or entry.action.replace("_", " ")
            self.activity.addItem(f"{when} · {who} · {what}")
        self.sig_loaded.emit()

    def _open_item(self, item: QListWidgetItem) -> None:
        project = item.data(PROJECT_ROLE)
        if isinstance(project, uuid.UUID):
            self.sig_open_project.emit(project)
