"""The projects list against SQL truth: every sort, both directions, paged in small keyset
pages, gives exactly the rows a plain query gives, in the same order; filters likewise."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from rls_support import org_id, owner_conn
from support import profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import projects
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.projects import ProjectFilter, ProjectRow, Sort

PASSWORD = "factorypulse-demo"
PRIORITY_ORDER = ["low", "medium", "high", "critical"]


@pytest.fixture
def sales(demo_db: Any) -> Iterator[Workspace]:
    """acme.sales, with 80 more acme projects of every shape (owner-made, import mode)."""
    rng = random.Random(7)
    with owner_conn(demo_db) as conn:
        acme = org_id(conn, "acme")
        stages = [r[0] for r in conn.execute(
            "SELECT id FROM workflow_stages WHERE organization_id = %s", (acme,))]
        customers = [r[0] for r in conn.execute(
            "SELECT id FROM contacts WHERE organization_id = %s", (acme,))] + [None]
        for i in range(80):
            conn.execute(
                "INSERT INTO projects (organization_id, title, customer_id, current_stage_id, "
                "priority_level, estimated_delivery_date, estimated_value, status, archived_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (acme, f"{rng.choice(['Bracket', 'bracket', 'Flange', 'Gear'])} job {i:03}",
                 rng.choice(customers), rng.choice(stages), rng.choice(PRIORITY_ORDER),
                 rng.choice([None, dt.date(2027, 1, 1) + dt.timedelta(days=rng.randint(0, 9))]),
                 rng.choice([None, Decimal(rng.randint(0, 5) * 1000)]),
                 rng.choice(["active", "active", "on_hold", "completed"]),
                 dt.datetime(2026, 1, 1, tzinfo=dt.UTC) if i % 13 == 0 else None))
    profile = profile_for(demo_db)
    with sign_in(profile, "acme.sales", PASSWORD) as ws:
        yield ws


def acme(ws: Workspace) -> uuid.UUID:
    return ws.identity.memberships[0].organization_id


def all_rows(ws: Workspace) -> list[ProjectRow]:
    """Every project the person sees, through the service's own row query (no paging)."""
    flt = ProjectFilter(statuses=(), include_archived=True)
    page = projects.list_projects(ws, acme(ws), flt, limit=1000)
    assert page.next_after is None
    return page.rows


def truth_key(key: str, row: ProjectRow) -> Any:
    return {
        "number": row.number, "title": row.title.lower(), "customer": (row.customer or "").lower(),
        "stage": row.stage_order, "priority": PRIORITY_ORDER.index(row.priority),
        "due": row.due_date or dt.date.max, "value": row.value if row.value is not None else -1,
    }[key]


def paged(ws: Workspace, flt: ProjectFilter, sort: Sort, size: int) -> list[ProjectRow]:
    rows: list[ProjectRow] = []
    after = None
    for _ in range(1000):
        page = projects.list_projects(ws, acme(ws), flt, sort, after=after, limit=size)
        assert len(page.rows) <= size
        rows += page.rows
        if page.next_after is None:
            return rows
        after = page.next_after
    raise AssertionError("paging never ended")


@pytest.mark.parametrize("key", ["number", "title", "customer", "stage", "priority", "due",
                                 "value"])
@pytest.mark.parametrize("descending", [False, True])
def test_every_sort_pages_like_one_query(sales: Workspace, key: str, descending: bool) -> None:
    everything = all_rows(sales)
    assert len(everything) > 90
    flt = ProjectFilter(statuses=(), include_archived=True)
    got = paged(sales, flt, Sort(key, descending), size=7)
    # Python's sort of the same rows: by the key, ties by id (as uuid bytes compare in SQL).
    expected = sorted(everything, key=lambda r: (truth_key(key, r), str(r.id)),
                      reverse=descending)
    assert [r.id for r in got] == [r.id for r in expected]


def test_filters_match_plain_filtering(sales: Workspace) -> None:
    everything = all_rows(sales)
    some_stage = everything[0].stage_id
    cases: list[tuple[ProjectFilter, Any]] = [
        (ProjectFilter(), lambda r: r.status == "active" and not r.archived),
        (ProjectFilter(statuses=("on_hold", "completed")),
         lambda r: r.status in ("on_hold", "completed") and not r.archived),
        (ProjectFilter(stage_ids=(some_stage,), statuses=()),
         lambda r: r.stage_id == some_stage and not r.archived),
        (ProjectFilter(priorities=("critical",), statuses=(), include_archived=True),
         lambda r: r.priority == "critical"),
        (ProjectFilter(text="BRACKET", statuses=()),
         lambda r: "bracket" in r.title.lower() and not r.archived),
        (ProjectFilter(text="job 00", statuses=()),
         lambda r: "job 00" in r.title and not r.archived),
        (ProjectFilter(due_before=dt.date(2027, 1, 5), statuses=()),
         lambda r: r.due_date is not None and r.due_date < dt.date(2027, 1, 5)
         and not r.archived),
    ]
    for flt, wanted in cases:
        got = paged(sales, flt, Sort("number"), size=9)
        assert {r.id for r in got} == {r.id for r in everything if wanted(r)}, flt


@pytest.mark.parametrize("typed", ["%", "_", "\\", "' OR 1=1 --", "x" * 10_000, "a\x00b"])
def test_T_IN_01_text_filter_is_literal(sales: Workspace, typed: str) -> None:
    page = projects.list_projects(sales, acme(sales), ProjectFilter(text=typed, statuses=()))
    for row in page.rows:
        assert typed.replace("\x00", "").lower() in (
            f"{row.number} {row.title} {row.customer or ''}".lower())


def test_T_IN_02_sort_outside_the_allowlist_is_refused(sales: Workspace) -> None:
    with pytest.raises(UserFacingError, match="cannot be sorted"):
        projects.list_projects(sales, acme(sales), sort=Sort("title; DROP TABLE projects"))


def test_board_has_every_active_stage_with_its_projects(sales: Workspace) -> None:
    board = projects.load_board(sales, acme(sales))
    assert [c.order for c in board] == sorted(c.order for c in board) and len(board) == 8
    active = [r for r in all_rows(sales) if r.status == "active" and not r.archived]
    for column in board:
        mine = [r for r in active if r.stage_id == column.stage_id]
        assert column.total == len(mine)
        assert {c.id for c in column.cards} == {r.id for r in mine}
        ranks = [(c.overdue, PRIORITY_ORDER.index(c.priority)) for c in column.cards]
        assert ranks == sorted(ranks, reverse=True), "overdue first, then priority"


def test_rows_of_changed_projects_for_in_place_updates(sales: Workspace, demo_db: Any) -> None:
    [first, second, *_] = all_rows(sales)
    with owner_conn(demo_db) as conn:
        globex_project = conn.execute(
            "SELECT id FROM projects WHERE organization_id = %s LIMIT 1",
            (org_id(conn, "globex"),)).fetchone()
    assert globex_project is not None
    got = projects.get_projects(sales, [first.id, second.id, globex_project[0]])
    assert {r.id for r in got} == {first.id, second.id}, "another organization's row: unseen"


def test_T_CONC_06_bulk_assign_reports_skips_and_an_open_edit_conflicts(
    sales: Workspace, demo_db: Any
) -> None:
    from factorypulse_desktop.services import project_detail

    with owner_conn(demo_db) as conn:
        acme_org = org_id(conn, "acme")
        rows = conn.execute(
            "SELECT p.id, s.slug FROM projects p JOIN workflow_stages s ON s.id = "
            "p.current_stage_id WHERE p.organization_id = %s AND p.archived_at IS NULL "
            "AND (p.assigned_to IS NULL OR p.assigned_to <> (SELECT id FROM persons WHERE "
            "role_name = 'acme.sales'))", (acme_org,)).fetchall()
        production = conn.execute(
            "SELECT id FROM persons WHERE role_name = 'acme.production'").fetchone()
    assert production is not None
    # Sales may change projects in its own stages only (or assigned to it).
    own = [r[0] for r in rows if r[1] in ("inquiry_received", "quoted")][:5]
    foreign = [r[0] for r in rows if r[1] == "technical_review"][:3]
    assert own and foreign
    editing = project_detail.load_project(sales, own[0])  # someone has it open

    result = projects.bulk_assign(sales, own + foreign, production[0])
    assert set(result.changed) == set(own) and set(result.skipped) == set(foreign)
    with owner_conn(demo_db) as conn:
        assigned = {r[0] for r in conn.execute(
            "SELECT id FROM projects WHERE assigned_to = %s AND id = ANY (%s)",
            (production[0], own + foreign))}
    assert assigned == set(own)
    with pytest.raises(project_detail.ProjectConflictError):  # no silent loss either way
        project_detail.save_project(sales, own[0], editing.version,
                                    replace(editing.edit, title="Edited while reassigned"))

    archived = projects.bulk_archive(sales, own[:2] + own[:1])
    assert archived.changed == tuple(own[:2]) and archived.skipped == ()
    again = projects.bulk_archive(sales, own[:2])
    assert again.changed == () and set(again.skipped) == set(own[:2]), "already archived"
