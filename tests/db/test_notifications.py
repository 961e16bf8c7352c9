"""Notifications written by the database (revision 0011), checked as real persons.

Each event tells the right people and never the person who caused it; a preference switched
off stops it; `notify_due` tells once; nobody writes or reads someone else's notifications.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import pytest
from rls_support import owner_conn, person_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.services import notifications, project_detail, reviews
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.notifications import Preference


def signed(db: Any, who: str) -> Iterator[Workspace]:
    with sign_in(profile_for(db), who, DEMO_PASSWORD) as ws:
        yield ws


@pytest.fixture
def management(demo_db: Any) -> Iterator[Workspace]:
    yield from signed(demo_db, "acme.management")


@pytest.fixture
def project(demo_db: Any, acme: uuid.UUID) -> uuid.UUID:
    with owner_conn(demo_db) as conn:
        row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, "
                           "'Pump bracket') RETURNING id", (acme,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def told(db: Any, about: uuid.UUID, kind: str | None = None) -> dict[str, list[str]]:
    """username -> titles of the notifications about one record (of one type)."""
    with owner_conn(db) as conn:
        rows = conn.execute(
            "SELECT p.role_name, n.title FROM notifications n JOIN persons p "
            "ON p.id = n.person_id WHERE n.related_entity_id = %s "
            "AND (%s::text IS NULL OR n.type = %s) ORDER BY n.created_at, n.id",
            (about, kind, kind)).fetchall()
    out: dict[str, list[str]] = {}
    for who, title in rows:
        out.setdefault(who, []).append(title)
    return out


def person(conn: psycopg.Connection[Any], username: str) -> uuid.UUID:
    row = conn.execute("SELECT id FROM persons WHERE role_name = %s", (username,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def test_an_assignment_tells_the_assigned_person_not_the_one_assigning(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID) -> None:
    with person_conn(demo_db, "acme.management") as conn:
        for who in ("acme.engineering", "acme.management"):
            conn.execute("INSERT INTO project_assignments (organization_id, project_id, "
                         "person_id, role) VALUES (%s, %s, %s, 'lead')",
                         (acme, project, person(conn, who)))
    got = told(demo_db, project, "assignment")
    assert list(got) == ["acme.engineering"]
    assert got["acme.engineering"][0].startswith("You were added to P-")
    assert got["acme.engineering"][0].endswith("Pump bracket")


def test_put_on_a_project_again_is_told_again(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, management: Workspace) -> None:
    with owner_conn(demo_db) as conn:
        qa = person(conn, "acme.qa")
    first = project_detail.assign_person(management, project, qa, "inspector")
    project_detail.unassign(management, first)
    assert project_detail.assign_person(management, project, qa, "inspector") == first
    titles = told(demo_db, project, "assignment")["acme.qa"]
    assert len(titles) == 2


def test_a_mention_tells_the_mentioned_person_not_the_writer(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID) -> None:
    with person_conn(demo_db, "acme.sales") as conn:
        row = conn.execute(
            "INSERT INTO messages (organization_id, project_id, subject, content) "
            "VALUES (%s, %s, 'Finish', 'Can we anodize these?') RETURNING id",
            (acme, project)).fetchone()
        assert row is not None
        for who in ("acme.qa", "acme.sales"):
            conn.execute("INSERT INTO message_mentions (organization_id, message_id, person_id) "
                         "VALUES (%s, %s, %s)", (acme, row[0], person(conn, who)))
    got = told(demo_db, row[0], "mention")
    assert list(got) == ["acme.qa"]
    assert "mentioned you in Finish" in got["acme.qa"][0]
    with owner_conn(demo_db) as conn:
        meta = conn.execute("SELECT metadata ->> 'project_id', message FROM notifications "
                            "WHERE related_entity_id = %s", (row[0],)).fetchone()
    assert meta == (str(project), "Can we anodize these?")


def chain(db: Any, org: uuid.UUID, kind: str,
          steps: Sequence[tuple[str, str, int, Sequence[str]]]) -> None:
    """Only this chain for `kind`: steps of (name, mode, required, roles or usernames)."""
    with owner_conn(db) as conn:
        conn.execute("DELETE FROM approval_chains WHERE organization_id = %s", (org,))
        row = conn.execute(
            "INSERT INTO approval_chains (organization_id, chain_name, approval_type, "
            "entity_type) VALUES (%s, 'Test chain', %s, 'project') RETURNING id",
            (org, kind)).fetchone()
        assert row is not None
        for number, (name, mode, required, approvers) in enumerate(steps, 1):
            step = conn.execute(
                "INSERT INTO approval_chain_steps (organization_id, chain_id, step_number, "
                "name, mode, required_approvals) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (org, row[0], number, name, mode, required)).fetchone()
            assert step is not None
            for position, who in enumerate(approvers, 1):
                named = "." in who
                conn.execute(
                    "INSERT INTO approval_chain_step_approvers (organization_id, chain_step_id, "
                    "person_id, role, position) VALUES (%s, %s, %s, %s, %s)",
                    (org, step[0], person(conn, who) if named else None,
                     None if named else who, position))


def request(db: Any, who: str, org: uuid.UUID, project: uuid.UUID) -> uuid.UUID:
    approval = uuid.uuid4()
    with person_conn(db, who) as conn:
        conn.execute("SELECT fp_private.request_approval(%s, %s, 'quality_review', "
                     "'Release bracket', 'project', %s, NULL, %s, NULL, 'USD', 'Ready')",
                     (org, approval, project, project))
    return approval


def decide(db: Any, who: str, org: uuid.UUID, approval: uuid.UUID) -> None:
    with person_conn(db, who) as conn:
        conn.execute("SELECT fp_private.decide_approval(%s, %s, (SELECT version FROM "
                     "approvals WHERE id = %s), 'approved', 'fine')", (org, approval, approval))


def test_approvals_tell_approvers_as_steps_open_and_the_requester_at_the_end(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID) -> None:
    chain(demo_db, acme, "quality_review", [
        ("Engineering and QA", "parallel", 2, ["engineering", "qa"]),
        ("Sign-off", "sequential", 2, ["acme.management", "acme.qa"])])
    with person_conn(demo_db, "acme.qa") as conn:  # production stands in for QA today
        conn.execute("INSERT INTO approval_delegations (organization_id, delegator_id, "
                     "delegate_id, start_date, end_date) VALUES (%s, %s, %s, current_date, "
                     "current_date + 3)",
                     (acme, person(conn, "acme.qa"), person(conn, "acme.production")))
    approval = request(demo_db, "acme.sales", acme, project)

    def waiting() -> dict[str, int]:
        return {who: len(titles) for who, titles in
                told(demo_db, approval, "approval_waiting").items()}

    step_one = {"acme.engineering": 1, "acme.qa": 1, "acme.production": 1}
    assert waiting() == step_one
    decide(demo_db, "acme.engineering", acme, approval)
    assert waiting() == step_one  # told once per step
    decide(demo_db, "acme.qa", acme, approval)
    # The sign-off is in order: management first (and the admin, who stands in for
    # management in the demo data); QA only after management.
    assert waiting() == {**step_one, "acme.management": 1, "acme.admin": 1}
    assert told(demo_db, approval, "approval_waiting")["acme.management"] == [
        "Approval waiting for you: Release bracket"]
    decide(demo_db, "acme.management", acme, approval)
    assert waiting() == {**step_one, "acme.management": 1, "acme.admin": 1, "acme.qa": 2,
                         "acme.production": 2}
    assert "acme.sales" not in told(demo_db, approval)
    decide(demo_db, "acme.qa", acme, approval)
    assert told(demo_db, approval, "approval_decided") == {
        "acme.sales": ["Approved: Release bracket"]}


def test_the_requester_is_not_told_of_a_step_they_may_decide(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID) -> None:
    chain(demo_db, acme, "quality_review", [("Any", "parallel", 1, ["engineering", "qa"])])
    approval = request(demo_db, "acme.engineering", acme, project)
    assert sorted(told(demo_db, approval, "approval_waiting")) == ["acme.qa"]
    decide(demo_db, "acme.qa", acme, approval)
    assert list(told(demo_db, approval, "approval_decided")) == ["acme.engineering"]


def test_reviews_tell_the_role_then_the_creator(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, management: Workspace) -> None:
    asked = reviews.request_reviews(management, acme, project, ["engineering", "qa"])
    by_type = {r.review_type: r for r in asked}
    assert list(told(demo_db, by_type["qa"].id, "review_requested")) == ["acme.qa"]
    assert told(demo_db, by_type["engineering"].id, "review_requested")["acme.engineering"][0] \
        .startswith("Engineering review requested: P-")
    with sign_in(profile_for(demo_db), "acme.qa", DEMO_PASSWORD) as qa:
        reviews.decide_review(qa, acme, by_type["qa"], "revision_requested",
                              comments="Surface finish missing")
    got = told(demo_db, by_type["qa"].id, "review_decided")
    assert list(got) == ["acme.management"]
    assert got["acme.management"][0].startswith("QA review sent back for revision: P-")


def test_a_preference_switched_off_stops_that_event_only(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, management: Workspace) -> None:
    with sign_in(profile_for(demo_db), "acme.qa", DEMO_PASSWORD) as qa:
        before = {p.event: p for p in notifications.preferences(qa, acme)}
        assert before["review_requested"].in_app and not before["review_requested"].desktop
        notifications.save_preferences(qa, acme, [
            Preference("review_requested", "", in_app=False, desktop=True),
            Preference("mention", "", in_app=True, desktop=True)])
        after = {p.event: p for p in notifications.preferences(qa, acme)}
        assert not after["review_requested"].in_app and not after["review_requested"].desktop
        assert notifications.desktop_events(qa, acme) == {"mention"}
    asked = reviews.request_reviews(management, acme, project, ["engineering", "qa"])
    everyone = {who for r in asked for who in told(demo_db, r.id, "review_requested")}
    assert everyone == {"acme.engineering"}


def test_notify_due_tells_assigned_people_once(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID) -> None:
    with owner_conn(demo_db) as conn:
        engineering = person(conn, "acme.engineering")
        production = person(conn, "acme.production")
        conn.execute(
            "UPDATE workflow_stages SET estimated_duration_days = 5 WHERE id = (SELECT "
            "current_stage_id FROM projects WHERE id = %s)", (project,))
        conn.execute("UPDATE projects SET stage_entered_at = now() - interval '9 days', "
                     "estimated_delivery_date = current_date + 2, assigned_to = %s "
                     "WHERE id = %s", (production, project))
        conn.execute("INSERT INTO project_assignments (organization_id, project_id, person_id) "
                     "VALUES (%s, %s, %s)", (acme, project, engineering))
    # The person running the check is told too: they did not cause the lateness.
    with sign_in(profile_for(demo_db), "acme.production", DEMO_PASSWORD) as ws:
        assert notifications.check_due(ws, acme) > 0
        overdue = told(demo_db, project, "stage_overdue")
        assert sorted(overdue) == ["acme.engineering", "acme.production"]
        assert " is overdue in " in overdue["acme.production"][0]
        assert told(demo_db, project, "due_soon")["acme.engineering"][0].endswith(
            "is due in 2 days")
        assert notifications.check_due(ws, acme) == 0  # everything was told already
    assert sum(len(v) for v in told(demo_db, project, "stage_overdue").values()) == 2
    with person_conn(demo_db, "acme.customer") as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT fp_private.notify_due(%s)", (acme,))


def test_nobody_writes_or_reads_someone_elses_notifications(
        demo_db: Any, acme: uuid.UUID) -> None:
    with owner_conn(demo_db) as conn:
        qa = person(conn, "acme.qa")
        qa_count = conn.execute("SELECT count(*) FROM notifications WHERE person_id = %s",
                                (qa,)).fetchone()
    assert qa_count is not None and qa_count[0] > 0
    with person_conn(demo_db, "acme.admin") as conn:
        me = person(conn, "acme.admin")
        for target in (qa, me):  # not for someone else, and not even for oneself
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("INSERT INTO notifications (organization_id, person_id, title, "
                             "type) VALUES (%s, %s, 'Approval needed: wire 10,000 USD', "
                             "'approval_waiting')", (acme, target))
            conn.rollback()
        assert conn.execute("SELECT count(*) FROM notifications WHERE person_id = %s",
                            (qa,)).fetchone() == (0,)
        assert conn.execute("UPDATE notifications SET status = 'read' WHERE person_id = %s",
                            (qa,)).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE notifications SET title = 'changed' WHERE person_id = %s",
                         (me,))
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM notification_preferences WHERE "
                            "person_id <> %s", (me,)).fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO notification_preferences (organization_id, person_id, "
                         "event, in_app) VALUES (%s, %s, 'mention', false)", (acme, qa))


def test_reading_and_marking_read(demo_db: Any, acme: uuid.UUID) -> None:
    with sign_in(profile_for(demo_db), "acme.management", DEMO_PASSWORD) as ws:
        start = notifications.unread_count(ws, acme)
        assert start > 0
        everything = notifications.recent(ws, acme)
        first = notifications.recent(ws, acme, limit=1)
        rest = notifications.recent(ws, acme, after=first[0].cursor)
        assert first + rest == everything
        unread = notifications.recent(ws, acme, unread_only=True)
        assert len(unread) == start and all(n.unread for n in unread)
        assert notifications.mark_read(ws, acme, [unread[0].id]) == 1
        assert notifications.unread_count(ws, acme) == start - 1
        assert notifications.mark_all_read(ws, acme) == start - 1
        assert notifications.unread_count(ws, acme) == 0
        assert notifications.recent(ws, acme, unread_only=True) == []
