"""First start on an empty computer: the wizard creates the organization, then sign in."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.profiles import ProfileStore
from factorypulse_desktop.ui.app import DesktopApp
from factorypulse_desktop.ui.dialogs.first_run import FirstRunWizard, suggest_slug
from factorypulse_desktop.ui.dialogs.sign_in import SignInDialog
from factorypulse_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.slow


@pytest.fixture
def empty_computer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="fp-first "))
    base.chmod(0o711)  # as root, PostgreSQL's own account must enter it
    monkeypatch.setenv("FACTORYPULSE_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("FACTORYPULSE_CONFIG_DIR", str(base / "config"))
    forbid_database_io_on_current_thread()
    yield base
    allow_database_io_on_current_thread()
    from factorypulse_desktop.runtime.embedded import EmbeddedCluster

    root = base / "data" / "embedded" / "default"
    if root.exists():
        EmbeddedCluster(root).stop()
    shutil.rmtree(base, ignore_errors=True)


def test_slug_suggestion() -> None:
    assert suggest_slug("Acme Precision, Inc.") == "acme-precision-inc"
    assert suggest_slug("  Müller & Söhne ") == "m-ller-s-hne"


def test_wizard_creates_organization_then_admin_signs_in(
    qtbot: QtBot, empty_computer: Path
) -> None:
    settings = QSettings(str(empty_computer / "ui.ini"), QSettings.Format.IniFormat)
    app = DesktopApp(settings=settings, store=ProfileStore(empty_computer / "config"))
    app.start()
    qtbot.waitUntil(lambda: isinstance(app.dialog, FirstRunWizard), timeout=10_000)
    wizard = app.dialog
    assert isinstance(wizard, FirstRunWizard)
    wizard.next_button.click()  # "This computer" is the default choice
    assert wizard.pages.currentIndex() == 1
    qtbot.keyClicks(wizard.org_name, "Northwind Machining")
    assert wizard.org_slug.text() == "northwind-machining"
    username = f"jo.admin{uuid.uuid4().hex[:6]}"  # logins are cluster-wide: keep it unique
    wizard.admin_name.setText("Jo Admin")
    wizard.admin_username.setText(username)
    wizard.admin_password.setText("first-admin-pw")
    wizard.admin_password2.setText("different-pw")
    wizard.next_button.click()
    assert "differ" in wizard.message.text()
    assert wizard.org_name.text() == "Northwind Machining", "typed input is kept"
    wizard.admin_password2.setText("first-admin-pw")
    wizard.next_button.click()

    qtbot.waitUntil(lambda: isinstance(app.dialog, SignInDialog), timeout=120_000)
    dialog = app.dialog
    assert isinstance(dialog, SignInDialog)
    assert dialog.profile_box.currentText() == "This computer"
    assert dialog.username.text() == username
    dialog.password.setText("first-admin-pw")
    with qtbot.waitSignal(app.sig_window_ready, timeout=60_000):
        dialog.submit()
    window = app.window
    assert isinstance(window, MainWindow)
    assert window.organization.name == "Northwind Machining"
    assert "administration" in window.area_keys()
    app.shutdown()
