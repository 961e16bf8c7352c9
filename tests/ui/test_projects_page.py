"""The Projects page on a real database, GUI thread banned from database I/O: list pages,
sort and filter, the board's moves with and without a reason, live updates in place."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from PySide6.QtCore import QItemSelectionModel, QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import off_gui, profile_for

from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.pages.projects import ProjectsPage
from factorypulse_desktop.ui.tasks import TaskRunner

PASSWORD = "factorypulse-demo"
T = TypeVar("T")


def owner_conn(db: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(db.owner_conninfo())


def org_id(conn: psycopg.Connection[Any], slug: str) -> uuid.UUID:
    row = conn.execute("SELECT id FROM organizations WHERE slug = %s", (slug,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))






@dataclass
class Setup:
    page: ProjectsPage
    workspace: Workspace
    runner: TaskRunner
    db: Any


def _open(qtbot: QtBot, db: Any, username: str) -> Generator[Setup, None, None]:
    profile = profile_for(db)
    workspace = sign_in(profile, username, PASSWORD)
    runner = TaskRunner()
    forbid_database_io_on_current_thread()
    try:
        settings = QSettings(str(Path(tempfile.mkdtemp()) / "ui.ini"),
                             QSettings.Format.IniFormat)
        page = ProjectsPage(runner, workspace, workspace.identity.memberships[0].organization_id,
                            settings=settings)
        qtbot.addWidget(page)
        page.resize(1200, 760)
        page.show()
        qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=15000)
        yield Setup(page, workspace, runner, db)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


@pytest.fixture
def sales(qtbot: QtBot, qapp: QApplication, demo_db: Any) -> Iterator[Setup]:
    with owner_conn(demo_db) as conn:  # enough projects for two pages
        acme = org_id(conn, "acme")
        for i in range(130):
            conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, %s)",
                         (acme, f"Spacer lot {i:03}"))
    yield from _open(qtbot, demo_db, "acme.sales")


def owner_rows(db: Any, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    def read() -> list[tuple[Any, ...]]:
        with owner_conn(db) as conn:
            return list(conn.execute(sql, args).fetchall())
    return off_gui(read)


def test_list_pages_sorts_and_filters(qtbot: QtBot, sales: Setup) -> None:
    page = sales.page
    truth = {r[0] for r in owner_rows(
        sales.db, "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id "
        "WHERE o.slug = 'acme' AND p.status = 'active' AND p.archived_at IS NULL")}
    assert page.model.rowCount() == 100 and page.model.canFetchMore()
    while page.model.canFetchMore():
        with qtbot.waitSignal(page.sig_loaded, timeout=10000):
            page.model.fetchMore()
    assert {r.id for r in page.model.rows()} == truth
    assert page.count_label.text() == f"{len(truth)} projects"

    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # number, in SQL
    numbers = [r.number for r in page.model.rows()]
    assert numbers == sorted(numbers, reverse=True)
    assert numbers[0] == max(r[0] for r in owner_rows(
        sales.db, "SELECT project_number FROM projects p JOIN organizations o ON "
        "o.id = p.organization_id WHERE o.slug = 'acme' AND p.status = 'active'"))

    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.search.setText("SPACER 12")  # every word, anywhere in number, title or customer
    while page.model.canFetchMore():
        with qtbot.waitSignal(page.sig_loaded, timeout=10000):
            page.model.fetchMore()
    shown = page.model.rows()
    assert shown and all("spacer" in r.title.lower()
                         and "12" in f"{r.number} {r.title} {r.customer or ''}" for r in shown)
    assert {f"Spacer lot {i:03}" for i in [12, *range(120, 130)]} <= {r.title for r in shown}


def _project_in(db: Any, slug: str, title: str) -> uuid.UUID:
    def make() -> uuid.UUID:
        with owner_conn(db) as conn:
            acme = org_id(conn, "acme")
            customer = conn.execute("SELECT id FROM contacts WHERE organization_id = %s "
                                    "AND type = 'customer' LIMIT 1", (acme,)).fetchone()
            row = conn.execute(
                "INSERT INTO projects (organization_id, title, customer_id, current_stage_id, "
                "priority_level) SELECT %s, %s, %s, s.id, 'critical' FROM workflow_stages s "
                "WHERE s.organization_id = %s AND s.slug = %s RETURNING id",
                (acme, title, customer[0] if customer else None, acme, slug)).fetchone()
        assert row is not None
        return uuid.UUID(str(row[0]))
    return off_gui(make)


def _stage_of(db: Any, project: uuid.UUID) -> str:
    return str(owner_rows(db, "SELECT s.slug FROM projects p JOIN workflow_stages s ON "
                              "s.id = p.current_stage_id WHERE p.id = %s", project)[0][0])


def _board(qtbot: QtBot, page: ProjectsPage) -> dict[str, uuid.UUID]:
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.board_button.click()
    return {c.stage: c.stage_id for c in page.board.columns()}


def test_board_moves_ask_for_a_reason_where_the_rules_need_one(
    qtbot: QtBot, sales: Setup
) -> None:
    page = sales.page
    project = _project_in(sales.db, "inquiry_received", "Board drag check")
    stages = _board(qtbot, page)
    assert list(stages)[:2] == ["Inquiry Received", "Technical Review"]
    inquiry = next(c for c in page.board.columns() if c.stage == "Inquiry Received")
    assert inquiry.cards[0].id == project, "critical first"

    asked: list[str] = []
    answers: list[tuple[str, str | None] | None] = [None, ("Customer waiting", "by phone")]

    def ask(title: str, explanation: str, _ok: str) -> tuple[str, str | None] | None:
        asked.append(f"{title}: {explanation}")
        return answers.pop(0)

    page.ask_reason = ask
    # Next stage, steps not done: the database refuses and, sales may skip, the page asks.
    page.board.drop(project, stages["Technical Review"])
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10000)
    assert 'cannot leave "Inquiry Received" yet' in asked[0]
    assert _stage_of(sales.db, project) == "inquiry_received", "cancelled: nothing moved"
    page.board.drop(project, stages["Technical Review"])
    qtbot.waitUntil(lambda: _stage_of(sales.db, project) == "technical_review", timeout=10000)
    history = owner_rows(sales.db, "SELECT transition, reason, comment FROM "
                         "project_stage_history WHERE project_id = %s ORDER BY occurred_at "
                         "DESC LIMIT 1", project)
    assert history == [("skip", "Customer waiting", "by phone")]
    qtbot.waitUntil(lambda: page.board.card_stage(project) == stages["Technical Review"],
                    timeout=10000)

    # Back: the reason is asked before anything is sent; Technical Review is engineering's,
    # QA's and production's stage, so the database refuses sales and the page says so.
    answers.append(("New drawing", None))
    page.board.drop(project, stages["Inquiry Received"])
    qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=10000)
    assert asked[-1].startswith("Move back")
    assert "You may not move this project in its current stage" in page.banner.text
    assert _stage_of(sales.db, project) == "technical_review"


def test_a_refused_move_shows_the_database_words(qtbot: QtBot, qapp: QApplication,
                                                 demo_db: Any) -> None:
    project = _project_in(demo_db, "technical_review", "Engineering cannot skip")
    opened = _open(qtbot, demo_db, "acme.engineering")
    page = next(opened).page
    try:
        stages = _board(qtbot, page)
        page.ask_reason = lambda *_args: ("Customer in a hurry", None)
        page.board.drop(project, stages["Quoted"])
        qtbot.waitUntil(page.banner.isVisible, timeout=10000)
        assert "Only sales, management or an administrator may skip" in page.banner.text
        assert _stage_of(demo_db, project) == "technical_review"
    finally:
        opened.close()


def test_change_by_someone_else_updates_the_row_in_place(qtbot: QtBot, sales: Setup) -> None:
    from factorypulse_desktop.services.live import ChangeFeed
    from factorypulse_desktop.ui.events import ChangeBus
    from factorypulse_desktop.ui.live import LiveUpdates

    page = sales.page
    bus = ChangeBus()
    live = LiveUpdates(ChangeFeed)
    live.sig_changes.connect(bus.publish)
    bus.subscribe("projects", page.on_projects_changed)
    live.start(sales.workspace.conninfo())
    try:
        qtbot.waitUntil(lambda: live.state.value == "online", timeout=15000)
        first, second = page.model.rows()[:2]
        page.table.selectRow(page.model.row_of(second.id))
        resets: list[bool] = []
        page.model.modelReset.connect(lambda: resets.append(True))
        off_gui(lambda: owner_rows(sales.db, "UPDATE projects SET title = 'Renamed elsewhere' "
                                             "WHERE id = %s RETURNING id", first.id))
        qtbot.waitUntil(lambda: page.model.rows()[0].title == "Renamed elsewhere",
                        timeout=10000)
        assert resets == [], "updated in place"
        selected = page.table.selectionModel().selectedRows()
        assert [page.model.project(i.row()).id for i in selected] == [second.id]  # type: ignore[union-attr]
    finally:
        live.stop()


def test_bulk_assign_and_archive_from_the_list(qtbot: QtBot, sales: Setup) -> None:
    page = sales.page
    qtbot.waitUntil(lambda: page.assign_menu.actions() != [], timeout=10000)
    spacers = [r for r in page.model.rows() if r.title.startswith("Spacer lot")][:3]
    for row in spacers:
        page.table.selectionModel().select(
            page.model.index(page.model.row_of(row.id), 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    assert page.bulk_bar.isVisibleTo(page) and page.selection_label.text() == "3 selected"
    production = next(a for a in page.assign_menu.actions() if "Production" in a.text())
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        production.trigger()
    assert "3 projects changed." in page.banner.text
    owners = owner_rows(sales.db, "SELECT DISTINCT pe.role_name FROM projects p JOIN persons pe "
                        "ON pe.id = p.assigned_to WHERE p.id = ANY (%s)",
                        [r.id for r in spacers])
    assert owners == [("acme.production",)]

    page.confirm = lambda *_args: True
    for row in spacers[:2]:
        page.table.selectionModel().select(
            page.model.index(page.model.row_of(row.id), 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.archive_button.click()
    assert page.model.row_of(spacers[1].id) == -1, "archived projects leave the list"


def test_saved_filters(qtbot: QtBot, sales: Setup) -> None:
    page = sales.page
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.search.setText("spacer")
    page.priority_filter.setCurrentIndex(page.priority_filter.findData("medium"))
    page.assignee_filter.setCurrentIndex(page.assignee_filter.findData(
        sales.workspace.identity.person_id))
    page.intake_filter.setCurrentIndex(page.intake_filter.findData("rfq"))
    page.due_filter_on.setChecked(True)
    page.save_filter("  My spacers  ")
    assert page.saved_filter_names() == ["My spacers"]
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.search.setText("")
    page.assignee_filter.setCurrentIndex(0)
    page.intake_filter.setCurrentIndex(0)
    page.due_filter_on.setChecked(False)
    page.priority_filter.setCurrentIndex(0)
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.apply_filter("My spacers")
    flt = page.current_filter()
    assert (flt.text, flt.priorities, flt.assignee_id, flt.intake_types) == (
        "spacer", ("medium",), sales.workspace.identity.person_id, ("rfq",))
    assert flt.due_before is not None
    page.delete_filter("My spacers")
    assert page.saved_filter_names() == []
