"""The Purchasing area: every purchase order, and the purchasing reports.

Orders: the shared `PurchaseOrdersPanel` (list, lines and receipts, the actions). Reports:
open orders (what is still to arrive, the most overdue first) and, per supplier, on-time
delivery and RFQ response rate. The reports are read when the tab is shown and after a
change made here; they are summaries, so they do not follow every live change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import purchase_orders as po_service
from factorypulse_desktop.services.purchase_orders import OpenOrder, SupplierPerformance
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.purchase_orders_panel import (
    PurchaseOrdersPanel,
    plain_table,
    status_label,
)

__all__ = ["PurchasingPage"]


@dataclass(frozen=True)
class Reports:
    open_orders: list[OpenOrder]
    suppliers: list[SupplierPerformance]


def _cell(text: str, right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)  # plain text
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class PurchasingPage(QWidget):
    """Purchase orders of the organization, with a Reports tab."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self._formatter = formatter
        self.reports: Reports | None = None
        layout = QVBoxLayout(self)
        title = QLabel(self.tr("Purchasing"))
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        self.tabs = QTabWidget()
        self.orders = PurchaseOrdersPanel(runner, workspace, organization_id, None, formatter)
        self.tabs.addTab(self.orders, self.tr("Orders"))
        self.tabs.addTab(self._build_reports(), self.tr("Reports"))
        self.tabs.currentChanged.connect(self._tab_changed)
        self.orders.sig_changed.connect(self._maybe_refresh_reports)
        layout.addWidget(self.tabs, 1)

    def _build_reports(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.reports_banner = Banner()
        layout.addWidget(self.reports_banner)
        head = QHBoxLayout()
        self.open_title = QLabel(self.tr("Open orders"))
        self.open_title.setObjectName("sectionTitle")
        head.addWidget(self.open_title)
        head.addStretch(1)
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.clicked.connect(self.load_reports)
        head.addWidget(self.refresh_button)
        layout.addLayout(head)
        self.open_table = plain_table([self.tr(c) for c in (
            "PO number", "Supplier", "Status", "Total", "Still to arrive", "Due", "Days late")])
        layout.addWidget(self.open_table, 1)
        suppliers_title = QLabel(self.tr("Suppliers: on-time delivery and response to RFQs"))
        suppliers_title.setObjectName("sectionTitle")
        layout.addWidget(suppliers_title)
        self.supplier_table = plain_table([self.tr(c) for c in (
            "Supplier", "Orders received", "On time", "On-time rate", "RFQs sent",
            "RFQs quoted", "Response rate")])
        layout.addWidget(self.supplier_table, 1)
        return page

    # -- reports ------------------------------------------------------------------------------

    def _tab_changed(self, index: int) -> None:
        if index == 1 and self.reports is None:
            self.load_reports()

    def _maybe_refresh_reports(self) -> None:
        if self.reports is not None:
            self.load_reports()

    def load_reports(self) -> None:
        org = self.organization_id
        self._runner.run(
            lambda: Reports(po_service.open_orders(self._workspace, org),
                            po_service.supplier_performance(self._workspace, org)),
            on_done=self._show_reports,
            on_error=lambda error: self.reports_banner.show_message(describe_error(error)),
            key=f"po-reports-{id(self)}")

    def _rate(self, value: Decimal | None) -> str:
        return "—" if value is None else f"{self._formatter.number(value, 1)} %"

    def _show_reports(self, reports: Reports) -> None:
        self.reports = reports
        fmt = self._formatter
        self.open_table.setRowCount(len(reports.open_orders))
        for r, o in enumerate(reports.open_orders):
            money = Formatter(fmt.locale.name(), o.currency)
            cells = (o.po_number, o.supplier_name, self.tr(status_label(o.status)),
                     money.money(o.total_amount), money.money(o.outstanding_amount),
                     fmt.date(o.due_date), str(o.days_late) if o.days_late else "")
            for c, text in enumerate(cells):
                self.open_table.setItem(r, c, _cell(text, right=c in (3, 4, 6)))
        self.supplier_table.setRowCount(len(reports.suppliers))
        for r, s in enumerate(reports.suppliers):
            cells = (s.supplier_name, str(s.orders_received), str(s.on_time),
                     self._rate(s.on_time_rate), str(s.rfqs_sent), str(s.rfqs_quoted),
                     self._rate(s.response_rate))
            for c, text in enumerate(cells):
                self.supplier_table.setItem(r, c, _cell(text, right=c > 0))

    # -- live updates (the orders tab follows them; reports are refreshed on demand) ---------

    def on_purchase_orders_changed(self, ids: list[uuid.UUID]) -> None:
        self.orders.on_purchase_orders_changed(ids)

    def on_purchase_order_lines_changed(self, ids: list[uuid.UUID]) -> None:
        self.orders.on_purchase_order_lines_changed(ids)
