"""The Google Drive dialogs and the Documents tab's Drive actions, on the demo database
signed in as acme.engineering, against the fake Google and the fake Drive.

The GUI thread is banned from database I/O for the whole test; the test reaches the database
and the fakes' set-up only from helper threads or before the ban. Browsers and file choosers
are replaced on the dialogs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import pytest
from drive_support import ACCOUNT_ID, Google, browser, org_of
from fake_keyrings import MemoryKeyring
from keyring.backends import fail
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import off_gui

from factorypulse_desktop.integrations.gdrive.tokens import GrantStore
from factorypulse_desktop.runtime import secrets
from factorypulse_desktop.services import documents, gdrive
from factorypulse_desktop.services.auth import Workspace
from factorypulse_desktop.services.documents import DocumentQuery, DocumentRow
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.dialogs.drive_browser import DriveBrowserDialog
from factorypulse_desktop.ui.dialogs.drive_connect import DriveConnectDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.documents_panel import DocumentsPanel

WAIT = 15000


@dataclass
class Env:
    runner: TaskRunner
    ws: Workspace
    org: uuid.UUID
    project: uuid.UUID
    store: GrantStore
    google: Google


def _start(engineer: Workspace, google: Google) -> Iterator[Env]:
    org = org_of(engineer)
    rows = documents.list_documents(engineer, org, DocumentQuery())
    project = next(r.project_id for r in rows if r.project_id is not None)
    runner = TaskRunner()
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, engineer, org, project, GrantStore(), google)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()


@pytest.fixture
def env(qapp: QApplication, google: Google, kept: MemoryKeyring,
        engineer: Workspace) -> Iterator[Env]:
    """Signed in, nothing connected yet (the GUI thread banned from the database)."""
    yield from _start(engineer, google)


@pytest.fixture
def connected(env: Env) -> Env:
    """…with the fake Drive's account connected on this computer."""
    off_gui(lambda: gdrive.connect(env.ws, env.org, env.store, open_browser=browser(
        env.google), endpoints=env.google.endpoints))
    return env


def connect_dialog(qtbot: QtBot, env: Env, **kwargs: Any) -> DriveConnectDialog:
    dialog = DriveConnectDialog(env.runner, env.ws, env.org, store=env.store,
                                endpoints=env.google.endpoints, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=WAIT)
    return dialog


def browser_dialog(qtbot: QtBot, env: Env) -> DriveBrowserDialog:
    dialog = DriveBrowserDialog(env.runner, env.ws, env.org, env.project, store=env.store,
                                endpoints=env.google.endpoints)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=WAIT)
    return dialog


def status_of(dialog: DriveConnectDialog, account_id: str) -> str | None:
    account = next((a for a in dialog.accounts if a.account_id == account_id), None)
    return dialog.status_text(account) if account else None


def drive_links(env: Env) -> list[DocumentRow]:
    return off_gui(lambda: documents.list_documents(env.ws, env.org, DocumentQuery(
        project_id=env.project, provider="google_drive")))


def select(dialog: DriveBrowserDialog, name: str) -> None:
    dialog.table.selectRow(dialog.table.names().index(name))


def test_connect_in_the_browser_then_disconnect(qtbot: QtBot, env: Env) -> None:
    dialog = connect_dialog(qtbot, env, open_browser=browser(env.google))
    assert status_of(dialog, ACCOUNT_ID) is None
    with qtbot.waitSignal(dialog.sig_connected, timeout=WAIT) as connected:
        dialog.connect_button.click()
        assert dialog.waiting_label.isVisible()
        assert dialog.waiting_label.text() == "Finish signing in in your browser…"
    assert connected.args == [ACCOUNT_ID]
    qtbot.waitUntil(lambda: status_of(dialog, ACCOUNT_ID) == "Connected", timeout=WAIT)
    assert "ada@example.com" in dialog.banner.text and not dialog.waiting_label.isVisible()

    dialog.confirm = lambda _title, _question: True
    button = dialog.action_button(ACCOUNT_ID)
    assert button is not None and button.text() == "Disconnect"
    button.click()
    qtbot.waitUntil(lambda: status_of(dialog, ACCOUNT_ID) == "Disconnected", timeout=WAIT)


@pytest.fixture
def no_keyring(qapp: QApplication, google: Google, engineer: Workspace,
               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Env]:
    monkeypatch.setattr(secrets, "_logged_backends", set())
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield from _start(engineer, google)
    finally:
        keyring.set_keyring(previous)


def test_T_OAUTH_10_without_a_secure_keyring_the_dialog_warns(qtbot: QtBot,
                                                              no_keyring: Env) -> None:
    dialog = connect_dialog(qtbot, no_keyring, open_browser=browser(no_keyring.google))
    with qtbot.waitSignal(dialog.sig_connected, timeout=WAIT):
        dialog.connect_button.click()
    assert dialog.banner.text == (
        "Drive sign-in will not be remembered on this computer: it has no secure keyring. "
        "You will connect again next time.")
    qtbot.waitUntil(lambda: status_of(dialog, ACCOUNT_ID) == "Connected", timeout=WAIT)


def test_cancel_stops_waiting_for_the_browser(qtbot: QtBot, env: Env) -> None:
    dialog = connect_dialog(qtbot, env, open_browser=lambda _url: None)  # never answers
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: dialog.signing_in, timeout=WAIT)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.signing_in, timeout=WAIT)
    assert dialog.banner.text == "Signing in was cancelled."


def test_browse_open_load_more_and_search(qtbot: QtBot, connected: Env) -> None:
    fake = connected.google.drive
    folder = fake.add_folder("Customer drawings")
    for n in range(150):
        fake.add_file(f"part-{n:03d}.dxf", b"0", parent=folder)
    fake.add_file("bracket.pdf", b"%PDF")
    dialog = browser_dialog(qtbot, connected)
    assert dialog.table.names() == ["Customer drawings", "bracket.pdf"]
    qtbot.waitUntil(lambda: dialog.crumb_texts() == ["My Drive"], timeout=WAIT)
    assert not dialog.more_button.isVisible()

    dialog.table.doubleClicked.emit(dialog.table.model().index(0, 0))
    qtbot.waitUntil(lambda: len(dialog.table.names()) == 100, timeout=WAIT)
    qtbot.waitUntil(lambda: dialog.crumb_texts() == ["My Drive", "Customer drawings"],
                    timeout=WAIT)
    assert dialog.more_button.isVisible()
    dialog.more_button.click()
    qtbot.waitUntil(lambda: len(dialog.table.names()) == 150, timeout=WAIT)
    assert dialog.table.names()[-1] == "part-149.dxf" and not dialog.more_button.isVisible()

    dialog.search.setText("part-14")  # debounced: one search after typing stops
    qtbot.waitUntil(lambda: dialog.table.names() == [f"part-14{n}.dxf" for n in range(10)],
                    timeout=WAIT)
    assert dialog.crumb_texts() == []
    dialog.search.clear()
    qtbot.waitUntil(lambda: len(dialog.table.names()) == 100, timeout=WAIT)


def test_link_a_folder_and_a_file_and_open_one(qtbot: QtBot, connected: Env) -> None:
    fake = connected.google.drive
    fake.add_folder("Customer drawings")
    file_id = fake.add_file("bracket.pdf", b"%PDF", mime_type="application/pdf")
    dialog = browser_dialog(qtbot, connected)
    opened: list[QUrl] = []
    dialog.open_url = opened.append
    assert not dialog.link_button.isEnabled()

    select(dialog, "Customer drawings")
    with qtbot.waitSignal(dialog.sig_linked, timeout=WAIT) as linked:
        dialog.link_button.click()
    assert linked.args[0].link_type == "folder"
    select(dialog, "bracket.pdf")
    dialog.category.set_category("drawing")
    with qtbot.waitSignal(dialog.sig_linked, timeout=WAIT) as linked:
        dialog.link_button.click()
    assert (linked.args[0].title, linked.args[0].category) == ("bracket", "drawing")
    assert "was linked to the project" in dialog.banner.text
    rows = drive_links(connected)
    assert {(r.title, r.link_type) for r in rows} >= {("Customer drawings", "folder"),
                                                      ("bracket", "file")}

    dialog.open_button.click()
    assert [u.toString() for u in opened] == [
        f"https://drive.google.com/file/d/{file_id}/view"]


def test_upload_a_file_here_and_link_it(qtbot: QtBot, connected: Env, tmp_path: Path) -> None:
    fake = connected.google.drive
    folder = fake.add_folder("Quotes")
    dialog = browser_dialog(qtbot, connected)
    dialog.table.doubleClicked.emit(dialog.table.model().index(0, 0))
    qtbot.waitUntil(lambda: dialog.crumb_texts() == ["My Drive", "Quotes"], timeout=WAIT)
    path = tmp_path / "quote 7.pdf"
    content = bytes(range(256)) * 2400  # 600 KiB: three chunks of 256 KiB
    path.write_bytes(content)
    dialog.choose_file = lambda: path
    dialog.upload_chunk_size = 256 * 1024
    seen: list[int] = []
    dialog.upload_progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(dialog.sig_linked, timeout=WAIT) as linked:
        dialog.upload_button.click()
        assert dialog.upload_label.text() == "Uploading “quote 7.pdf” to Drive…"
    assert 100 in seen
    row = linked.args[0]
    assert (row.title, row.file_name, row.file_size) == ("quote 7", "quote 7.pdf",
                                                         len(content))
    [node] = fake.named("quote 7.pdf")
    assert node.parents == [folder] and node.content == content
    qtbot.waitUntil(lambda: dialog.table.names() == ["quote 7.pdf"], timeout=WAIT)
    assert not dialog.upload_label.isVisible()


def test_a_withdrawn_grant_offers_to_reconnect(qtbot: QtBot, connected: Env) -> None:
    connected.google.auth.revoked.update(connected.google.auth.refresh_tokens)
    dialog = browser_dialog(qtbot, connected)
    assert "Reconnect Google Drive" in dialog.banner.text
    assert not dialog.upload_button.isEnabled()
    dialog.banner._action.click()  # "Reconnect…"
    assert dialog.connect_dialog is not None
    qtbot.waitUntil(lambda: dialog.connect_dialog is not None and dialog.connect_dialog.loaded,
                    timeout=WAIT)
    assert status_of(dialog.connect_dialog, ACCOUNT_ID) == "Access was withdrawn: reconnect"


def test_without_a_connection_the_browser_offers_to_connect(qtbot: QtBot, env: Env) -> None:
    dialog = browser_dialog(qtbot, env)
    assert dialog.pages.currentIndex() == 1
    dialog.connect_button.click()
    assert dialog.connect_dialog is not None
    dialog.connect_dialog.open_browser = browser(env.google)
    qtbot.waitUntil(lambda: dialog.connect_dialog is not None and dialog.connect_dialog.loaded,
                    timeout=WAIT)
    dialog.connect_dialog.connect_button.click()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 0 and dialog.account_id is not None,
                    timeout=WAIT)
    assert dialog.account_id == ACCOUNT_ID


def test_documents_tab_links_from_drive_and_refreshes(qtbot: QtBot, connected: Env) -> None:
    fake = connected.google.drive
    file_id = fake.add_file("bracket.pdf", b"first")
    panel = DocumentsPanel(connected.runner, connected.ws, connected.org, Formatter(),
                           project_id=connected.project)
    panel.drive_endpoints, panel.drive_store = connected.google.endpoints, connected.store
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
    assert panel.drive_button.isVisible()
    panel.drive_button.click()
    dialog = panel.dialog
    assert isinstance(dialog, DriveBrowserDialog)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=WAIT)
    select(dialog, "bracket.pdf")
    with qtbot.waitSignal(dialog.sig_linked, timeout=WAIT) as linked:
        dialog.link_button.click()
    document: DocumentRow = linked.args[0]
    qtbot.waitUntil(lambda: panel.model.row_of(document.id) >= 0, timeout=WAIT)

    node = fake.nodes[file_id]
    node.name, node.content = "bracket rev B.pdf", b"second"
    panel.select(document.id)
    assert panel.drive_refresh_button.isEnabled()
    panel.drive_refresh_button.click()
    qtbot.waitUntil(lambda: "up to date with Drive" in panel.banner.text, timeout=WAIT)
    qtbot.waitUntil(lambda: panel.model.row_at(panel.model.row_of(document.id)).file_name
                    == "bracket rev B.pdf", timeout=WAIT)

    del fake.nodes[file_id]
    panel.select(document.id)
    panel.drive_refresh_button.click()
    qtbot.waitUntil(lambda: panel.banner.text == "This file was removed from Drive or is no "
                    "longer shared with you.", timeout=WAIT)
