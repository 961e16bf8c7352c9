"""Field changes in the activity log (revision 0012) and the activity service, as real persons."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from rls_support import owner_conn, person_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import activity
from factorypulse_desktop.services.activity import ActivityFilter
from factorypulse_desktop.services.auth import Workspace, sign_in


@pytest.fixture
def project(demo_db: Any, acme: uuid.UUID) -> uuid.UUID:
    with owner_conn(demo_db) as conn:
        row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, "
                           "'Gear housing') RETURNING id", (acme,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


@pytest.fixture
def management(demo_db: Any) -> Iterator[Workspace]:
    with sign_in(profile_for(demo_db), "acme.management", DEMO_PASSWORD) as ws:
        yield ws


def person_id(db: Any, username: str) -> uuid.UUID:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT id FROM persons WHERE role_name = %s", (username,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def field_changes(db: Any, project: uuid.UUID) -> list[tuple[Any, ...]]:
    with owner_conn(db) as conn:
        return conn.execute(
            "SELECT actor_id, entity_type, entity_id, changes, description FROM activity_log "
            "WHERE project_id = %s AND action = 'updated' ORDER BY occurred_at, id",
            (project,)).fetchall()


def test_a_project_edit_records_only_the_changed_fields_old_and_new(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, management: Workspace) -> None:
    with person_conn(demo_db, "acme.management") as conn:
        conn.execute("UPDATE projects SET priority_level = 'high', estimated_value = 1250.50, "
                     "title = title, notes = NULL WHERE id = %s", (project,))
    [(actor, entity_type, entity_id, changes, description)] = field_changes(demo_db, project)
    assert actor == person_id(demo_db, "acme.management")
    assert (entity_type, entity_id) == ("project", project)
    assert changes == {"priority_level": {"old": "medium", "new": "high"},
                       "estimated_value": {"old": None, "new": 1250.50}}
    assert description == "Changed estimated value, priority level"
    # The activity page shows it in words.
    [row] = activity.activity(management, acme, entity_type="project", action="updated",
                              text="priority")
    assert row.entity_id == project and row.actor == management.identity.display_name
    assert row.changes_text.splitlines() == ["Estimated value: — → 1250.5",
                                             "Priority: Medium → High"]


def test_an_edit_that_changes_nothing_meaningful_records_nothing(
        demo_db: Any, project: uuid.UUID) -> None:
    with person_conn(demo_db, "acme.management") as conn:
        conn.execute("UPDATE projects SET title = title, tags = tags WHERE id = %s", (project,))
    with owner_conn(demo_db) as conn:
        # A stage move is project_stage_history's to record, not a field change.
        conn.execute("UPDATE projects SET current_stage_id = (SELECT id FROM workflow_stages s "
                     "WHERE s.organization_id = projects.organization_id AND s.stage_order = 2) "
                     "WHERE id = %s", (project,))
        version = conn.execute("SELECT version FROM projects WHERE id = %s",
                               (project,)).fetchone()
    assert version is not None and version[0] == 3  # both updates happened
    assert field_changes(demo_db, project) == []


def test_a_contact_edit_records_its_changed_fields(demo_db: Any, acme: uuid.UUID) -> None:
    with person_conn(demo_db, "acme.sales") as conn:
        row = conn.execute("UPDATE contacts SET phone = '+1 555 0100' WHERE id = (SELECT id "
                           "FROM contacts WHERE organization_id = %s ORDER BY company_name "
                           "LIMIT 1) RETURNING id", (acme,)).fetchone()
    assert row is not None
    with owner_conn(demo_db) as conn:
        logged = conn.execute("SELECT changes -> 'phone' ->> 'new', jsonb_object_keys(changes) "
                              "FROM activity_log WHERE entity_id = %s AND action = 'updated'",
                              (row[0],)).fetchall()
    assert logged == [("+1 555 0100", "phone")]


def test_a_person_cannot_write_activity_for_someone_else_nor_change_it(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID) -> None:
    admin, sales = person_id(demo_db, "acme.admin"), person_id(demo_db, "acme.sales")
    with person_conn(demo_db, "acme.sales") as conn:
        row = conn.execute(
            "INSERT INTO activity_log (organization_id, actor_id, entity_type, entity_id, "
            "action, description, occurred_at, project_id) VALUES (%s, %s, 'project', %s, "
            "'note', 'Approved by the admin', '2020-01-01', %s) "
            "RETURNING id, actor_id, occurred_at",
            (acme, admin, project, project)).fetchone()
        assert row is not None
        conn.commit()
        entry, actor, occurred = row
        # Written as themselves, dated now: neither someone else's name nor a back-date.
        assert actor == sales
        assert abs(occurred - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
        # Field changes come only from the database's own trigger.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO activity_log (organization_id, entity_type, entity_id, "
                         "action, changes) VALUES (%s, 'project', %s, 'updated', "
                         "'{\"title\": {\"old\": \"a\", \"new\": \"b\"}}')", (acme, project))
        conn.rollback()
        # Append-only: no update, no delete, not even of one's own entry.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE activity_log SET description = 'nothing' WHERE id = %s",
                         (entry,))
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM activity_log WHERE id = %s", (entry,))
        conn.rollback()
    with person_conn(demo_db, "acme.admin") as conn, pytest.raises(
            psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM activity_log WHERE organization_id = %s", (acme,))
    with owner_conn(demo_db) as conn:
        kept = conn.execute("SELECT description, actor_id FROM activity_log WHERE id = %s",
                            (entry,)).fetchone()
    assert kept == ("Approved by the admin", sales)


def test_filters_and_keyset_pages(demo_db: Any, acme: uuid.UUID, project: uuid.UUID,
                                  management: Workspace) -> None:
    with person_conn(demo_db, "acme.management") as conn:
        for score in range(10, 17):
            conn.execute("UPDATE projects SET priority_score = %s WHERE id = %s",
                         (score, project))
            conn.commit()
    mine = management.identity.person_id
    everything: list[activity.ActivityRow] = []
    before = None
    while True:
        page = activity.activity(management, acme, person_id=mine, action="updated",
                                 before=before, limit=3)
        everything += page
        if len(page) < 3:
            break
        before = page[-1].cursor
    assert len(everything) == 7 and len({r.id for r in everything}) == 7
    assert [r.occurred_at for r in everything] == sorted(
        (r.occurred_at for r in everything), reverse=True)
    assert everything[0].changes_text == "Priority score: 15 → 16"
    assert "updated" in activity.actions(management, acme)
    assert {"project", "person"} <= set(activity.entity_types(management, acme))
    assert any(name == management.identity.display_name
               for _id, name in activity.people(management, acme))
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert activity.activity(management, acme, person_id=mine, since=tomorrow) == []
    assert len(activity.activity(management, acme, person_id=mine, action="updated",
                                 until=dt.date.today())) == 7
    with pytest.raises(UserFacingError, match="swap"):
        activity.activity(management, acme, since=tomorrow, until=dt.date.today())


def test_T_IN_05_export_is_formula_safe_and_cancellable(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, management: Workspace,
        tmp_path: Any) -> None:
    with person_conn(demo_db, "acme.management") as conn:
        conn.execute("INSERT INTO activity_log (organization_id, entity_type, action, "
                     "description, project_id) VALUES (%s, 'project', 'note', "
                     "'=HYPERLINK(\"http://x\")', %s)", (acme, project))
    flt = ActivityFilter(action="note")
    out = io.StringIO(newline="")
    assert activity.export_csv(management, acme, flt, out) == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == "When,Who,Record type,Record,Project,Action,Description,Changes"
    assert "'=HYPERLINK" in lines[1] and ",=" not in lines[1]
    target = tmp_path / "activity.csv"
    with pytest.raises(activity.ExportCancelledError):
        activity.export_csv(management, acme, ActivityFilter(), target, cancelled=lambda: True)
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    shares: list[float | None] = []
    written = activity.export_csv(management, acme, ActivityFilter(), target,
                                  progress=shares.append)
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == written + 1
    assert shares and shares[-1] == 1.0
