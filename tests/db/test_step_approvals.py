"""Sub-stages that require approval (revision 0009), checked as persons with psql would.

In Technical Review "Engineering Technical Review" requires an approval by engineering. Nobody
completes it by hand without one; asking for it puts it in engineering's inbox; the approval
completes the step; a step changed while its approval waits cannot be approved (stale).
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from rls_support import org_id, person_conn
from test_workflow import finish_steps, move, new_project

STEP = "Engineering Technical Review"


def in_technical_review(db: Any) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    project = new_project(db)
    finish_steps(db, project)
    move(db, "acme.sales", project, "technical_review")
    with person_conn(db, "acme.sales") as conn:
        steps = dict(conn.execute(
            "SELECT ss.name, pr.id FROM project_sub_stage_progress pr JOIN workflow_sub_stages "
            "ss ON ss.id = pr.sub_stage_id WHERE pr.project_id = %s", (project,)).fetchall())
    return project, steps


def ask(db: Any, username: str, step: uuid.UUID, approval: uuid.UUID | None = None) -> uuid.UUID:
    approval = approval or uuid.uuid4()
    with person_conn(db, username) as conn:
        conn.execute("SELECT fp_private.request_step_approval(%s, %s, %s, %s)",
                     (org_id(conn, "acme"), approval, step, "Review written up"))
    return approval


def decide(db: Any, username: str, approval: uuid.UUID, decision: str = "approved") -> str:
    with person_conn(db, username) as conn:
        version = conn.execute("SELECT version FROM approvals WHERE id = %s",
                               (approval,)).fetchone()
        assert version is not None
        row = conn.execute("SELECT fp_private.decide_approval(%s, %s, %s, %s, %s)::text",
                           (org_id(conn, "acme"), approval, version[0], decision, "ok")).fetchone()
    assert row is not None
    return str(row[0])


def step_state(db: Any, step: uuid.UUID) -> tuple[str, str | None]:
    with person_conn(db, "acme.sales") as conn:
        row = conn.execute(
            "SELECT pr.status, pe.role_name FROM project_sub_stage_progress pr "
            "LEFT JOIN persons pe ON pe.id = pr.completed_by WHERE pr.id = %s",
            (step,)).fetchone()
    assert row is not None
    return row[0], row[1]


def test_a_step_that_requires_approval_cannot_be_completed_by_hand(demo_db: Any) -> None:
    _project, steps = in_technical_review(demo_db)
    with person_conn(demo_db, "acme.engineering") as conn, pytest.raises(
            psycopg.errors.InsufficientPrivilege, match="needs an approval"):
        conn.execute("UPDATE project_sub_stage_progress SET status = 'completed' WHERE id = %s",
                     (steps[STEP],))
    with person_conn(demo_db, "acme.management") as conn, pytest.raises(
            psycopg.errors.InsufficientPrivilege, match="needs an approval"):
        conn.execute("UPDATE project_sub_stage_progress SET status = 'completed' WHERE id = %s",
                     (steps[STEP],))
    assert step_state(demo_db, steps[STEP]) == ("in_progress", None)  # as the stage began


def test_the_approval_of_the_steps_role_completes_it(demo_db: Any) -> None:
    _project, steps = in_technical_review(demo_db)
    approval = ask(demo_db, "acme.engineering", steps[STEP])
    assert ask(demo_db, "acme.engineering", steps[STEP], approval) == approval  # a retry
    with person_conn(demo_db, "acme.engineering") as conn:
        approvers = conn.execute(
            "SELECT x.role::text, x.person_id FROM approval_step_approvers x "
            "JOIN approval_steps s ON s.id = x.approval_step_id WHERE s.approval_id = %s",
            (approval,)).fetchall()
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="already waiting"):
            conn.execute("SELECT fp_private.request_step_approval(%s, %s, %s, NULL)",
                         (org_id(conn, "acme"), uuid.uuid4(), steps[STEP]))
    assert approvers == [("engineering", None)], "the sub-stage's approval role decides"
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not an approver"):
        decide(demo_db, "acme.qa", approval)
    assert decide(demo_db, "acme.engineering", approval) == "approved"
    assert step_state(demo_db, steps[STEP]) == ("completed", "acme.engineering")


def test_a_step_changed_while_its_approval_waits_is_not_approved(demo_db: Any) -> None:
    _project, steps = in_technical_review(demo_db)
    approval = ask(demo_db, "acme.engineering", steps[STEP])
    with person_conn(demo_db, "acme.engineering") as conn:  # T-CONC-04 for steps
        conn.execute("UPDATE project_sub_stage_progress SET notes = 'tolerances changed' "
                     "WHERE id = %s", (steps[STEP],))
    with pytest.raises(psycopg.OperationalError, match="changed or removed"):
        decide(demo_db, "acme.engineering", approval)
    assert step_state(demo_db, steps[STEP]) == ("in_progress", None)
    again = ask(demo_db, "acme.management", steps[STEP])  # the stale request ends, a new one opens
    with person_conn(demo_db, "acme.sales") as conn:
        statuses = dict(conn.execute(
            "SELECT id, status::text FROM approvals WHERE id IN (%s, %s)",
            (approval, again)).fetchall())
    assert statuses == {approval: "cancelled", again: "pending"}
    assert decide(demo_db, "acme.engineering", again) == "approved"
    assert step_state(demo_db, steps[STEP])[0] == "completed"


def test_only_who_may_work_on_a_step_asks_and_only_for_steps_that_need_it(
        demo_db: Any) -> None:
    _project, steps = in_technical_review(demo_db)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="belongs to another role"):
        ask(demo_db, "acme.sales", steps[STEP])
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="does not need"):
        ask(demo_db, "acme.sales", steps["Initial Feasibility Assessment"])
