"""The composition root: builds the application's parts and moves between sign-in and work."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Sequence

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QVBoxLayout, QWidget

from factorypulse_desktop import __version__
from factorypulse_desktop.domain.live import FeedState
from factorypulse_desktop.services import auth, search, setup
from factorypulse_desktop.services.io_guard import forbid_database_io_on_current_thread
from factorypulse_desktop.services.live import ChangeFeed
from factorypulse_desktop.services.organizations import organization_locale
from factorypulse_desktop.services.profiles import DEMO_PROFILE, ConnectionProfile, ProfileStore
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.dialogs.first_run import FirstRunWizard
from factorypulse_desktop.ui.dialogs.sign_in import SignInDialog
from factorypulse_desktop.ui.events import ChangeBus
from factorypulse_desktop.ui.live import LiveUpdates
from factorypulse_desktop.ui.main_window import Area, MainWindow, OrgChoice
from factorypulse_desktop.ui.pages.administration import AdministrationPage
from factorypulse_desktop.ui.palette import SearchPalette
from factorypulse_desktop.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

# Which sidebar area holds each kind of record the palette finds.
KIND_AREAS = {
    "project": "projects", "contact": "contacts", "document": "documents",
    "purchase_order": "purchasing", "inventory_item": "inventory",
    "production_order": "production", "person": "administration",
}


class StartupSplash(QDialog):
    """A small window that says what is happening while the first connection is made."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Factory Pulse")
        self.setWindowIcon(icons.app_icon())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 28, 32, 28)
        logo = QLabel()
        logo.setPixmap(icons.app_icon().pixmap(48, 48))
        layout.addWidget(logo, 0, Qt.AlignmentFlag.AlignHCenter)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setMinimumWidth(320)
        layout.addWidget(self.label)


class DesktopApp(QObject):
    """Owns the task runner, live updates and the current window; no global main window."""

    sig_window_ready = Signal()
    """The main window is shown for a signed-in person."""

    def __init__(self, *, demo: bool = False, settings: QSettings | None = None,
                 store: ProfileStore | None = None) -> None:
        super().__init__()
        self.demo = demo
        self.settings = settings or QSettings()
        self.store = store or ProfileStore()
        self.runner = TaskRunner(self)
        self.bus = ChangeBus(self)
        self.live = LiveUpdates(ChangeFeed, self)
        self.live.sig_changes.connect(self.bus.publish)
        self.live.sig_state.connect(self._on_live_state)
        self.workspace: auth.Workspace | None = None
        self.window: MainWindow | None = None
        self.dialog: QDialog | None = None
        self.palette: SearchPalette | None = None
        self._switching = False  # closing a window on purpose (sign out), not to quit

    # --- start ----------------------------------------------------------------------------
    def start(self) -> None:
        if self.demo:
            self._start_demo()
        else:
            self.runner.run(self.store.load, on_done=self._show_sign_in,
                            on_error=self._fatal)

    def _start_demo(self) -> None:
        splash = StartupSplash(self.tr("Preparing the demo database… The first start fills it "
                                       "with sample data and takes a few seconds."))
        self._set_dialog(splash)

        def prepare_and_sign_in() -> auth.Workspace:
            setup.prepare_demo()
            return auth.sign_in(DEMO_PROFILE, setup.DEMO_USERNAME, setup.DEMO_PASSWORD)

        def failed(error: BaseException) -> None:
            splash.label.setText(str(error))

        self.runner.run(prepare_and_sign_in, on_done=self._signed_in, on_error=failed)

    def _show_sign_in(self, profiles: Sequence[ConnectionProfile]) -> None:
        if not profiles:
            self._show_first_run()
            return
        dialog = SignInDialog(self.runner, profiles, self.store.last_used)
        dialog.sig_signed_in.connect(self._signed_in)
        dialog.sig_setup_requested.connect(self._show_first_run)
        self._set_dialog(dialog)

    def _show_first_run(self) -> None:
        wizard = FirstRunWizard(self.runner, self.store)
        wizard.sig_profile_ready.connect(
            lambda _profile: self.runner.run(self.store.load, on_done=self._show_sign_in))
        self._set_dialog(wizard)

    def _set_dialog(self, dialog: QDialog) -> None:
        self._drop_dialog()
        self.dialog = dialog
        dialog.rejected.connect(lambda: self._closed_by_user(dialog))
        dialog.show()

    def _drop_dialog(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            self._switching = True
            dialog.close()
            dialog.deleteLater()
            self._switching = False

    def _closed_by_user(self, widget: QWidget) -> None:
        """Closing the only window ends the app (quit-on-last-window is off: see run_gui)."""
        if self._switching or widget not in (self.dialog, self.window):
            return
        app = QApplication.instance()
        if app is not None:
            app.quit()

    # --- signed in ------------------------------------------------------------------------
    def _signed_in(self, workspace: auth.Workspace, remembered: bool = True) -> None:
        self.workspace = workspace
        identity = workspace.identity
        choices = [OrgChoice(m.organization_id, m.name, m.role, *organization_locale(m))
                   for m in identity.memberships]
        window = MainWindow(identity.display_name, choices, settings=self.settings,
                            page_factory=lambda area, org: self._make_page(area, org, workspace))
        window.sig_sign_out.connect(self.sign_out)
        window.sig_search_requested.connect(self.open_palette)
        window.sig_closed.connect(lambda: self._closed_by_user(window))
        self.window = window
        # Connected after construction: restoring the last organization must not reach pages
        # built for another one, so bring them in line once.
        window.sig_organization_changed.connect(self._organization_changed)
        self._organization_changed(window.organization.organization_id)
        self._drop_dialog()
        window.show()
        if not remembered:
            window.banner.show_message(
                self.tr("Your password cannot be remembered on this computer: it has no "
                        "secure keyring. You will be asked for it next time."), kind="warning")
        self.runner.sig_error.connect(window.show_error)
        self.live.start(workspace.conninfo())
        self.sig_window_ready.emit()

    def _make_page(self, area: Area, organization_id: uuid.UUID,
                   workspace: auth.Workspace) -> QWidget | None:
        """The real page of an area, where one exists yet (others show a placeholder)."""
        if area.key == "administration":
            return AdministrationPage(self.runner, workspace, organization_id, self.store)
        return None

    def _organization_changed(self, organization_id: object) -> None:
        if self.window is None:
            return
        page = self.window.page("administration")
        if isinstance(page, AdministrationPage) and isinstance(organization_id, uuid.UUID):
            page.set_organization(organization_id)

    def open_palette(self) -> SearchPalette | None:
        window, workspace = self.window, self.workspace
        if window is None or workspace is None:
            return None
        org = window.organization.organization_id
        palette = SearchPalette(
            self.runner, lambda text: search.search_workspace(workspace, org, text), window)
        palette.sig_open.connect(self._open_record)
        palette.show()
        self.palette = palette
        return palette

    def _open_record(self, kind: str, _record_id: object) -> None:
        """Go to the record's area; the record pages themselves arrive with later issues."""
        if self.window is None:
            return
        area = KIND_AREAS.get(kind, "dashboard")
        self.window.show_area(area)

    def _on_live_state(self, state: FeedState) -> None:
        if self.window is not None:
            self.window.set_connection_state(state.value)

    def sign_out(self) -> None:
        """Back to the sign-in window without restarting; another person may sign in."""
        self.live.stop()
        window, self.window = self.window, None
        if window is not None:
            self._switching = True
            window.close()
            window.deleteLater()
            self._switching = False
        workspace, self.workspace = self.workspace, None
        if workspace is not None:
            self.runner.run(workspace.close)
        self.demo = False
        self.runner.run(self.store.load, on_done=self._show_sign_in_or_demo,
                        on_error=self._fatal)

    def _show_sign_in_or_demo(self, profiles: Sequence[ConnectionProfile]) -> None:
        # After a demo session the demo profile is offered like any other.
        names = {p.name for p in profiles}
        if DEMO_PROFILE.name not in names and self._used_demo():
            profiles = [*profiles, DEMO_PROFILE]
        self._show_sign_in(profiles)

    def _used_demo(self) -> bool:
        return bool(self.settings.value("app/used_demo", False, type=bool))

    def _fatal(self, error: BaseException) -> None:
        log.error("start-up failed: %s", error)
        self._set_dialog(StartupSplash(str(error)))

    # --- exit -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        self.live.stop()
        if self.window is not None:
            self.window.save_state()
        workspace = self.workspace
        if workspace is not None:
            self.runner.run(workspace.close)
        self.runner.run(auth.stop_embedded_if_unused)
        self.runner.shutdown(timeout_ms=15000)


def run_gui(*, demo: bool = False, smoke_test: bool = False,
            argv: list[str] | None = None) -> int:
    """Start the desktop app; returns the exit status."""
    qt_app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    assert isinstance(qt_app, QApplication)
    qt_app.setOrganizationName("Factory Pulse")
    qt_app.setApplicationName("factorypulse-desktop")
    qt_app.setApplicationDisplayName("Factory Pulse")
    qt_app.setApplicationVersion(__version__)
    qt_app.setWindowIcon(icons.app_icon())
    # Signing out closes the main window before the sign-in window opens: we quit ourselves.
    qt_app.setQuitOnLastWindowClosed(False)
    theme.apply(qt_app)
    qt_app.styleHints().colorSchemeChanged.connect(lambda _scheme: theme.apply(qt_app))
    # From here on, a database call on this thread raises instead of freezing the window.
    forbid_database_io_on_current_thread()
    app = DesktopApp(demo=demo)
    if demo:
        app.settings.setValue("app/used_demo", True)
    qt_app.aboutToQuit.connect(app.shutdown)
    if smoke_test:
        app.sig_window_ready.connect(lambda: (print("main window ready", flush=True),
                                              qt_app.quit()))
    app.start()
    return qt_app.exec()
