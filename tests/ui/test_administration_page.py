"""The Administration page on a real database, signed in as acme.admin.

The GUI thread is banned from database I/O for the whole test (the page must do everything
through the task runner); the test itself reaches the database only from helper threads.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot
from support import off_gui

from factorypulse_desktop.domain.enums import PersonStatus, Role
from factorypulse_desktop.services import admin
from factorypulse_desktop.services.admin import OrgSettings
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.profiles import ProfileStore
from factorypulse_desktop.ui.dialogs.person_dialogs import AddPersonDialog, ChangeRoleDialog
from factorypulse_desktop.ui.models.people_model import PeopleTableModel
from factorypulse_desktop.ui.pages.administration import AdministrationPage
from factorypulse_desktop.ui.tasks import TaskRunner

PASSWORD = "factorypulse-demo"
T = TypeVar("T")




@dataclass
class Setup:
    page: AdministrationPage
    workspace: Workspace
    org: uuid.UUID
    profile: ConnectionProfile
    store: ProfileStore


@pytest.fixture
def setup(qtbot: QtBot, qapp: QApplication, demo_db: Any, tmp_path: Path) -> Iterator[Setup]:
    profile = ConnectionProfile(
        name="test", kind="server", host=str(demo_db.cluster.socket_dir),
        port=demo_db.cluster.port, database=demo_db.name, sslmode="disable",
        last_username="acme.admin")
    store = ProfileStore(tmp_path / "config")
    store.save([profile, ConnectionProfile(name="Old plant", kind="server", host="db.example",
                                           last_username="m.reyes")])
    workspace = sign_in(profile, "acme.admin", PASSWORD)
    org = workspace.identity.memberships[0].organization_id
    runner = TaskRunner()
    forbid_database_io_on_current_thread()
    try:
        page = AdministrationPage(runner, workspace, org, store)
        qtbot.addWidget(page)
        page.resize(1100, 720)
        page.show()
        qtbot.waitUntil(lambda: page.people_model.rowCount() > 0
                        and page._settings is not None
                        and page.profiles_table.rowCount() == 2, timeout=15000)
        yield Setup(page, workspace, org, profile, store)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def usernames(page: AdministrationPage) -> set[str]:
    return {r.username for r in page.people_model.rows()}


def person(page: AdministrationPage, username: str) -> admin.PersonRow:
    return next(r for r in page.people_model.rows() if r.username == username)


def banner_button(page: AdministrationPage, text: str) -> QPushButton:
    return next(b for b in page.banner.findChildren(QPushButton) if b.text() == text)


# -- people -----------------------------------------------------------------------------------


def test_people_model_without_a_window(qapp: QApplication) -> None:
    me, other = uuid.uuid4(), uuid.uuid4()
    rows = [
        admin.PersonRow(me, "acme.admin", "Morgan Reyes", "m@example.com", Role.ADMIN,
                        PersonStatus.ACTIVE, "IT", "Systems Administrator"),
        admin.PersonRow(other, "acme.qa", "Sam Okafor", None, Role.QA, PersonStatus.INACTIVE,
                        None, None),
    ]
    model = PeopleTableModel(me)
    assert model.rowCount() == 0
    model.set_rows(rows)
    assert model.rowCount() == 2 and model.columnCount() == 5
    assert model.rowCount(model.index(0, 0)) == 0, "a table: rows have no children"
    assert model.index(0, PeopleTableModel.COLUMN_NAME).data() == "Morgan Reyes (you)"
    assert model.index(0, PeopleTableModel.COLUMN_NAME).data(
        Qt.ItemDataRole.ToolTipRole) == "Systems Administrator · IT"
    assert model.index(1, PeopleTableModel.COLUMN_STATUS).data() == "Inactive"
    assert model.index(1, PeopleTableModel.COLUMN_EMAIL).data() == ""
    assert model.index(1, 0).data(PeopleTableModel.PersonRole) == rows[1]
    assert model.index(1, PeopleTableModel.COLUMN_ROLE).data(
        PeopleTableModel.SortRole) == "quality (qa)"
    assert model.row_of(other) == 1 and model.row_of(uuid.uuid4()) == -1


def test_people_table_fills_and_filters(setup: Setup) -> None:
    page = setup.page
    model = page.people_model
    assert model.rowCount() == 9 and model.columnCount() == 5
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == [
        "Name", "User name", "Role", "Status", "E-mail"]
    row = model.row_of(person(page, "acme.admin").person_id)
    assert model.index(row, PeopleTableModel.COLUMN_NAME).data().endswith("(you)")
    qa = model.row_of(person(page, "acme.qa").person_id)
    assert model.index(qa, PeopleTableModel.COLUMN_ROLE).data() == "Quality (QA)"
    assert model.index(qa, PeopleTableModel.COLUMN_STATUS).data() == "Active"
    assert "9 people" in page.people_count.text()
    assert not page.role_button.isEnabled() and page.add_button.isEnabled()

    page.people_filter.setText("portal")
    assert page.people_proxy.rowCount() == 2
    assert "2 of 9" in page.people_count.text()
    page.people_filter.clear()
    page.select_person(person(page, "acme.qa").person_id)
    assert page.selected_person() == person(page, "acme.qa")
    assert page.role_button.isEnabled() and page.active_button.text() == "Deactivate"


def test_adding_a_person_through_the_dialog_shows_them_in_the_table(
    qtbot: QtBot, setup: Setup
) -> None:
    page = setup.page
    page.add_button.click()
    dialog = page.dialog
    assert isinstance(dialog, AddPersonDialog)
    username = f"acme.new.{uuid.uuid4().hex[:6]}"
    qtbot.keyClicks(dialog.display_name, "Quinn Okafor")
    assert dialog.username.text() == "quinn.okafor", "suggested from the name"
    dialog.username.setText("acme.sales")  # taken: the server refuses
    dialog.email.setText("quinn@acme.example")
    dialog.role.setCurrentIndex(dialog.role.findText("Quality (QA)"))
    dialog.password.setText("a-good-password")
    dialog.confirm.setText("another-password")
    dialog.ok_button.click()
    assert "The two passwords differ" in dialog.message.text()
    assert not dialog.busy, "nothing was sent"

    dialog.confirm.setText("a-good-password")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "already taken" in dialog.message.text(), timeout=10000)
    assert dialog.isVisible(), "the dialog stays open with what was typed"
    assert (dialog.display_name.text(), dialog.username.text(), dialog.email.text()) == (
        "Quinn Okafor", "acme.sales", "quinn@acme.example")
    assert dialog.password.text() == "a-good-password"

    dialog.username.setText(username)
    with qtbot.waitSignal(page.sig_people_loaded, timeout=10000):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: username in usernames(page), timeout=10000)
    added = person(page, username)
    assert (added.display_name, added.role, added.email) == (
        "Quinn Okafor", Role.QA, "quinn@acme.example")
    assert page.selected_person() == added
    assert page.dialog is None, "closed after the save"
    assert username in page.banner.text
    with off_gui(lambda: sign_in(setup.profile, username, "a-good-password")) as ws:
        assert ws.identity.person_id == added.person_id


def test_portal_role_asks_for_the_company(qtbot: QtBot, setup: Setup) -> None:
    page = setup.page
    page.add_button.click()
    dialog = page.dialog
    assert isinstance(dialog, AddPersonDialog)
    assert not dialog.form.isRowVisible(dialog.company)
    dialog.role.setCurrentIndex(dialog.role.findText("Customer (portal)"))
    assert dialog.form.isRowVisible(dialog.company)
    qtbot.waitUntil(lambda: dialog.company.count() > 0, timeout=10000)
    dialog.display_name.setText("Bea Buyer")
    dialog.username.setText(f"acme.buyer.{uuid.uuid4().hex[:6]}")
    dialog.password.setText("a-good-password")
    dialog.confirm.setText("a-good-password")
    dialog.ok_button.click()
    assert "must be linked to the company" in dialog.message.text()
    dialog.company.setCurrentIndex(0)
    with qtbot.waitSignal(page.sig_people_loaded, timeout=10000):
        dialog.ok_button.click()
    added = person(page, dialog.added_username)
    assert added.role is Role.CUSTOMER and added.contact_id is not None


def test_change_role_deactivate_and_undo(qtbot: QtBot, setup: Setup) -> None:
    page = setup.page
    qa = person(page, "acme.qa")
    page.select_person(qa.person_id)
    page.role_button.click()
    dialog = page.dialog
    assert isinstance(dialog, ChangeRoleDialog)
    assert dialog.role.findText("Customer (portal)") < 0, "no company linked: no portal role"
    dialog.role.setCurrentIndex(dialog.role.findText("Engineering"))
    with qtbot.waitSignal(page.sig_people_loaded, timeout=10000):
        dialog.ok_button.click()
    assert person(page, "acme.qa").role is Role.ENGINEERING
    assert page.selected_person() == person(page, "acme.qa"), "selection kept"

    with qtbot.waitSignal(page.sig_people_loaded, timeout=10000):
        page.active_button.click()
    assert person(page, "acme.qa").status is PersonStatus.INACTIVE
    assert page.active_button.text() == "Activate"
    assert "can no longer sign in" in page.banner.text
    with qtbot.waitSignal(page.sig_people_loaded, timeout=10000):
        banner_button(page, "Undo").click()
    assert person(page, "acme.qa").status is PersonStatus.ACTIVE


def test_deactivating_yourself_shows_the_database_refusal(qtbot: QtBot, setup: Setup) -> None:
    page = setup.page
    me = person(page, "acme.admin")
    page.select_person(me.person_id)
    page.active_button.click()
    qtbot.waitUntil(lambda: page.banner.isVisible()
                    and "own administrator rights" in page.banner.text, timeout=10000)
    assert page.banner.text == "Administrators cannot remove their own administrator rights."
    qtbot.waitUntil(page.active_button.isEnabled, timeout=5000)
    assert person(page, "acme.admin").status is PersonStatus.ACTIVE


# -- organization settings --------------------------------------------------------------------


def test_settings_form_saves(qtbot: QtBot, setup: Setup) -> None:
    page = setup.page
    assert page.name_edit.text() == "Acme Precision Manufacturing"
    assert page.timezone_box.currentText() == "America/Chicago"
    qtbot.waitUntil(lambda: page.timezone_box.count() > 100, timeout=10000)
    page.name_edit.setText("Acme Precision Vietnam")
    page.timezone_box.setEditText("Asia/Ho_Chi_Minh")
    page.currency_box.setEditText("vnd")
    page.locale_box.setEditText("vi_VN")
    page.day_boxes[5].setChecked(True)
    page.holiday_date.setDate(QDate(2027, 2, 17))
    page.holiday_label.setText("Tết")
    page.holiday_add_button.click()
    labels = [page.holiday_table.item(r, 1).text() for r in range(page.holiday_table.rowCount())]
    assert admin.Holiday(dt.date(2027, 2, 17), "Tết") in page.holidays()
    assert labels[[h.date for h in page.holidays()].index(dt.date(2027, 2, 17))] == "Tết"
    assert page.holidays() == sorted(page.holidays())
    first = page.holidays()[0]
    page.holiday_table.selectRow(0)
    page.holiday_remove_button.click()
    assert first not in page.holidays()

    with qtbot.waitSignal(page.sig_settings_saved, timeout=10000) as blocker:
        page.save_button.click()
    saved: OrgSettings = blocker.args[0]
    assert (saved.name, saved.timezone, saved.currency, saved.locale) == (
        "Acme Precision Vietnam", "Asia/Ho_Chi_Minh", "VND", "vi_VN")
    assert saved.working_days == frozenset(range(6))
    assert page.currency_box.currentText() == "VND"
    assert "Vietnamese" in page.locale_box.currentText()
    assert "saved" in page.banner.text
    stored = off_gui(lambda: admin.load_settings(setup.workspace, setup.org))
    assert stored == saved and stored.version == saved.version
    assert admin.Holiday(dt.date(2027, 2, 17), "Tết") in stored.holidays


def test_bad_input_is_refused_before_sending(qtbot: QtBot, setup: Setup) -> None:
    page = setup.page
    qtbot.waitUntil(lambda: page.timezone_box.count() > 100, timeout=10000)
    page.timezone_box.setEditText("Mars/Base")
    page.save_button.click()
    assert page.banner.isVisible() and "is not a time zone" in page.banner.text
    assert page.timezone_box.currentText() == "Mars/Base", "input kept"
    page.timezone_box.setEditText("Europe/Berlin")
    page.currency_box.setEditText("EURO")
    page.save_button.click()
    assert "is not a currency code" in page.banner.text
    page.currency_box.setEditText("EUR")
    for box in page.day_boxes:
        box.setChecked(False)
    page.save_button.click()
    assert page.banner.text == "Choose at least one working day."


def test_a_conflict_keeps_the_typed_values(qtbot: QtBot, setup: Setup) -> None:
    page = setup.page
    loaded = page._settings
    assert loaded is not None
    # Another administrator saves first (from another thread, as any other workstation).
    theirs = off_gui(lambda: admin.save_settings(
        setup.workspace, setup.org, replace(loaded, name="Their name"), loaded.version))
    page.name_edit.setText("My typed name")
    page.timezone_box.setEditText("Europe/Paris")
    page.day_boxes[6].setChecked(True)
    page.save_button.click()
    qtbot.waitUntil(lambda: page.banner.isVisible()
                    and "Someone else changed these settings" in page.banner.text,
                    timeout=10000)
    assert page.name_edit.text() == "My typed name"
    assert page.timezone_box.currentText() == "Europe/Paris"
    assert page.day_boxes[6].isChecked()
    assert page.save_button.isEnabled()
    stored = off_gui(lambda: admin.load_settings(setup.workspace, setup.org))
    assert stored == theirs, "nothing of ours was written"

    with qtbot.waitSignal(page.sig_settings_loaded, timeout=10000):
        banner_button(page, "Reload").click()
    assert page.name_edit.text() == "Their name"
    assert not page.day_boxes[6].isChecked()


# -- connections ------------------------------------------------------------------------------


def test_connections_list_and_remove(qtbot: QtBot, setup: Setup,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    page = setup.page
    table = page.profiles_table
    assert table.item(0, 0).text() == "test (in use)"
    table.selectRow(0)
    assert not page.remove_profile_button.isEnabled(), "the connection in use stays"
    table.selectRow(1)
    assert page.remove_profile_button.isEnabled()
    monkeypatch.setattr(page, "confirm", lambda _question: True)
    with qtbot.waitSignal(page.sig_profiles_loaded, timeout=10000):
        page.remove_profile_button.click()
    assert table.rowCount() == 1
    assert [p.name for p in off_gui(setup.store.load)] == ["test"]


def test_change_by_someone_else_appears_in_the_open_list_in_place(
    qtbot: QtBot, setup: Setup
) -> None:
    """Live update: another connection changes a role; the row changes, selection stays."""
    from factorypulse_desktop.services.live import ChangeFeed
    from factorypulse_desktop.ui.events import ChangeBus
    from factorypulse_desktop.ui.live import LiveUpdates

    page = setup.page
    bus = ChangeBus()
    live = LiveUpdates(ChangeFeed)
    live.sig_changes.connect(bus.publish)
    bus.subscribe("memberships", page.on_memberships_changed)
    live.start(setup.workspace.conninfo())
    try:
        qtbot.waitUntil(lambda: live.state.value == "online", timeout=15000)
        sales = person(page, "acme.sales")
        page.select_person(sales.person_id)
        resets: list[bool] = []
        page.people_model.modelReset.connect(lambda: resets.append(True))
        qa = person(page, "acme.qa")

        other = off_gui(lambda: sign_in(setup.profile, "acme.admin", PASSWORD))
        try:
            with qtbot.waitSignal(page.sig_people_loaded, timeout=10000):
                off_gui(lambda: admin.change_role(other, setup.org, qa.person_id, Role.SALES))
            qtbot.waitUntil(lambda: person(page, "acme.qa").role is Role.SALES, timeout=10000)
            off_gui(lambda: admin.change_role(other, setup.org, qa.person_id, Role.QA))
            qtbot.waitUntil(lambda: person(page, "acme.qa").role is Role.QA, timeout=10000)
        finally:
            off_gui(other.close)
        assert page.selected_person() == person(page, "acme.sales"), "selection kept"
        assert resets == [], "rows changed in place, the list was not reset"
    finally:
        live.stop()


def test_T_BAK_10_backups_tab_is_flagged_when_no_backup_verified(
        qtbot: QtBot, setup: Setup) -> None:
    page = setup.page
    qtbot.waitUntil(lambda: page.backups_tab.state is not None, timeout=15000)
    index = page.tabs.indexOf(page.backups_tab)
    assert page.tabs.tabText(index) == "Backups — needs attention"
    assert "No backup has been verified yet" in page.tabs.tabToolTip(index)
