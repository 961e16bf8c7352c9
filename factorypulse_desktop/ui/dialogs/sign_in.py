"""Sign in: profile, user name, password, remember me — every failure said in plain words.

A server that cannot be reached (down at app start, network gone: RELIABILITY.md T-NET-08) is
tried again by itself after 2, 5, 10, then every 30 s, with a countdown under the message. Only
a one-second timer runs meanwhile (no polling, no busy loop). Editing the user name, password
or connection stops the countdown; pressing Sign in (or Enter) tries at once and starts the
schedule again from the shortest pause.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import auth, credentials
from factorypulse_desktop.services.profiles import ConnectionProfile
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.tasks import TaskHandle, TaskRunner
from factorypulse_desktop.ui.widgets.forms import add_form_row


class SignInDialog(QDialog):
    """Collects credentials and signs in off the GUI thread; typed input is never cleared."""

    sig_signed_in = Signal(object, bool)
    """Signed in: the `auth.Workspace`, and whether the password was remembered as asked
    (False when the user asked but this computer has no secure keyring)."""
    sig_setup_requested = Signal()
    """The user wants to set up a new connection (first-run wizard)."""

    RETRY_DELAYS_S: tuple[int, ...] = (2, 5, 10, 30)
    """Pauses before the automatic attempts after "cannot be reached"; the last one repeats."""

    def __init__(self, runner: TaskRunner, profiles: Sequence[ConnectionProfile],
                 last_profile: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._profiles = list(profiles)
        self.setWindowTitle(self.tr("Factory Pulse — Sign in"))
        self.setWindowIcon(icons.app_icon())
        self.setMinimumWidth(420)
        # Automatic retry after an unreachable server: a 1 s tick drives the countdown.
        self._retry_timer = QTimer(self)
        self._retry_timer.setInterval(1000)
        self._retry_timer.timeout.connect(self._retry_tick)
        self._retry_step = 0  # index into RETRY_DELAYS_S of the next pause
        self._retry_left = 0  # seconds until the next automatic attempt
        self._retry_reason = ""  # the failure's message, shown above the countdown
        self._build()
        names = [p.name for p in self._profiles]
        if last_profile in names:
            self.profile_box.setCurrentIndex(names.index(last_profile))
        self._on_profile_changed()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        colors = theme.current()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(14)
        header = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(icons.app_icon().pixmap(40, 40))
        title = QLabel(self.tr("Sign in to Factory Pulse"))
        title.setObjectName("pageTitle")
        header.addWidget(logo)
        header.addWidget(title, 1)
        layout.addLayout(header)

        form = QFormLayout()
        form.setSpacing(10)
        self.profile_box = QComboBox()
        for profile in self._profiles:
            kind = "database" if profile.kind == "embedded" else "server"
            self.profile_box.addItem(icons.icon(kind, colors.muted), profile.name)
        self.profile_box.currentIndexChanged.connect(self._on_profile_changed)
        self.username = QLineEdit()
        self.username.setPlaceholderText(self.tr("e.g. j.doe"))
        self.username.textEdited.connect(self._cancel_retry)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.textEdited.connect(self._cancel_retry)
        self.remember = QCheckBox(self.tr("Remember my password on this computer"))
        add_form_row(form, self.tr("Connection"), self.profile_box)
        add_form_row(form, self.tr("User name"), self.username)
        add_form_row(form, self.tr("Password"), self.password)
        form.addRow("", self.remember)
        layout.addLayout(form)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setStyleSheet(f"color: {colors.error};")
        self.message.hide()
        layout.addWidget(self.message)

        buttons = QHBoxLayout()
        self.setup_button = QPushButton(self.tr("New connection…"))
        self.setup_button.clicked.connect(self.sig_setup_requested)
        self.upgrade_button = QPushButton(self.tr("Upgrade the database"))
        self.upgrade_button.clicked.connect(self._upgrade)
        self.upgrade_button.hide()
        self.sign_in_button = QPushButton(self.tr("Sign in"))
        self.sign_in_button.setObjectName("primary")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.submit)
        # For support when signing in fails: no password, whatever was typed.
        self.diagnostics_button = QPushButton(self.tr("Copy diagnostics"))
        self.diagnostics_button.setFlat(True)
        self.diagnostics_button.setToolTip(self.tr(
            "Copy versions, folders and this connection's settings (never a password) to "
            "paste into a message to support"))
        self.diagnostics_button.clicked.connect(self.copy_diagnostics)
        buttons.addWidget(self.setup_button)
        buttons.addWidget(self.diagnostics_button)
        buttons.addStretch(1)
        buttons.addWidget(self.upgrade_button)
        buttons.addWidget(self.sign_in_button)
        layout.addLayout(buttons)
        self.password.returnPressed.connect(self.submit)

    # --- behaviour ------------------------------------------------------------------------
    @property
    def profile(self) -> ConnectionProfile | None:
        index = self.profile_box.currentIndex()
        return self._profiles[index] if 0 <= index < len(self._profiles) else None

    @property
    def retry_in(self) -> int | None:
        """Seconds until the next automatic sign-in attempt, or None when none is planned."""
        return self._retry_left if self._retry_timer.isActive() else None

    def _on_profile_changed(self) -> None:
        self._cancel_retry()
        profile = self.profile
        if profile is None:
            return
        if profile.last_username and not self.username.text():
            self.username.setText(profile.last_username)
        self.remember.setChecked(profile.remember_password)
        if profile.remember_password and profile.last_username:
            self._runner.run(
                lambda: credentials.load_password(profile, profile.last_username),
                on_done=self._fill_remembered,
                on_error=lambda _error: None,  # nothing remembered: the user types it
            )
        (self.password if self.username.text() else self.username).setFocus()

    def _fill_remembered(self, password: str | None) -> None:
        if password and not self.password.text():
            self.password.setText(password)

    def copy_diagnostics(self) -> TaskHandle:
        """The diagnostics of the chosen connection on the clipboard (collected on a worker);
        the button says when they are there."""
        from factorypulse_desktop.ui import help_actions

        failure = "" if self.message.isHidden() else self.message.text()
        state = f"not signed in: {failure}" if failure else "not signed in"

        def copied() -> None:
            self.diagnostics_button.setText(self.tr("Diagnostics copied"))
            button = self.diagnostics_button
            QTimer.singleShot(4000, button, lambda: button.setText(self.tr("Copy diagnostics")))

        return help_actions.copy_diagnostics(self._runner, profile=self.profile, state=state,
                                     on_copied=copied)

    def _busy(self, busy: bool, text: str = "") -> None:
        for widget in (self.profile_box, self.username, self.password, self.remember,
                       self.sign_in_button, self.setup_button, self.upgrade_button):
            widget.setEnabled(not busy)
        if busy:
            self._show(text, error=False)

    def _show(self, text: str, *, error: bool = True) -> None:
        colors = theme.current()
        self.message.setStyleSheet(f"color: {colors.error if error else colors.muted};")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def submit(self) -> None:
        """Sign in now (the button, Enter); a planned automatic attempt is replaced by this."""
        self._retry_step = 0
        self._attempt()

    def _attempt(self) -> None:
        self._retry_timer.stop()
        profile = self.profile
        username = self.username.text().strip()
        password = self.password.text()
        if profile is None:
            self._show(self.tr("Set up a connection first."))
            return
        if not username or not password:
            self._show(self.tr("Type your user name and password."))
            (self.username if not username else self.password).setFocus()
            return
        self.upgrade_button.hide()
        self._busy(True, self.tr("Signing in…"))
        self._runner.run(lambda: auth.sign_in(profile, username, password),
                         on_done=self._signed_in, on_error=self._failed, key="sign-in")

    def _signed_in(self, workspace: auth.Workspace) -> None:
        profile, username = workspace.profile, self.username.text().strip()
        remember, password = self.remember.isChecked(), self.password.text()
        self._show(self.tr("Signed in."), error=False)
        self._runner.run(
            lambda: credentials.after_sign_in(profile, username, password, remember),
            on_done=lambda remembered: self._finish(workspace, remembered),
            on_error=lambda _error: self._finish(workspace, not remember))

    def _finish(self, workspace: auth.Workspace, remembered: bool) -> None:
        self._busy(False)
        self.sig_signed_in.emit(workspace, remembered)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._busy(False)
        self._show(str(error))
        if isinstance(error, auth.SignInError):
            if error.problem is auth.SignInProblem.WRONG_PASSWORD:
                self.password.selectAll()
                self.password.setFocus()
            elif error.problem is auth.SignInProblem.UNREACHABLE:
                self.sign_in_button.setText(self.tr("Try again"))
                profile = self.profile
                # A server may come back by itself; a database on this computer that could
                # not be started needs the user (and another start attempt is not cheap), and
                # so does a refusal by the server's rules, encryption or certificate.
                if (profile is not None and profile.kind == "server" and error.temporary
                        and self.isVisible()):
                    self._schedule_retry(str(error))
            elif error.problem is auth.SignInProblem.SCHEMA_OLDER and error.can_upgrade:
                self.upgrade_button.show()

    # --- automatic retry (T-NET-08) ----------------------------------------------------------
    def _schedule_retry(self, reason: str) -> None:
        delays = self.RETRY_DELAYS_S
        self._retry_left = delays[min(self._retry_step, len(delays) - 1)]
        self._retry_step += 1
        self._retry_reason = reason
        self._show_countdown()
        self._retry_timer.start()

    def _retry_tick(self) -> None:
        self._retry_left -= 1
        if self._retry_left > 0:
            self._show_countdown()
            return
        self._retry_timer.stop()
        if self.isVisible():
            self._attempt()

    def _show_countdown(self) -> None:
        countdown = self.tr("Trying again in %n s…", "", self._retry_left)
        self._show(f"{self._retry_reason}\n{countdown}")

    def _cancel_retry(self) -> None:
        """The user edits: no attempt behind their back; the reason stays on screen."""
        if self._retry_timer.isActive():
            self._retry_timer.stop()
            self._show(self._retry_reason)
        self._retry_step = 0

    def done(self, result: int) -> None:
        self._retry_timer.stop()
        super().done(result)

    def _upgrade(self) -> None:
        profile = self.profile
        if profile is None:
            return
        self._busy(True, self.tr("Upgrading the database…"))
        self._runner.run(lambda: auth.upgrade_schema(profile),
                         on_done=lambda _result: self.submit(), on_error=self._failed)
