"""Help → Copy diagnostics and Open log folder, signed in to the demo database.

The GUI thread is banned from database I/O for the whole test: the diagnostics are collected
on a worker and only the clipboard and the banner are touched on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.organizations import organization_locale
from factorypulse_desktop.services.profiles import ProfileStore
from factorypulse_desktop.ui import system_open
from factorypulse_desktop.ui.app import DesktopApp
from factorypulse_desktop.ui.main_window import MainWindow, OrgChoice

WAIT = 20_000


@dataclass
class Env:
    app: DesktopApp
    window: MainWindow
    workspace: Workspace
    log_dir: Path


@pytest.fixture
def env(qapp: QApplication, qtbot: QtBot, demo_db: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    log_dir = tmp_path / "logs"
    monkeypatch.setenv("FACTORYPULSE_LOG_DIR", str(log_dir))
    workspace = off_gui(lambda: sign_in(profile_for(demo_db), "acme.sales", DEMO_PASSWORD))
    app = DesktopApp(settings=QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat),
                     store=ProfileStore(tmp_path / "config"))
    forbid_database_io_on_current_thread()
    try:
        app.workspace = workspace
        window = app._open_window()
        qtbot.addWidget(window)
        window.set_identity(workspace.identity.display_name,
                            [OrgChoice(m.organization_id, m.name, m.role,
                                       *organization_locale(m))
                             for m in workspace.identity.memberships])
        window.set_connection_state("online")
        yield Env(app, window, workspace, log_dir)
    finally:
        app.runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def test_help_menu_is_there_before_anyone_signs_in(qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow("", [], settings=QSettings(str(tmp_path / "ui.ini"),
                                                    QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    menu = window.help_button.menu()
    assert [a.text() for a in menu.actions()] == ["Copy diagnostics", "Open log folder"]
    assert window.help_button.isEnabled()
    with qtbot.waitSignal(window.sig_copy_diagnostics):
        window.copy_diagnostics_action.trigger()
    with qtbot.waitSignal(window.sig_open_log_folder):
        window.open_log_folder_action.trigger()


def test_copy_diagnostics_puts_them_on_the_clipboard(qtbot: QtBot, env: Env) -> None:
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("")
    env.window.copy_diagnostics_action.trigger()  # a sales person: every role has Help
    qtbot.waitUntil(lambda: "== Factory Pulse ==" in clipboard.text(), timeout=WAIT)
    text = clipboard.text()
    assert "signed in as: acme.sales" in text
    assert "state: online" in text
    assert "server version: " in text
    assert "Qt: " in text and "PySide6: " in text
    assert DEMO_PASSWORD not in text
    assert "copied to the clipboard" in env.window.banner.text
    assert env.window.banner.isVisibleTo(env.window)


def test_open_log_folder_opens_it_with_the_system(
        qtbot: QtBot, env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(system_open, "open_file", lambda path: opened.append(str(path)) or True)
    env.window.open_log_folder_action.trigger()
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT)
    assert opened == [str(env.log_dir)]
    assert env.log_dir.is_dir()  # made on the worker when it was missing


def test_sign_in_window_copies_diagnostics_with_the_failure_and_no_password(
        qtbot: QtBot, demo_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Support's first question comes when signing in fails: the sign-in window has it too."""
    from factorypulse_desktop.ui.dialogs.sign_in import SignInDialog
    from factorypulse_desktop.ui.tasks import TaskRunner

    monkeypatch.setenv("FACTORYPULSE_LOG_DIR", str(tmp_path / "logs"))
    runner = TaskRunner()
    dialog = SignInDialog(runner, [profile_for(demo_db)])
    qtbot.addWidget(dialog)
    forbid_database_io_on_current_thread()
    try:
        dialog.username.setText("acme.sales")
        dialog.password.setText("typed-but-wrong-Pa55")
        dialog.submit()
        qtbot.waitUntil(lambda: "wrong" in dialog.message.text(), timeout=WAIT)
        clipboard = QGuiApplication.clipboard()
        clipboard.setText("")
        dialog.diagnostics_button.click()
        qtbot.waitUntil(lambda: "== Factory Pulse ==" in clipboard.text(), timeout=WAIT)
        text = clipboard.text()
        assert "profile: test" in text and f"database: {demo_db.name}" in text
        assert "state: not signed in: " in text and "wrong" in text
        assert "typed-but-wrong-Pa55" not in text
        assert dialog.diagnostics_button.text() == "Diagnostics copied"
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
