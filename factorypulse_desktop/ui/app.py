"""The composition root: builds the application's parts and moves between sign-in and work."""

from __future__ import annotations

import functools
import logging
import sys
import threading
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QVBoxLayout, QWidget

from factorypulse_desktop import __version__
from factorypulse_desktop.domain.live import FeedState
from factorypulse_desktop.services import loading
from factorypulse_desktop.services.io_guard import forbid_database_io_on_current_thread
from factorypulse_desktop.services.organizations import organization_locale
from factorypulse_desktop.services.profiles import DEMO_PROFILE, ConnectionProfile, ProfileStore
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.events import ChangeBus
from factorypulse_desktop.ui.live import LiveUpdates
from factorypulse_desktop.ui.main_window import Area, MainWindow, OrgChoice
from factorypulse_desktop.ui.pages.placeholder import PlaceholderPage
from factorypulse_desktop.ui.pages.registry import PAGE_AREAS, PageContext, make_page
from factorypulse_desktop.ui.palette import SearchPalette
from factorypulse_desktop.ui.tasks import TaskHandle, TaskRunner, TaskState

if TYPE_CHECKING:
    from factorypulse_desktop.services import auth
    from factorypulse_desktop.services.live import ChangeFeed
    from factorypulse_desktop.ui.widgets.notification_bell import NotificationBell

log = logging.getLogger(__name__)

# The database driver (psycopg, 0.1 s to import) is loaded by the first task that signs in, not
# before the first window: services that use it are imported inside the functions below.

# Which sidebar area holds each kind of record the palette finds.
KIND_AREAS = {
    "project": "projects", "contact": "contacts", "document": "documents",
    "purchase_order": "purchasing", "inventory_item": "inventory",
    "production_order": "production", "person": "administration",
}
class OrganizationPage(Protocol):
    """A page that shows one organization's data and follows the organization switcher."""

    def set_organization(self, organization_id: uuid.UUID) -> None: ...


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

    sig_window_shown = Signal()
    """The main window is on screen (the person may still be signing in)."""
    sig_window_ready = Signal()
    """The main window shows a signed-in person."""

    def __init__(self, *, demo: bool = False, settings: QSettings | None = None,
                 store: ProfileStore | None = None) -> None:
        super().__init__()
        self.demo = demo
        self.settings = settings or QSettings()
        self.store = store or ProfileStore()
        self.runner = TaskRunner(self)
        self.bus = ChangeBus(self)
        self.bell: NotificationBell | None = None
        self.backup_task: TaskHandle | None = None
        self._due_timer = QTimer(self)
        self._due_timer.setInterval(60 * 60 * 1000)
        self._due_timer.timeout.connect(self._check_due)
        self._due_timer.start()
        self.live = LiveUpdates(_change_feed, self)
        self.live.sig_changes.connect(self.bus.publish)
        self.live.sig_state.connect(self._on_live_state)
        self.workspace: auth.Workspace | None = None
        self.window: MainWindow | None = None
        self.dialog: QDialog | None = None
        self.palette: SearchPalette | None = None
        self._data_layer_loaded = False
        self._palette_wanted = False
        self._switching = False  # closing a window on purpose (sign out), not to quit

    # --- start ----------------------------------------------------------------------------
    def start(self) -> None:
        if self.demo:
            self._start_demo()
        else:
            self.runner.run(self.store.load, on_done=self._show_sign_in,
                            on_error=self._fatal)

    def _start_demo(self) -> None:
        # The window opens at once and fills in when the demo person is signed in: the
        # database driver alone takes longer to load than the window (docs/decisions/0002).
        window = self._open_window()

        preparing = self.tr("Preparing the demo database… The first start fills it with "
                            "sample data and takes a few seconds.")

        def prepare_and_sign_in(state: TaskState) -> auth.Workspace:
            from factorypulse_desktop.services import auth, setup

            if not setup.demo_exists():
                state.progress(None, preparing)
            try:  # usually the demo is ready: sign in straight away
                return auth.sign_in(DEMO_PROFILE, setup.DEMO_USERNAME, setup.DEMO_PASSWORD)
            except auth.SignInError as error:
                if error.problem is auth.SignInProblem.UNREACHABLE:
                    raise
            # First use (or a demo made by an older version): set it up, then sign in.
            state.progress(None, preparing)
            setup.prepare_demo()
            return auth.sign_in(DEMO_PROFILE, setup.DEMO_USERNAME, setup.DEMO_PASSWORD)

        def progress(_fraction: float | None, message: str) -> None:
            window.banner.show_message(message, kind="info")

        def failed(error: BaseException) -> None:
            window.set_connection_state("offline")
            window.banner.show_message(str(error), kind="error")

        self.runner.run_long(prepare_and_sign_in, on_progress=progress,
                             on_done=self._signed_in, on_error=failed)

    def _show_sign_in(self, profiles: Sequence[ConnectionProfile]) -> None:
        if not profiles:
            self._show_first_run()
            return
        from factorypulse_desktop.ui.dialogs.sign_in import SignInDialog

        dialog = SignInDialog(self.runner, profiles, self.store.last_used)
        dialog.sig_signed_in.connect(self._signed_in)
        dialog.sig_setup_requested.connect(self._show_first_run)
        self._set_dialog(dialog)

    def _show_first_run(self) -> None:
        from factorypulse_desktop.ui.dialogs.first_run import FirstRunWizard

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
    def _open_window(self) -> MainWindow:
        """The main window, empty until `_signed_in` says who is signed in."""
        window = MainWindow("", [], settings=self.settings, page_factory=self._make_page)
        window.sig_sign_out.connect(self.sign_out)
        window.sig_search_requested.connect(self.open_palette)
        window.sig_closed.connect(lambda: self._closed_by_user(window))
        window.sig_organization_changed.connect(self._organization_changed)
        window.sig_copy_diagnostics.connect(self.copy_diagnostics)
        window.sig_open_log_folder.connect(self.open_log_folder)
        self.runner.sig_error.connect(window.show_error)
        self.window = window
        self._drop_dialog()
        window.show()
        self.sig_window_shown.emit()
        return window

    def _signed_in(self, workspace: auth.Workspace, remembered: bool = True) -> None:
        self.workspace = workspace
        window = self.window or self._open_window()
        window.banner.hide()
        identity = workspace.identity
        window.set_identity(identity.display_name,
                            [OrgChoice(m.organization_id, m.name, m.role, *organization_locale(m))
                             for m in identity.memberships])
        if not remembered:
            window.banner.show_message(
                self.tr("Your password cannot be remembered on this computer: it has no "
                        "secure keyring. You will be asked for it next time."), kind="warning")
        self.live.start(workspace.conninfo())
        if self._data_layer_loaded:
            window.reload_pages()
        else:
            # A failure reaches the window's banner through runner.sig_error.
            self.runner.run(loading.load_data_layer, on_done=self._on_data_layer_loaded)
        self.sig_window_ready.emit()

    def _on_data_layer_loaded(self, _result: object = None) -> None:
        self._data_layer_loaded = True
        if self.window is not None and self.workspace is not None:
            self.window.reload_pages()
            self._organization_changed(self.window.organization.organization_id)
            if self._palette_wanted:
                self.open_palette()
        self._palette_wanted = False

    def _make_page(self, area: Area, organization_id: uuid.UUID) -> QWidget | None:
        """The real page of an area, where one exists yet (others show a placeholder)."""
        if area.key not in PAGE_AREAS:
            return None
        workspace, window = self.workspace, self.window
        if workspace is None or window is None or not self._data_layer_loaded:
            return PlaceholderPage(area.title, area.icon, self.tr("Loading…"))
        context = PageContext(self.runner, workspace, organization_id, window.formatter,
                              self.store, self.bus, self.open_intake, self.open_project)
        return make_page(area.key, context)

    def _organization_changed(self, organization_id: object) -> None:
        if self.window is None or self.workspace is None:
            return
        if not isinstance(organization_id, uuid.UUID) or not self._data_layer_loaded:
            return
        for key in PAGE_AREAS:
            page = self.window.page(key)
            if hasattr(page, "set_organization"):
                following: OrganizationPage = page  # type: ignore[assignment]
                following.set_organization(organization_id)
        self.runner.run(functools.partial(_housekeeping, self.workspace, organization_id),
                        on_error=lambda error: log.warning("Housekeeping failed: %s", error))
        self._show_bell(organization_id)
        self._automatic_backup()

    def _show_bell(self, organization_id: uuid.UUID) -> None:
        """The notification bell of the signed-in person, following the organization."""
        from factorypulse_desktop.ui.widgets.notification_bell import NotificationBell

        window, workspace = self.window, self.workspace
        if window is None or workspace is None:
            return
        if self.bell is None:
            self.bell = NotificationBell(self.runner, workspace, organization_id, parent=window)
            window.add_topbar_widget(self.bell)
            self.bus.subscribe("notifications", self.bell.on_notifications_changed)
            self.bell.sig_open.connect(self._open_notifications)
            self.bell.refresh()
        else:
            self.bell.set_organization(organization_id)

    def _open_notifications(self) -> None:
        if self.window is not None:
            self.window.show_area("notifications")

    def _check_due(self) -> None:
        """Hourly while signed in: projects that became late or due tell their people."""
        if self.window is None or self.workspace is None or not self._data_layer_loaded:
            return
        from factorypulse_desktop.services import notifications

        self.runner.run(functools.partial(notifications.check_due, self.workspace,
                                          self.window.organization.organization_id),
                        on_error=lambda error: log.warning("Due check failed: %s", error))
        self._automatic_backup()

    def _automatic_backup(self) -> None:
        """At sign-in and hourly, for administrators: the daily backup when this computer has
        it switched on (Administration → Backups) and none was made in the last day."""
        from factorypulse_desktop.domain.enums import Role

        if (self.window is None or self.workspace is None or self.window.role != Role.ADMIN
                or (self.backup_task is not None and not self.backup_task.done)):
            return
        from factorypulse_desktop.services import backups

        profile = self.workspace.profile

        def finished(run: object) -> None:
            if run is not None:
                log.info("Automatic backup: %s", run)

        self.backup_task = self.runner.run_long(
            lambda _state: backups.automatic_backup(profile), on_done=finished,
            on_error=lambda error: log.warning("Automatic backup failed: %s", error))

    def open_palette(self) -> SearchPalette | None:
        window, workspace = self.window, self.workspace
        if window is None:
            return None
        if workspace is None or not self._data_layer_loaded:  # opens once search can run
            self._palette_wanted = True
            return None
        from factorypulse_desktop.services import search  # loaded by load_data_layer

        org = window.organization.organization_id
        palette = SearchPalette(
            self.runner, lambda text: search.search_workspace(workspace, org, text), window)
        palette.sig_open.connect(self._open_record)
        palette.show()
        self.palette = palette
        return palette

    def _open_record(self, kind: str, record_id: object) -> None:
        """Go to the record's area, and open the record where it has a page of its own."""
        if self.window is None:
            return
        area = KIND_AREAS.get(kind, "dashboard")
        self.window.show_area(area)
        if kind == "project" and isinstance(record_id, uuid.UUID):
            self.open_project(record_id)

    def open_project(self, project_id: uuid.UUID) -> None:
        """The project's page, in the Projects area."""
        if self.window is None:
            return
        self.window.show_area("projects")
        area = self.window.page("projects")
        opener = getattr(area, "open_project", None)
        if callable(opener):
            opener(project_id)

    def open_intake(self) -> QDialog | None:
        """The intake form for a new project (non-modal; the window stays usable)."""
        window, workspace = self.window, self.workspace
        if window is None or workspace is None or not self._data_layer_loaded:
            return None
        from factorypulse_desktop.ui.dialogs.intake_dialog import IntakeDialog

        dialog = IntakeDialog(self.runner, workspace, window.organization.organization_id,
                              window)
        dialog.sig_open_project.connect(self.open_project)
        dialog.sig_created.connect(lambda _result: self._reload_projects())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def _reload_projects(self) -> None:
        area = self.window.page("projects") if self.window is not None else None
        list_page = getattr(area, "list_page", None)
        if list_page is not None:
            list_page.reload()

    # --- help -----------------------------------------------------------------------------
    def copy_diagnostics(self) -> TaskHandle:
        """Collect the diagnostics on a worker, then put them on the clipboard and say so."""
        from factorypulse_desktop.ui import help_actions

        workspace, window = self.workspace, self.window
        return help_actions.copy_diagnostics(
            self.runner, workspace=workspace,
            state=window.connection_state if window is not None else None,
            on_copied=self._diagnostics_copied, on_error=self._help_failed)

    def _diagnostics_copied(self) -> None:
        if self.window is not None:
            self.window.banner.show_message(
                self.tr("Diagnostics copied to the clipboard: paste them into your message to "
                        "support. They hold no password."), kind="info")

    def open_log_folder(self) -> TaskHandle:
        """Open the folder of the log files in the system's file manager."""
        from factorypulse_desktop.services import diagnostics

        def opened(folder: object) -> None:
            from factorypulse_desktop.ui.system_open import open_file

            if not open_file(str(folder)) and self.window is not None:
                self.window.banner.show_message(
                    self.tr("The log folder could not be opened. It is {folder}").format(
                        folder=folder), kind="warning")

        return self.runner.run(diagnostics.log_folder, on_done=opened,
                               on_error=self._help_failed)

    def _help_failed(self, error: BaseException) -> None:
        log.warning("Help action failed: %s", error)
        if self.window is not None:
            self.window.show_error(str(error))

    def _on_live_state(self, state: FeedState) -> None:
        if self.window is not None:
            self.window.set_connection_state(state.value)

    def sign_out(self) -> None:
        """Back to the sign-in window without restarting; another person may sign in."""
        self.live.stop()
        window, self.window = self.window, None
        self.bell = None  # it goes with the window
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
        # The runner's shutdown cancels every task, queued ones included, so the closing work
        # cannot be given to it: it runs after, on a thread of its own (never on this one,
        # which may not touch the database), and the process waits for the server to stop.
        self.runner.shutdown(timeout_ms=15000)
        closing = threading.Thread(
            target=_close_at_exit, args=(self.workspace,), name="close-at-exit")
        closing.start()
        closing.join(timeout=60)


def _change_feed(conninfo: str, *, last_seen: int | None = None) -> ChangeFeed:
    from factorypulse_desktop.services.live import ChangeFeed

    return ChangeFeed(conninfo, last_seen=last_seen)


def _close_at_exit(workspace: auth.Workspace | None) -> None:
    """Close the workspace's connections, then stop embedded servers nobody else uses."""
    from factorypulse_desktop.services import auth

    if workspace is not None:
        try:
            workspace.close()
        except Exception:
            log.exception("Closing the workspace at exit failed")
    auth.stop_embedded_if_unused()


def run_gui(*, demo: bool = False, smoke_test: bool = False,
            argv: list[str] | None = None) -> int:
    """Start the desktop app; returns the exit status."""
    from factorypulse_desktop.services.diagnostics import (
        configure_logging,
        log_uncaught_exceptions,
    )

    configure_logging()  # done already when started by the `factorypulse` command
    log_uncaught_exceptions()
    qt_app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    assert isinstance(qt_app, QApplication)
    qt_app.setOrganizationName("Factory Pulse")
    qt_app.setApplicationName("factorypulse-desktop")
    qt_app.setApplicationDisplayName("Factory Pulse")
    qt_app.setApplicationVersion(__version__)
    # Wayland matches windows to the bundle's desktop entry (packaging/linux) by this name.
    qt_app.setDesktopFileName("factorypulse")
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
        # Printed once the window has been through the event loop (painted), like the bare
        # window of benchmarks/startup.py; "shown" is the frame, "ready" the signed-in person.
        app.sig_window_shown.connect(lambda: QTimer.singleShot(
            0, lambda: print("main window shown", flush=True)))
        app.sig_window_ready.connect(lambda: QTimer.singleShot(
            0, lambda: (print("main window ready", flush=True), qt_app.quit())))
    app.start()
    return qt_app.exec()


def _housekeeping(workspace: auth.Workspace, organization_id: uuid.UUID) -> None:
    """On a worker at sign-in: remove abandoned uploads (T-FILE-02's janitor), escalate
    overdue approval steps to the roles their chains name, and tell people of late projects."""
    from factorypulse_desktop.services import approvals, document_files, notifications

    document_files.tidy_up(workspace, organization_id)
    approvals.escalate_overdue(workspace, organization_id)
    notifications.check_due(workspace, organization_id)
