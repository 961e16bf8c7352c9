"""Build benchmark data at scale in a migrated database, as the superuser.

    python benchmarks/generate.py --url URL [--orgs 20 --big-projects 100000 --projects 5000
                                            --activity 1000000] [--tag bench]

URL is a SQLAlchemy URL of a superuser on a migrated database (``postgresql+psycopg://...``).

What it builds (organization 1 is the "big" one):

* ``--orgs`` organizations through ``people.create_organization`` (each gets the default
  workflow of 8 stages by trigger) and one person per organization through
  ``people.add_person``: role sales, login ``<tag>.oNN.sales``, password ``BENCH_PASSWORD``.
  Person logins are cluster-wide roles: use another ``--tag`` for a second data set in the same
  cluster.
* contacts (customers and a few suppliers): ``--big-contacts`` in organization 1 and
  ``--contacts`` in every other one;
* projects: ``--big-projects`` in organization 1 and ``--projects`` in every other one, numbers
  ``B-0000001`` ... given explicitly, spread over the 8 stages, 4 priorities, a year of
  ``updated_at``;
* ``--activity`` activity_log rows, shared between the organizations in proportion to their
  projects; one row in ten goes to the first ``HOT_PROJECTS`` projects of each organization so
  a project timeline has more than one page;
* for the search palette: ``--big-documents`` / ``--documents`` document rows (metadata only, no
  file bytes; one in ten confidential, one in ten public) attached to the projects, and
  ``--big-orders`` / ``--orders`` purchase orders and production orders (half as many inventory
  items) in organization 1 / every other one. One contact per organization carries the rare
  word ``RARE_WORD``.

Everything is set-based SQL (``INSERT ... SELECT ... FROM generate_series``), not row-by-row
Python. The values come from ``random()`` after ``setseed``, so a data set is reproducible.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from sqlalchemy import Connection, Engine, create_engine, pool, text

from factorypulse_desktop.data import people
from factorypulse_desktop.domain.enums import Role

BENCH_PASSWORD = "bench-password-2026"
HOT_PROJECTS = 10  # per organization: the projects that collect one activity row in ten
MARKER = "factorypulse benchmark data: "  # prefix of organization 1's description
RARE_CONTACT = 4242  # this contact (or the last) of each organization has RARE_WORD in its name
RARE_WORD = "Zeppelin"
_TAG_RE = re.compile(r"^[a-z][a-z0-9]{1,20}$")


@dataclass(frozen=True)
class Scale:
    orgs: int = 20
    big_projects: int = 100_000
    projects: int = 5_000
    activity: int = 1_000_000
    contacts: int = 200  # per organization but the big one; one in ten is a supplier
    big_contacts: int = 50_000
    documents: int = 2_000  # per organization but the big one
    big_documents: int = 200_000
    orders: int = 200  # purchase and production orders per organization but the big one
    big_orders: int = 10_000

    def projects_of(self, index: int) -> int:
        """Projects of organization `index` (1-based; 1 is the big one)."""
        return self.big_projects if index == 1 else self.projects

    def contacts_of(self, index: int) -> int:
        return self.big_contacts if index == 1 else self.contacts

    def documents_of(self, index: int) -> int:
        return self.big_documents if index == 1 else self.documents

    def orders_of(self, index: int) -> int:
        return self.big_orders if index == 1 else self.orders

    @property
    def total_projects(self) -> int:
        return self.big_projects + (self.orgs - 1) * self.projects

    def activity_of(self, index: int) -> int:
        """Activity rows of organization `index`: a share proportional to its projects."""
        if self.total_projects == 0:
            return 0
        before = sum(self.projects_of(i) for i in range(1, index))
        start = self.activity * before // self.total_projects
        end = self.activity * (before + self.projects_of(index)) // self.total_projects
        return end - start


@dataclass(frozen=True)
class BenchOrg:
    index: int
    id: uuid.UUID
    slug: str
    username: str
    person_id: uuid.UUID
    projects: int


@dataclass
class BenchData:
    tag: str
    password: str
    scale: Scale
    orgs: list[BenchOrg]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def big(self) -> BenchOrg:
        return self.orgs[0]


def org_slug(tag: str, index: int, width: int) -> str:
    return f"{tag}-o{index:0{width}d}"


def username(tag: str, index: int, width: int) -> str:
    return f"{tag}.o{index:0{width}d}.sales"


def _width(orgs: int) -> int:
    return max(2, len(str(orgs)))


@contextmanager
def _step(name: str, timings: dict[str, float], log: Callable[[str], None]) -> Iterator[None]:
    log(f"  {name} ...")
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    timings[name] = round(elapsed, 3)
    log(f"  {name}: {elapsed:.1f} s")


@contextmanager
def _triggers_off(conn: Connection, table: str, *, off: bool) -> Iterator[None]:
    """User triggers of `table` off for the block; call inside the load's transaction."""
    if off:
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    yield
    if off:
        conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


# --------------------------------------------------------------------------------------------
# The set-based statements
# --------------------------------------------------------------------------------------------
# Company names from a few words (three start with "Bra", for the palette's keystrokes) and a
# number; contact names from first and last names.
CONTACTS_SQL = """
INSERT INTO contacts (organization_id, type, company_name, contact_name, email, city, country,
                      payment_terms, created_at, updated_at)
SELECT o.id,
       CASE WHEN g.i % 10 = 0 THEN 'supplier' ELSE 'customer' END::contact_type,
       CASE WHEN g.i = least(:rare_contact, o.n) THEN :rare_word || ' Airship Works'
       ELSE (ARRAY['Brandt', 'Bradley', 'Braun', 'Northwind', 'Summit', 'Cascade', 'Redline',
                   'Bluewater', 'Keystone', 'Ironclad', 'Midwest', 'Precision', 'Svea', 'Helios',
                   'Alpine', 'Nordic', 'Baltic', 'Lumiere', 'Danube', 'Fixtec'])[1 + g.i % 20]
           || ' ' || (ARRAY['Metal', 'Plastics', 'Systems', 'Tools', 'Aero', 'Marine',
                            'Robotics', 'Energy'])[1 + (g.i / 20) % 8]
           || ' ' || (ARRAY['Inc.', 'GmbH', 'Ltd', 'SAS', 'AB', 'Co.'])[1 + (g.i / 160) % 6]
           || ' ' || lpad(g.i::text, 5, '0') END,
       (ARRAY['Anna', 'Ben', 'Carla', 'David', 'Elena', 'Frank', 'Grace', 'Hiro', 'Ines', 'Jonas',
              'Kim', 'Luis'])[1 + g.i % 12]
           || ' ' || (ARRAY['Becker', 'Dubois', 'Garcia', 'Hale', 'Jensen', 'Keller', 'Larsen',
                            'Meyer', 'Novak', 'Okafor', 'Patel', 'Rossi', 'Schmidt', 'Tanaka',
                            'Voss'])[1 + (g.i / 12) % 15],
       'contact' || g.i || '@' || o.slug || '.example',
       (ARRAY['Detroit', 'Lyon', 'Stuttgart', 'Osaka', 'Monterrey'])[1 + g.i % 5],
       (ARRAY['US', 'FR', 'DE', 'JP', 'MX'])[1 + g.i % 5],
       'net 30', now() - interval '2 years', now() - interval '1 year'
FROM unnest(CAST(:org_ids AS uuid[]), CAST(:slugs AS text[]), CAST(:counts AS integer[]))
    AS o (id, slug, n)
CROSS JOIN LATERAL generate_series(1, o.n) AS g (i)
"""

# Explicit project numbers: the insert trigger keeps them when no person is calling.
PROJECTS_SQL = """
INSERT INTO projects (organization_id, project_number, title, description, customer_id,
                      current_stage_id, status, priority_level, priority_score, estimated_value,
                      estimated_delivery_date, source, tags, project_type, intake_type,
                      intake_source, stage_entered_at, created_at, updated_at)
SELECT o.id,
       'B-' || lpad(g.i::text, 7, '0'),
       (ARRAY['Bracket', 'Housing', 'Frame', 'Gearbox', 'Manifold', 'Enclosure', 'Shaft',
              'Panel', 'Fixture', 'Conveyor', 'Valve body', 'Heat sink'])[1 + g.i % 12]
           || ' ' || (ARRAY['assembly', 'prototype', 'series', 'rework', 'retrofit', 'batch',
                            'kit'])[1 + (g.i / 12) % 7]
           || ' ' || g.i,
       'Generated for benchmarks',
       c.ids[1 + g.i % cardinality(c.ids)],
       s.ids[1 + g.i % cardinality(s.ids)],
       (CASE WHEN g.i % 20 = 0 THEN 'completed' WHEN g.i % 50 = 1 THEN 'on_hold'
             WHEN g.i % 97 = 0 THEN 'cancelled' ELSE 'active' END)::project_status,
       (ARRAY['low', 'medium', 'high', 'critical'])[1 + g.i % 4]::priority_level,
       (g.i * 37) % 101,
       round((1000 + random() * 250000)::numeric, 2),
       (now() + random() * interval '180 days')::date,
       'import',
       ARRAY[(ARRAY['repeat', 'export', 'prototype', 'aerospace', 'medical', 'automotive'])
             [1 + g.i % 6]],
       (ARRAY['fabrication', 'manufacturing', 'system_build'])[1 + g.i % 3],
       (ARRAY['rfq', 'purchase_order', 'project_idea', 'direct_request'])[1 + g.i % 4]
           ::intake_type,
       'email',
       t.updated_at, t.updated_at - interval '30 days', t.updated_at
FROM unnest(CAST(:org_ids AS uuid[]), CAST(:counts AS integer[])) AS o (id, n)
CROSS JOIN LATERAL (SELECT array_agg(x.id ORDER BY x.company_name) AS ids FROM contacts x
                    WHERE x.organization_id = o.id AND x.type = 'customer') AS c
CROSS JOIN LATERAL (SELECT array_agg(x.id ORDER BY x.stage_order) AS ids FROM workflow_stages x
                    WHERE x.organization_id = o.id) AS s
CROSS JOIN LATERAL generate_series(1, o.n) AS g (i)
CROSS JOIN LATERAL (SELECT now() - random() * interval '365 days' + g.i * interval '0 s'
                    AS updated_at) AS t
"""

# One row in ten goes to the organization's first HOT_PROJECTS projects, the rest round-robin.
ACTIVITY_SQL = """
WITH o AS (
    SELECT * FROM unnest(CAST(:org_ids AS uuid[]), CAST(:counts AS integer[]),
                         CAST(:persons AS uuid[]), CAST(:nprojects AS integer[]))
        AS o (id, n, person, nproj)
), p AS (
    SELECT pr.organization_id, pr.id,
           row_number() OVER (PARTITION BY pr.organization_id ORDER BY pr.project_number) AS rn
    FROM projects pr WHERE pr.organization_id = ANY (CAST(:org_ids AS uuid[]))
)
INSERT INTO activity_log (organization_id, actor_id, entity_type, entity_id, action, description,
                          project_id, occurred_at, created_at)
SELECT o.id,
       CASE WHEN g.i % 3 = 0 THEN o.person END,
       'project', p.id,
       (ARRAY['stage_changed', 'document_uploaded', 'message_posted', 'project_updated',
              'review_completed'])[1 + g.i % 5],
       'Benchmark event ' || g.i,
       p.id, t.at, t.at
FROM o
CROSS JOIN LATERAL generate_series(1, o.n) AS g (i)
JOIN p ON p.organization_id = o.id
      AND p.rn = CASE WHEN g.i % 10 = 0 THEN 1 + (g.i / 10) % least(:hot, o.nproj)
                      ELSE 1 + g.i % o.nproj END
CROSS JOIN LATERAL (SELECT now() - random() * interval '365 days' + g.i * interval '0 s' AS at)
    AS t
"""

# Document metadata only (no versions, no file bytes), round-robin over the projects; the title
# names the project ("Drawing Bracket assembly 12 rev A").
DOCUMENTS_SQL = """
WITH o AS (
    SELECT * FROM unnest(CAST(:org_ids AS uuid[]), CAST(:counts AS integer[]),
                         CAST(:nprojects AS integer[])) AS o (id, n, nproj)
), p AS (
    SELECT pr.organization_id, pr.id, pr.title, pr.project_number,
           row_number() OVER (PARTITION BY pr.organization_id ORDER BY pr.project_number) AS rn
    FROM projects pr WHERE pr.organization_id = ANY (CAST(:org_ids AS uuid[]))
)
INSERT INTO documents (organization_id, project_id, title, file_name, file_size, file_type,
                       mime_type, category, access_level, created_at, updated_at)
SELECT o.id, p.id,
       (ARRAY['Drawing', 'Specification', 'Quote', 'Inspection report', 'Certificate',
              'Bill of materials', 'Contract'])[1 + g.i % 7]
           || ' ' || p.title || ' rev ' || chr(65 + (g.i / 7) % 5),
       (ARRAY['drawing', 'specification', 'quote', 'inspection', 'certificate', 'bom',
              'contract'])[1 + g.i % 7] || '-' || p.project_number || '-' || g.i || '.pdf',
       10000 + (g.i * 7919) % 5000000, 'pdf', 'application/pdf',
       (ARRAY['drawing', 'specification', 'quote', 'inspection', 'certificate', 'bom',
              'contract'])[1 + g.i % 7],
       CASE g.i % 10 WHEN 0 THEN 'confidential' WHEN 1 THEN 'public' ELSE 'internal' END,
       t.at - interval '1 day', t.at
FROM o
CROSS JOIN LATERAL generate_series(1, o.n) AS g (i)
JOIN p ON p.organization_id = o.id AND p.rn = 1 + g.i % o.nproj
CROSS JOIN LATERAL (SELECT now() - random() * interval '365 days' + g.i * interval '0 s' AS at)
    AS t
"""

# :counts = purchase and production orders per organization; half as many inventory items.
ORDERS_SQL = [
    """INSERT INTO inventory_items (organization_id, item_code, item_name, category, unit,
                                    unit_cost, created_at, updated_at)
       SELECT o.id,
              (ARRAY['AL', 'SS', 'ST', 'FST', 'TOOL', 'PKG', 'BRK'])[1 + g.i % 7] || '-'
                  || lpad(g.i::text, 5, '0'),
              (ARRAY['Aluminium bar', 'Stainless sheet', 'Steel plate', 'Hex bolt', 'End mill',
                     'Foam box', 'Bracket blank'])[1 + g.i % 7] || ' ' || (10 + g.i % 90) || ' mm',
              (ARRAY['raw_material', 'raw_material', 'raw_material', 'fasteners', 'tooling',
                     'packaging', 'raw_material'])[1 + g.i % 7],
              'pcs', 1 + (g.i % 500) / 10.0, now() - interval '2 years',
              now() - random() * interval '365 days'
       FROM unnest(CAST(:org_ids AS uuid[]), CAST(:counts AS integer[])) AS o (id, n)
       CROSS JOIN LATERAL generate_series(1, greatest(o.n / 2, 1)) AS g (i)""",
    """INSERT INTO purchase_orders (organization_id, po_number, supplier_id, status, priority,
                                    total_amount, order_date, due_date, created_at, updated_at)
       SELECT o.id, 'PO-' || lpad(g.i::text, 6, '0'), s.ids[1 + g.i % cardinality(s.ids)],
              (ARRAY['draft', 'pending_approval', 'approved', 'sent', 'acknowledged',
                     'partially_received', 'received', 'closed'])[1 + g.i % 8],
              (ARRAY['low', 'medium', 'high', 'critical'])[1 + g.i % 4]::priority_level,
              round((100 + random() * 50000)::numeric, 2), t.at::date,
              (t.at + interval '30 days')::date, t.at, t.at
       FROM unnest(CAST(:org_ids AS uuid[]), CAST(:counts AS integer[])) AS o (id, n)
       CROSS JOIN LATERAL (SELECT array_agg(x.id) AS ids FROM contacts x
                           WHERE x.organization_id = o.id AND x.type = 'supplier') AS s
       CROSS JOIN LATERAL generate_series(1, o.n) AS g (i)
       CROSS JOIN LATERAL (SELECT now() - random() * interval '365 days' + g.i * interval '0 s'
                           AS at) AS t""",
    """INSERT INTO production_orders (organization_id, production_number, description, status,
                                      priority, quantity, planned_start, planned_end,
                                      created_at, updated_at)
       SELECT o.id, 'MO-' || lpad(g.i::text, 6, '0'),
              'Make ' || (10 + g.i % 90) || ' x ' || (ARRAY['Bracket', 'Housing', 'Frame',
                  'Gearbox', 'Manifold', 'Enclosure', 'Shaft', 'Panel', 'Fixture', 'Conveyor',
                  'Valve body', 'Heat sink'])[1 + g.i % 12] || ' ' || g.i,
              (ARRAY['planned', 'released', 'in_progress', 'on_hold', 'completed'])[1 + g.i % 5],
              (ARRAY['low', 'medium', 'high', 'critical'])[1 + g.i % 4]::priority_level,
              10 + g.i % 90, t.at::date, (t.at + interval '14 days')::date, t.at, t.at
       FROM unnest(CAST(:org_ids AS uuid[]), CAST(:counts AS integer[])) AS o (id, n)
       CROSS JOIN LATERAL generate_series(1, o.n) AS g (i)
       CROSS JOIN LATERAL (SELECT now() - random() * interval '365 days' + g.i * interval '0 s'
                           AS at) AS t""",
]

ANALYZE_TABLES = (
    "organizations", "persons", "memberships", "contacts", "workflow_stages",
    "workflow_sub_stages", "projects", "activity_log", "change_log", "documents",
    "inventory_items", "purchase_orders", "production_orders",
)


# --------------------------------------------------------------------------------------------
# Building and finding a data set
# --------------------------------------------------------------------------------------------
def check_tag(tag: str) -> str:
    if not _TAG_RE.match(tag):
        raise SystemExit(f"--tag must match {_TAG_RE.pattern} (it becomes slugs and logins)")
    return tag


def generate(
    engine: Engine,
    scale: Scale,
    *,
    tag: str = "bench",
    password: str = BENCH_PASSWORD,
    with_triggers: bool = False,
    log: Callable[[str], None] = print,
) -> BenchData:
    """Build the data set in the (migrated) database of `engine`, a superuser's engine."""
    check_tag(tag)
    if scale.orgs < 1 or scale.big_projects < 1 or (scale.orgs > 1 and scale.projects < 1):
        raise SystemExit("need at least one organization and one project per organization")
    width = _width(scale.orgs)
    names = [username(tag, i, width) for i in range(1, scale.orgs + 1)]
    timings: dict[str, float] = {}
    total_started = time.perf_counter()
    log(f"Generating {scale} (tag {tag!r}, triggers {'on' if with_triggers else 'off'})")

    with engine.connect() as conn:
        taken = conn.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY (:names)"), {"names": names}
        ).scalars().all()
        if taken:
            raise SystemExit(
                f"logins {', '.join(sorted(taken)[:3])}... already exist in this cluster "
                "(roles are cluster-wide): use another --tag or a fresh cluster"
            )

    orgs: list[BenchOrg] = []
    with _step("organizations and persons", timings, log), engine.begin() as conn:
        for i in range(1, scale.orgs + 1):
            org = people.create_organization(
                conn, org_slug(tag, i, width), f"Bench organization {i:0{width}d}"
            )
            person_id = people.add_person(
                conn, org, names[i - 1], Role.SALES, password,
                display_name=f"Bench sales {i:0{width}d}",
            )
            orgs.append(BenchOrg(i, org.id, org.slug, names[i - 1], person_id,
                                 scale.projects_of(i)))
        conn.execute(
            text("UPDATE organizations SET description = :d WHERE id = :id"),
            {"d": MARKER + json.dumps(asdict(scale)), "id": orgs[0].id},
        )

    org_ids = [o.id for o in orgs]
    with (
        _step("contacts", timings, log),
        engine.begin() as conn,
        _triggers_off(conn, "contacts", off=not with_triggers),
    ):
        conn.execute(
            text(CONTACTS_SQL),
            {"org_ids": org_ids, "slugs": [o.slug for o in orgs],
             "counts": [scale.contacts_of(o.index) for o in orgs],
             "rare_contact": RARE_CONTACT, "rare_word": RARE_WORD},
        )

    # The projects insert trigger adds ~4 sub-stage progress rows and a stage-history row per
    # project, plus a change_log row and a NOTIFY for each of those rows: measured 3.9 s per
    # 5,000 projects (~0.8 ms each, ~2.6 min for the full scale) against 0.2 s without it. So
    # by default the bulk load runs with the user triggers off (ALTER TABLE ... DISABLE
    # TRIGGER USER: superuser only, the foreign-key checks stay on) and turns them back on IN
    # THE SAME TRANSACTION: DDL is transactional, so a failed load can never leave them
    # disabled. The loaded projects then have no progress/history/change_log rows; the list
    # queries do not read those. activity_log's only insert trigger stamps actor_id from the
    # signed-in person (there is none: the superuser is calling), so it is off too.
    # with_triggers=True (--with-triggers) keeps every trigger on.
    with _step("projects", timings, log), engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.2026)"))
        with _triggers_off(conn, "projects", off=not with_triggers):
            conn.execute(text(PROJECTS_SQL),
                         {"org_ids": org_ids, "counts": [o.projects for o in orgs]})

    with _step("activity_log", timings, log), engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.1125)"))
        with _triggers_off(conn, "activity_log", off=not with_triggers):
            conn.execute(
                text(ACTIVITY_SQL),
                {
                    "org_ids": org_ids,
                    "counts": [scale.activity_of(o.index) for o in orgs],
                    "persons": [o.person_id for o in orgs],
                    "nprojects": [o.projects for o in orgs],
                    "hot": HOT_PROJECTS,
                },
            )

    # The palette's other kinds. Their user triggers (change_log, actor stamping) are off for
    # the load, as for projects.
    with _step("documents", timings, log), engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.0707)"))
        with _triggers_off(conn, "documents", off=not with_triggers):
            conn.execute(
                text(DOCUMENTS_SQL),
                {"org_ids": org_ids, "counts": [scale.documents_of(o.index) for o in orgs],
                 "nprojects": [o.projects for o in orgs]},
            )

    with _step("inventory items, purchase and production orders", timings, log), \
            engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.0303)"))
        tables = ("inventory_items", "purchase_orders", "production_orders")
        for table, statement in zip(tables, ORDERS_SQL, strict=True):
            with _triggers_off(conn, table, off=not with_triggers):
                conn.execute(text(statement),
                             {"org_ids": org_ids,
                              "counts": [scale.orders_of(o.index) for o in orgs]})

    # VACUUM sets the visibility map as autovacuum would on a live database; ANALYZE gives
    # the planner the real distribution.
    with (
        _step("vacuum analyze", timings, log),
        engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
    ):
        conn.execute(text(f"VACUUM (ANALYZE) {', '.join(ANALYZE_TABLES)}"))

    timings["total"] = round(time.perf_counter() - total_started, 3)
    log(f"  total: {timings['total']:.1f} s")
    return BenchData(tag=tag, password=password, scale=scale, orgs=orgs, timings=timings)


def load(engine: Engine, *, tag: str = "bench", password: str = BENCH_PASSWORD) -> BenchData | None:
    """The data set `tag` already in this database, or None."""
    check_tag(tag)
    with engine.connect() as conn:
        return _load(conn, tag, password)


def _load(conn: Connection, tag: str, password: str) -> BenchData | None:
    rows = conn.execute(
        text(
            """SELECT o.id, o.slug, o.description, p.role_name, p.id AS person_id,
                      (SELECT count(*) FROM projects pr WHERE pr.organization_id = o.id) AS n
               FROM organizations o
               JOIN memberships m ON m.organization_id = o.id AND m.role = 'sales'
               JOIN persons p ON p.id = m.person_id
               WHERE o.slug ~ ('^' || :tag || '-o[0-9]+$')
                 AND p.role_name ~ ('^' || :tag || '\\.o[0-9]+\\.sales$')
               ORDER BY o.slug"""
        ),
        {"tag": tag},
    ).all()
    if not rows or not (rows[0].description or "").startswith(MARKER):
        return None
    scale = Scale(**json.loads(rows[0].description[len(MARKER):]))
    orgs = [
        BenchOrg(i, r.id, r.slug, r.role_name, r.person_id, int(r.n))
        for i, r in enumerate(rows, start=1)
    ]
    return BenchData(tag=tag, password=password, scale=scale, orgs=orgs)


def main(argv: list[str] | None = None) -> int:
    defaults = Scale()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a superuser")
    parser.add_argument("--orgs", type=int, default=defaults.orgs)
    parser.add_argument("--big-projects", type=int, default=defaults.big_projects)
    parser.add_argument("--projects", type=int, default=defaults.projects)
    parser.add_argument("--activity", type=int, default=defaults.activity)
    parser.add_argument("--contacts", type=int, default=defaults.contacts)
    parser.add_argument("--big-contacts", type=int, default=defaults.big_contacts)
    parser.add_argument("--documents", type=int, default=defaults.documents)
    parser.add_argument("--big-documents", type=int, default=defaults.big_documents)
    parser.add_argument("--orders", type=int, default=defaults.orders)
    parser.add_argument("--big-orders", type=int, default=defaults.big_orders)
    parser.add_argument("--tag", default="bench", help="prefix of slugs and logins")
    parser.add_argument("--with-triggers", action="store_true",
                        help="keep the insert triggers on for projects and activity_log (slow)")
    args = parser.parse_args(argv)
    scale = Scale(orgs=args.orgs, big_projects=args.big_projects, projects=args.projects,
                  activity=args.activity, contacts=args.contacts, big_contacts=args.big_contacts,
                  documents=args.documents, big_documents=args.big_documents,
                  orders=args.orders, big_orders=args.big_orders)
    engine = create_engine(args.url, poolclass=pool.NullPool)
    try:
        if load(engine, tag=args.tag) is not None:
            print(f"This database already holds the data set {args.tag!r}.", file=sys.stderr)
            return 1
        data = generate(engine, scale, tag=args.tag, with_triggers=args.with_triggers)
    finally:
        engine.dispose()
    print(f"Done: {len(data.orgs)} organizations; big one {data.big.slug} "
          f"(login {data.big.username}, password {data.password!r}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
