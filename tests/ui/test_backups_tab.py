"""Administration → Backups on a real database, as an administrator would use it.

The GUI thread is banned from database I/O for the whole test; the backup runs with the test
cluster's superuser as the "backup login" of a server connection (a person's login cannot).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from support import off_gui

from factorypulse_desktop.backup import naming
from factorypulse_desktop.backup.restore import drop_database
from factorypulse_desktop.backup.settings import BackupSettings, BackupSettingsStore
from factorypulse_desktop.services import document_files
from factorypulse_desktop.services.auth import ConnectionProfile, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.profiles import ProfileStore
from factorypulse_desktop.ui.pages.backups_tab import BackupsTab
from factorypulse_desktop.ui.tasks import TaskRunner

PASSWORD = "factorypulse-demo"
TIMEOUT = 120_000


@dataclass
class Setup:
    tab: BackupsTab
    folder: Path
    profile: ConnectionProfile
    profiles: ProfileStore
    settings: BackupSettingsStore


def _tab(qtbot: QtBot, profile: ConnectionProfile, profiles: ProfileStore,
         settings: BackupSettingsStore, runner: TaskRunner, now: datetime | None = None
         ) -> BackupsTab:
    tab = BackupsTab(runner, profile, profiles, settings,
                     clock=(lambda: now) if now else lambda: datetime.now(UTC))
    qtbot.addWidget(tab)
    tab.resize(1000, 700)
    tab.show()
    qtbot.waitUntil(lambda: tab.state is not None, timeout=15000)
    return tab


@pytest.fixture
def setup(qtbot: QtBot, qapp: QApplication, demo_db: Any, tmp_path: Path) -> Iterator[Setup]:
    profile = ConnectionProfile(
        name="plant", kind="server", host=str(demo_db.cluster.socket_dir),
        port=demo_db.cluster.port, database=demo_db.name, sslmode="disable")
    profiles = ProfileStore(tmp_path / "config")
    profiles.save([profile])
    settings = BackupSettingsStore(tmp_path / "config")
    folder = tmp_path / "backups"
    settings.save(profile.name, BackupSettings(folder=str(folder),
                                               login=demo_db.cluster.superuser))
    runner = TaskRunner()
    forbid_database_io_on_current_thread()
    try:
        yield Setup(_tab(qtbot, profile, profiles, settings, runner), folder, profile,
                    profiles, settings)
    finally:
        runner.shutdown(timeout_ms=10000)
        allow_database_io_on_current_thread()


def _finish(qtbot: QtBot, tab: BackupsTab) -> str:
    with qtbot.waitSignal(tab.sig_task_finished, timeout=TIMEOUT) as finished:
        pass
    outcome = finished.args[0]
    qtbot.waitUntil(lambda: tab.task is None and tab.state is not None, timeout=15000)
    return str(outcome)


def _fake_backup(folder: Path, made: datetime, ok: bool | None,
                 problems: list[str] | None = None) -> None:
    """A backup file with its manifest and check outcome, as `backup create/verify` leave them."""
    folder.mkdir(parents=True, exist_ok=True)
    dump = folder / naming.backup_name("complete", made)
    dump.write_bytes(b"PGDMP fake")
    naming.manifest_path(dump).write_text(json.dumps({"size": 10}))
    if ok is not None:
        naming.verified_path(dump).write_text(json.dumps({
            "ok": ok, "verified_at": made.isoformat(), "problems": problems or []}))


def test_T_BAK_10_a_stale_or_failed_drill_is_a_visible_alert(
        qtbot: QtBot, qapp: QApplication, tmp_path: Path) -> None:
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    profile = ConnectionProfile(name="plant", kind="server", host="db.example")
    profiles = ProfileStore(tmp_path / "config")
    settings = BackupSettingsStore(tmp_path / "config")
    folder = tmp_path / "backups"
    settings.save(profile.name, BackupSettings(folder=str(folder), alert_after_days=35))
    _fake_backup(folder, now - timedelta(days=40), ok=True)
    runner = TaskRunner()
    try:
        tab = _tab(qtbot, profile, profiles, settings, runner, now)
        assert tab.health.property("alert") is True and tab.health.isVisible()
        assert "40 days old" in tab.health.text()
        assert [tab.table.item(0, 3).text()] == ["Verified"]

        _fake_backup(folder, now - timedelta(days=1), ok=False, problems=["checksum differs"])
        tab.reload()
        qtbot.waitUntil(lambda: "failed" in tab.health.text(), timeout=15000)
        assert "checksum differs" in tab.health.text()
        assert tab.table.item(0, 3).text() == "Failed"
        assert tab.table.item(0, 3).toolTip() == "checksum differs"

        _fake_backup(folder, now - timedelta(hours=2), ok=True)
        tab.reload()
        qtbot.waitUntil(lambda: tab.health.property("alert") is False, timeout=15000)
        assert "today" in tab.health.text()
    finally:
        runner.shutdown(timeout_ms=5000)


def test_back_up_now_verifies_then_restore_into_a_new_database_and_sign_in_to_it(
        qtbot: QtBot, setup: Setup, demo_db: Any, tmp_path: Path) -> None:
    tab = setup.tab
    assert tab.health.property("alert") is True  # nothing verified yet
    qtbot.mouseClick(tab.backup_button, Qt.MouseButton.LeftButton)
    assert tab.cancel_button.isVisible() and not tab.backup_button.isEnabled()
    assert _finish(qtbot, tab) == "done"
    assert "verified" in tab.banner.text
    assert tab.table.rowCount() == 1 and tab.table.item(0, 3).text() == "Verified"
    assert tab.health.property("alert") is False
    backup = tab.selected_backup()
    assert backup is not None and backup.status == "verified"

    tab.restore_selected()
    dialog = tab.dialog
    assert dialog is not None and not dialog.ok_button.isEnabled()
    dialog.database.setText("Restored Plant")  # not a database name
    dialog.understood.setChecked(True)
    assert not dialog.ok_button.isEnabled() and dialog.name_problem.isVisible()
    target = f"{demo_db.name}_restored"
    dialog.database.setText(target)
    assert dialog.ok_button.isEnabled()
    try:
        dialog.accept()
        assert _finish(qtbot, tab) == "done"
        assert f"Restored into the new database {target}" in tab.banner.text
        tab.banner._acted()  # "Add a connection to it"
        qtbot.waitUntil(lambda: "added" in tab.banner.text, timeout=15000)
        added = [p for p in off_gui(setup.profiles.load) if p.database == target]
        assert len(added) == 1 and added[0].host == setup.profile.host

        def what_acme_admin_sees(profile: ConnectionProfile, folder: Path
                                 ) -> tuple[tuple[int, ...], bytes]:
            workspace = sign_in(profile, "acme.admin", PASSWORD)  # logins are cluster-wide
            try:
                org = workspace.identity.memberships[0].organization_id

                def counts(conn: Any) -> tuple[tuple[int, ...], Any]:
                    found = tuple(int(conn.execute(text(f"SELECT count(*) FROM {table}"))
                                      .scalar_one())
                                  for table in ("projects", "documents", "blob_chunks"))
                    largest = conn.execute(text(
                        "SELECT d.id FROM documents d JOIN document_versions v ON "
                        "v.document_id = d.id AND v.is_current JOIN storage_objects o ON "
                        "o.id = v.storage_object_id ORDER BY o.size DESC, d.id LIMIT 1")
                    ).scalar_one()
                    return found, largest

                found, document = workspace.read(counts)
                folder.mkdir()
                saved = document_files.download(workspace, org, document, folder)
                return found, saved.read_bytes()
            finally:
                workspace.close()

        restored = off_gui(lambda: what_acme_admin_sees(added[0], tmp_path / "restored"))
        original = off_gui(lambda: what_acme_admin_sees(setup.profile, tmp_path / "original"))
        # Projects, documents and the files' bytes: all back, as the person saw them, and a
        # file downloaded from the restored database is the very same file.
        assert restored[0] == original[0] and min(original[0]) > 0
        assert restored[1] == original[1] and len(original[1]) > 0
    finally:
        off_gui(lambda: drop_database(demo_db.owner_url, target))


def test_cancel_while_backing_up_leaves_no_file(qtbot: QtBot, setup: Setup) -> None:
    tab = setup.tab
    tab.back_up_now()
    tab.cancel()
    assert _finish(qtbot, tab) == "cancelled"
    assert "cancelled" in tab.banner.text.lower()
    left = list(setup.folder.iterdir()) if setup.folder.exists() else []
    assert left == []
    assert tab.backup_button.isEnabled() and not tab.cancel_button.isVisible()


def test_a_server_connection_needs_a_backup_login(qtbot: QtBot, setup: Setup) -> None:
    tab = setup.tab
    tab.login.clear()
    tab.back_up_now()
    assert tab.task is None
    assert "backup login" in tab.banner.text and "person's own login" in tab.banner.text


def test_retention_and_alert_settings_are_kept_per_connection(
        qtbot: QtBot, setup: Setup) -> None:
    tab = setup.tab
    tab.keep_daily.setValue(3)
    tab.alert_days.setValue(10)
    tab.automatic.setChecked(True)
    tab.save_settings()
    qtbot.waitUntil(lambda: "saved" in tab.banner.text, timeout=15000)
    saved = off_gui(lambda: setup.settings.load(setup.profile.name))
    assert (saved.daily, saved.alert_after_days, saved.automatic) == (3, 10, True)
    assert saved.folder == str(setup.folder)  # the folder chosen before is kept
    assert "password" not in setup.settings.path.read_text().lower()
