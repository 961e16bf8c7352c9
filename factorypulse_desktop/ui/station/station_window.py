"""The shop-floor station: a full-screen window for a workstation with a barcode scanner.

One scan field keeps the focus: a scanner types the code and Enter. An operation code opens
the operation (order, operation, work center, quantities); Start / Pause / Complete act on
it (F1 / F2 / F3, or touch: every button is at least 64 px high). Complete asks for the good
and scrapped quantities on a keypad (or the keyboard: Enter moves on, Esc cancels); a scanned
item asks for the quantity to issue to the opened order; a scanned badge names the operator,
who is recorded on every event after it.

Every action is a `StationEvent` sent on the task runner. When the database cannot be
reached the event goes to the offline outbox (`services.outbox`), the status line shows
"Not yet synced: N", and a timer on the runner replays the outbox every few seconds until
the database is back; conflicts found on replay are shown in words.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import production, station
from factorypulse_desktop.services.outbox import Outbox, ReplayReport, outbox_path
from factorypulse_desktop.services.station import (
    BadgeView,
    Booked,
    ItemView,
    OperationView,
    Scan,
    StationEvent,
    StationOffline,
)
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner

__all__ = ["StationWindow"]

TOUCH_HEIGHT = 72  # ≥ 64 px: a gloved finger hits it
POLL_MS = 5000
STATUS_WORDS = {"pending": "Not started", "in_progress": "Running", "paused": "Paused",
                "completed": "Completed", "skipped": "Skipped", "planned": "Planned",
                "released": "Released", "on_hold": "On hold", "cancelled": "Cancelled"}
STYLE = """
QWidget#station { font-size: 20px; }
QLineEdit#scanField { font-size: 30px; padding: 10px; }
QLineEdit#quantityField { font-size: 28px; padding: 8px; }
QLabel#stationOrder { font-size: 30px; font-weight: 600; }
QLabel#stationOperation { font-size: 26px; }
QPushButton { font-size: 24px; }
"""


@dataclass(frozen=True)
class _Sent:
    booked: Booked | None  # None: queued offline
    view: OperationView | None  # the operation as it is now (None when offline)
    pending: int


def _plain(name: str = "") -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # codes and names are user text (T-IN-10)
    label.setWordWrap(True)
    if name:
        label.setObjectName(name)
    return label


def _qty(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value.normalize():f}"


class _QuantityPanel(QFrame):
    """Good and scrap quantities (or one quantity to issue) by keypad or keyboard."""

    sig_confirmed = Signal(object, object)  # good (or issue) quantity, scrap quantity
    sig_cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quantityPanel")
        layout = QHBoxLayout(self)
        fields = QGridLayout()
        self.title = _plain("stationOperation")
        fields.addWidget(self.title, 0, 0, 1, 2)
        self.good_label = QLabel(self.tr("Good"))
        self.good = QLineEdit()
        self.scrap_label = QLabel(self.tr("Scrap"))
        self.scrap = QLineEdit()
        for row, (label, field) in enumerate(((self.good_label, self.good),
                                              (self.scrap_label, self.scrap)), start=1):
            field.setObjectName("quantityField")
            field.setMinimumHeight(TOUCH_HEIGHT)
            label.setBuddy(field)
            fields.addWidget(label, row, 0)
            fields.addWidget(field, row, 1)
        self.good.returnPressed.connect(self._next)
        self.scrap.returnPressed.connect(self._confirm)
        self.error = _plain()
        fields.addWidget(self.error, 3, 0, 1, 2)
        self.ok_button = QPushButton(self.tr("OK (Enter)"))
        self.ok_button.setObjectName("primary")
        self.cancel_button = QPushButton(self.tr("Cancel (Esc)"))
        for button in (self.ok_button, self.cancel_button):
            button.setMinimumHeight(TOUCH_HEIGHT)
        self.ok_button.clicked.connect(self._confirm)
        self.cancel_button.clicked.connect(self.sig_cancelled)
        fields.addWidget(self.ok_button, 4, 0)
        fields.addWidget(self.cancel_button, 4, 1)
        layout.addLayout(fields, 1)
        keypad = QGridLayout()
        for n, key in enumerate("789456123.0⌫"):
            button = QPushButton(key)
            button.setMinimumSize(TOUCH_HEIGHT, TOUCH_HEIGHT)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the field
            button.clicked.connect(lambda _=False, k=key: self._key(k))
            keypad.addWidget(button, n // 3, n % 3)
        layout.addLayout(keypad)
        self._with_scrap = True

    def ask(self, title: str, *, with_scrap: bool, first_label: str) -> None:
        self._with_scrap = with_scrap
        self.title.setText(title)
        self.good_label.setText(first_label)
        self.scrap_label.setVisible(with_scrap)
        self.scrap.setVisible(with_scrap)
        self.good.clear()
        self.scrap.clear()
        self.error.clear()
        self.show()
        self.good.setFocus()

    def _field(self) -> QLineEdit:
        return self.scrap if self.scrap.hasFocus() else self.good

    def _key(self, key: str) -> None:
        field = self._field()
        if key == "⌫":
            field.backspace()
        else:
            field.insert(key)

    def _next(self) -> None:
        if self._with_scrap:
            self.scrap.setFocus()
        else:
            self._confirm()

    def _confirm(self) -> None:
        try:
            good = production.quantity(self.good.text() or "0", self.good_label.text()) \
                if self.good.text().strip() not in ("", "0") else Decimal(0)
            scrap = production.quantity(self.scrap.text(), self.tr("Scrap")) \
                if self._with_scrap and self.scrap.text().strip() not in ("", "0") \
                else Decimal(0)
        except UserFacingError as error:
            self.error.setText(str(error))  # what was typed stays
            return
        if not self._with_scrap and good <= 0:
            self.error.setText(self.tr("Enter a quantity above zero."))
            return
        self.sig_confirmed.emit(good, scrap)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.sig_cancelled.emit()
            return
        super().keyPressEvent(event)


class StationWindow(QWidget):
    """The station for one organization; show it with ``showFullScreen()``."""

    sig_closed = Signal()

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter, *, outbox: Outbox | None = None, poll_ms: int = POLL_MS,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("station")
        self.setWindowTitle(self.tr("Factory Pulse — Shop-floor station"))
        self.setStyleSheet(STYLE)
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self._formatter = formatter
        self.outbox = outbox or Outbox(outbox_path(workspace.profile.name, organization_id))
        self.operation: OperationView | None = None
        self.operator: BadgeView | None = None
        self.unverified_badge: str | None = None
        self.pending = 0
        self._pending_item: ItemView | None = None
        self._replaying = False
        self._build()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.sync)
        self._timer.start(max(200, poll_ms))
        self._refresh_pending()

    # -- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        layout.setSpacing(12)
        head = QHBoxLayout()
        title = QLabel(self.tr("Shop-floor station"))
        title.setObjectName("pageTitle")
        head.addWidget(title)
        head.addStretch(1)
        self.operator_label = _plain()
        self.operator_label.setText(self.tr("Operator: scan your badge"))
        head.addWidget(self.operator_label)
        layout.addLayout(head)
        self.sync_label = _plain()
        layout.addWidget(self.sync_label)
        self.banner = Banner()
        layout.addWidget(self.banner)

        self.scan_field = QLineEdit()
        self.scan_field.setObjectName("scanField")
        self.scan_field.setPlaceholderText(self.tr("Scan an operation, item or badge — or type "
                                                   "its code and press Enter"))
        self.scan_field.setMinimumHeight(TOUCH_HEIGHT)
        self.scan_field.returnPressed.connect(self._scanned)
        layout.addWidget(self.scan_field)

        self.order_label = _plain("stationOrder")
        self.operation_label = _plain("stationOperation")
        self.center_label = _plain()
        self.quantities_label = _plain()
        self.order_label.setText(self.tr("Scan an operation code to begin."))
        for label in (self.order_label, self.operation_label, self.center_label,
                      self.quantities_label):
            layout.addWidget(label)

        buttons = QHBoxLayout()
        self.start_button = QPushButton(self.tr("Start (F1)"))
        self.pause_button = QPushButton(self.tr("Pause (F2)"))
        self.complete_button = QPushButton(self.tr("Complete (F3)"))
        self.complete_button.setObjectName("primary")
        for button, key, slot in ((self.start_button, "F1", self.start),
                                  (self.pause_button, "F2", self.pause),
                                  (self.complete_button, "F3", self.ask_complete)):
            button.setMinimumHeight(TOUCH_HEIGHT)
            button.clicked.connect(slot)
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(slot)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        # Leaving the station is deliberate (not a stray key on the shop floor).
        leave = QShortcut(QKeySequence("Ctrl+Shift+Q"), self)
        leave.activated.connect(self.close)

        self.quantity_panel = _QuantityPanel()
        self.quantity_panel.sig_confirmed.connect(self._quantities_given)
        self.quantity_panel.sig_cancelled.connect(self._quantities_cancelled)
        self.quantity_panel.hide()
        layout.addWidget(self.quantity_panel)
        layout.addStretch(1)
        self._show_operation()
        self.scan_field.setFocus()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._focus_scan()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        self.sig_closed.emit()
        super().closeEvent(event)

    # -- scanning -------------------------------------------------------------------------------

    def _focus_scan(self) -> None:
        if not self.quantity_panel.isVisible():
            self.scan_field.setFocus()

    def _scanned(self) -> None:
        code = self.scan_field.text()
        self.scan_field.clear()
        if not code.strip():
            return
        ws, org = self._workspace, self.organization_id
        self._runner.run(lambda: station.open_by_code(ws, org, code),
                         on_done=self._opened,
                         on_error=lambda error: self._scan_failed(code, error), key="scan")

    def _opened(self, scan: Scan) -> None:
        self.banner.hide()
        if isinstance(scan, OperationView):
            self.operation = scan
            self._show_operation()
        elif isinstance(scan, BadgeView):
            self.operator, self.unverified_badge = scan, None
            self.operator_label.setText(self.tr("Operator: {name}").format(name=scan.name))
        elif isinstance(scan, ItemView):
            self._ask_issue(scan)
        self._focus_scan()

    def _scan_failed(self, code: str, error: BaseException) -> None:
        text = code.strip()
        if isinstance(error, StationOffline) and text.upper().startswith("BD:") and text[3:]:
            # Offline a badge cannot be checked; it is recorded and checked on replay.
            self.operator, self.unverified_badge = None, text[3:].strip()
            self.operator_label.setText(self.tr("Operator: badge {badge} (not checked yet)")
                                        .format(badge=self.unverified_badge))
        else:
            self.banner.show_message(describe_error(error))
        self._focus_scan()

    # -- actions ------------------------------------------------------------------------------

    def start(self) -> None:
        self._act("start", self.tr("Start"))

    def pause(self) -> None:
        self._act("pause", self.tr("Pause"))

    def ask_complete(self) -> None:
        if self._need_operation():
            return
        assert self.operation is not None
        self.quantity_panel.ask(self.tr("Complete {code}: how many good, how many scrapped?")
                                .format(code=self.operation.code),
                                with_scrap=True, first_label=self.tr("Good"))

    def _ask_issue(self, item: ItemView) -> None:
        if self._need_operation():
            return
        assert self.operation is not None
        self._pending_item = item
        self.quantity_panel.ask(
            self.tr("Issue {code} {name} ({unit}) to {order}: how many?").format(
                code=item.item_code, name=item.item_name, unit=item.unit,
                order=self.operation.production_number),
            with_scrap=False, first_label=self.tr("Quantity"))

    def _quantities_given(self, good: Decimal, scrap: Decimal) -> None:
        item, self._pending_item = self._pending_item, None
        self.quantity_panel.hide()
        if item is not None:
            self._act("issue", self.tr("Issue {code}").format(code=item.item_code),
                      quantity=good, item=item)
        else:
            self._act("complete", self.tr("Complete"), quantity=good, scrap=scrap)
        self._focus_scan()

    def _quantities_cancelled(self) -> None:
        self._pending_item = None
        self.quantity_panel.hide()
        self._focus_scan()

    def _need_operation(self) -> bool:
        if self.operation is None:
            self.banner.show_message(self.tr("Scan an operation code first."), kind="warning")
            self._focus_scan()
            return True
        return False

    def _act(self, action: str, words: str, *, quantity: Decimal | None = None,
             scrap: Decimal | None = None, item: ItemView | None = None) -> None:
        if self._need_operation():
            return
        assert self.operation is not None
        view = self.operation
        badge = self.operator.badge if self.operator else self.unverified_badge
        event = StationEvent(
            action, view.order_id, None if item else view.operation_id, quantity=quantity,
            scrap=scrap or None, item_id=item.item_id if item else None,
            location_id=item.default_location_id if item else None, badge=badge,
            label=f"{words} {view.code}")
        ws, org, box = self._workspace, self.organization_id, self.outbox

        def body() -> _Sent:
            try:
                booked = station.send(ws, org, event)
            except StationOffline:
                box.append(event)
                return _Sent(None, None, box.pending_count())
            try:
                fresh = station.open_by_code(ws, org, view.code)
            except UserFacingError:
                fresh = None
            return _Sent(booked, fresh if isinstance(fresh, OperationView) else None,
                         box.pending_count())

        self._runner.run(body, on_done=lambda sent: self._sent(event, sent),
                         on_error=self._action_failed)
        self._focus_scan()

    def _sent(self, event: StationEvent, sent: _Sent) -> None:
        self._set_pending(sent.pending)
        if sent.booked is None:
            self.banner.show_message(
                self.tr("The database cannot be reached. “{what}” is saved on this station and "
                        "will be sent when the connection is back.").format(what=event.label),
                kind="warning")
        else:
            self.banner.show_message(self.tr("Done: {what}.").format(what=event.label),
                                     kind="ok", timeout_ms=4000)
        if sent.view is not None and self.operation is not None \
                and sent.view.operation_id == self.operation.operation_id:
            self.operation = sent.view
            self._show_operation()
        self._focus_scan()

    def _action_failed(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error))
        self._focus_scan()

    # -- the offline outbox -----------------------------------------------------------------------

    def sync(self) -> None:
        """Replay queued events (on the runner) when there are any; the timer calls this."""
        if self._replaying:
            return
        self._replaying = True
        ws, org, box = self._workspace, self.organization_id, self.outbox

        def body() -> ReplayReport | None:
            if box.pending_count() == 0:
                return None
            return box.replay(ws, org)

        self._runner.run(body, on_done=self._synced, on_error=self._sync_failed)

    def _synced(self, report: ReplayReport | None) -> None:
        self._replaying = False
        if report is None:
            self._set_pending(0)
            return
        self._set_pending(report.remaining)
        if report.conflicts:
            lines = [f"{c.event.label or c.event.action}: {c.message}" for c in report.conflicts]
            self.banner.show_message(
                self.tr("Sent when the connection came back, but refused:\n{lines}")
                .format(lines="\n".join(lines)))
        elif report.applied and not report.remaining:
            self.banner.show_message(self.tr("Back online: every queued event was sent."),
                                     kind="ok", timeout_ms=5000)
            if self.operation is not None:
                self._reopen()

    def _sync_failed(self, error: BaseException) -> None:
        self._replaying = False
        self.banner.show_message(describe_error(error))

    def _reopen(self) -> None:
        if self.operation is None:
            return
        ws, org, code = self._workspace, self.organization_id, self.operation.code
        self._runner.run(lambda: station.open_by_code(ws, org, code), on_done=self._opened,
                         on_error=lambda _e: None, key="reopen")

    def _refresh_pending(self) -> None:
        box = self.outbox
        self._runner.run(box.pending_count, on_done=self._set_pending, key="pending")

    def _set_pending(self, count: int) -> None:
        self.pending = count
        self.sync_label.setText(self.tr("Not yet synced: {n}").format(n=count) if count
                                else self.tr("All events are synced."))
        self.sync_label.setStyleSheet("font-weight: 600;" if count else "")

    # -- the opened operation -------------------------------------------------------------------

    def _show_operation(self) -> None:
        view = self.operation
        enabled = view is not None
        for button in (self.start_button, self.pause_button, self.complete_button):
            button.setEnabled(enabled)
        if view is None:
            return
        words = STATUS_WORDS.get
        self.order_label.setText(self.tr("Order {number} — {status}").format(
            number=view.production_number, status=words(view.order_status, view.order_status)))
        self.operation_label.setText(self.tr("Operation {seq} of {total}: {name} — {status}")
                                     .format(seq=view.sequence, total=view.operations_total,
                                             name=view.operation_name,
                                             status=words(view.operation_status,
                                                          view.operation_status)))
        self.center_label.setText(self.tr("Work center: {name}").format(
            name=view.work_center or self.tr("none")))
        self.quantities_label.setText(self.tr("Quantity {qty} · made {good} · scrapped {scrap}")
                                      .format(qty=_qty(view.order_quantity),
                                              good=_qty(view.completed_quantity),
                                              scrap=_qty(view.scrapped_quantity)))
        self.start_button.setText(self.tr("Resume (F1)") if view.operation_status == "paused"
                                  else self.tr("Start (F1)"))
