"""The project page on a real database, signed in as a real person.

The GUI thread is banned from database I/O for the whole test (the page does everything
through the task runner); the test itself reaches the database only from helper threads
(`off_gui`). Set FACTORYPULSE_SCREENSHOTS to a folder to keep pictures of the page and its
dialogs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from support import off_gui, profile_for

from factorypulse_desktop.domain.live import Change
from factorypulse_desktop.services import project_detail, workflow
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.events import ChangeBus
from factorypulse_desktop.ui.pages.project_page import ProjectPage, StageStepper
from factorypulse_desktop.ui.tasks import TaskRunner

PASSWORD = "factorypulse-demo"
WAIT = 15000
T = TypeVar("T")




def screenshot(widget: QWidget, name: str) -> None:
    folder = os.environ.get("FACTORYPULSE_SCREENSHOTS")
    if folder:
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def profile_of(db: Any) -> ConnectionProfile:
    return profile_for(db)


def new_project(db: Any) -> uuid.UUID:
    """A fresh project in Inquiry Received with a customer and a due date, made by sales."""
    def make() -> uuid.UUID:
        with psycopg.connect(db.conninfo_for("acme.sales")) as conn:
            row = conn.execute(
                "INSERT INTO projects (organization_id, title, customer_id, "
                "estimated_delivery_date, priority_level, estimated_value) "
                "SELECT o.id, 'Bracket batch', (SELECT c.id FROM contacts c WHERE "
                "c.organization_id = o.id AND c.type = 'customer' ORDER BY c.company_name "
                "LIMIT 1), current_date + 30, 'high', 12500 FROM organizations o "
                "WHERE o.slug = 'acme' RETURNING id").fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    return off_gui(make)


def stage_slug(db: Any, project: uuid.UUID) -> str:
    def read() -> str:
        with psycopg.connect(db.owner_conninfo()) as conn:
            row = conn.execute("SELECT s.slug FROM projects p JOIN workflow_stages s ON "
                               "s.id = p.current_stage_id WHERE p.id = %s",
                               (project,)).fetchone()
        assert row is not None
        return str(row[0])

    return off_gui(read)


@dataclass
class Opened:
    page: ProjectPage
    workspace: Workspace
    project: uuid.UUID
    bus: ChangeBus


@pytest.fixture
def open_page(qtbot: QtBot, qapp: QApplication, demo_db: Any
              ) -> Iterator[Callable[..., Opened]]:
    """Open the page of a project as `username` (a fresh project unless one is given)."""
    runner = TaskRunner()
    workspaces: list[Workspace] = []

    def opener(username: str = "acme.sales", project: uuid.UUID | None = None) -> Opened:
        project = project or new_project(demo_db)
        workspace = off_gui(lambda: sign_in(profile_of(demo_db), username, PASSWORD))
        workspaces.append(workspace)
        bus = ChangeBus()
        page = ProjectPage(runner, workspace, project, bus=bus)
        qtbot.addWidget(page)
        page.resize(1200, 860)
        page.show()
        qtbot.waitUntil(lambda: page.detail is not None and page._people != [], timeout=WAIT)
        return Opened(page, workspace, project, bus)

    if os.environ.get("FACTORYPULSE_SCREENSHOTS"):
        theme.apply(qapp)  # the app's look, for the pictures
    forbid_database_io_on_current_thread()
    try:
        yield opener
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        for workspace in workspaces:
            workspace.close()


def act(qtbot: QtBot, page: ProjectPage, step: str, action: str) -> None:
    """Trigger a step's action and wait for the page to show the database's answer."""
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.step_row(step).step_actions[action].trigger()


# -- loading and the header -------------------------------------------------------------------


def test_the_page_shows_the_project(open_page: Callable[..., Opened]) -> None:
    opened = open_page()
    page = opened.page
    detail = page.detail
    assert detail is not None
    assert page.title_label.text() == "Bracket batch"
    assert page.number_label.text().startswith(detail.number)
    assert detail.customer is not None and page.customer_label.text() == detail.customer.name
    assert page.priority_chip.text() == "High priority" and page.status_chip.text() == "Active"
    assert page.due_label.text().startswith("·  Due ")
    assert page.days_label.text() == "·  0 days in Inquiry Received (usually 20)"
    assert page.stepper.states()[:2] == [("Inquiry Received", StageStepper.CURRENT),
                                         ("Technical Review", StageStepper.LATER)]
    assert len(page.stepper.states()) == 8
    assert page.advance_button.text() == "Advance to Technical Review"
    assert not page.advance_button.isEnabled(), "required steps are not done"
    assert page.blockers_label.text().startswith('Before advancing: "RFQ Documentation Review"')
    assert [r.step.name for r in page.step_rows] == [
        "RFQ Documentation Review", "Initial Feasibility Assessment",
        "Customer Requirements Clarification"]
    assert page.title_edit.text() == "Bracket batch" and page.value_edit.text() == "12500.00"
    assert not page.save_button.isEnabled(), "nothing changed yet"
    assert page.history_table.rowCount() == 1
    assert page.history_table.item(0, 1).text() == "Created in: Inquiry Received"
    assert not page.delete_button.isVisible(), "only administrators delete"
    tabs = [page.tabs.tabText(i).replace("&&", "&") for i in range(page.tabs.count())]
    assert tabs == ["Overview", "People", "History", "Documents", "Reviews & approvals",
                    "Messages", "Supplier RFQs", "Purchasing", "Production", "Timeline"]
    page.tabs.setCurrentIndex(3)
    screenshot(page, "project-page-documents-tab")
    page.tabs.setCurrentIndex(0)
    screenshot(page, "project-page")

    page.title_edit.setText("Bracket batch ")
    assert page.save_button.isEnabled() and page.revert_button.isEnabled()
    page.revert_button.click()
    assert page.title_edit.text() == "Bracket batch" and not page.save_button.isEnabled()


def test_a_demo_project_with_history_and_people(open_page: Callable[..., Opened],
                                                demo_db: Any) -> None:
    def busiest() -> uuid.UUID:
        with psycopg.connect(demo_db.owner_conninfo()) as conn:
            row = conn.execute(
                "SELECT h.project_id FROM project_stage_history h JOIN projects p ON "
                "p.id = h.project_id JOIN organizations o ON o.id = p.organization_id "
                "WHERE o.slug = 'acme' AND p.archived_at IS NULL GROUP BY 1 "
                "ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    opened = open_page("acme.management", busiest())
    page = opened.page
    detail = page.detail
    assert detail is not None and len(detail.history) > 2
    assert page.history_table.rowCount() == len(detail.history)
    assert page.assignments_table.rowCount() == len(detail.assignments)
    states = [s for _name, s in page.stepper.states()]
    assert states.count(StageStepper.CURRENT) == 1
    assert states[: states.index(StageStepper.CURRENT)] == [StageStepper.DONE] * states.index(
        StageStepper.CURRENT)
    screenshot(page, "project-page-demo")
    page.tabs.setCurrentIndex(2)
    screenshot(page, "project-page-history")
    page.tabs.setCurrentIndex(1)
    screenshot(page, "project-page-people")


# -- steps and moves ---------------------------------------------------------------------------


def test_completing_the_steps_enables_advance_and_advancing_moves_the_project(
    qtbot: QtBot, open_page: Callable[..., Opened], demo_db: Any
) -> None:
    opened = open_page()
    page = opened.page
    changed: list[object] = []
    page.sig_changed.connect(changed.append)
    act(qtbot, page, "RFQ Documentation Review", "complete")
    assert page.step_row("RFQ Documentation Review").step.status == "completed"
    assert not page.advance_button.isEnabled()
    act(qtbot, page, "Initial Feasibility Assessment", "complete")
    assert page.blockers_label.text() == "Every required step of “Inquiry Received” is done."
    assert page.advance_button.isEnabled()
    me = opened.workspace.identity.display_name
    row = page.step_row("Initial Feasibility Assessment")
    assert row.step.completed_by_name == me
    assert row.detail_label.text() == f"Done · Unassigned · by {me}"

    # Assign the optional step to someone through the person picker.
    page.step_row("Customer Requirements Clarification").step_actions["assign"].trigger()
    picker = page.dialog
    assert picker is not None and picker.isVisible()
    box = picker.person_box  # type: ignore[attr-defined]
    box.setCurrentIndex(box.findText(me))
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        picker.ok_button.click()  # type: ignore[attr-defined]
    assigned = page.step_row("Customer Requirements Clarification").step
    assert assigned.assignee_name == me and assigned.status == "pending"

    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.advance_button.click()
    qtbot.waitUntil(lambda: page.detail is not None
                    and page.detail.stage.slug == "technical_review", timeout=WAIT)
    assert stage_slug(demo_db, opened.project) == "technical_review"
    assert page.stepper.states()[:2] == [("Inquiry Received", StageStepper.DONE),
                                         ("Technical Review", StageStepper.CURRENT)]
    assert page.banner.text == "Moved to “Technical Review”."
    assert page.history_table.item(0, 1).text() == (
        "Advanced: Inquiry Received → Technical Review")
    assert opened.project in changed
    assert [r.step.name for r in page.step_rows][:4] == [
        "Engineering Technical Review", "QA Requirements Review",
        "Production Capability Assessment", "Cross-Team Review Meeting"]
    assert page.edit_hint.isVisible(), "sales may no longer change it in Technical Review"


def test_a_refused_skip_shows_the_database_words(
    qtbot: QtBot, open_page: Callable[..., Opened]
) -> None:
    page = open_page().page
    page.step_row("Initial Feasibility Assessment").step_actions["skip"].trigger()
    qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=WAIT)
    assert page.banner.text == (
        '"Initial Feasibility Assessment" is required and cannot be skipped.')
    assert page.step_row("Initial Feasibility Assessment").step.status == "pending"
    act(qtbot, page, "Customer Requirements Clarification", "skip")  # optional: allowed
    assert page.step_row("Customer Requirements Clarification").step.status == "skipped"
    assert "reopen" in page.step_row("Customer Requirements Clarification").step_actions


def test_a_step_changed_elsewhere_is_reloaded(
    qtbot: QtBot, open_page: Callable[..., Opened]
) -> None:
    opened = open_page()
    page = opened.page
    stale = page.step_row("RFQ Documentation Review").step
    off_gui(lambda: workflow.update_step(opened.workspace, stale.id, stale.version,
                                         status="blocked"))
    act(qtbot, page, "RFQ Documentation Review", "complete")
    assert "Someone changed this step meanwhile" in page.banner.text
    assert page.step_row("RFQ Documentation Review").step.status == "blocked"


def test_moving_back_asks_for_a_reason(qtbot: QtBot, open_page: Callable[..., Opened],
                                       demo_db: Any) -> None:
    project = new_project(demo_db)

    def to_technical_review() -> None:
        with sign_in(profile_of(demo_db), "acme.sales", PASSWORD) as sales:
            detail = project_detail.load_project(sales, project)
            for step in detail.steps:
                if step.is_required:
                    workflow.update_step(sales, step.id, step.version, status="completed")
            workflow.advance_project(sales, project, detail.stage.id)

    off_gui(to_technical_review)
    page = open_page("acme.management", project).page
    page.move_button.click()
    dialog = page.move_dialog
    assert dialog is not None and dialog.isVisible()
    stages = [dialog.stage_box.itemText(i) for i in range(dialog.stage_box.count())]
    assert stages[0].startswith("1. Inquiry Received") and "(back)" in stages[0]
    assert "(next, steps not done)" in stages[1]
    screenshot(dialog, "move-dialog")
    assert page.detail is not None
    back = next(s for s in page.detail.stages if s.slug == "inquiry_received")
    dialog.select_stage(back.id)
    assert dialog.reason_needed()
    assert dialog.reason_label.text().startswith("Reason (required")
    assert not dialog.move_button.isEnabled(), "no reason, no move"
    dialog.reason_edit.setPlainText("The customer sent a new drawing")
    assert dialog.move_button.isEnabled()
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        dialog.move_button.click()
    qtbot.waitUntil(lambda: page.move_dialog is None, timeout=WAIT)
    assert stage_slug(demo_db, project) == "inquiry_received"
    assert page.detail is not None
    newest = page.detail.history[0]
    assert (newest.kind, newest.reason) == ("back", "The customer sent a new drawing")
    assert page.history_table.item(0, 2).text() == "The customer sent a new drawing"


def test_a_refused_move_keeps_the_dialog_with_the_database_words(
    qtbot: QtBot, open_page: Callable[..., Opened], demo_db: Any
) -> None:
    opened = open_page("acme.engineering")  # may not move a project in Inquiry Received
    page = opened.page
    page.move_button.click()
    dialog = page.move_dialog
    assert dialog is not None
    dialog.reason_edit.setPlainText("Known part")
    dialog.move_button.click()
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=WAIT)
    assert dialog.error_label.text() == "You may not move this project in its current stage."
    assert dialog.reason() == "Known part", "what was typed stays"
    assert stage_slug(demo_db, opened.project) == "inquiry_received"
    dialog.cancel_button.click()


def test_a_move_by_someone_else_is_reported_and_reloaded(
    qtbot: QtBot, open_page: Callable[..., Opened], demo_db: Any
) -> None:
    opened = open_page("acme.management")
    page = opened.page
    detail = page.detail
    assert detail is not None
    quoted = next(s for s in detail.stages if s.slug == "quoted")
    off_gui(lambda: workflow.move_project(opened.workspace, opened.project, detail.stage.id,
                                          quoted.id, reason="Repeat order"))
    page.move_button.click()
    dialog = page.move_dialog
    assert dialog is not None
    dialog.reason_edit.setPlainText("Customer in a hurry")
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        dialog.move_button.click()
    assert "Someone moved this project meanwhile" in page.banner.text
    assert '"Quoted"' in page.banner.text
    assert page.detail is not None and page.detail.stage.slug == "quoted"


# -- saving: T-CONC-01 in the GUI ---------------------------------------------------------------


def test_a_stale_save_shows_both_values_and_keeps_the_typed_text(
    qtbot: QtBot, open_page: Callable[..., Opened], demo_db: Any
) -> None:
    opened = open_page()
    page = opened.page
    loaded = page.detail
    assert loaded is not None

    def management_saves() -> None:
        with sign_in(profile_of(demo_db), "acme.management", PASSWORD) as ws:
            project_detail.save_project(ws, opened.project, loaded.version,
                                        replace(loaded.edit, title="Their new title"))

    off_gui(management_saves)
    page.description_edit.setPlainText("My typed description")
    assert page.save_button.isEnabled()
    page.save_button.click()
    qtbot.waitUntil(lambda: page.conflict_dialog is not None
                    and page.conflict_dialog.isVisible(), timeout=WAIT)
    dialog = page.conflict_dialog
    assert dialog is not None
    assert dialog.fields() == ["title", "description"]
    assert dialog.row_texts() == [("Title", "Bracket batch", "Their new title"),
                                  ("Description", "My typed description", "(empty)")]
    assert "Management" in dialog.explanation.text() or "saved this project" in (
        dialog.explanation.text())
    screenshot(dialog, "conflict-dialog")

    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: page.conflict_dialog is None, timeout=WAIT)
    assert page.description_edit.toPlainText() == "My typed description"
    assert page.title_edit.text() == "Bracket batch"
    assert page.is_dirty() and page.save_button.isEnabled()
    assert "still in the form" in page.banner.text
    stored = off_gui(lambda: project_detail.load_project(opened.workspace, opened.project))
    assert (stored.title, stored.description, stored.version) == (
        "Their new title", None, loaded.version + 1), "the database holds exactly theirs"

    # Saving again compares again; this time keep mine: my change over theirs.
    page.save_button.click()
    qtbot.waitUntil(lambda: page.conflict_dialog is not None, timeout=WAIT)
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.conflict_dialog.keep_mine_button.click()
    stored = off_gui(lambda: project_detail.load_project(opened.workspace, opened.project))
    assert (stored.title, stored.description) == ("Their new title", "My typed description")
    assert page.title_edit.text() == "Their new title"
    assert page.description_edit.toPlainText() == "My typed description"
    assert not page.is_dirty() and page.banner.text == "The project was saved."


def test_take_theirs_discards_mine(qtbot: QtBot, open_page: Callable[..., Opened],
                                   demo_db: Any) -> None:
    opened = open_page()
    page = opened.page
    loaded = page.detail
    assert loaded is not None
    off_gui(lambda: project_detail.save_project(opened.workspace, opened.project,
                                                loaded.version,
                                                replace(loaded.edit, title="Saved elsewhere")))
    page.title_edit.setText("Typed here")
    page.save_button.click()
    qtbot.waitUntil(lambda: page.conflict_dialog is not None, timeout=WAIT)
    assert page.conflict_dialog is not None
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.conflict_dialog.take_theirs_button.click()
    assert page.title_edit.text() == "Saved elsewhere" and not page.is_dirty()


def test_saving_and_invalid_input(qtbot: QtBot, open_page: Callable[..., Opened]) -> None:
    opened = open_page()
    page = opened.page
    page.title_edit.setText("ab")
    page.save_button.click()
    assert page.banner.text == "Title needs at least 3 characters."
    assert page.title_edit.text() == "ab"
    page.title_edit.setText("Bracket batch, rev B")
    page.value_edit.setText("lots")
    page.save_button.click()
    assert "Estimated value: “lots” is not a number" in page.banner.text
    page.value_edit.setText("14,000.50")
    page.tags_edit.setText("steel, laser")
    page.priority_box.setCurrentIndex(page.priority_box.findData("critical"))
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.save_button.click()
    stored = off_gui(lambda: project_detail.load_project(opened.workspace, opened.project))
    assert (stored.title, str(stored.estimated_value), stored.tags, stored.priority) == (
        "Bracket batch, rev B", "14000.50", ("steel", "laser"), "critical")
    assert page.priority_chip.text() == "Critical priority"
    assert not page.save_button.isEnabled()


def test_a_live_change_keeps_unsaved_edits(qtbot: QtBot, open_page: Callable[..., Opened],
                                           demo_db: Any) -> None:
    opened = open_page()
    page = opened.page
    loaded = page.detail
    assert loaded is not None
    page.notes_edit.setPlainText("Call the customer on Monday")
    off_gui(lambda: project_detail.save_project(opened.workspace, opened.project,
                                                loaded.version,
                                                replace(loaded.edit, title="Renamed elsewhere")))
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        opened.bus.publish([Change(1, loaded.organization_id, "projects", opened.project, "U",
                                   loaded.version + 1)])
    assert page.title_label.text() == "Renamed elsewhere", "the header follows"
    assert page.notes_edit.toPlainText() == "Call the customer on Monday"
    assert page.title_edit.text() == "Bracket batch", "the form is not refilled"
    assert "your unsaved changes are kept" in page.banner.text

    # Without unsaved changes a live change simply refills the form.
    page.revert_button.click()
    assert page.title_edit.text() == "Renamed elsewhere"


# -- archive and delete (administrators) ----------------------------------------------------------


def test_archive_and_a_stale_delete(qtbot: QtBot, open_page: Callable[..., Opened],
                                    demo_db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = open_page("acme.admin")
    page = opened.page
    assert page.delete_button.isVisible()
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.archive_button.click()
    assert page.archived_chip.isVisible() and page.archive_button.text() == "Restore"
    assert not page.move_button.isEnabled()
    loaded = page.detail
    assert loaded is not None
    off_gui(lambda: project_detail.restore_project(opened.workspace, opened.project,
                                                   loaded.version))
    monkeypatch.setattr(page, "confirm", lambda _title, _question: True)
    closed: list[bool] = []
    page.sig_closed.connect(lambda: closed.append(True))
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.delete_button.click()
    assert "was not deleted" in page.banner.text and not closed
    assert not page.archived_chip.isVisible(), "reloaded: restored elsewhere"
    with qtbot.waitSignal(page.sig_closed, timeout=WAIT):
        page.delete_button.click()
    with pytest.raises(project_detail.ProjectNotFoundError):
        off_gui(lambda: project_detail.load_project(opened.workspace, opened.project))


def test_management_adds_and_removes_a_person(qtbot: QtBot,
                                              open_page: Callable[..., Opened]) -> None:
    page = open_page("acme.management").page
    page.tabs.setCurrentIndex(1)
    assert page.assignments_table.rowCount() == 0
    page.add_person_button.click()
    picker = page.dialog
    assert picker is not None
    box = picker.person_box  # type: ignore[attr-defined]
    qa = next(p for p in page._people if p.username == "acme.qa")
    box.setCurrentIndex(box.findData(qa.person_id))
    picker.role_box.setCurrentText("quality")  # type: ignore[attr-defined]
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        picker.ok_button.click()  # type: ignore[attr-defined]
    assert page.assignments_table.rowCount() == 1
    assert page.assignments_table.item(0, 0).text() == qa.display_name
    assert page.assignments_table.item(0, 1).text() == "quality"
    assert page.tabs.tabText(1) == "People (1)"
    page.assignments_table.selectRow(0)
    assert page.remove_person_button.isEnabled()
    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
        page.remove_person_button.click()
    assert page.assignments_table.rowCount() == 0


def test_sales_may_not_add_people(qtbot: QtBot, open_page: Callable[..., Opened]) -> None:
    page = open_page("acme.sales").page
    page.add_person_button.click()
    picker = page.dialog
    assert picker is not None
    picker.ok_button.click()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=WAIT)
    assert page.banner.text == ("Only management or an administrator may change who works on "
                                "a project.")
