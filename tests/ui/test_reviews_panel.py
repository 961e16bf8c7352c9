"""The project's Reviews & approvals tab on the demo database, each person in their own
workspace: management asks for three role reviews, engineering, QA and production each answer
theirs through the panel built for them; risks, conflicts, T-IN-10 and asking for approval.

The GUI thread is banned from database I/O for the whole test (`off_gui` for the test's own).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTableWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import text
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.services import reviews, units
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.dialogs.review_dialogs import (
    AskApprovalDialog,
    DecideReviewDialog,
    RequestReviewsDialog,
)
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.reviews_panel import ReviewsPanel

WAIT = 15000
PEOPLE = ("management", "engineering", "qa", "production", "sales")
HTML = '<b>Bold</b> <a href="https://evil.example">click</a> <img src=x>'


@dataclass
class Env:
    runner: TaskRunner
    org: uuid.UUID
    project: uuid.UUID
    ws: dict[str, Workspace]
    panels: list[ReviewsPanel] = field(default_factory=list)


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    runner = TaskRunner()
    ws = {who: off_gui(lambda who=who: sign_in(profile_for(demo_db), f"acme.{who}",
                                               DEMO_PASSWORD)) for who in PEOPLE}
    org = ws["management"].identity.memberships[0].organization_id

    def new_project() -> uuid.UUID:
        with psycopg.connect(demo_db.owner_conninfo()) as conn:
            row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, "
                               "'Gear housing') RETURNING id", (org,)).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))

    project = off_gui(new_project)
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, org, project, ws)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        for workspace in ws.values():
            workspace.close()


def panel_for(qtbot: QtBot, env: Env, who: str, label: str = "") -> ReviewsPanel:
    panel = ReviewsPanel(env.runner, env.ws[who], env.org, env.project, Formatter(),
                         project_label=label)
    qtbot.addWidget(panel)
    panel.resize(1100, 760)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded, timeout=WAIT)
    env.panels.append(panel)
    return panel


def texts(table: QTableWidget, row: int) -> list[str]:
    return [table.item(row, c).text() if table.item(row, c) else ""  # type: ignore[union-attr]
            for c in range(table.columnCount())]


def ask_three_role_reviews(qtbot: QtBot, env: Env) -> ReviewsPanel:
    manager = panel_for(qtbot, env, "management")
    manager.request_button.click()
    dialog = manager.dialog
    assert isinstance(dialog, RequestReviewsDialog)
    assert all(c.isChecked() for c in dialog.checks.values())
    assert dialog.reviewer_boxes["qa"].currentText() == "Anyone in Quality (QA)"
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: len(manager.reviews) == 3, timeout=WAIT)
    assert not shiboken6.isValid(dialog)  # closed (and deleted) once saved
    return manager


def status_of(panel: ReviewsPanel, kind: str) -> str:
    return next(r for r in panel.reviews if r.review_type == kind).status


def open_decide(qtbot: QtBot, panel: ReviewsPanel, kind: str) -> DecideReviewDialog:
    review = next(r for r in panel.reviews if r.review_type == kind)
    panel.select_review(review.id)
    assert panel.decide_button.isEnabled(), f"{kind} cannot decide its own review"
    panel.decide_button.click()
    dialog = panel.dialog
    assert isinstance(dialog, DecideReviewDialog)
    return dialog


def test_three_role_reviews_each_decided_by_its_role_with_a_risk(
        qtbot: QtBot, env: Env) -> None:
    manager = ask_three_role_reviews(qtbot, env)
    assert [texts(manager.reviews_table, r)[:3] for r in range(3)] == [
        ["Engineering", "Anyone in Engineering", "Waiting"],
        ["Quality (QA)", "Anyone in Quality (QA)", "Waiting"],
        ["Production", "Anyone in Production", "Waiting"]]
    assert texts(manager.reviews_table, 0)[3]  # a due date by default

    for who in ("engineering", "qa", "production"):
        panel = panel_for(qtbot, env, who)
        others = [r for r in panel.reviews if r.review_type != who]
        panel.select_review(others[0].id)
        assert not panel.decide_button.isEnabled()  # not this person's review
        dialog = open_decide(qtbot, panel, who)
        dialog.comments.setPlainText(f"Checked by {who}")
        if who == "qa":
            row = dialog.add_risk()
            dialog.set_risk(row, "quality", "high", "Leaks at the seal", "Lap the sealing face")
            second = dialog.add_risk()
            dialog.risks.selectRow(second)
            dialog.remove_risk()  # an empty row added by mistake goes again
            assert dialog.risks.rowCount() == 1
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: status_of(panel, who) == "approved", timeout=WAIT)  # noqa: B023

    manager.on_reviews_changed([r.id for r in manager.reviews])
    qtbot.waitUntil(lambda: {r.status for r in manager.reviews} == {"approved"}, timeout=WAIT)
    qa = next(r for r in manager.reviews if r.review_type == "qa")
    manager.select_review(qa.id)
    assert texts(manager.reviews_table, 1)[1] == "Sam Okafor (QA)"
    assert texts(manager.reviews_table, 1)[2] == "Approved"
    assert manager.comments_label.text() == "Checked by qa"
    assert texts(manager.risks_table, 0) == ["Quality", "High", "Leaks at the seal",
                                             "Lap the sealing face"]
    assert not manager.decide_button.isEnabled()  # decided


def test_T_IN_10_review_text_that_looks_like_html_is_shown_literally(
        qtbot: QtBot, env: Env) -> None:
    ask_three_role_reviews(qtbot, env)
    engineer = panel_for(qtbot, env, "engineering")
    dialog = open_decide(qtbot, engineer, "engineering")
    dialog.set_decision("revision_requested")
    dialog.comments.setPlainText(HTML)
    dialog.recommendations.setPlainText("<script>alert(1)</script>")
    row = dialog.add_risk()
    dialog.set_risk(row, "technical", "low", "<i>thin wall</i>")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: any(r.status == "revision_requested" for r in engineer.reviews),
                    timeout=WAIT)
    review = next(r for r in engineer.reviews if r.review_type == "engineering")
    engineer.select_review(review.id)
    assert engineer.comments_label.textFormat() == Qt.TextFormat.PlainText
    assert engineer.comments_label.text() == HTML
    assert engineer.recommendations_label.textFormat() == Qt.TextFormat.PlainText
    assert engineer.recommendations_label.text() == "<script>alert(1)</script>"
    assert texts(engineer.risks_table, 0)[2] == "<i>thin wall</i>"
    assert texts(engineer.reviews_table, 0)[2] == "Revision requested"


def test_a_review_decided_meanwhile_keeps_what_was_typed(qtbot: QtBot, env: Env) -> None:
    ask_three_role_reviews(qtbot, env)
    qa = panel_for(qtbot, env, "qa")
    dialog = open_decide(qtbot, qa, "qa")
    dialog.set_decision("rejected")
    dialog.ok_button.click()  # a rejection without a word: refused, nothing sent
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=WAIT)
    assert dialog.error_label.text() == "Say what is wrong or what to change."
    review = next(r for r in qa.reviews if r.review_type == "qa")
    off_gui(lambda: reviews.decide_review(env.ws["management"], env.org, review, "approved"))
    dialog.comments.setPlainText("Tolerance stack too tight on the bore")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: "Someone else decided" in dialog.error_label.text(), timeout=WAIT)
    assert dialog.isVisible()
    assert dialog.comments.toPlainText() == "Tolerance stack too tight on the bore"
    qtbot.waitUntil(lambda: next(r for r in qa.reviews if r.review_type == "qa").status
                    == "approved", timeout=WAIT)  # reloaded: the manager's decision shows


def test_ask_for_the_quote_approval(qtbot: QtBot, env: Env) -> None:
    sales = panel_for(qtbot, env, "sales", label="P-0999 Gear housing")
    sales.ask_button.click()
    dialog = sales.dialog
    assert isinstance(dialog, AskApprovalDialog)
    assert dialog.type_box.currentData() == "cost_approval"
    assert dialog.title_edit.text() == "Quote for P-0999 Gear housing"
    dialog.amount_edit.setText("twelve")
    dialog.ok_button.click()
    assert dialog.error_label.text().startswith("The amount: “twelve” is not a number")
    dialog.amount_edit.setText("12,500.50")
    dialog.title_edit.setText(HTML)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: len(sales.approvals) == 1, timeout=WAIT)
    approval = sales.approvals[0]
    assert approval.id == dialog.approval_id and str(approval.amount) == "12500.50"
    row = texts(sales.approvals_table, 0)
    assert row[0] == HTML  # a table cell is plain text (T-IN-10)
    assert row[1:4] == ["Quote / cost", "Waiting", "Step 1 of 2: Sales and engineering"]
    assert row[4] == "Alex Carter (Sales)"

    # Someone changes the project while the quote waits: the request can no longer be decided,
    # and the list says so, with what to do.
    def someone_edits_the_project() -> None:
        units.write(env.ws["management"], lambda conn: conn.execute(text(
            "UPDATE projects SET notes = coalesce(notes, '') || ' revised' WHERE id = :id"),
            {"id": env.project}))

    off_gui(someone_edits_the_project)
    sales.reload()
    qtbot.waitUntil(lambda: sales.approvals and sales.approvals[0].stale, timeout=WAIT)
    assert texts(sales.approvals_table, 0)[2] == "Changed since asked — ask again"
