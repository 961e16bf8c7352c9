"""Administration → Backups: the folder's backups and whether they verified, back up now (with
progress and cancel), verify, the restore wizard, retention, and the stale-backup alert
(T-BAK-10). The daily automatic backup itself is run by the app (`ui/app.py`), signed in or not
on this page.

Every file and database step runs on the task runner; one backup task at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import backups
from factorypulse_desktop.services.backups import (
    BackupFile,
    BackupRun,
    BackupSettings,
    BackupSettingsStore,
    BackupsState,
    Restored,
    Verification,
)
from factorypulse_desktop.services.profiles import ConnectionProfile, ProfileStore
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.dialogs.restore_dialog import RestoreDialog
from factorypulse_desktop.ui.tasks import TaskHandle, TaskRunner, TaskState, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner
from factorypulse_desktop.ui.widgets.forms import add_form_row, muted_label

_STATUS_TEXT = {"verified": "Verified", "unverified": "Not verified yet", "failed": "Failed",
                "no manifest": "No manifest"}
_COLUMNS = ("Made", "Kind", "Size", "Status", "Checked")

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _size(size: int) -> str:
    if size >= 1_073_741_824:
        return f"{size / 1_073_741_824:.1f} GB"
    if size >= 1_048_576:
        return f"{size / 1_048_576:.1f} MB"
    return f"{max(1, size // 1024)} KB"


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


class BackupsTab(QWidget):
    """Backups of the database the app is connected to, made by this computer."""

    sig_state_loaded = Signal(object)
    """The folder was read (`BackupsState`)."""
    sig_task_finished = Signal(str)
    """A backup task ended ("done", "failed" or "cancelled") and the list shows its result."""

    def __init__(self, runner: TaskRunner, profile: ConnectionProfile, profile_store: ProfileStore,
                 settings_store: BackupSettingsStore | None = None, clock: Clock = _utc_now,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._profile = profile
        self._profiles = profile_store
        self._store = settings_store or BackupSettingsStore()
        self._clock = clock
        self.settings: BackupSettings | None = None
        self.state: BackupsState | None = None
        self.task: TaskHandle | None = None
        self.dialog: RestoreDialog | None = None
        self.last_restored: Restored | None = None
        self._select_after_load: Path | None = None
        self._finished_outcome: str | None = None
        self._build()
        self.reload()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(muted_label(self.tr(
            "A backup is a complete copy of this database — every organization, person, "
            "project and stored file — written by this computer into the folder below. Each "
            "new backup is checked by restoring it into a scratch database; only a backup that "
            "passed counts as verified. Copy the folder to another disk or place regularly: a "
            "backup on the same disk as the database does not survive that disk.")))
        self.banner = Banner()
        layout.addWidget(self.banner)
        self.health = QLabel()
        self.health.setObjectName("backupHealth")
        self.health.setWordWrap(True)
        self.health.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.health)
        layout.addLayout(self._build_connection())
        folder_row = QHBoxLayout()
        self.folder_label = muted_label("")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.change_folder_button = QPushButton(self.tr("Change folder…"))
        self.change_folder_button.clicked.connect(self.choose_folder)
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.change_folder_button)
        layout.addLayout(folder_row)
        layout.addLayout(self._build_actions())
        layout.addLayout(self._build_progress())
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels([self.tr(c) for c in _COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._build_settings())

    def _build_connection(self) -> QFormLayout:
        form = QFormLayout()
        self.login = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox(self.tr("Remember the password in this computer's keyring"))
        if self._profile.is_embedded:
            form.addRow(muted_label(self.tr(
                "The database on this computer is backed up with this computer's own "
                "administrator account: nothing to set up.")))
            return form
        form.addRow(muted_label(self.tr(
            "A shared server is backed up with its owner's login or another member of "
            "fp_backup (ask the server's administrator). A person's own login cannot: it sees "
            "only its organization.")))
        self.login.setPlaceholderText(self.tr("e.g. factorypulse_owner"))
        add_form_row(form, self.tr("Backup login"), self.login)
        self.password.setPlaceholderText(self.tr("Password of the backup login"))
        add_form_row(form, self.tr("Password"), self.password)
        form.addRow("", self.remember)
        return form

    def _build_actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.backup_button = QPushButton(self.tr("Back up now"))
        self.backup_button.setObjectName("primary")
        self.backup_button.clicked.connect(self.back_up_now)
        self.verify_button = QPushButton(self.tr("Verify"))
        self.verify_button.clicked.connect(self.verify_selected)
        self.restore_button = QPushButton(self.tr("Restore…"))
        self.restore_button.clicked.connect(self.restore_selected)
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.clicked.connect(self.reload)
        for button in (self.backup_button, self.verify_button, self.restore_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.refresh_button)
        return row

    def _build_progress(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 0)  # pg_dump and pg_restore do not say how far they are
        self.progress_bar.setMaximumWidth(180)
        self.progress_label = muted_label("")
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.progress_bar)
        row.addWidget(self.progress_label, 1)
        row.addWidget(self.cancel_button)
        self._show_progress(False)
        return row

    def _build_settings(self) -> QFrame:
        box = QFrame()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        keep = QHBoxLayout()
        self.keep_daily, self.keep_weekly, self.keep_monthly = (
            self._spin(0, 1000), self._spin(0, 1000), self._spin(0, 1000))
        for label, spin in ((self.tr("daily"), self.keep_daily),
                            (self.tr("weekly"), self.keep_weekly),
                            (self.tr("monthly"), self.keep_monthly)):
            keep.addWidget(spin)
            keep.addWidget(QLabel(label))
            keep.addSpacing(10)
        keep.addStretch(1)
        form.addRow(self.tr("Keep (verified)"), keep)
        self.alert_days = self._spin(1, 366)
        self.alert_days.setSuffix(self.tr(" days"))
        self.alert_days.setMaximumWidth(120)
        form.addRow(self.tr("Warn when the newest verified backup is older than"),
                    self.alert_days)
        self.automatic = QCheckBox(
            self.tr("Back up automatically once a day while the app is open"))
        self.automatic.setToolTip(self.tr(
            "For backups while the app is closed, schedule `factorypulse backup create` with "
            "cron, Task Scheduler or launchd (admin guide, docs/backups.md)."))
        form.addRow("", self.automatic)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.save_button = QPushButton(self.tr("Save backup settings"))
        self.save_button.clicked.connect(self.save_settings)
        buttons.addWidget(self.save_button)
        form.addRow(buttons)
        return box

    @staticmethod
    def _spin(low: int, high: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        return spin

    # --- loading --------------------------------------------------------------------------
    def reload(self) -> None:
        profile, store, clock = self._profile, self._store, self._clock

        def read() -> tuple[BackupSettings, BackupsState]:
            settings = store.load(profile.name)
            return settings, backups.load_state(profile, settings, clock())

        self._runner.run(read, on_done=self._loaded, on_error=self._failed,
                         key=f"backups-{id(self)}")

    def _loaded(self, loaded: tuple[BackupSettings, BackupsState]) -> None:
        settings, state = loaded
        if self.settings is None:
            self._fill_settings(settings)  # later reloads keep what is being typed
        self.settings, self.state = settings, state
        self.folder_label.setText(self.tr("Folder: {folder}").format(folder=state.folder))
        if state.password_stored and not self.password.text():
            self.password.setPlaceholderText(self.tr("Stored in the keyring"))
        self._show_health()
        self._fill_table(state.backups)
        if self._select_after_load is not None:
            self.select_backup(self._select_after_load)
            self._select_after_load = None
        self._update_buttons()
        if self._finished_outcome is not None:
            outcome, self._finished_outcome = self._finished_outcome, None
            self.sig_task_finished.emit(outcome)
        self.sig_state_loaded.emit(state)

    def _fill_settings(self, settings: BackupSettings) -> None:
        self.keep_daily.setValue(settings.daily)
        self.keep_weekly.setValue(settings.weekly)
        self.keep_monthly.setValue(settings.monthly)
        self.alert_days.setValue(settings.alert_after_days)
        self.automatic.setChecked(settings.automatic)
        self.login.setText(settings.login)

    def _show_health(self) -> None:
        assert self.state is not None
        health = self.state.health
        colors = theme.current()
        color = colors.ok if health.ok else colors.error
        self.health.setText(health.message)
        self.health.setProperty("alert", not health.ok)
        self.health.setStyleSheet(
            f"QLabel#backupHealth {{ border-left: 4px solid {color}; padding: 6px 10px; "
            f"background: {colors.base}; }}")

    def _fill_table(self, rows: list[BackupFile]) -> None:
        selected = self.selected_backup()
        self.table.setRowCount(len(rows))
        for r, backup in enumerate(rows):
            checked = backup.verified_at or ""
            if checked:
                checked = _local(datetime.fromisoformat(checked))
            values = (_local(backup.created_at), backup.kind, _size(backup.size),
                      self.tr(_STATUS_TEXT.get(backup.status, backup.status)), checked)
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, backup)
                if c == 3 and backup.problems:
                    item.setToolTip("\n".join(backup.problems))
                self.table.setItem(r, c, item)
            if selected is not None and backup.path == selected.path:
                self.table.selectRow(r)

    def selected_backup(self) -> BackupFile | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return value if isinstance(value, BackupFile) else None

    def select_backup(self, path: Path) -> None:
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            backup = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
            if isinstance(backup, BackupFile) and backup.path == path:
                self.table.selectRow(r)
                return

    def _update_buttons(self) -> None:
        idle = self.task is None and self.settings is not None
        chosen = self.selected_backup()
        self.backup_button.setEnabled(idle)
        self.verify_button.setEnabled(idle and chosen is not None)
        self.restore_button.setEnabled(idle and chosen is not None and chosen.kind == "complete")
        self.change_folder_button.setEnabled(idle)
        self.save_button.setEnabled(self.settings is not None)

    # --- settings -------------------------------------------------------------------------
    def form_settings(self) -> BackupSettings:
        folder = self.settings.folder if self.settings else ""
        return BackupSettings(
            folder=folder, daily=self.keep_daily.value(), weekly=self.keep_weekly.value(),
            monthly=self.keep_monthly.value(), alert_after_days=self.alert_days.value(),
            automatic=self.automatic.isChecked(), login=self.login.text().strip())

    def save_settings(self, then: Callable[[], None] | None = None) -> None:
        try:
            settings = self.form_settings()
        except UserFacingError as error:
            self.banner.show_message(str(error), kind="error")
            return
        profile, store = self._profile, self._store
        password, remember = self.password.text(), self.remember.isChecked()

        def save() -> bool:
            store.save(profile.name, settings)
            if remember and password and settings.login:
                return backups.remember_password(profile, settings.login, password)
            return True

        def saved(kept: bool) -> None:
            self.settings = settings
            if not kept:
                self.banner.show_message(self.tr(
                    "Saved, but this computer has no secure keyring: the password is kept "
                    "only until the app closes."), kind="warning")
            elif then is None:
                self.banner.show_message(self.tr("Backup settings saved."), kind="ok",
                                         timeout_ms=6000)
            if then is not None:
                then()
            else:
                self.reload()

        self._runner.run(save, on_done=saved, on_error=self._failed)

    def choose_folder(self) -> None:
        current = str(self.state.folder) if self.state else ""
        chosen = QFileDialog.getExistingDirectory(self, self.tr("Folder for backups"), current)
        if chosen and self.settings is not None:
            self.settings = BackupSettings(**{**self.settings.__dict__, "folder": chosen})
            self.save_settings()

    # --- tasks ----------------------------------------------------------------------------
    def _url(self) -> str:
        assert self.settings is not None
        return backups.owner_url(self._profile, self.form_settings(), self.password.text())

    def _start(self, doing: str, cancelled: str,
               body: Callable[[str, Callable[[str], None]], Any],
               done: Callable[[Any], None]) -> None:
        """Run `body(url, progress)` as the one backup task, with progress and Cancel."""
        if self.task is not None or self.settings is None:
            return
        try:
            url = self._url()  # no I/O unless the keyring is asked, which is quick
        except UserFacingError as error:
            self.banner.show_message(str(error), kind="error")
            return

        def work(state: TaskState) -> Any:
            def progress(message: str) -> None:
                state.check()  # Cancel pressed: stop the program and clean up
                state.progress(None, message)

            return body(url, progress)

        def finished(outcome: str) -> Callable[..., None]:
            def end(*value: Any) -> None:
                self.task = None
                self._show_progress(False)
                self._update_buttons()
                if outcome == "done":
                    done(value[0])
                elif outcome == "failed":
                    self.banner.show_message(describe_error(value[0]), kind="error")
                else:
                    self.banner.show_message(cancelled, kind="info", timeout_ms=8000)
                self._finished_outcome = outcome  # told once the list shows it
                self.reload()
            return end

        self.banner.hide()
        self.progress_label.setText(doing)
        self._show_progress(True)
        self.task = self._runner.run_long(
            work, on_progress=lambda _f, message: self.progress_label.setText(message),
            on_done=finished("done"), on_error=finished("failed"),
            on_cancelled=finished("cancelled"))
        self._update_buttons()

    def _show_progress(self, running: bool) -> None:
        self.progress_bar.setVisible(running)
        self.progress_label.setVisible(running)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)

    def cancel(self) -> None:
        if self.task is not None:
            self.cancel_button.setEnabled(False)
            self.progress_label.setText(self.tr("Cancelling…"))
            self.task.cancel()

    def back_up_now(self) -> None:
        if self.state is None or self.settings is None:
            return
        folder, settings = self.state.folder, self.form_settings()
        self._start(self.tr("Backing up…"), self.tr(
            "Backup cancelled. A backup cancelled while it was written leaves no file; one "
            "cancelled while it was being checked stays in the list as not verified."),
                    lambda url, progress: backups.backup_now(url, folder, settings, progress),
                    self._backed_up)

    def _backed_up(self, run: BackupRun) -> None:
        if run.verification.ok:
            pruned = (self.tr(" {n} old backup(s) deleted by the retention policy.")
                      .format(n=len(run.pruned)) if run.pruned else "")
            self.banner.show_message(self.tr("Backup made and verified: {name}.").format(
                name=run.created.name) + pruned, kind="ok", timeout_ms=10000)
        else:
            self.banner.show_message(self.tr(
                "The backup {name} was written but FAILED its check: {problem}").format(
                name=run.created.name, problem="; ".join(run.verification.problems[:3])),
                kind="error")
        self._select_after_load = run.created

    def verify_selected(self) -> None:
        chosen = self.selected_backup()
        if chosen is None:
            return
        path = chosen.path
        self._start(self.tr("Verifying…"), self.tr(
            "Verification cancelled: the backup keeps the status it had."),
                    lambda url, progress: backups.verify(url, path, progress), self._verified)

    def _verified(self, result: Verification) -> None:
        if result.ok:
            self.banner.show_message(self.tr("{name} is verified: it restores completely.")
                                     .format(name=result.path.name), kind="ok", timeout_ms=10000)
        else:
            self.banner.show_message(self.tr("{name} FAILED its check: {problem}").format(
                name=result.path.name, problem="; ".join(result.problems[:3])), kind="error")

    def restore_selected(self) -> None:
        chosen = self.selected_backup()
        if chosen is None or self.dialog is not None:
            return
        dialog = RestoreDialog(chosen, backups.default_name(chosen.path), self)
        self.dialog = dialog

        def closed(result: int) -> None:
            self.dialog = None
            dialog.deleteLater()
            if result:
                self._restore(chosen.path, dialog.database_name())

        dialog.finished.connect(closed)
        dialog.open()

    def _restore(self, path: Path, into: str) -> None:
        self._start(self.tr("Restoring…"), self.tr(
            "Restore cancelled: the new database was removed again."),
                    lambda url, progress: backups.restore(url, path, into, progress),
                    self._restored)

    def _restored(self, restored: Restored) -> None:
        logins = (self.tr(" {n} login(s) were created without a password: set their passwords "
                          "before those people sign in.").format(n=len(restored.logins_created))
                  if restored.logins_created else "")
        self.last_restored = restored
        self.banner.show_message(
            self.tr("Restored into the new database {name}.").format(name=restored.database)
            + logins, kind="ok", action=self.tr("Add a connection to it"),
            on_action=lambda: self.add_connection(restored.database))

    def add_connection(self, database: str) -> None:
        store, profile = self._profiles, self._profile
        self._runner.run(
            lambda: backups.switch_profile_to(store, profile, database),
            on_done=lambda added: self.banner.show_message(self.tr(
                "Connection “{name}” added. Sign out and choose it to work on the restored "
                "database.").format(name=added.name), kind="ok"),
            on_error=self._failed)

    def _failed(self, error: BaseException) -> None:
        self.banner.show_message(describe_error(error), kind="error")
        if self._finished_outcome is not None:  # the list could not be read after a task
            outcome, self._finished_outcome = self._finished_outcome, None
            self.sig_task_finished.emit(outcome)
