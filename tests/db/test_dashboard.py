"""The dashboard's figures, checked against a shop whose every number is computed by hand.

The shop is built as the database owner in import mode (``fp.import_mode``: no automatic
stage history), with history rows at exact times in Europe/Berlin; the figures are then read
as real persons through ``auth.sign_in``, so row level security applies as in the app.

The hand computation uses ``today`` = Wednesday 2026-11-25 and 4 weeks: the period runs from
Monday 2026-11-02 00:00 to 2026-11-26 00:00 Berlin time (UTC+1 all along, no DST change).
Stages of the default workflow: S1 Inquiry Received (20 days planned), S2 Technical Review
(10), S3 Supplier RFQ Sent (5), S4 Quoted (5), S5 Order Confirmed (5), S6 Procurement
Planning (5), S7 Production (4), S8 Completed (3).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rls_support import org_id, owner_conn
from sqlalchemy import Connection, create_engine, pool, text
from support import profile_for

from factorypulse_desktop.data import people
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in
from factorypulse_desktop.services.dashboard import (
    ACTIVITY_LIMIT,
    ActionKind,
    Dashboard,
    WeekCount,
    load_dashboard,
)

PASSWORD = "a-good-password"
DEMO_PASSWORD = "factorypulse-demo"
BERLIN = ZoneInfo("Europe/Berlin")
TODAY = dt.date(2026, 11, 25)  # a Wednesday
STAGE_SLUGS = (
    "inquiry_received", "technical_review", "supplier_rfq_sent", "quoted", "order_confirmed",
    "procurement_planning", "production", "completed",
)
STAGE_NAMES = (
    "Inquiry Received", "Technical Review", "Supplier RFQ Sent", "Quoted", "Order Confirmed",
    "Procurement Planning", "Production", "Completed",
)


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A moment in 2026, Berlin time."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def _hex() -> str:
    return uuid.uuid4().hex[:8]


# -- building a shop as the owner -------------------------------------------------------------


@dataclass
class Shop:
    org: uuid.UUID
    stages: list[uuid.UUID]  # S1 ... S8
    projects: dict[str, uuid.UUID] = field(default_factory=dict)  # "P1" -> id


class Builder:
    """Writes one organization's projects and their exact stage history (owner, import mode)."""

    def __init__(self, conn: Connection, org: uuid.UUID, worker: uuid.UUID) -> None:
        self.conn = conn
        self.worker = worker
        rows = conn.execute(
            text("SELECT slug, id FROM workflow_stages WHERE organization_id = :org"),
            {"org": org},
        ).all()
        by_slug = {r.slug: r.id for r in rows}
        self.shop = Shop(org, [by_slug[s] for s in STAGE_SLUGS])

    def project(
        self,
        label: str,
        visits: list[tuple[int, dt.datetime]],
        *,
        status: str = "active",
        estimated: dt.date | None = None,
        actual: dt.date | None = None,
        assigned: bool = False,
        archived: bool = False,
    ) -> None:
        """`visits`: (stage number, entered at); the first one is the creation."""
        org, stages = self.shop.org, self.shop.stages
        project_id = uuid.uuid4()
        self.shop.projects[label] = project_id
        current, entered = visits[-1]
        self.conn.execute(
            text(
                "INSERT INTO projects (id, organization_id, project_number, title, "
                "current_stage_id, status, estimated_delivery_date, actual_delivery_date, "
                "assigned_to, archived_at, created_at) VALUES (:id, :org, :number, :title, "
                ":stage, CAST(:status AS project_status), :estimated, :actual, :assigned, "
                ":archived, :created)"
            ),
            {
                "id": project_id, "org": org, "number": f"D-{label}",
                "title": f"Dashboard project {label}", "stage": stages[current - 1],
                "status": status, "estimated": estimated, "actual": actual,
                "assigned": self.worker if assigned else None,
                "archived": local(11, 1) if archived else None, "created": visits[0][1],
            },
        )
        previous: int | None = None
        for number, at in visits:
            if previous is None:
                kind = "created"
            elif number < previous:
                kind = "back"
            else:
                kind = "advance" if number == previous + 1 else "skip"
            self.conn.execute(
                text(
                    "INSERT INTO project_stage_history (organization_id, project_id, "
                    "from_stage_id, to_stage_id, transition, occurred_at, created_at) "
                    "VALUES (:org, :project, :from_stage, :to_stage, :kind, :at, :at)"
                ),
                {
                    "org": org, "project": project_id,
                    "from_stage": stages[previous - 1] if previous else None,
                    "to_stage": stages[number - 1], "kind": kind, "at": at,
                },
            )
            previous = number
        # The insert trigger stamps now(); the owner may set the historical time afterwards.
        self.conn.execute(
            text("UPDATE projects SET stage_entered_at = :at WHERE id = :id"),
            {"at": entered, "id": project_id},
        )

    def task(self, label: str, stage: int, sub_stage: str, status: str) -> None:
        """A sub-stage of `stage` for the worker (the row exists when it is the current stage)."""
        self.conn.execute(
            text(
                "INSERT INTO project_sub_stage_progress (organization_id, project_id, "
                "workflow_stage_id, sub_stage_id, status, assigned_to) "
                "SELECT :org, :project, s.workflow_stage_id, s.id, :status, :worker "
                "FROM workflow_sub_stages s "
                "WHERE s.organization_id = :org AND s.workflow_stage_id = :stage "
                "AND s.name = :name "
                "ON CONFLICT (organization_id, project_id, sub_stage_id) "
                "DO UPDATE SET status = excluded.status, assigned_to = excluded.assigned_to"
            ),
            {
                "org": self.shop.org, "project": self.shop.projects[label],
                "stage": self.shop.stages[stage - 1], "name": sub_stage, "status": status,
                "worker": self.worker,
            },
        )

    def activity(self, description: str, at: dt.datetime, actor: uuid.UUID | None,
                 project: str | None = None) -> None:
        self.conn.execute(
            text(
                "INSERT INTO activity_log (organization_id, actor_id, entity_type, action, "
                "description, project_id, occurred_at, created_at) "
                "VALUES (:org, :actor, 'project', 'note', :description, :project, :at, :at)"
            ),
            {
                "org": self.shop.org, "actor": actor, "description": description,
                "project": self.shop.projects[project] if project else None, "at": at,
            },
        )


@dataclass
class Fixture:
    shop: Shop  # the organization the hand computation is about
    other: Shop  # a second organization the worker also belongs to
    manager: str  # management, first organization only
    manager_id: uuid.UUID
    worker: str  # production, both organizations
    worker_id: uuid.UUID


def _berlin_organization(conn: Connection, slug: str, name: str) -> people.Organization:
    org = people.create_organization(conn, slug, name)
    conn.execute(
        text("UPDATE organizations SET settings = settings || '{\"timezone\": "
             "\"Europe/Berlin\"}'::jsonb WHERE id = :id"),
        {"id": org.id},
    )
    return org


def _build_shop(b: Builder, manager: uuid.UUID) -> None:
    # P1 goes back and forth: S1 2 days, S2 3 days, S1 1 day, S2 4 days, then S3 since Nov 12.
    b.project("P1", [(1, local(11, 2, 8)), (2, local(11, 4, 8)), (1, local(11, 7, 8)),
                     (2, local(11, 8, 8)), (3, local(11, 12, 8))],
              estimated=dt.date(2026, 12, 20), assigned=True)
    # P2: S1 6 days, S2 10.5 days; in S3 since Nov 20 00:30 Berlin (Nov 19 in UTC).
    b.project("P2", [(1, local(11, 3, 12, 30)), (2, local(11, 9, 12, 30)),
                     (3, local(11, 20, 0, 30))], estimated=TODAY)
    # P3: S1 half a day, in S2 since Nov 20 20:00; due yesterday.
    b.project("P3", [(1, local(11, 20, 8)), (2, local(11, 20, 20))],
              estimated=dt.date(2026, 11, 24))
    # Into S8 (Completed): P4 in week 1 (its S7 stay began before the period), P5 at Monday
    # Nov 16 00:30 Berlin (still Sunday in UTC: week 3), P6 and P7 in week 4; none in week 2.
    b.project("P4", [(7, local(10, 28, 9)), (8, local(11, 3, 9))], status="completed",
              estimated=dt.date(2026, 11, 6), actual=dt.date(2026, 11, 5))
    b.project("P5", [(7, local(11, 11, 12, 30)), (8, local(11, 16, 0, 30))],
              status="completed", estimated=dt.date(2026, 11, 17),
              actual=dt.date(2026, 11, 18))
    b.project("P6", [(7, local(11, 16, 9)), (8, local(11, 23, 9))], status="completed",
              estimated=dt.date(2026, 11, 24), actual=dt.date(2026, 11, 24))
    b.project("P7", [(7, local(11, 17, 9)), (8, local(11, 24, 15))],
              estimated=dt.date(2026, 11, 20))
    # Before the period: P8 delivered in it without a promised date, P9 delivered before it.
    b.project("P8", [(7, local(10, 15, 9)), (8, local(10, 20, 9))], status="completed",
              actual=dt.date(2026, 11, 4))
    b.project("P9", [(7, local(10, 3, 9)), (8, local(10, 10, 9))], status="completed",
              estimated=dt.date(2026, 10, 25), actual=dt.date(2026, 10, 30))
    # Left out of what is open: on hold, archived, cancelled.
    b.project("P10", [(4, local(10, 1, 9))], status="on_hold",
              estimated=dt.date(2026, 11, 10))
    b.project("P11", [(1, local(10, 5, 9))], estimated=dt.date(2026, 11, 1), assigned=True,
              archived=True)
    b.project("P13", [(2, local(10, 20, 9))], status="cancelled",
              estimated=dt.date(2026, 11, 5), actual=dt.date(2026, 11, 10))
    # P12 has been in S1 since September 1.
    b.project("P12", [(1, local(9, 1, 9))])

    # The worker's sub-stages: three open ones count, the others do not.
    b.task("P3", 2, "Production Capability Assessment", "pending")
    b.task("P3", 2, "Cross-Team Review Meeting", "blocked")
    b.task("P3", 2, "QA Requirements Review", "completed")  # done
    b.task("P7", 8, "Shipping Preparation", "in_progress")
    b.task("P1", 2, "QA Requirements Review", "in_progress")  # S2, but P1 is in S3 now
    b.task("P10", 4, "Cost Analysis", "in_progress")  # on hold
    b.task("P11", 1, "RFQ Documentation Review", "in_progress")  # archived

    # 25 notes, one an hour from Nov 1 01:00; every fifth by the system (no actor).
    for i in range(1, 26):
        actor = None if i % 5 == 0 else (manager if i % 2 else b.worker)
        b.activity(f"Event {i:02d}", local(11, 1) + dt.timedelta(hours=i), actor,
                   "P1" if i % 2 else None)


def _build_other(b: Builder) -> None:
    """Figures that would show in the first organization's if anything leaked."""
    b.project("Q1", [(1, local(11, 2, 8)), (2, local(11, 4, 8)), (8, local(11, 10, 9))],
              estimated=dt.date(2026, 11, 1), assigned=True)
    b.project("Q2", [(1, local(9, 1, 9))])
    b.project("Q3", [(7, local(11, 3, 9)), (8, local(11, 5, 9))], status="completed",
              estimated=dt.date(2026, 11, 11), actual=dt.date(2026, 11, 12))
    b.task("Q1", 8, "Shipping Preparation", "in_progress")
    b.activity("Other organization's event", local(11, 24, 12), b.worker, "Q1")


@pytest.fixture
def fixture(demo_db: Any) -> Fixture:
    """A new organization next to the demo's acme and globex, and a second one."""
    suffix = _hex()
    manager, worker = f"dash.mgmt.{suffix}", f"dash.prod.{suffix}"
    engine = create_engine(demo_db.owner_url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT set_config('fp.import_mode', 'on', true)"))
            org = _berlin_organization(conn, f"dash-{suffix}", "Dashboard Test Shop")
            other = _berlin_organization(conn, f"other-{suffix}", "Other Shop")
            manager_id = people.add_person(conn, org, manager, Role.MANAGEMENT, PASSWORD,
                                           display_name="Mia Manager")
            worker_id = people.add_person(conn, org, worker, Role.PRODUCTION, PASSWORD,
                                          display_name="Pat Production")
            people.add_membership(conn, other, worker, Role.PRODUCTION)
            shop = Builder(conn, org.id, worker_id)
            _build_shop(shop, manager_id)
            second = Builder(conn, other.id, worker_id)
            _build_other(second)
    finally:
        engine.dispose()
    return Fixture(shop.shop, second.shop, manager, manager_id, worker, worker_id)


@pytest.fixture
def profile(demo_db: Any) -> ConnectionProfile:
    return profile_for(demo_db)


@pytest.fixture
def worker_ws(fixture: Fixture, profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, fixture.worker, PASSWORD) as ws:
        yield ws


@pytest.fixture
def manager_ws(fixture: Fixture, profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, fixture.manager, PASSWORD) as ws:
        yield ws


def _items(d: Dashboard) -> list[tuple[str, ActionKind, int, str]]:
    return [(i.project_number, i.kind, i.days, i.reason) for i in d.action_items]


def _stage_times(d: Dashboard) -> dict[str, tuple[int, float | None, float | None]]:
    return {t.name: (t.stays, t.average_days, t.p90_days) for t in d.time_in_stage}


def _approx(value: float) -> Any:
    return pytest.approx(value, abs=1e-9)


# -- the hand-computed figures ----------------------------------------------------------------

# Open projects (active, not archived) by current stage: P12 in S1, P3 in S2, P1 and P2 in S3,
# P7 in S8. P10 (on hold), P11 (archived), P13 (cancelled), P4-P6, P8, P9 (completed) are not.
DISTRIBUTION = (1, 1, 2, 0, 0, 0, 0, 1)

OVERDUE = [
    # promised date < Nov 25, active or on hold, not archived: P10 Nov 10 -> 15 days,
    # P7 Nov 20 -> 5, P3 Nov 24 -> 1. (P2 is due today: not yet; P11 archived; P13 cancelled.)
    ("D-P10", ActionKind.OVERDUE, 15, "Delivery was due 15 days ago (project on hold)."),
    ("D-P7", ActionKind.OVERDUE, 5, "Delivery was due 5 days ago."),
    ("D-P3", ActionKind.OVERDUE, 1, "Delivery was due 1 day ago."),
]
TOO_LONG = [
    # calendar days in Berlin since the stage was entered, over the stage's planned days:
    # P12: Sep 1 -> Nov 25 = 29 + 31 + 25 = 85 days in S1 (20 planned): 65 over.
    ("D-P12", ActionKind.TOO_LONG_IN_STAGE, 65,
     "85 days in Inquiry Received, 65 more than the 20 planned."),
    # P1: Nov 12 -> Nov 25 = 13 days in S3 (5 planned): 8 over.
    ("D-P1", ActionKind.TOO_LONG_IN_STAGE, 8,
     "13 days in Supplier RFQ Sent, 8 more than the 5 planned."),
    # Not: P2 entered S3 on Nov 20 in Berlin (5 days, not more than 5; in UTC it would be 6);
    # P3 5 of 10 days in S2; P7 1 of 3 in S8; P10 is on hold.
]
WAITING = [
    # P1 is assigned to the worker (its open S2 row is left behind: P1 is in S3): 13 days.
    ("D-P1", ActionKind.WAITING_FOR_ME, 13,
     "Assigned to you; in Supplier RFQ Sent for 13 days."),
    # P3: two open sub-stages of S2 (orders 3 and 4); in S2 since Nov 20: 5 days.
    ("D-P3", ActionKind.WAITING_FOR_ME, 5,
     "Your tasks: Production Capability Assessment and 1 more."),
    # P7: one open sub-stage of S8; since Nov 24: 1 day.
    ("D-P7", ActionKind.WAITING_FOR_ME, 1, "Your task: Shipping Preparation."),
]
MY_TASKS = [
    # in progress, then blocked, then pending
    ("D-P7", "Completed", "Shipping Preparation", "in_progress"),
    ("D-P3", "Technical Review", "Cross-Team Review Meeting", "blocked"),
    ("D-P3", "Technical Review", "Production Capability Assessment", "pending"),
]


def _expected_time_in_stage() -> dict[str, tuple[int, float | None, float | None]]:
    # Finished stays that began in the period (Nov 2 00:00 to Nov 26 00:00 Berlin).
    # percentile_cont(0.9) of n sorted values: position 0.9 * (n - 1), interpolated.
    out: dict[str, tuple[int, float | None, float | None]] = {
        name: (0, None, None) for name in STAGE_NAMES}
    # S1: P1 2 and 1, P2 6, P3 0.5 (08:00 -> 20:00) -> [0.5, 1, 2, 6]; avg 9.5 / 4 = 2.375;
    # p90 at 0.9 * 3 = 2.7: 2 + 0.7 * (6 - 2) = 4.8. (P11 and P12: not finished.)
    out["Inquiry Received"] = (4, 2.375, 4.8)
    # S2: P1 3 and 4, P2 Nov 9 12:30 -> Nov 20 00:30 = 10.5 -> [3, 4, 10.5];
    # avg 17.5 / 3; p90 at 1.8: 4 + 0.8 * 6.5 = 9.2. (P3 still there, P13 before the period.)
    out["Technical Review"] = (3, 17.5 / 3, 9.2)
    # S7: P5 Nov 11 12:30 -> Nov 16 00:30 = 4.5, P6 7, P7 Nov 17 09:00 -> Nov 24 15:00 = 7.25
    # -> [4.5, 7, 7.25]; avg 18.75 / 3 = 6.25; p90 at 1.8: 7 + 0.8 * 0.25 = 7.2.
    # (P4 entered S7 on Oct 28, before the period.) S3, S8: nobody has left them yet.
    out["Production"] = (3, 6.25, 7.2)
    return out


def test_figures_are_the_hand_computed_ones(fixture: Fixture, worker_ws: Workspace) -> None:
    shop = fixture.shop
    d = load_dashboard(worker_ws, shop.org, today=TODAY, weeks=4)

    assert (d.organization_id, d.today, d.timezone) == (shop.org, TODAY, "Europe/Berlin")
    assert d.period_start == dt.date(2026, 11, 2)  # Monday of the week 3 weeks before

    assert [(s.stage_id, s.name) for s in d.stage_distribution] == list(
        zip(shop.stages, STAGE_NAMES, strict=True))
    assert tuple(s.projects for s in d.stage_distribution) == DISTRIBUTION
    assert d.stage_distribution[0].color == "#3b82f6"

    assert _items(d) == OVERDUE + TOO_LONG + WAITING
    assert {i.project_id for i in d.action_items} <= set(shop.projects.values())
    assert (d.action_counts.overdue, d.action_counts.too_long_in_stage,
            d.action_counts.waiting_for_me) == (3, 2, 3)

    assert [(t.project_number, t.stage_name, t.sub_stage_name, t.status)
            for t in d.my_tasks] == MY_TASKS
    assert d.my_tasks[0].started_at is not None  # the stage's first sub-stage, started on entry
    assert d.my_tasks[1].started_at is None

    assert _stage_times(d) == {
        name: (n, None if avg is None else _approx(avg), None if p90 is None else _approx(p90))
        for name, (n, avg, p90) in _expected_time_in_stage().items()
    }

    # Delivered Nov 2-25, not cancelled: P4 Nov 5 <= Nov 6 on time, P5 Nov 18 > Nov 17 late,
    # P6 Nov 24 <= Nov 24 on time; P8 had no promised date. (P9: Oct 30; P13: cancelled.)
    on_time = d.on_time_delivery
    assert (on_time.delivered, on_time.on_time, on_time.late, on_time.without_estimate) == (
        3, 2, 1, 1)
    assert on_time.rate == _approx(2 / 3)

    # Entered S8 by Berlin week: P4 Nov 3; none in the week of Nov 9; P5 Monday Nov 16 00:30;
    # P6 Nov 23 and P7 Nov 24. (P8 and P9 in October.)
    assert d.weekly_throughput == (
        WeekCount(dt.date(2026, 11, 2), 1),
        WeekCount(dt.date(2026, 11, 9), 0),
        WeekCount(dt.date(2026, 11, 16), 1),
        WeekCount(dt.date(2026, 11, 23), 2),
    )


def test_recent_activity_is_the_newest_twenty(fixture: Fixture, worker_ws: Workspace) -> None:
    d = load_dashboard(worker_ws, fixture.shop.org, today=TODAY, weeks=4)
    assert len(d.recent_activity) == ACTIVITY_LIMIT == 20
    # Newest first: the two "person added" rows written when the fixture ran (now), then the
    # 18 newest notes, Event 25 down to Event 08. The other organization's event is not here.
    added, notes = d.recent_activity[:2], d.recent_activity[2:]
    assert {a.description for a in added} == {
        f"Added {fixture.manager} as management", f"Added {fixture.worker} as production"}
    assert all(a.actor_name is None for a in added)  # added by the owner, not a person
    expected = []
    for i in range(25, 7, -1):
        actor = None if i % 5 == 0 else ("Mia Manager" if i % 2 else "Pat Production")
        expected.append((f"Event {i:02d}", local(11, 1) + dt.timedelta(hours=i), actor,
                         "D-P1" if i % 2 else None))
    assert [(a.description, a.occurred_at, a.actor_name, a.project_number)
            for a in notes] == expected
    assert all(a.action == "note" for a in notes)


def test_twelve_weeks_reach_back_to_september(fixture: Fixture, worker_ws: Workspace) -> None:
    d = load_dashboard(worker_ws, fixture.shop.org, today=TODAY)  # weeks=12 by default
    assert d.period_start == dt.date(2026, 9, 7)  # Nov 23 - 11 weeks
    # Entered S8: P9 Oct 10 (week of Oct 5), P8 Oct 20 (week of Oct 19), then as before.
    assert [w.completed for w in d.weekly_throughput] == [0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 2]
    assert d.weekly_throughput[0].week_start == dt.date(2026, 9, 7)
    # P9 (Oct 30 > Oct 25: late) is in the period now: 4 delivered, 2 on time, P8 unscheduled.
    on_time = d.on_time_delivery
    assert (on_time.delivered, on_time.on_time, on_time.without_estimate) == (4, 2, 1)
    # S7 now also has P9 Oct 3 -> Oct 10 = 7 (both CEST), P8 Oct 15 -> Oct 20 = 5 and
    # P4 Oct 28 -> Nov 3 = 6 (both CET): [4.5, 5, 6, 7, 7, 7.25]; avg 36.75 / 6 = 6.125;
    # p90 at 0.9 * 5 = 4.5: 7 + 0.5 * 0.25 = 7.125. S1 and S2 are unchanged (P12 began Sep 1).
    times = _stage_times(d)
    assert times["Production"] == (6, _approx(6.125), _approx(7.125))
    assert times["Inquiry Received"] == (4, _approx(2.375), _approx(4.8))
    # The current figures do not depend on the period.
    assert [i.project_number for i in d.action_items] == [
        n for n, *_ in OVERDUE + TOO_LONG + WAITING]


def test_a_person_without_assignments_has_nothing_waiting(
    fixture: Fixture, manager_ws: Workspace, worker_ws: Workspace
) -> None:
    mine = load_dashboard(manager_ws, fixture.shop.org, today=TODAY, weeks=4)
    theirs = load_dashboard(worker_ws, fixture.shop.org, today=TODAY, weeks=4)
    assert _items(mine) == OVERDUE + TOO_LONG
    assert mine.action_counts.waiting_for_me == 0
    assert mine.my_tasks == ()
    # Everything else is the organization's, the same for both.
    for name in ("stage_distribution", "time_in_stage", "on_time_delivery", "weekly_throughput",
                 "recent_activity"):
        assert getattr(mine, name) == getattr(theirs, name), name


# -- row level security -----------------------------------------------------------------------


def test_another_organization_never_leaks(
    fixture: Fixture, manager_ws: Workspace, worker_ws: Workspace
) -> None:
    other = fixture.other
    # The worker belongs to both: asked for the second one, they get only its figures.
    d = load_dashboard(worker_ws, other.org, today=TODAY, weeks=4)
    assert tuple(s.projects for s in d.stage_distribution) == (1, 0, 0, 0, 0, 0, 0, 1)
    assert [(i.project_number, i.kind, i.days) for i in d.action_items] == [
        ("D-Q1", ActionKind.OVERDUE, 24),  # due Nov 1
        ("D-Q2", ActionKind.TOO_LONG_IN_STAGE, 65),  # in S1 since Sep 1: 85 - 20
        ("D-Q1", ActionKind.TOO_LONG_IN_STAGE, 12),  # in S8 since Nov 10: 15 - 3
        ("D-Q1", ActionKind.WAITING_FOR_ME, 15),
    ]
    assert [t.project_number for t in d.my_tasks] == ["D-Q1"]
    assert [w.completed for w in d.weekly_throughput] == [1, 1, 0, 0]  # Q3 Nov 5, Q1 Nov 10
    assert (d.on_time_delivery.delivered, d.on_time_delivery.on_time) == (1, 0)
    assert "Other organization's event" in [a.description for a in d.recent_activity]
    assert _stage_times(d)["Inquiry Received"] == (1, _approx(2.0), _approx(2.0))
    # (The hand-computed test above shows that none of this is in the first organization's.)

    # A person of the first organization only is refused the second one's dashboard.
    with pytest.raises(UserFacingError, match="not a member of this organization"):
        load_dashboard(manager_ws, other.org, today=TODAY)


def _owner_one(db: Any, sql: str, *params: Any) -> Any:
    with owner_conn(db) as conn:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]


def _finished_stays(
    db: Any, org: uuid.UUID, d: Dashboard, zone: ZoneInfo, customer: uuid.UUID | None
) -> Counter[uuid.UUID]:
    """Finished stays per stage that began in the period, worked out here from the raw rows."""
    since = dt.datetime.combine(d.period_start, dt.time(), zone)
    until = dt.datetime.combine(d.today + dt.timedelta(days=1), dt.time(), zone)
    with owner_conn(db) as conn:
        rows = conn.execute(
            "SELECT h.project_id, h.to_stage_id FROM project_stage_history h "
            "JOIN projects p ON p.id = h.project_id "
            "WHERE h.organization_id = %s AND h.occurred_at >= %s AND h.occurred_at < %s "
            "AND (%s::uuid IS NULL OR p.customer_id = %s) "
            "ORDER BY h.project_id, h.occurred_at, h.id",
            (org, since, until, customer, customer),
        ).fetchall()
    stays: Counter[uuid.UUID] = Counter()
    for (project, stage), (next_project, _) in pairwise(rows):
        if project == next_project:
            stays[stage] += 1
    return stays


def _open_by_stage(db: Any, org: uuid.UUID, customer: uuid.UUID | None) -> Counter[uuid.UUID]:
    with owner_conn(db) as conn:
        rows = conn.execute(
            "SELECT current_stage_id FROM projects WHERE organization_id = %s "
            "AND status = 'active' AND archived_at IS NULL "
            "AND (%s::uuid IS NULL OR customer_id = %s)",
            (org, customer, customer),
        ).fetchall()
    return Counter(r[0] for r in rows)


def test_a_customer_counts_only_their_own_projects(
    demo_db: Any, profile: ConnectionProfile
) -> None:
    with owner_conn(demo_db) as conn:
        acme = org_id(conn, "acme")
    contact = _owner_one(
        demo_db, "SELECT m.contact_id FROM memberships m JOIN persons p ON p.id = m.person_id "
        "WHERE p.role_name = 'acme.customer'")
    zone = ZoneInfo("America/Chicago")  # acme's time zone in the demo
    before = dt.datetime.now(zone).date()
    with sign_in(profile, "acme.customer", DEMO_PASSWORD) as ws:
        mine = load_dashboard(ws, acme)  # today in Chicago
    with sign_in(profile, "acme.sales", DEMO_PASSWORD) as ws:
        everyone = load_dashboard(ws, acme, today=mine.today)
    assert mine.timezone == "America/Chicago"
    assert mine.today in {before, dt.datetime.now(zone).date()}

    # Projects: only those of the company the login represents (RLS), the same way counted.
    own = _open_by_stage(demo_db, acme, contact)
    assert {s.stage_id: s.projects for s in mine.stage_distribution} == {
        s.stage_id: own[s.stage_id] for s in mine.stage_distribution}
    everybody = _open_by_stage(demo_db, acme, None)
    assert {s.stage_id: s.projects for s in everyone.stage_distribution} == {
        s.stage_id: everybody[s.stage_id] for s in everyone.stage_distribution}
    assert sum(own.values()) < sum(everybody.values())  # there is something to hide

    own_projects = {r[0] for r in _rows(demo_db, "SELECT id FROM projects WHERE customer_id = %s",
                                        contact)}
    assert {i.project_id for i in mine.action_items} <= own_projects
    assert {i.project_id for i in everyone.action_items} - own_projects  # sales sees more

    # Stage history of their own projects only; the same stays a computation here finds.
    stays = _finished_stays(demo_db, acme, mine, zone, contact)
    assert {t.stage_id: t.stays for t in mine.time_in_stage} == {
        t.stage_id: stays[t.stage_id] for t in mine.time_in_stage}
    all_stays = _finished_stays(demo_db, acme, everyone, zone, None)
    assert {t.stage_id: t.stays for t in everyone.time_in_stage} == {
        t.stage_id: all_stays[t.stage_id] for t in everyone.time_in_stage}
    assert sum(stays.values()) < sum(all_stays.values())

    # Internal-only tables: the activity log is not theirs to read, nor anyone's tasks.
    assert mine.recent_activity == ()
    assert everyone.recent_activity
    assert mine.my_tasks == ()
    assert mine.on_time_delivery.delivered <= everyone.on_time_delivery.delivered
    assert sum(w.completed for w in mine.weekly_throughput) <= sum(
        w.completed for w in everyone.weekly_throughput)


def _rows(db: Any, sql: str, *params: Any) -> list[Any]:
    with owner_conn(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_a_supplier_sees_no_project_figures(demo_db: Any, profile: ConnectionProfile) -> None:
    with owner_conn(demo_db) as conn:
        acme = org_id(conn, "acme")
    with sign_in(profile, "acme.supplier", DEMO_PASSWORD) as ws:
        d = load_dashboard(ws, acme)
    # Suppliers never read project rows (ORIGIN: they hold the customer's name and price).
    assert len(d.stage_distribution) == 8
    assert all(s.projects == 0 for s in d.stage_distribution)
    assert all(t.stays == 0 and t.average_days is None for t in d.time_in_stage)
    assert d.action_items == () and d.my_tasks == () and d.recent_activity == ()
    assert d.on_time_delivery.delivered == 0 and d.on_time_delivery.rate is None
    assert len(d.weekly_throughput) == 12
    assert all(w.completed == 0 for w in d.weekly_throughput)


# -- edges --------------------------------------------------------------------------------------


def test_a_period_out_of_range_is_refused(fixture: Fixture, worker_ws: Workspace) -> None:
    for weeks in (0, -1, 105):
        with pytest.raises(UserFacingError, match="1 to 104 weeks"):
            load_dashboard(worker_ws, fixture.shop.org, weeks=weeks)
    assert len(load_dashboard(worker_ws, fixture.shop.org, weeks=1).weekly_throughput) == 1


def test_an_unknown_time_zone_falls_back_to_utc(
    demo_db: Any, fixture: Fixture, worker_ws: Workspace
) -> None:
    with owner_conn(demo_db) as conn:
        conn.execute(
            "UPDATE organizations SET settings = settings || '{\"timezone\": \"Mars/Olympus\"}'"
            " WHERE id = %s", (fixture.shop.org,))
    d = load_dashboard(worker_ws, fixture.shop.org, today=TODAY, weeks=4)
    assert d.timezone == "UTC"
    # In UTC, P5's Monday 00:30 in Berlin is Sunday: the second week is no longer empty.
    assert [w.completed for w in d.weekly_throughput] == [1, 1, 0, 2]
    # And P2 entered S3 on Nov 19 in UTC: 6 days, one more than planned.
    assert ("D-P2", ActionKind.TOO_LONG_IN_STAGE, 1,
            "6 days in Supplier RFQ Sent, 1 more than the 5 planned.") in _items(d)
