"""The approvals engine (revision 0007), called directly as persons — as psql would.

Chains are set up as the owner; every request and decision is made with a person's own login.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from rls_support import org_id, owner_conn, person_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import approvals
from factorypulse_desktop.services.auth import sign_in


@pytest.fixture
def acme(demo_db: Any) -> uuid.UUID:
    with owner_conn(demo_db) as conn:
        org = org_id(conn, "acme")
        # Start from no chains, so each test says exactly which rules apply.
        conn.execute("DELETE FROM approval_chains WHERE organization_id = %s", (org,))
    return org


def chain(db: Any, org: uuid.UUID, name: str, kind: str, entity: str,
          steps: Sequence[tuple[str, str, int, Sequence[str]]],
          min_amount: float | None = None) -> uuid.UUID:
    """A chain: steps of (name, mode, required approvals, approver roles or usernames)."""
    with owner_conn(db) as conn:
        row = conn.execute(
            "INSERT INTO approval_chains (organization_id, chain_name, approval_type, "
            "entity_type, min_amount) VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (org, name, kind, entity, min_amount)).fetchone()
        assert row is not None
        for number, (step_name, mode, required, approvers) in enumerate(steps, 1):
            step = conn.execute(
                "INSERT INTO approval_chain_steps (organization_id, chain_id, step_number, "
                "name, mode, required_approvals) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (org, row[0], number, step_name, mode, required)).fetchone()
            assert step is not None
            for position, who in enumerate(approvers, 1):
                person = conn.execute("SELECT id FROM persons WHERE role_name = %s",
                                      (who,)).fetchone()
                conn.execute(
                    "INSERT INTO approval_chain_step_approvers (organization_id, chain_step_id, "
                    "person_id, role, position) VALUES (%s, %s, %s, %s, %s)",
                    (org, step[0], person[0] if person else None,
                     None if person else who, position))
    return uuid.UUID(str(row[0]))


def a_project(db: Any, org: uuid.UUID) -> uuid.UUID:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT id FROM projects WHERE organization_id = %s ORDER BY "
                           "project_number LIMIT 1", (org,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def request(db: Any, who: str, org: uuid.UUID, *, kind: str = "quality_review",
            entity: str = "project", entity_id: uuid.UUID | None = None,
            amount: float | None = None) -> uuid.UUID:
    approval = uuid.uuid4()
    with person_conn(db, who) as conn:
        conn.execute(
            "SELECT fp_private.request_approval(%s, %s, %s, 'Release for production', %s, %s, "
            "NULL, NULL, %s, 'USD', 'Ready')",
            (org, approval, kind, entity, entity_id or a_project(db, org), amount))
    return approval


def version(db: Any, approval: uuid.UUID) -> int:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT version FROM approvals WHERE id = %s", (approval,)).fetchone()
    assert row is not None
    return int(row[0])


def decide(db: Any, who: str, org: uuid.UUID, approval: uuid.UUID, decision: str = "approved",
           seen: int | None = None) -> str:
    with person_conn(db, who) as conn:
        row = conn.execute("SELECT fp_private.decide_approval(%s, %s, %s, %s, 'ok')",
                           (org, approval, seen if seen is not None else version(db, approval),
                            decision)).fetchone()
    assert row is not None
    return str(row[0])


def status(db: Any, approval: uuid.UUID) -> tuple[str, int]:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT status::text, step_number FROM approvals WHERE id = %s",
                           (approval,)).fetchone()
    assert row is not None
    return row[0], row[1]


def test_three_roles_then_management_in_order(demo_db: Any, acme: uuid.UUID) -> None:
    chain(demo_db, acme, "Technical review", "quality_review", "project", [
        ("Engineering, QA and production", "parallel", 3, ["engineering", "qa", "production"]),
        ("Management", "parallel", 1, ["management"]),
    ])
    approval = request(demo_db, "acme.sales", acme)
    assert status(demo_db, approval) == ("pending", 1)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not an approver"):
        decide(demo_db, "acme.management", acme, approval)  # not this step yet
    assert decide(demo_db, "acme.qa", acme, approval) == "in_review"
    with pytest.raises(psycopg.Error, match="already decided this step"):
        decide(demo_db, "acme.qa", acme, approval)
    assert decide(demo_db, "acme.engineering", acme, approval) == "in_review"
    assert status(demo_db, approval) == ("in_review", 1)
    assert decide(demo_db, "acme.production", acme, approval) == "in_review"
    assert status(demo_db, approval) == ("in_review", 2)  # the next step opened
    assert decide(demo_db, "acme.management", acme, approval) == "approved"
    with owner_conn(demo_db) as conn:
        history = [r[0] for r in conn.execute(
            "SELECT action_type FROM approval_history WHERE approval_id = %s "
            "ORDER BY action_at, id", (approval,))]
    assert history.count("approved") == 4 and history[0] == "requested"


def test_n_of_m_and_a_rejection(demo_db: Any, acme: uuid.UUID) -> None:
    chain(demo_db, acme, "Two of three", "quality_review", "project", [
        ("Any two", "parallel", 2, ["engineering", "qa", "production"])])
    first = request(demo_db, "acme.sales", acme)
    decide(demo_db, "acme.engineering", acme, first)
    assert decide(demo_db, "acme.production", acme, first) == "approved"  # 2 of 3 suffice
    with pytest.raises(psycopg.Error, match="already decided"):
        decide(demo_db, "acme.qa", acme, first)
    second = request(demo_db, "acme.sales", acme)
    assert decide(demo_db, "acme.qa", acme, second, "rejected") == "rejected"
    with owner_conn(demo_db) as conn:
        left = conn.execute(
            "SELECT count(*) FROM approval_step_approvers x JOIN approval_steps s ON "
            "s.id = x.approval_step_id WHERE s.approval_id = %s AND x.decision = 'pending'",
            (second,)).fetchone()
    assert left == (0,)


def test_a_sequential_step_goes_in_order(demo_db: Any, acme: uuid.UUID) -> None:
    chain(demo_db, acme, "In order", "engineering_change", "project", [
        ("Engineering then QA", "sequential", 2, ["acme.engineering", "acme.qa"])])
    approval = request(demo_db, "acme.sales", acme, kind="engineering_change")
    with pytest.raises(psycopg.Error, match="not your turn"):
        decide(demo_db, "acme.qa", acme, approval)
    decide(demo_db, "acme.engineering", acme, approval)
    assert decide(demo_db, "acme.qa", acme, approval) == "approved"


def test_a_delegate_decides_for_the_delegator_today(demo_db: Any, acme: uuid.UUID) -> None:
    chain(demo_db, acme, "Manager", "cost_approval", "project", [
        ("Management", "parallel", 1, ["acme.management"])])
    approval = request(demo_db, "acme.sales", acme, kind="cost_approval")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        decide(demo_db, "acme.engineering", acme, approval)
    with person_conn(demo_db, "acme.management") as conn:
        conn.execute(
            "INSERT INTO approval_delegations (organization_id, delegator_id, delegate_id, "
            "start_date, end_date, reason) SELECT %s, (SELECT id FROM persons WHERE role_name "
            "= 'acme.management'), id, current_date, current_date + 7, 'Holiday' "
            "FROM persons WHERE role_name = 'acme.engineering'", (acme,))
    assert decide(demo_db, "acme.engineering", acme, approval) == "approved"
    with owner_conn(demo_db) as conn:
        row = conn.execute(
            "SELECT d.role_name, x.decision FROM approval_step_approvers x JOIN approval_steps "
            "s ON s.id = x.approval_step_id JOIN persons d ON d.id = x.delegated_from "
            "WHERE s.approval_id = %s", (approval,)).fetchone()
    assert row == ("acme.management", "approved")


def test_thresholds_are_chosen_by_the_database(demo_db: Any, acme: uuid.UUID) -> None:
    chain(demo_db, acme, "PO small", "purchase_order", "purchase_order", [
        ("Procurement", "parallel", 1, ["procurement"])])
    chain(demo_db, acme, "PO large", "purchase_order", "purchase_order", [
        ("Procurement", "parallel", 1, ["procurement"]),
        ("Management", "parallel", 1, ["management"])], min_amount=10000)
    with owner_conn(demo_db) as conn:
        large = conn.execute(
            "SELECT id FROM purchase_orders WHERE organization_id = %s AND total_amount >= "
            "10000 LIMIT 1", (acme,)).fetchone()
        if large is None:
            large = conn.execute(
                "UPDATE purchase_orders SET total_amount = 25000 WHERE id = (SELECT id FROM "
                "purchase_orders WHERE organization_id = %s LIMIT 1) RETURNING id",
                (acme,)).fetchone()
    assert large is not None
    # The client claims a small amount: the order's own total decides.
    approval = request(demo_db, "acme.procurement", acme, kind="purchase_order",
                       entity="purchase_order", entity_id=large[0], amount=5)
    with owner_conn(demo_db) as conn:
        row = conn.execute("SELECT c.chain_name, a.total_steps FROM approvals a JOIN "
                           "approval_chains c ON c.id = a.approval_chain_id WHERE a.id = %s",
                           (approval,)).fetchone()
    assert row == ("PO large", 2)


def test_no_one_writes_approvals_except_through_the_engine(
        demo_db: Any, acme: uuid.UUID) -> None:
    approval = request(demo_db, "acme.sales", acme)  # no chain: one management approval
    with person_conn(demo_db, "acme.admin") as conn:
        for sql in ("UPDATE approvals SET status = 'approved' WHERE id = %s",
                    "DELETE FROM approval_history WHERE approval_id = %s",
                    "UPDATE approval_step_approvers SET decision = 'approved' WHERE "
                    "approval_step_id IN (SELECT id FROM approval_steps WHERE approval_id = %s)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql, (approval,))
            conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO approvals (organization_id, approval_type, title, "
                         "entity_type, entity_id, status) VALUES (%s, 'custom', 'Self-made', "
                         "'project', %s, 'approved')", (acme, uuid.uuid4()))
    assert status(demo_db, approval) == ("pending", 1)
    with person_conn(demo_db, "acme.customer") as conn, pytest.raises(
            psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT fp_private.request_approval(%s, %s, 'custom', 'x', 'project', "
                     "%s, NULL, NULL, NULL, NULL, NULL)", (acme, uuid.uuid4(), uuid.uuid4()))
    # A retry of the same request (its answer lost) returns it; nothing doubles.
    with person_conn(demo_db, "acme.sales") as conn:
        again = conn.execute(
            "SELECT fp_private.request_approval(%s, %s, 'quality_review', 'Release for "
            "production', 'project', %s, NULL, NULL, NULL, 'USD', 'Ready')",
            (acme, approval, a_project(demo_db, acme))).fetchone()
    assert again == (approval,)


def test_T_CONC_03_two_approvers_at_the_same_moment(demo_db: Any, acme: uuid.UUID) -> None:
    chain(demo_db, acme, "One of two", "quality_review", "project", [
        ("QA or production", "parallel", 1, ["qa", "production"])])
    approval = request(demo_db, "acme.sales", acme)
    seen = version(demo_db, approval)
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def approve(who: str) -> None:
        with person_conn(demo_db, who) as conn:
            barrier.wait()
            try:
                row = conn.execute("SELECT fp_private.decide_approval(%s, %s, %s, 'approved', "
                                   "'ok')", (acme, approval, seen)).fetchone()
                outcomes[who] = str(row[0]) if row else ""
            except psycopg.Error as error:
                outcomes[who] = f"{error.sqlstate}: {error.diag.message_primary}"

    threads = [threading.Thread(target=approve, args=(w,))
               for w in ("acme.qa", "acme.production")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    results = list(outcomes.values())
    assert results.count("approved") == 1  # exactly one success …
    [refused] = [r for r in results if r != "approved"]
    assert refused.startswith("FP409: This approval was already decided")  # … one refusal
    with owner_conn(demo_db) as conn:
        decisions = conn.execute("SELECT count(*) FROM approval_history WHERE approval_id = %s "
                                 "AND action_type = 'approved'", (approval,)).fetchone()
    assert decisions == (1,)
    assert status(demo_db, approval) == ("approved", 1)


def test_T_CONC_04_the_approved_record_changed_after_the_request(
        demo_db: Any, acme: uuid.UUID) -> None:
    with owner_conn(demo_db) as conn:
        document = conn.execute("SELECT id FROM documents WHERE organization_id = %s AND "
                                "access_level <> 'confidential' LIMIT 1", (acme,)).fetchone()
    assert document is not None
    approval = request(demo_db, "acme.engineering", acme, kind="document_approval",
                       entity="document", entity_id=document[0])
    with owner_conn(demo_db) as conn:  # someone edits the drawing meanwhile
        conn.execute("UPDATE documents SET title = title || ' (rev B)' WHERE id = %s",
                     (document[0],))
    with pytest.raises(psycopg.Error, match="document was changed or removed"):
        decide(demo_db, "acme.management", acme, approval)
    assert status(demo_db, approval) == ("pending", 1)


def test_T_CONC_04_a_changed_record_is_marked_in_the_inbox_and_asking_again_replaces_it(
        demo_db: Any, acme: uuid.UUID) -> None:
    """Found by the soak: approvals nobody could decide stayed in every inbox. Now the inbox
    and the project's list say which changed since asked, and a new request cancels them."""
    project = a_project(demo_db, acme)

    def ask(kind: str) -> uuid.UUID:
        with sign_in(profile_for(demo_db), "acme.sales", DEMO_PASSWORD) as sales:
            return approvals.request(sales, acme, approval_type=kind, title="Quote",
                                     entity_type="project", entity_id=project,
                                     project_id=project)

    first, other_kind = ask("cost_approval"), ask("quality_review")
    with sign_in(profile_for(demo_db), "acme.management", DEMO_PASSWORD) as management:
        def shown() -> dict[uuid.UUID, bool]:
            return {i.id: i.stale for i in approvals.inbox(management, acme)
                    if i.id in (first, other_kind) or i.entity_id == project}

        assert shown() == {first: False, other_kind: False}
        with owner_conn(demo_db) as conn:  # someone edits the project meanwhile
            conn.execute("UPDATE projects SET notes = coalesce(notes, '') || ' changed' "
                         "WHERE id = %s", (project,))
        assert shown() == {first: True, other_kind: True}
        listed = {a.id: a.stale for a in approvals.project_approvals(management, acme, project)}
        assert listed[first] is True and listed[other_kind] is True
        with pytest.raises(UserFacingError, match="changed"):  # still refused (T-CONC-04)
            approvals.decide(management, acme, first, version(demo_db, first), "approved")

        again = ask("cost_approval")
        assert shown() == {again: False, other_kind: True}  # same kind replaced, only
        assert status(demo_db, first) == ("cancelled", 1)
        with owner_conn(demo_db) as conn:
            history = conn.execute(
                "SELECT action_type::text, comments FROM approval_history WHERE approval_id = "
                "%s ORDER BY action_at", (first,)).fetchall()
        assert history[-1][0] == "cancelled" and "asked for" in history[-1][1]
        assert approvals.decide(management, acme, again, version(demo_db, again),
                                "approved") == "approved"


def test_only_the_own_organization_learns_which_approvals_are_stale(
        demo_db: Any, acme: uuid.UUID) -> None:
    with owner_conn(demo_db) as conn:
        globex = org_id(conn, "globex")
    project = a_project(demo_db, globex)
    stale = request(demo_db, "globex.sales", globex, kind="cost_approval", entity_id=project)
    with owner_conn(demo_db) as conn:
        conn.execute("UPDATE projects SET notes = coalesce(notes, '') || ' changed' "
                     "WHERE id = %s", (project,))
        theirs = [r[0] for r in conn.execute(
            "SELECT id FROM approvals WHERE organization_id = %s", (globex,))]
    with person_conn(demo_db, "globex.sales") as conn:  # there is something to leak
        assert conn.execute("SELECT fp_private.stale_approval_ids(%s, %s)",
                            (globex, theirs)).fetchall() == [(stale,)]
    with person_conn(demo_db, "acme.admin") as conn:
        for org in (globex, acme):
            found = conn.execute("SELECT fp_private.stale_approval_ids(%s, %s)",
                                 (org, theirs)).fetchall()
            assert found == []


# -- the person's inbox and bulk decisions (services.approvals) --------------------------------
def test_inbox_shows_what_waits_for_me_and_my_delegators(demo_db: Any, acme: uuid.UUID) -> None:
    chain(demo_db, acme, "QA", "quality_review", "project", [("QA", "parallel", 1, ["qa"])])
    chain(demo_db, acme, "Manager", "cost_approval", "project", [
        ("Management", "parallel", 1, ["acme.management"])])
    mine = request(demo_db, "acme.sales", acme)
    theirs = request(demo_db, "acme.sales", acme, kind="cost_approval")
    with sign_in(profile_for(demo_db), "acme.qa", DEMO_PASSWORD) as qa:
        ids = [i.id for i in approvals.inbox(qa, acme)]
        assert mine in ids and theirs not in ids
        with person_conn(demo_db, "acme.management") as conn:
            conn.execute(
                "INSERT INTO approval_delegations (organization_id, delegator_id, delegate_id, "
                "start_date, end_date) SELECT %s, (SELECT id FROM persons WHERE role_name = "
                "'acme.management'), id, current_date, current_date FROM persons "
                "WHERE role_name = 'acme.qa'", (acme,))
        items = {i.id: i for i in approvals.inbox(qa, acme)}
        assert items[theirs].on_behalf_of and items[mine].on_behalf_of is None
        assert [i.id for i in approvals.inbox(qa, acme, kind="cost_approval")] == [theirs]
        first = approvals.inbox(qa, acme, limit=1)
        rest = approvals.inbox(qa, acme, after=first[0].cursor)
        assert first[0].id not in {i.id for i in rest}  # keyset paging
        assert approvals.decide(qa, acme, mine, items[mine].version, "approved") == "approved"
        assert mine not in [i.id for i in approvals.inbox(qa, acme)]
        with pytest.raises(UserFacingError, match="Say why"):
            approvals.decide(qa, acme, theirs, items[theirs].version, "rejected", " ")


def test_bulk_decision_is_all_or_nothing_with_a_report(demo_db: Any, acme: uuid.UUID) -> None:
    chain(demo_db, acme, "QA", "quality_review", "project", [
        ("QA or production", "parallel", 1, ["qa", "production"])])
    requested = [request(demo_db, "acme.sales", acme) for _ in range(4)]
    with sign_in(profile_for(demo_db), "acme.qa", DEMO_PASSWORD) as qa:
        items = [(i.id, i.version) for i in approvals.inbox(qa, acme) if i.id in requested]
        assert len(items) == 4
        # Production decides one of them first: the bulk run must not apply the others.
        decide(demo_db, "acme.production", acme, requested[2])
        result = approvals.decide_all(qa, acme, items, "approved", "Checked the batch")
        assert not result.ok and result.applied == 0
        assert [s[0] for s in result.stale] == [requested[2]]
        assert "already decided" in result.stale[0][1]
        assert [status(demo_db, a)[0] for a in requested] == [
            "pending", "pending", "approved", "pending"]
        fresh = [(i.id, i.version) for i in approvals.inbox(qa, acme) if i.id in requested]
        result = approvals.decide_all(qa, acme, fresh, "approved", "Checked the batch")
        assert result.ok and result.applied == 3
        assert {status(demo_db, a)[0] for a in requested} == {"approved"}
        steps = approvals.history(qa, acme, requested[0])
        assert [h["action_type"] for h in steps] == ["requested", "approved"]


def test_an_overdue_step_is_escalated_to_the_role_the_chain_names(
        demo_db: Any, acme: uuid.UUID) -> None:
    made = chain(demo_db, acme, "QA with escalation", "quality_review", "project", [
        ("QA", "sequential", 1, ["acme.qa"])])
    with owner_conn(demo_db) as conn:
        conn.execute("UPDATE approval_chain_steps SET due_hours = 4, escalate_to_role = "
                     "'management' WHERE chain_id = %s", (made,))
    approval = request(demo_db, "acme.sales", acme)
    with sign_in(profile_for(demo_db), "acme.sales", DEMO_PASSWORD) as sales:
        assert approvals.escalate_overdue(sales, acme) == 0  # not due yet
        with owner_conn(demo_db) as conn:
            conn.execute("UPDATE approval_steps SET due_at = now() - interval '1 hour' "
                         "WHERE approval_id = %s", (approval,))
        assert approvals.escalate_overdue(sales, acme) == 1
        assert approvals.escalate_overdue(sales, acme) == 0  # once
    assert status(demo_db, approval) == ("escalated", 1)
    with sign_in(profile_for(demo_db), "acme.management", DEMO_PASSWORD) as manager:
        waiting = {i.id: i for i in approvals.inbox(manager, acme)}
        assert approval in waiting
        assert approvals.decide(manager, acme, approval, waiting[approval].version,
                                "approved", "QA is away") == "approved"
    with owner_conn(demo_db) as conn:
        actions = [r[0] for r in conn.execute(
            "SELECT action_type FROM approval_history WHERE approval_id = %s "
            "ORDER BY action_at, id", (approval,))]
    assert actions == ["requested", "escalated", "approved"]


# -- a project's approvals and asking for one (services.approvals.request) ---------------------
def test_a_project_lists_its_approvals_and_a_retried_request_makes_one(
        demo_db: Any, acme: uuid.UUID) -> None:
    project = a_project(demo_db, acme)
    chosen = uuid.uuid4()
    with sign_in(profile_for(demo_db), "acme.sales", DEMO_PASSWORD) as sales:
        before = {a.id for a in approvals.project_approvals(sales, acme, project)}
        asked = approvals.request(sales, acme, approval_type="cost_approval",
                                  title="  Quote approval  ", entity_type="project",
                                  entity_id=project, project_id=project, amount=Decimal("12500.5"),
                                  currency="usd", reason="Margin 21 %", approval_id=chosen)
        # The answer was lost and the dialog sends it again: still one approval.
        again = approvals.request(sales, acme, approval_type="cost_approval",
                                  title="Quote approval", entity_type="project",
                                  entity_id=project, project_id=project, amount=12500.5,
                                  currency="USD", approval_id=chosen)
        assert asked == again == chosen
        listed = [a for a in approvals.project_approvals(sales, acme, project)
                  if a.id not in before]
        assert len(listed) == 1
        mine = listed[0]
        assert (mine.title, mine.approval_type, mine.status) == (
            "Quote approval", "cost_approval", "pending")
        assert (mine.step_number, mine.total_steps, mine.step_name) == (1, 1, "Approval")
        assert mine.requested_by == "Alex Carter (Sales)" and mine.decided_at is None
        assert str(mine.amount) == "12500.50" and mine.currency == "USD"
    with sign_in(profile_for(demo_db), "acme.management", DEMO_PASSWORD) as manager:
        waiting = {i.id: i for i in approvals.inbox(manager, acme)}
        approvals.decide(manager, acme, chosen, waiting[chosen].version, "approved", "Go")
        done = next(a for a in approvals.project_approvals(manager, acme, project)
                    if a.id == chosen)
    assert (done.status, done.decided_by, done.decision_comments) == (
        "approved", "Dana Whitfield (Management)", "Go")
    assert done.decided_at is not None


def test_a_request_with_bad_input_is_refused_in_words(demo_db: Any, acme: uuid.UUID) -> None:
    project = a_project(demo_db, acme)
    good: dict[str, Any] = {"approval_type": "cost_approval", "title": "Quote",
                            "entity_type": "project", "entity_id": project,
                            "project_id": project}
    with sign_in(profile_for(demo_db), "acme.sales", DEMO_PASSWORD) as sales:
        before = len(approvals.project_approvals(sales, acme, project))
        for change, words in (({"approval_type": "quote"}, "type of approval"),
                              ({"entity_type": "invoice"}, "Approvals are about"),
                              ({"title": "   "}, "Title is required"),
                              ({"amount": -5, "currency": "USD"}, "zero or more"),
                              ({"amount": "a lot", "currency": "USD"}, "must be a number"),
                              ({"amount": 10, "currency": "dollars"}, "three letters")):
            with pytest.raises(UserFacingError, match=words):
                approvals.request(sales, acme, **{**good, **change})
        assert len(approvals.project_approvals(sales, acme, project)) == before
    with sign_in(profile_for(demo_db), "acme.customer", DEMO_PASSWORD) as customer, \
            pytest.raises(UserFacingError, match="Only the staff"):
        approvals.request(customer, acme, **good)
