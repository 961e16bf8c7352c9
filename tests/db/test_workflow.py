"""The workflow engine (migration 20261125_0003): every rule holds in the database itself.

Most checks talk to PostgreSQL exactly as a person with psql would (their own login, plain
UPDATE statements), so nothing here depends on the app behaving; the last ones go through
`services/workflow.py` as the app does.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from rls_support import org_id, owner_conn, person_conn
from support import profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import workflow
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in

PASSWORD = "factorypulse-demo"


def stages(conn: psycopg.Connection[Any], org: uuid.UUID) -> dict[str, uuid.UUID]:
    return dict(conn.execute(
        "SELECT slug, id FROM workflow_stages WHERE organization_id = %s", (org,)).fetchall())


def new_project(db: Any, username: str = "acme.sales", *, with_customer: bool = True) -> uuid.UUID:
    """A fresh project in Inquiry Received, created by `username`."""
    with person_conn(db, username) as conn:
        org = org_id(conn, "acme")
        customer = conn.execute(
            "SELECT id FROM contacts WHERE organization_id = %s AND type = 'customer' "
            "ORDER BY company_name LIMIT 1", (org,)).fetchone() if with_customer else None
        row = conn.execute(
            "INSERT INTO projects (organization_id, title, customer_id) VALUES (%s, %s, %s) "
            "RETURNING id", (org, "Bracket batch", customer[0] if customer else None)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def finish_steps(db: Any, project: uuid.UUID, username: str = "acme.sales") -> None:
    """Complete every step of the project's current stage."""
    with person_conn(db, username) as conn:
        conn.execute(
            "UPDATE project_sub_stage_progress pr SET status = 'completed' FROM projects p "
            "WHERE p.id = pr.project_id AND pr.workflow_stage_id = p.current_stage_id "
            "AND p.id = %s", (project,))


def move(db: Any, username: str, project: uuid.UUID, slug: str,
         reason: str | None = None) -> None:
    """A plain UPDATE, as psql would send it (the reason in the transaction setting)."""
    with person_conn(db, username) as conn:
        stage = stages(conn, org_id(conn, "acme"))[slug]
        if reason is not None:
            conn.execute("SELECT set_config('fp.transition_reason', %s, true)", (reason,))
        conn.execute("UPDATE projects SET current_stage_id = %s WHERE id = %s",
                      (stage, project))


def history(db: Any, project: uuid.UUID) -> list[tuple[str, str, str | None]]:
    with owner_conn(db) as conn:
        return [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT h.transition, s.slug, h.reason FROM project_stage_history h "
            "JOIN workflow_stages s ON s.id = h.to_stage_id WHERE h.project_id = %s "
            "ORDER BY h.occurred_at, h.id", (project,))]


def current_slug(db: Any, project: uuid.UUID) -> str:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT s.slug FROM projects p JOIN workflow_stages s "
                           "ON s.id = p.current_stage_id WHERE p.id = %s", (project,)).fetchone()
    assert row is not None
    return str(row[0])


# -- stage moves, as psql ----------------------------------------------------------------------


def test_steps_exist_from_creation_and_advance_needs_them_done(demo_db: Any) -> None:
    project = new_project(demo_db)
    with person_conn(demo_db, "acme.sales") as conn:
        steps = conn.execute(
            "SELECT ss.name, pr.status FROM project_sub_stage_progress pr JOIN "
            "workflow_sub_stages ss ON ss.id = pr.sub_stage_id WHERE pr.project_id = %s "
            "ORDER BY ss.sub_stage_order", (project,)).fetchall()
    assert steps == [("RFQ Documentation Review", "in_progress"),
                     ("Initial Feasibility Assessment", "pending"),
                     ("Customer Requirements Clarification", "pending")]

    with pytest.raises(psycopg.errors.RaiseException) as refused:
        move(demo_db, "acme.sales", project, "technical_review")
    message = refused.value.diag.message_primary or ""
    assert 'cannot leave "Inquiry Received" yet' in message
    assert '"RFQ Documentation Review" is not done' in message
    assert "Customer Requirements Clarification" not in message, "optional step"
    assert current_slug(demo_db, project) == "inquiry_received"

    with person_conn(demo_db, "acme.sales") as conn:  # the two required steps only
        conn.execute("UPDATE project_sub_stage_progress pr SET status = 'completed' "
                     "FROM workflow_sub_stages ss WHERE ss.id = pr.sub_stage_id "
                     "AND pr.project_id = %s AND ss.is_required", (project,))
    move(demo_db, "acme.sales", project, "technical_review")
    assert history(demo_db, project) == [("created", "inquiry_received", None),
                                         ("advance", "technical_review", None)]


def test_no_customer_no_leaving_the_first_stage(demo_db: Any) -> None:
    project = new_project(demo_db, with_customer=False)
    finish_steps(demo_db, project)
    with pytest.raises(psycopg.errors.RaiseException, match="has no customer yet"):
        move(demo_db, "acme.sales", project, "technical_review")


def test_moving_back_needs_a_reason(demo_db: Any) -> None:
    project = new_project(demo_db)
    finish_steps(demo_db, project)
    move(demo_db, "acme.management", project, "technical_review")
    with pytest.raises(psycopg.errors.RaiseException, match="Give a reason for moving"):
        move(demo_db, "acme.management", project, "inquiry_received")
    with pytest.raises(psycopg.errors.RaiseException, match="Give a reason for moving"):
        move(demo_db, "acme.management", project, "inquiry_received", reason="   ")
    move(demo_db, "acme.management", project, "inquiry_received", reason="Drawing changed")
    assert history(demo_db, project)[-1] == ("back", "inquiry_received", "Drawing changed")


def test_skipping_only_by_bypass_roles_and_with_a_reason(demo_db: Any) -> None:
    project = new_project(demo_db)
    finish_steps(demo_db, project)
    move(demo_db, "acme.sales", project, "technical_review")
    # Engineering may update projects in Technical Review, but not skip stages.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="Only sales, management"):
        move(demo_db, "acme.engineering", project, "quoted", reason="Customer in a hurry")
    # Nor advance with the review steps undone; the message says who could.
    with pytest.raises(psycopg.errors.RaiseException) as refused:
        move(demo_db, "acme.engineering", project, "supplier_rfq_sent", reason="Known part")
    assert "ask sales, management or an administrator" in (refused.value.diag.message_hint or "")
    with pytest.raises(psycopg.errors.RaiseException, match="Give a reason for skipping"):
        move(demo_db, "acme.management", project, "quoted")
    move(demo_db, "acme.management", project, "quoted", reason="Repeat order, same drawing")
    # The next stage with its steps undone is a bypass too: recorded as a skip.
    move(demo_db, "acme.management", project, "order_confirmed", reason="PO arrived early")
    assert [h[0] for h in history(demo_db, project)] == [
        "created", "advance", "skip", "skip"]
    assert history(demo_db, project)[-1][2] == "PO arrived early"


def test_no_move_to_a_switched_off_stage_or_of_an_archived_project(demo_db: Any) -> None:
    project = new_project(demo_db)
    finish_steps(demo_db, project)
    with owner_conn(demo_db) as conn:
        conn.execute("UPDATE workflow_stages SET is_active = false WHERE slug = "
                     "'technical_review' AND organization_id = %s", (org_id(conn, "acme"),))
    with pytest.raises(psycopg.errors.RaiseException, match="switched off"):
        move(demo_db, "acme.management", project, "technical_review")
    # With Technical Review off, Supplier RFQ Sent is the next stage: a plain advance.
    move(demo_db, "acme.sales", project, "supplier_rfq_sent")
    assert history(demo_db, project)[-1][0] == "advance"
    with person_conn(demo_db, "acme.management") as conn:
        conn.execute("UPDATE projects SET archived_at = now() WHERE id = %s", (project,))
    with pytest.raises(psycopg.errors.RaiseException, match="archived"):
        move(demo_db, "acme.management", project, "quoted", reason="x")


def test_a_stage_of_another_organization_is_refused(demo_db: Any) -> None:
    project = new_project(demo_db)
    with owner_conn(demo_db) as conn:
        globex_stage = stages(conn, org_id(conn, "globex"))["technical_review"]
    with person_conn(demo_db, "acme.management") as conn, pytest.raises(psycopg.Error):
        conn.execute("UPDATE projects SET current_stage_id = %s WHERE id = %s",
                     (globex_stage, project))


def test_history_cannot_be_written_by_persons(demo_db: Any) -> None:
    project = new_project(demo_db)
    with person_conn(demo_db, "acme.admin") as conn:
        stage = stages(conn, org_id(conn, "acme"))["completed"]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO project_stage_history (organization_id, project_id, to_stage_id, "
                "transition) VALUES (%s, %s, %s, 'advance')",
                (org_id(conn, "acme"), project, stage))


# -- compare-and-set -----------------------------------------------------------------------------


def test_two_people_move_the_same_project_at_once_one_wins(demo_db: Any) -> None:
    project = new_project(demo_db)
    finish_steps(demo_db, project)
    with owner_conn(demo_db) as conn:
        ids = stages(conn, org_id(conn, "acme"))
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def mover(username: str, target: str, reason: str | None) -> None:
        with person_conn(demo_db, username) as conn:
            barrier.wait()
            try:
                kind = conn.execute("SELECT fp_private.move_project(%s, %s, %s, %s)",
                                    (project, ids["inquiry_received"], ids[target],
                                     reason)).fetchone()
                conn.commit()
                outcomes[username] = kind[0] if kind else None
            except psycopg.Error as error:
                outcomes[username] = error

    threads = [threading.Thread(target=mover, args=("acme.sales", "technical_review", None)),
               threading.Thread(target=mover, args=("acme.management", "quoted", "Repeat"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [o for o in outcomes.values() if isinstance(o, psycopg.Error)]
    wins = [o for o in outcomes.values() if not isinstance(o, psycopg.Error)]
    assert len(wins) == 1 and len(errors) == 1, outcomes
    [lost] = errors
    assert lost.sqlstate == "FP409"
    assert "Someone moved this project meanwhile" in (lost.diag.message_primary or "")
    now = current_slug(demo_db, project)
    assert now in {"technical_review", "quoted"}
    assert lost.diag.message_detail == str(ids[now]), "the loser learns where it is now"
    assert [h[0] for h in history(demo_db, project)].count("created") == 1
    assert len(history(demo_db, project)) == 2, "exactly one move recorded"


# -- steps ---------------------------------------------------------------------------------------


def test_step_rules(demo_db: Any) -> None:
    project = new_project(demo_db)
    with person_conn(demo_db, "acme.sales") as conn:
        steps = dict(conn.execute(
            "SELECT ss.name, pr.id FROM project_sub_stage_progress pr JOIN workflow_sub_stages "
            "ss ON ss.id = pr.sub_stage_id WHERE pr.project_id = %s", (project,)).fetchall())
        me = conn.execute("SELECT fp_private.my_person_id()").fetchone()
        done = conn.execute(
            "UPDATE project_sub_stage_progress SET status = 'completed', completed_by = NULL "
            "WHERE id = %s RETURNING completed_by, completed_at IS NOT NULL",
            (steps["RFQ Documentation Review"],)).fetchone()
        assert me is not None and done == (me[0], True), "the database says who and when"
        conn.execute("UPDATE project_sub_stage_progress SET status = 'skipped' WHERE id = %s",
                     (steps["Customer Requirements Clarification"],))  # optional: may skip
        with pytest.raises(psycopg.errors.RaiseException, match="cannot be skipped"):
            conn.execute("UPDATE project_sub_stage_progress SET status = 'skipped' "
                         "WHERE id = %s", (steps["Initial Feasibility Assessment"],))
    other = new_project(demo_db)
    with person_conn(demo_db, "acme.sales") as conn, pytest.raises(
            psycopg.errors.InsufficientPrivilege, match="cannot be moved"):
        conn.execute("UPDATE project_sub_stage_progress SET project_id = %s WHERE id = %s",
                     (other, steps["Initial Feasibility Assessment"]))
    finish_steps(demo_db, project)
    move(demo_db, "acme.sales", project, "technical_review")
    with person_conn(demo_db, "acme.management") as conn, pytest.raises(
            psycopg.errors.RaiseException, match="another stage"):
        conn.execute("UPDATE project_sub_stage_progress SET status = 'pending' WHERE id = %s",
                     (steps["Initial Feasibility Assessment"],))


# -- through the service, as the app does ------------------------------------------------------


@pytest.fixture
def profile(demo_db: Any) -> ConnectionProfile:
    return profile_for(demo_db)


@pytest.fixture
def sales(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.sales", PASSWORD) as ws:
        yield ws


def test_service_moves_explain_and_detect_conflicts(demo_db: Any, sales: Workspace) -> None:
    project = new_project(demo_db)
    org = sales.identity.memberships[0].organization_id
    flow = workflow.load_workflow(sales, org)
    assert [s.slug for s in flow][:2] == ["inquiry_received", "technical_review"]
    assert len(flow) == 8 and sum(len(s.sub_stages) for s in flow) == 30
    first, second, third = flow[0].id, flow[1].id, flow[2].id

    assert workflow.exit_blockers(sales, project) == [
        '"RFQ Documentation Review" is not done', '"Initial Feasibility Assessment" is not done']
    with pytest.raises(UserFacingError, match="give a reason to skip them"):
        workflow.advance_project(sales, project, first)

    for step in workflow.load_steps(sales, project, first):
        if step.is_required:
            workflow.update_step(sales, step.id, step.version, status="completed")
    assert workflow.exit_blockers(sales, project) == []
    assert workflow.advance_project(sales, project, first) == "advance"

    # A second window still thinks the project is in the first stage.
    with pytest.raises(workflow.StageConflictError) as conflict:
        workflow.move_project(sales, project, first, third, reason="stale view")
    assert conflict.value.current_stage_id == second
    assert '"Technical Review"' in str(conflict.value)


def test_service_step_conflict_and_permission(demo_db: Any, sales: Workspace,
                                              profile: ConnectionProfile) -> None:
    project = new_project(demo_db)
    [first, *_] = workflow.load_steps(sales, project)
    version = workflow.update_step(sales, first.id, first.version, status="blocked")
    assert version == first.version + 1
    with pytest.raises(workflow.StepConflictError):
        workflow.update_step(sales, first.id, first.version, status="completed")
    with (sign_in(profile, "acme.qa", PASSWORD) as qa,  # not responsible, not assigned
          pytest.raises(UserFacingError, match="You may not change this step")):
        workflow.update_step(qa, first.id, version, status="completed")
    me = sales.identity.person_id
    workflow.update_step(sales, first.id, version, assign=True, assignee_id=me)
    [step, *_] = workflow.load_steps(sales, project)
    assert step.assigned_to == me and step.status == "blocked"
