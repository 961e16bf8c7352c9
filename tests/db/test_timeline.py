"""A project's timeline (services.timeline): every source, in time order, filters, keyset pages."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rls_support import owner_conn, person_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import timeline
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.timeline import TimelineEvent


@dataclass(frozen=True)
class Story:
    project: uuid.UUID
    start: dt.datetime


@pytest.fixture
def story(demo_db: Any, acme: uuid.UUID) -> Story:
    """A project with one event of each source, an hour apart (as the owner: exact times)."""
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)

    def at(hours: int) -> dt.datetime:
        return start + dt.timedelta(hours=hours)

    with owner_conn(demo_db) as conn:
        def one(sql: str, *params: Any) -> Any:
            row = conn.execute(sql, params).fetchone()
            assert row is not None
            return row[0]

        sales = one("SELECT id FROM persons WHERE role_name = 'acme.sales'")
        qa = one("SELECT id FROM persons WHERE role_name = 'acme.qa'")
        project = one("INSERT INTO projects (organization_id, title) VALUES (%s, "
                      "'Pump manifold') RETURNING id", acme)
        conn.execute("UPDATE project_stage_history SET occurred_at = %s WHERE project_id = %s",
                     (at(0), project))
        conn.execute("INSERT INTO messages (organization_id, project_id, sender_id, subject, "
                     "content, created_at) VALUES (%s, %s, %s, 'Drawings', "
                     "'Customer sent rev B', %s)", (acme, project, sales, at(1)))
        conn.execute("INSERT INTO activity_log (organization_id, actor_id, entity_type, "
                     "entity_id, action, description, changes, project_id, occurred_at) "
                     "VALUES (%s, %s, 'project', %s, 'updated', 'Changed priority level', "
                     "'{\"priority_level\": {\"old\": \"medium\", \"new\": \"high\"}}', %s, %s)",
                     (acme, sales, project, project, at(2)))
        document = one("INSERT INTO documents (organization_id, project_id, title, "
                       "uploaded_by, created_at) VALUES (%s, %s, 'Bracket drawing', %s, %s) "
                       "RETURNING id", acme, project, sales, at(3))
        conn.execute("INSERT INTO document_versions (organization_id, document_id, "
                     "version_number, uploaded_by, uploaded_at, change_summary) VALUES "
                     "(%s, %s, 2, %s, %s, 'Holes moved')", (acme, document, sales, at(4)))
        conn.execute("INSERT INTO reviews (organization_id, project_id, review_type, "
                     "reviewer_id, status, comments, created_at, completed_at) VALUES "
                     "(%s, %s, 'qa', %s, 'approved', 'Tolerances fine', %s, %s)",
                     (acme, project, qa, at(5), at(6)))
        approval = one("INSERT INTO approvals (organization_id, approval_type, title, "
                       "entity_type, entity_id, project_id, requested_by) VALUES (%s, "
                       "'cost_approval', 'Quote 4,200 USD', 'project', %s, %s, %s) "
                       "RETURNING id", acme, project, project, sales)
        conn.execute("INSERT INTO approval_history (organization_id, approval_id, action_type, "
                     "action_by, new_status, action_at) VALUES (%s, %s, 'requested', %s, "
                     "'pending', %s)", (acme, approval, sales, at(7)))
        conn.execute("INSERT INTO messages (organization_id, project_id, sender_id, "
                     "content, created_at) VALUES (%s, %s, %s, 'Quote sent', %s)",
                     (acme, project, sales, at(8)))
    return Story(project, start)


@pytest.fixture
def management(demo_db: Any) -> Iterator[Workspace]:
    with sign_in(profile_for(demo_db), "acme.management", DEMO_PASSWORD) as ws:
        yield ws


def titles(events: list[TimelineEvent]) -> list[str]:
    return [e.title for e in events]


def test_events_from_every_source_newest_first(demo_db: Any, acme: uuid.UUID, story: Story,
                                               management: Workspace) -> None:
    events = timeline.timeline(management, acme, story.project)
    with owner_conn(demo_db) as conn:
        qa, first_stage = conn.execute(
            "SELECT (SELECT display_name FROM persons WHERE role_name = 'acme.qa'), "
            "(SELECT name FROM workflow_stages WHERE organization_id = %s "
            "AND stage_order = 1)", (acme,)).fetchone() or (None, None)
    assert titles(events) == [
        "Message",  # no subject
        "Approval requested: \u201cQuote 4,200 USD\u201d",
        "QA review: approved",
        f"QA review requested from {qa}",
        "New version 2 of \u201cBracket drawing\u201d",
        "Added \u201cBracket drawing\u201d",
        "Changed priority",
        "Drawings",
        f"Started in {first_stage}",
    ]
    assert [e.at for e in events] == [story.start + dt.timedelta(hours=h)
                                      for h in range(8, -1, -1)]
    by_event = {e.event: e for e in events}
    assert by_event["message"].detail == "Customer sent rev B"
    assert by_event["review_decided"].detail == "Tolerances fine"
    assert by_event["version_added"].detail == "Holes moved"
    assert [str(c) for c in by_event["updated"].changes] == ["Priority: Medium \u2192 High"]
    assert by_event["message"].actor == by_event["updated"].actor is not None


def test_each_filter_shows_only_its_kind(acme: uuid.UUID, story: Story,
                                         management: Workspace) -> None:
    expected = {
        "conversation": ["message", "message"],
        "changes": ["updated", "stage_created"],
        "files": ["version_added", "document_added"],
        "approvals": ["approval_requested", "review_decided", "review_requested"],
    }
    for kind, events in expected.items():
        shown = timeline.timeline(management, acme, story.project, kinds=[kind])
        assert [e.event for e in shown] == events, kind
        assert {e.kind for e in shown} == {kind}
    both = timeline.timeline(management, acme, story.project, kinds=["conversation", "files"])
    assert len(both) == 4
    with pytest.raises(UserFacingError):
        timeline.timeline(management, acme, story.project, kinds=["gossip"])


def test_keyset_pages_have_no_gaps_or_duplicates(demo_db: Any, acme: uuid.UUID, story: Story,
                                                 management: Workspace) -> None:
    # Ties on time across sources and within one: the id breaks them.
    same = story.start + dt.timedelta(hours=4)
    with person_conn(demo_db, "acme.sales") as conn:
        for n in range(5):
            conn.execute("INSERT INTO messages (organization_id, project_id, content) "
                         "VALUES (%s, %s, %s)", (acme, story.project, f"Note {n}"))
    with owner_conn(demo_db) as conn:
        conn.execute("UPDATE messages SET created_at = %s WHERE project_id = %s AND content "
                     "LIKE 'Note %%'", (same, story.project))
    whole = timeline.timeline(management, acme, story.project, limit=100)
    assert len(whole) == 14
    for size in (1, 2, 3, 5):
        paged: list[TimelineEvent] = []
        before = None
        while True:
            page = timeline.timeline(management, acme, story.project, before=before,
                                     limit=size)
            paged += page
            if len(page) < size:
                break
            before = page[-1].cursor
        assert [e.id for e in paged] == [e.id for e in whole], size
    assert [(e.at, e.id) for e in whole] == sorted(((e.at, e.id) for e in whole), reverse=True)


def test_a_person_sees_only_what_they_may_read(demo_db: Any, acme: uuid.UUID,
                                               story: Story) -> None:
    # A customer login of the portal sees no internal messages, reviews or approvals.
    with owner_conn(demo_db) as conn:
        row = conn.execute("SELECT pe.role_name FROM memberships m JOIN persons pe "
                           "ON pe.id = m.person_id WHERE m.organization_id = %s "
                           "AND m.role = 'customer' LIMIT 1", (acme,)).fetchone()
    assert row is not None, "the demo seeds a customer login (acme.customer)"
    with sign_in(profile_for(demo_db), row[0], DEMO_PASSWORD) as customer:
        events = timeline.timeline(customer, acme, story.project)
    assert {e.kind for e in events} <= {"changes", "files"}
