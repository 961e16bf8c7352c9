"""The main window frame: areas, organizations, status, remembered state."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.ui.main_window import MainWindow, OrgChoice
from factorypulse_desktop.ui.pages.placeholder import PlaceholderPage

ACME = OrgChoice(uuid.uuid4(), "Acme Precision Manufacturing", Role.ADMIN)
GLOBEX = OrgChoice(uuid.uuid4(), "Globex Fabrication", Role.ENGINEERING)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)


def make(qtbot: QtBot, settings: QSettings, *orgs: OrgChoice) -> MainWindow:
    window = MainWindow("Alex Carter", list(orgs) or [ACME], settings=settings)
    qtbot.addWidget(window)
    return window


def test_title_sidebar_and_placeholder_pages(qtbot: QtBot, settings: QSettings) -> None:
    window = make(qtbot, settings, ACME)
    assert window.windowTitle().startswith("Factory Pulse")
    assert "Acme Precision Manufacturing" in window.windowTitle()
    assert window.area_keys() == [
        "dashboard", "projects", "approvals", "contacts", "purchasing", "inventory",
        "production", "documents", "notifications", "activity", "administration"]
    for key in window.area_keys():
        window.show_area(key)
        page = window.stack.currentWidget()
        assert isinstance(page, PlaceholderPage)
        assert page.description.text(), f"{key} says what will be there"
    assert not window.org_switcher.isEnabled(), "one organization: nothing to switch"


def test_administration_only_for_admins_and_switcher_changes_role(
    qtbot: QtBot, settings: QSettings
) -> None:
    window = make(qtbot, settings, ACME, GLOBEX)
    assert window.org_switcher.isEnabled()
    assert "administration" in window.area_keys()
    with qtbot.waitSignal(window.sig_organization_changed) as blocker:
        window.org_switcher.setCurrentIndex(1)
    assert blocker.args == [GLOBEX.organization_id]
    assert "administration" not in window.area_keys()
    assert "activity" not in window.area_keys(), "the activity log is for admins and managers"
    assert "Globex Fabrication" in window.windowTitle()
    assert "Engineering" in window._person_label.text()


def test_ctrl_k_and_sign_out_signals(qtbot: QtBot, settings: QSettings) -> None:
    window = make(qtbot, settings, ACME)
    # The offscreen platform does not activate windows, so shortcuts cannot be typed here:
    # check the action carries Ctrl+K and that it, and the toolbar button, open the palette.
    (search,) = [a for a in window.actions() if a.shortcut() == QKeySequence("Ctrl+K")]
    with qtbot.waitSignal(window.sig_search_requested):
        search.trigger()
    with qtbot.waitSignal(window.sig_search_requested):
        window.search_button.click()
    with qtbot.waitSignal(window.sig_sign_out):
        window.sign_out_button.click()


def test_connection_state_in_status_bar(qtbot: QtBot, settings: QSettings) -> None:
    window = make(qtbot, settings, ACME)
    for state, text in (("online", "Online"), ("reconnecting", "Reconnecting…"),
                        ("offline", "Offline")):
        window.set_connection_state(state)
        assert window._status_text.text() == text


def test_geometry_last_page_and_organization_restored(
    qtbot: QtBot, settings: QSettings
) -> None:
    first = make(qtbot, settings, ACME, GLOBEX)
    first.show()
    qtbot.waitExposed(first)
    first.resize(920, 700)
    first.org_switcher.setCurrentIndex(1)
    first.show_area("production")
    first.close()
    second = make(qtbot, settings, ACME, GLOBEX)
    assert second.organization == GLOBEX
    assert second.current_area_key() == "production"
    assert second.size().height() == 700


def test_window_opens_before_sign_in_then_fills_in(qtbot: QtBot, settings: QSettings) -> None:
    # Last time: the Globex organization, on the Administration page.
    settings.setValue("main_window/last_area", "administration")
    settings.setValue("main_window/last_organization", str(GLOBEX.organization_id))
    made: list[str] = []

    def factory(area: object, _org: uuid.UUID) -> None:
        made.append(getattr(area, "key", ""))

    window = MainWindow("", [], settings=settings, page_factory=factory)
    qtbot.addWidget(window)
    assert not window.has_identity
    assert window.windowTitle() == "Factory Pulse"
    assert window._person_label.text() == "Signing in…"
    assert window.org_switcher.currentText() == "Signing in…"
    assert not window.org_switcher.isEnabled()
    assert "administration" not in window.area_keys(), "not known to be an admin yet"
    assert not window.sign_out_button.isEnabled(), "nobody to sign out yet"
    page = window.stack.currentWidget()
    assert isinstance(page, PlaceholderPage)
    assert page.description.text() == "Loading…"
    assert made == [], "no page asks for data before anyone is signed in"
    window.show_area("projects")  # the sidebar works meanwhile

    with qtbot.waitSignal(window.sig_organization_changed) as blocker:
        window.set_identity("Alex Carter", [ACME, GLOBEX])
    assert blocker.args == [GLOBEX.organization_id], "the last organization is chosen again"
    assert "Globex Fabrication" in window.windowTitle()
    assert window.sign_out_button.isEnabled()
    assert window.current_area_key() == "projects", "what the person chose meanwhile stays"
    page = window.stack.currentWidget()
    assert isinstance(page, PlaceholderPage) and page.description.text() != "Loading…"
    assert made == ["projects"]


def test_last_area_restored_once_signed_in(qtbot: QtBot, settings: QSettings) -> None:
    settings.setValue("main_window/last_area", "administration")
    window = MainWindow("", [], settings=settings)
    qtbot.addWidget(window)
    assert window.current_area_key() == "dashboard"
    window.set_identity("Alex Carter", [ACME])
    assert window.current_area_key() == "administration"
    assert window._person_label.text() == "Alex Carter · Admin"
