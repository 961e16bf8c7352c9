"""The app as a new user meets it: --demo, sign out, sign in as someone else — GUI thread clean."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.profiles import ProfileStore
from factorypulse_desktop.ui.app import DesktopApp
from factorypulse_desktop.ui.dialogs.sign_in import SignInDialog
from factorypulse_desktop.ui.main_window import MainWindow
from factorypulse_desktop.ui.pages.administration import AdministrationPage

pytestmark = pytest.mark.slow


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # /tmp, not pytest's 0700 folder: as root, PostgreSQL's own account must enter it.
    base = Path(tempfile.mkdtemp(prefix="fp-app "))
    base.chmod(0o711)
    monkeypatch.setenv("FACTORYPULSE_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("FACTORYPULSE_CONFIG_DIR", str(base / "config"))
    monkeypatch.delenv("FACTORYPULSE_DATABASE_URL", raising=False)
    # Everything the app does from here on must stay off the GUI thread.
    forbid_database_io_on_current_thread()
    yield base
    allow_database_io_on_current_thread()
    from factorypulse_desktop.runtime.embedded import EmbeddedCluster

    root = base / "data" / "embedded" / "demo"
    if root.exists():
        EmbeddedCluster(root).stop()
    shutil.rmtree(base, ignore_errors=True)


def test_demo_then_sign_out_and_sign_in_as_globex_sales(qtbot: QtBot, isolated: Path) -> None:
    settings = QSettings(str(isolated / "ui.ini"), QSettings.Format.IniFormat)
    app = DesktopApp(demo=True, settings=settings,
                     store=ProfileStore(isolated / "config"))
    settings.setValue("app/used_demo", True)
    with qtbot.waitSignal(app.sig_window_shown, timeout=10_000):
        app.start()
    window = app.window
    assert isinstance(window, MainWindow)
    # The window is up before the database answers, and says what it is doing.
    assert not window.has_identity
    assert window._person_label.text() == "Signing in…"
    assert window.windowTitle() == "Factory Pulse"
    qtbot.waitUntil(lambda: window.has_identity, timeout=120_000)
    assert app.window is window
    assert window.windowTitle().startswith("Factory Pulse")
    assert window.organization.name.startswith("Acme")
    assert "administration" in window.area_keys()
    assert window.formatter.money(1234.5) == "$1,234.50"  # acme: en_US, USD
    qtbot.waitUntil(lambda: window.connection_state == "online", timeout=20_000)

    window.show_area("administration")
    # "Loading…" until the data layer has loaded on its worker, then the real page.
    qtbot.waitUntil(lambda: isinstance(window.stack.currentWidget(), AdministrationPage),
                    timeout=20_000)
    admin_page = window.stack.currentWidget()
    assert isinstance(admin_page, AdministrationPage)
    qtbot.waitUntil(lambda: admin_page.people_model.rowCount() == 9, timeout=20_000)

    # Ctrl+K palette: acme's customer is found, globex's is not (same spelling style).
    palette = app.open_palette()
    assert palette is not None
    qtbot.keyClicks(palette.query, "Northwind")
    qtbot.waitUntil(lambda: any("Northwind" in h.title for h in palette.hits), timeout=20_000)
    palette.query.clear()
    qtbot.keyClicks(palette.query, "Nordic Energy")
    qtbot.waitUntil(lambda: "Nothing found for “Nordic Energy”" in palette.status.text(),
                    timeout=20_000)
    assert palette.hits == []
    palette.query.clear()
    qtbot.keyClicks(palette.query, "Northwind")
    qtbot.waitUntil(lambda: bool(palette.hits), timeout=20_000)
    with qtbot.waitSignal(palette.sig_open):
        qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    assert window.current_area_key() in {"contacts", "projects"}

    window.sign_out_button.click()
    qtbot.waitUntil(lambda: isinstance(app.dialog, SignInDialog), timeout=20_000)
    dialog = app.dialog
    assert isinstance(dialog, SignInDialog)
    assert app.window is None

    # A wrong password first: a plain message, the typed user name kept.
    dialog.profile_box.setCurrentText("Demo")
    dialog.username.setText("globex.sales")
    dialog.password.setText("not-the-password")
    dialog.submit()
    qtbot.waitUntil(lambda: "wrong" in dialog.message.text(), timeout=20_000)
    assert dialog.username.text() == "globex.sales"

    dialog.password.setText("factorypulse-demo")
    with qtbot.waitSignal(app.sig_window_ready, timeout=30_000):
        dialog.submit()
    window = app.window
    assert isinstance(window, MainWindow)
    assert [o.name for o in window._organizations] == ["Globex Fabrication"]
    assert "administration" not in window.area_keys()
    assert "Sales" in window._person_label.text()
    assert "€" in window.formatter.money(10) or "EUR" in window.formatter.money(10)
    app.shutdown()
