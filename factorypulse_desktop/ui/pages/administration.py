"""The Administration page: people and roles, organization settings, connections on this computer,
Google Drive and backups.

Every load and save goes through the task runner (no database or file I/O on the GUI thread);
the database decides what an administrator may do, and its refusals are shown in the page's
banner in plain words. Forms keep what was typed when a save is refused.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from functools import lru_cache

from PySide6.QtCore import QDate, QLocale, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import admin
from factorypulse_desktop.services.admin import (
    Holiday,
    OrgSettings,
    PersonRow,
    SettingsConflictError,
)
from factorypulse_desktop.services.auth import Workspace
from factorypulse_desktop.services.backups import BackupsState
from factorypulse_desktop.services.profiles import ConnectionProfile, ProfileStore
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.dialogs.person_dialogs import (
    AddPersonDialog,
    ChangeRoleDialog,
    ResetPasswordDialog,
    add_form_row,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.models.people_model import PeopleTableModel, role_label
from factorypulse_desktop.ui.pages.backups_tab import BackupsTab
from factorypulse_desktop.ui.pages.drive_setup import DriveSetupTab
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.forms import muted_label

__all__ = ["AdministrationPage"]

PAGE_MARGIN = 24
SPACING = 12
_LOCALE_NAME = re.compile(r"^[a-z]{2,3}_[A-Z]{2}$")
_OK_TIMEOUT_MS = 8000


@lru_cache(maxsize=1)
def _locale_choices() -> tuple[tuple[str, str], ...]:
    """(label, code) of every language_COUNTRY locale Qt knows, by label (built in, no I/O)."""
    seen: dict[str, str] = {}
    for loc in QLocale.matchingLocales(QLocale.Language.AnyLanguage, QLocale.Script.AnyScript,
                                       QLocale.Country.AnyCountry):
        code = loc.name()
        if _LOCALE_NAME.match(code) and code not in seen:
            label = (f"{QLocale.languageToString(loc.language())} "
                     f"({QLocale.territoryToString(loc.territory())})")
            seen[code] = f"{label} — {code}"
    return tuple(sorted(((label, code) for code, label in seen.items()),
                        key=lambda item: item[0].casefold()))


def _searchable(box: QComboBox) -> None:
    """An editable combo box whose completer finds entries by any part of their text."""
    box.setEditable(True)
    box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    completer = box.completer()
    if completer is not None:
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("font-weight: 600; font-size: 11pt;")
    return label


class AdministrationPage(QWidget):
    """People, organization settings and connection profiles, for administrators."""

    sig_people_loaded = Signal()
    """The people table was (re)filled."""
    sig_settings_loaded = Signal(object)
    """The settings form was filled from the database (`OrgSettings`)."""
    sig_settings_saved = Signal(object)
    """Settings were saved (`OrgSettings` with the new version): formats may need a refresh."""
    sig_profiles_loaded = Signal()
    """The connections list was (re)filled."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 profile_store: ProfileStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page-administration")
        self._runner = runner
        self._workspace = workspace
        self._organization_id = organization_id
        self._store = profile_store
        self._settings: OrgSettings | None = None
        self._holidays: list[Holiday] = []
        self._profiles: list[ConnectionProfile] = []
        self._timezones_loaded = False
        self._writing = False
        self.dialog: QDialog | None = None
        self._build()
        self.reload_people()
        self.reload_settings()
        self.reload_profiles()
        self._load_timezones()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN, PAGE_MARGIN)
        outer.setSpacing(SPACING)
        heading = QLabel(self.tr("Administration"))
        heading.setObjectName("pageTitle")
        outer.addWidget(heading)
        self.subtitle = muted_label("")
        outer.addWidget(self.subtitle)
        self._update_subtitle()
        self.banner = Banner()
        outer.addWidget(self.banner)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("adminTabs")
        self.tabs.setProperty("class", "pageTabs")  # underlined tabs (ui/theme.py)
        self.tabs.setDocumentMode(True)
        muted = theme.current().muted
        self.tabs.addTab(self._build_people(), icons.icon("contacts", muted), self.tr("People"))
        self.tabs.addTab(self._build_organization(), icons.icon("organization", muted),
                         self.tr("Organization"))
        self.tabs.addTab(self._build_connections(), icons.icon("database", muted),
                         self.tr("Connections"))
        self.drive_tab = DriveSetupTab(self._runner, self._workspace, self._organization_id)
        self.tabs.addTab(self.drive_tab, icons.icon("documents", muted), self.tr("Google Drive"))
        self.backups_tab = BackupsTab(self._runner, self._workspace.profile, self._store)
        self.backups_tab.sig_state_loaded.connect(self._backups_checked)
        self.tabs.addTab(self.backups_tab, icons.icon("server", muted), self.tr("Backups"))
        outer.addWidget(self.tabs, 1)

    def _backups_checked(self, state: BackupsState) -> None:
        """T-BAK-10: stale or failed backups are flagged on the tab, seen from every tab."""
        index = self.tabs.indexOf(self.backups_tab)
        color = theme.current().muted if state.health.ok else theme.current().error
        self.tabs.setTabIcon(index, icons.icon("server", color))
        self.tabs.setTabText(index, self.tr("Backups") if state.health.ok
                             else self.tr("Backups — needs attention"))
        self.tabs.setTabToolTip(index, state.health.message)

    def _build_people(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, SPACING, 0, 0)
        layout.setSpacing(SPACING)
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.people_filter = QLineEdit()
        self.people_filter.setPlaceholderText(self.tr("Filter by name, role or e-mail"))
        self.people_filter.setClearButtonEnabled(True)
        self.people_filter.setMinimumWidth(260)
        self.people_filter.setMaximumWidth(340)
        bar.addWidget(self.people_filter, 1)
        self.people_count = muted_label(self.tr("Loading people…"))
        self.people_count.setWordWrap(False)
        bar.addWidget(self.people_count)
        bar.addStretch(1)
        self.add_button = QPushButton(self.tr("Add person…"))
        self.add_button.setObjectName("primary")
        self.role_button = QPushButton(self.tr("Change role…"))
        self.active_button = QPushButton(self.tr("Deactivate"))
        self.password_button = QPushButton(self.tr("Reset password…"))
        for button in (self.role_button, self.active_button, self.password_button,
                       self.add_button):
            bar.addWidget(button)
        layout.addLayout(bar)

        self.people_model = PeopleTableModel(self._workspace.identity.person_id, self)
        self.people_proxy = QSortFilterProxyModel(self)
        self.people_proxy.setSourceModel(self.people_model)
        self.people_proxy.setSortRole(PeopleTableModel.SortRole)
        self.people_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.people_proxy.setFilterKeyColumn(-1)  # any column
        self.people_view = QTableView()
        self.people_view.setModel(self.people_proxy)
        self.people_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.people_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.people_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.people_view.setAlternatingRowColors(True)
        self.people_view.setSortingEnabled(True)
        self.people_view.setShowGrid(False)
        self.people_view.setWordWrap(False)
        self.people_view.verticalHeader().hide()
        self.people_view.verticalHeader().setDefaultSectionSize(32)
        header = self.people_view.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in ((PeopleTableModel.COLUMN_NAME, 260),
                              (PeopleTableModel.COLUMN_USERNAME, 170),
                              (PeopleTableModel.COLUMN_ROLE, 170),
                              (PeopleTableModel.COLUMN_STATUS, 100)):
            self.people_view.setColumnWidth(column, width)
        self.people_view.sortByColumn(PeopleTableModel.COLUMN_NAME, Qt.SortOrder.AscendingOrder)
        layout.addWidget(self.people_view, 1)

        self.people_filter.textChanged.connect(self.people_proxy.setFilterFixedString)
        self.people_filter.textChanged.connect(self._update_people_count)
        selection = self.people_view.selectionModel()
        selection.selectionChanged.connect(self._update_person_buttons)
        self.people_view.doubleClicked.connect(lambda _index: self.change_role())
        self.add_button.clicked.connect(self.add_person)
        self.role_button.clicked.connect(self.change_role)
        self.active_button.clicked.connect(self.toggle_active)
        self.password_button.clicked.connect(self.reset_password)
        self._update_person_buttons()
        return tab

    def _build_organization(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, SPACING, 0, 0)
        body_layout.setSpacing(SPACING)
        card = QFrame()
        card.setObjectName("card")
        card.setMaximumWidth(760)
        layout = QVBoxLayout(card)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(SPACING)

        layout.addWidget(_section(self.tr("General")))
        form = QFormLayout()
        form.setHorizontalSpacing(SPACING)
        form.setVerticalSpacing(10)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.name_edit = QLineEdit()
        self.name_edit.setMaxLength(admin.MAX_NAME)
        self.timezone_box = QComboBox()
        self.timezone_box.setMinimumWidth(360)
        _searchable(self.timezone_box)
        zone_edit = self.timezone_box.lineEdit()
        if zone_edit is not None:
            zone_edit.setPlaceholderText(self.tr("e.g. Europe/Berlin"))
        self.currency_box = QComboBox()
        _searchable(self.currency_box)
        self.currency_box.addItems(sorted(admin.CURRENCY_CODES))
        self.currency_box.setFixedWidth(120)
        self.locale_box = QComboBox()
        self.locale_box.setMinimumWidth(360)
        _searchable(self.locale_box)
        for label, code in _locale_choices():
            self.locale_box.addItem(label, code)
        self.format_preview = muted_label("")
        self.format_preview.setWordWrap(False)
        add_form_row(form, self.tr("Name"), self.name_edit)
        add_form_row(form, self.tr("Time zone"), self.timezone_box)
        add_form_row(form, self.tr("Currency"), self.currency_box)
        add_form_row(form, self.tr("Language and country"), self.locale_box)
        form.addRow("", self.format_preview)
        self.file_limit_box = QSpinBox()
        self.file_limit_box.setRange(1, admin.MAX_FILE_LIMIT_MIB)
        self.file_limit_box.setSuffix(" MB")
        self.file_limit_box.setFixedWidth(140)
        self.file_limit_box.setToolTip(self.tr(
            "Uploads larger than this are refused before they start. Large files make the "
            "database and its backups large."))
        add_form_row(form, self.tr("Largest file"), self.file_limit_box)
        layout.addLayout(form)
        self.currency_box.currentTextChanged.connect(self._update_preview)
        self.locale_box.currentTextChanged.connect(self._update_preview)

        layout.addSpacing(4)
        layout.addWidget(_section(self.tr("Working week")))
        days = QHBoxLayout()
        days.setSpacing(14)
        self.day_boxes: list[QCheckBox] = []
        for label in (self.tr("Mon"), self.tr("Tue"), self.tr("Wed"), self.tr("Thu"),
                      self.tr("Fri"), self.tr("Sat"), self.tr("Sun")):
            box = QCheckBox(label)
            self.day_boxes.append(box)
            days.addWidget(box)
        days.addStretch(1)
        layout.addLayout(days)

        layout.addSpacing(4)
        layout.addWidget(_section(self.tr("Holidays")))
        layout.addWidget(muted_label(
            self.tr("Days the shop is closed besides its usual days off.")))
        add_row = QHBoxLayout()
        add_row.setSpacing(8)
        self.holiday_date = QDateEdit()
        self.holiday_date.setCalendarPopup(True)
        self.holiday_date.setDisplayFormat("yyyy-MM-dd")
        self.holiday_date.setDate(QDate.currentDate())
        self.holiday_label = QLineEdit()
        self.holiday_label.setPlaceholderText(self.tr("Name, e.g. Christmas Day"))
        self.holiday_label.setMaxLength(admin.MAX_HOLIDAY_LABEL)
        self.holiday_label.ensurePolished()
        self.holiday_date.setMinimumHeight(self.holiday_label.sizeHint().height())
        self.holiday_date.setMinimumWidth(130)
        self.holiday_add_button = QPushButton(self.tr("Add"))
        self.holiday_remove_button = QPushButton(self.tr("Remove"))
        add_row.addWidget(self.holiday_date)
        add_row.addWidget(self.holiday_label, 1)
        add_row.addWidget(self.holiday_add_button)
        add_row.addWidget(self.holiday_remove_button)
        layout.addLayout(add_row)
        self.holiday_table = QTableWidget(0, 2)
        self.holiday_table.setHorizontalHeaderLabels([self.tr("Date"), self.tr("Name")])
        self.holiday_table.verticalHeader().hide()
        self.holiday_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.holiday_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.holiday_table.setShowGrid(False)
        self.holiday_table.setAlternatingRowColors(True)
        self.holiday_table.horizontalHeader().setStretchLastSection(True)
        self.holiday_table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.holiday_table.setColumnWidth(0, 220)
        self.holiday_table.setMinimumHeight(170)
        layout.addWidget(self.holiday_table)
        self.holiday_add_button.clicked.connect(self.add_holiday)
        self.holiday_label.returnPressed.connect(self.add_holiday)
        self.holiday_remove_button.clicked.connect(self.remove_holiday)
        self.holiday_table.itemSelectionChanged.connect(self._update_holiday_buttons)

        layout.addSpacing(4)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        self.settings_status = muted_label("")
        buttons.addWidget(self.settings_status, 1)
        self.revert_button = QPushButton(self.tr("Discard changes"))
        self.save_button = QPushButton(self.tr("Save settings"))
        self.save_button.setObjectName("primary")
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self.save_button.clicked.connect(self.save_settings)
        self.revert_button.clicked.connect(self.reload_settings)

        body_layout.addWidget(card)
        body_layout.addStretch(1)
        scroll.setWidget(body)
        self._set_settings_enabled(False)
        self._update_holiday_buttons()
        return scroll

    def _build_connections(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, SPACING, 0, 0)
        layout.setSpacing(SPACING)
        layout.addWidget(muted_label(self.tr(
            "The databases this computer can sign in to, for every person who uses it. "
            "Passwords are never written in these settings: “Remember my password” keeps "
            "them only in this computer's secure keyring, and removing a connection forgets "
            "its remembered password too.")))
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.profiles_count = muted_label("")
        self.profiles_count.setWordWrap(False)
        bar.addWidget(self.profiles_count)
        bar.addStretch(1)
        self.refresh_profiles_button = QPushButton(self.tr("Refresh"))
        self.remove_profile_button = QPushButton(self.tr("Remove…"))
        bar.addWidget(self.refresh_profiles_button)
        bar.addWidget(self.remove_profile_button)
        layout.addLayout(bar)
        self.profiles_table = QTableWidget(0, 4)
        self.profiles_table.setHorizontalHeaderLabels(
            [self.tr("Name"), self.tr("Database"), self.tr("Last user"), self.tr("Password")])
        self.profiles_table.verticalHeader().hide()
        self.profiles_table.verticalHeader().setDefaultSectionSize(32)
        self.profiles_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.profiles_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.profiles_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.profiles_table.setShowGrid(False)
        self.profiles_table.setAlternatingRowColors(True)
        header = self.profiles_table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in ((0, 220), (1, 300), (2, 160)):
            self.profiles_table.setColumnWidth(column, width)
        layout.addWidget(self.profiles_table, 1)
        self.refresh_profiles_button.clicked.connect(self.reload_profiles)
        self.remove_profile_button.clicked.connect(self.remove_profile)
        self.profiles_table.itemSelectionChanged.connect(self._update_profile_buttons)
        self._update_profile_buttons()
        return tab

    # --- public API -----------------------------------------------------------------------
    @property
    def organization_id(self) -> uuid.UUID:
        return self._organization_id

    def set_organization(self, organization_id: uuid.UUID) -> None:
        """Show another organization (the window's organization switcher changed)."""
        if organization_id == self._organization_id:
            return
        self._organization_id = organization_id
        self._settings = None
        self.people_model.set_rows([])
        self._update_subtitle()
        self.reload_people()
        self.reload_settings()
        self.drive_tab.set_organization(organization_id)

    def reload_people(self, select: uuid.UUID | None = None) -> None:
        workspace, org = self._workspace, self._organization_id
        if not self.people_model.rowCount():
            self.people_count.setText(self.tr("Loading people…"))
        self._runner.run(lambda: admin.list_people(workspace, org),
                         on_done=lambda rows: self._people_loaded(org, rows, select),
                         on_error=lambda error: self._show_error(error, self.reload_people),
                         key=f"admin-people-{id(self)}")

    def on_memberships_changed(self, _ids: list[uuid.UUID]) -> None:
        """Live update (ChangeBus "memberships"): someone changed a person; read the list again."""
        self.reload_people()

    def reload_settings(self) -> None:
        workspace, org = self._workspace, self._organization_id
        self.settings_status.setText(self.tr("Loading…"))
        self._runner.run(lambda: admin.load_settings(workspace, org),
                         on_done=lambda settings: self._settings_loaded(org, settings),
                         on_error=lambda error: self._show_error(error, self.reload_settings),
                         key=f"admin-settings-{id(self)}")

    def reload_profiles(self) -> None:
        self._runner.run(self._store.load, on_done=self._profiles_loaded,
                         on_error=lambda error: self._show_error(error, self.reload_profiles),
                         key=f"admin-profiles-{id(self)}")

    def selected_person(self) -> PersonRow | None:
        rows = self.people_view.selectionModel().selectedRows()
        if not rows:
            return None
        person = rows[0].data(PeopleTableModel.PersonRole)
        return person if isinstance(person, PersonRow) else None

    def select_person(self, person_id: uuid.UUID) -> None:
        row = self.people_model.row_of(person_id)
        if row < 0:
            return
        index = self.people_proxy.mapFromSource(self.people_model.index(row, 0))
        if index.isValid():
            self.people_view.selectRow(index.row())
            self.people_view.scrollTo(index)

    # --- people ---------------------------------------------------------------------------
    def _people_loaded(self, org: uuid.UUID, rows: list[PersonRow],
                       select: uuid.UUID | None) -> None:
        if org != self._organization_id:
            return  # an answer for the organization shown before
        self.people_model.update_rows(rows)  # in place: selection and scroll stay
        if select is not None:
            self.select_person(select)
        self._update_people_count()
        self._update_person_buttons()
        self.sig_people_loaded.emit()

    def _update_people_count(self) -> None:
        rows = self.people_model.rows()
        active = sum(1 for r in rows if r.is_active)
        text = self.tr("{count} people · {active} active").format(count=len(rows), active=active)
        shown = self.people_proxy.rowCount()
        if shown != len(rows):
            text = self.tr("{shown} of {count} people").format(shown=shown, count=len(rows))
        self.people_count.setText(text)

    def _update_person_buttons(self) -> None:
        person = self.selected_person()
        for button in (self.role_button, self.active_button, self.password_button):
            button.setEnabled(person is not None and not self._writing)
        self.add_button.setEnabled(not self._writing)
        if person is not None and not person.is_active:
            self.active_button.setText(self.tr("Activate"))
        else:
            self.active_button.setText(self.tr("Deactivate"))

    def _open(self, dialog: QDialog, on_accepted: Callable[[], None]) -> None:
        self.dialog = dialog
        dialog.accepted.connect(on_accepted)
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        dialog.open()

    def _dialog_closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def add_person(self) -> None:
        dialog = AddPersonDialog(self._runner, self._workspace, self._organization_id, self)

        def added() -> None:
            self.reload_people(select=dialog.person_id)
            self._show_ok(self.tr("{username} was added. They can sign in now.").format(
                username=dialog.added_username))

        self._open(dialog, added)

    def change_role(self) -> None:
        person = self.selected_person()
        if person is None:
            return
        dialog = ChangeRoleDialog(self._runner, self._workspace, self._organization_id, person,
                                  self)

        def changed() -> None:
            self.reload_people(select=person.person_id)
            self._show_ok(self.tr("{name} is now: {role}.").format(
                name=person.display_name, role=role_label(dialog.selected_role)))

        self._open(dialog, changed)

    def reset_password(self) -> None:
        person = self.selected_person()
        if person is None:
            return
        dialog = ResetPasswordDialog(self._runner, self._workspace, person, self)
        self._open(dialog, lambda: self._show_ok(self.tr(
            "{name} has a new password. Tell them in person.").format(name=person.display_name)))

    def toggle_active(self) -> None:
        person = self.selected_person()
        if person is not None:
            self.set_person_active(person, not person.is_active)

    def set_person_active(self, person: PersonRow, active: bool) -> None:
        workspace, org = self._workspace, self._organization_id
        org_name = self._organization_name()

        def done(_result: None) -> None:
            self._set_writing(False)
            self.reload_people(select=person.person_id)
            if active:
                self._show_ok(self.tr("{name} can sign in again.").format(
                    name=person.display_name))
            else:
                self._show_ok(self.tr("{name} can no longer sign in to {org}.").format(
                    name=person.display_name, org=org_name),
                    action=self.tr("Undo"),
                    on_action=lambda: self.set_person_active(person, True))

        def failed(error: BaseException) -> None:
            self._set_writing(False)
            self._show_error(error)

        self._set_writing(True)
        self._runner.run(lambda: admin.set_active(workspace, org, person.person_id, active),
                         on_done=done, on_error=failed)

    def _set_writing(self, writing: bool) -> None:
        self._writing = writing
        self._update_person_buttons()

    # --- organization settings ------------------------------------------------------------
    def _settings_loaded(self, org: uuid.UUID, settings: OrgSettings) -> None:
        if org != self._organization_id:
            return
        self._settings = settings
        self._fill_settings(settings)
        self._set_settings_enabled(True)
        self.settings_status.setText("")
        self.sig_settings_loaded.emit(settings)

    def _fill_settings(self, settings: OrgSettings) -> None:
        self.name_edit.setText(settings.name)
        self.timezone_box.setEditText(settings.timezone)
        self.currency_box.setEditText(settings.currency)
        index = self.locale_box.findData(settings.locale)
        if index >= 0:
            self.locale_box.setCurrentIndex(index)
        else:
            self.locale_box.setEditText(settings.locale)
        for day, box in enumerate(self.day_boxes):
            box.setChecked(day in settings.working_days)
        self.file_limit_box.setValue(settings.max_file_mib)
        self._holidays = list(settings.holidays)
        self._fill_holidays()
        self._update_preview()

    def _set_settings_enabled(self, enabled: bool) -> None:
        for widget in (self.name_edit, self.timezone_box, self.currency_box, self.locale_box,
                       self.file_limit_box, *self.day_boxes, self.holiday_date, self.holiday_label,
                       self.holiday_add_button, self.holiday_table, self.save_button,
                       self.revert_button):
            widget.setEnabled(enabled)
        self._update_holiday_buttons()

    def _load_timezones(self) -> None:
        # The list comes from the time zone files on disk: read it off the GUI thread.
        self._runner.run(admin.timezone_names, on_done=self._timezones_ready,
                         on_error=lambda _error: None)  # free text still works

    def _timezones_ready(self, names: list[str]) -> None:
        current = self.timezone_box.currentText()
        self.timezone_box.blockSignals(True)
        self.timezone_box.clear()
        self.timezone_box.addItems(names)
        self.timezone_box.setEditText(current)
        self.timezone_box.blockSignals(False)
        self._timezones_loaded = True

    def _locale_code(self) -> str:
        """The locale chosen or typed ("Vietnamese (Vietnam) — vi_VN" or "vi-VN" -> vi_VN)."""
        text = self.locale_box.currentText().strip()
        index = self.locale_box.findText(text)
        if index >= 0:
            return str(self.locale_box.itemData(index))
        code = text.rsplit("—", 1)[-1].strip().replace("-", "_")
        return admin.check_locale(code) if code else ""

    def _update_preview(self) -> None:
        try:
            code = self._locale_code()
            currency = admin.check_currency(self.currency_box.currentText())
        except UserFacingError:
            self.format_preview.setText("")
            return
        if QLocale(code).name() != code:
            self.format_preview.setText("")
            return
        fmt = Formatter(code, currency)
        self.format_preview.setText(self.tr("Amounts look like {money}, dates like {date}.").format(
            money=fmt.money(1234.5), date=fmt.date(dt.date(2026, 12, 24))))

    def form_settings(self) -> OrgSettings:
        """What the form holds now, checked as far as possible without the database."""
        name = self.name_edit.text().strip()
        if not name:
            self.name_edit.setFocus()
            raise UserFacingError(self.tr("The organization needs a name."))
        timezone = self.timezone_box.currentText().strip()
        if self._timezones_loaded and self.timezone_box.findText(timezone) < 0:
            self.timezone_box.setFocus()
            raise UserFacingError(self.tr(
                "“{zone}” is not a time zone. Choose one from the list, e.g. America/Chicago or "
                "Europe/Berlin.").format(zone=timezone))
        currency = admin.check_currency(self.currency_box.currentText())
        locale = self._locale_code()
        if not locale or QLocale(locale).name() != locale:
            self.locale_box.setFocus()
            raise UserFacingError(self.tr(
                "“{text}” is not a language and country this app knows; choose one from the "
                "list.").format(text=self.locale_box.currentText().strip()))
        days = frozenset(i for i, box in enumerate(self.day_boxes) if box.isChecked())
        if not days:
            raise UserFacingError(self.tr("Choose at least one working day."))
        return OrgSettings(name=name, timezone=timezone, currency=currency, locale=locale,
                           working_days=days, holidays=tuple(self._holidays),
                           max_file_mib=self.file_limit_box.value(),
                           version=self._settings.version if self._settings else 0)

    def save_settings(self) -> None:
        if self._settings is None:
            return
        try:
            wanted = self.form_settings()
        except UserFacingError as error:
            self._show_error(error)
            return
        workspace, org, version = self._workspace, self._organization_id, self._settings.version
        self.save_button.setEnabled(False)
        self.settings_status.setText(self.tr("Saving…"))
        self._runner.run(lambda: admin.save_settings(workspace, org, wanted, version),
                         on_done=lambda saved: self._settings_saved(org, saved),
                         on_error=self._settings_failed)

    def _settings_saved(self, org: uuid.UUID, saved: OrgSettings) -> None:
        self.save_button.setEnabled(True)
        if org != self._organization_id:
            return
        self._settings = saved
        self._fill_settings(saved)  # the cleaned-up values (VND, vi_VN, sorted holidays)
        self.settings_status.setText(self.tr("Saved."))
        self._update_subtitle(saved.name)
        self._show_ok(self.tr("The organization settings were saved."))
        self.sig_settings_saved.emit(saved)

    def _settings_failed(self, error: BaseException) -> None:
        # The form keeps what was typed: nothing is refilled here.
        self.save_button.setEnabled(True)
        self.settings_status.setText("")
        if isinstance(error, SettingsConflictError):
            self.banner.show_message(str(error), kind="warning", action=self.tr("Reload"),
                              on_action=self.reload_settings)
        else:
            self._show_error(error)

    # --- holidays ---------------------------------------------------------------------------
    def add_holiday(self) -> None:
        qdate = self.holiday_date.date()
        day = dt.date(qdate.year(), qdate.month(), qdate.day())
        label = self.holiday_label.text().strip()
        existing = next((h for h in self._holidays if h.date == day), None)
        if existing is not None:
            self._holidays.remove(existing)  # the newer name wins; a date is listed once
        self._holidays.append(Holiday(day, label))
        self._holidays.sort()
        self._fill_holidays(select=day)
        self.holiday_label.clear()
        self.holiday_label.setFocus()

    def remove_holiday(self) -> None:
        rows = sorted({i.row() for i in self.holiday_table.selectedIndexes()}, reverse=True)
        for row in rows:
            if 0 <= row < len(self._holidays):
                del self._holidays[row]
        self._fill_holidays()

    def holidays(self) -> list[Holiday]:
        return list(self._holidays)

    def _fill_holidays(self, select: dt.date | None = None) -> None:
        table = self.holiday_table
        table.setRowCount(len(self._holidays))
        locale = QLocale()
        for row, holiday in enumerate(self._holidays):
            qdate = QDate(holiday.date.year, holiday.date.month, holiday.date.day)
            when = QTableWidgetItem(locale.toString(qdate, "ddd d MMM yyyy"))
            when.setData(Qt.ItemDataRole.UserRole, holiday.date)
            table.setItem(row, 0, when)
            table.setItem(row, 1, QTableWidgetItem(holiday.label))
            if holiday.date == select:
                table.selectRow(row)
        self._update_holiday_buttons()

    def _update_holiday_buttons(self) -> None:
        self.holiday_remove_button.setEnabled(
            self.holiday_table.isEnabled() and bool(self.holiday_table.selectedIndexes()))

    # --- connections ------------------------------------------------------------------------
    def _profiles_loaded(self, profiles: list[ConnectionProfile]) -> None:
        self._profiles = list(profiles)
        table = self.profiles_table
        table.setRowCount(len(profiles))
        in_use = self._workspace.profile.name.casefold()
        for row, profile in enumerate(profiles):
            name = profile.name
            if profile.name.casefold() == in_use:
                name = self.tr("{name} (in use)").format(name=profile.name)
            kind = "database" if profile.is_embedded else "server"
            first = QTableWidgetItem(icons.icon(kind, theme.current().muted), name)
            first.setData(Qt.ItemDataRole.UserRole, profile.name)
            table.setItem(row, 0, first)
            table.setItem(row, 1, QTableWidgetItem(profile.describe()))
            table.setItem(row, 2, QTableWidgetItem(profile.last_username))
            table.setItem(row, 3, QTableWidgetItem(
                self.tr("Remembered in the keyring") if profile.remember_password
                else self.tr("Asked at sign-in")))
        self.profiles_count.setText(
            self.tr("{count} saved connections").format(count=len(profiles)) if profiles
            else self.tr("No saved connections on this computer."))
        self._update_profile_buttons()
        self.sig_profiles_loaded.emit()

    def selected_profile(self) -> ConnectionProfile | None:
        rows = {i.row() for i in self.profiles_table.selectedIndexes()}
        if len(rows) != 1:
            return None
        row = rows.pop()
        return self._profiles[row] if 0 <= row < len(self._profiles) else None

    def _update_profile_buttons(self) -> None:
        profile = self.selected_profile()
        in_use = (profile is not None
                  and profile.name.casefold() == self._workspace.profile.name.casefold())
        self.remove_profile_button.setEnabled(profile is not None and not in_use)
        self.remove_profile_button.setToolTip(
            self.tr("You are signed in through this connection.") if in_use else "")

    def confirm(self, question: str) -> bool:
        """Ask before something that cannot be undone (tests replace this)."""
        answer = QMessageBox.question(
            self, self.tr("Remove connection"), question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def remove_profile(self) -> None:
        profile = self.selected_profile()
        if profile is None:
            return
        if not self.confirm(self.tr(
                "Remove the connection “{name}” from this computer? The database and its data "
                "stay as they are; you can set the connection up again later.").format(
                    name=profile.name)):
            return
        store = self._store
        self.remove_profile_button.setEnabled(False)

        def failed(error: BaseException) -> None:
            self._show_error(error)
            self._update_profile_buttons()

        self._runner.run(lambda: admin.forget_connection(store, profile),
                         on_done=lambda _result: self._profile_removed(profile),
                         on_error=failed)

    def _profile_removed(self, profile: ConnectionProfile) -> None:
        self._show_ok(self.tr("The connection “{name}” was removed.").format(name=profile.name))
        self.reload_profiles()

    # --- messages ---------------------------------------------------------------------------
    def _organization_name(self) -> str:
        membership = self._workspace.identity.membership(self._organization_id)
        return membership.name if membership else self.tr("this organization")

    def _update_subtitle(self, name: str | None = None) -> None:
        self.subtitle.setText(self.tr(
            "People and roles, settings of {org}, and the connections on this computer.").format(
                org=name or self._organization_name()))


    def _show_error(self, error: BaseException,
                    retry: Callable[[], None] | None = None) -> None:
        self.banner.show_message(describe_error(error), kind="error",
                          action=self.tr("Retry") if retry else None, on_action=retry)

    def _show_ok(self, text: str, *, action: str | None = None,
                 on_action: Callable[[], None] | None = None) -> None:
        self.banner.show_message(text, kind="ok", action=action, on_action=on_action,
                          timeout_ms=_OK_TIMEOUT_MS)


