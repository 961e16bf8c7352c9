"""The main window: sidebar of areas, organization switcher, status bar, message banner."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.pages.placeholder import PlaceholderPage
from factorypulse_desktop.ui.widgets.banner import Banner


@dataclass(frozen=True)
class Area:
    key: str
    title: str
    icon: str
    description: str
    only_for: tuple[Role, ...] = ()  # empty: every role


def areas() -> tuple[Area, ...]:
    tr = _tr
    return (
        Area("dashboard", tr("Dashboard"), "dashboard",
             tr("Your priorities at a glance: projects waiting too long in a stage, deliveries "
                "that are due, approvals that wait for you and what changed recently. Arrives "
                "with the projects work.")),
        Area("projects", tr("Projects"), "projects",
             tr("Every customer project from intake to delivery: the intake form, the list with "
                "filters, the board by stage and each project's page with its workflow.")),
        Area("approvals", tr("Approvals"), "approvals",
             tr("What waits for your decision, with delegation, history and bulk approval that "
                "is all or nothing.")),
        Area("contacts", tr("Contacts"), "contacts",
             tr("Customers, suppliers and partners, with their people and capabilities.")),
        Area("purchasing", tr("Purchasing"), "purchasing",
             tr("Supplier RFQs and quotes side by side, purchase orders and receiving.")),
        Area("inventory", tr("Inventory"), "inventory",
             tr("Items, locations and the stock ledger, with low-stock alerts and labels.")),
        Area("production", tr("Production"), "production",
             tr("Production orders, operations by work center and the shop-floor station.")),
        Area("documents", tr("Documents"), "documents",
             tr("Drawings, specifications and certificates with versions, previews and links "
                "to Google Drive.")),
        Area("notifications", tr("Notifications"), "notifications",
             tr("Mentions, approvals and changes that concern you.")),
        Area("activity", tr("Activity log"), "activity",
             tr("Who did what and when, for auditors: filter and export."),
             only_for=(Role.ADMIN, Role.MANAGEMENT)),
        Area("administration", tr("Administration"), "administration",
             tr("People and their roles, organization settings and connection profiles."),
             only_for=(Role.ADMIN,)),
    )


def _tr(text: str) -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("MainWindow", text)


@dataclass(frozen=True)
class OrgChoice:
    """One organization the signed-in person belongs to, as the window shows it."""

    organization_id: uuid.UUID
    name: str
    role: Role
    locale_name: str = "en_US"
    currency: str = "USD"


class MainWindow(QMainWindow):
    """The frame every page lives in. Pages are created lazily by `page_factory(area, org)`;
    a page that shows one organization's data follows `sig_organization_changed`.

    Made with no organizations, it shows the frame while the person is being signed in
    ("Signing in…", pages "Loading…"); `set_identity` then fills it in. The app opens it
    that way on an automatic sign-in, so the window is up before the database answers.
    """

    sig_sign_out = Signal()
    """The user asked to sign out (or switch person)."""
    sig_organization_changed = Signal(object)
    """The active organization changed (its uuid); it is a filter, not a permission."""
    sig_search_requested = Signal()
    """Ctrl+K: open the search palette."""
    sig_closed = Signal()
    """The user closed the window."""
    sig_copy_diagnostics = Signal()
    """Help → Copy diagnostics: the app collects them (on a worker) for the clipboard."""
    sig_open_log_folder = Signal()
    """Help → Open log folder."""

    STATES = {"connecting": "Connecting…", "online": "Online",
              "reconnecting": "Reconnecting…", "offline": "Offline"}

    def __init__(
        self,
        person_name: str,
        organizations: Sequence[OrgChoice],
        *,
        settings: QSettings | None = None,
        page_factory: Callable[[Area, uuid.UUID], QWidget | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings or QSettings()
        self._person_name = person_name
        self._organizations = list(organizations)
        self._page_factory = page_factory
        self._pages: dict[str, QWidget] = {}
        self._area_after_sign_in: tuple[str, str | None] | None = None
        self.setWindowIcon(icons.app_icon())
        self.setMinimumSize(QSize(900, 560))
        self._build()
        self._restore()
        self._restore_organization()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        colors = theme.current()
        central = QWidget()
        root = QHBoxLayout(central)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)

        side = QFrame()
        side.setObjectName("sidepanel")
        side.setFixedWidth(216)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(0)
        brand = QHBoxLayout()
        brand.setContentsMargins(16, 14, 16, 10)
        logo = QLabel()
        logo.setPixmap(icons.app_icon().pixmap(28, 28))
        name = QLabel(self.tr("Factory Pulse"))
        name.setObjectName("brand")
        brand.addWidget(logo)
        brand.addWidget(name, 1)
        side_layout.addLayout(brand)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        side_layout.addWidget(self.sidebar, 1)
        root.addWidget(side)

        right = QVBoxLayout()
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        right.addWidget(self._build_topbar(colors))
        self.banner = Banner()
        banner_box = QVBoxLayout()
        banner_box.setContentsMargins(16, 10, 16, 0)
        banner_box.addWidget(self.banner)
        right.addLayout(banner_box)
        self.stack = QStackedWidget()
        right.addWidget(self.stack, 1)
        root.addLayout(right, 1)
        self.setCentralWidget(central)

        self._status_dot = QLabel("●")
        self._status_text = QLabel()
        self._person_label = QLabel()
        self.statusBar().addWidget(self._status_dot)
        self.statusBar().addWidget(self._status_text)
        self.statusBar().addPermanentWidget(self._person_label)
        self.set_connection_state("connecting")

        search = QAction(self.tr("Search everything"), self)
        search.setShortcut(QKeySequence("Ctrl+K"))
        search.triggered.connect(self.sig_search_requested)
        self.addAction(search)
        self.sidebar.currentRowChanged.connect(self._show_row)
        self._fill_sidebar()
        self._update_person_label()
        self._update_title()

    def _build_topbar(self, colors: theme.Colors) -> QFrame:
        bar = QFrame()
        bar.setObjectName("topbar")
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(16, 8, 12, 8)
        layout.setSpacing(10)
        org_icon = QLabel()
        org_icon.setPixmap(icons.icon("organization", colors.muted).pixmap(20, 20))
        layout.addWidget(org_icon)
        self.org_switcher = QComboBox()
        self.org_switcher.setMinimumWidth(220)
        self._fill_org_switcher()
        self.org_switcher.setToolTip(self.tr("Organization you are working in"))
        self.org_switcher.currentIndexChanged.connect(self._on_org_changed)
        layout.addWidget(self.org_switcher)
        layout.addStretch(1)
        self.search_button = QPushButton(icons.icon("search", colors.muted),
                                         self.tr("Search…  Ctrl+K"))
        self.search_button.setMinimumWidth(260)
        self.search_button.setStyleSheet("text-align: left;")
        self.search_button.clicked.connect(self.sig_search_requested)
        layout.addWidget(self.search_button)
        layout.addStretch(1)
        layout.addWidget(self._build_help_button())
        self.sign_out_button = QPushButton(icons.icon("sign-out", colors.muted),
                                           self.tr("Sign out"))
        self.sign_out_button.clicked.connect(self.sig_sign_out)
        self.sign_out_button.setEnabled(self.has_identity)  # nothing to sign out of yet
        layout.addWidget(self.sign_out_button)
        self._topbar_layout = layout
        return bar

    def _build_help_button(self) -> QPushButton:
        """Help: for every person, signed in or not yet (support asks for diagnostics)."""
        self.help_button = QPushButton(self.tr("Help"))  # looks like its neighbour Sign out
        self.help_button.setToolTip(self.tr("Diagnostics and logs for support"))
        menu = QMenu(self.help_button)
        self.copy_diagnostics_action = menu.addAction(self.tr("Copy diagnostics"))
        self.copy_diagnostics_action.setToolTip(self.tr(
            "Copy versions, folders and the connection's state (never a password) to paste "
            "into a message to support"))
        self.copy_diagnostics_action.triggered.connect(self.sig_copy_diagnostics)
        self.open_log_folder_action = menu.addAction(self.tr("Open log folder"))
        self.open_log_folder_action.triggered.connect(self.sig_open_log_folder)
        self.help_button.setMenu(menu)
        return self.help_button

    def add_topbar_widget(self, widget: QWidget) -> None:
        """Put `widget` (the notification bell) in the top bar, left of Sign out."""
        layout = self._topbar_layout
        layout.insertWidget(layout.indexOf(self.sign_out_button), widget)

    def _fill_org_switcher(self) -> None:
        self.org_switcher.blockSignals(True)
        self.org_switcher.clear()
        for org in self._organizations:
            self.org_switcher.addItem(org.name, org.organization_id)
        if not self._organizations:
            self.org_switcher.addItem(self.tr("Signing in…"))
        self.org_switcher.setEnabled(len(self._organizations) > 1)
        self.org_switcher.blockSignals(False)

    def _fill_sidebar(self) -> None:
        colors = theme.current()
        current_key = self.current_area_key()
        self.sidebar.blockSignals(True)
        self.sidebar.clear()
        role = self.role if self.has_identity else None
        self._visible_areas = [a for a in areas() if not a.only_for or role in a.only_for]
        for area in self._visible_areas:
            item = QListWidgetItem(icons.icon(area.icon, colors.muted), area.title)
            item.setData(Qt.ItemDataRole.UserRole, area.key)
            item.setSizeHint(QSize(0, 36))
            self.sidebar.addItem(item)
        self.sidebar.blockSignals(False)
        self.show_area(current_key or "dashboard")

    # --- public API -----------------------------------------------------------------------
    @property
    def has_identity(self) -> bool:
        """Whether the signed-in person is known (see `set_identity`)."""
        return bool(self._organizations)

    def set_identity(self, person_name: str, organizations: Sequence[OrgChoice]) -> None:
        """Fill in who is signed in; the last organization used is chosen again."""
        if not organizations:
            raise ValueError("a signed-in person belongs to at least one organization")
        self._person_name = person_name
        self._organizations = list(organizations)
        self._fill_org_switcher()
        self._restore_organization()
        self.sign_out_button.setEnabled(True)
        self._drop_pages()  # the "Loading…" ones
        self._on_org_changed(self.org_switcher.currentIndex())
        wanted, shown = self._area_after_sign_in or (None, None)
        self._area_after_sign_in = None
        if wanted and self.current_area_key() == shown:  # not if the person moved on meanwhile
            self.show_area(wanted)

    @property
    def organization(self) -> OrgChoice:
        """The active organization; only once the identity is known (`has_identity`)."""
        if not self._organizations:
            raise RuntimeError("no one is signed in yet")
        return self._organizations[max(self.org_switcher.currentIndex(), 0)]

    @property
    def role(self) -> Role:
        return self.organization.role

    @property
    def formatter(self) -> Formatter:
        """Numbers, money and dates as the active organization writes them."""
        org = self.organization
        return Formatter(org.locale_name, org.currency)

    def area_keys(self) -> list[str]:
        return [a.key for a in self._visible_areas]

    def current_area_key(self) -> str | None:
        item = self.sidebar.currentItem() if hasattr(self, "_visible_areas") else None
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def show_area(self, key: str) -> None:
        keys = self.area_keys()
        self.sidebar.setCurrentRow(keys.index(key) if key in keys else 0)

    def set_connection_state(self, state: str) -> None:
        colors = theme.current()
        color = {"online": colors.ok, "reconnecting": colors.warn, "offline": colors.error}.get(
            state, colors.muted)
        self._status_dot.setStyleSheet(f"color: {color};")
        self._status_text.setText(self.tr(self.STATES.get(state, state)))
        self.connection_state = state

    def show_error(self, text: str, action: str | None = None) -> None:
        self.banner.show_message(text, kind="error", action=action)

    # --- behaviour ------------------------------------------------------------------------
    def _show_row(self, row: int) -> None:
        if row < 0 or row >= len(self._visible_areas):
            return
        area = self._visible_areas[row]
        page = self._pages.get(area.key)
        if page is None:
            if not self.has_identity:
                page = PlaceholderPage(area.title, area.icon, self.tr("Loading…"))
            else:
                made = (self._page_factory(area, self.organization.organization_id)
                        if self._page_factory else None)
                page = made or PlaceholderPage(area.title, area.icon, area.description)
            self._pages[area.key] = page
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)

    def page(self, key: str) -> QWidget | None:
        return self._pages.get(key)

    def reload_pages(self) -> None:
        """Make every page again, e.g. when the real pages can replace "Loading…" ones."""
        self._drop_pages()
        self._show_row(self.sidebar.currentRow())

    def _drop_pages(self) -> None:
        for page in self._pages.values():
            self.stack.removeWidget(page)
            page.deleteLater()
        self._pages.clear()

    def _on_org_changed(self, _index: int) -> None:
        self._fill_sidebar()  # the role, and so the areas, may differ per organization
        self._update_person_label()
        self._update_title()
        self.sig_organization_changed.emit(self.organization.organization_id)

    def _update_person_label(self) -> None:
        if not self.has_identity:
            self._person_label.setText(self.tr("Signing in…"))
            return
        self._person_label.setText(
            self.tr("{name} · {role}").format(name=self._person_name,
                                              role=self.role.value.capitalize()))

    def _update_title(self) -> None:
        if not self.has_identity:
            self.setWindowTitle(self.tr("Factory Pulse"))
            return
        self.setWindowTitle(self.tr("Factory Pulse — {org}").format(org=self.organization.name))

    # --- window state ---------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = self._settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 760)
        last = self._settings.value("main_window/last_area")
        if isinstance(last, str):
            self.show_area(last)
            # Administration appears only once the person is known to be an admin.
            self._area_after_sign_in = (last, self.current_area_key())

    def _restore_organization(self) -> None:
        last_org = self._settings.value("main_window/last_organization")
        for index, org in enumerate(self._organizations):
            if str(org.organization_id) == last_org:
                self.org_switcher.blockSignals(True)
                self.org_switcher.setCurrentIndex(index)
                self.org_switcher.blockSignals(False)

    def save_state(self) -> None:
        self._settings.setValue("main_window/geometry", self.saveGeometry())
        self._settings.setValue("main_window/last_area", self.current_area_key() or "dashboard")
        if self.has_identity:
            self._settings.setValue("main_window/last_organization",
                                    str(self.organization.organization_id))
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        super().closeEvent(event)
        self.sig_closed.emit()
