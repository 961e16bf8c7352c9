"""Issue 4's "done when": a sales person takes an RFQ from intake to Completed on the board,
with every rule enforced, and the dashboard shows it — through the real pages, on the demo
database, with the GUI thread banned from database I/O."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import profile_for

from factorypulse_desktop.domain.enums import IntakeType
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.dialogs.intake_dialog import IntakeDialog
from factorypulse_desktop.ui.pages.dashboard import DashboardPage
from factorypulse_desktop.ui.pages.project_page import ProjectPage
from factorypulse_desktop.ui.pages.projects import ProjectsPage
from factorypulse_desktop.ui.tasks import TaskRunner

pytestmark = pytest.mark.slow
PASSWORD = "factorypulse-demo"
WAIT = 15000


@dataclass
class Session:
    workspace: Workspace
    runner: TaskRunner
    organization_id: uuid.UUID


@pytest.fixture
def sales(qapp: QApplication, demo_db: Any) -> Iterator[Session]:
    profile = profile_for(demo_db)
    workspace = sign_in(profile, "acme.sales", PASSWORD)
    runner = TaskRunner()
    forbid_database_io_on_current_thread()
    try:
        yield Session(workspace, runner, workspace.identity.memberships[0].organization_id)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def stored_stage(db: Any, project: uuid.UUID) -> str:
    found: list[str] = []

    def read() -> None:
        with psycopg.connect(db.owner_conninfo()) as conn:
            row = conn.execute("SELECT s.name FROM projects p JOIN workflow_stages s ON "
                               "s.id = p.current_stage_id WHERE p.id = %s", (project,)).fetchone()
            found.append(str(row[0]) if row else "")

    worker = threading.Thread(target=read)
    worker.start()
    worker.join(30)
    return found[0]


def approve_step(db: Any, step: uuid.UUID) -> None:
    """The step's open approval, approved by a person of the first role it names, with
    their own login (the approver is somebody else than the sales person, as in the shop)."""

    def decide() -> None:
        with psycopg.connect(db.owner_conninfo()) as conn:
            row = conn.execute(
                "SELECT a.id, a.organization_id, a.version, x.role::text FROM approvals a "
                "JOIN approval_steps s ON s.approval_id = a.id AND s.step_number = a.step_number "
                "JOIN approval_step_approvers x ON x.approval_step_id = s.id "
                "WHERE a.entity_type = 'project_step' AND a.entity_id = %s "
                "AND a.status = 'pending' ORDER BY x.position LIMIT 1", (step,)).fetchone()
        assert row is not None, "the step's approval waits in an inbox"
        with psycopg.connect(db.conninfo_for(f"acme.{row[3]}"), autocommit=True) as conn:
            conn.execute("SELECT fp_private.decide_approval(%s, %s, %s, 'approved', 'ok')",
                         (row[1], row[0], row[2]))

    worker = threading.Thread(target=decide)
    worker.start()
    worker.join(30)


def page_loaded(page: ProjectPage) -> Callable[[], bool]:
    return lambda: page.detail is not None


def stage_is(db: Any, project: uuid.UUID, name: str) -> Callable[[], bool]:
    return lambda: stored_stage(db, project) == name


def test_rfq_from_intake_to_completed_on_the_board(qtbot: QtBot, sales: Session,
                                                   demo_db: Any) -> None:
    ws, runner, org = sales.workspace, sales.runner, sales.organization_id
    # 1. Intake: an RFQ from a new customer.
    intake = IntakeDialog(runner, ws, org)
    qtbot.addWidget(intake)
    intake.show()
    intake.set_intake_type(IntakeType.RFQ)
    intake.company.setText("Hallberg Fluidtechnik AB")
    intake.contact_name.setText("Sara Hallberg")
    intake.email.setText("sara@hallberg.example")
    intake.title.setText("Hydraulic manifold blocks, 120 pcs")
    intake.estimated_value.setText("18,400")
    qtbot.waitUntil(lambda: not intake.busy, timeout=WAIT)
    with qtbot.waitSignal(intake.sig_created, timeout=WAIT) as created:
        intake.submit()
    result = created.args[0]
    assert intake.showing_success and result.project_number in intake.success_title.text()
    project = result.project_id
    assert stored_stage(demo_db, project) == "Inquiry Received"

    # 2. Through every stage: finish the steps on the project page, drag on the board.
    projects = ProjectsPage(runner, ws, org)
    qtbot.addWidget(projects)
    projects.show()
    qtbot.waitUntil(lambda: projects.model.rowCount() > 0, timeout=WAIT)
    with qtbot.waitSignal(projects.sig_loaded, timeout=WAIT):
        projects.show_view(1)
    columns = [c.stage for c in projects.board.columns()]
    stage_ids = {c.stage: c.stage_id for c in projects.board.columns()}
    assert columns[-1] == "Completed"
    refused: list[str] = []

    def no_reason(_title: str, message: str, _ok: str) -> None:
        refused.append(message)  # the page offers a bypass with a reason: decline it
        return None

    projects.ask_reason = no_reason

    for current, following in itertools.pairwise(columns):
        # A drag before the steps are done is refused by the database; nothing moves.
        projects.board.drop(project, stage_ids[following])
        qtbot.waitUntil(lambda: len(refused) > 0, timeout=WAIT)
        assert f'cannot leave "{current}" yet' in refused.pop()
        assert stored_stage(demo_db, project) == current

        page = ProjectPage(runner, ws, project)
        qtbot.addWidget(page)
        qtbot.waitUntil(page_loaded(page), timeout=WAIT)
        detail = page.detail
        assert detail is not None and detail.stage.name == current
        for step in detail.steps_of(detail.stage.id):
            if step.is_required and step.status not in ("completed", "skipped"):
                row = page.step_row(step.name)
                if step.requires_approval:  # asked for, approved elsewhere, then done
                    assert "complete" not in row.step_actions
                    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
                        row.step_actions["ask_approval"].trigger()
                    assert page.step_row(step.name).step_actions.get("complete") is None
                    approve_step(demo_db, step.id)
                    with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
                        page.reload()
                    assert page.step_row(step.name).step.status == "completed"
                    continue
                with qtbot.waitSignal(page.sig_loaded, timeout=WAIT):
                    row.step_actions["complete"].trigger()
        assert page.detail is not None and page.detail.blockers == ()
        page.close()

        with qtbot.waitSignal(projects.sig_loaded, timeout=WAIT):
            projects.board.drop(project, stage_ids[following])
        qtbot.waitUntil(stage_is(demo_db, project, following), timeout=WAIT)
        assert projects.board.card_stage(project) == stage_ids[following]
    assert not refused

    # 3. The dashboard counts it in Completed and in this week's throughput.
    board = DashboardPage(runner, ws, org)
    qtbot.addWidget(board)
    qtbot.waitUntil(lambda: board.data is not None, timeout=WAIT)
    data = board.data
    assert data is not None
    completed = next(s for s in data.stage_distribution if s.name == "Completed")
    assert completed.projects >= 1
    assert data.weekly_throughput[-1].completed >= 1
