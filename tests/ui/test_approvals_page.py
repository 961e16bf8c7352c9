"""The approvals inbox on the demo database, signed in as the demo manager (acme.management).

The GUI thread is banned from database I/O for the whole test; requests and the "someone
else decided first" moves are made from helper threads (`off_gui`), as other persons.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import shiboken6
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import approvals
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.dialogs.approval_decision_dialog import DecisionDialog
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.pages.approvals import ApprovalsPage
from factorypulse_desktop.ui.tasks import TaskRunner

WAIT = 15000


@dataclass
class Env:
    db: Any
    runner: TaskRunner
    manager: Workspace
    sales: Workspace
    org: uuid.UUID
    project: uuid.UUID

    def ask(self, title: str, kind: str = "custom") -> uuid.UUID:
        """Sales asks for an approval of the project (no chain for "custom": management)."""
        return off_gui(lambda: approvals.request(
            self.sales, self.org, approval_type=kind, title=title, entity_type="project",
            entity_id=self.project, project_id=self.project, reason="Please check"))

    def status(self, approval: uuid.UUID) -> str:
        def read() -> str:
            with psycopg.connect(self.db.owner_conninfo()) as conn:
                row = conn.execute("SELECT status::text FROM approvals WHERE id = %s",
                                   (approval,)).fetchone()
            assert row is not None
            return str(row[0])

        return off_gui(read)


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    runner = TaskRunner()
    manager = off_gui(lambda: sign_in(profile_for(demo_db), "acme.management", DEMO_PASSWORD))
    sales = off_gui(lambda: sign_in(profile_for(demo_db), "acme.sales", DEMO_PASSWORD))
    org = manager.identity.memberships[0].organization_id

    def a_project() -> uuid.UUID:
        with psycopg.connect(demo_db.owner_conninfo()) as conn:
            row = conn.execute("SELECT id FROM projects WHERE organization_id = %s "
                               "ORDER BY project_number LIMIT 1", (org,)).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    project = off_gui(a_project)
    forbid_database_io_on_current_thread()
    try:
        yield Env(demo_db, runner, manager, sales, org, project)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        manager.close()
        sales.close()


def open_page(qtbot: QtBot, env: Env) -> ApprovalsPage:
    page = ApprovalsPage(env.runner, env.manager, env.org, Formatter())
    qtbot.addWidget(page)
    page.resize(1280, 720)
    page.show()
    qtbot.waitUntil(lambda: page.loaded, timeout=WAIT)
    return page


def shown(page: ApprovalsPage) -> dict[uuid.UUID, int]:
    return {item.id: row for row, item in enumerate(page.items)}


def wait_shown(qtbot: QtBot, page: ApprovalsPage, ids: list[uuid.UUID]) -> None:
    page.on_approvals_changed(ids)  # as the change bus would
    qtbot.waitUntil(lambda: set(ids) <= set(shown(page)), timeout=WAIT)


def cell(page: ApprovalsPage, approval: uuid.UUID, column: int) -> str:
    item = page.table.item(shown(page)[approval], column)
    assert item is not None
    return item.text()


def open_dialog(page: ApprovalsPage, decision: str) -> DecisionDialog:
    (page.approve_button if decision == "approved" else page.reject_button).click()
    dialog = page.dialog
    assert isinstance(dialog, DecisionDialog) and dialog.isVisible()
    return dialog


def test_the_inbox_shows_what_waits_for_the_manager_and_an_approval_leaves_it(
        qtbot: QtBot, env: Env) -> None:
    page = open_page(qtbot, env)
    # The seeded purchase order waits for management at its second step.
    po = next(i for i in page.items if i.approval_type == "purchase_order")
    cells = [cell(page, po.id, c) for c in range(8)]
    assert cells[0].startswith("Approve PO") and cells[1] == "Purchase order"
    assert cells[3].startswith("Grace Liu") and cells[6].startswith("Step 2 of 2")
    assert cells[5] and "(overdue)" not in cells[5]  # asked 1.5 days ago, due in two
    row = next(r for r, i in enumerate(page.items) if i.id == po.id)
    with qtbot.waitSignal(page.sig_open_project, timeout=WAIT) as opened:
        page.table.cellDoubleClicked.emit(row, 0)
    assert opened.args == [po.project_id], "double-click opens the approval's project"
    approval = env.ask("Tooling budget for the bracket batch")

    def overdue() -> None:
        with psycopg.connect(env.db.owner_conninfo()) as conn:
            conn.execute("UPDATE approvals SET due_date = now() - interval '1 hour' "
                         "WHERE id = %s", (approval,))

    off_gui(overdue)
    wait_shown(qtbot, page, [approval])
    assert cell(page, approval, 5).endswith("(overdue)")
    page.kind_box.setCurrentIndex(page.kind_box.findData("custom"))
    qtbot.waitUntil(lambda: [i.id for i in page.items] == [approval], timeout=WAIT)
    page.select([approval])
    qtbot.waitUntil(lambda: len(page.history) == 1, timeout=WAIT)
    assert "Alex Carter (Sales) asked for approval" in page.history_list.item(0).text()
    assert "Please check" in page.history_list.item(0).text()

    dialog = open_dialog(page, "approved")
    dialog.comment.setPlainText("Budget checked against the quote")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: approval not in shown(page), timeout=WAIT)
    assert page.stack.currentWidget() is page.empty_label
    assert page.empty_label.text() == "Nothing waits for your decision."
    assert env.status(approval) == "approved"
    steps = off_gui(lambda: approvals.history(env.manager, env.org, approval))
    assert [(h["action_type"], h["comments"]) for h in steps][-1] == (
        "approved", "Budget checked against the quote")


def test_bulk_approve_of_several_in_one_go(qtbot: QtBot, env: Env) -> None:
    page = open_page(qtbot, env)
    asked = [env.ask(f"Fixture order {n}") for n in range(3)]
    wait_shown(qtbot, page, asked)
    page.select(asked)
    assert page.approve_button.text() == "Approve selected (3)…"
    assert page.detail_title.text() == "3 approvals selected"
    dialog = open_dialog(page, "approved")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not set(asked) & set(shown(page)), timeout=WAIT)
    assert page.banner.text == "3 approvals approved."
    assert {env.status(a) for a in asked} == {"approved"}


def test_bulk_with_one_stale_item_applies_nothing_and_says_which(
        qtbot: QtBot, env: Env) -> None:
    def management_or_admin() -> None:
        with psycopg.connect(env.db.owner_conninfo()) as conn:
            chain = conn.execute(
                "INSERT INTO approval_chains (organization_id, chain_name, approval_type, "
                "entity_type) VALUES (%s, 'Either', 'custom', 'project') RETURNING id",
                (env.org,)).fetchone()
            assert chain is not None
            step = conn.execute(
                "INSERT INTO approval_chain_steps (organization_id, chain_id, step_number, "
                "name, mode, required_approvals) VALUES (%s, %s, 1, 'Sign-off', 'parallel', 1) "
                "RETURNING id", (env.org, chain[0])).fetchone()
            assert step is not None
            for role in ("management", "admin"):
                conn.execute("INSERT INTO approval_chain_step_approvers (organization_id, "
                             "chain_step_id, role) VALUES (%s, %s, %s)",
                             (env.org, step[0], role))

    off_gui(management_or_admin)
    page = open_page(qtbot, env)
    asked = [env.ask(f"Gauge calibration {n}") for n in range(3)]
    wait_shown(qtbot, page, asked)
    page.select(asked)

    def admin_decides_first() -> None:
        with sign_in(profile_for(env.db), "acme.admin", DEMO_PASSWORD) as admin:
            waiting = {i.id: i for i in approvals.inbox(admin, env.org)}
            approvals.decide(admin, env.org, asked[1], waiting[asked[1]].version, "approved")

    off_gui(admin_decides_first)
    dialog = open_dialog(page, "approved")
    dialog.comment.setPlainText("Certificates attached")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: page.report_label.isVisible(), timeout=WAIT)
    report = page.report_label.text()
    assert report.startswith("Nothing was approved: 1 of the 3 selected approvals changed")
    assert "“Gauge calibration 1”: This approval was already decided (approved)" in report
    assert "Gauge calibration 0" not in report
    assert [env.status(a) for a in asked] == ["pending", "approved", "pending"]
    qtbot.waitUntil(lambda: asked[1] not in shown(page), timeout=WAIT)  # reloaded
    assert {asked[0], asked[2]} <= set(shown(page))


def test_an_approval_whose_project_changed_is_marked_and_asking_again_replaces_it(
        qtbot: QtBot, env: Env) -> None:
    page = open_page(qtbot, env)
    first = env.ask("First article inspection")
    wait_shown(qtbot, page, [first])
    assert cell(page, first, 6) != "Changed since asked"

    def someone_edits_the_project() -> None:
        with psycopg.connect(env.db.owner_conninfo()) as conn:
            conn.execute("UPDATE projects SET notes = coalesce(notes, '') || ' revised' "
                         "WHERE id = %s", (env.project,))

    off_gui(someone_edits_the_project)
    page.reload()
    qtbot.waitUntil(lambda: cell(page, first, 6) == "Changed since asked", timeout=WAIT)
    page.select([first])
    assert not page.approve_button.isEnabled() and not page.reject_button.isEnabled()
    assert page.stale_note.isVisible()
    assert "can no longer be decided" in page.stale_note.text()
    assert "can ask again" in page.stale_note.text()

    again = env.ask("First article inspection")  # sales asks again: it replaces the first
    wait_shown(qtbot, page, [again])
    qtbot.waitUntil(lambda: first not in shown(page), timeout=WAIT)
    assert env.status(first) == "cancelled"
    page.select([again])
    assert page.approve_button.isEnabled() and not page.stale_note.isVisible()


def test_a_rejection_needs_a_comment(qtbot: QtBot, env: Env) -> None:
    page = open_page(qtbot, env)
    approval = env.ask("Scrap the old jig")
    wait_shown(qtbot, page, [approval])
    page.select([approval])
    dialog = open_dialog(page, "rejected")
    assert "A rejection needs a comment" in dialog.hint_label.text()
    assert not dialog.ok_button.isEnabled()
    dialog.comment.setPlainText("   ")
    dialog.submit()  # even if forced: nothing is sent, the dialog says why
    assert dialog.error_label.text().startswith("Say why you reject it")
    assert dialog.isVisible() and env.status(approval) == "pending"
    dialog.comment.setPlainText("The jig is still used for the 40 mm variant")
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: approval not in shown(page), timeout=WAIT)
    assert env.status(approval) == "rejected"


def test_load_more_pages_through_the_inbox(qtbot: QtBot, env: Env,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(approvals, "PAGE", 2)
    asked = [env.ask(f"Drill bits batch {n}") for n in range(3)]
    page = open_page(qtbot, env)
    page.kind_box.setCurrentIndex(page.kind_box.findData("custom"))
    qtbot.waitUntil(lambda: not page.loading and [i.id for i in page.items] == asked[:2],
                    timeout=WAIT)
    assert page.more_button.isVisible()
    page.more_button.click()
    qtbot.waitUntil(lambda: [i.id for i in page.items] == asked, timeout=WAIT)
    assert not page.more_button.isVisible()  # the last page was not full


def closed(dialog: QWidget) -> bool:
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def test_delegate_my_approvals_to_a_colleague_and_end_it(qtbot: QtBot, env: Env) -> None:
    page = open_page(qtbot, env)
    approval = env.ask("Fixture budget while the manager is away")

    def sales_sees() -> dict[uuid.UUID, str | None]:
        return {i.id: i.on_behalf_of for i in off_gui(lambda: approvals.inbox(env.sales,
                                                                              env.org))}

    assert approval not in sales_sees()
    page.delegate_button.click()
    qtbot.waitUntil(lambda: page.delegation_dialog is not None, timeout=WAIT)
    dialog = page.delegation_dialog
    assert dialog is not None
    dialog.choose(env.sales.identity.person_id)
    dialog.reason.setText("Annual leave")
    dialog.end.setDate(dialog.start.date().addDays(-1))
    dialog.ok_button.click()  # the last day before the first: said, nothing saved
    assert "before the first" in dialog.error_label.text() and dialog.isVisible()
    dialog.end.setDate(dialog.start.date().addDays(3))
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: closed(dialog), timeout=WAIT)
    assert "Delegated" in page.banner.text
    assert sales_sees().get(approval) == env.manager.identity.display_name, \
        "the stand-in sees the manager's approvals, marked on whose behalf"

    page.delegation_dialog = None
    page.delegate_button.click()
    qtbot.waitUntil(lambda: page.delegation_dialog is not None, timeout=WAIT)
    again = page.delegation_dialog
    assert again is not None
    rows = [again.current.item(r).text() for r in range(again.current.count())]
    mine = next(r for r, text in enumerate(rows)
                if text.startswith(env.sales.identity.display_name))
    assert "stands in for you" in rows[mine]
    again.current.setCurrentRow(mine)
    assert again.end_button.isEnabled()
    again.end_button.click()
    qtbot.waitUntil(lambda: closed(again), timeout=WAIT)
    assert approval not in sales_sees()
