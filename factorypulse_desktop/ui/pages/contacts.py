"""The Contacts page: customers, suppliers and partners in a keyset-paged list, with an editor
for the selected one, CSV import and export, and finding and merging duplicates.

Every read, save, file and merge runs through the task runner (no database or file I/O on the
GUI thread). The database decides who may change contacts; for persons who may only read
(engineering, QA, production) the page disables its controls and says why, and the database
still refuses if they try. The editor keeps what was typed when a save is refused or lost a
race with someone else (a conflict dialog shows both versions). Live changes from other people
update the rows in place (`on_contacts_changed`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import ContactType
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import contacts
from factorypulse_desktop.services.auth import Workspace
from factorypulse_desktop.services.contacts import (
    ContactConflictError,
    ContactDetail,
    ContactEdit,
    ContactFieldError,
    ContactFilter,
    ContactRow,
    DuplicateGroup,
    MergeReport,
    Page,
    Sort,
)
from factorypulse_desktop.services.contacts_csv import ContactsImportError, ImportReport
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.dialogs.contact_dialogs import (
    ContactConflictDialog,
    DuplicatesDialog,
    ImportErrorsDialog,
    describe_merge,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.contacts_model import ContactsTableModel, type_label
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.forms import add_form_row

__all__ = ["ContactEditor", "ContactsPage"]

_OK_TIMEOUT_MS = 8000
ACTIVE_CHOICES = (("Active", "active"), ("Archived", "inactive"), ("Active and archived", "all"))
# Single-line fields of the editor, in form order: (ContactEdit field, label, placeholder).
_LINE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("company_name", "Company name", "Required"),
    ("contact_name", "Contact person", ""),
    ("email", "E-mail", "name@company.com"),
    ("phone", "Phone", ""),
    ("website", "Website", "https://"),
    ("city", "City", ""),
    ("state", "State / region", ""),
    ("postal_code", "Postal code", ""),
    ("country", "Country", ""),
    ("tax_id", "Tax ID", ""),
    ("payment_terms", "Payment terms", "e.g. Net 30"),
    ("credit_limit", "Credit limit", "e.g. 25000"),
    ("capability_tags", "Capabilities", "Comma-separated, e.g. CNC milling, welding"),
)


def _stylesheet(c: theme.Colors) -> str:
    return f"""
    QFrame#contactCard {{ background: {c.base}; border: 1px solid {c.border};
        border-radius: 10px; }}
    QLabel#contactTitle {{ font-size: 14pt; font-weight: 600; }}
    QLabel#chip {{ color: {c.warn}; border: 1px solid {c.warn}; border-radius: 9px;
        padding: 1px 8px; font-size: 9pt; }}
    QLabel#fieldError {{ color: {c.error}; }}
    QScrollArea#editorScroll, QWidget#contactEditor {{ background: transparent; }}
    QLabel#readOnlyNote {{ color: {c.muted}; border: 1px dashed {c.border};
        border-radius: 6px; padding: 6px 10px; }}
    """


class ContactEditor(QWidget):
    """The fields of one contact; knows nothing of the database."""

    sig_changed = Signal()
    """Something was typed (not emitted while filling)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._filling = False
        self._baseline: dict[str, str] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(8)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.type_box = QComboBox()
        for kind in ContactType:
            self.type_box.addItem(type_label(kind), kind.value)
        add_form_row(self.form, self.tr("Type"), self.type_box)
        self.lines: dict[str, QLineEdit] = {}
        for name, _label, placeholder in _LINE_FIELDS:
            edit = QLineEdit()
            edit.setPlaceholderText(self.tr(placeholder) if placeholder else "")
            limit = contacts.MAX_LENGTHS.get(name)
            edit.setMaxLength(limit if limit else 2000 if name == "capability_tags" else 40)
            self.lines[name] = edit
        self.lines["credit_limit"].setAlignment(Qt.AlignmentFlag.AlignRight
                                                | Qt.AlignmentFlag.AlignVCenter)
        self.address = QPlainTextEdit()
        self.address.setFixedHeight(56)
        self.address.setTabChangesFocus(True)
        self.address.setPlaceholderText(self.tr("Street and number"))
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(96)
        self.notes.setTabChangesFocus(True)
        labels = {name: label for name, label, _placeholder in _LINE_FIELDS}
        for name in ("company_name", "contact_name", "email", "phone", "website"):
            add_form_row(self.form, self.tr(labels[name]), self.lines[name])
        self._add_tall_row(self.tr("Address"), self.address)
        self.lines["postal_code"].setFixedWidth(110)
        self.lines["country"].setFixedWidth(150)
        add_form_row(self.form, self.tr("City, postal code"),
                     self._pair(self.lines["city"], self.lines["postal_code"]))
        add_form_row(self.form, self.tr("State, country"),
                     self._pair(self.lines["state"], self.lines["country"]))
        self.lines["state"].setPlaceholderText(self.tr("State or region"))
        self.lines["country"].setPlaceholderText(self.tr("Country"))
        self.lines["postal_code"].setPlaceholderText(self.tr("Postal code"))
        for name in ("tax_id", "payment_terms", "credit_limit", "capability_tags"):
            add_form_row(self.form, self.tr(labels[name]), self.lines[name])
        self._add_tall_row(self.tr("Notes"), self.notes)
        layout.addLayout(self.form)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)  # may quote typed text
        self.error.hide()
        layout.addWidget(self.error)
        layout.addStretch(1)  # spare height below the form, never between its rows
        self.type_box.currentIndexChanged.connect(self._typed)
        for edit in self.lines.values():
            edit.textChanged.connect(self._typed)
        self.address.textChanged.connect(self._typed)
        self.notes.textChanged.connect(self._typed)

    def _pair(self, first: QWidget, second: QWidget) -> QWidget:
        box = QWidget()
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(first, 1)
        row.addWidget(second)
        return box

    def _add_tall_row(self, text: str, field: QWidget) -> None:
        """A label at the top of a multi-line field (add_form_row centres it on the field's
        preferred height, which for a text box is far taller than the box shown)."""
        label = QLabel(text)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        label.setContentsMargins(0, 5, 0, 0)
        label.setBuddy(field)
        self.form.addRow(label, field)

    # -- values ---------------------------------------------------------------------------------
    def texts(self) -> dict[str, str]:
        """Everything as typed (to tell whether anything changed)."""
        values = {name: edit.text() for name, edit in self.lines.items()}
        values["type"] = str(self.type_box.currentData())
        values["address"] = self.address.toPlainText()
        values["notes"] = self.notes.toPlainText()
        return values

    def fill(self, edit: ContactEdit | None) -> None:
        """Show ``edit`` (None: an empty form) and take it as the unchanged state."""
        edit = edit or ContactEdit()
        self._filling = True
        try:
            index = self.type_box.findData(ContactType(edit.type).value)
            self.type_box.setCurrentIndex(max(index, 0))
            for name, line in self.lines.items():
                if name == "capability_tags":
                    line.setText(", ".join(edit.capability_tags))
                elif name == "credit_limit":
                    line.setText(f"{edit.credit_limit:f}" if edit.credit_limit is not None
                                 else "")
                else:
                    line.setText(getattr(edit, name) or "")
                line.setCursorPosition(0)
            self.address.setPlainText(edit.address or "")
            self.notes.setPlainText(edit.notes or "")
        finally:
            self._filling = False
        self.mark_unchanged()
        self.show_error("")

    def mark_unchanged(self) -> None:
        self._baseline = self.texts()

    def set_baseline(self, edit: ContactEdit) -> None:
        """Take ``edit`` as the unchanged state, keeping what the form shows."""
        shown = self.texts()
        self.fill(edit)
        self._baseline = self.texts()
        self._set_texts(shown)

    def _set_texts(self, values: dict[str, str]) -> None:
        self._filling = True
        try:
            self.type_box.setCurrentIndex(max(self.type_box.findData(values["type"]), 0))
            for name, line in self.lines.items():
                line.setText(values[name])
            self.address.setPlainText(values["address"])
            self.notes.setPlainText(values["notes"])
        finally:
            self._filling = False

    def is_dirty(self) -> bool:
        return self.texts() != self._baseline

    def edit(self) -> ContactEdit:
        """The form as a `ContactEdit` (uncleaned); a credit limit that is not an amount
        raises `ContactFieldError`."""
        values = {name: line.text() for name, line in self.lines.items()
                  if name not in ("capability_tags", "credit_limit")}
        return ContactEdit(
            type=ContactType(str(self.type_box.currentData())),
            credit_limit=contacts.parse_credit_limit(self.lines["credit_limit"].text()),
            capability_tags=contacts.parse_tags(self.lines["capability_tags"].text()),
            address=self.address.toPlainText(),
            notes=self.notes.toPlainText(),
            **values,
        )

    def field_widget(self, name: str) -> QWidget:
        if name == "type":
            return self.type_box
        if name == "address":
            return self.address
        if name == "notes":
            return self.notes
        return self.lines.get(name, self.lines["company_name"])

    def show_error(self, text: str, field_name: str | None = None) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))
        if text and field_name:
            self.field_widget(field_name).setFocus()

    def set_read_only(self, read_only: bool) -> None:
        """Fields that can be read and copied but not typed in (hints hidden: nobody types)."""
        if not hasattr(self, "_placeholders"):
            fields: list[QLineEdit | QPlainTextEdit] = [*self.lines.values(), self.address]
            self._placeholders = {w: w.placeholderText() for w in fields}
        self.type_box.setEnabled(not read_only)
        for widget, hint in self._placeholders.items():
            widget.setReadOnly(read_only)
            widget.setPlaceholderText("" if read_only else hint)
        self.notes.setReadOnly(read_only)

    def _typed(self, *_args: object) -> None:
        if not self._filling:
            self.sig_changed.emit()


class ContactsPage(QWidget):
    sig_loaded = Signal()
    """A list page was shown (tests wait for it)."""
    sig_contact_loaded = Signal(object)
    """The editor shows a contact as read from the database (`ContactDetail`)."""
    sig_saved = Signal(object)
    """A contact was saved, archived or restored (`ContactDetail`)."""
    sig_save_failed = Signal(object)
    """A save was refused (the error); the editor kept what was typed."""
    sig_import_finished = Signal(object)
    """An import ended: `ImportReport`, or the error (nothing imported)."""
    sig_export_finished = Signal(object)
    """An export ended: the `Path` written, or the error."""
    sig_duplicates_loaded = Signal(object)
    """Duplicates were looked for (`list[DuplicateGroup]`)."""
    sig_merged = Signal(object)
    """Contacts were merged (`MergeReport`)."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 parent: QWidget | None = None, *, formatter: Formatter | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page-contacts")
        self._runner = runner
        self._workspace = workspace
        self._organization_id = organization_id
        self._formatter = formatter or Formatter()
        self._sort = Sort()
        self._generation = 0  # answers for an older filter or organization are dropped
        self._total: int | None = None
        self._detail: ContactDetail | None = None
        self._new = False  # the editor holds a contact not saved yet
        self._new_id: uuid.UUID | None = None  # its client-chosen id (see new_contact)
        self._expected_version: int | None = None
        self._saving = False
        self._reverting_selection = False
        self.dialog: QDialog | None = None
        # Replaceable in tests: the file choices and the questions.
        self.choose_import_file: Callable[[], str | None] = self._ask_import_file
        self.choose_export_file: Callable[[str], str | None] = self._ask_export_file
        self.confirm_discard: Callable[[], bool] = self._ask_discard
        self._build()
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self.reload)
        self._apply_rights()
        self.reload_tags()
        self.reload()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        colors = theme.current()
        self.setStyleSheet(_stylesheet(colors))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 12)
        outer.setSpacing(10)
        top = QHBoxLayout()
        top.setSpacing(8)
        heading = QLabel(self.tr("Contacts"))
        heading.setObjectName("pageTitle")
        top.addWidget(heading)
        top.addSpacing(12)
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        top.addWidget(self.count_label)
        top.addStretch(1)
        self.duplicates_button = QPushButton(self.tr("Find duplicates…"))
        self.import_button = QPushButton(self.tr("Import CSV…"))
        self.export_button = QPushButton(self.tr("Export CSV…"))
        self.new_button = QPushButton(icons.icon("contacts", "#ffffff"), self.tr("New contact…"))
        self.new_button.setObjectName("primary")
        for button in (self.duplicates_button, self.import_button, self.export_button,
                       self.new_button):
            top.addWidget(button)
        self.duplicates_button.clicked.connect(self.find_duplicates)
        self.import_button.clicked.connect(self.import_csv)
        self.export_button.clicked.connect(self.export_csv)
        self.new_button.clicked.connect(self.new_contact)
        outer.addLayout(top)

        filters = QHBoxLayout()
        filters.setSpacing(8)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Filter by company, contact, e-mail or city"))
        self.search.setClearButtonEnabled(True)
        self.search.setMaxLength(200)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        filters.addWidget(self.search, 2)
        self.type_filter = QComboBox()
        self.type_filter.addItem(self.tr("All types"), None)
        for kind in ContactType:
            self.type_filter.addItem(type_label(kind), kind.value)
        filters.addWidget(self.type_filter)
        self.active_filter = QComboBox()
        for label, value in ACTIVE_CHOICES:
            self.active_filter.addItem(self.tr(label), value)
        filters.addWidget(self.active_filter)
        self.tag_filter = QComboBox()
        self.tag_filter.setMinimumWidth(170)
        self.tag_filter.addItem(self.tr("Any capability"), "")
        filters.addWidget(self.tag_filter)
        for combo in (self.type_filter, self.active_filter, self.tag_filter):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        outer.addLayout(filters)

        self.read_only_note = QLabel(self.tr(
            "You can look up contacts here; only administrators, management, sales and "
            "procurement can add, change, import or merge them."))
        self.read_only_note.setObjectName("readOnlyNote")
        self.read_only_note.setWordWrap(True)
        self.read_only_note.hide()
        outer.addWidget(self.read_only_note)
        self.banner = Banner()
        outer.addWidget(self.banner)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.model = ContactsTableModel(self._formatter, self)
        self.model.sig_page_wanted.connect(self._load_more)
        self.model.sig_sort_wanted.connect(self._sort_by)
        self.table = QTableView()
        self.table.setObjectName("contactsTable")
        self.table.setMinimumWidth(520)
        self.table.setModel(self.model)
        self.table.horizontalHeader().setSortIndicator(
            ContactsTableModel.COLUMN_COMPANY, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(ContactsTableModel.COLUMN_COMPANY,
                                    QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 84), (2, 140), (3, 110), (4, 70), (5, 76)):
            self.table.setColumnWidth(column, width)
        header.setMinimumSectionSize(48)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self._build_detail())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([700, 460])
        outer.addWidget(self.splitter, 1)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self, self.save)

    def _build_detail(self) -> QWidget:
        self.detail_stack = QStackedWidget()
        self.detail_stack.setMinimumWidth(420)
        empty = QFrame()
        empty.setObjectName("contactCard")
        empty_layout = QVBoxLayout(empty)
        self.empty_label = QLabel(self.tr("Choose a contact in the list to see and edit it."))
        self.empty_label.setObjectName("muted")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_layout.addWidget(self.empty_label)
        self.detail_stack.addWidget(empty)

        card = QFrame()
        card.setObjectName("contactCard")
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(18, 14, 18, 14)
        card_layout.setSpacing(8)
        title_row = QHBoxLayout()
        self.detail_title = QLabel()
        self.detail_title.setObjectName("contactTitle")
        self.detail_title.setTextFormat(Qt.TextFormat.PlainText)
        self.detail_title.setWordWrap(True)
        title_row.addWidget(self.detail_title, 1)
        self.status_chip = QLabel()
        self.status_chip.setObjectName("chip")
        self.status_chip.setTextFormat(Qt.TextFormat.PlainText)
        title_row.addWidget(self.status_chip, 0, Qt.AlignmentFlag.AlignTop)
        card_layout.addLayout(title_row)
        self.detail_info = QLabel()
        self.detail_info.setObjectName("muted")
        self.detail_info.setWordWrap(True)
        self.detail_info.setTextFormat(Qt.TextFormat.PlainText)
        card_layout.addWidget(self.detail_info)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet(f"color: {theme.current().border};")
        card_layout.addWidget(line)
        scroll = QScrollArea()
        scroll.setObjectName("editorScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.editor = ContactEditor()
        self.editor.setObjectName("contactEditor")
        self.editor.sig_changed.connect(self._update_editor_buttons)
        scroll.setWidget(self.editor)
        card_layout.addWidget(scroll, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.archive_button = QPushButton(self.tr("Archive"))
        self.archive_button.clicked.connect(self.toggle_active)
        buttons.addWidget(self.archive_button)
        buttons.addStretch(1)
        self.revert_button = QPushButton(self.tr("Discard changes"))
        self.revert_button.clicked.connect(self.revert)
        self.save_button = QPushButton(self.tr("Save"))
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        card_layout.addLayout(buttons)
        self.detail_stack.addWidget(card)
        return self.detail_stack

    # --- public API -----------------------------------------------------------------------
    @property
    def organization_id(self) -> uuid.UUID:
        return self._organization_id

    @property
    def can_edit(self) -> bool:
        membership = self._workspace.identity.membership(self._organization_id)
        return contacts.can_edit(membership.role if membership else None)

    @property
    def detail(self) -> ContactDetail | None:
        """The contact the editor was filled from (None for a new one or none)."""
        return None if self._new else self._detail

    @property
    def editing_new(self) -> bool:
        return self._new

    @property
    def total(self) -> int | None:
        return self._total

    def set_organization(self, organization_id: uuid.UUID,
                         formatter: Formatter | None = None) -> None:
        """Show another organization (the window's organization switcher changed)."""
        if formatter is not None:
            self._formatter = formatter
            self.model.formatter = formatter
        if organization_id == self._organization_id:
            return
        self._organization_id = organization_id
        self._show_empty()
        self.tag_filter.blockSignals(True)
        self.tag_filter.setCurrentIndex(0)
        self.tag_filter.blockSignals(False)
        self.model.reset_rows([], None)
        self._apply_rights()
        self.reload_tags()
        self.reload()

    def current_filter(self) -> ContactFilter:
        kind = self.type_filter.currentData()
        return ContactFilter(
            text=self.search.text(),
            types=(ContactType(kind),) if isinstance(kind, str) else (),
            active=str(self.active_filter.currentData() or "active"),
            capability=str(self.tag_filter.currentData() or ""))

    def reload(self) -> None:
        self._generation += 1
        ws, org, flt, sort = (self._workspace, self._organization_id, self.current_filter(),
                              self._sort)
        generation = self._generation
        self._runner.run(lambda: contacts.list_contacts(ws, org, flt, sort),
                         on_done=lambda page: self._first_page(generation, page),
                         on_error=self._show_error, key=f"contacts-list-{id(self)}")

    def reload_tags(self) -> None:
        ws, org = self._workspace, self._organization_id
        self._runner.run(lambda: contacts.list_capability_tags(ws, org),
                         on_done=lambda tags: self._tags_loaded(org, tags),
                         on_error=lambda _error: None,  # the filter just offers fewer tags
                         key=f"contacts-tags-{id(self)}")

    def on_contacts_changed(self, ids: list[uuid.UUID]) -> None:
        """ChangeBus "contacts": re-read the rows shown and the open contact, in place."""
        shown = [i for i in ids if self.model.row_of(i) >= 0]
        ws = self._workspace
        if shown:
            self._runner.run(lambda: contacts.get_contacts(ws, shown),
                             on_done=lambda rows: self.model.update_rows(rows, shown),
                             on_error=self._show_error)
        current = self.detail
        if current is not None and current.id in ids and not self._saving:
            contact_id = current.id
            self._runner.run(lambda: contacts.get_contact(ws, contact_id),
                             on_done=self._changed_elsewhere,
                             on_error=lambda _error: None,
                             key=f"contacts-live-{id(self)}")

    def select_contact(self, contact_id: uuid.UUID) -> None:
        """Select the contact in the list and open it in the editor."""
        row = self.model.row_of(contact_id)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))
        else:
            self.open_contact(contact_id)

    def open_contact(self, contact_id: uuid.UUID) -> None:
        """Load the contact into the editor (whether or not the list shows it)."""
        ws = self._workspace
        self.detail_info.setText(self.tr("Loading…"))
        self._runner.run(lambda: contacts.get_contact(ws, contact_id),
                         on_done=self._contact_loaded, on_error=self._show_error,
                         key=f"contacts-detail-{id(self)}")

    # --- the list -------------------------------------------------------------------------
    def _first_page(self, generation: int, page: Page) -> None:
        if generation != self._generation:
            return
        self._total = page.total
        self._reverting_selection = True  # the reset drops the selection: not a choice
        try:
            self.model.reset_rows(page.rows, page.next_after)
            shown = self.detail
            if shown is not None and self.model.row_of(shown.id) >= 0:
                self.table.selectRow(self.model.row_of(shown.id))
        finally:
            self._reverting_selection = False
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

        self._runner.run(lambda: contacts.list_contacts(ws, org, flt, sort, after=after),
                         on_done=done, on_error=failed)

    def _sort_by(self, key: str, descending: bool) -> None:
        self._sort = Sort(key, descending)
        self.reload()

    def _update_count(self) -> None:
        if self._total is not None:
            self.count_label.setText(
                self.tr("1 contact") if self._total == 1
                else self.tr("{n} contacts").format(n=self._total))
        else:
            more = "+" if self.model.canFetchMore() else ""
            self.count_label.setText(self.tr("{n}{more} contacts").format(
                n=self.model.rowCount(), more=more))

    def _tags_loaded(self, org: uuid.UUID, tags: Sequence[str]) -> None:
        if org != self._organization_id:
            return
        chosen = str(self.tag_filter.currentData() or "")
        self.tag_filter.blockSignals(True)
        self.tag_filter.clear()
        self.tag_filter.addItem(self.tr("Any capability"), "")
        for tag in tags:
            self.tag_filter.addItem(tag, tag)
        index = next((i for i in range(self.tag_filter.count())
                      if str(self.tag_filter.itemData(i)).casefold() == chosen.casefold()), 0)
        if chosen and index == 0:  # still filter by it, even if no contact has it any more
            self.tag_filter.addItem(chosen, chosen)
            index = self.tag_filter.count() - 1
        self.tag_filter.setCurrentIndex(index)
        self.tag_filter.blockSignals(False)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._reverting_selection or not current.isValid():
            return
        row = self.model.contact(current.row())
        if row is None or (self.detail is not None and row.id == self.detail.id
                           and not self._new):
            return
        if self._has_unsaved_changes() and not self.confirm_discard():
            # After the view has finished selecting (it would override a change made now).
            shown = self.detail
            QTimer.singleShot(0, self, lambda: self._reselect(shown.id if shown else None))
            return
        self.open_contact(row.id)

    def _reselect(self, contact_id: uuid.UUID | None) -> None:
        """Select the row of the contact being edited again (or none), loading nothing."""
        self._reverting_selection = True
        try:
            row = self.model.row_of(contact_id) if contact_id is not None else -1
            if row >= 0:
                self.table.selectRow(row)
            else:
                self.table.clearSelection()
        finally:
            self._reverting_selection = False

    # --- the editor -----------------------------------------------------------------------
    def _has_unsaved_changes(self) -> bool:
        return self.detail_stack.currentIndex() == 1 and self.editor.is_dirty()

    def _show_empty(self) -> None:
        self._detail = None
        self._new = False
        self._expected_version = None
        self.editor.fill(None)
        self.detail_stack.setCurrentIndex(0)
        self._update_editor_buttons()

    def _contact_loaded(self, detail: ContactDetail) -> None:
        if detail.organization_id != self._organization_id:
            return
        self._show_detail(detail)
        self.sig_contact_loaded.emit(detail)

    def _show_detail(self, detail: ContactDetail) -> None:
        self._detail = detail
        self._new = False
        self._expected_version = detail.version
        self.editor.fill(detail.as_edit())
        self.detail_stack.setCurrentIndex(1)
        self._update_header()
        self._update_editor_buttons()

    def _update_header(self) -> None:
        detail = self.detail
        if detail is None:
            self.detail_title.setText(self.tr("New contact"))
            self.status_chip.hide()
            self.detail_info.setText(self.tr(
                "Fill in at least the company name, then save."))
            return
        self.detail_title.setText(detail.company_name)
        if detail.merged_into is not None:
            self.status_chip.setText(self.tr("Merged into {name}").format(
                name=detail.merged_into_name or self.tr("another contact")))
            self.status_chip.show()
        elif not detail.is_active:
            self.status_chip.setText(self.tr("Archived"))
            self.status_chip.show()
        else:
            self.status_chip.hide()
        parts = [type_label(detail.type),
                 self._count(detail.project_count, "1 project", "{n} projects")]
        if detail.type is ContactType.SUPPLIER or detail.rfq_count or \
                detail.purchase_order_count:
            parts.append(self._count(detail.rfq_count, "1 RFQ", "{n} RFQs"))
            parts.append(self._count(detail.purchase_order_count, "1 purchase order",
                                     "{n} purchase orders"))
        if detail.portal_login_count:
            parts.append(self._count(detail.portal_login_count, "1 portal login",
                                     "{n} portal logins"))
        updated = self._formatter.date(detail.updated_at.astimezone().date())
        by = (self.tr(" · added by {name}").format(name=detail.created_by)
              if detail.created_by else "")
        self.detail_info.setText(" · ".join(parts) + "\n"
                                 + self.tr("Last changed {date}").format(date=updated) + by)

    def _count(self, n: int, one: str, many: str) -> str:
        return self.tr(one) if n == 1 else self.tr(many).format(n=n)

    def _update_editor_buttons(self) -> None:
        editable = self.can_edit and not self._saving
        dirty = self._has_unsaved_changes()
        self.save_button.setEnabled(editable and (dirty or self._new))
        self.revert_button.setEnabled(not self._saving and (dirty or self._new))
        self.revert_button.setText(self.tr("Cancel") if self._new
                                   else self.tr("Discard changes"))
        detail = self.detail
        self.archive_button.setVisible(detail is not None and self.can_edit)
        self.archive_button.setEnabled(editable and detail is not None)
        self.save_button.setVisible(self.can_edit)
        self.revert_button.setVisible(self.can_edit)
        self.archive_button.setText(self.tr("Restore") if detail is not None
                                    and not detail.is_active else self.tr("Archive"))

    def new_contact(self) -> None:
        if not self.can_edit:
            return
        if self._has_unsaved_changes() and not self.confirm_discard():
            return
        kind = self.type_filter.currentData()
        self._detail = None
        self._new = True
        # The new contact's id, chosen now: pressing Save again after a lost answer sends the
        # same id, so the database recognizes a contact it already stored (T-NET-03).
        self._new_id = uuid.uuid4()
        self._expected_version = None
        self._reverting_selection = True
        try:
            self.table.clearSelection()
        finally:
            self._reverting_selection = False
        self.editor.fill(ContactEdit(type=ContactType(kind) if isinstance(kind, str)
                                     else ContactType.CUSTOMER))
        self.detail_stack.setCurrentIndex(1)
        self._update_header()
        self._update_editor_buttons()
        self.editor.lines["company_name"].setFocus()

    def revert(self) -> None:
        if self._new or self._detail is None:
            self._show_empty()
            return
        self.editor.fill(self._detail.as_edit())
        self._expected_version = self._detail.version
        self._update_editor_buttons()

    def save(self) -> None:
        if not self.can_edit or self._saving or self.detail_stack.currentIndex() != 1:
            return
        if not self._new and not self.editor.is_dirty():
            return
        try:
            edit = contacts.check_contact(self.editor.edit())
        except ContactFieldError as error:
            self.editor.show_error(str(error), error.field)
            return
        self.editor.show_error("")
        ws, org = self._workspace, self._organization_id
        contact_id = None if self._new or self._detail is None else self._detail.id
        version = None if contact_id is None else self._expected_version
        new_id = self._new_id if contact_id is None else None
        self._set_saving(True)
        self._runner.run(lambda: contacts.save_contact(ws, org, contact_id, edit, version,
                                                       new_id=new_id),
                         on_done=lambda saved: self._saved(saved, created=contact_id is None),
                         on_error=self._save_failed)

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        self._update_editor_buttons()

    def _saved(self, saved: ContactDetail, *, created: bool) -> None:
        self._set_saving(False)
        if saved.organization_id != self._organization_id:
            return
        self._show_detail(saved)
        if created:
            self._show_ok(self.tr("“{name}” was added.").format(name=saved.company_name))
            self.reload()
        else:
            self._show_ok(self.tr("“{name}” was saved.").format(name=saved.company_name))
            self.model.update_rows([_row_of(saved)], [])
        self.reload_tags()
        self.sig_saved.emit(saved)

    def _save_failed(self, error: BaseException) -> None:
        # The editor keeps what was typed: nothing is refilled here.
        self._set_saving(False)
        if isinstance(error, ContactFieldError):
            self.editor.show_error(str(error), error.field)
        elif isinstance(error, ContactConflictError) and error.current is not None:
            self.banner.show_message(str(error), kind="warning")
            self._open_conflict(error.current)
        else:
            self._show_error(error)
        self.sig_save_failed.emit(error)

    def _open_conflict(self, theirs: ContactDetail) -> None:
        try:
            mine = self.editor.edit()
        except UserFacingError:
            mine = ContactEdit(company_name=self.editor.lines["company_name"].text())
        dialog = ContactConflictDialog(mine, theirs, self)

        def chosen() -> None:
            if dialog.choice == "theirs":
                self._show_detail(theirs)
                self.banner.hide()
            elif dialog.choice == "mine":
                # Their version becomes the one we replace; the form keeps our values.
                self._detail = theirs
                self._expected_version = theirs.version
                self.editor.set_baseline(theirs.as_edit())
                self._update_header()
                self.banner.show_message(self.tr(
                    "Your changes are still in the form; save to replace the other version."),
                    kind="info")
            self._update_editor_buttons()

        self._open(dialog, chosen)

    def _changed_elsewhere(self, detail: ContactDetail) -> None:
        current = self.detail
        if current is None or current.id != detail.id or detail.version == current.version:
            return
        if self.editor.is_dirty() or self._saving:
            self.banner.show_message(self.tr(
                "Someone else just changed this contact. Your changes are kept; when you save, "
                "you will see both versions."), kind="warning")
            return
        self._show_detail(detail)

    def toggle_active(self) -> None:
        detail = self.detail
        if detail is None or not self.can_edit or self._saving:
            return
        if self.editor.is_dirty():
            self.banner.show_message(self.tr("Save or discard your changes first."), kind="warning")
            return
        self.set_active(detail, not detail.is_active)

    def set_active(self, detail: ContactDetail, active: bool) -> None:
        ws, contact_id, version = self._workspace, detail.id, detail.version

        def done(saved: ContactDetail) -> None:
            self._set_saving(False)
            if self.detail is not None and self.detail.id == saved.id:
                self._show_detail(saved)
            self.model.update_rows([_row_of(saved)], [])
            self.sig_saved.emit(saved)
            if active:
                self._show_ok(self.tr("“{name}” was restored.").format(
                    name=saved.company_name))
            else:
                self._show_ok(self.tr("“{name}” was archived.").format(name=saved.company_name),
                              action=self.tr("Undo"),
                              on_action=lambda: self.set_active(saved, True))

        def failed(error: BaseException) -> None:
            self._set_saving(False)
            if isinstance(error, ContactConflictError) and error.current is not None:
                self.banner.show_message(str(error), kind="warning")
                if not self.editor.is_dirty():
                    self._show_detail(error.current)
            else:
                self._show_error(error)

        self._set_saving(True)
        self._runner.run(lambda: contacts.set_active(ws, contact_id, version, active),
                         on_done=done, on_error=failed)

    # --- import and export ----------------------------------------------------------------
    def _ask_import_file(self) -> str | None:
        path, _filter = QFileDialog.getOpenFileName(
            self, self.tr("Import contacts"), "",
            self.tr("CSV files (*.csv *.txt);;All files (*)"))
        return path or None

    def _ask_export_file(self, suggested: str) -> str | None:
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export contacts"), suggested, self.tr("CSV files (*.csv)"))
        return path or None

    def import_csv(self) -> None:
        if not self.can_edit:
            return
        path = self.choose_import_file()
        if not path:
            return
        ws, org, name = self._workspace, self._organization_id, Path(path).name
        self.import_button.setEnabled(False)
        self.banner.show_message(self.tr("Importing “{file}”…").format(file=name), kind="info")
        # The file is read by the task, off the GUI thread.
        self._runner.run(lambda: contacts.import_contacts_file(ws, org, path),
                         on_done=lambda report: self._imported(org, name, report),
                         on_error=lambda error: self._import_failed(name, error))

    def _imported(self, org: uuid.UUID, name: str, report: ImportReport) -> None:
        self._apply_rights()
        if org == self._organization_id:
            self.reload()
            self.reload_tags()
        self._show_ok(
            self.tr("1 contact imported from “{file}”.").format(file=name)
            if report.imported == 1 else
            self.tr("{n} contacts imported from “{file}”.").format(n=report.imported,
                                                                    file=name))
        self.sig_import_finished.emit(report)

    def _import_failed(self, name: str, error: BaseException) -> None:
        self._apply_rights()
        if isinstance(error, ContactsImportError):
            self.banner.show_message(self.tr("Nothing was imported from “{file}”; the problems are "
                                      "listed.").format(file=name), kind="error",
                              action=self.tr("Show problems"),
                              on_action=lambda: self._show_import_problems(error, name))
            self._show_import_problems(error, name)
        else:
            self._show_error(error)
        self.sig_import_finished.emit(error)

    def _show_import_problems(self, error: ContactsImportError, name: str) -> None:
        self._open(ImportErrorsDialog(error.errors, name, self), lambda: None)

    def export_csv(self) -> None:
        membership = self._workspace.identity.membership(self._organization_id)
        slug = membership.slug if membership else "contacts"
        suggested = f"contacts-{slug}-{dt.date.today().isoformat()}.csv"
        path = self.choose_export_file(suggested)
        if not path:
            return
        if not Path(path).suffix:
            path += ".csv"
        ws, org = self._workspace, self._organization_id
        self.export_button.setEnabled(False)
        self.banner.show_message(self.tr("Exporting…"), kind="info")

        def done(written: Path) -> None:
            self.export_button.setEnabled(True)
            self._show_ok(self.tr("The contacts were exported to {path}.").format(
                path=str(written)))
            self.sig_export_finished.emit(written)

        def failed(error: BaseException) -> None:
            self.export_button.setEnabled(True)
            self._show_error(error)
            self.sig_export_finished.emit(error)

        self._runner.run(lambda: contacts.export_contacts_file(ws, org, path),
                         on_done=done, on_error=failed)

    # --- duplicates -----------------------------------------------------------------------
    def find_duplicates(self) -> None:
        ws, org = self._workspace, self._organization_id
        self.duplicates_button.setEnabled(False)
        self._runner.run(lambda: contacts.find_duplicates(ws, org),
                         on_done=lambda groups: self._duplicates_found(org, groups),
                         on_error=self._duplicates_failed,
                         key=f"contacts-duplicates-{id(self)}")

    def _duplicates_failed(self, error: BaseException) -> None:
        self.duplicates_button.setEnabled(True)
        self._show_error(error)

    def _duplicates_found(self, org: uuid.UUID, groups: list[DuplicateGroup]) -> None:
        self.duplicates_button.setEnabled(True)
        if org != self._organization_id:
            return
        if not groups:
            self._show_ok(self.tr("No duplicates: every active contact has a name of its own."))
        else:
            dialog = DuplicatesDialog(self._runner, self._workspace, org, groups,
                                      can_merge=self.can_edit, parent=self)
            dialog.sig_merged.connect(self._merged)
            self._open(dialog, lambda: None)
        self.sig_duplicates_loaded.emit(groups)

    def _merged(self, report: MergeReport) -> None:
        self._show_ok(describe_merge(report, self.tr))
        shown = self.detail
        if shown is not None and (shown.id == report.kept_id or shown.id in report.merged_ids):
            if self.editor.is_dirty():
                self.banner.show_message(describe_merge(report, self.tr) + " " + self.tr(
                    "The contact you are editing was part of it; discard your changes to see "
                    "the result."), kind="warning")
            else:
                self.open_contact(shown.id)
        self.reload()
        self.reload_tags()
        self.sig_merged.emit(report)

    # --- rights, dialogs and messages -----------------------------------------------------
    def _apply_rights(self) -> None:
        editable = self.can_edit
        tip = "" if editable else self.tr(
            "Only administrators, management, sales and procurement can change contacts.")
        for button in (self.new_button, self.import_button):
            button.setEnabled(editable)
            button.setToolTip(tip)
        self.duplicates_button.setEnabled(True)  # looking is allowed; merging is not
        self.export_button.setEnabled(True)
        self.read_only_note.setVisible(not editable)
        self.editor.set_read_only(not editable)
        self._update_editor_buttons()

    def _ask_discard(self) -> bool:
        answer = QMessageBox.question(
            self, self.tr("Unsaved changes"),
            self.tr("This contact has changes that are not saved. Discard them?"),
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def _open(self, dialog: QDialog, on_finished: Callable[[], None]) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog, on_finished))
        dialog.open()

    def _dialog_closed(self, dialog: QDialog, on_finished: Callable[[], None]) -> None:
        if self.dialog is dialog:
            self.dialog = None
        on_finished()
        dialog.deleteLater()


    def _show_error(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error), kind="error")

    def _show_ok(self, text: str, *, action: str | None = None,
                 on_action: Callable[[], None] | None = None) -> None:
        self.banner.show_message(text, kind="ok", action=action, on_action=on_action,
                          timeout_ms=_OK_TIMEOUT_MS)


def _row_of(detail: ContactDetail) -> ContactRow:
    """The list row of a contact just saved (to update it in place without a query)."""
    return ContactRow(
        id=detail.id, type=detail.type, company_name=detail.company_name,
        contact_name=detail.contact_name, email=detail.email, phone=detail.phone,
        city=detail.city, country=detail.country, is_active=detail.is_active,
        capability_tags=detail.capability_tags, updated_at=detail.updated_at,
        version=detail.version)
