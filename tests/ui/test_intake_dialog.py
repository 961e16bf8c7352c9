"""The project intake dialog on a real database, signed in as a real person.

The GUI thread is banned from database I/O for the whole test (the dialog must do everything
through the task runner); the test reaches the database only from helper threads.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import off_gui, profile_for

from factorypulse_desktop.domain.enums import IntakeType, Priority
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.intake import IntakeResult
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.dialogs.intake_dialog import IntakeDialog
from factorypulse_desktop.ui.tasks import TaskRunner

# The owner-connection helpers of the database tests (tests/db is not on the path here).
sys.path.append(str(Path(__file__).resolve().parents[1] / "db"))
from rls_support import org_id, owner_conn

PASSWORD = "factorypulse-demo"
T = TypeVar("T")




@dataclass
class Opened:
    dialog: IntakeDialog
    runner: TaskRunner
    workspace: Workspace
    org: uuid.UUID
    db: Any


@pytest.fixture
def open_dialog(qtbot: QtBot, qapp: QApplication, demo_db: Any) -> Iterator[Callable[..., Opened]]:
    """Sign in as `username` and show the dialog, with the GUI thread banned from the database."""
    opened: list[Opened] = []

    def open_(username: str = "acme.sales") -> Opened:
        profile = profile_for(demo_db)
        workspace = off_gui(lambda: sign_in(profile, username, PASSWORD))
        org = workspace.identity.memberships[0].organization_id
        runner = TaskRunner()
        forbid_database_io_on_current_thread()
        dialog = IntakeDialog(runner, workspace, org)
        # Closing a filled dialog asks first; at teardown nobody is there to answer.
        qtbot.addWidget(dialog, before_close_func=lambda d: setattr(
            d, "confirm_discard", lambda: True))
        with qtbot.waitExposed(dialog):
            dialog.show()
        opened.append(Opened(dialog, runner, workspace, org, demo_db))
        return opened[-1]

    try:
        yield open_
    finally:
        for item in opened:
            item.runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        for item in opened:
            item.workspace.close()


def stored(db: Any, project_id: uuid.UUID) -> dict[str, Any]:
    def read() -> dict[str, Any]:
        with owner_conn(db) as conn:
            cur = conn.execute(
                "SELECT p.project_number, s.slug, p.priority_level::text AS priority, "
                "p.intake_type::text AS intake_type, p.customer_id, p.title, p.estimated_value, "
                "p.estimated_delivery_date, p.tags, c.company_name "
                "FROM projects p JOIN workflow_stages s ON s.id = p.current_stage_id "
                "JOIN contacts c ON c.id = p.customer_id WHERE p.id = %s", (project_id,))
            row = cur.fetchone()
            assert row is not None and cur.description is not None
            return {d.name: v for d, v in zip(cur.description, row, strict=True)}

    return off_gui(read)


def counts(db: Any) -> tuple[int, int]:
    """(projects, contacts) in the whole database."""
    def read() -> tuple[int, int]:
        with owner_conn(db) as conn:
            row = conn.execute("SELECT (SELECT count(*) FROM projects), "
                               "(SELECT count(*) FROM contacts)").fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    return off_gui(read)


def add_muller(db: Any) -> uuid.UUID:
    """An existing customer "Müller Präzision GmbH" of acme, inserted as the owner."""
    def write() -> uuid.UUID:
        with owner_conn(db) as conn:
            row = conn.execute(
                "INSERT INTO contacts (organization_id, type, company_name, contact_name, email) "
                "VALUES (%s, 'customer', 'Müller Präzision GmbH', 'Jana Müller', "
                "'jana@mueller.example') RETURNING id", (org_id(conn, "acme"),)).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    return off_gui(write)


def fill(dialog: IntakeDialog, qtbot: QtBot, company: str, title: str = "Laser-cut brackets",
         contact: str = "Ines Vogel") -> None:
    qtbot.keyClicks(dialog.company, company)
    dialog.contact_name.setText(contact)
    dialog.title.setText(title)


def create(dialog: IntakeDialog, qtbot: QtBot) -> IntakeResult:
    with qtbot.waitSignal(dialog.sig_created, timeout=15000) as blocker:
        dialog.submit_button.click()
    result = blocker.args[0]
    assert isinstance(result, IntakeResult)
    assert dialog.showing_success
    return result


# -- each intake type -------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "slug", "priority"), [
    (IntakeType.RFQ, "inquiry_received", "medium"),
    (IntakeType.PURCHASE_ORDER, "order_confirmed", "high"),
    (IntakeType.PROJECT_IDEA, "technical_review", "low"),
    (IntakeType.DIRECT_REQUEST, "inquiry_received", "medium"),
])
def test_each_intake_type_lands_in_its_stage(
    qtbot: QtBot, open_dialog: Callable[..., Opened], kind: IntakeType, slug: str,
    priority: str,
) -> None:
    opened = open_dialog()
    dialog = opened.dialog
    assert dialog.intake_type is IntakeType.RFQ, "RFQ is chosen at first"
    dialog.type_buttons[kind].click()
    assert dialog.intake_type is kind
    assert dialog.priority_value is Priority(priority), "the priority follows the type"
    fill(dialog, qtbot, f"Nordwerk {kind.value} GmbH")
    dialog.email.setText("ines@nordwerk.example")
    dialog.phone.setText("+49 30 1234567")
    dialog.description.setPlainText("500 brackets, 3 mm steel")
    dialog.estimated_value.setText("12,500.50")
    dialog.target_date_set.setChecked(True)
    dialog.target_date.setDate(QDate(2027, 3, 1))
    dialog.tags.setText("laser; brackets, laser")
    result = create(dialog, qtbot)

    row = stored(opened.db, result.project_id)
    assert row["project_number"] == result.project_number
    assert result.project_number in dialog.success_title.text(), "the number shown is stored"
    assert result.stage_name in dialog.success_title.text()
    assert (row["slug"], row["priority"], row["intake_type"]) == (slug, priority, kind.value)
    assert row["company_name"] == f"Nordwerk {kind.value} GmbH" and result.customer_created
    assert "new customer" in dialog.success_customer.text()
    assert str(row["estimated_value"]) == "12500.50"
    assert str(row["estimated_delivery_date"]) == "2027-03-01"
    assert row["tags"] == ["laser", "brackets"]


def test_new_intake_clears_the_form_and_open_project_emits_its_id(
    qtbot: QtBot, open_dialog: Callable[..., Opened]
) -> None:
    dialog = open_dialog().dialog
    dialog.type_buttons[IntakeType.PURCHASE_ORDER].click()
    fill(dialog, qtbot, "Kessler AG", "Repeat order 500 pcs")
    dialog.notes.setPlainText("Call before delivery")
    first = create(dialog, qtbot)

    dialog.new_intake_button.click()
    assert not dialog.showing_success
    assert dialog.intake_type is IntakeType.PURCHASE_ORDER, "the type stays for the next one"
    assert (dialog.company.text(), dialog.contact_name.text(), dialog.title.text(),
            dialog.notes.toPlainText()) == ("", "", "", "")
    assert not dialog.is_dirty()

    fill(dialog, qtbot, "Kessler AG", "Second repeat order")
    dialog.submit_button.click()
    # The first intake created the customer: now it is an exact match, to be chosen.
    qtbot.waitUntil(lambda: "company" in dialog.shown_errors(), timeout=10000)
    assert dialog.matches[0].contact_id == first.customer_id and dialog.matches[0].exact
    dialog.match_buttons[0].click()
    second = create(dialog, qtbot)
    assert second.project_number != first.project_number
    assert second.customer_id == first.customer_id and not second.customer_created
    with qtbot.waitSignal(dialog.sig_open_project, timeout=5000) as blocker:
        dialog.open_button.click()
    assert blocker.args == [second.project_id]
    assert not dialog.isVisible(), "closed after Open project"


# -- priority ---------------------------------------------------------------------------------


def test_the_priority_the_person_picked_is_kept_and_stored(
    qtbot: QtBot, open_dialog: Callable[..., Opened]
) -> None:
    opened = open_dialog()
    dialog = opened.dialog
    assert dialog.priority_value is Priority.MEDIUM
    dialog.type_buttons[IntakeType.PURCHASE_ORDER].click()
    assert dialog.priority_value is Priority.HIGH
    dialog.priority.setCurrentIndex(dialog.priority.findData(Priority.CRITICAL.value))
    dialog.type_buttons[IntakeType.PROJECT_IDEA].click()
    assert dialog.priority_value is Priority.CRITICAL, "the person's choice is kept"
    dialog.type_buttons[IntakeType.RFQ].click()
    dialog.type_buttons[IntakeType.PROJECT_IDEA].click()
    assert dialog.priority_value is Priority.CRITICAL
    fill(dialog, qtbot, "Orbital Drives Ltd", "Gearbox housing concept")
    result = create(dialog, qtbot)
    row = stored(opened.db, result.project_id)
    assert (row["slug"], row["priority"]) == ("technical_review", "critical")


# -- invalid input ----------------------------------------------------------------------------


def test_invalid_input_is_shown_next_to_each_field_and_nothing_is_stored(
    qtbot: QtBot, open_dialog: Callable[..., Opened]
) -> None:
    opened = open_dialog()
    dialog = opened.dialog
    before = counts(opened.db)
    dialog.company.setText("  ")
    dialog.email.setText("not-an-address")
    dialog.title.setText("ab")
    dialog.estimated_value.setText("lots")
    dialog.description.setPlainText("What we need")
    dialog.submit_button.click()

    errors = dialog.shown_errors()
    assert set(errors) == {"company", "contact_name", "email", "title", "estimated_value"}
    assert "at least 3 characters" in errors["title"]
    assert "e-mail" in errors["email"].lower()
    for name in errors:
        assert dialog.field_errors[name].isVisible(), f"{name}: message shown"
        assert dialog.field_inputs[name].property("invalid") is True, f"{name}: highlighted"
    assert dialog.focusWidget() is dialog.company, "the first wrong field has the focus"
    assert not dialog.busy and not opened.runner.busy, "nothing was sent"
    assert (dialog.company.text(), dialog.email.text(), dialog.title.text(),
            dialog.estimated_value.text(), dialog.description.toPlainText()) == (
        "  ", "not-an-address", "ab", "lots", "What we need"), "what was typed is kept"
    assert counts(opened.db) == before

    dialog.title.setText("Turned shafts")
    assert "title" not in dialog.shown_errors(), "correcting a field clears its message"
    assert dialog.title.property("invalid") is False
    assert "email" in dialog.shown_errors()


# -- customer matching ------------------------------------------------------------------------


def test_choosing_an_existing_customer_creates_no_new_contact(
    qtbot: QtBot, open_dialog: Callable[..., Opened]
) -> None:
    opened = open_dialog()
    existing = add_muller(opened.db)
    dialog = opened.dialog
    with qtbot.waitSignal(dialog.sig_matches_loaded, timeout=10000) as blocker:
        qtbot.keyClicks(dialog.company, "muller prazision")
    assert blocker.args[0] and blocker.args[0][0].contact_id == existing
    assert dialog.matches_box.isVisible()
    assert dialog.matches[0].company_name == "Müller Präzision GmbH"

    dialog.match_buttons[0].click()
    assert dialog.chosen_customer is not None
    assert dialog.chosen_customer.contact_id == existing
    assert dialog.chosen_box.isVisible() and not dialog.matches_box.isVisible()
    assert "Müller Präzision GmbH" in dialog.chosen_label.text()
    assert "*" not in dialog.contact_label.text(), "contact name is optional now"
    dialog.change_customer_button.click()  # undo the choice, then choose again
    assert dialog.chosen_customer is None
    qtbot.waitUntil(lambda: dialog.matches_box.isVisible() and bool(dialog.match_buttons),
                    timeout=10000)
    assert "*" in dialog.contact_label.text()
    dialog.match_buttons[0].click()

    dialog.title.setText("Flanges DN50")
    before = counts(opened.db)
    result = create(dialog, qtbot)
    assert result.customer_id == existing and not result.customer_created
    assert stored(opened.db, result.project_id)["customer_id"] == existing
    projects, contacts = counts(opened.db)
    assert (projects, contacts) == (before[0] + 1, before[1]), "no new contact"
    assert "existing customer" in dialog.success_customer.text()


def test_an_exact_match_must_be_chosen_before_submitting(
    qtbot: QtBot, open_dialog: Callable[..., Opened]
) -> None:
    opened = open_dialog()
    add_muller(opened.db)
    dialog = opened.dialog
    before = counts(opened.db)
    # Submitted at once: the dialog finishes the customer look-up before anything else.
    fill(dialog, qtbot, "MULLER  prazision gmbh", "Another Müller order")
    dialog.submit_button.click()
    qtbot.waitUntil(lambda: "company" in dialog.shown_errors(), timeout=10000)
    assert "already exists" in dialog.shown_errors()["company"]
    assert dialog.matches[0].exact and dialog.matches_box.isVisible()
    assert not dialog.showing_success and not dialog.busy
    qtbot.wait(200)
    assert counts(opened.db) == before, "nothing stored"
    assert dialog.title.text() == "Another Müller order"

    dialog.new_customer_button.click()  # a different company with the same name, on purpose
    assert dialog.chosen_box.isVisible() and "New customer" in dialog.chosen_label.text()
    result = create(dialog, qtbot)
    assert result.customer_created
    assert counts(opened.db) == (before[0] + 1, before[1] + 1)


# -- refusals by the database -----------------------------------------------------------------


def test_a_refusal_by_the_database_shows_a_banner_and_keeps_the_form(
    qtbot: QtBot, open_dialog: Callable[..., Opened]
) -> None:
    opened = open_dialog("acme.engineering")
    dialog = opened.dialog
    before = counts(opened.db)
    fill(dialog, qtbot, "Somebody Industries", "Not mine to create")
    dialog.email.setText("someone@somebody.example")
    dialog.submit_button.click()
    qtbot.waitUntil(lambda: dialog.banner.isVisible(), timeout=15000)
    message = dialog.banner.text
    assert "not allowed" in message
    assert "row-level security" not in message and "psycopg" not in message
    assert not dialog.showing_success
    qtbot.waitUntil(lambda: dialog.submit_button.isEnabled(), timeout=5000)
    assert (dialog.company.text(), dialog.title.text(), dialog.email.text()) == (
        "Somebody Industries", "Not mine to create", "someone@somebody.example")
    assert counts(opened.db) == before


# -- keyboard ---------------------------------------------------------------------------------


def test_ctrl_enter_submits_and_escape_asks_before_discarding(
    qtbot: QtBot, open_dialog: Callable[..., Opened], monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = open_dialog().dialog
    with qtbot.waitActive(dialog):
        dialog.activateWindow()  # shortcuts work in the active window
    dialog.title.setFocus()
    qtbot.keyClicks(dialog.title, "Bracket")
    qtbot.keyClick(dialog.title, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "company" in dialog.shown_errors(), "Ctrl+Enter submitted (and was checked)"
    assert dialog.focusWidget() is dialog.company

    asked: list[bool] = []

    def refuse() -> bool:
        asked.append(True)
        return False

    monkeypatch.setattr(dialog, "confirm_discard", refuse)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert asked and dialog.isVisible(), "kept open when the person says no"
    assert dialog.title.text() == "Bracket"
    monkeypatch.setattr(dialog, "confirm_discard", lambda: True)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_attachments_become_the_new_projects_documents(
    qtbot: QtBot, open_dialog: Callable[..., Opened], tmp_path: Path,
) -> None:
    opened = open_dialog()
    dialog = opened.dialog
    drawing = tmp_path / "bracket.dxf"
    drawing.write_text("0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n")
    spec = tmp_path / "spec.txt"
    spec.write_text("3 mm S235, deburred, zinc plated\n")
    picked = [[drawing], [spec]]
    dialog.attachments._choose_files = lambda _parent: picked.pop(0)
    dialog.attachments.add_button.click()
    dialog.attachments.add_button.click()
    dialog.attachments.add_paths([drawing])  # twice is once
    assert dialog.attachments.paths() == [drawing, spec]
    assert dialog.is_dirty()
    fill(dialog, qtbot, "Attach GmbH")
    with qtbot.waitSignal(dialog.sig_attachments_opened, timeout=15000) as opened_upload:
        create(dialog, qtbot)
    upload = opened_upload.args[0]
    assert "upload window" in dialog.success_customer.text()
    qtbot.waitUntil(lambda: upload.ready, timeout=10000)
    with qtbot.waitSignal(upload.sig_uploaded, timeout=20000) as done:
        upload.start()
    assert len(done.args[0]) == 2
    project = dialog.created
    assert project is not None

    def titles() -> list[str]:
        with owner_conn(opened.db) as conn:
            return sorted(r[0] for r in conn.execute(
                "SELECT file_name FROM documents WHERE project_id = %s", (project.project_id,)))

    assert off_gui(titles) == ["bracket.dxf", "spec.txt"]
    upload.close()
    dialog.new_intake()
    assert dialog.attachments.paths() == []
