"""An approval decided with the version it was opened at, cut before COMMIT or with its answer
lost (RELIABILITY.md T-NET-03): decided once, and pressing Approve again after a decision that
landed is not refused as "already decided"."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from faults_support import (
    NOT_STORED,
    a_project,
    acme,
    answer_lost_after_commit,
    killed_before_commit,
    owner_conn,
    signed,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import approvals


def qa_approval(db: Any, org: uuid.UUID) -> uuid.UUID:
    """A pending approval of a project with one step that acme.qa decides alone."""
    with owner_conn(db) as conn:
        conn.execute("DELETE FROM approval_chains WHERE organization_id = %s", (org,))
        chain = conn.execute(
            "INSERT INTO approval_chains (organization_id, chain_name, approval_type, "
            "entity_type) VALUES (%s, 'QA release', 'quality_review', 'project') RETURNING id",
            (org,)).fetchone()
        assert chain is not None
        step = conn.execute(
            "INSERT INTO approval_chain_steps (organization_id, chain_id, step_number, name, "
            "mode, required_approvals) VALUES (%s, %s, 1, 'QA', 'parallel', 1) RETURNING id",
            (org, chain[0])).fetchone()
        assert step is not None
        conn.execute(
            "INSERT INTO approval_chain_step_approvers (organization_id, chain_step_id, "
            "person_id, position) VALUES (%s, %s, (SELECT id FROM persons WHERE role_name = "
            "'acme.qa'), 1)", (org, step[0]))
    approval = uuid.uuid4()
    with signed(db, "acme.sales") as sales:
        assert approvals.request(sales, org, approval_type="quality_review",
                                 title="Release for production", entity_type="project",
                                 entity_id=a_project(db, org), project_id=None,
                                 approval_id=approval) == approval
    return approval


def approval_state(db: Any, approval: uuid.UUID) -> tuple[str, int, int]:
    with owner_conn(db) as conn:
        row = conn.execute(
            "SELECT a.status::text, a.version, (SELECT count(*) FROM approval_history h "
            "WHERE h.approval_id = a.id AND h.action_type = 'approved') FROM approvals a "
            "WHERE a.id = %s", (approval,)).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_T_NET_03_approval_decision_cut_before_commit_is_decided_once(demo_db: Any) -> None:
    org = acme(demo_db)
    approval = qa_approval(demo_db, org)
    status, seen, _ = approval_state(demo_db, approval)
    with signed(demo_db, "acme.qa") as ws:
        with (killed_before_commit(demo_db, ws, r"decide_approval") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED)):
            approvals.decide(ws, org, approval, seen, "approved", "fine")
        assert trap.fired and approval_state(demo_db, approval) == (status, seen, 0)
        assert approvals.decide(ws, org, approval, seen, "approved", "fine") == "approved"
    assert approval_state(demo_db, approval)[::2] == ("approved", 1)


def test_T_NET_03_approval_decision_answer_lost_is_not_already_decided(demo_db: Any) -> None:
    org = acme(demo_db)
    approval = qa_approval(demo_db, org)
    _status, seen, _ = approval_state(demo_db, approval)
    with signed(demo_db, "acme.qa") as ws:
        with answer_lost_after_commit(demo_db, ws, r"decide_approval") as trap:
            assert approvals.decide(ws, org, approval, seen, "approved", "fine") == "approved"
        assert trap.fired
        # Pressed again (the page still holds the old version): my decision, not a conflict.
        assert approvals.decide(ws, org, approval, seen, "approved", "fine") == "approved"
        # A different decision on the decided approval is still refused.
        with pytest.raises(approvals.ApprovalConflictError):
            approvals.decide(ws, org, approval, seen, "rejected", "changed my mind")
    assert approval_state(demo_db, approval)[::2] == ("approved", 1)



def test_T_NET_03_an_escalation_meanwhile_does_not_pass_for_my_lost_decision(
        demo_db: Any) -> None:
    """Found by the review of `landed`: the check took "my latest decision" for this one. I
    approved step 1 of 2, my step-2 decision is cut before COMMIT and meanwhile the approval is
    escalated (its version moves): the app must say nothing was stored, not "Approved"."""
    from sqlalchemy import event

    org = acme(demo_db)
    approval = qa_approval(demo_db, org)
    with owner_conn(demo_db) as conn:  # a second step, again acme.qa's
        step = conn.execute(
            "INSERT INTO approval_steps (organization_id, approval_id, step_number, name, mode, "
            "required_approvals, status) VALUES (%s, %s, 2, 'QA again', 'parallel', 1, "
            "'waiting') RETURNING id", (org, approval)).fetchone()
        assert step is not None
        conn.execute("INSERT INTO approval_step_approvers (organization_id, approval_step_id, "
                     "person_id, position) VALUES (%s, %s, (SELECT id FROM persons WHERE "
                     "role_name = 'acme.qa'), 1)", (org, step[0]))
        conn.execute("UPDATE approvals SET total_steps = 2 WHERE id = %s", (approval,))
    with signed(demo_db, "acme.qa") as ws:
        _status, seen, _ = approval_state(demo_db, approval)
        assert approvals.decide(ws, org, approval, seen, "approved", "step 1") != "approved"
        status, seen, _ = approval_state(demo_db, approval)
        assert status != "approved"
        with killed_before_commit(demo_db, ws, r"decide_approval") as trap:
            def escalate_meanwhile(_conn: Any) -> None:
                if trap.fired:
                    with owner_conn(demo_db) as owner:
                        owner.execute("UPDATE approvals SET status = 'escalated' WHERE id = %s",
                                      (approval,))

            event.listen(ws.engine, "commit", escalate_meanwhile)
            try:
                with pytest.raises(UserFacingError, match=NOT_STORED):
                    approvals.decide(ws, org, approval, seen, "approved", "step 2")
            finally:
                event.remove(ws.engine, "commit", escalate_meanwhile)
        assert trap.fired
    assert approval_state(demo_db, approval)[0] == "escalated"
