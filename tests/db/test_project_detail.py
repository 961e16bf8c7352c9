"""The project page's service: one read of everything, saves with optimistic locking.

T-CONC-01 and T-CONC-02 (RELIABILITY.md §3.3) are here: two people signed in as themselves
(acme.sales and acme.management, acme.admin for the delete) load the same version, the first
save wins, the second gets a conflict that carries what is stored now, and the database holds
exactly the first save until the second person decides.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from rls_support import org_id, owner_conn, person_conn
from support import profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import project_detail, workflow
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in
from factorypulse_desktop.services.project_detail import (
    ProjectConflictError,
    ProjectEdit,
    ProjectInvalid,
    ProjectNotFoundError,
)

PASSWORD = "factorypulse-demo"


def new_project(db: Any, title: str = "Bracket batch") -> uuid.UUID:
    """A fresh project in Inquiry Received with a customer, created by acme.sales."""
    with person_conn(db, "acme.sales") as conn:
        org = org_id(conn, "acme")
        customer = conn.execute(
            "SELECT id FROM contacts WHERE organization_id = %s AND type = 'customer' "
            "ORDER BY company_name LIMIT 1", (org,)).fetchone()
        assert customer is not None
        row = conn.execute(
            "INSERT INTO projects (organization_id, title, customer_id) VALUES (%s, %s, %s) "
            "RETURNING id", (org, title, customer[0])).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def stored(db: Any, project: uuid.UUID) -> tuple[Any, ...]:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT title, description, version FROM projects WHERE id = %s",
                           (project,)).fetchone()
    assert row is not None
    return tuple(row)


@pytest.fixture
def profile(demo_db: Any) -> ConnectionProfile:
    return profile_for(demo_db)


@pytest.fixture
def sales(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.sales", PASSWORD) as ws:
        yield ws


@pytest.fixture
def management(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.management", PASSWORD) as ws:
        yield ws


@pytest.fixture
def admin_ws(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.admin", PASSWORD) as ws:
        yield ws


# -- loading --------------------------------------------------------------------------------


def test_load_returns_stage_steps_history_and_blockers(demo_db: Any, sales: Workspace) -> None:
    project = new_project(demo_db)
    detail = project_detail.load_project(sales, project)
    assert detail.title == "Bracket batch" and detail.version == 1
    assert detail.number.startswith("P-")
    assert detail.customer is not None and detail.customer.name
    assert detail.stage.slug == "inquiry_received" and detail.stage.order == 1
    assert detail.next_stage is not None and detail.next_stage.slug == "technical_review"
    assert [s.slug for s in detail.stages][:2] == ["inquiry_received", "technical_review"]
    assert len(detail.stages) == 8
    assert [(s.name, s.status) for s in detail.steps] == [
        ("RFQ Documentation Review", "in_progress"),
        ("Initial Feasibility Assessment", "pending"),
        ("Customer Requirements Clarification", "pending")]
    assert [(h.kind, h.to_stage) for h in detail.history] == [("created", "Inquiry Received")]
    assert detail.history[0].actor == sales.identity.display_name
    assert detail.blockers == ('"RFQ Documentation Review" is not done',
                               '"Initial Feasibility Assessment" is not done')
    assert detail.created_by is not None and detail.created_by.id == sales.identity.person_id
    assert detail.may_edit and not detail.may_manage and not detail.may_delete
    assert detail.days_in_stage == 0 and not detail.archived

    # Through the workflow: done steps, an advance, then the page shows both stages' steps.
    for step in detail.steps:
        if step.is_required:
            workflow.update_step(sales, step.id, step.version, status="completed")
    workflow.advance_project(sales, project, detail.stage.id, comment="All clear")
    after = project_detail.load_project(sales, project)
    assert after.stage.slug == "technical_review"
    assert after.version == detail.version + 1, "a move bumps the lock version"
    assert len(after.steps_of(detail.stage.id)) == 3
    assert [s.name for s in after.steps_of(after.stage.id)] == [
        "Engineering Technical Review", "QA Requirements Review",
        "Production Capability Assessment", "Cross-Team Review Meeting"]
    newest = after.history[0]
    assert (newest.kind, newest.from_stage, newest.to_stage, newest.comment) == (
        "advance", "Inquiry Received", "Technical Review", "All clear")
    assert [h.kind for h in after.history] == ["advance", "created"], "newest first"
    assert not after.may_edit, "sales is not responsible for Technical Review"


def test_load_a_missing_project(sales: Workspace) -> None:
    with pytest.raises(ProjectNotFoundError):
        project_detail.load_project(sales, uuid.uuid4())


def test_load_a_demo_project_with_assignments(demo_db: Any, management: Workspace) -> None:
    with owner_conn(demo_db) as conn:
        row = conn.execute(
            "SELECT a.project_id, count(*) FROM project_assignments a WHERE a.is_active "
            "AND a.organization_id = %s GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
            (org_id(conn, "acme"),)).fetchone()
    assert row is not None
    detail = project_detail.load_project(management, row[0])
    assert len(detail.assignments) == row[1]
    assert all(a.person_name for a in detail.assignments)
    assert detail.may_manage and detail.may_edit


# -- saving ---------------------------------------------------------------------------------


def test_save_with_the_right_version_bumps_it(demo_db: Any, sales: Workspace) -> None:
    project = new_project(demo_db)
    detail = project_detail.load_project(sales, project)
    edit = replace(detail.edit, title="  Bracket batch, rev B ", description="Two sizes",
                   estimated_value=Decimal("12500.5"), tags=("steel", "Steel", " laser "),
                   estimated_delivery_date=dt.date(2027, 3, 1), priority="high",
                   project_type="fabrication", assigned_to=sales.identity.person_id)
    version = project_detail.save_project(sales, project, detail.version, edit)
    assert version == detail.version + 1
    after = project_detail.load_project(sales, project)
    assert after.version == version
    assert after.title == "Bracket batch, rev B", "trimmed"
    assert after.estimated_value == Decimal("12500.50")
    assert after.tags == ("steel", "laser"), "duplicates dropped, trimmed"
    assert after.priority == "high" and after.project_type == "fabrication"
    assert after.assigned_to is not None and after.assigned_to.id == sales.identity.person_id
    assert after.estimated_delivery_date == dt.date(2027, 3, 1)
    assert after.edit == project_detail.check_edit(edit)


def test_T_CONC_01_a_stale_save_conflicts_and_stores_nothing(
    demo_db: Any, sales: Workspace, management: Workspace
) -> None:
    project = new_project(demo_db)
    first = project_detail.load_project(sales, project)
    second = project_detail.load_project(management, project)
    assert first.version == second.version == 1

    v2 = project_detail.save_project(sales, project, first.version,
                                     replace(first.edit, title="New title from sales"))
    assert v2 == 2
    mine = replace(second.edit, description="Management's description")
    with pytest.raises(ProjectConflictError) as conflict:
        project_detail.save_project(management, project, second.version, mine)
    error = conflict.value
    assert error.theirs.title == "New title from sales"
    assert error.theirs.description is None
    assert error.version == 2
    assert error.updated_by == sales.identity.display_name
    assert isinstance(error.updated_at, dt.datetime)
    assert "Someone else saved this project" in str(error)
    assert stored(demo_db, project) == ("New title from sales", None, 2), "exactly v2"

    # Keep mine: my changes over theirs, with the version they saved.
    merged = error.theirs.with_changes_of(mine, second.edit)
    assert merged.title == "New title from sales", "their change to another field stays"
    assert merged.description == "Management's description"
    v3 = project_detail.save_project(management, project, error.version, merged)
    assert v3 == 3
    assert stored(demo_db, project) == ("New title from sales", "Management's description", 3)


def test_T_CONC_02_a_stale_delete_is_refused(demo_db: Any, sales: Workspace,
                                            admin_ws: Workspace) -> None:
    project = new_project(demo_db)
    seen = project_detail.load_project(admin_ws, project)
    assert seen.may_delete
    project_detail.save_project(sales, project, seen.version,
                                replace(seen.edit, title="Changed meanwhile"))
    with pytest.raises(ProjectConflictError, match="was not deleted") as conflict:
        project_detail.delete_project(admin_ws, project, seen.version)
    assert conflict.value.theirs.title == "Changed meanwhile"
    assert stored(demo_db, project) == ("Changed meanwhile", None, 2), "the row is still there"

    project_detail.delete_project(admin_ws, project, conflict.value.version)
    with owner_conn(demo_db) as conn:
        assert conn.execute("SELECT count(*) FROM projects WHERE id = %s",
                            (project,)).fetchone() == (0,)
    with pytest.raises(ProjectNotFoundError):
        project_detail.load_project(admin_ws, project)


def test_only_admins_delete(demo_db: Any, management: Workspace) -> None:
    project = new_project(demo_db)
    detail = project_detail.load_project(management, project)
    with pytest.raises(UserFacingError, match="Only an administrator") as refused:
        project_detail.delete_project(management, project, detail.version)
    assert not isinstance(refused.value, ProjectConflictError)
    assert stored(demo_db, project)[2] == 1


def test_a_person_who_may_not_change_gets_a_plain_refusal(
    demo_db: Any, profile: ConnectionProfile
) -> None:
    project = new_project(demo_db)
    with sign_in(profile, "acme.qa", PASSWORD) as qa:  # not responsible, not assigned
        detail = project_detail.load_project(qa, project)
        assert not detail.may_edit
        with pytest.raises(UserFacingError, match="You may not change this project") as refused:
            project_detail.save_project(qa, project, detail.version,
                                        replace(detail.edit, title="Not mine to change"))
        assert not isinstance(refused.value, ProjectConflictError)
        assert '"Inquiry Received" (sales, procurement)' in str(refused.value)
        with pytest.raises(UserFacingError, match="You may not change this project"):
            project_detail.archive_project(qa, project, detail.version)
    assert stored(demo_db, project) == ("Bracket batch", None, 1)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"title": "ab"}, "title", "at least 3 characters"),
    ({"title": "   "}, "title", "Title is required"),
    ({"title": "Bad\x00title"}, "title", "NUL"),
    ({"description": "x\x00"}, "description", "NUL"),
    ({"title": "x" * 201}, "title", "too long"),
    ({"estimated_value": Decimal("-1")}, "estimated_value", "zero or more"),
    ({"tags": ("a" * 51,)}, "tags", "too long"),
    ({"priority": "urgent"}, "priority", "not a priority"),
    ({"estimated_delivery_date": dt.date(1999, 12, 31)}, "estimated_delivery_date", "2000"),
])
def test_invalid_input_stores_nothing(demo_db: Any, sales: Workspace, change: dict[str, Any],
                                      field: str, message: str) -> None:
    project = new_project(demo_db)
    detail = project_detail.load_project(sales, project)
    with pytest.raises(ProjectInvalid) as invalid:
        project_detail.save_project(sales, project, detail.version,
                                    replace(detail.edit, **change))
    assert field in invalid.value.errors
    assert message in invalid.value.errors[field]
    assert stored(demo_db, project) == ("Bracket batch", None, 1)


def test_parse_helpers() -> None:
    assert project_detail.parse_value("12,500.50") == Decimal("12500.50")
    assert project_detail.parse_value("  ") is None
    with pytest.raises(ProjectInvalid, match="not a number"):
        project_detail.parse_value("twelve")
    assert project_detail.parse_tag_text("a, b; a ,") == ("a", "b")
    base = ProjectEdit(title="Base", description="d")
    mine = replace(base, description="mine", notes="n")
    theirs = replace(base, title="Theirs", description="theirs")
    assert mine.changed_fields(base) == ["description", "notes"]
    assert theirs.with_changes_of(mine, base) == replace(theirs, description="mine", notes="n")


def test_archive_and_restore_check_the_version(demo_db: Any, management: Workspace) -> None:
    project = new_project(demo_db)
    detail = project_detail.load_project(management, project)
    v2 = project_detail.archive_project(management, project, detail.version)
    assert project_detail.load_project(management, project).archived
    with pytest.raises(ProjectConflictError):
        project_detail.restore_project(management, project, detail.version)
    project_detail.restore_project(management, project, v2)
    assert not project_detail.load_project(management, project).archived


def test_assignments_by_management_only(demo_db: Any, sales: Workspace,
                                        management: Workspace) -> None:
    project = new_project(demo_db)
    qa_id = next(p.person_id for p in _people(management) if p.username == "acme.qa")
    assignment = project_detail.assign_person(management, project, qa_id, "quality")
    detail = project_detail.load_project(management, project)
    assert [(a.person_id, a.role) for a in detail.assignments] == [(qa_id, "quality")]
    assert detail.assignments[0].assigned_by == management.identity.display_name
    with pytest.raises(UserFacingError, match="Only management or an administrator"):
        project_detail.assign_person(sales, project, sales.identity.person_id)
    with pytest.raises(UserFacingError, match="Only management or an administrator"):
        project_detail.unassign(sales, assignment)
    project_detail.unassign(management, assignment)
    assert project_detail.load_project(management, project).assignments == ()
    again = project_detail.assign_person(management, project, qa_id, "quality")
    assert again == assignment, "the same assignment comes back"
    with pytest.raises(ProjectInvalid):
        project_detail.assign_person(management, project, qa_id, "  ")


def test_list_customers(sales: Workspace) -> None:
    org = sales.identity.memberships[0].organization_id
    customers = project_detail.list_customers(sales, org)
    assert customers and all(c.name for c in customers)
    names = [c.name.lower() for c in customers]
    assert names == sorted(names)


def _people(ws: Workspace) -> list[Any]:
    from factorypulse_desktop.services import admin

    return admin.list_people(ws, ws.identity.memberships[0].organization_id)
