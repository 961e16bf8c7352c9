"""The project page's "Supplier RFQs" tab: RFQs to suppliers, their quotes, compare, award.

New RFQ… makes one RFQ per ticked supplier (filtered by capability); Send marks the selected
drafts sent; Record quote… enters a supplier's answer; Compare quotes shows the quotes of the
selected RFQ's group side by side (cheapest and fastest marked) and awards one, which makes a
draft purchase order. Save RFQ as PDF… writes the document to send to the supplier.

All database work runs on the task runner; the database decides who may do what (only
procurement and management write RFQs) and the panel shows a refusal in words. Supplier
names, numbers and requirements are table items or plain-text labels (T-IN-10).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.services import supplier_rfqs
from factorypulse_desktop.services.supplier_rfqs import (
    Award,
    Comparison,
    DocumentChoice,
    QuoteRow,
    RfqRow,
    SupplierChoice,
)
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.dialogs.rfq_dialogs import (
    CompareQuotesDialog,
    NewRfqDialog,
    RecordQuoteDialog,
    money_in,
)
from factorypulse_desktop.ui.dialogs.submit_dialog import SubmitDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.documents_model import format_moment
from factorypulse_desktop.ui.printing.rfq_pdf import write_rfq_pdf
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner

__all__ = ["SupplierRfqsPanel"]

BUYERS = (Role.ADMIN, Role.MANAGEMENT, Role.PROCUREMENT)
STATUS_WORDS = {
    "draft": "Draft", "sent": "Sent", "viewed": "Viewed by supplier", "quoted": "Quoted",
    "declined": "Declined", "expired": "Expired", "cancelled": "Cancelled",
}


@dataclass(frozen=True)
class _Choices:
    suppliers: list[SupplierChoice]
    documents: list[DocumentChoice]


def _plain() -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # user text, never rich text (T-IN-10)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class SupplierRfqsPanel(QWidget):
    """Supplier RFQs and quotes of one project."""

    COLUMNS = ("Number", "Supplier", "Status", "Due", "Sent", "Quote total")

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 project_id: uuid.UUID, formatter: Formatter,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self.project_id = project_id
        self._formatter = formatter
        self.rfqs: list[RfqRow] = []
        self.loaded = False
        self.dialog: SubmitDialog | None = None
        self.compare_dialog: CompareQuotesDialog | None = None
        self.last_award: Award | None = None
        self.last_pdf: Path | None = None
        membership = workspace.identity.membership(organization_id)
        self._may_write = membership is not None and membership.role in BUYERS
        self._build()
        self.reload()

    # -- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
        self.banner = Banner()
        layout.addWidget(self.banner)
        head = QHBoxLayout()
        title = QLabel(self.tr("Supplier RFQs"))
        title.setObjectName("sectionTitle")
        head.addWidget(title)
        head.addStretch(1)
        self.new_button = QPushButton(self.tr("New RFQ…"))
        self.send_button = QPushButton(self.tr("Send"))
        self.quote_button = QPushButton(self.tr("Record quote…"))
        self.compare_button = QPushButton(self.tr("Compare quotes"))
        self.pdf_button = QPushButton(self.tr("Save RFQ as PDF…"))
        self.cancel_button = QPushButton(self.tr("Cancel RFQ"))
        self.new_button.setObjectName("primary")
        self.new_button.clicked.connect(self.new_rfq)
        self.send_button.clicked.connect(self.send_selected)
        self.quote_button.clicked.connect(self.record_quote)
        self.compare_button.clicked.connect(self.compare_quotes)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.cancel_button.clicked.connect(self.cancel_selected)
        for button in (self.new_button, self.send_button, self.quote_button,
                       self.compare_button, self.pdf_button, self.cancel_button):
            head.addWidget(button)
        layout.addLayout(head)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([self.tr(c) for c in self.COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.record_quote())
        layout.addWidget(self.table, 2)
        self.empty_label = QLabel(self.tr(
            "No RFQs yet. Ask suppliers for prices with New RFQ…"))
        self.empty_label.setObjectName("muted")
        layout.addWidget(self.empty_label)
        layout.addWidget(QLabel(self.tr("Requirements:")))
        self.requirements_label = _plain()
        layout.addWidget(self.requirements_label)
        self.documents_label = _plain()
        self.documents_label.setObjectName("muted")
        layout.addWidget(self.documents_label)
        layout.addStretch(1)
        self.new_button.setVisible(self._may_write)
        for button in (self.send_button, self.quote_button, self.cancel_button):
            button.setVisible(self._may_write)
        self._selection_changed()

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        ws, org, project = self._workspace, self.organization_id, self.project_id
        self._runner.run(lambda: supplier_rfqs.list_rfqs(ws, org, project),
                         on_done=self._loaded, on_error=self._show_error,
                         key=f"supplier-rfqs-panel-{id(self)}")

    def on_supplier_rfqs_changed(self, _ids: list[uuid.UUID]) -> None:
        """Live update (ChangeBus "supplier_rfqs")."""
        self.reload()

    def on_supplier_quotes_changed(self, _ids: list[uuid.UUID]) -> None:
        """Live update (ChangeBus "supplier_quotes"): the quote totals."""
        self.reload()

    def _loaded(self, rows: list[RfqRow]) -> None:
        selected = {r.id for r in self.selected_rfqs()}
        self.rfqs = rows
        fmt = self._formatter
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(rows))
        for r, rfq in enumerate(rows):
            cells = (rfq.rfq_number, rfq.supplier_name,
                     self.tr(STATUS_WORDS.get(rfq.status, rfq.status)), fmt.date(rfq.due_date),
                     format_moment(fmt, rfq.sent_at),
                     money_in(fmt, rfq.quote_total, rfq.quote_currency))
            for c, value in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(value))  # items are plain text
        for r, rfq in enumerate(rows):
            if rfq.id in selected:
                self.table.selectionModel().select(
                    self.table.model().index(r, 0),
                    self.table.selectionModel().SelectionFlag.Select
                    | self.table.selectionModel().SelectionFlag.Rows)
        self.table.blockSignals(False)
        self.empty_label.setVisible(not rows)
        self.loaded = True
        self._selection_changed()

    # -- selection ----------------------------------------------------------------------------

    def selected_rfqs(self) -> list[RfqRow]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.rfqs[r] for r in rows if r < len(self.rfqs)]

    def select_rfqs(self, ids: list[uuid.UUID]) -> None:
        self.table.clearSelection()
        model = self.table.selectionModel()
        for r, rfq in enumerate(self.rfqs):
            if rfq.id in ids:
                model.select(self.table.model().index(r, 0),
                             model.SelectionFlag.Select | model.SelectionFlag.Rows)

    def _selection_changed(self) -> None:
        chosen = self.selected_rfqs()
        one = chosen[0] if len(chosen) == 1 else None
        self.send_button.setEnabled(bool(chosen) and all(r.status == "draft" for r in chosen))
        self.quote_button.setEnabled(one is not None and one.status in ("sent", "viewed",
                                                                        "quoted"))
        self.cancel_button.setEnabled(bool(chosen) and all(
            r.status in ("draft", "sent", "viewed") for r in chosen))
        self.compare_button.setEnabled(bool(self.rfqs))
        self.pdf_button.setEnabled(one is not None)
        self.requirements_label.setText((one.requirements or "") if one else "")
        self.documents_label.setText(
            self.tr("Attached: {titles}").format(titles=", ".join(one.document_titles))
            if one and one.document_titles else "")

    # -- actions ------------------------------------------------------------------------------

    def new_rfq(self) -> None:
        ws, org, project = self._workspace, self.organization_id, self.project_id

        def read() -> _Choices:
            return _Choices(supplier_rfqs.list_suppliers(ws, org),
                            supplier_rfqs.list_project_documents(ws, org, project))

        def show(choices: _Choices) -> None:
            dialog = NewRfqDialog(choices.suppliers, choices.documents, self)
            group = dialog.new_id  # the same for every press while the dialog is open
            self._open(dialog, lambda draft: self._save(
                dialog, lambda: supplier_rfqs.create_rfqs(ws, org, project, draft,
                                                          group=group),
                self.tr("RFQs created as drafts. Check them, then Send.")))

        self._runner.run(read, on_done=show, on_error=self._show_error)

    def send_selected(self) -> None:
        chosen = [r for r in self.selected_rfqs() if r.status == "draft"]
        if chosen:
            self._move(chosen, "sent", self.tr("Sent: {numbers}. Save each as PDF to mail it."))

    def cancel_selected(self) -> None:
        chosen = self.selected_rfqs()
        if chosen:
            self._move(chosen, "cancelled", self.tr("Cancelled: {numbers}."))

    def _move(self, chosen: list[RfqRow], status: str, done_text: str) -> None:
        ws, org = self._workspace, self.organization_id

        def done(rows: list[RfqRow]) -> None:
            self.banner.show_message(done_text.format(
                numbers=", ".join(r.rfq_number for r in rows)), kind="ok", timeout_ms=6000)
            self.reload()

        def failed(error: BaseException) -> None:
            self._show_error(error)
            self.reload()

        self._runner.run(lambda: supplier_rfqs.move_rfqs(ws, org, chosen, status),
                         on_done=done, on_error=failed)

    def record_quote(self) -> None:
        chosen = self.selected_rfqs()
        if len(chosen) != 1 or chosen[0].status not in ("sent", "viewed", "quoted") \
                or not self._may_write:
            return
        rfq = chosen[0]
        dialog = RecordQuoteDialog(rfq, self._formatter, self)
        ws, org = self._workspace, self.organization_id
        quote_id = dialog.new_id  # the same for every press while the dialog is open
        self._open(dialog, lambda quote: self._save(
            dialog, lambda: supplier_rfqs.record_quote(ws, org, rfq, quote,
                                                       quote_id=quote_id),
            self.tr("Quote of {supplier} recorded.").format(supplier=rfq.supplier_name)))

    def compare_quotes(self) -> None:
        chosen = self.selected_rfqs()
        group = chosen[0].rfq_group if chosen and chosen[0].rfq_group else None
        ws, org, project = self._workspace, self.organization_id, self.project_id

        def read() -> Comparison:
            if group is not None:
                return supplier_rfqs.compare(ws, org, group=group)
            return supplier_rfqs.compare(ws, org, project_id=project)

        self._runner.run(read, on_done=self._show_comparison, on_error=self._show_error)

    def _show_comparison(self, comparison: Comparison) -> None:
        dialog = CompareQuotesDialog(comparison, self._formatter, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.award_button.setVisible(self._may_write)
        dialog.sig_award.connect(lambda quote: self._award(dialog, quote))
        self.compare_dialog = dialog
        dialog.show()

    def _award(self, dialog: CompareQuotesDialog, quote: QuoteRow) -> None:
        ws, org = self._workspace, self.organization_id

        def done(award: Award) -> None:
            self.last_award = award
            text = self.tr("Awarded to {supplier}: draft purchase order {po} created.").format(
                supplier=quote.supplier_name, po=award.po_number)
            dialog.awarded(text)
            self.banner.show_message(text, kind="ok", timeout_ms=10000)
            self.reload()

        def failed(error: BaseException) -> None:
            dialog.failed(describe_error(error))

        self._runner.run(lambda: supplier_rfqs.award(ws, org, quote), on_done=done,
                         on_error=failed)

    def save_pdf(self) -> None:
        chosen = self.selected_rfqs()
        if len(chosen) != 1:
            return
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Save RFQ as PDF"), f"{chosen[0].rfq_number}.pdf",
            self.tr("PDF documents (*.pdf)"))
        if path:
            self.save_pdf_to(chosen[0], Path(path))

    def save_pdf_to(self, rfq: RfqRow, path: Path) -> None:
        """Read the RFQ and write the PDF on a worker (Qt paints on any thread into a PDF;
        the file may sit on a slow network drive)."""
        ws, org, formatter = self._workspace, self.organization_id, self._formatter

        def body() -> Path:
            return write_rfq_pdf(supplier_rfqs.rfq_document(ws, org, rfq.id), path, formatter)

        def written(result: Path) -> None:
            self.last_pdf = result
            self.banner.show_message(self.tr("Saved {name}.").format(name=path.name),
                                     kind="ok", timeout_ms=6000)

        def failed(error: BaseException) -> None:
            if isinstance(error, OSError):
                self.banner.show_message(self.tr("The PDF could not be saved: {reason}").format(
                    reason=error.strerror or str(error)), kind="error")
            else:
                self._show_error(error)

        self._runner.run(body, on_done=written, on_error=failed)

    # -- helpers ------------------------------------------------------------------------------

    def _open(self, dialog: SubmitDialog, save: Callable[[Any], None]) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.sig_submitted.connect(save)
        self.dialog = dialog
        dialog.show()

    def _save(self, dialog: SubmitDialog, work: Callable[[], object], done_text: str) -> None:
        """Run `work`; the dialog closes when it worked and keeps its text when not."""

        def done(_result: object) -> None:
            dialog.finish()
            self.banner.show_message(done_text, kind="ok", timeout_ms=6000)
            self.reload()

        def failed(error: BaseException) -> None:
            dialog.fail(describe_error(error))

        self._runner.run(work, on_done=done, on_error=failed)

    def _show_error(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error), kind="error",
                                 action=self.tr("Retry"), on_action=self.reload)
