"""Intake: each type lands in its stage with the chosen priority; customers are matched; the
number shown is the number stored; an invalid form stores nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from rls_support import org_id, owner_conn
from support import profile_for

from factorypulse_desktop.domain.enums import IntakeType, Priority
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.intake import IntakeForm, IntakeInvalid
from factorypulse_desktop.services import intake
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in

PASSWORD = "factorypulse-demo"


@pytest.fixture
def profile(demo_db: Any) -> ConnectionProfile:
    return profile_for(demo_db)


@pytest.fixture
def sales(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.sales", PASSWORD) as ws:
        yield ws


def acme(ws: Workspace) -> uuid.UUID:
    return ws.identity.memberships[0].organization_id


def stored(db: Any, project_id: uuid.UUID) -> dict[str, Any]:
    with owner_conn(db) as conn:
        cur = conn.execute(
            "SELECT p.project_number, s.slug, p.priority_level::text AS priority, "
            "p.intake_type::text AS intake_type, p.project_type, p.customer_id, "
            "p.estimated_value, p.estimated_delivery_date, p.tags, p.metadata, "
            "(SELECT role_name FROM persons WHERE id = p.assigned_to) AS owner, "
            "(SELECT count(*) FROM project_sub_stage_progress pr WHERE pr.project_id = p.id "
            " AND pr.workflow_stage_id = p.current_stage_id) AS steps, "
            "(SELECT array_agg(h.transition) FROM project_stage_history h "
            " WHERE h.project_id = p.id) AS history "
            "FROM projects p JOIN workflow_stages s ON s.id = p.current_stage_id "
            "WHERE p.id = %s", (project_id,))
        row = cur.fetchone()
        assert row is not None and cur.description is not None
        return {d.name: v for d, v in zip(cur.description, row, strict=True)}


def count(db: Any, table: str) -> int:
    with owner_conn(db) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(("kind", "slug", "project_type", "default_priority", "steps"), [
    (IntakeType.RFQ, "inquiry_received", "fabrication", "medium", 3),
    (IntakeType.PURCHASE_ORDER, "order_confirmed", "manufacturing", "high", 3),
    (IntakeType.PROJECT_IDEA, "technical_review", "system_build", "low", 4),
    (IntakeType.DIRECT_REQUEST, "inquiry_received", None, "medium", 3),
])
def test_each_intake_type_lands_in_its_stage(
    demo_db: Any, sales: Workspace, kind: IntakeType, slug: str, project_type: str | None,
    default_priority: str, steps: int,
) -> None:
    form = IntakeForm(kind, company=f"Nordwerk {kind.value}", contact_name="Ines Vogel",
                      email="ines@nordwerk.example", phone="+49 30 1234567",
                      title="Laser-cut brackets", estimated_value="12,500.50",
                      target_date=dt.date(2027, 3, 1), tags="laser; brackets, laser")
    result = intake.submit_intake(sales, acme(sales), form)
    row = stored(demo_db, result.project_id)
    assert result.project_number == row["project_number"], "the number shown is the stored one"
    assert row["slug"] == slug
    assert row["priority"] == default_priority
    assert row["intake_type"] == kind.value and row["project_type"] == project_type
    assert row["customer_id"] == result.customer_id and result.customer_created
    assert row["estimated_value"] == Decimal("12500.50")
    assert row["estimated_delivery_date"] == dt.date(2027, 3, 1)
    assert row["tags"] == ["laser", "brackets"]
    assert row["metadata"]["requester"]["email"] == "ines@nordwerk.example"
    assert row["steps"] == steps, "steps of the first stage exist from creation"
    assert row["history"] == ["created"]
    assert row["owner"] == "acme.sales", "whoever took the intake owns the project"


def test_the_chosen_priority_is_kept(demo_db: Any, sales: Workspace) -> None:
    form = IntakeForm(IntakeType.PURCHASE_ORDER, company="Kessler AG", contact_name="Tom Kessler",
                      title="Repeat order 500 pcs", priority=Priority.LOW)
    result = intake.submit_intake(sales, acme(sales), form)
    assert stored(demo_db, result.project_id)["priority"] == "low"


def test_customers_match_without_case_accents_or_spacing(demo_db: Any, sales: Workspace) -> None:
    with owner_conn(demo_db) as conn:
        org = org_id(conn, "acme")
        existing = conn.execute(
            "INSERT INTO contacts (organization_id, type, company_name) "
            "VALUES (%s, 'customer', 'Müller Präzision GmbH') RETURNING id", (org,)).fetchone()
    assert existing is not None
    matches = intake.find_customers(sales, org, "  MULLER   prazision gmbh ")
    assert matches and matches[0].contact_id == existing[0] and matches[0].exact
    assert intake.find_customers(sales, org, "Muller Prazision")[0].contact_id == existing[0]
    assert not intake.find_customers(sales, org, "Globex")  # another organization's names

    before = count(demo_db, "contacts")
    chosen = intake.submit_intake(sales, org, IntakeForm(
        IntakeType.RFQ, company="MULLER prazision gmbh", title="Flanges", customer_id=existing[0]))
    assert chosen.customer_id == existing[0] and not chosen.customer_created
    assert count(demo_db, "contacts") == before, "no duplicate customer"
    fresh = intake.submit_intake(sales, org, IntakeForm(
        IntakeType.RFQ, company="Müller Präzision GmbH", contact_name="Jana Müller",
        title="Another Müller"))
    assert fresh.customer_created and fresh.customer_id != existing[0]


def test_an_invalid_form_stores_nothing(demo_db: Any, sales: Workspace) -> None:
    before = (count(demo_db, "projects"), count(demo_db, "contacts"))
    form = IntakeForm(IntakeType.RFQ, company="  ", contact_name="A", email="not-an-address",
                      title="ab", estimated_value="lots", description="x\x00y")
    with pytest.raises(IntakeInvalid) as invalid:
        intake.submit_intake(sales, acme(sales), form)
    assert set(invalid.value.errors) == {"company", "email", "title", "estimated_value",
                                         "description"}
    assert "at least 3 characters" in invalid.value.errors["title"]
    assert (count(demo_db, "projects"), count(demo_db, "contacts")) == before


def test_a_vanished_customer_stores_nothing(demo_db: Any, sales: Workspace) -> None:
    before = count(demo_db, "projects")
    with pytest.raises(UserFacingError, match="no longer exists"):
        intake.submit_intake(sales, acme(sales), IntakeForm(
            IntakeType.RFQ, company="Ghost", title="Ghost order", customer_id=uuid.uuid4()))
    assert count(demo_db, "projects") == before


def test_who_may_not_take_intake_is_refused_by_the_database(
    demo_db: Any, profile: ConnectionProfile
) -> None:
    before = (count(demo_db, "projects"), count(demo_db, "contacts"))
    with (sign_in(profile, "acme.engineering", PASSWORD) as engineering,
          pytest.raises(UserFacingError) as refused):
        intake.submit_intake(engineering, acme(engineering), IntakeForm(
            IntakeType.RFQ, company="Somebody", contact_name="Some One", title="Not mine"))
    assert "not allowed" in str(refused.value)
    assert (count(demo_db, "projects"), count(demo_db, "contacts")) == before


def _form(submission: uuid.UUID) -> IntakeForm:
    return IntakeForm(IntakeType.RFQ, company="Vikstrom Hydraulik", contact_name="Per Vikstrom",
                      title="Valve bodies after a restart", submission_id=submission)


def _projects_titled(db: Any, title: str) -> int:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT count(*) FROM projects WHERE title = %s", (title,)).fetchone()
    assert row is not None
    return int(row[0])


def _terminate(db: Any, pid: int) -> None:
    """End a backend and wait until it is gone (the second argument waits, in ms)."""
    with owner_conn(db) as owner:
        owner.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


class _AfterProjectInsert:
    """Arms at the INSERT INTO projects of a save, so the reads around it are left alone."""

    def __init__(self, ws: Workspace) -> None:
        from sqlalchemy import event

        self.armed = False
        self.fired = False
        self._engine = ws.engine
        event.listen(self._engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().startswith("INSERT INTO projects") and not self.fired:
            self.armed = True

    def take(self) -> bool:
        """True once: the first commit after the project's INSERT."""
        if self.armed and not self.fired:
            self.fired = True
            return True
        return False

    def remove(self) -> None:
        from sqlalchemy import event

        event.remove(self._engine, "before_cursor_execute", self._seen)


def test_T_NET_03_connection_killed_before_the_commit(demo_db: Any, sales: Workspace) -> None:
    from sqlalchemy import event

    submission = uuid.uuid4()
    trap = _AfterProjectInsert(sales)

    def kill_backend(conn: Any) -> None:  # after the INSERTs, before COMMIT is sent
        if trap.take():
            _terminate(demo_db, conn.connection.dbapi_connection.info.backend_pid)

    event.listen(sales.engine, "commit", kill_backend)
    try:
        with pytest.raises(UserFacingError, match="nothing was stored"):
            intake.submit_intake(sales, acme(sales), _form(submission))
    finally:
        event.remove(sales.engine, "commit", kill_backend)
        trap.remove()
    assert trap.fired and _projects_titled(demo_db, "Valve bodies after a restart") == 0
    # The form is kept and sent again: stored once, under the same id.
    result = intake.submit_intake(sales, acme(sales), _form(submission))
    assert result.project_id == submission
    assert _projects_titled(demo_db, "Valve bodies after a restart") == 1


def test_T_NET_03_answer_lost_after_the_commit(demo_db: Any, sales: Workspace) -> None:
    submission = uuid.uuid4()
    dialect = sales.engine.dialect
    real_commit = dialect.do_commit
    trap = _AfterProjectInsert(sales)

    def commit_then_lose_the_answer(dbapi_connection: Any) -> None:
        real_commit(dbapi_connection)
        if trap.take():  # committed; then the server goes before the answer is read
            raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
            _terminate(demo_db, raw.info.backend_pid)
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    dialect.do_commit = commit_then_lose_the_answer  # type: ignore[method-assign]
    try:
        first = intake.submit_intake(sales, acme(sales), _form(submission))
    finally:
        dialect.do_commit = real_commit  # type: ignore[method-assign]
        trap.remove()
    assert trap.fired, "the commit's answer was lost"
    assert first.project_id == submission and first.customer_created, "found, not re-sent"
    again = intake.submit_intake(sales, acme(sales), _form(submission))  # a second click
    assert again == first
    assert _projects_titled(demo_db, "Valve bodies after a restart") == 1
    with owner_conn(demo_db) as conn:
        customers = conn.execute("SELECT count(*) FROM contacts WHERE company_name = "
                                 "'Vikstrom Hydraulik'").fetchone()
    assert customers == (1,), "0 duplicate rows"
