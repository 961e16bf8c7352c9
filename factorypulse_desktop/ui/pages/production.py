"""The Production area: every production order with filters (status, work center), the
selected order's operations, materials and events, and a Reports tab (weekly throughput,
scrap by work center and operation). "Open shop-floor station" starts the full-screen station
on this workstation.
"""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import production
from factorypulse_desktop.services.production import Choice, ScrapRow, ThroughputWeek
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.station.station_window import StationWindow
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.production_panel import (
    ProductionOrdersView,
    fill,
    make_table,
    qty,
    status_label,
)

__all__ = ["ProductionPage"]

PAGE_MARGIN = 24
STATUS_FILTERS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("Open orders", production.OPEN_STATUSES),
    *((status_label(s), (s,)) for s in production.STATUSES),
    ("All orders", None),
)


class ProductionPage(QWidget):
    """Production orders and reports for one organization."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page-production")
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self._formatter = formatter
        self.station: StationWindow | None = None
        self.throughput_rows: list[ThroughputWeek] = []
        self.scrap_rows: list[ScrapRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(PAGE_MARGIN, 18, PAGE_MARGIN, PAGE_MARGIN)
        head = QHBoxLayout()
        heading = QLabel(self.tr("Production"))
        heading.setObjectName("pageTitle")
        head.addWidget(heading)
        head.addStretch(1)
        self.station_button = QPushButton(self.tr("Open shop-floor station"))
        self.station_button.clicked.connect(self.open_station)
        head.addWidget(self.station_button)
        layout.addLayout(head)

        self.tabs = QTabWidget()
        orders_tab = QWidget()
        orders_layout = QVBoxLayout(orders_tab)
        filters = QHBoxLayout()
        self.status_filter = QComboBox()
        for words, statuses in STATUS_FILTERS:
            self.status_filter.addItem(words, statuses)
        self.center_filter = QComboBox()
        self.center_filter.addItem(self.tr("Every work center"), None)
        filters.addWidget(QLabel(self.tr("Show")))
        filters.addWidget(self.status_filter)
        filters.addWidget(QLabel(self.tr("at")))
        filters.addWidget(self.center_filter)
        filters.addStretch(1)
        orders_layout.addLayout(filters)
        self.orders = ProductionOrdersView(runner, workspace, organization_id, formatter,
                                           statuses=list(production.OPEN_STATUSES))
        orders_layout.addWidget(self.orders, 1)
        self.status_filter.currentIndexChanged.connect(self._filter)
        self.center_filter.currentIndexChanged.connect(self._filter)
        self.tabs.addTab(orders_tab, self.tr("Orders"))
        self.tabs.addTab(self._reports_tab(), self.tr("Reports"))
        self.tabs.currentChanged.connect(lambda i: self.load_reports() if i == 1 else None)
        layout.addWidget(self.tabs, 1)
        ws, org = workspace, organization_id
        runner.run(lambda: production.work_centers(ws, org), on_done=self._centers,
                   on_error=lambda e: self.banner.show_message(describe_error(e)))

    def _reports_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        self.banner = Banner()
        layout.addWidget(self.banner)
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Weeks")))
        self.weeks = QSpinBox()
        self.weeks.setRange(1, 104)
        self.weeks.setValue(12)
        bar.addWidget(self.weeks)
        refresh = QPushButton(self.tr("Refresh"))
        refresh.clicked.connect(self.load_reports)
        bar.addWidget(refresh)
        bar.addStretch(1)
        layout.addLayout(bar)
        layout.addWidget(QLabel(self.tr("Throughput per week")))
        self.throughput = make_table([self.tr("Week of"), self.tr("Orders completed"),
                                      self.tr("Good parts"), self.tr("Scrapped")])
        layout.addWidget(self.throughput, 1)
        layout.addWidget(QLabel(self.tr("Scrap by work center and operation (90 days)")))
        self.scrap = make_table([self.tr("Work center"), self.tr("Operation"),
                                 self.tr("Good"), self.tr("Scrapped"), self.tr("Scrap rate")])
        layout.addWidget(self.scrap, 1)
        return tab

    def _centers(self, centers: list[Choice]) -> None:
        for center in centers:
            self.center_filter.addItem(f"{center.code} — {center.name}", center.id)

    def _filter(self) -> None:
        statuses = self.status_filter.currentData()
        self.orders.statuses = list(statuses) if statuses else None
        self.orders.work_center = self.center_filter.currentData()
        self.orders.reload()

    def load_reports(self) -> None:
        ws, org, weeks = self._workspace, self.organization_id, self.weeks.value()

        def body() -> tuple[list[ThroughputWeek], list[ScrapRow]]:
            return production.throughput(ws, org, weeks), production.scrap(ws, org)

        self._runner.run(body, on_done=self._reports,
                         on_error=lambda e: self.banner.show_message(describe_error(e)),
                         key=f"production-reports-{id(self)}")

    def _reports(self, result: tuple[list[ThroughputWeek], list[ScrapRow]]) -> None:
        self.throughput_rows, self.scrap_rows = result
        fmt = self._formatter
        fill(self.throughput, [(fmt.date(w.week_start), str(w.orders_completed),
                                qty(w.good_quantity), qty(w.scrapped_quantity))
                               for w in reversed(self.throughput_rows)])
        fill(self.scrap, [(r.work_center, r.operation, qty(r.good_quantity),
                           qty(r.scrapped_quantity), f"{float(r.scrap_rate) * 100:.1f} %")
                          for r in self.scrap_rows])

    def open_station(self) -> None:
        if self.station is None:
            self.station = StationWindow(self._runner, self._workspace, self.organization_id,
                                         self._formatter)
            self.station.sig_closed.connect(lambda: setattr(self, "station", None))
        self.station.showFullScreen()
        self.station.activateWindow()

    # -- live and housekeeping ------------------------------------------------------------------

    def reload(self) -> None:
        self.orders.reload()
        if self.tabs.currentIndex() == 1:
            self.load_reports()

    def on_production_orders_changed(self, ids: list[uuid.UUID]) -> None:
        self.orders.schedule_reload(ids)

    def on_production_operations_changed(self, ids: list[uuid.UUID]) -> None:
        self.orders.schedule_reload(ids)

    def on_production_order_materials_changed(self, ids: list[uuid.UUID]) -> None:
        self.orders.schedule_reload(ids)

    def on_production_events_changed(self, ids: list[uuid.UUID]) -> None:
        self.orders.schedule_reload(ids)
