"""Projects views at scale: the list, the filter, the board and the dashboard against their budgets.

    .venv/bin/python benchmarks/projects_views.py [--scale small|full] [--projects 100000]
        [--history 1000000] [--active 2000] [--contacts 5000] [--runs 20] [--keep] [--explain]
        [--no-save]

Budgets (issue 4), with 100,000 projects in one organization and 1,000,000 stage-history rows,
measured as a signed-in sales person (their own login, row level security applies) calling the
services exactly as the app does (``Workspace.read``: pooled connection, ``BEGIN READ ONLY``):

* projects list, first page (``services.projects.list_projects``), default filter and every
  sort key of ``SORTS`` in both directions: p95 <= 100 ms;
* a filter keystroke (a word typed letter by letter into ``ProjectFilter(text=...)``, one
  ``list_projects`` call per keystroke): p95 <= 150 ms over all keystrokes of the word;
* the board (``services.projects.load_board``) with ~2,000 active projects: p95 <= 300 ms;
* the dashboard (``services.dashboard.load_dashboard``): p95 <= 500 ms.

It starts a throwaway PostgreSQL cluster (``EmbeddedCluster``, fsync off) in a temp folder,
migrates a database, builds the data as the superuser in import mode (set-based SQL, see
``generate_org``), signs in through ``services.auth.sign_in`` with a server profile on the
cluster's socket, warms each case up once and times ``--runs`` calls. The first page's SQL is
also timed as the superuser (no RLS) for a baseline ratio. For every case over budget (every
case with ``--explain``) it prints ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statement of the
slowest call, run as the person. Results are printed as a table and saved as JSON in
benchmarks/results/. ``--keep`` keeps the cluster folder (stopped) for inspection.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy
from sqlalchemy import Connection, Engine, create_engine, event, pool, text

from factorypulse_desktop.data import migrate, people
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.runtime.embedded import ClusterSettings, EmbeddedCluster
from factorypulse_desktop.services import auth, dashboard, projects
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
DATABASE = "bench"
PASSWORD = "bench-password-2026"

BUDGET_LIST_MS = 100.0
BUDGET_KEYSTROKE_MS = 150.0
BUDGET_BOARD_MS = 300.0
BUDGET_DASHBOARD_MS = 500.0


@dataclass(frozen=True)
class Scale:
    projects: int = 100_000
    history: int = 1_000_000
    active: int = 2_000
    contacts: int = 5_000

    @property
    def second(self) -> Scale:
        """The small second organization: 2 % of the big one."""
        return Scale(projects=max(100, self.projects // 50), history=max(1_000, self.history // 50),
                     active=max(20, self.active // 20), contacts=max(50, self.contacts // 50))


SCALES = {
    "small": Scale(projects=5_000, history=50_000, active=500, contacts=1_000),
    "full": Scale(),
}

# The big organization's staff: the benchmark person is the first sales person.
BIG_STAFF = (
    [Role.SALES] * 6 + [Role.ENGINEERING] * 6 + [Role.PRODUCTION] * 6 + [Role.PROCUREMENT] * 5
    + [Role.QA] * 4 + [Role.MANAGEMENT] * 2 + [Role.ADMIN]
)
SMALL_STAFF = [Role.SALES, Role.ENGINEERING, Role.PRODUCTION, Role.PROCUREMENT, Role.MANAGEMENT]
FIRST_NAMES = ("Anna", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hiro", "Ines", "Jonas",
               "Kim", "Luis", "Maya", "Nils", "Olga")
LAST_NAMES = ("Becker", "Dubois", "Garcia", "Hale", "Jensen", "Keller", "Larsen", "Meyer",
              "Novak", "Okafor", "Patel", "Rossi", "Schmidt", "Tanaka", "Voss", "Weber", "Young")

# Words typed into the filter, letter by letter. The number prefix is this month's
# (P-YYMM...: projects created this month); "keystone" is in 1 customer name of 30.
TITLE_WORD = "bracket"
CUSTOMER_WORD = "keystone"


def number_word() -> str:
    return f"P-{dt.datetime.now(dt.UTC):%y%m}"


# --------------------------------------------------------------------------------------------
# The data: set-based SQL as the superuser, one transaction per organization
# --------------------------------------------------------------------------------------------
# Tables loaded with their user triggers off (see generate_org). Foreign-key checks stay on.
LOADED_TABLES = ("contacts", "projects", "project_stage_history", "project_sub_stage_progress",
                 "activity_log")
VACUUM_TABLES = ("organizations", "persons", "memberships", "contacts", "workflow_stages",
                 "workflow_sub_stages", *LOADED_TABLES[1:])

CONTACTS_SQL = """
INSERT INTO contacts (organization_id, type, company_name, contact_name, email, phone, city,
                      country, payment_terms, created_at, updated_at)
SELECT CAST(:org AS uuid),
       CAST(CASE WHEN g.i % 7 = 0 THEN 'supplier' ELSE 'customer' END AS contact_type),
       (ARRAY['Brandt', 'Keystone', 'Northwind', 'Summit', 'Cascade', 'Redline', 'Bluewater',
              'Ironclad', 'Midwest', 'Precision', 'Svea', 'Helios', 'Alpine', 'Nordic', 'Baltic',
              'Lumiere', 'Danube', 'Fixtec', 'Orion', 'Vulcan', 'Atlas', 'Meridian', 'Pioneer',
              'Granite', 'Harbor', 'Apex', 'Silverline', 'Falcon', 'Evergreen', 'Titan'])
           [1 + g.i % 30]
       || ' ' || (ARRAY['Metal', 'Plastics', 'Systems', 'Tools', 'Aero', 'Marine', 'Robotics',
                        'Energy', 'Medical', 'Automation', 'Motors', 'Instruments', 'Rail',
                        'Packaging'])[1 + (g.i / 30) % 14]
       || ' ' || (ARRAY['Inc.', 'GmbH', 'Ltd', 'SAS', 'AB', 'Co.', 'AG', 'LLC'])
           [1 + (g.i / 420) % 8]
       || CASE WHEN g.i >= 3360 THEN ' (' || (g.i / 3360 + 1) || ')' ELSE '' END,
       (ARRAY['Anna', 'Ben', 'Carla', 'David', 'Elena', 'Frank', 'Grace', 'Hiro', 'Ines',
              'Jonas', 'Kim', 'Luis'])[1 + g.i % 12]
       || ' ' || (ARRAY['Becker', 'Dubois', 'Garcia', 'Hale', 'Jensen', 'Keller', 'Larsen',
                        'Meyer', 'Novak', 'Okafor', 'Patel', 'Rossi', 'Schmidt', 'Tanaka',
                        'Voss'])[1 + (g.i / 12) % 15],
       'buyer' || g.i || '@customer' || (g.i % 97) || '.example',
       '+1 555 ' || lpad((g.i % 10000)::text, 4, '0'),
       (ARRAY['Detroit', 'Lyon', 'Stuttgart', 'Osaka', 'Monterrey', 'Gothenburg'])[1 + g.i % 6],
       (ARRAY['US', 'FR', 'DE', 'JP', 'MX', 'SE'])[1 + g.i % 6],
       'net 30', now() - interval '3 years', now() - random() * interval '700 days'
FROM generate_series(0, CAST(:contacts AS integer) - 1) AS g (i)
"""

# One row per project with its random draws and its fate. Created uniformly over the last two
# years, in the order of i (so the project numbers of a day follow i). The open ones (exactly
# :active active, then :on_hold on hold) are mostly recent: a project of age a days is open
# with a probability ~ (c/a)^2, so some old projects are still open (too long in stage,
# overdue). The others are completed (8 % cancelled). f: the stage a project ends in (the last,
# "Completed", for completed ones); skip/skipped_stage: one stage bypassed; ended_at: the last
# stage move (closed: completion or cancellation; open: stage_entered_at).
PLAN_SQL = """
CREATE TEMP TABLE pv_project ON COMMIT DROP AS
WITH base AS (
    SELECT g.i, gen_random_uuid() AS id,
           now() - interval '730 days' * (1 - (g.i - random()) / CAST(:n AS integer))
               AS created_at,
           random() AS r_open, random() AS r_status, random() AS r_stage, random() AS r_time,
           random() AS r_skip, random() AS r_back, random() AS r_due, random() AS r_upd,
           random() AS r_arch
    FROM generate_series(1, CAST(:n AS integer)) AS g (i)
), ranked AS (
    SELECT b.*, row_number() OVER (
               ORDER BY extract(epoch FROM now() - b.created_at) * sqrt(b.r_open), b.i)
               AS open_rank
    FROM base b
), with_status AS (
    SELECT r.*,
           CASE WHEN r.open_rank <= CAST(:active AS integer) THEN 'active'
                WHEN r.open_rank <= CAST(:active AS integer) + CAST(:on_hold AS integer)
                    THEN 'on_hold'
                WHEN r.r_status < 0.08 THEN 'cancelled'
                ELSE 'completed' END AS status
    FROM ranked r
), with_stage AS (
    SELECT w.*,
           CASE WHEN w.status = 'completed' THEN 8
                WHEN w.status = 'active'  -- more in the first stages (the board's columns)
                    THEN 1 + (w.r_stage > 0.22)::int + (w.r_stage > 0.37)::int
                         + (w.r_stage > 0.49)::int + (w.r_stage > 0.61)::int
                         + (w.r_stage > 0.71)::int + (w.r_stage > 0.81)::int
                         + (w.r_stage > 0.93)::int
                ELSE 1 + floor(w.r_stage * 7)::int END AS f
    FROM with_status w
), with_times AS (
    SELECT s.*,
           CASE WHEN s.f >= 3 AND s.r_skip < 0.05 THEN 1 ELSE 0 END AS skip,
           CASE WHEN s.f >= 3 AND s.r_skip < 0.05
                THEN 2 + floor(s.r_skip / 0.05 * (s.f - 2))::int ELSE 0 END AS skipped_stage,
           CASE WHEN s.f = 1 THEN s.created_at  -- never moved: only its "created" row
                WHEN s.status IN ('completed', 'cancelled')
                THEN s.created_at + least((now() - s.created_at) * 0.97,
                                          interval '1 day' * (8 + 140 * s.r_time ^ 2))
                ELSE s.created_at + (now() - s.created_at) * (0.15 + 0.8 * s.r_time)
                END AS ended_at
    FROM with_stage s
), with_archive AS (
    SELECT t.*,
           CASE WHEN t.status IN ('completed', 'cancelled')
                     AND t.ended_at < now() - interval '90 days' AND t.r_arch < 0.6
                THEN t.ended_at + interval '1 day' * (30 + 60 * t.r_arch) END AS archived_at
    FROM with_times t
)
SELECT a.*,
       CASE WHEN a.status IN ('completed', 'cancelled')
            THEN least(now(), coalesce(a.archived_at, a.ended_at) + interval '5 hours' * a.r_upd)
            ELSE a.ended_at + (now() - a.ended_at) * a.r_upd END AS updated_at,
       0 AS back_pairs
FROM with_archive a
"""

# If the history rows to place are odd in number, one more project bypasses a stage (a skip
# saves one row); back-and-forth moves come in pairs.
ONE_MORE_SKIP_SQL = """
UPDATE pv_project SET skip = 1, skipped_stage = 2
WHERE i = (SELECT min(i) FROM pv_project WHERE f >= 3 AND skip = 0)
"""

# :pairs back-and-forth moves (back to the previous stage with a reason, then forward again)
# shared between the projects past their first stage, weighted by r_back^3: most projects never
# go back, a few go back several times. Integer arithmetic on cumulative weights: exactly :pairs.
BACK_MOVES_SQL = """
UPDATE pv_project p SET back_pairs = d.pairs
FROM (
    SELECT y.i, (div(CAST(:pairs AS numeric) * y.cum, y.total)
                 - div(CAST(:pairs AS numeric) * (y.cum - y.w), y.total))::int AS pairs
    FROM (
        SELECT z.i, z.w, sum(z.w) OVER (ORDER BY z.i) AS cum, sum(z.w) OVER () AS total
        FROM (SELECT i, CASE WHEN f >= 2 THEN 1 + floor(1000 * r_back ^ 3)::numeric ELSE 0 END
                  AS w
              FROM pv_project) z
    ) y
    WHERE y.total > 0
) d
WHERE d.i = p.i
"""

# Project numbers P-YYMMDDNN as the app makes them (a day's sequence widens past 99), in the
# order of creation; titles from part, kind, material and quantity ("Bracket series, stainless
# steel (250 pcs)": each part word in 1 title of 20); customers skewed (a few big customers).
PROJECTS_SQL = """
INSERT INTO projects (id, organization_id, project_number, title, description, customer_id,
                      current_stage_id, status, priority_score, priority_level, estimated_value,
                      estimated_delivery_date, actual_delivery_date, source, tags,
                      stage_entered_at, project_type, created_by, assigned_to, intake_type,
                      intake_source, archived_at, created_at, updated_at, version)
SELECT p.id, CAST(:org AS uuid),
       'P-' || to_char(p.created_at AT TIME ZONE 'UTC', 'YYMMDD')
           || CASE WHEN p.day_seq < 100 THEN lpad(p.day_seq::text, 2, '0')
                   ELSE p.day_seq::text END,
       (ARRAY['Bracket', 'Housing', 'Frame', 'Gearbox', 'Manifold', 'Enclosure', 'Shaft',
              'Panel', 'Fixture', 'Conveyor', 'Valve body', 'Heat sink', 'Flange', 'Hinge',
              'Spindle', 'Coupling', 'Mounting plate', 'Impeller', 'Bushing', 'Chassis'])
           [1 + p.i % 20]
       || ' ' || (ARRAY['prototype', 'series', 'rework', 'retrofit', 'batch', 'assembly',
                        'kit', 'spare parts'])[1 + (p.i / 20) % 8]
       || ', ' || (ARRAY['aluminium', 'stainless steel', 'mild steel', 'titanium', 'ABS',
                         'brass'])[1 + (p.i / 160) % 6]
       || ' (' || (ARRAY[1, 2, 5, 10, 25, 50, 100, 250, 500, 1000])[1 + (p.i / 7) % 10]
       || ' pcs)',
       'Customer drawing rev ' || chr(65 + p.i % 5) || '; '
           || (ARRAY['tolerances per ISO 2768-m', 'anodized', 'powder coated', 'passivated',
                     'first article inspection required', 'material certificates 3.1'])
              [1 + p.i % 6],
       c.ids[1 + floor(cardinality(c.ids) * p.r_c ^ 1.7)::int],
       st.ids[p.f],
       CAST(p.status AS project_status),
       15 + 25 * p.prio + floor(p.r_p * 10)::int,
       CAST((ARRAY['low', 'medium', 'high', 'critical'])[1 + p.prio] AS priority_level),
       CASE WHEN p.r_v < 0.05 THEN NULL ELSE round((800 + 250000 * p.r_v ^ 3)::numeric, 2) END,
       CASE WHEN p.r_due < 0.08 THEN NULL
            WHEN p.status IN ('completed', 'cancelled')
                THEN CAST(p.created_at + (p.ended_at - p.created_at) * (0.8 + 0.45 * p.r_due)
                          + interval '2 days' AS date)
            ELSE CAST(p.created_at + interval '1 day' * (20 + 100 * p.r_due) AS date) END,
       CASE WHEN p.status = 'completed' THEN CAST(p.ended_at AS date) END,
       'import',
       ARRAY[(ARRAY['repeat', 'export', 'prototype', 'aerospace', 'medical', 'automotive',
                    'rush'])[1 + p.i % 7]],
       p.ended_at,
       (ARRAY['fabrication', 'manufacturing', 'system_build'])[1 + p.i % 3],
       pe.ids[1 + floor(cardinality(pe.ids) * p.r_a)::int],
       CASE WHEN p.r_b < 0.1 THEN NULL
            ELSE pe.ids[1 + floor(cardinality(pe.ids) * (p.r_b - 0.1) / 0.9)::int] END,
       CAST((ARRAY['rfq', 'purchase_order', 'project_idea', 'direct_request'])[1 + p.i % 4]
            AS intake_type),
       (ARRAY['email', 'portal', 'phone', 'api', 'walk_in'])[1 + (p.i / 4) % 5],
       p.archived_at, p.created_at, p.updated_at,
       p.f + 2 * p.back_pairs - p.skip
FROM (
    SELECT pv.*,
           row_number() OVER (PARTITION BY CAST(pv.created_at AT TIME ZONE 'UTC' AS date)
                              ORDER BY pv.i) AS day_seq,
           random() AS r_c, random() AS r_p, random() AS r_v, random() AS r_a, random() AS r_b,
           (random() > 0.3)::int + (random() > 0.65)::int + (random() > 0.8)::int AS prio
    FROM pv_project pv
) p
CROSS JOIN (SELECT array_agg(x.id ORDER BY x.id) AS ids FROM contacts x
            WHERE x.organization_id = CAST(:org AS uuid) AND x.type = 'customer') c
CROSS JOIN (SELECT CAST(:stages AS uuid[]) AS ids) st
CROSS JOIN (SELECT CAST(:persons AS uuid[]) AS ids) pe
"""

# Each project's moves: the base path 1, 2, ..., f (without the bypassed stage), and after
# entering stage pos (pos >= 2) its back-and-forth pairs: back to pos - 1, forward to pos again.
# Ordered by (pos, j, part); occurred_at from created_at to ended_at with random gaps (numeric:
# the last row is exactly at ended_at), so it increases per project; from_stage is the previous
# row's stage.
HISTORY_SQL = """
INSERT INTO project_stage_history (organization_id, project_id, from_stage_id, to_stage_id,
                                   transition, reason, comment, actor_id, occurred_at,
                                   created_at)
SELECT CAST(:org AS uuid), m.id, st.ids[m.from_stage], st.ids[m.stage], m.kind,
       CASE m.kind
           WHEN 'back' THEN (ARRAY['Customer sent a new drawing revision',
                                   'Supplier prices changed: quote needs rework',
                                   'QA found an open requirement',
                                   'Material not available: re-plan'])[1 + floor(random() * 4)::int]
           WHEN 'skip' THEN 'Repeat order: steps waived by sales' END,
       CASE WHEN m.kind = 'advance' AND random() < 0.2 THEN 'All steps done' END,
       pe.ids[1 + floor(cardinality(pe.ids) * random())::int],
       m.at, m.at
FROM (
    SELECT x.id, x.stage, x.from_stage,
           CASE WHEN x.from_stage IS NULL THEN 'created'
                WHEN x.stage < x.from_stage THEN 'back'
                WHEN x.stage = x.from_stage + 1 THEN 'advance'
                ELSE 'skip' END AS kind,
           x.created_at + (x.ended_at - x.created_at)
               * CAST(CASE WHEN x.total = 0 THEN 0 ELSE x.cum / x.total END AS float8) AS at
    FROM (
        SELECT y.*, lag(y.stage) OVER w AS from_stage, sum(y.gap) OVER w AS cum,
               sum(y.gap) OVER (PARTITION BY y.id) AS total
        FROM (
            SELECT p.id, p.created_at, p.ended_at, t.stage AS pos, 0 AS j, 0 AS part, t.stage,
                   CAST(CASE WHEN t.stage = 1 THEN 0 ELSE 0.2 + random() END AS numeric)
                       AS gap
            FROM pv_project p
            CROSS JOIN LATERAL generate_series(1, p.f) AS t (stage)
            WHERE NOT (p.skip = 1 AND t.stage = p.skipped_stage)
            UNION ALL
            SELECT p.id, p.created_at, p.ended_at, q.pos, q.j, k.part, q.pos - 2 + k.part,
                   CAST(0.2 + random() AS numeric)
            FROM pv_project p
            CROSS JOIN LATERAL (
                SELECT z.j, CASE WHEN p.skip = 1 AND z.pos = p.skipped_stage THEN z.pos + 1
                                 ELSE z.pos END AS pos
                FROM (SELECT g.j, 2 + floor(random() * (p.f - 1))::int AS pos
                      FROM generate_series(1, p.back_pairs) AS g (j) OFFSET 0) z
            ) q
            CROSS JOIN (VALUES (1), (2)) AS k (part)
            WHERE p.back_pairs > 0
        ) y
        WINDOW w AS (PARTITION BY y.id ORDER BY y.pos, y.j, y.part)
    ) x
) m
CROSS JOIN (SELECT CAST(:stages AS uuid[]) AS ids) st
CROSS JOIN (SELECT CAST(:persons AS uuid[]) AS ids) pe
"""

# The active projects' current stage: its sub-stages, the first 0-2 completed, the next in
# progress (1 in 10 blocked), the rest pending; 1 in :mine_every assigned to the benchmark person.
PROGRESS_SQL = """
INSERT INTO project_sub_stage_progress (organization_id, project_id, workflow_stage_id,
                                        sub_stage_id, status, started_at, completed_at,
                                        completed_by, assigned_to, created_at, updated_at)
SELECT CAST(:org AS uuid), p.id, ss.workflow_stage_id, ss.id, x.status,
       CASE WHEN x.status <> 'pending'
            THEN p.ended_at + (now() - p.ended_at) * 0.1 * ss.sub_stage_order END,
       CASE WHEN x.status = 'completed'
            THEN p.ended_at + (now() - p.ended_at) * (0.1 * ss.sub_stage_order + 0.05) END,
       CASE WHEN x.status = 'completed'
            THEN pe.ids[1 + floor(cardinality(pe.ids) * random())::int] END,
       CASE WHEN random() * CAST(:mine_every AS integer) < 1 THEN CAST(:me AS uuid)
            ELSE pe.ids[1 + floor(cardinality(pe.ids) * random())::int] END,
       p.ended_at, p.ended_at
FROM (SELECT pv.id, pv.f, pv.ended_at, floor(random() * 3)::int AS done,
             random() < 0.1 AS blocked
      FROM pv_project pv WHERE pv.status = 'active' OFFSET 0) p
CROSS JOIN (SELECT CAST(:stages AS uuid[]) AS ids) st
CROSS JOIN (SELECT CAST(:persons AS uuid[]) AS ids) pe
JOIN workflow_sub_stages ss
  ON ss.organization_id = CAST(:org AS uuid) AND ss.workflow_stage_id = st.ids[p.f]
 AND ss.is_active
CROSS JOIN LATERAL (
    SELECT CASE WHEN ss.sub_stage_order <= p.done THEN 'completed'
                WHEN ss.sub_stage_order = p.done + 1
                    THEN CASE WHEN p.blocked THEN 'blocked' ELSE 'in_progress' END
                ELSE 'pending' END AS status
) x
"""

# The activity log of the last 30 days: one line per stage move (the dashboard shows 20).
ACTIVITY_SQL = """
INSERT INTO activity_log (organization_id, actor_id, entity_type, entity_id, action,
                          description, project_id, occurred_at, created_at)
SELECT h.organization_id, h.actor_id, 'project', h.project_id,
       CASE WHEN h.transition = 'created' THEN 'project_created' ELSE 'stage_transition' END,
       p.project_number || ': ' || coalesce(fs.name || ' -> ', '') || ts.name,
       h.project_id, h.occurred_at, h.occurred_at
FROM project_stage_history h
JOIN projects p ON p.organization_id = h.organization_id AND p.id = h.project_id
JOIN workflow_stages ts ON ts.organization_id = h.organization_id AND ts.id = h.to_stage_id
LEFT JOIN workflow_stages fs
  ON fs.organization_id = h.organization_id AND fs.id = h.from_stage_id
WHERE h.organization_id = CAST(:org AS uuid) AND h.occurred_at > now() - interval '30 days'
"""

FACTS_SQL = """
SELECT (SELECT count(*) FROM projects WHERE organization_id = :org) AS projects,
       (SELECT count(*) FROM projects WHERE organization_id = :org AND status = 'active'
           AND archived_at IS NULL) AS active,
       (SELECT count(*) FROM projects WHERE organization_id = :org AND status = 'on_hold')
           AS on_hold,
       (SELECT count(*) FROM projects WHERE organization_id = :org AND archived_at IS NOT NULL)
           AS archived,
       (SELECT count(*) FROM project_stage_history WHERE organization_id = :org) AS history,
       (SELECT count(*) FROM project_stage_history WHERE organization_id = :org
           AND transition = 'back') AS back_moves,
       (SELECT count(*) FROM project_sub_stage_progress WHERE organization_id = :org)
           AS progress,
       (SELECT count(*) FROM project_sub_stage_progress WHERE organization_id = :org
           AND assigned_to = :me AND status IN ('pending', 'in_progress', 'blocked'))
           AS my_open_steps,
       (SELECT count(*) FROM contacts WHERE organization_id = :org) AS contacts,
       (SELECT count(*) FROM activity_log WHERE organization_id = :org) AS activity
"""

# Sanity: per project, occurred_at strictly increases and the last row is the current stage.
CONSISTENCY_SQL = """
SELECT count(*) FILTER (WHERE h.occurred_at <= h.prev_at) AS not_increasing,
       count(*) FILTER (WHERE h.last AND h.to_stage_id <> p.current_stage_id) AS wrong_last_stage,
       count(*) FILTER (WHERE h.last AND h.occurred_at <> p.stage_entered_at) AS wrong_entered_at
FROM (SELECT project_id, to_stage_id, occurred_at,
             lag(occurred_at) OVER w AS prev_at,
             row_number() OVER (PARTITION BY project_id ORDER BY occurred_at DESC, id DESC) = 1
                 AS last
      FROM project_stage_history WHERE organization_id = :org
      WINDOW w AS (PARTITION BY project_id ORDER BY occurred_at, id)) h
JOIN projects p ON p.organization_id = :org AND p.id = h.project_id
"""


@dataclass
class BenchOrg:
    id: uuid.UUID
    slug: str
    scale: Scale
    person_ids: list[uuid.UUID]
    usernames: list[str]
    stage_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def username(self) -> str:
        """The benchmark person: the first (a sales person)."""
        return self.usernames[0]

    @property
    def me(self) -> uuid.UUID:
        return self.person_ids[0]


@contextmanager
def _step(name: str, timings: dict[str, float], log: Callable[[str], None]) -> Iterator[None]:
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    timings[name] = round(timings.get(name, 0.0) + elapsed, 3)
    log(f"    {name}: {elapsed:.1f} s")


def create_org(conn: Connection, slug: str, name: str, staff: list[Role], scale: Scale
               ) -> BenchOrg:
    """The organization (default workflow by trigger) and its persons, with their logins."""
    org = people.create_organization(conn, slug, name)
    ids: list[uuid.UUID] = []
    names: list[str] = []
    prefix = slug.replace("-", "")
    for n, role in enumerate(staff, start=1):
        username = f"{prefix}.{role.value}{n:02d}"
        display = f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[n % len(LAST_NAMES)]}"
        ids.append(people.add_person(conn, org, username, role, PASSWORD, display_name=display,
                                     email=f"{username}@{slug}.example"))
        names.append(username)
    stages = conn.execute(
        text("SELECT id FROM workflow_stages WHERE organization_id = :org ORDER BY stage_order"),
        {"org": org.id},
    ).scalars().all()
    if len(stages) != 8:
        raise SystemExit(f"expected the default workflow's 8 stages, found {len(stages)}")
    return BenchOrg(org.id, slug, scale, ids, names, list(stages))


def generate_org(engine: Engine, org: BenchOrg, seed: float, timings: dict[str, float],
                 log: Callable[[str], None]) -> None:
    """Contacts, projects, their stage history, sub-stage progress and activity of `org`.

    One transaction, as the superuser, in import mode (``fp.import_mode = 'on'``: the owner
    writes the historical stage-history rows itself, the stage trigger adds none). The user
    triggers of the loaded tables are also off for the load (``DISABLE TRIGGER USER``,
    superuser only, turned on again in the same transaction; foreign-key checks stay on): with
    them on, each project insert would add sub-stage progress rows for its current stage,
    stamp ``stage_entered_at = now()`` and write a change_log row and a NOTIFY per row of every
    loaded table (1.1M+ rows here, ~0.8 ms per project measured in generate.py), none of which
    the views read. The rows those triggers would own are written here explicitly.
    """
    s = org.scale
    params: dict[str, Any] = {
        "org": org.id, "n": s.projects, "active": s.active, "on_hold": max(1, s.active // 10),
        "contacts": s.contacts, "stages": org.stage_ids, "persons": org.person_ids,
        "me": org.me, "mine_every": 8,
    }
    with engine.begin() as conn:
        # Before the session's first temp table: pv_project stays in memory.
        conn.execute(text("SELECT set_config('temp_buffers', '64MB', true)"))
        conn.execute(text("SELECT set_config('fp.import_mode', 'on', true)"))
        conn.execute(text("SELECT set_config('synchronous_commit', 'on', true)"))  # see VACUUM
        conn.execute(text("SELECT set_config('work_mem', '256MB', true)"))
        conn.execute(text("SELECT setseed(:seed)"), {"seed": seed})
        for table in LOADED_TABLES:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        with _step("contacts", timings, log):
            conn.execute(text(CONTACTS_SQL), params)
        with _step("project plan", timings, log):
            conn.execute(text(PLAN_SQL), params)
            base = int(conn.execute(text("SELECT sum(f - skip) FROM pv_project")).scalar_one())
            rest = s.history - base
            if rest < 0:
                log(f"    note: {s.history} history rows are fewer than the {base} the paths "
                    "need; no back moves")
            elif rest % 2:
                conn.execute(text(ONE_MORE_SKIP_SQL))
                rest += 1
            conn.execute(text(BACK_MOVES_SQL), {"pairs": max(rest, 0) // 2})
        with _step("projects", timings, log):
            conn.execute(text(PROJECTS_SQL), params)
        with _step("stage history", timings, log):
            conn.execute(text(HISTORY_SQL), params)
        with _step("sub-stage progress", timings, log):
            conn.execute(text(PROGRESS_SQL), params)
        with _step("activity log", timings, log):
            conn.execute(text(ACTIVITY_SQL), params)
        for table in LOADED_TABLES:
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def build_data(url: str, scale: Scale, log: Callable[[str], None]
               ) -> tuple[BenchOrg, BenchOrg, dict[str, float], dict[str, Any]]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        log(f"Generating: big organization {asdict(scale)}, second {asdict(scale.second)}")
        with _step("organizations and persons", timings, log), engine.begin() as conn:
            big = create_org(conn, "pv-big", "Big Job Shop", BIG_STAFF, scale)
            small = create_org(conn, "pv-small", "Small Job Shop", SMALL_STAFF, scale.second)
        log(f"  {big.slug}:")
        generate_org(engine, big, 0.2611, timings, log)
        log(f"  {small.slug}:")
        generate_org(engine, small, 0.1125, timings, log)
        # VACUUM sets the visibility map as autovacuum would on a live database (index-only
        # scans then skip the heap); ANALYZE gives the planner the real distribution.
        # synchronous_commit on (the cluster runs with it off): VACUUM may mark a page
        # all-visible only when the commit of the rows' transaction is flushed, as recorded
        # for its group of 32 transaction ids, which an asynchronous commit right after (the
        # ANALYZE of the previous table) leaves unflushed for up to 0.6 s. With it off, VACUUM
        # marked no page all-visible and the dashboard's index-only scans read every heap row.
        with (
            _step("vacuum analyze", timings, log),
            engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn,
        ):
            conn.execute(text("SET synchronous_commit = on"))
            conn.execute(text(f"VACUUM (ANALYZE) {', '.join(VACUUM_TABLES)}"))
        timings["total"] = round(time.perf_counter() - started, 3)
        log(f"  generation total: {timings['total']:.1f} s")
        with engine.connect() as conn:
            facts = {}
            for org in (big, small):
                row = conn.execute(text(FACTS_SQL), {"org": org.id, "me": org.me}).one()
                facts[org.slug] = dict(row._mapping)
            check = conn.execute(text(CONSISTENCY_SQL), {"org": big.id}).one()
            facts["consistency_big"] = dict(check._mapping)
            facts["pages_all_visible"] = {
                r.relname: f"{r.relallvisible}/{r.relpages}" for r in conn.execute(text(
                    "SELECT relname, relallvisible, relpages FROM pg_class "
                    "WHERE relname = ANY (:tables) AND relkind = 'r' ORDER BY relname"),
                    {"tables": list(LOADED_TABLES)})}
    finally:
        engine.dispose()
    return big, small, timings, facts


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------
@dataclass
class Statement:
    sql: str
    params: Any
    ms: float


class Recorder:
    """Every statement a service sends on an engine (cursor execute time), while recording."""

    def __init__(self, engine: Engine) -> None:
        self.active = False
        self.statements: list[Statement] = []
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, _conn: Any, _cursor: Any, _statement: str, _parameters: Any,
                _context: Any, _executemany: bool) -> None:
        if self.active:
            self._started = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, parameters: Any,
               _context: Any, _executemany: bool) -> None:
        if self.active:
            params = dict(parameters) if isinstance(parameters, Mapping) else parameters
            self.statements.append(
                Statement(statement, params, (time.perf_counter() - self._started) * 1000))

    @contextmanager
    def record(self) -> Iterator[list[Statement]]:
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


@dataclass
class Outcome:
    name: str
    group: str
    budget_ms: float
    times_ms: list[float]
    result: str  # what the last call returned, in words
    statements_per_call: int
    slowest: Statement | None  # the slowest statement of the slowest call
    breakdown: list[Statement] = field(default_factory=list)  # the slowest call's statements
    work_mem: str | None = None  # the transaction's work_mem, for EXPLAIN (dashboard)
    keystrokes: list[dict[str, Any]] = field(default_factory=list)
    plan: str | None = None
    prepared: dict[str, Any] | None = None

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return percentile(self.times_ms, 95)

    @property
    def max(self) -> float:
        return max(self.times_ms)

    @property
    def passed(self) -> bool:
        return self.p95 <= self.budget_ms

def p95(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and p95 of `fn` in ms, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2], times[max(0, int(len(times) * 0.95) - 1)]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(recorder: Recorder, name: str, group: str, budget_ms: float,
            call: Callable[[], str], runs: int, *, work_mem: str | None = None) -> Outcome:
    """One warm-up call, then `runs` timed calls (wall clock around the service call)."""
    call()
    times: list[float] = []
    worst: list[Statement] = []
    result = ""
    for _ in range(runs):
        with recorder.record() as statements:
            started = time.perf_counter()
            result = call()
            elapsed = (time.perf_counter() - started) * 1000
        if not times or elapsed > max(times):
            worst = list(statements)
        times.append(elapsed)
    slowest = max(worst, key=lambda s: s.ms) if worst else None
    return Outcome(name, group, budget_ms, times, result, len(worst), slowest, worst, work_mem)


def measure_typing(recorder: Recorder, ws: Workspace, org: uuid.UUID, word: str, runs: int,
                   *, label: str | None = None, base: projects.ProjectFilter | None = None
                   ) -> Outcome:
    """Type `word` letter by letter, one list_projects call per keystroke; the first round
    warms up, then `runs` rounds are timed."""
    base = base or projects.ProjectFilter()
    prefixes = [word[:n] for n in range(1, len(word) + 1)]
    per_key: dict[str, list[float]] = {p: [] for p in prefixes}
    rows: dict[str, int] = {}
    worst_ms = -1.0
    slowest: Statement | None = None
    for round_no in range(runs + 1):
        for prefix in prefixes:
            flt = replace(base, text=prefix)
            with recorder.record() as statements:
                started = time.perf_counter()
                page = projects.list_projects(ws, org, flt)
                elapsed = (time.perf_counter() - started) * 1000
            rows[prefix] = len(page.rows)
            if round_no == 0:
                continue
            per_key[prefix].append(elapsed)
            if elapsed > worst_ms and statements:
                worst_ms, slowest = elapsed, max(statements, key=lambda s: s.ms)
    times = [t for p in prefixes for t in per_key[p]]
    outcome = Outcome(label or f"typing {word!r}", "filter", BUDGET_KEYSTROKE_MS, times,
                      f"{len(prefixes)} keystrokes, {rows[word]} rows at the end", 1, slowest)
    outcome.keystrokes = [
        {"text": p, "rows": rows[p], "p50": statistics.median(per_key[p]),
         "p95": percentile(per_key[p], 95), "max": max(per_key[p])}
        for p in prefixes
    ]
    return outcome


def _server_text(sql: str) -> str:
    """The text psycopg prepares: %(name)s placeholders become $1, $2, ... in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql).replace("%%", "%")


def plan_cache(conn: Connection, sql: str) -> dict[str, int] | None:
    """How often the session's prepared statement of `sql` used a generic or a custom plan
    (psycopg prepares a statement on the server after 5 runs; the server may then switch to a
    generic plan); None when it is not prepared in this session."""
    row = conn.exec_driver_sql(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement = %(s)s", {"s": _server_text(sql)},
    ).first()
    return {"generic_plans": int(row[0]), "custom_plans": int(row[1])} if row else None


def generic_plan(conn: Connection, sql: str) -> str:
    """The generic plan (PostgreSQL 16+) the prepared statement may run, without ANALYZE."""
    rows = conn.exec_driver_sql("EXPLAIN (GENERIC_PLAN) " + _server_text(sql)).all()
    return "\n".join(r[0] for r in rows)


def explain_as_person(ws: Workspace, outcome: Outcome) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the outcome's slowest statement, as the person, in a
    read-only transaction like the service's (a custom plan for these values); and, when the
    session's prepared statement has used generic plans, the generic plan too."""
    statement = outcome.slowest
    if statement is None:
        return

    def run(conn: Connection) -> tuple[str, dict[str, int] | None]:
        cache = plan_cache(conn, statement.sql)
        if outcome.work_mem:
            conn.execute(text("SELECT set_config('work_mem', :v, true)"), {"v": outcome.work_mem})
        plan = _explain(conn, statement)
        if cache and cache["generic_plans"]:
            plan += ("\n-- the generic plan the prepared statement used "
                     f"({cache['generic_plans']} times):\n" + generic_plan(conn, statement.sql))
        return plan, cache

    outcome.plan, outcome.prepared = ws.read(run)


def first_words(sql: str, n: int = 12) -> str:
    """A statement in a few words, for the per-statement breakdown."""
    return " ".join(sql.split()[:n])


def owner_baseline(recorder: Recorder, ws: Workspace, owner_engine: Engine,
                   owner_recorder: Recorder, statement: Statement, runs: int
                   ) -> dict[str, Any]:
    """The first page's statement as the person (in Workspace.read) and as the superuser (no
    RLS), interleaved; statement execute times only."""
    person_ms: list[float] = []
    owner_ms: list[float] = []
    with owner_engine.connect() as owner:
        for round_no in range(runs + 1):
            with recorder.record() as mine:
                ws.read(lambda c: c.exec_driver_sql(statement.sql, statement.params).all())
            with owner_recorder.record() as theirs, owner.begin():
                owner.exec_driver_sql(statement.sql, statement.params).all()
            if round_no:
                person_ms.append(mine[-1].ms)
                owner_ms.append(theirs[-1].ms)
        with owner.begin():
            owner_cache = plan_cache(owner, statement.sql)
            owner_plan = _explain(owner, statement)
    person_cache = ws.read(lambda c: plan_cache(c, statement.sql))
    person_plan = ws.read(lambda c: _explain(c, statement))
    person, owner_p50 = statistics.median(person_ms), statistics.median(owner_ms)
    return {"person_p50": person, "person_p95": percentile(person_ms, 95),
            "owner_p50": owner_p50, "owner_p95": percentile(owner_ms, 95),
            "ratio": person / owner_p50 if owner_p50 else float("inf"),
            "overhead_ms": person - owner_p50, "person_plan": person_plan,
            "owner_plan": owner_plan, "person_plan_cache": person_cache,
            "owner_plan_cache": owner_cache}


def _explain(conn: Connection, statement: Statement) -> str:
    rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement.sql,
                                statement.params).all()
    return "\n".join(r[0] for r in rows)


def run_cases(ws: Workspace, org: BenchOrg, runs: int, log: Callable[[str], None]
              ) -> tuple[list[Outcome], Recorder]:
    recorder = Recorder(ws.engine)
    outcomes: list[Outcome] = []

    def page_call(sort: projects.Sort) -> Callable[[], str]:
        def call() -> str:
            page = projects.list_projects(ws, org.id, sort=sort)
            return f"{len(page.rows)} rows"
        return call

    log("\n== projects list, first page (default filter: active, not archived)")
    for key in projects.SORTS:
        for descending in (True, False):
            sort = projects.Sort(key, descending)
            name = f"list sort={key} {'desc' if descending else 'asc'}"
            outcome = measure(recorder, name, "list", BUDGET_LIST_MS, page_call(sort), runs)
            outcomes.append(outcome)
            log(f"   {name:32} p50 {outcome.p50:7.1f} ms  p95 {outcome.p95:7.1f} ms  "
                f"max {outcome.max:7.1f} ms  {outcome.result}")

    log("\n== filter: typing letter by letter (one list_projects call per keystroke)")
    everything = projects.ProjectFilter(statuses=(), include_archived=True)
    for word, label, base in (
        (TITLE_WORD, None, None),
        (number_word(), None, None),
        (CUSTOMER_WORD, None, None),
        (CUSTOMER_WORD, f"typing {CUSTOMER_WORD!r}, all statuses + archived", everything),
    ):
        outcome = measure_typing(recorder, ws, org.id, word, runs, label=label, base=base)
        outcomes.append(outcome)
        log(f"   {outcome.name:32} p50 {outcome.p50:7.1f} ms  p95 {outcome.p95:7.1f} ms  "
            f"max {outcome.max:7.1f} ms  {outcome.result}")

    log("\n== board")

    def board_call() -> str:
        columns = projects.load_board(ws, org.id)
        cards = sum(len(c.cards) for c in columns)
        total = sum(c.total for c in columns)
        return f"{len(columns)} columns, {cards} cards of {total} projects"

    outcome = measure(recorder, "board", "board", BUDGET_BOARD_MS, board_call, runs)
    outcomes.append(outcome)
    log(f"   board  p50 {outcome.p50:7.1f} ms  p95 {outcome.p95:7.1f} ms  "
        f"max {outcome.max:7.1f} ms  {outcome.result}")

    log("\n== dashboard")

    def dashboard_call() -> str:
        d = dashboard.load_dashboard(ws, org.id)
        return (f"{sum(s.projects for s in d.stage_distribution)} open, "
                f"{len(d.action_items)} actions, {len(d.my_tasks)} tasks, "
                f"{sum(s.stays for s in d.time_in_stage)} stays, "
                f"{sum(w.completed for w in d.weekly_throughput)} completed")

    outcome = measure(recorder, "dashboard", "dashboard", BUDGET_DASHBOARD_MS, dashboard_call,
                      runs, work_mem=dashboard.WORK_MEM)
    outcomes.append(outcome)
    log(f"   dashboard  p50 {outcome.p50:7.1f} ms  p95 {outcome.p95:7.1f} ms  "
        f"max {outcome.max:7.1f} ms  {outcome.result}")
    return outcomes, recorder


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
def print_table(outcomes: list[Outcome], baseline: dict[str, Any] | None,
                log: Callable[[str], None]) -> None:
    header = ("case", "p50", "p95", "max", "budget (p95)", "stmts", "result", "returned")
    rows = [header]
    for o in outcomes:
        rows.append((o.name, f"{o.p50:.1f} ms", f"{o.p95:.1f} ms", f"{o.max:.1f} ms",
                     f"<= {o.budget_ms:.0f} ms", str(o.statements_per_call),
                     "PASS" if o.passed else "FAIL", o.result))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    log("")
    for k, row in enumerate(rows):
        log("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            log("  ".join("-" * w for w in widths))
    if baseline:
        log(f"\nbaseline, first page's SQL (sort=updated desc), statement time: person "
            f"p50 {baseline['person_p50']:.2f} ms (p95 {baseline['person_p95']:.2f}), "
            f"superuser without RLS p50 {baseline['owner_p50']:.2f} ms "
            f"(p95 {baseline['owner_p95']:.2f}): {baseline['ratio']:.2f}x, "
            f"{baseline['overhead_ms']:+.2f} ms")
        for side in ("person", "owner"):
            log(f"  {side}'s prepared statement: {baseline[f'{side}_plan_cache']}; "
                "EXPLAIN (ANALYZE, BUFFERS):\n    "
                + baseline[f"{side}_plan"].replace("\n", "\n    "))
    for o in outcomes:
        if not o.keystrokes:
            continue
        log(f"\n{o.name}: per keystroke (p50 / p95 / max, rows on the first page)")
        for key in o.keystrokes:
            log(f"   {key['text']!r:12} {key['p50']:7.1f} / {key['p95']:7.1f} / "
                f"{key['max']:7.1f} ms   {key['rows']} rows")


def environment(url: str) -> dict[str, Any]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            settings: dict[str, str] = {r[0]: r[1] for r in conn.execute(text(
                "SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers', "
                "'work_mem', 'jit', 'fsync', 'random_page_cost', 'effective_cache_size', "
                "'plan_cache_mode', 'max_parallel_workers_per_gather')"))}
    finally:
        engine.dispose()
    return {"server_version": version, "settings": settings,
            "python": platform.python_version(), "psycopg": psycopg.__version__,
            "sqlalchemy": sqlalchemy.__version__, "cpus": os.cpu_count(),
            "loadavg_start": os.getloadavg()}


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------
@contextmanager
def throwaway_cluster(keep: bool, log: Callable[[str], None], *, database: str = DATABASE,
                      max_connections: int = 100,
                      prefix: str = "fp-pviews-") -> Iterator[EmbeddedCluster]:
    """A private cluster in a temp folder with an empty `database`, stopped at the end (and
    removed unless `keep`)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    # mkdtemp makes a 0700 folder; as root, PostgreSQL runs as an unprivileged user who must be
    # able to traverse it to reach the cluster inside.
    root.chmod(0o711)
    try:
        cluster = EmbeddedCluster(root / "cluster", settings=ClusterSettings(
            fsync=False, max_connections=max_connections))
        started = time.perf_counter()
        cluster.ensure_initialized()
        cluster.start()
        log(f"Started a throwaway cluster in {root} ({time.perf_counter() - started:.1f} s)")
        try:
            with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{database}"')
            yield cluster
        finally:
            cluster.stop()
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def keep_note(cluster: EmbeddedCluster) -> str:
    return (f"Kept the cluster (stopped) in {cluster.root}. Start it with\n"
            f"  .venv/bin/python -c \"from pathlib import Path; from "
            f"factorypulse_desktop.runtime.embedded import EmbeddedCluster; "
            f"c = EmbeddedCluster(Path('{cluster.root}')); c.start(); "
            f"print(c.conninfo('{DATABASE}'))\"\n"
            f"and connect with that string (persons: user pvbig.sales01 ..., password "
            f"{PASSWORD!r}); stop it the same way (c.stop()) and remove {cluster.root.parent} "
            "when done.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="full",
                        help="small: 5k projects / 50k history (< 1 min); full: the issue's")
    parser.add_argument("--projects", type=int, help="projects of the big organization")
    parser.add_argument("--history", type=int, help="its stage-history rows")
    parser.add_argument("--active", type=int, help="its active, not archived projects")
    parser.add_argument("--contacts", type=int, help="its contacts")
    parser.add_argument("--runs", type=int, default=20, help="timed calls per case")
    parser.add_argument("--keep", action="store_true", help="keep the cluster folder")
    parser.add_argument("--explain", action="store_true",
                        help="print the plan of every case's slowest statement, not only failures")
    parser.add_argument("--no-save", action="store_true", help="do not write the JSON file")
    args = parser.parse_args(argv)
    defaults = SCALES[args.scale]
    scale = Scale(
        projects=args.projects if args.projects is not None else defaults.projects,
        history=args.history if args.history is not None else defaults.history,
        active=args.active if args.active is not None else defaults.active,
        contacts=args.contacts if args.contacts is not None else defaults.contacts,
    )
    if scale.projects < 100 or not 1 <= scale.active <= scale.projects * 0.8 \
            or scale.contacts < 30 or args.runs < 1:
        parser.error("need >= 100 projects, 1 to 80 % of them active, >= 30 contacts, runs >= 1")

    def log(message: str) -> None:
        print(message, flush=True)

    started = time.perf_counter()
    with throwaway_cluster(args.keep, log) as cluster:
        url = cluster.url(DATABASE)
        t = time.perf_counter()
        migrate.upgrade(url)
        log(f"Migrated ({time.perf_counter() - t:.1f} s)")
        big, _second, timings, facts = build_data(url, scale, log)
        for slug, values in facts.items():
            log(f"  {slug}: " + ", ".join(f"{k} {v}" for k, v in values.items()))
        env = environment(url)
        log(f"PostgreSQL {env['server_version']}, load average {env['loadavg_start']}; "
            f"signing in as {big.username} (sales, {big.slug}); warm-up 1 + {args.runs} runs "
            "per case")
        profile = ConnectionProfile(name="benchmark", kind="server", host=str(cluster.socket_dir),
                                    port=cluster.port, database=DATABASE, sslmode="disable")
        ws = auth.sign_in(profile, big.username, PASSWORD)
        owner_engine = create_engine(url, poolclass=pool.NullPool)
        try:
            outcomes, recorder = run_cases(ws, big, args.runs, log)
            first = outcomes[0]
            baseline = None
            if first.slowest is not None:
                baseline = owner_baseline(recorder, ws, owner_engine, Recorder(owner_engine),
                                          first.slowest, args.runs)
            for o in outcomes:
                if args.explain or not o.passed:
                    explain_as_person(ws, o)
        finally:
            ws.close()
            owner_engine.dispose()
    env["loadavg_end"] = os.getloadavg()

    print_table(outcomes, baseline, log)
    for o in outcomes:
        if o.plan is None or o.slowest is None:
            continue
        log(f"\n-- {o.name} ({'PASS' if o.passed else 'FAIL'}): slowest statement of the slowest "
            f"call ({o.slowest.ms:.1f} ms of {o.max:.1f} ms); prepared statement's plans in the "
            f"session: {o.prepared or 'not prepared'}\n{o.slowest.sql.strip()}\n"
            f"params: {o.slowest.params}\nEXPLAIN (ANALYZE, BUFFERS) as {big.username}:\n{o.plan}")
        if len(o.breakdown) > 1:
            log(f"-- {o.name}: the slowest call's statements (cursor execute times)")
            for st in o.breakdown:
                log(f"   {st.ms:7.1f} ms  {first_words(st.sql)}")
    failed = [o.name for o in outcomes if not o.passed]
    total = time.perf_counter() - started
    log(f"\nGeneration {timings['total']:.1f} s; total {total:.1f} s; load average at the end "
        f"{env['loadavg_end']}")
    log("All budgets PASS" if not failed else f"FAIL: {', '.join(failed)}")
    if args.keep:
        log(keep_note(cluster))
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = RESULTS_DIR / f"{stamp}-projects-views-{args.scale}.json"
        path.write_text(json.dumps({
            "benchmark": "projects_views",
            "scale_name": args.scale,
            "scale": asdict(scale),
            "second_org": asdict(scale.second),
            "runs": args.runs,
            "generation_timings_s": timings,
            "data": facts,
            "environment": env,
            "person": big.username,
            "baseline_first_page": baseline,
            "results": [
                {"case": o.name, "group": o.group, "budget_p95_ms": o.budget_ms,
                 "p50_ms": round(o.p50, 3), "p95_ms": round(o.p95, 3), "max_ms": round(o.max, 3),
                 "pass": o.passed, "returned": o.result, "statements": o.statements_per_call,
                 "times_ms": [round(t, 3) for t in o.times_ms], "keystrokes": o.keystrokes,
                 "slowest_statement": (
                     {"sql": o.slowest.sql, "params": o.slowest.params, "ms": o.slowest.ms}
                     if o.slowest else None),
                 "prepared": o.prepared, "plan": o.plan,
                 "slowest_call_statements": [
                     {"ms": round(st.ms, 3), "sql": first_words(st.sql, 30)} for st in o.breakdown]}
                for o in outcomes
            ],
            "total_s": round(total, 1),
        }, indent=2, default=str))
        log(f"Saved {path}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
