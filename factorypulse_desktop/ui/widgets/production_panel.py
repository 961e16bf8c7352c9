"""Production orders in a list with the selected one's operations, materials and shop-floor
events; New production order…, Release, Hold, Resume and Cancel.

`ProductionOrdersView` is shared: the project page's "Production" tab (`ProductionPanel`, one
project's orders) and the Production area (`ui.pages.production`, every order, with filters).
All database work runs on the task runner; user text is shown as plain text (T-IN-10: table
items and PlainText labels). The database decides what is allowed and says why not.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import production
from factorypulse_desktop.services.production import Choice, OrderDetail, OrderRow
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.dialogs.production_order_dialog import (
    NewProductionOrder,
    ProductionOrderDialog,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner

__all__ = ["ProductionOrdersView", "ProductionPanel", "status_label"]

STATUS_LABELS = {"planned": "Planned", "released": "Released", "in_progress": "In progress",
                 "on_hold": "On hold", "completed": "Completed", "cancelled": "Cancelled",
                 "pending": "Not started", "paused": "Paused", "skipped": "Skipped"}
EVENT_LABELS = {"start": "Started", "pause": "Paused", "resume": "Resumed",
                "complete": "Completed", "good_quantity": "Good parts", "scrap": "Scrapped",
                "note": "Note"}
# Which actions each status offers (the database refuses the rest anyway).
ACTIONS = {"release": ("planned",), "hold": ("released", "in_progress"),
           "resume": ("on_hold",), "cancel": ("planned", "released", "in_progress", "on_hold")}
RELOAD_DELAY_MS = 300  # live changes come in bursts (one station event touches three tables)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def qty(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def make_table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            table.setItem(r, c, QTableWidgetItem(text))  # items are plain text


@dataclass(frozen=True)
class _Choices:
    work_centers: list[Choice]
    items: list[Choice]
    projects: list[Choice] | None


class ProductionOrdersView(QWidget):
    """Orders (of one project, or filtered) and the selected order's detail."""

    sig_loaded = Signal()

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter, *, project_id: uuid.UUID | None = None,
                 statuses: list[str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self.project_id = project_id
        self._formatter = formatter
        self.statuses: list[str] | None = statuses
        self.work_center: uuid.UUID | None = None
        self.orders: list[OrderRow] = []
        self.detail: OrderDetail | None = None
        self.dialog: ProductionOrderDialog | None = None
        self.loaded = False
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self.reload)
        self._build()
        self.reload()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        self.banner = Banner()
        layout.addWidget(self.banner)
        bar = QHBoxLayout()
        self.new_button = QPushButton(self.tr("New production order…"))
        self.new_button.setObjectName("primary")
        self.new_button.clicked.connect(self.ask_new)
        bar.addWidget(self.new_button)
        self.action_buttons: dict[str, QPushButton] = {}
        for action, words in (("release", self.tr("Release")), ("hold", self.tr("Hold")),
                              ("resume", self.tr("Resume")), ("cancel", self.tr("Cancel order"))):
            button = QPushButton(words)
            button.clicked.connect(lambda _=False, a=action: self.act(a))
            bar.addWidget(button)
            self.action_buttons[action] = button
        bar.addStretch(1)
        layout.addLayout(bar)

        split = QSplitter(Qt.Orientation.Vertical)
        self.table = make_table([self.tr("Order"), self.tr("Project"), self.tr("Status"),
                                 self.tr("Quantity"), self.tr("Made"), self.tr("Scrapped"),
                                 self.tr("Operations"), self.tr("Planned end"),
                                 self.tr("Description")])
        self.table.itemSelectionChanged.connect(self._selected)
        split.addWidget(self.table)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        lower_layout.addWidget(self.heading)
        self.tabs = QTabWidget()
        self.operations = make_table([self.tr("#"), self.tr("Operation"), self.tr("Work center"),
                                      self.tr("Status"), self.tr("Planned min"),
                                      self.tr("Worked min")])
        self.materials = make_table([self.tr("Item"), self.tr("Name"), self.tr("Required"),
                                     self.tr("Reserved"), self.tr("Issued"), self.tr("Unit")])
        self.events = make_table([self.tr("When"), self.tr("What"), self.tr("Operation"),
                                  self.tr("Quantity"), self.tr("Minutes"), self.tr("Operator"),
                                  self.tr("Note")])
        self.tabs.addTab(self.operations, self.tr("Operations"))
        self.tabs.addTab(self.materials, self.tr("Materials"))
        self.tabs.addTab(self.events, self.tr("Shop-floor events"))
        lower_layout.addWidget(self.tabs)
        split.addWidget(lower)
        layout.addWidget(split, 1)
        self._update_buttons()

    # -- loading ----------------------------------------------------------------------------------

    def reload(self) -> None:
        ws, org = self._workspace, self.organization_id
        project, statuses, center = self.project_id, self.statuses, self.work_center
        self._runner.run(lambda: production.list_orders(ws, org, statuses=statuses,
                                                        project=project, work_center=center),
                         on_done=self._listed, on_error=self._failed,
                         key=f"production-list-{id(self)}")

    def _listed(self, orders: list[OrderRow]) -> None:
        selected = self.selected_id()
        self.orders = orders
        fmt = self._formatter
        self.table.blockSignals(True)
        fill(self.table, [(o.production_number, o.project_number or "", status_label(o.status),
                           qty(o.quantity), qty(o.completed_quantity),
                           qty(o.scrapped_quantity), f"{o.operations_done}/{o.operations_total}",
                           fmt.date(o.planned_end), o.description or "") for o in orders])
        row = next((i for i, o in enumerate(orders) if o.id == selected), 0 if orders else -1)
        if row >= 0:
            self.table.selectRow(row)
        self.table.blockSignals(False)
        self.loaded = True
        self._selected()
        self.sig_loaded.emit()

    def selected_id(self) -> uuid.UUID | None:
        row = self.table.currentRow()
        return self.orders[row].id if 0 <= row < len(self.orders) else None

    def selected(self) -> OrderRow | None:
        row = self.table.currentRow()
        return self.orders[row] if 0 <= row < len(self.orders) else None

    def _selected(self) -> None:
        self._update_buttons()
        order = self.selected_id()
        if order is None:
            self.detail = None
            self._show_detail()
            return
        ws, org = self._workspace, self.organization_id
        self._runner.run(lambda: production.detail(ws, org, order), on_done=self._detailed,
                         on_error=self._failed, key=f"production-detail-{id(self)}")

    def _detailed(self, detail: OrderDetail) -> None:
        if detail.order.id != self.selected_id():
            return
        self.detail = detail
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.detail
        if detail is None:
            self.heading.setText(self.tr("No production order selected."))
            for table in (self.operations, self.materials, self.events):
                table.setRowCount(0)
            return
        o, fmt = detail.order, self._formatter
        self.heading.setText(self.tr("{number} — {status} · {made} of {qty} made, {scrap} "
                                     "scrapped").format(number=o.production_number,
                                                        status=status_label(o.status),
                                                        made=qty(o.completed_quantity),
                                                        qty=qty(o.quantity),
                                                        scrap=qty(o.scrapped_quantity)))
        fill(self.operations, [(str(x.sequence), x.name, x.work_center or "",
                                status_label(x.status),
                                "" if x.planned_minutes is None else str(x.planned_minutes),
                                qty(x.minutes_worked)) for x in detail.operations])
        fill(self.materials, [(m.item_code, m.item_name, qty(m.quantity_required),
                               qty(m.quantity_reserved), qty(m.quantity_issued), m.unit)
                              for m in detail.materials])
        fill(self.events, [(f"{fmt.date(e.occurred_at.date())} "
                            f"{e.occurred_at.astimezone():%H:%M}",
                            EVENT_LABELS.get(e.event_type, e.event_type),
                            "" if e.operation_sequence is None
                            else f"{e.operation_sequence} {e.operation_name or ''}",
                            qty(e.quantity), qty(e.minutes), e.operator or "", e.note or "")
                           for e in detail.events])

    def _update_buttons(self) -> None:
        order = self.selected()
        for action, button in self.action_buttons.items():
            button.setEnabled(order is not None and order.status in ACTIONS[action])

    def _failed(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error))

    # -- live ---------------------------------------------------------------------------------

    def schedule_reload(self, _ids: list[uuid.UUID] | None = None) -> None:
        self._reload_timer.start()

    on_production_orders_changed = schedule_reload
    on_production_operations_changed = schedule_reload
    on_production_order_materials_changed = schedule_reload
    on_production_events_changed = schedule_reload

    # -- actions --------------------------------------------------------------------------------

    def act(self, action: str) -> None:
        order = self.selected()
        if order is None:
            return
        if action == "cancel" and QMessageBox.question(
                self, self.tr("Cancel production order"),
                self.tr("Cancel {number}? A cancelled order cannot be reopened.").format(
                    number=order.production_number)) != QMessageBox.StandardButton.Yes:
            return
        move: Callable[[Workspace, uuid.UUID, uuid.UUID, int], str] = {
            "release": production.release, "hold": production.hold,
            "resume": production.resume, "cancel": production.cancel}[action]
        ws, org = self._workspace, self.organization_id
        self._runner.run(lambda: move(ws, org, order.id, order.version),
                         on_done=lambda status: self._moved(order, status),
                         on_error=self._move_failed)

    def _moved(self, order: OrderRow, status: str) -> None:
        self.banner.show_message(self.tr("{number} is now {status}.").format(
            number=order.production_number, status=status_label(status).lower()),
            kind="ok", timeout_ms=4000)
        self.reload()

    def _move_failed(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error))
        self.reload()  # a conflict: show what changed

    def ask_new(self) -> None:
        ws, org, fixed = self._workspace, self.organization_id, self.project_id

        def load() -> _Choices:
            return _Choices(production.work_centers(ws, org), production.items(ws, org, limit=500),
                            None if fixed else production.projects(ws, org))

        self.new_button.setEnabled(False)
        self._runner.run(load, on_done=self._open_dialog, on_error=self._choices_failed)

    def _choices_failed(self, error: BaseException) -> None:
        self.new_button.setEnabled(True)
        self._failed(error)

    def _open_dialog(self, choices: _Choices) -> None:
        self.new_button.setEnabled(True)
        dialog = ProductionOrderDialog(work_centers=choices.work_centers, items=choices.items,
                                       project_id=self.project_id, projects=choices.projects,
                                       parent=self)
        dialog.sig_submitted.connect(lambda payload: self._create(dialog, payload))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    def _create(self, dialog: ProductionOrderDialog, payload: NewProductionOrder) -> None:
        ws, org = self._workspace, self.organization_id
        new_id = dialog.new_id  # the same for every press while the dialog is open
        self._runner.run(lambda: production.create(ws, org, payload.project_id, payload.order,
                                                   new_id=new_id),
                         on_done=lambda _id: self._created(dialog),
                         on_error=lambda error: dialog.fail(describe_error(error)))

    def _created(self, dialog: ProductionOrderDialog) -> None:
        dialog.finish()
        self.reload()


class ProductionPanel(ProductionOrdersView):
    """The project page's "Production" tab: the project's production orders."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 project_id: uuid.UUID, formatter: Formatter,
                 parent: QWidget | None = None) -> None:
        super().__init__(runner, workspace, organization_id, formatter, project_id=project_id,
                         parent=parent)
