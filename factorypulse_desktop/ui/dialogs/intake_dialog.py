"""The project intake dialog: a new customer project from the simplified form (ORIGIN.md §5).

The person picks the intake type (which decides the first stage and the default priority,
`domain.intake.ROUTES`), fills the form and submits; the dialog then shows the number the
database assigned. While the company name is typed, existing customers with a similar name are
looked up (a keyed task, so only the newest search counts) and listed under the field; the
person uses one of them or creates a new customer, and an exact match is never duplicated
silently. Every database call runs through the task runner; what was typed is kept whenever
something is wrong, and each wrong field says so next to itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import itertools
import uuid

from PySide6.QtCore import QDate, QPointF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import IntakeType, Priority
from factorypulse_desktop.domain.intake import ROUTES, IntakeForm, IntakeInvalid, validate
from factorypulse_desktop.services import intake as intake_service
from factorypulse_desktop.services.auth import Workspace
from factorypulse_desktop.services.intake import CustomerMatch, IntakeResult
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.dialogs.upload_dialog import UploadDialog
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.attachment_list import AttachmentList, ChooseFiles
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.file_drop import FileDropTarget
from factorypulse_desktop.ui.widgets.forms import add_form_row

__all__ = ["FIELD_ORDER", "IntakeDialog"]

MARGIN = 24
SPACING = 12
SEARCH_DELAY_MS = 300
"""Pause after the last keystroke in the company name before looking for customers."""
MIN_SEARCH_CHARS = 2

FIELD_ORDER = ("company", "contact_name", "email", "phone", "title", "description", "priority",
               "estimated_value", "target_date", "notes", "tags")
"""The form's fields (IntakeForm attribute names) in the order they appear; the first wrong one
gets the focus."""


def _folded(text: str) -> str:
    """The company name as the search sees it (`find_customers` collapses spaces too)."""
    return " ".join(text.split())


def _find(workspace: Workspace, organization_id: uuid.UUID,
          name: str) -> tuple[str, list[CustomerMatch]]:
    """Task body: the matches for `name`, with the name they are for."""
    return name, intake_service.find_customers(workspace, organization_id, name)


def _check_pixmap(size: int, color: str) -> QPixmap:
    """A filled circle with a white tick (drawn, so it needs no font or icon file)."""
    ratio = 2.0
    pixmap = QPixmap(int(size * ratio), int(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawEllipse(0, 0, size, size)
    pen = QPen(QColor("#ffffff"), size / 11)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    tick = QPainterPath(QPointF(size * 0.29, size * 0.52))
    tick.lineTo(QPointF(size * 0.44, size * 0.67))
    tick.lineTo(QPointF(size * 0.72, size * 0.36))
    painter.drawPath(tick)
    painter.end()
    return pixmap


def _stylesheet(c: theme.Colors) -> str:
    return f"""
    QPushButton#intakeType {{ background: {c.base}; border: 1px solid {c.border};
        border-radius: 8px; padding: 0; text-align: left; }}
    QPushButton#intakeType:hover {{ border-color: {c.accent}; }}
    QPushButton#intakeType:focus {{ border-color: {c.accent}; }}
    QPushButton#intakeType:checked {{ background: {c.sidebar_selected};
        border-color: {c.accent}; }}
    QPushButton#intakeType:disabled {{ background: {c.alt_base}; }}
    QLabel#typeTitle {{ font-weight: 600; }}
    QLabel#typeBlurb {{ color: {c.muted}; }}
    QLabel#fieldError {{ color: {c.error}; }}
    QLabel#section {{ font-weight: 600; font-size: 11pt; }}
    QLabel#badge {{ color: {c.accent}; border: 1px solid {c.accent}; border-radius: 4px;
        padding: 0 5px; }}
    QLabel#matchName {{ font-weight: 600; }}
    QFrame#matches {{ background: {c.alt_base}; border: 1px solid {c.border};
        border-radius: 8px; }}
    QFrame#chosenCustomer {{ background: {c.base}; border: 1px solid {c.border};
        border-left: 4px solid {c.ok}; border-radius: 6px; }}
    QFrame#footer {{ border-top: 1px solid {c.border}; }}
    QPlainTextEdit {{ padding: 2px 4px; border: 1px solid {c.border}; border-radius: 6px;
        background: {c.base}; }}
    QPlainTextEdit:focus {{ border: 1px solid {c.accent}; }}
    QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{
        border: 1px solid {c.error}; }}
    QComboBox[invalid="true"], QDateEdit[invalid="true"] {{ border: 1px solid {c.error};
        border-radius: 4px; }}
    """


class _TypeButton(QPushButton):
    """One segment of the intake-type choice: the type's name and what happens to the project."""

    def __init__(self, title: str, blurb: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("intakeType")
        self.setCheckable(True)
        self.setAutoDefault(False)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(blurb)
        self.setAccessibleName(title)
        self.setAccessibleDescription(blurb)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 9, 12, 10)
        layout.setSpacing(3)
        self.title_label = QLabel(title)
        self.title_label.setObjectName("typeTitle")
        self.blurb_label = QLabel(blurb)
        self.blurb_label.setObjectName("typeBlurb")
        self.blurb_label.setWordWrap(True)
        for label in (self.title_label, self.blurb_label):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            layout.addWidget(label)
        layout.addStretch(1)

    # The labels, not the (empty) button text, decide the size.
    def sizeHint(self) -> QSize:
        layout = self.layout()
        return layout.sizeHint() if layout is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        layout = self.layout()
        return layout.minimumSize() if layout is not None else super().minimumSizeHint()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        layout = self.layout()
        return layout.totalHeightForWidth(width) if layout is not None else -1


class IntakeDialog(QDialog):
    """A new customer project from the simplified intake form; open it with `open()`."""

    sig_created = Signal(object)
    """A project was created (`services.intake.IntakeResult`)."""
    sig_open_project = Signal(object)
    """The person wants to see the project just created (its id, a `uuid.UUID`)."""
    sig_matches_loaded = Signal(object)
    """Existing customers matching the typed company name were listed (`list[CustomerMatch]`,
    exact matches first; empty when none match)."""

    sig_attachments_opened = Signal(object)
    """The upload window for the new project's attachments opened (the `UploadDialog`)."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 parent: QWidget | None = None, *,
                 choose_files: ChooseFiles | None = None) -> None:
        super().__init__(parent)
        self._choose_files = choose_files
        self.upload_dialog: UploadDialog | None = None
        self._runner = runner
        self._workspace = workspace
        self._organization_id = organization_id
        self._submission_id = uuid.uuid4()  # sent again on a retry: never two projects
        self._busy = False
        self._filling = False  # True while the dialog itself changes inputs
        self._priority_chosen = False
        # Customer matching: the matches shown and the name they are for, the name being
        # looked up, and the person's choice (an existing customer, or a new one on purpose).
        self._matches: list[CustomerMatch] = []
        self._matches_for: str | None = None
        self._searching_for: str | None = None
        self._chosen: CustomerMatch | None = None
        self._new_chosen = False
        self._submit_after_search = False
        self.created: IntakeResult | None = None
        """The last project this dialog created."""
        self.match_buttons: list[QPushButton] = []
        self.field_errors: dict[str, QLabel] = {}
        self.field_inputs: dict[str, QWidget] = {}
        self._field_rows: dict[str, QWidget] = {}

        self.setWindowTitle(self.tr("New project intake"))
        self.setStyleSheet(_stylesheet(theme.current()))
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._search_now)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack)
        self.form_page = self._build_form_page()
        self.success_page = self._build_success_page()
        self.stack.addWidget(self.form_page)
        self.stack.addWidget(self.success_page)

        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.activated.connect(self._submit_shortcut)

        self.set_intake_type(IntakeType.RFQ)
        self._refresh_customer()
        self._fix_tab_order()
        self._size_for_screen()

    # --- construction ---------------------------------------------------------------------

    def _build_form_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)

        header = QVBoxLayout()
        header.setContentsMargins(MARGIN, 20, MARGIN, 4)
        header.setSpacing(6)
        heading = QLabel(self.tr("New project"))
        heading.setObjectName("dialogTitle")
        heading.setStyleSheet("font-size: 13pt; font-weight: 600;")
        header.addWidget(heading)
        intro = QLabel(self.tr("Enter what the customer sent. Fields marked * are required."))
        intro.setObjectName("muted")
        intro.setWordWrap(True)
        header.addWidget(intro)
        self.banner = Banner()
        header.addSpacing(4)
        header.addWidget(self.banner)
        layout.addLayout(header)

        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes field to field
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(MARGIN, 8, MARGIN, 12)
        body.setSpacing(SPACING)
        body.addLayout(self._build_type_choice())
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(SPACING)
        self.form.setVerticalSpacing(10)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self._build_fields()
        body.addLayout(self.form)
        body.addStretch(1)
        self.scroll_area.setWidget(self.body)
        layout.addWidget(self.scroll_area, 1)

        footer = QFrame()
        footer.setObjectName("footer")
        buttons = QHBoxLayout(footer)
        buttons.setContentsMargins(MARGIN, SPACING, MARGIN, 16)
        buttons.setSpacing(8)
        self.status = QLabel(self.tr("Ctrl+Enter creates the project."))
        self.status.setObjectName("muted")
        buttons.addWidget(self.status, 1)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.submit_button = QPushButton(self.tr("Create project"))
        self.submit_button.setObjectName("primary")
        # Not the default button: Enter in a field must not send a half-filled form.
        self.submit_button.setAutoDefault(False)
        self.submit_button.clicked.connect(self.submit)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.submit_button)
        layout.addWidget(footer)
        return page

    def _build_type_choice(self) -> QHBoxLayout:
        blurbs = {
            IntakeType.RFQ: self.tr("Starts at Inquiry Received: the customer asks for a "
                                    "quote."),
            IntakeType.PURCHASE_ORDER: self.tr("Skips to Order Confirmed: the customer "
                                               "already ordered."),
            IntakeType.PROJECT_IDEA: self.tr("Starts at Technical Review: engineering "
                                             "looks at the idea first."),
            IntakeType.DIRECT_REQUEST: self.tr("Starts at Inquiry Received: any other "
                                               "request."),
        }
        row = QHBoxLayout()
        row.setSpacing(8)
        self.type_group = QButtonGroup(self)
        self.type_group.setExclusive(True)
        self.type_buttons: dict[IntakeType, QPushButton] = {}
        for kind in IntakeType:
            button = _TypeButton(ROUTES[kind].label, blurbs[kind])
            self.type_group.addButton(button)
            self.type_buttons[kind] = button
            row.addWidget(button, 1)
        self.type_group.buttonToggled.connect(self._type_toggled)
        return row

    def _build_fields(self) -> None:
        # The height of one line edit as styled here: labels centre on it.
        probe = QLineEdit()
        probe.ensurePolished()
        line_height = probe.sizeHint().height()
        self._line_height = line_height

        self.form.addRow(self._section(self.tr("Customer")))
        self.company = QLineEdit()
        self.company.setMaxLength(200)
        self.company.setPlaceholderText(self.tr("e.g. Nordwerk GmbH"))
        self.company.textChanged.connect(self._company_changed)
        company_row = self._field("company", self.company)
        company_layout = company_row.layout()
        assert isinstance(company_layout, QVBoxLayout)
        company_layout.addWidget(self._build_matches())
        company_layout.addWidget(self._build_chosen())
        self.customer_status = QLabel()
        self.customer_status.setObjectName("muted")
        self.customer_status.setWordWrap(True)
        self.customer_status.setTextFormat(Qt.TextFormat.PlainText)
        company_layout.addWidget(self.customer_status)
        self.company_label = self._add_row(self.tr("Company name"), "company", required=True)

        self.contact_name = QLineEdit()
        self.contact_name.setMaxLength(200)
        self.contact_name.setPlaceholderText(self.tr("Who sent the request"))
        self._field("contact_name", self.contact_name)
        self.contact_label = self._add_row(self.tr("Contact name"), "contact_name",
                                           required=True)
        self.email = QLineEdit()
        self.email.setMaxLength(254)
        self.email.setPlaceholderText(self.tr("name@example.com"))
        self._field("email", self.email)
        self._add_row(self.tr("E-mail"), "email")
        self.phone = QLineEdit()
        self.phone.setMaxLength(40)
        self.phone.setPlaceholderText(self.tr("e.g. +49 30 1234567"))
        self._field("phone", self.phone)
        self._add_row(self.tr("Phone"), "phone")

        self.form.addRow(self._section(self.tr("Project")))
        self.title = QLineEdit()
        self.title.setMaxLength(200)
        self.title.setPlaceholderText(self.tr("At least 3 characters, e.g. Laser-cut brackets"))
        self._field("title", self.title)
        self._add_row(self.tr("Project title"), "title", required=True)
        self.description = self._text_box(self.tr("What the customer needs: parts, "
                                                  "quantities, materials…"))
        self._field("description", self.description)
        self._add_row(self.tr("Description"), "description", multi_line=True)

        self.priority = QComboBox()
        for priority, label in ((Priority.LOW, self.tr("Low")),
                                (Priority.MEDIUM, self.tr("Medium")),
                                (Priority.HIGH, self.tr("High")),
                                (Priority.CRITICAL, self.tr("Critical"))):
            self.priority.addItem(label, priority.value)
        self.priority.setMinimumWidth(140)
        self.priority.currentIndexChanged.connect(self._priority_changed)
        self.priority_hint = QLabel()
        self.priority_hint.setObjectName("muted")
        priority_line = QHBoxLayout()
        priority_line.setSpacing(10)
        priority_line.addWidget(self.priority)
        priority_line.addWidget(self.priority_hint)
        priority_line.addStretch(1)
        self._field("priority", self.priority, priority_line)
        self._add_row(self.tr("Priority"), "priority")

        self.estimated_value = QLineEdit()
        self.estimated_value.setMaxLength(40)
        self.estimated_value.setPlaceholderText(self.tr("e.g. 12500.50"))
        self.estimated_value.setMaximumWidth(220)
        value_row = self._field("estimated_value", self.estimated_value)
        value_hint = QLabel(self.tr("In your organization's currency, without a symbol: "
                                    "12500, 12,500.50 and 12 500,50 all work."))
        value_hint.setObjectName("muted")
        value_hint.setWordWrap(True)
        value_layout = value_row.layout()
        assert value_layout is not None
        value_layout.addWidget(value_hint)
        self._add_row(self.tr("Estimated value"), "estimated_value")

        self.target_date_set = QCheckBox(self.tr("Set a date"))
        self.target_date_set.setMinimumHeight(line_height)
        self.target_date = QDateEdit()
        self.target_date.setCalendarPopup(True)
        self.target_date.setDisplayFormat("yyyy-MM-dd")
        self.target_date.setMinimumDate(QDate(2000, 1, 1))
        self.target_date.setDate(QDate.currentDate())
        self.target_date.setMinimumWidth(140)
        self.target_date.setMinimumHeight(line_height)
        self.target_date.setVisible(False)
        self.target_date_set.toggled.connect(self._target_date_toggled)
        self.no_date_label = QLabel(self.tr("No target date"))
        self.no_date_label.setObjectName("muted")
        date_line = QHBoxLayout()
        date_line.setSpacing(10)
        date_line.addWidget(self.target_date_set)
        date_line.addWidget(self.target_date)
        date_line.addWidget(self.no_date_label)
        date_line.addStretch(1)
        self._field("target_date", self.target_date, date_line)
        self._add_row(self.tr("Target date"), "target_date").setBuddy(self.target_date_set)

        self.notes = self._text_box(self.tr("Anything else: delivery terms, how they "
                                            "found us…"))
        self._field("notes", self.notes)
        self._add_row(self.tr("Notes"), "notes", multi_line=True)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText(self.tr("Comma-separated, e.g. laser, brackets"))
        self._field("tags", self.tags)
        self._add_row(self.tr("Tags"), "tags")
        # Drawings, specifications, BOM: uploaded to the new project once it exists.
        self.attachments = (AttachmentList(choose_files=self._choose_files)
                            if self._choose_files else AttachmentList())
        self._field("attachments", self.attachments)
        self._add_row(self.tr("Attachments"), "attachments")
        FileDropTarget.install(self, self.attachments.add_paths)

        for name in ("company", "contact_name", "email", "phone", "title", "estimated_value",
                     "tags"):
            edit = self.field_inputs[name]
            assert isinstance(edit, QLineEdit)
            edit.textChanged.connect(functools.partial(self._field_edited, name))
        for name in ("description", "notes"):
            box = self.field_inputs[name]
            assert isinstance(box, QPlainTextEdit)
            box.textChanged.connect(functools.partial(self._field_edited, name))
        self.target_date.dateChanged.connect(
            functools.partial(self._field_edited, "target_date"))

    def _section(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("section")
        label.setContentsMargins(0, 6, 0, 0)
        return label

    def _text_box(self, placeholder: str) -> QPlainTextEdit:
        box = QPlainTextEdit()
        box.setPlaceholderText(placeholder)
        box.setTabChangesFocus(True)  # Tab moves on, as in every other field
        box.setFixedHeight(84)
        return box

    def _field(self, name: str, input_widget: QWidget,
               line: QHBoxLayout | None = None) -> QWidget:
        """The field column of a row: the input (or its line), then its error message."""
        row = QWidget()
        layout = QVBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        if line is not None:
            layout.addLayout(line)
        else:
            layout.addWidget(input_widget)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.setTextFormat(Qt.TextFormat.PlainText)  # messages may quote what was typed
        error.hide()
        layout.addWidget(error)
        self.field_inputs[name] = input_widget
        self.field_errors[name] = error
        self._field_rows[name] = row
        return row

    def _add_row(self, text: str, name: str, *, required: bool = False,
                 multi_line: bool = False) -> QLabel:
        row = self._field_rows[name]
        label = add_form_row(self.form, text, row)
        self._set_label(label, text, required=required)
        field = self.field_inputs[name]
        label.setBuddy(field)
        # Centred on the input's first line, not on the whole field (messages and lists below):
        # QFormLayout would give a label up to 7/4 of its height in a tall row.
        field.ensurePolished()
        label.setFixedHeight(self._line_height if multi_line else
                             max(self._line_height, field.sizeHint().height()))
        if required:
            self.field_inputs[name].setAccessibleDescription(self.tr("Required"))
        return label

    def _set_label(self, label: QLabel, text: str, *, required: bool) -> None:
        if required:
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setText(f'{html.escape(text)} <span style="color: {theme.current().error};">'
                          f"*</span>")
        else:
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setText(text)

    def _build_matches(self) -> QFrame:
        self.matches_box = QFrame()
        self.matches_box.setObjectName("matches")
        layout = QVBoxLayout(self.matches_box)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        self.matches_heading = QLabel(self.tr("Existing customers with this name:"))
        self.matches_heading.setStyleSheet("font-weight: 600;")
        layout.addWidget(self.matches_heading)
        self._match_rows = QVBoxLayout()
        self._match_rows.setSpacing(4)
        layout.addLayout(self._match_rows)
        new_row = QHBoxLayout()
        new_row.setSpacing(10)
        self.matches_note = QLabel()
        self.matches_note.setObjectName("muted")
        self.matches_note.setWordWrap(True)
        new_row.addWidget(self.matches_note, 1)
        self.new_customer_button = QPushButton(self.tr("New customer"))
        self.new_customer_button.setAutoDefault(False)
        self.new_customer_button.setToolTip(self.tr(
            "Add the company as a new customer, even though the name looks like one above"))
        self.new_customer_button.clicked.connect(self.choose_new_customer)
        new_row.addWidget(self.new_customer_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(new_row)
        self.matches_box.hide()
        return self.matches_box

    def _build_chosen(self) -> QFrame:
        self.chosen_box = QFrame()
        self.chosen_box.setObjectName("chosenCustomer")
        layout = QHBoxLayout(self.chosen_box)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(10)
        text = QVBoxLayout()
        text.setSpacing(2)
        self.chosen_label = QLabel()
        self.chosen_label.setTextFormat(Qt.TextFormat.PlainText)
        self.chosen_label.setWordWrap(True)
        self.chosen_label.setStyleSheet("font-weight: 600;")
        self.chosen_detail = QLabel()
        self.chosen_detail.setObjectName("muted")
        self.chosen_detail.setTextFormat(Qt.TextFormat.PlainText)
        self.chosen_detail.setWordWrap(True)
        text.addWidget(self.chosen_label)
        text.addWidget(self.chosen_detail)
        layout.addLayout(text, 1)
        self.change_customer_button = QPushButton(self.tr("Change"))
        self.change_customer_button.setAutoDefault(False)
        self.change_customer_button.setToolTip(self.tr("Undo the choice of customer"))
        self.change_customer_button.clicked.connect(self.clear_customer_choice)
        layout.addWidget(self.change_customer_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.chosen_box.hide()
        return self.chosen_box

    def _build_success_page(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        layout = QVBoxLayout()
        layout.setContentsMargins(MARGIN * 2, MARGIN, MARGIN * 2, MARGIN)
        layout.setSpacing(SPACING)
        outer.addLayout(layout, 1)
        layout.addStretch(2)
        mark = QLabel()
        mark.setPixmap(_check_pixmap(56, theme.current().ok))
        mark.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(mark)
        self.success_title = QLabel()
        self.success_title.setTextFormat(Qt.TextFormat.PlainText)
        self.success_title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.success_title.setWordWrap(True)
        self.success_title.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.success_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.success_title)
        self.success_detail = QLabel()
        self.success_detail.setTextFormat(Qt.TextFormat.PlainText)
        self.success_detail.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.success_detail.setWordWrap(True)
        layout.addWidget(self.success_detail)
        self.success_customer = QLabel()
        self.success_customer.setObjectName("muted")
        self.success_customer.setTextFormat(Qt.TextFormat.PlainText)
        self.success_customer.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.success_customer.setWordWrap(True)
        layout.addWidget(self.success_customer)
        layout.addStretch(3)

        footer = QFrame()
        footer.setObjectName("footer")
        buttons = QHBoxLayout(footer)
        buttons.setContentsMargins(MARGIN, SPACING, MARGIN, 16)
        buttons.setSpacing(8)
        buttons.addStretch(1)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.accept)
        self.new_intake_button = QPushButton(self.tr("New intake"))
        self.new_intake_button.setAutoDefault(False)
        self.new_intake_button.clicked.connect(self.new_intake)
        self.open_button = QPushButton(self.tr("Open project"))
        self.open_button.setObjectName("primary")
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(self.open_project)
        for button in (self.close_button, self.new_intake_button, self.open_button):
            buttons.addWidget(button)
        outer.addWidget(footer)
        return page

    def _fix_tab_order(self) -> None:
        """Tab follows the form, match buttons (created later) included."""
        chain: list[QWidget] = [*self.type_buttons.values(), self.company, *self.match_buttons,
                                self.new_customer_button, self.change_customer_button,
                                self.contact_name, self.email, self.phone, self.title,
                                self.description, self.priority, self.estimated_value,
                                self.target_date_set, self.target_date, self.notes, self.tags,
                                self.attachments.list, self.attachments.add_button,
                                self.attachments.remove_button, self.cancel_button,
                                self.submit_button]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _size_for_screen(self) -> None:
        wanted_min, wanted = QSize(720, 640), QSize(780, 780)
        screen = self.screen()
        if screen is not None:
            room = screen.availableGeometry().size()
            wanted_min = wanted_min.boundedTo(room)
            wanted = wanted.boundedTo(room)
        self.setMinimumSize(wanted_min)
        self.resize(wanted)

    # --- public API -----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a submission (or the customer check before it) is on its way."""
        return self._busy

    @property
    def showing_success(self) -> bool:
        return self.stack.currentWidget() is self.success_page

    @property
    def intake_type(self) -> IntakeType:
        for kind, button in self.type_buttons.items():
            if button.isChecked():
                return kind
        return IntakeType.RFQ

    def set_intake_type(self, kind: IntakeType) -> None:
        self.type_buttons[kind].setChecked(True)

    @property
    def priority_value(self) -> Priority:
        try:
            return Priority(str(self.priority.currentData()))
        except ValueError:
            return ROUTES[self.intake_type].default_priority

    @property
    def matches(self) -> list[CustomerMatch]:
        """The existing customers listed under the company name, exact matches first."""
        return list(self._matches)

    @property
    def chosen_customer(self) -> CustomerMatch | None:
        return self._chosen

    def form_data(self) -> IntakeForm:
        """What is typed, as the domain's form (nothing checked yet)."""
        target: dt.date | None = None
        if self.target_date_set.isChecked():
            date = self.target_date.date()
            target = dt.date(date.year(), date.month(), date.day())
        return IntakeForm(
            intake_type=self.intake_type, company=self.company.text(),
            contact_name=self.contact_name.text(), email=self.email.text(),
            phone=self.phone.text(), title=self.title.text(),
            description=self.description.toPlainText(), priority=self.priority_value,
            estimated_value=self.estimated_value.text(), target_date=target,
            notes=self.notes.toPlainText(), tags=self.tags.text(),
            customer_id=self._chosen.contact_id if self._chosen is not None else None,
            submission_id=self._submission_id)

    def shown_errors(self) -> dict[str, str]:
        """Field name → the message shown next to it."""
        return {name: label.text() for name, label in self.field_errors.items()
                if not label.isHidden()}

    def is_dirty(self) -> bool:
        """Whether something was typed or chosen that was not submitted yet."""
        texts = (self.company.text(), self.contact_name.text(), self.email.text(),
                 self.phone.text(), self.title.text(), self.description.toPlainText(),
                 self.estimated_value.text(), self.notes.toPlainText(), self.tags.text())
        return (any(t.strip() for t in texts) or self.target_date_set.isChecked()
                or self._priority_chosen or self._chosen is not None
                or bool(self.attachments.paths()))

    def submit(self) -> None:
        """Check the form, then create the project off the GUI thread."""
        if self._busy or self.showing_success:
            return
        self.banner.hide()
        self._clear_errors()
        name = _folded(self.company.text())
        if (self._chosen is None and len(name) >= MIN_SEARCH_CHARS
                and self._matches_for != name):
            # The look-up for this name has not answered yet: wait for it, so that an
            # existing customer is offered before a duplicate is created.
            self._submit_after_search = True
            self._set_busy(True, self.tr("Checking existing customers…"))
            self._search_timer.stop()
            self._search_now()
            return
        form = self.form_data()
        errors: dict[str, str] = {}
        try:
            validate(form)
        except IntakeInvalid as invalid:
            errors = dict(invalid.errors)
        # Never a silent duplicate: with a customer of exactly this name on file, the person
        # says whether it is that one or a different company.
        must_choose = (self._chosen is None and not self._new_chosen
                       and any(m.exact for m in self._matches) and "company" not in errors)
        if must_choose:
            errors["company"] = self.tr(
                "A customer with this name already exists: use it, or choose “New customer” "
                "if this is a different company.")
        if errors:
            self._show_errors(errors, focus=not must_choose)
            if must_choose and self.match_buttons:
                self.match_buttons[0].setFocus(Qt.FocusReason.OtherFocusReason)
                self.scroll_area.ensureWidgetVisible(self.matches_box)
            return
        self._set_busy(True, self.tr("Creating…"))
        self._runner.run(
            functools.partial(intake_service.submit_intake, self._workspace,
                              self._organization_id, form),
            on_done=self._created, on_error=self._failed)

    def choose_customer(self, match: CustomerMatch) -> None:
        """File the project under an existing customer (contact name becomes optional)."""
        self._chosen = match
        self._new_chosen = False
        self._search_timer.stop()
        self._set_text(self.company, match.company_name)
        # The list was for the typed spelling; undoing the choice looks the name up again.
        self._matches_for = None
        self._clear_error("company")
        self._clear_error("contact_name")
        self._refresh_customer()
        self.change_customer_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def choose_new_customer(self) -> None:
        """Create a new customer even though similar names exist."""
        self._chosen = None
        self._new_chosen = True
        self._clear_error("company")
        self._refresh_customer()
        self.change_customer_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def clear_customer_choice(self) -> None:
        """Undo the choice: the matches are offered again."""
        self._chosen = None
        self._new_chosen = False
        self._refresh_customer()
        self.company.setFocus(Qt.FocusReason.OtherFocusReason)
        if self._matches_for != _folded(self.company.text()):
            self._search_now()

    def new_intake(self) -> None:
        """Clear the form for the next intake (the intake type stays)."""
        self._submission_id = uuid.uuid4()  # the next project; a retry reuses the current one
        self._filling = True
        try:
            for edit in (self.company, self.contact_name, self.email, self.phone, self.title,
                         self.estimated_value, self.tags):
                edit.clear()
            self.description.clear()
            self.notes.clear()
            self.attachments.clear()
            self.target_date_set.setChecked(False)
            self.target_date.setDate(QDate.currentDate())
        finally:
            self._filling = False
        self._search_timer.stop()
        self._matches, self._matches_for, self._searching_for = [], "", None
        self._chosen, self._new_chosen = None, False
        self._priority_chosen = False
        self._apply_default_priority()
        self._clear_errors()
        self._show_matches([])
        self._refresh_customer()
        self.banner.hide()
        self.stack.setCurrentWidget(self.form_page)
        self.scroll_area.verticalScrollBar().setValue(0)
        self.company.setFocus(Qt.FocusReason.OtherFocusReason)

    def open_project(self) -> None:
        if self.created is not None:
            self.sig_open_project.emit(self.created.project_id)
        self.accept()

    def confirm_discard(self) -> bool:
        """Ask before throwing away what was typed (tests replace this)."""
        answer = QMessageBox.question(
            self, self.tr("Discard this intake?"),
            self.tr("What you typed has not been submitted. Close and discard it?"),
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    # --- Qt overrides -----------------------------------------------------------------------

    def reject(self) -> None:
        if self._busy:  # a submission on its way cannot be taken back
            return
        if self.showing_success:
            self.accept()
            return
        if self.is_dirty() and not self.confirm_discard():
            return
        super().reject()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.showing_success and self.focusWidget() is None:
            self.company.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- intake type and priority ---------------------------------------------------------

    def _type_toggled(self, _button: QPushButton, checked: bool) -> None:
        if checked:
            self._apply_default_priority()

    def _apply_default_priority(self) -> None:
        route = ROUTES[self.intake_type]
        if not self._priority_chosen:
            self._filling = True
            try:
                self.priority.setCurrentIndex(self.priority.findData(
                    route.default_priority.value))
            finally:
                self._filling = False
        self.priority_hint.setText(
            self.tr("Default for {type}").format(type=route.label)
            if not self._priority_chosen else self.tr("Your choice, kept for every type"))

    def _priority_changed(self, _index: int) -> None:
        if self._filling:
            return
        self._priority_chosen = True
        self._apply_default_priority()

    def _target_date_toggled(self, checked: bool) -> None:
        self.target_date.setVisible(checked)
        self.no_date_label.setVisible(not checked)
        self._clear_error("target_date")
        if checked and not self._filling:
            self.target_date.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- customer matching ----------------------------------------------------------------

    def _company_changed(self, text: str) -> None:
        if self._filling:
            return
        if self._chosen is not None or self._new_chosen:
            # Another name: the earlier choice no longer applies.
            self._chosen = None
            self._new_chosen = False
        name = _folded(text)
        self._submit_after_search = False
        if len(name) < MIN_SEARCH_CHARS:
            self._search_timer.stop()
            self._searching_for = None
            self._matches_for = name
            self._show_matches([])
        else:
            self._search_timer.start()
        self._refresh_customer()

    def _search_now(self) -> None:
        name = _folded(self.company.text())
        if len(name) < MIN_SEARCH_CHARS or self._chosen is not None:
            self._matches_for = name
            self._show_matches([])
            self._after_search()
            return
        self._searching_for = name
        self._refresh_customer()
        self._runner.run(
            functools.partial(_find, self._workspace, self._organization_id, name),
            on_done=self._matches_found, on_error=self._search_failed,
            key=f"intake-customers-{id(self)}")

    def _matches_found(self, found: tuple[str, list[CustomerMatch]]) -> None:
        name, matches = found
        if name != _folded(self.company.text()) or self._chosen is not None:
            return  # typed on meanwhile: a newer search is coming
        self._searching_for = None
        self._matches_for = name
        self._show_matches(sorted(matches, key=lambda m: not m.exact))
        self._refresh_customer()
        self.sig_matches_loaded.emit(self.matches)
        self._after_search()

    def _search_failed(self, error: BaseException) -> None:
        self._searching_for = None
        self._refresh_customer()
        if self._submit_after_search:
            self._submit_after_search = False
            self._set_busy(False)
            self.banner.show_message(describe_error(error))
        else:
            self.customer_status.setText(self.tr(
                "Could not look for existing customers: {reason}").format(
                    reason=describe_error(error)))
            self.customer_status.show()

    def _after_search(self) -> None:
        if self._submit_after_search:
            self._submit_after_search = False
            self._set_busy(False)
            self.submit()

    def _show_matches(self, matches: list[CustomerMatch]) -> None:
        self._matches = matches
        while self._match_rows.count():
            item = self._match_rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self.match_buttons = []
        for match in matches:
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 2, 0, 2)
            line.setSpacing(8)
            texts = QVBoxLayout()
            texts.setSpacing(1)
            name = QLabel(match.company_name)
            name.setObjectName("matchName")
            name.setTextFormat(Qt.TextFormat.PlainText)
            name.setWordWrap(True)
            texts.addWidget(name)
            details = " · ".join(x for x in (match.contact_name, match.email) if x)
            if details:
                detail = QLabel(details)
                detail.setObjectName("muted")
                detail.setTextFormat(Qt.TextFormat.PlainText)
                detail.setWordWrap(True)
                texts.addWidget(detail)
            line.addLayout(texts, 1)
            if match.exact:
                badge = QLabel(self.tr("same name"))
                badge.setObjectName("badge")
                line.addWidget(badge, 0, Qt.AlignmentFlag.AlignVCenter)
            use = QPushButton(self.tr("Use this customer"))
            use.setAutoDefault(False)
            use.setAccessibleName(self.tr("Use {name}").format(name=match.company_name))
            use.clicked.connect(functools.partial(self.choose_customer, match))
            line.addWidget(use, 0, Qt.AlignmentFlag.AlignVCenter)
            self._match_rows.addWidget(row)
            self.match_buttons.append(use)
        self.matches_note.setText(
            self.tr("If this is a different company, choose “New customer”.")
            if any(m.exact for m in matches) else
            self.tr("None of these? A new customer is created when you submit."))
        self._fix_tab_order()

    def _refresh_customer(self) -> None:
        """Show the matches, the chosen customer or the search status, whichever applies."""
        name = _folded(self.company.text())
        chosen = self._chosen
        if chosen is not None:
            self.chosen_label.setText(self.tr("Existing customer: {name}").format(
                name=chosen.company_name))
            details = " · ".join(x for x in (chosen.contact_name, chosen.email) if x)
            self.chosen_detail.setText(
                self.tr("The project is filed under this customer; no new customer is "
                        "created.") + (f"\n{details}" if details else ""))
        elif self._new_chosen:
            self.chosen_label.setText(self.tr("New customer: {name}").format(name=name))
            self.chosen_detail.setText(self.tr(
                "Added to your contacts when you submit, next to the similar names."))
        self.chosen_box.setVisible(chosen is not None or self._new_chosen)
        self.matches_box.setVisible(chosen is None and not self._new_chosen
                                    and bool(self._matches) and self._matches_for is not None)
        if chosen is not None or self._new_chosen:
            status = ""
        elif self._searching_for is not None and not self._matches:
            status = self.tr("Looking for existing customers…")
        elif (len(name) >= MIN_SEARCH_CHARS and self._matches_for == name
              and not self._matches):
            status = self.tr("No existing customer with this name: a new customer will be "
                             "created.")
        else:
            status = ""
        self.customer_status.setText(status)
        self.customer_status.setVisible(bool(status))
        self._set_label(self.contact_label, self.tr("Contact name"), required=chosen is None)
        self.contact_name.setPlaceholderText(
            self.tr("Optional: the customer is already on file") if chosen is not None else
            self.tr("Who sent the request"))

    # --- errors -----------------------------------------------------------------------------

    def _show_errors(self, errors: dict[str, str], *, focus: bool = True) -> None:
        unplaced: list[str] = []
        for name, message in errors.items():
            label = self.field_errors.get(name)
            if label is None:
                unplaced.append(message)
                continue
            label.setText(message)
            label.show()
            self._mark_invalid(self.field_inputs[name], True)
        if unplaced:
            self.banner.show_message(" ".join(unplaced))
        wrong = [name for name in FIELD_ORDER if name in errors]
        if not wrong or not focus:
            return
        first = self.field_inputs[wrong[0]]
        if first is self.target_date and not self.target_date_set.isChecked():
            first = self.target_date_set
        first.setFocus(Qt.FocusReason.OtherFocusReason)
        if isinstance(first, QLineEdit):
            first.selectAll()
        self.scroll_area.ensureWidgetVisible(self._field_rows[wrong[0]])

    def _clear_errors(self) -> None:
        for name in self.field_errors:
            self._clear_error(name)

    def _clear_error(self, name: str) -> None:
        label = self.field_errors.get(name)
        if label is not None and not label.isHidden():
            label.hide()
            label.clear()
        widget = self.field_inputs.get(name)
        if widget is not None:
            self._mark_invalid(widget, False)

    def _field_edited(self, name: str, *_args: object) -> None:
        if not self._filling:
            self._clear_error(name)

    @staticmethod
    def _mark_invalid(widget: QWidget, invalid: bool) -> None:
        if bool(widget.property("invalid")) == invalid:
            return
        widget.setProperty("invalid", invalid)
        style = widget.style()
        style.unpolish(widget)
        style.polish(widget)
        widget.update()

    # --- submitting -----------------------------------------------------------------------

    def _submit_shortcut(self) -> None:
        if not self.showing_success:
            self.submit()

    def _set_busy(self, busy: bool, message: str = "") -> None:
        self._busy = busy
        self.body.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)
        self.submit_button.setEnabled(not busy)
        self.submit_button.setText(message if busy and message else self.tr("Create project"))
        self.status.setText(message if busy else self.tr("Ctrl+Enter creates the project."))

    def _created(self, result: IntakeResult) -> None:
        self._set_busy(False)
        self.created = result
        self.success_title.setText(self.tr("Project {number} created in {stage}").format(
            number=result.project_number, stage=result.stage_name))
        form = self.form_data()
        self.success_detail.setText(self.tr("“{title}” for {company}").format(
            title=_folded(form.title), company=_folded(form.company)))
        self.success_customer.setText(
            self.tr("A new customer was added to your contacts.") if result.customer_created
            else self.tr("Filed under the existing customer; no new customer was created."))
        self.stack.setCurrentWidget(self.success_page)
        self.open_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self._upload_attachments(result)
        self.sig_created.emit(result)

    def _upload_attachments(self, result: IntakeResult) -> None:
        """Hand the attachments to an upload window for the new project (it walks folders
        and sends the files off the GUI thread, with progress and Cancel)."""
        paths = self.attachments.paths()
        if not paths:
            return
        self.success_customer.setText(
            self.success_customer.text() + " " + self.tr(
                "The attachments go to the project in the upload window: check their "
                "category and click Upload."))
        dialog = UploadDialog(self._runner, self._workspace, self._organization_id, paths,
                              project_id=result.project_id, parent=self.parentWidget())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.upload_dialog = dialog
        dialog.show()
        self.sig_attachments_opened.emit(dialog)

    def _failed(self, error: BaseException) -> None:
        # What was typed stays: the person corrects it and submits again.
        self._set_busy(False)
        if isinstance(error, IntakeInvalid):
            self._show_errors(error.errors)
            return
        self.banner.show_message(describe_error(error))
        self.submit_button.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- helpers ----------------------------------------------------------------------------

    def _set_text(self, edit: QLineEdit, text: str) -> None:
        self._filling = True
        try:
            edit.setText(text)
        finally:
            self._filling = False
