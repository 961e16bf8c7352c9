"""Administration → Google Drive, on the demo database as acme.admin (no database I/O on the
GUI thread)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import drive_settings, gdrive
from factorypulse_desktop.services.auth import sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.pages.drive_setup import DriveSetupTab
from factorypulse_desktop.ui.tasks import TaskRunner

CLIENT_ID = "123456789012-abc123def.apps.googleusercontent.com"


def test_administrator_saves_the_client_and_a_wrong_id_keeps_the_form(
        qtbot: QtBot, qapp: QApplication, demo_db: Any) -> None:
    runner = TaskRunner()
    ws = off_gui(lambda: sign_in(profile_for(demo_db), "acme.admin", DEMO_PASSWORD))
    org = ws.identity.memberships[0].organization_id
    forbid_database_io_on_current_thread()
    try:
        tab = DriveSetupTab(runner, ws, org)
        qtbot.addWidget(tab)
        tab.show()
        qtbot.waitUntil(lambda: tab.loaded, timeout=10000)
        tab.client_id.setText("not-a-client")
        tab.client_secret.setText("GOCSPX-typed")
        tab.save_button.click()
        qtbot.waitUntil(lambda: tab.banner.isVisible(), timeout=10000)
        assert "not an OAuth client id" in tab.banner.text
        assert tab.client_secret.text() == "GOCSPX-typed"  # nothing typed is lost
        tab.client_id.setText(CLIENT_ID)
        with qtbot.waitSignal(tab.sig_saved, timeout=10000):
            tab.save_button.click()
        assert tab.client_secret.text() == ""  # never shown again
        assert "Stored" in tab.client_secret.placeholderText()
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
    stored = off_gui(lambda: drive_settings.load_drive_settings(ws, org))
    assert stored is not None and stored.client_id == CLIENT_ID and stored.is_active
    client = off_gui(lambda: gdrive.oauth_client(ws, org))
    assert client.client_secret == "GOCSPX-typed"
    ws.close()
