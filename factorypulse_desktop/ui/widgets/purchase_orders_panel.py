"""Purchase orders: the list, one order's lines and receipts, and what can be done with it.

Used by the Purchasing area (all orders) and by the project page's "Purchasing" tab (the
project's orders). Every database call runs on the task runner; the GUI thread only shows.
The database decides what is allowed (revision 0015) and its refusals are shown in words in
the banner. Everything a person typed is shown as plain text (T-IN-10): table items and
labels set to PlainText.

Dialogs and the file chooser are replaceable attributes (`ask_order`, `ask_receipt`,
`ask_pdf_path`, `ask_yes`), so tests answer them without a modal dialog.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.services import purchase_orders as po_service
from factorypulse_desktop.services.purchase_orders import (
    Choice,
    DraftLine,
    OrderDetail,
    OrderDraft,
    OrderRow,
    ReceiptEntry,
)
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.dialogs.purchase_order_dialogs import (
    OrderDialog,
    ReceiveDialog,
    quantity_text,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.printing.po_pdf import write_pdf
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.asking import ask_yes
from factorypulse_desktop.ui.widgets.banner import Banner

__all__ = ["PurchaseOrdersPanel", "status_label"]

STATUS_LABELS = {
    "draft": "Draft", "pending_approval": "Waiting for approval", "approved": "Approved",
    "sent": "Sent", "acknowledged": "Acknowledged", "partially_received": "Partly received",
    "received": "Received", "closed": "Closed", "cancelled": "Cancelled",
}
COLUMNS = ("PO number", "Supplier", "Project", "Status", "Total", "Due", "Received")
WRITERS = (Role.ADMIN, Role.MANAGEMENT, Role.PROCUREMENT)
RECEIVERS = (*WRITERS, Role.PRODUCTION)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


@dataclass(frozen=True)
class OrderRequest:
    """What the order dialog needs: suppliers, and the draft to start from."""

    suppliers: list[Choice]
    draft: OrderDraft
    title: str
    problem: str = ""


@dataclass(frozen=True)
class ReceiptRequest:
    detail: OrderDetail
    locations: list[Choice]
    typed: list[str] | None = None
    problem: str = ""


def _ask_order(parent: QWidget, request: OrderRequest) -> OrderDraft | None:
    dialog = OrderDialog(request.suppliers, request.draft, parent, title=request.title,
                         problem=request.problem)
    return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None


def _ask_receipt(parent: QWidget, request: ReceiptRequest
                 ) -> tuple[list[ReceiptEntry], list[str]] | None:
    dialog = ReceiveDialog(request.detail.order.po_number, request.detail.lines,
                           request.locations, parent, typed=request.typed,
                           problem=request.problem)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.value(), dialog.typed()


def _ask_pdf_path(parent: QWidget, suggested: str) -> Path | None:
    chosen, _filter = QFileDialog.getSaveFileName(parent, parent.tr("Save the purchase order"),
                                                  suggested, "PDF (*.pdf)")
    if not chosen:
        return None
    path = Path(chosen)
    return path if path.suffix.lower() == ".pdf" else path.with_suffix(".pdf")


def _item(text: str, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)  # table items are plain text
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def plain_table(headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


class PurchaseOrdersPanel(QWidget):
    """Orders of the organization, or of one project (`project_id`)."""

    sig_changed = Signal()
    """An order was created or moved here (the reports may want a refresh)."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 project_id: uuid.UUID | None, formatter: Formatter,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self.project_id = project_id
        self._formatter = formatter
        membership = workspace.identity.membership(organization_id)
        self._role = membership.role if membership else None
        self.rows: list[OrderRow] = []
        self.detail: OrderDetail | None = None
        self.loaded = False
        self._more = False
        self._receipt_client: uuid.UUID | None = None  # kept until that receipt is booked
        self.pending_order_id: uuid.UUID | None = None  # the new order's id (see _open_new)
        self.ask_order: Callable[[QWidget, OrderRequest], OrderDraft | None] = _ask_order
        self.ask_receipt: Callable[
            [QWidget, ReceiptRequest], tuple[list[ReceiptEntry], list[str]] | None
        ] = _ask_receipt
        self.ask_pdf_path: Callable[[QWidget, str], Path | None] = _ask_pdf_path
        self.ask_yes: Callable[[QWidget, str, str], bool] = ask_yes
        self._build()
        self.reload()

    # -- construction ---------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        self.banner = Banner()
        layout.addWidget(self.banner)
        bar = QHBoxLayout()
        self.status_filter = QComboBox()
        self.status_filter.addItem(self.tr("All statuses"), None)
        self.status_filter.addItem(self.tr("Open"), "open")
        for key, words in STATUS_LABELS.items():
            self.status_filter.addItem(self.tr(words), key)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.reload())
        bar.addWidget(self.status_filter)
        bar.addStretch(1)
        self.new_button = QPushButton(self.tr("New order…"))
        self.new_button.setObjectName("primary")
        self.edit_button = QPushButton(self.tr("Edit draft…"))
        self.submit_button = QPushButton(self.tr("Submit for approval"))
        self.sent_button = QPushButton(self.tr("Mark sent"))
        self.ack_button = QPushButton(self.tr("Acknowledged"))
        self.receive_button = QPushButton(self.tr("Receive…"))
        self.close_button = QPushButton(self.tr("Close"))
        self.cancel_button = QPushButton(self.tr("Cancel order"))
        self.pdf_button = QPushButton(self.tr("Save PDF…"))
        # Two rows, so that every button keeps its words at 1280 px: the everyday steps
        # first, then the rarer ones.
        second = QHBoxLayout()
        second.addStretch(1)
        for row, button, slot in ((bar, self.new_button, self.new_order),
                                  (bar, self.edit_button, self.edit_draft),
                                  (bar, self.submit_button, self.submit),
                                  (bar, self.sent_button, self.mark_sent),
                                  (bar, self.receive_button, self.receive),
                                  (second, self.ack_button, self.acknowledge),
                                  (second, self.pdf_button, self.save_pdf),
                                  (second, self.close_button, self.close_order),
                                  (second, self.cancel_button, self.cancel_order)):
            button.clicked.connect(slot)
            row.addWidget(button)
        layout.addLayout(bar)
        layout.addLayout(second)

        split = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        self.table = plain_table([self.tr(c) for c in COLUMNS])
        self.table.itemSelectionChanged.connect(self._selected)
        top_layout.addWidget(self.table, 1)
        self.more_button = QPushButton(self.tr("Show more"))
        self.more_button.clicked.connect(self.load_more)
        self.more_button.hide()
        top_layout.addWidget(self.more_button)
        split.addWidget(top)

        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.PlainText)  # supplier names are user text
        self.heading.setObjectName("sectionTitle")
        self.facts = QLabel()
        self.facts.setTextFormat(Qt.TextFormat.PlainText)
        self.facts.setWordWrap(True)
        self.lines_table = plain_table([self.tr(c) for c in (
            "#", "Item code", "Item", "Quantity", "Unit", "Unit price", "Amount", "Received")])
        self.receipts = QLabel()
        self.receipts.setTextFormat(Qt.TextFormat.PlainText)
        self.receipts.setWordWrap(True)
        bottom_layout.addWidget(self.heading)
        bottom_layout.addWidget(self.facts)
        bottom_layout.addWidget(self.lines_table, 1)
        bottom_layout.addWidget(self.receipts)
        split.addWidget(bottom)
        layout.addWidget(split, 1)
        self._show_detail(None)

    # -- reading --------------------------------------------------------------------------

    def _statuses(self) -> list[str] | None:
        chosen = self.status_filter.currentData()
        if chosen is None:
            return None
        return list(po_service.OPEN_STATUSES) if chosen == "open" else [str(chosen)]

    def reload(self) -> None:
        org, project, statuses = self.organization_id, self.project_id, self._statuses()
        self._runner.run(
            lambda: po_service.list_orders(self._workspace, org, statuses=statuses,
                                           project_id=project),
            on_done=self._show_rows, on_error=self._failed, key=f"po-list-{id(self)}")

    def load_more(self) -> None:
        if not self.rows:
            return
        org, project, statuses = self.organization_id, self.project_id, self._statuses()
        after = self.rows[-1].cursor
        self._runner.run(
            lambda: po_service.list_orders(self._workspace, org, statuses=statuses,
                                           project_id=project, after=after),
            on_done=lambda rows: self._show_rows(self.rows + rows, more=len(rows)),
            on_error=self._failed)

    def _show_rows(self, rows: list[OrderRow], more: int | None = None) -> None:
        selected = self.selected_id()
        self.rows = rows
        page = more if more is not None else len(rows)
        self._more = page >= po_service.PAGE
        self.more_button.setVisible(self._more)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            money = Formatter(self._formatter.locale.name(), row.currency)
            cells = (row.po_number, row.supplier_name, row.project_number or "",
                     self.tr(status_label(row.status)), money.money(row.total_amount),
                     self._formatter.date(row.due_date),
                     f"{self._formatter.number(row.received_percent, 0)} %")
            for c, value in enumerate(cells):
                self.table.setItem(r, c, _item(value, align_right=c in (4, 6)))
        self.loaded = True
        if selected is not None:
            self.select(selected)
        self._update_buttons()

    def selected_id(self) -> uuid.UUID | None:
        row = self.table.currentRow()
        return self.rows[row].id if 0 <= row < len(self.rows) and self.table.selectedItems() \
            else None

    def selected_row(self) -> OrderRow | None:
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) and self.table.selectedItems() \
            else None

    def select(self, po: uuid.UUID) -> None:
        for r, row in enumerate(self.rows):
            if row.id == po:
                self.table.selectRow(r)
                return

    def _selected(self) -> None:
        po = self.selected_id()
        self._update_buttons()
        if po is None:
            self._show_detail(None)
            return
        org = self.organization_id
        self._runner.run(lambda: po_service.detail(self._workspace, org, po),
                         on_done=self._show_detail, on_error=self._failed,
                         key=f"po-detail-{id(self)}")

    def _show_detail(self, detail: OrderDetail | None) -> None:
        self.detail = detail
        if detail is None:
            self.heading.setText(self.tr("Choose an order to see its lines."))
            self.facts.clear()
            self.lines_table.setRowCount(0)
            self.receipts.clear()
            self._update_buttons()
            return
        order = detail.order
        money = Formatter(self._formatter.locale.name(), order.currency)
        self.heading.setText(f"{order.po_number} — {order.supplier_name}")
        facts = [f"{self.tr('Status')}: {self.tr(status_label(order.status))}",
                 f"{self.tr('Total')}: {money.money(order.total_amount)}",
                 f"{self.tr('Due')}: {self._formatter.date(order.due_date) or '—'}"]
        if order.project_number:
            facts.append(f"{self.tr('Project')}: {order.project_number}")
        if detail.created_by:
            facts.append(f"{self.tr('Created by')}: {detail.created_by}")
        if detail.notes:
            facts.append(f"{self.tr('Notes')}: {detail.notes}")
        self.facts.setText("   ·   ".join(facts))
        self.lines_table.setRowCount(len(detail.lines))
        for r, line in enumerate(detail.lines):
            cells = (str(line.line_no), line.item_code or "", line.item_name,
                     quantity_text(line.quantity), line.unit, money.money(line.unit_price),
                     money.money(line.total_price), quantity_text(line.quantity_received))
            for c, value in enumerate(cells):
                self.lines_table.setItem(r, c, _item(value, align_right=c in (3, 5, 6, 7)))
        if detail.receipts:
            said = [self.tr("Receipts:")]
            for receipt in detail.receipts:
                parts = ", ".join(f"{quantity_text(q)} {unit} {name}"
                                  for _no, name, q, unit in receipt.lines)
                said.append(f"{self._formatter.date(receipt.at.date())} "
                            f"{receipt.by or ''}: {parts}")
            self.receipts.setText("\n".join(said))
        else:
            self.receipts.setText(self.tr("Nothing received yet."))
        self._update_buttons()

    def _update_buttons(self) -> None:
        writer = self._role in WRITERS
        row = self.selected_row()
        status = row.status if row else None
        self.new_button.setEnabled(writer)
        self.edit_button.setEnabled(writer and status == "draft")
        self.submit_button.setEnabled(writer and status == "draft")
        self.sent_button.setEnabled(writer and status == "approved")
        self.ack_button.setEnabled(writer and status == "sent")
        self.receive_button.setEnabled(self._role in RECEIVERS and status in (
            "sent", "acknowledged", "partially_received") and self.detail is not None)
        self.close_button.setEnabled(writer and status in ("partially_received", "received"))
        self.cancel_button.setEnabled(writer and status in (
            "draft", "pending_approval", "approved", "sent", "acknowledged"))
        self.pdf_button.setEnabled(row is not None)

    # -- live updates -----------------------------------------------------------------------

    def on_purchase_orders_changed(self, ids: list[uuid.UUID]) -> None:
        """Orders changed somewhere (change_log): refresh the list and the open order."""
        if not self.loaded:
            return
        self.reload()
        if self.detail is not None and self.detail.order.id in ids:
            self._selected()

    def on_purchase_order_lines_changed(self, ids: list[uuid.UUID]) -> None:
        """Lines changed: the open order's lines (ids are line ids, so just re-read it)."""
        if self.detail is not None:
            self._selected()

    # -- actions --------------------------------------------------------------------------

    def _failed(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error))

    def _done(self, message: str, po: uuid.UUID | None = None) -> None:
        self.banner.show_message(message, kind="ok", timeout_ms=6000)
        self.reload()
        if po is not None and po == self.selected_id():
            self._selected()
        self.sig_changed.emit()

    def new_order(self) -> None:
        org, project = self.organization_id, self.project_id

        def prepare() -> OrderRequest:
            suppliers = po_service.suppliers(self._workspace, org)
            return OrderRequest(suppliers, OrderDraft(
                po_number="", supplier_id=suppliers[0].id if suppliers else None,
                project_id=project, currency=self._formatter.currency),
                self.tr("New purchase order"))

        self._runner.run(prepare, on_done=self._open_new, on_error=self._failed)

    def _open_new(self, request: OrderRequest, new_id: uuid.UUID | None = None) -> None:
        # The new order's id, chosen when the form first opens and kept while it is shown
        # again after a failed save: Save pressed again after a lost answer sends the same
        # id, so the database recognizes a draft it already stored (T-NET-03).
        po_id = new_id or uuid.uuid4()
        self.pending_order_id = po_id
        draft = self.ask_order(self, request)
        if draft is None:
            self.pending_order_id = None
            return
        org = self.organization_id
        self._runner.run(
            lambda: po_service.create_draft(self._workspace, org, draft, new_id=po_id),
            on_done=lambda po: self._created(po, draft),
            on_error=lambda error: self._open_new(OrderRequest(
                request.suppliers, draft, request.title, describe_error(error)), po_id))

    def _created(self, po: uuid.UUID, draft: OrderDraft) -> None:
        self.pending_order_id = None
        self._done(self.tr("Draft %1 saved.").replace("%1", draft.po_number))

    def edit_draft(self) -> None:
        detail = self.detail
        if detail is None or detail.order.status != "draft":
            return
        org = self.organization_id
        draft = OrderDraft(
            po_number=detail.order.po_number, supplier_id=detail.order.supplier_id,
            project_id=detail.order.project_id, currency=detail.order.currency,
            due_date=detail.order.due_date, priority=detail.priority, notes=detail.notes,
            lines=tuple(DraftLine(line.item_name, quantity_text(line.quantity),
                                  f"{line.unit_price.normalize():f}", line.unit,
                                  line.inventory_item_id, line.description, line.item_code)
                        for line in detail.lines))
        self._runner.run(
            lambda: OrderRequest(po_service.suppliers(self._workspace, org), draft,
                                 self.tr("Edit draft %1").replace("%1", draft.po_number)),
            on_done=lambda request: self._open_edit(request, detail), on_error=self._failed)

    def _open_edit(self, request: OrderRequest, detail: OrderDetail) -> None:
        draft = self.ask_order(self, request)
        if draft is None:
            return
        org, po, version = self.organization_id, detail.order.id, detail.order.version

        def retry(error: BaseException) -> None:
            if isinstance(error, po_service.PurchaseOrderConflictError):
                self.banner.show_message(describe_error(error))  # theirs wins; reload
                self.reload()
                return
            self._open_edit(OrderRequest(request.suppliers, draft, request.title,
                                         describe_error(error)), detail)

        self._runner.run(
            lambda: po_service.save_draft(self._workspace, org, po, version, draft),
            on_done=lambda _v: self._done(self.tr("Draft %1 saved.").replace(
                "%1", draft.po_number), po),
            on_error=retry)

    def _act(self, fn: Callable[[Workspace, uuid.UUID, uuid.UUID, int], object],
             message: str) -> None:
        row = self.selected_row()
        if row is None:
            return
        org = self.organization_id
        self._runner.run(lambda: fn(self._workspace, org, row.id, row.version),
                         on_done=lambda _r: self._done(message.replace("%1", row.po_number),
                                                       row.id),
                         on_error=self._failed)

    def submit(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        org = self.organization_id
        self._runner.run(lambda: po_service.submit(self._workspace, org, row.id, row.version),
                         on_done=lambda status: self._submitted(row, str(status)),
                         on_error=self._failed)

    def _submitted(self, row: OrderRow, status: str) -> None:
        words = (self.tr("%1 is approved: it is below every approval threshold.")
                 if status == "approved" else
                 self.tr("%1 waits for approval; you will be told the decision."))
        self._done(words.replace("%1", row.po_number), row.id)

    def mark_sent(self) -> None:
        self._act(po_service.mark_sent, self.tr("%1 is marked as sent to the supplier."))

    def acknowledge(self) -> None:
        self._act(po_service.acknowledge, self.tr("%1: the supplier's confirmation is noted."))

    def close_order(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        if row.status == "partially_received" and not self.ask_yes(
                self, self.tr("Close order"),
                self.tr("Close %1 although not everything arrived? The rest will not be "
                        "received on it.").replace("%1", row.po_number)):
            return
        self._act(po_service.close, self.tr("%1 is closed."))

    def cancel_order(self) -> None:
        row = self.selected_row()
        if row is None or not self.ask_yes(self, self.tr("Cancel order"), self.tr(
                "Cancel %1? It stays on record as cancelled.").replace("%1", row.po_number)):
            return
        self._act(po_service.cancel, self.tr("%1 is cancelled."))

    def receive(self) -> None:
        detail = self.detail
        if detail is None:
            return
        org = self.organization_id
        self._receipt_client = uuid.uuid4()
        self._runner.run(lambda: ReceiptRequest(detail, po_service.locations(
            self._workspace, org)), on_done=self._open_receipt, on_error=self._failed)

    def _open_receipt(self, request: ReceiptRequest) -> None:
        answer = self.ask_receipt(self, request)
        if answer is None:
            return
        entries, typed = answer
        org, po = self.organization_id, request.detail.order.id
        client = self._receipt_client or uuid.uuid4()
        self._receipt_client = client  # the same id if this receipt is sent again

        def booked(status: str) -> None:
            self._receipt_client = None
            self._done(self.tr("Received on %1; it is now %2.").replace(
                "%1", request.detail.order.po_number).replace(
                "%2", self.tr(status_label(status)).lower()), po)

        self._runner.run(
            lambda: po_service.receive(self._workspace, org, po, entries, client),
            on_done=booked,
            on_error=lambda error: self._open_receipt(ReceiptRequest(
                request.detail, request.locations, typed, describe_error(error))))

    def save_pdf(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        path = self.ask_pdf_path(self, f"{row.po_number}.pdf")
        if path is None:
            return
        ws, org, formatter = self._workspace, self.organization_id, self._formatter

        def body() -> None:  # on a worker: the file may sit on a slow network drive
            write_pdf(po_service.printable(ws, org, row.id), path, formatter)

        self._runner.run(body, on_done=lambda _r: self._pdf_written(path),
                         on_error=self._failed)

    def _pdf_written(self, path: Path) -> None:
        self.banner.show_message(self.tr("Saved %1.").replace("%1", str(path)), kind="ok",
                                 timeout_ms=6000)
