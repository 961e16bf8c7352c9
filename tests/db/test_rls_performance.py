"""T-RLS-13: the policies' helpers run once per statement and hot queries use tenant indexes.

At a small scale (20 organizations x 300 projects, with documents, messages, notifications,
activity, purchase and production orders), a person of one organization runs ``EXPLAIN`` on the
10 hottest list queries, each with the explicit ``organization_id`` filter the app adds, and we
check the plan's shape:

* every ``fp_private.*`` policy helper is called only inside an InitPlan (evaluated once per
  statement; with ANALYZE we also check it ran once), never in a per-row Filter or SubPlan;
* the main table is read through an index whose first column is organization_id, with
  organization_id in the index condition.

Timing is not asserted here: ``benchmarks/run.py`` measures speed at the issue's scale.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import psycopg.sql
import pytest
from sqlalchemy import Connection, Engine, text

from factorypulse_desktop.data import people
from factorypulse_desktop.data.db import make_engine
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.services.search import search

ORGS = 20
PROJECTS = 300  # per organization
PASSWORD = "perf-test-password"
HELPER = re.compile(r"fp_private\.\w+\(")

PROJECT_COLUMNS = (
    "id, project_number, title, status, priority_level, current_stage_id, customer_id, updated_at"
)

# (name, main table, SQL): the 10 hottest list queries, with the organization filter the app adds.
HOT_QUERIES: list[tuple[str, str, str]] = [
    ("projects list, first page", "projects",
     f"SELECT {PROJECT_COLUMNS} FROM projects WHERE organization_id = :org "
     "ORDER BY updated_at DESC, id DESC LIMIT 200"),
    ("projects by stage", "projects",
     f"SELECT {PROJECT_COLUMNS} FROM projects WHERE organization_id = :org "
     "AND current_stage_id = :stage ORDER BY updated_at DESC, id DESC LIMIT 200"),
    ("projects by customer", "projects",
     f"SELECT {PROJECT_COLUMNS} FROM projects WHERE organization_id = :org "
     "AND customer_id = :customer ORDER BY updated_at DESC, id DESC LIMIT 200"),
    ("project search (title trigram)", "projects",
     f"SELECT {PROJECT_COLUMNS} FROM projects WHERE organization_id = :org "
     "AND title ILIKE :pattern ORDER BY updated_at DESC, id DESC LIMIT 50"),
    ("documents of a project", "documents",
     "SELECT id, title, category, file_name, current_version_number, updated_at FROM documents "
     "WHERE organization_id = :org AND project_id = :project AND archived_at IS NULL "
     "ORDER BY updated_at DESC LIMIT 100"),
    ("messages of a project", "messages",
     "SELECT id, sender_id, subject, content, message_type, created_at FROM messages "
     "WHERE organization_id = :org AND project_id = :project AND deleted_at IS NULL "
     "ORDER BY created_at DESC LIMIT 100"),
    ("notifications of the person", "notifications",
     "SELECT id, title, message, type, priority, status, created_at FROM notifications "
     "WHERE organization_id = :org AND person_id = :person AND status = 'unread' "
     "ORDER BY created_at DESC LIMIT 50"),
    ("activity of a project", "activity_log",
     "SELECT id, occurred_at, action, description, actor_id FROM activity_log "
     "WHERE organization_id = :org AND project_id = :project ORDER BY occurred_at DESC LIMIT 50"),
    ("purchase orders list", "purchase_orders",
     "SELECT id, po_number, supplier_id, project_id, status, priority, total_amount, due_date, "
     "updated_at FROM purchase_orders WHERE organization_id = :org "
     "ORDER BY updated_at DESC LIMIT 200"),
    ("production orders list", "production_orders",
     "SELECT id, production_number, project_id, status, priority, quantity, "
     "completed_quantity, planned_end, updated_at FROM production_orders "
     "WHERE organization_id = :org ORDER BY updated_at DESC LIMIT 200"),
]

# Set-based loads, as the superuser. :orgs / :persons / :slugs are parallel arrays.
LOAD_SQL = [
    """INSERT INTO contacts (organization_id, type, company_name)
       SELECT o.id, CASE WHEN g.i % 5 = 0 THEN 'supplier' ELSE 'customer' END::contact_type,
              'Company ' || g.i || ' of ' || o.slug
       FROM unnest(CAST(:orgs AS uuid[]), CAST(:slugs AS text[])) AS o (id, slug)
       CROSS JOIN generate_series(1, 20) AS g (i)""",
    """INSERT INTO projects (organization_id, project_number, title, customer_id,
                             current_stage_id, priority_level, tags, created_at, updated_at)
       SELECT o.id, 'T-' || lpad(g.i::text, 5, '0'),
              (ARRAY['Bracket', 'Housing', 'Frame', 'Gearbox', 'Manifold', 'Panel'])[1 + g.i % 6]
                  || ' ' || (ARRAY['assembly', 'prototype', 'series', 'rework', 'retrofit',
                                   'batch', 'kit'])[1 + (g.i / 6) % 7] || ' ' || g.i,
              c.ids[1 + g.i % cardinality(c.ids)], s.ids[1 + g.i % cardinality(s.ids)],
              (ARRAY['low', 'medium', 'high', 'critical'])[1 + g.i % 4]::priority_level,
              ARRAY['perf'], now() - interval '400 days',
              now() - (g.i * 7919 % 525600) * interval '1 minute'
       FROM unnest(CAST(:orgs AS uuid[])) AS o (id)
       CROSS JOIN LATERAL (SELECT array_agg(x.id ORDER BY x.company_name) AS ids FROM contacts x
                           WHERE x.organization_id = o.id AND x.type = 'customer') AS c
       CROSS JOIN LATERAL (SELECT array_agg(x.id ORDER BY x.stage_order) AS ids
                           FROM workflow_stages x WHERE x.organization_id = o.id) AS s
       CROSS JOIN generate_series(1, :projects) AS g (i)""",
    """INSERT INTO documents (organization_id, project_id, title, category, file_name,
                              access_level, updated_at)
       SELECT p.organization_id, p.id, 'Drawing ' || k || ' of ' || p.project_number,
              (ARRAY['drawing', 'specification', 'quote'])[k], 'file' || k || '.pdf',
              CASE WHEN k = 3 THEN 'confidential' ELSE 'internal' END,
              p.updated_at - k * interval '1 hour'
       FROM projects p CROSS JOIN generate_series(1, 3) AS k""",
    """INSERT INTO messages (organization_id, project_id, sender_id, recipient_type, subject,
                             content, created_at)
       SELECT p.organization_id, p.id, CASE WHEN k = 1 THEN o.person END, 'project',
              'About ' || p.project_number, 'Message ' || k || ' on ' || p.title,
              p.updated_at - k * interval '1 hour'
       FROM projects p
       JOIN unnest(CAST(:orgs AS uuid[]), CAST(:persons AS uuid[])) AS o (id, person)
         ON o.id = p.organization_id
       CROSS JOIN generate_series(1, 3) AS k""",
    """INSERT INTO notifications (organization_id, person_id, title, message, status,
                                  created_at)
       SELECT o.id, o.person, 'Notice ' || g.i, 'Something happened',
              CASE WHEN g.i % 3 = 0 THEN 'unread' ELSE 'read' END,
              now() - g.i * interval '1 hour'
       FROM unnest(CAST(:orgs AS uuid[]), CAST(:persons AS uuid[])) AS o (id, person)
       CROSS JOIN generate_series(1, 200) AS g (i)""",
    """INSERT INTO activity_log (organization_id, actor_id, entity_type, entity_id, action,
                                 description, project_id, occurred_at)
       SELECT p.organization_id, NULL, 'project', p.id, 'project_updated', 'Event ' || k,
              p.id, p.updated_at - k * interval '1 hour'
       FROM projects p CROSS JOIN generate_series(1, 5) AS k""",
    """INSERT INTO purchase_orders (organization_id, po_number, supplier_id, project_id, status,
                                    total_amount, due_date, updated_at)
       SELECT p.organization_id, 'PO-' || p.project_number, s.ids[1 + k % cardinality(s.ids)],
              p.id, 'sent', 1000, current_date + 30, p.updated_at
       FROM (SELECT pr.*, row_number() OVER (PARTITION BY pr.organization_id
                                             ORDER BY pr.project_number) AS k
             FROM projects pr) AS p
       CROSS JOIN LATERAL (SELECT array_agg(x.id) AS ids FROM contacts x
                           WHERE x.organization_id = p.organization_id
                             AND x.type = 'supplier') AS s
       WHERE p.k <= 100""",
    """INSERT INTO production_orders (organization_id, production_number, project_id, status,
                                      quantity, planned_start, planned_end, updated_at)
       SELECT p.organization_id, 'MO-' || p.project_number, p.id, 'released', 10,
              current_date, current_date + 14, p.updated_at
       FROM (SELECT pr.*, row_number() OVER (PARTITION BY pr.organization_id
                                             ORDER BY pr.project_number) AS k
             FROM projects pr) AS p
       WHERE p.k <= 100""",
]
LOADED_TABLES = ("contacts", "projects", "documents", "messages", "notifications",
                 "activity_log", "purchase_orders", "production_orders")


@dataclass(frozen=True)
class Tenant:
    """The organization whose person runs the queries, and the ids its queries need."""

    username: str
    params: dict[str, Any]


def _load(engine: Engine, suffix: str) -> Tenant:
    """20 organizations, a sales person in each, and their rows; as the superuser."""
    orgs, persons, names = [], [], []
    with engine.begin() as conn:
        for i in range(1, ORGS + 1):
            org = people.create_organization(conn, f"perf-{suffix}-o{i:02d}", f"Perf org {i}")
            name = f"perf.{suffix}.o{i:02d}"
            persons.append(people.add_person(conn, org, name, Role.SALES, PASSWORD))
            orgs.append(org)
            names.append(name)
        # Bulk load with the user triggers off (superuser only; foreign keys stay checked),
        # switched back on in the same transaction so a failure cannot leave them off. The
        # triggers would add progress/history/change_log rows these queries do not read.
        for table in LOADED_TABLES:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        params = {
            "orgs": [o.id for o in orgs], "slugs": [o.slug for o in orgs],
            "persons": persons, "projects": PROJECTS,
        }
        for statement in LOAD_SQL:
            conn.execute(text(statement), params)
        for table in LOADED_TABLES:
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    # The tenant in the middle, so its rows are neither the first nor the last inserted.
    org = orgs[ORGS // 2]
    with engine.connect() as conn:
        ids = conn.execute(
            text("""SELECT
                (SELECT id FROM workflow_stages WHERE organization_id = :org
                 ORDER BY stage_order OFFSET 2 LIMIT 1) AS stage,
                (SELECT customer_id FROM projects WHERE organization_id = :org
                 AND customer_id IS NOT NULL LIMIT 1) AS customer,
                (SELECT id FROM projects WHERE organization_id = :org
                 ORDER BY project_number OFFSET 150 LIMIT 1) AS project"""),
            {"org": org.id},
        ).one()
    return Tenant(
        username=names[ORGS // 2],
        params={
            "org": org.id, "stage": ids.stage, "customer": ids.customer, "project": ids.project,
            "person": persons[ORGS // 2], "pattern": "%gearbox rework%",
        },
    )


@pytest.fixture
def tenant_db(migrated_db: Any) -> Iterator[tuple[Any, Tenant]]:
    # Person logins are cluster-wide: a fresh suffix per test.
    suffix = uuid.uuid4().hex[:10]
    engine = make_engine(migrated_db.owner_url)
    try:
        tenant = _load(engine, suffix)
    finally:
        engine.dispose()
    yield migrated_db, tenant


# --------------------------------------------------------------------------------------------
# Reading plans
# --------------------------------------------------------------------------------------------
def explain(conn: Connection, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    value = conn.execute(
        text(f"EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) {sql}"), params
    ).scalar_one()
    plan = json.loads(value) if isinstance(value, str) else value
    return plan[0]["Plan"]


def _own_text(node: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in node.items() if k != "Plans"})


def _index_parts(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(index name, index condition) of a scan node, bitmap children included."""
    if "Index Name" in node:
        return [(node["Index Name"], node.get("Index Cond", ""))]
    out = []
    for child in node.get("Plans", []):
        if child.get("Parent Relationship") in ("InitPlan", "SubPlan"):
            continue
        out.extend(_index_parts(child))
    return out


def leading_column(conn: Connection, index: str) -> str | None:
    return conn.execute(
        text("""SELECT a.attname FROM pg_index x
                JOIN pg_class i ON i.oid = x.indexrelid
                LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
                WHERE i.relname = :name AND i.relnamespace = 'public'::regnamespace"""),
        {"name": index},
    ).scalar_one_or_none()


@dataclass
class PlanFacts:
    initplan_calls: list[str]
    initplan_loops: list[int]
    per_row_calls: list[tuple[str, str]]  # (node, helper) outside any InitPlan
    scans: list[dict[str, Any]]  # scans of the main table outside InitPlans

    def uses_seq_scan(self) -> bool:
        return any(s["node"] == "Seq Scan" for s in self.scans)


def plan_facts(conn: Connection, plan: dict[str, Any], table: str) -> PlanFacts:
    facts = PlanFacts([], [], [], [])

    def walk(node: dict[str, Any], in_initplan: bool) -> None:
        in_initplan = in_initplan or node.get("Parent Relationship") == "InitPlan"
        calls = HELPER.findall(_own_text(node))
        if in_initplan:
            facts.initplan_calls.extend(calls)
            if calls:
                facts.initplan_loops.append(int(node.get("Actual Loops", 1)))
        else:
            where = node["Node Type"]
            if node.get("Parent Relationship") == "SubPlan" or node.get("Subplan Name"):
                where += f" in {node.get('Subplan Name', 'a SubPlan')}"
            facts.per_row_calls.extend((where, c) for c in calls)
            if node.get("Relation Name") == table and "Scan" in node["Node Type"]:
                parts = _index_parts(node)
                facts.scans.append({
                    "node": node["Node Type"],
                    "indexes": [name for name, _ in parts],
                    "tenant_index": any(
                        leading_column(conn, name) == "organization_id"
                        and "organization_id" in cond
                        for name, cond in parts
                    ),
                })
        for child in node.get("Plans", []):
            walk(child, in_initplan)

    walk(plan, False)
    return facts


def test_T_RLS_13_policies_use_initplan_and_tenant_index(tenant_db: tuple[Any, Tenant]) -> None:
    db, tenant = tenant_db
    engine = make_engine(db.url_for(tenant.username, PASSWORD))
    problems: list[str] = []
    report: list[str] = []
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_user")).scalar_one() == tenant.username
            for name, table, sql in HOT_QUERIES:
                params = {k: v for k, v in tenant.params.items() if f":{k}" in sql}
                facts = plan_facts(conn, explain(conn, sql, params), table)
                forced = False
                if facts.uses_seq_scan():
                    # The tables are tiny, so the planner may rightly prefer a seq scan. Forbid it
                    # for this one EXPLAIN (SET LOCAL, this transaction only) to check that an
                    # index led by organization_id exists and is usable for the query.
                    forced = True
                    conn.execute(text("SET LOCAL enable_seqscan = off"))
                    facts = plan_facts(conn, explain(conn, sql, params), table)
                    conn.rollback()
                helpers = sorted({c.removeprefix("fp_private.").rstrip("(")
                                  for c in facts.initplan_calls})
                report.append(
                    f"{name}: {[s['node'] + ' ' + ','.join(s['indexes']) for s in facts.scans]}"
                    f"{' (seq scan disabled)' if forced else ''}; InitPlan helpers {helpers}"
                )
                if not facts.initplan_calls:
                    problems.append(f"{name}: no policy helper runs in an InitPlan")
                if facts.per_row_calls:
                    problems.append(f"{name}: helpers outside an InitPlan: {facts.per_row_calls}")
                if any(loops > 1 for loops in facts.initplan_loops):
                    problems.append(f"{name}: an InitPlan ran {max(facts.initplan_loops)} times")
                if not facts.scans:
                    problems.append(f"{name}: no scan of {table} in the plan")
                for scan in facts.scans:
                    if not scan["tenant_index"]:
                        problems.append(
                            f"{name}: {scan['node']} of {table} via {scan['indexes'] or 'no index'}"
                            " is not an index led by organization_id"
                        )
    finally:
        engine.dispose()
    print("\n".join(report))
    assert not problems, "\n".join([*problems, "", "plans:", *report])


FILLER_PROJECTS = 20_000  # for the search tests: enough rows that the trigram index pays off
TRIGRAM_INDEXES = {"projects_title_trgm_idx", "projects_search_trgm_idx"}


@pytest.fixture
def search_tenant_db(tenant_db: tuple[Any, Tenant]) -> tuple[Any, Tenant]:
    """tenant_db plus 20k more projects (none matching) in the tenant's organization.

    300 projects are read faster through the tenant index than through the trigram index
    whoever asks; with 20k more the trigram index wins for the owner.
    """
    db, tenant = tenant_db
    owner = make_engine(db.owner_url)
    try:
        with owner.begin() as conn:
            conn.execute(text("ALTER TABLE projects DISABLE TRIGGER USER"))
            conn.execute(
                text("""INSERT INTO projects (organization_id, project_number, title,
                                              current_stage_id)
                        SELECT :org, 'F-' || lpad(g::text, 6, '0'), 'Filler part ' || g,
                               (SELECT id FROM workflow_stages WHERE organization_id = :org
                                ORDER BY stage_order LIMIT 1)
                        FROM generate_series(1, :n) AS g"""),
                {"org": tenant.params["org"], "n": FILLER_PROJECTS},
            )
            conn.execute(text("ALTER TABLE projects ENABLE TRIGGER USER"))
        with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE projects"))
    finally:
        owner.dispose()
    return db, tenant


def _index_scans(plan: dict[str, Any], table: str) -> list[tuple[str, str, str]]:
    """(scan node, index or '', index condition) of every scan of `table`, bitmaps resolved."""
    found: list[tuple[str, str, str]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name") == table and "Scan" in node["Node Type"]:
            parts = _index_parts(node)
            found.extend((node["Node Type"], name, cond) for name, cond in parts)
            if not parts:
                found.append((node["Node Type"], "", ""))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return found


def test_T_RLS_13_plain_ilike_search_cannot_use_trigram_index_as_person(
    search_tenant_db: tuple[Any, Tenant],
) -> None:
    """Why search goes through a definer function: a person's own ``ILIKE`` cannot use a
    trigram index.

    ``ILIKE`` (texticlike) is not LEAKPROOF, so under RLS the planner may not evaluate it before
    the policies: the person's plan reads every project of the organization through an
    organization_id index and filters them (benchmarks/README.md, "What we found" 4), while
    the owner's plan (no RLS) uses the trigram index. If this ever fails because the person's
    plan does use a trigram index, PostgreSQL has changed and fp_private.search_candidates
    (migration 20261125_0002) may no longer be needed.
    """
    db, tenant = search_tenant_db
    sql = next(sql for name, _, sql in HOT_QUERIES if name.startswith("project search"))
    params = {"org": tenant.params["org"], "pattern": tenant.params["pattern"]}

    def indexes_used(url: str) -> set[str]:
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                return {name for _node, name, _cond in _index_scans(explain(conn, sql, params),
                                                                    "projects")}
        finally:
            engine.dispose()

    # Precondition: with these statistics the planner picks a trigram index (owner, no RLS).
    assert indexes_used(db.owner_url) & TRIGRAM_INDEXES
    assert not indexes_used(db.url_for(tenant.username, PASSWORD)) & TRIGRAM_INDEXES


def nested_plans(db: Any, username: str, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """The JSON plans of `sql` and of every statement run inside it (functions included), as
    `username` runs it: auto_explain reports them as NOTICEs.

    auto_explain is loaded by the superuser, who then becomes the person for the session
    (SET SESSION AUTHORIZATION): session_user, which the identity helpers read, is the person.
    """
    plans: list[dict[str, Any]] = []
    with psycopg.connect(db.owner_conninfo(), autocommit=True) as conn:
        conn.add_notice_handler(
            lambda diag: plans.append(
                json.loads((diag.message_primary or "").partition("plan:\n")[2] or "{}")
            )
        )
        for setting in (
            "LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_nested_statements = on", "SET auto_explain.log_analyze = on",
            "SET auto_explain.log_format = json", "SET auto_explain.log_level = notice",
            "SET client_min_messages = notice",
        ):
            conn.execute(setting)
        conn.execute(psycopg.sql.SQL("SET SESSION AUTHORIZATION {}").format(
            psycopg.sql.Identifier(username)))
        assert conn.execute("SELECT session_user, current_user").fetchone() == (
            username, username)
        plans.clear()
        conn.execute(sql, params).fetchall()
    return [p for p in plans if p]


def test_T_RLS_13_project_search_uses_its_index_via_definer_function(
    search_tenant_db: tuple[Any, Tenant],
) -> None:
    """The palette's search (services/search.py) finds the same projects as the owner's ILIKE,
    and inside fp_private.search_candidates the projects are read through a GIN trigram index:
    a bitmap built from the pattern, no scan of the organization and no per-row helper."""
    db, tenant = search_tenant_db
    org, words = tenant.params["org"], tenant.params["pattern"].strip("%")
    owner = make_engine(db.owner_url)
    try:
        with owner.connect() as conn:
            expected = set(conn.execute(
                text("SELECT id FROM projects WHERE organization_id = :org "
                     "AND title ILIKE :pattern"), {"org": org, "pattern": f"%{words}%"}
            ).scalars())
    finally:
        owner.dispose()
    assert 0 < len(expected) < 50
    engine = make_engine(db.url_for(tenant.username, PASSWORD))
    try:
        with engine.connect() as conn:
            hits = search(conn, org, words, per_kind=50)
    finally:
        engine.dispose()
    assert {h.id for h in hits if h.kind == "project"} == expected

    plans = nested_plans(
        db, tenant.username,
        "SELECT * FROM fp_private.search_candidates(%s, %s, 50, '{project}')", (words, org))
    inner = [p for p in plans if "SELECT 'project'" in p.get("Query Text", "")]
    assert len(inner) == 1, [p.get("Query Text") for p in plans]
    scans = _index_scans(inner[0]["Plan"], "projects")
    report = f"scans of projects inside the function: {scans}"
    print(report)
    assert scans, report
    for node, index, cond in scans:
        assert node in ("Bitmap Heap Scan", "Bitmap Index Scan"), report
        assert index in TRIGRAM_INDEXES and "~~*" in cond, report
    assert not HELPER.search(json.dumps(inner[0]["Plan"])), "a policy helper runs per row"
    assert inner[0]["Plan"]["Actual Rows"] == len(expected)
