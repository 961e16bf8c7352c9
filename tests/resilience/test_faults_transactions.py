"""Transactions under contention and left alone (RELIABILITY.md T-CONC-07, T-CONC-08).

T-CONC-08: two SERIALIZABLE transactions on the same row; the unit of work that loses is run
again whole (`units.write`), at most 3 times in all, then the person reads a plain sentence
and nothing of it is stored. T-CONC-07: a project's edit form left open holds no transaction
on the server (every read and write is one short task).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from faults_support import count, owner_conn
from pytestqt.qtbot import QtBot
from rls_support import org_id
from sqlalchemy import Connection, text
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import units
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.ui.events import ChangeBus
from factorypulse_desktop.ui.pages.project_page import ProjectPage
from factorypulse_desktop.ui.tasks import TaskRunner


@contextmanager
def signed(db: Any, who: str) -> Iterator[Workspace]:
    with sign_in(profile_for(db), who, DEMO_PASSWORD) as ws:
        yield ws


def a_project(db: Any) -> tuple[uuid.UUID, uuid.UUID]:
    with owner_conn(db) as conn:
        org = org_id(conn, "acme")
        row = conn.execute("SELECT id FROM projects WHERE organization_id = %s AND archived_at "
                           "IS NULL ORDER BY project_number LIMIT 1", (org,)).fetchone()
    assert row is not None
    return org, row[0]


def concurrent_serializable_update(db: Any, project: uuid.UUID) -> None:
    """Another client's SERIALIZABLE transaction changes the same row and commits."""
    with owner_conn(db) as other:
        other.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        other.execute("UPDATE projects SET notes = coalesce(notes, '') || '.' WHERE id = %s",
                      (project,))
    # (committed when the `with` block ends)


class Unit:
    """A unit of work that writes a message, reads the project, then updates it; the first
    `losing` attempts meet a concurrent committed update of the same row in between."""

    def __init__(self, db: Any, org: uuid.UUID, project: uuid.UUID, losing: int) -> None:
        self.db, self.org, self.project, self.losing = db, org, project, losing
        self.attempts = 0
        self.marker = f"T-CONC-08 {uuid.uuid4()}"

    def __call__(self, conn: Connection) -> str:
        self.attempts += 1
        conn.execute(text(  # a write before the conflict: must not survive a failed attempt
            "INSERT INTO messages (organization_id, project_id, content, recipient_type, "
            "message_type) VALUES (:org, :project, :content, 'project', 'internal')"),
            {"org": self.org, "project": self.project, "content": self.marker})
        title = str(conn.execute(text("SELECT title FROM projects WHERE id = :id"),
                                 {"id": self.project}).scalar_one())
        if self.attempts <= self.losing:
            concurrent_serializable_update(self.db, self.project)
        conn.execute(text("UPDATE projects SET title = :title WHERE id = :id"),
                     {"title": title + " (checked)", "id": self.project})
        return title

    def messages(self) -> int:
        return count(self.db, "SELECT count(*) FROM messages WHERE content = %s", self.marker)


def test_T_CONC_08_a_serialization_failure_runs_the_unit_again(demo_db: Any) -> None:
    org, project = a_project(demo_db)
    unit = Unit(demo_db, org, project, losing=1)
    with signed(demo_db, "acme.management") as ws:
        title = units.write(ws, unit, isolation="SERIALIZABLE")
    assert unit.attempts == 2
    assert unit.messages() == 1, "the whole unit ran again: its message is stored once"
    assert count(demo_db, "SELECT count(*) FROM projects WHERE id = %s AND title = %s",
                 project, title + " (checked)") == 1


def test_T_CONC_08_gives_up_after_3_attempts_in_plain_words(demo_db: Any) -> None:
    org, project = a_project(demo_db)
    unit = Unit(demo_db, org, project, losing=10)
    with signed(demo_db, "acme.management") as ws, \
            pytest.raises(UserFacingError) as refused:
        units.write(ws, unit, isolation="SERIALIZABLE")
    assert unit.attempts == 3
    assert str(refused.value) == units.BUSY_MESSAGE
    assert "40001" not in str(refused.value) and "serialize" not in str(refused.value)
    assert unit.messages() == 0, "no partial writes"
    assert count(demo_db, "SELECT count(*) FROM projects WHERE id = %s AND title LIKE "
                 "'%%(checked)'", project) == 0


def test_T_CONC_08_a_deadlock_is_retried_too(demo_db: Any) -> None:
    """40P01 counts like 40001: the unit chosen as the victim runs again (the server's error
    is raised by the unit itself here, as a deadlock would be)."""
    _org, project = a_project(demo_db)
    attempts: list[int] = []

    def unit(conn: Connection) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise_deadlock = text(
                "DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; "
                "END $$")
            conn.execute(raise_deadlock)
        conn.execute(text("UPDATE projects SET notes = notes WHERE id = :id"), {"id": project})

    with signed(demo_db, "acme.management") as ws:
        units.write(ws, unit)
    assert len(attempts) == 2


# -- T-CONC-07 ---------------------------------------------------------------------------------

def test_T_CONC_07_an_edit_form_left_open_holds_no_transaction(
        qtbot: QtBot, demo_db: Any) -> None:
    _org, project = a_project(demo_db)
    runner = TaskRunner()
    workspace = off_gui(lambda: sign_in(profile_for(demo_db), "acme.management",
                                        DEMO_PASSWORD))
    try:
        page = ProjectPage(runner, workspace, project, bus=ChangeBus())
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.detail is not None and page._people != [], timeout=15000)
        page.title_edit.setText("Typed, not saved, form left open")
        assert page.is_dirty()
        qtbot.wait(2500)  # the dialog stays open ("2 h", scaled down: nothing ticks meanwhile)
        with owner_conn(demo_db) as owner:
            states = [r[0] for r in owner.execute(
                "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                "AND usename = 'acme.management'")]
        assert states, "the page's pooled connection is open"
        assert all(not (s or "").startswith("idle in transaction") for s in states), states
        assert page.is_dirty() and page.title_edit.text() == "Typed, not saved, form left open"
    finally:
        runner.shutdown(timeout_ms=5000)
        workspace.close()


def test_T_CONC_08_a_deadlock_in_a_bulk_decision_runs_it_again(demo_db: Any) -> None:
    """Found by the review of the units of work: the bulk decision caught a deadlock of one
    item and reported it as that item's problem (as if stale), so nothing ran it again."""
    from factorypulse_desktop.services import approvals

    org, project = a_project(demo_db)
    with owner_conn(demo_db) as owner:  # the first decision written meets a deadlock, once
        owner.execute("CREATE SEQUENCE test_deadlock_once")
        owner.execute(
            "CREATE FUNCTION test_deadlock_once() RETURNS trigger LANGUAGE plpgsql "
            "SECURITY DEFINER SET search_path = pg_catalog, public AS $$ "
            "BEGIN IF nextval('test_deadlock_once') = 1 THEN RAISE EXCEPTION 'deadlock "
            "detected' USING ERRCODE = '40P01'; END IF; RETURN NEW; END $$")
        owner.execute("CREATE TRIGGER test_deadlock_once BEFORE INSERT ON approval_history "
                      "FOR EACH ROW WHEN (NEW.action_type = 'approved') "
                      "EXECUTE FUNCTION test_deadlock_once()")
    try:
        with signed(demo_db, "acme.sales") as sales:
            asked = [approvals.request(sales, org, approval_type="custom", title=f"Bulk {n}",
                                       entity_type="project", entity_id=project,
                                       project_id=project) for n in range(2)]
        with signed(demo_db, "acme.management") as management:
            waiting = {i.id: i for i in approvals.inbox(management, org)}
            result = approvals.decide_all(management, org,
                                          [(a, waiting[a].version) for a in asked], "approved")
        assert result.ok and result.applied == 2, result
        assert count(demo_db, "SELECT count(*) FROM approvals WHERE id = ANY(%s) AND "
                     "status = 'approved'", asked) == 2
        assert count(demo_db, "SELECT count(*) FROM approval_history WHERE approval_id = "
                     "ANY(%s) AND action_type = 'approved'", asked) == 2
        assert count(demo_db, "SELECT last_value FROM test_deadlock_once") >= 2  # ran again
    finally:
        with owner_conn(demo_db) as owner:
            owner.execute("DROP TRIGGER test_deadlock_once ON approval_history")
            owner.execute("DROP FUNCTION test_deadlock_once()")
            owner.execute("DROP SEQUENCE test_deadlock_once")
