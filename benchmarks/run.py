"""Benchmark runner: how much row level security costs on the hottest queries.

    python benchmarks/run.py [--url URL] [--scale small|full] [--scenario rls_cost ...]

Without --url it starts a throwaway PostgreSQL cluster of its own (EmbeddedCluster, fsync off)
in a temp folder, creates and migrates a database, generates the data set of --scale, runs the
scenarios and removes the cluster. With --url (a superuser's SQLAlchemy URL of a database) it
migrates that database, reuses the data set already there (same --tag and scale) or generates
it, and leaves everything in place.

Each scenario runs the same query as the big organization's PERSON (their own login, RLS
applies, with the explicit ``organization_id = :org`` filter the app adds) and as the
SUPERUSER (no RLS, the same filter written by hand), interleaved, and compares the medians.
It also checks the person's plan: every policy helper (``fp_private.*``) runs in an InitPlan,
once per statement, and the table is read through an index whose first column is
organization_id. Results are printed as a table and saved as JSON in benchmarks/results/.

Scenarios: rls_cost (projects list page: first, deep keyset, by stage), rls_cost_activity
(project timeline), rls_cost_search (trigram and full-text search, and the same searches through
the definer function fp_private.search_candidates), palette (the Ctrl+K search,
services.search.search(), keystroke by keystroke, as the person), rls_helpers (each policy
helper alone, informational). See benchmarks/README.md.
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
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import psycopg.sql
from psycopg.conninfo import make_conninfo
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from factorypulse_desktop.services import search as palette_search

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import generate as gen  # noqa: E402

RESULTS_DIR = HERE / "results"
SCALES: dict[str, gen.Scale] = {
    "small": gen.Scale(orgs=3, big_projects=5_000, projects=1_000, activity=50_000, contacts=50,
                       big_contacts=2_500, documents=500, big_documents=10_000, orders=50,
                       big_orders=1_000),
    # The scale: 20 orgs; 100k projects, 50k contacts and 200k documents in one; 1M
    # activity rows.
    "full": gen.Scale(),
}
BUDGET_RATIO = 1.3  # person p50 / owner p50
PALETTE_BUDGET_P95_MS = 100.0  # per keystroke, services.search.search() as the person
PAGE = 200

PROJECT_COLUMNS = (
    "id, project_number, title, status, priority_level, current_stage_id, customer_id, updated_at"
)
PROJECTS_FIRST_PAGE = f"""SELECT {PROJECT_COLUMNS} FROM projects
WHERE organization_id = %(org)s
ORDER BY updated_at DESC, id DESC LIMIT {PAGE}"""
PROJECTS_KEYSET_PAGE = f"""SELECT {PROJECT_COLUMNS} FROM projects
WHERE organization_id = %(org)s AND (updated_at, id) < (%(t)s, %(id)s)
ORDER BY updated_at DESC, id DESC LIMIT {PAGE}"""
PROJECTS_BY_STAGE = f"""SELECT {PROJECT_COLUMNS} FROM projects
WHERE organization_id = %(org)s AND current_stage_id = %(stage)s
ORDER BY updated_at DESC, id DESC LIMIT {PAGE}"""
PROJECTS_SEARCH_TITLE = f"""SELECT {PROJECT_COLUMNS} FROM projects
WHERE organization_id = %(org)s AND title ILIKE %(pattern)s
ORDER BY updated_at DESC, id DESC LIMIT 50"""
PROJECTS_SEARCH_FTS = f"""SELECT {PROJECT_COLUMNS} FROM projects
WHERE organization_id = %(org)s AND search_text @@ plainto_tsquery('simple', %(q)s)
ORDER BY updated_at DESC, id DESC LIMIT 50"""
# The same project searches through the palette's definer function (migration 20261125_0002):
# candidate ids from the trigram indexes, rows through the RLS-protected table.
PROJECTS_SEARCH_DEFINER = f"""SELECT {PROJECT_COLUMNS} FROM projects
WHERE organization_id = %(org)s AND id IN (
    SELECT s.id FROM fp_private.search_candidates(%(q)s, %(org)s, 50, '{{project}}') s)
ORDER BY updated_at DESC, id DESC LIMIT 50"""
ACTIVITY_TIMELINE = """SELECT id, occurred_at, action, description, actor_id, entity_type, entity_id
FROM activity_log
WHERE organization_id = %(org)s AND project_id = %(p)s
ORDER BY occurred_at DESC LIMIT 50"""


# --------------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------------
def conninfo_from_url(url: str, *, user: str | None = None, password: str | None = None) -> str:
    """A libpq string for a SQLAlchemy URL, optionally as another user."""
    u = make_url(url)

    def query(name: str) -> str | None:
        value = u.query.get(name)
        if isinstance(value, tuple):
            value = value[0] if value else None
        return value

    params: dict[str, str] = {}
    host = query("host") or u.host
    port = query("port") or (str(u.port) if u.port else None)
    for key, value in (
        ("host", host), ("port", port), ("dbname", u.database),
        ("user", user or u.username), ("password", password if user else u.password),
    ):
        if value:
            params[key] = str(value)
    return make_conninfo("", **params)


def connect(conninfo: str, *, prepare: str = "auto") -> psycopg.Connection[Any]:
    """Autocommit: each query is its own transaction, as a one-statement unit of work.

    prepare="auto" keeps psycopg's default prepare_threshold (5), as under SQLAlchemy: after 5
    runs the statement is prepared on the server, which may then switch to a generic plan.
    prepare="never" sends every query unprepared, so each run gets a custom plan.
    """
    return psycopg.connect(
        conninfo, autocommit=True, application_name="factorypulse-bench",
        prepare_threshold=None if prepare == "never" else 5,
    )


# --------------------------------------------------------------------------------------------
# Plan checks
# --------------------------------------------------------------------------------------------
_HELPER_RE = re.compile(r"fp_private\.\w+\(")


@dataclass
class PlanCheck:
    """What the person's plan shows about the policies and the index."""

    initplan_helpers: list[str] = field(default_factory=list)  # fp_private calls in InitPlans
    initplan_max_loops: int = 0  # > 1 would mean an InitPlan re-run (it should not be)
    per_row_helpers: list[str] = field(default_factory=list)  # calls outside InitPlans: bad
    scans: list[dict[str, Any]] = field(default_factory=list)  # scans of the main table
    # "tenant": scans use an index led by organization_id. "trigram" (definer variants): the
    # scans inside fp_private.search_candidates are bitmaps of a GIN trigram index.
    rule: str = "tenant"

    @property
    def initplan_ok(self) -> bool:
        return bool(self.initplan_helpers) and not self.per_row_helpers \
            and self.initplan_max_loops <= 1

    @property
    def index_ok(self) -> bool:
        key = "trigram_index" if self.rule == "trigram" else "tenant_index"
        return bool(self.scans) and all(s[key] for s in self.scans)

    @property
    def ok(self) -> bool:
        return self.initplan_ok and self.index_ok

    def problems(self) -> list[str]:
        out = []
        if not self.initplan_helpers:
            out.append("no InitPlan calls a policy helper")
        if self.per_row_helpers:
            out.append(f"helpers evaluated outside an InitPlan: {self.per_row_helpers}")
        if self.initplan_max_loops > 1:
            out.append(f"an InitPlan ran {self.initplan_max_loops} times")
        if not self.scans:
            out.append("no scan of the main table found")
        for scan in self.scans:
            if self.rule == "trigram" and not scan["trigram_index"]:
                out.append(
                    f"{scan['node']} on {scan['relation']} via {scan['indexes'] or 'no index'} "
                    "inside the definer function is not a bitmap of a GIN trigram index"
                )
            elif self.rule == "tenant" and not scan["tenant_index"]:
                out.append(
                    f"{scan['node']} on {scan['relation']} via {scan['indexes'] or 'no index'} "
                    f"(leading columns {scan['leading']}) does not use an index led by "
                    "organization_id with organization_id in its condition"
                )
        return out

    def summary(self) -> str:
        helpers = sorted({h.removeprefix("fp_private.").rstrip("(") for h in self.initplan_helpers})
        indexes = sorted({i for s in self.scans for i in s["indexes"]})
        removed = sum(int(s["rows_removed_by_filter"] or 0) for s in self.scans)
        what = "trigram index in the function" if self.rule == "trigram" else "tenant index"
        return (
            f"InitPlan {'yes' if self.initplan_ok else 'NO'} ({', '.join(helpers) or '-'}); "
            f"{what} {'yes' if self.index_ok else 'NO'} ({', '.join(indexes) or '-'}); "
            f"rows removed by the scan's filter: {removed}"
        )


def _own_text(node: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in node.items() if k != "Plans"})


def _bitmap_indexes(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for child in node.get("Plans", []):
        if child.get("Node Type") == "Bitmap Index Scan":
            out.append(child)
        out.extend(_bitmap_indexes(child))
    return out


def leading_column(conn: psycopg.Connection[Any], index: str) -> str | None:
    row = conn.execute(
        """SELECT a.attname FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid
           LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
           WHERE i.relname = %s AND i.relnamespace = 'public'::regnamespace""",
        (index,),
    ).fetchone()
    return row[0] if row else None


def check_plan(conn: psycopg.Connection[Any], plan: dict[str, Any], table: str,
               *, inner: list[dict[str, Any]] | None = None) -> PlanCheck:
    """Check an ``EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON)`` plan of `table`'s query.

    With `inner` (the plans of the statements run inside fp_private.search_candidates, from
    :func:`definer_plans`), the query is a definer variant: its one call of the search
    function (a Function Scan, run once) is allowed, and the scans checked are those of
    `table` inside the function, which must be GIN trigram bitmaps.
    """
    check = PlanCheck(rule="tenant" if inner is None else "trigram")

    def walk(node: dict[str, Any], in_initplan: bool) -> None:
        in_initplan = in_initplan or node.get("Parent Relationship") == "InitPlan"
        calls = _HELPER_RE.findall(_own_text(node))
        if inner is not None and node.get("Node Type") == "Function Scan":
            calls = [c for c in calls if c != "fp_private.search_candidates("]
            check.initplan_max_loops = max(check.initplan_max_loops,
                                           int(node.get("Actual Loops", 1)))
        if in_initplan:
            check.initplan_helpers.extend(calls)
            if calls:
                check.initplan_max_loops = max(check.initplan_max_loops,
                                               int(node.get("Actual Loops", 1)))
        else:
            check.per_row_helpers.extend(calls)
            if (inner is None and node.get("Relation Name") == table
                    and "Scan" in node.get("Node Type", "")):
                check.scans.append(_scan_info(conn, node))
        for child in node.get("Plans", []):
            walk(child, in_initplan)

    walk(plan["Plan"], False)
    for statement in inner or []:
        if f"FROM public.{table} " not in statement.get("Query Text", ""):
            continue
        check.per_row_helpers.extend(_HELPER_RE.findall(json.dumps(statement["Plan"])))
        for node in _relation_scans(statement["Plan"], table):
            check.scans.append(_scan_info(conn, node))
    return check


def _relation_scans(node: dict[str, Any], table: str) -> list[dict[str, Any]]:
    found = [node] if node.get("Relation Name") == table and "Scan" in node["Node Type"] else []
    for child in node.get("Plans", []):
        found.extend(_relation_scans(child, table))
    return found


def _scan_info(conn: psycopg.Connection[Any], node: dict[str, Any]) -> dict[str, Any]:
    if node["Node Type"] == "Bitmap Heap Scan":
        parts = [(b["Index Name"], b.get("Index Cond", "")) for b in _bitmap_indexes(node)]
    elif "Index Name" in node:
        parts = [(node["Index Name"], node.get("Index Cond", ""))]
    else:
        parts = []
    leading = {name: leading_column(conn, name) for name, _ in parts}
    tenant = any(
        leading[name] == "organization_id" and "organization_id" in cond for name, cond in parts
    )
    trigram = node["Node Type"] == "Bitmap Heap Scan" and bool(parts) and all(
        index_method(conn, name) == "gin" and "~~*" in cond for name, cond in parts
    )
    return {
        "node": node["Node Type"],
        "relation": node["Relation Name"],
        "indexes": [name for name, _ in parts],
        "leading": leading,
        "tenant_index": tenant,
        "trigram_index": trigram,
        "rows": node.get("Actual Rows"),
        "rows_removed_by_filter": node.get("Rows Removed by Filter", 0),
    }


def index_method(conn: psycopg.Connection[Any], index: str) -> str | None:
    row = conn.execute(
        "SELECT a.amname FROM pg_class i JOIN pg_am a ON a.oid = i.relam "
        "WHERE i.relname = %s AND i.relnamespace = 'public'::regnamespace", (index,),
    ).fetchone()
    return row[0] if row else None


def definer_plans(owner_info: str, username: str, sql: str,
                  params: dict[str, Any]) -> list[dict[str, Any]]:
    """JSON plans (with ANALYZE) of `sql` run as `username` and of every statement run inside
    it, e.g. in fp_private.search_candidates, which EXPLAIN cannot show: auto_explain reports
    them as NOTICEs. The superuser loads auto_explain, then becomes the person for the session
    (SET SESSION AUTHORIZATION, so session_user, which the identity helpers read, is them)."""
    plans: list[dict[str, Any]] = []

    def on_notice(diag: psycopg.errors.Diagnostic) -> None:
        body = (diag.message_primary or "").partition("plan:\n")[2]
        if body:
            plans.append(json.loads(body))

    with psycopg.connect(owner_info, autocommit=True) as conn:
        conn.add_notice_handler(on_notice)
        for setting in (
            "LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
            "SET auto_explain.log_nested_statements = on", "SET auto_explain.log_analyze = on",
            "SET auto_explain.log_buffers = on", "SET auto_explain.log_format = json",
            "SET auto_explain.log_level = notice", "SET client_min_messages = notice",
        ):
            conn.execute(setting)
        conn.execute(psycopg.sql.SQL("SET SESSION AUTHORIZATION {}").format(
            psycopg.sql.Identifier(username)))
        conn.execute(sql, params).fetchall()  # warm the session's caches first
        plans.clear()
        conn.execute(sql, params).fetchall()
    return plans


def plan_cache(conn: psycopg.Connection[Any], sql: str) -> dict[str, int] | None:
    """How often the server used a generic or a custom plan for psycopg's prepared `sql`."""
    row = conn.execute(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement = %s", (_server_text(sql),), prepare=False,
    ).fetchone()
    return {"generic_plans": int(row[0]), "custom_plans": int(row[1])} if row else None


def _delta(after: dict[str, int] | None, before: dict[str, int] | None) -> dict[str, int] | None:
    if after is None:
        return None
    return {k: v - (before or {}).get(k, 0) for k, v in after.items()}


def _server_text(sql: str) -> str:
    """The statement text psycopg sends: %(name)s placeholders become $1, $2, ... in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql)


def generic_plan_summary(conn: psycopg.Connection[Any], sql: str) -> str | None:
    """The generic plan of `sql` (PostgreSQL 16+), as the prepared statement may use it."""
    if conn.info.server_version < 160000:
        return None
    cur = conn.execute(f"EXPLAIN (GENERIC_PLAN, FORMAT JSON) {_server_text(sql)}",
                       prepare=False)
    value = cur.fetchone()[0]  # type: ignore[index]
    return scan_summary((json.loads(value) if isinstance(value, str) else value)[0])


def scan_summary(plan: dict[str, Any]) -> str:
    """Node types and indexes of a JSON plan, top-down: `Limit > Index Scan (idx)`."""
    out: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Parent Relationship") == "InitPlan" and not str(
                node.get("Subplan Name", "")).startswith("CTE"):
            return
        label = node["Node Type"]
        if "Index Name" in node:
            label += f" ({node['Index Name']})"
        out.append(label)
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return " > ".join(out)


def explain(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any],
            options: str) -> Any:
    cur = conn.execute(f"EXPLAIN ({options}) {sql}", params, prepare=False)
    rows = cur.fetchall()
    if "JSON" in options:
        value = rows[0][0]
        return (json.loads(value) if isinstance(value, str) else value)[0]
    return "\n".join(r[0] for r in rows)


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------
def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 4),
        "p95": round(percentile(values, 95), 4),
        "mean": round(statistics.fmean(values), 4),
        "min": round(min(values), 4),
        "n": len(values),
    }


def _run_once(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> tuple[float, int]:
    started = time.perf_counter()
    rows = conn.execute(sql, params).fetchall()
    return (time.perf_counter() - started) * 1000, len(rows)


def time_pair(person: psycopg.Connection[Any], owner: psycopg.Connection[Any], sql: str,
              params: dict[str, Any], *, warmup: int, repeat: int,
              owner_query: tuple[str, dict[str, Any]] | None = None,
              ) -> tuple[list[float], list[float], int, int]:
    """Interleaved timings (ms) of `sql` as the person and as the owner (or of `owner_query`,
    the owner's equivalent, when the person's statement differs)."""
    owner_sql, owner_params = owner_query or (sql, params)
    queries = {id(person): (sql, params), id(owner): (owner_sql, owner_params)}
    for _ in range(warmup):
        _run_once(person, sql, params)
        _run_once(owner, owner_sql, owner_params)
    person_ms: list[float] = []
    owner_ms: list[float] = []
    person_rows = owner_rows = 0
    for i in range(repeat):
        # Alternate who goes first, so neither side always runs on a warmer cache.
        order = ((person, person_ms), (owner, owner_ms))
        for conn, out in order if i % 2 == 0 else reversed(order):
            ms, n = _run_once(conn, *queries[id(conn)])
            out.append(ms)
            if conn is person:
                person_rows = n
            else:
                owner_rows = n
    return person_ms, owner_ms, person_rows, owner_rows


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------
@dataclass
class Variant:
    name: str
    table: str
    sql: str
    params: dict[str, Any]
    # The owner's equivalent when the person's query differs (definer variants: the person
    # goes through fp_private.search_candidates, the owner uses the plain ILIKE query).
    owner_sql: str | None = None
    owner_params: dict[str, Any] | None = None

    @property
    def definer(self) -> bool:
        return self.owner_sql is not None


@dataclass
class Context:
    data: gen.BenchData
    owner: psycopg.Connection[Any]
    person: psycopg.Connection[Any]
    warmup: int
    repeat: int
    log: Callable[[str], None]
    url: str = ""  # the superuser's SQLAlchemy URL
    owner_info: str = ""  # the superuser's libpq string


def rls_cost_variants(ctx: Context) -> list[Variant]:
    org = ctx.data.big.id
    n = ctx.data.big.projects
    # A deep page: the last row of the page before the middle of the list is the keyset.
    offset = max((n // 2) // PAGE * PAGE - 1, 0)
    t, last_id = ctx.owner.execute(
        "SELECT updated_at, id FROM projects WHERE organization_id = %s "
        "ORDER BY updated_at DESC, id DESC OFFSET %s LIMIT 1", (org, offset)
    ).fetchone() or (None, None)
    stage = ctx.owner.execute(
        "SELECT id FROM workflow_stages WHERE organization_id = %s ORDER BY stage_order "
        "OFFSET 2 LIMIT 1", (org,)
    ).fetchone()
    assert stage is not None and t is not None
    return [
        Variant("first_page", "projects", PROJECTS_FIRST_PAGE, {"org": org}),
        Variant(f"keyset_page_{(offset + 1) // PAGE + 1}", "projects", PROJECTS_KEYSET_PAGE,
                {"org": org, "t": t, "id": last_id}),
        Variant("by_stage", "projects", PROJECTS_BY_STAGE, {"org": org, "stage": stage[0]}),
    ]


def rls_cost_activity_variants(ctx: Context) -> list[Variant]:
    org = ctx.data.big.id
    rows = ctx.owner.execute(
        "SELECT project_number, id FROM projects WHERE organization_id = %s "
        "AND project_number = ANY (%s)",
        (org, ["B-0000001", f"B-{ctx.data.big.projects // 2:07d}"]),
    ).fetchall()
    ids = dict(rows)
    return [
        Variant("hot_project", "activity_log", ACTIVITY_TIMELINE,
                {"org": org, "p": ids["B-0000001"]}),
        Variant("typical_project", "activity_log", ACTIVITY_TIMELINE,
                {"org": org, "p": ids[f"B-{ctx.data.big.projects // 2:07d}"]}),
    ]


def rls_cost_search_variants(ctx: Context) -> list[Variant]:
    org = ctx.data.big.id
    row = ctx.owner.execute(
        "SELECT title FROM projects WHERE organization_id = %s AND project_number = %s",
        (org, f"B-{ctx.data.big.projects * 3 // 4:07d}"),
    ).fetchone()
    assert row is not None
    rare = row[0]  # one project's whole title: the "type a name you know" search
    return [
        Variant("title_rare", "projects", PROJECTS_SEARCH_TITLE,
                {"org": org, "pattern": f"%{rare}%"}),
        Variant("title_common", "projects", PROJECTS_SEARCH_TITLE,
                {"org": org, "pattern": "%gearbox%"}),
        Variant("fulltext_rare", "projects", PROJECTS_SEARCH_FTS, {"org": org, "q": rare}),
        # The same two title searches, the person's through the definer function.
        Variant("definer_title_rare", "projects", PROJECTS_SEARCH_DEFINER,
                {"org": org, "q": rare}, PROJECTS_SEARCH_TITLE,
                {"org": org, "pattern": f"%{rare}%"}),
        Variant("definer_title_common", "projects", PROJECTS_SEARCH_DEFINER,
                {"org": org, "q": "gearbox"}, PROJECTS_SEARCH_TITLE,
                {"org": org, "pattern": "%gearbox%"}),
    ]


SCENARIOS: dict[str, tuple[str, Callable[[Context], list[Variant]]]] = {
    "rls_cost": ("projects list page as the person vs the owner", rls_cost_variants),
    "rls_cost_activity": ("project timeline (activity_log) as the person vs the owner",
                          rls_cost_activity_variants),
    "rls_cost_search": ("project search (trigram ILIKE, tsvector; and through the definer "
                        "function) as the person vs the owner", rls_cost_search_variants),
}

# Policy helpers timed one by one as the person (informational, no budget): what each adds to
# a statement whose policy evaluates it.
HELPER_CALLS = (
    "SELECT 1",
    "SELECT fp_private.my_person_id()",
    "SELECT fp_private.my_org_ids()",
    "SELECT fp_private.my_internal_org_ids()",
    "SELECT fp_private.my_org_ids_with_role('{admin,management}'::user_role[])",
    "SELECT fp_private.my_portal_contact_ids()",
    "SELECT fp_private.my_portal_project_ids()",
    "SELECT fp_private.my_assigned_project_ids()",
    "SELECT fp_private.my_responsible_stage_ids()",
    "SELECT fp_private.my_colleague_ids()",
)


def helper_costs(ctx: Context) -> dict[str, Any]:
    ctx.log("\n== rls_helpers: each policy helper called alone as the person (informational)")
    rows = []
    for sql in HELPER_CALLS:
        for _ in range(ctx.warmup):
            _run_once(ctx.person, sql, {})
        times = [_run_once(ctx.person, sql, {})[0] for _ in range(ctx.repeat)]
        rows.append({"sql": sql, "ms": stats(times)})
        ctx.log(f"   {stats(times)['p50']:.3f} ms p50  {sql}")
    return {"scenario": "rls_helpers", "description": "policy helpers one by one (no budget)",
            "info": True, "helpers": rows, "pass": True}


def palette_keystrokes(data: gen.BenchData) -> list[str]:
    """Typing a word letter by letter, a project number's prefix, and a rare word."""
    number = f"B-{data.big.projects * 3 // 4:07d}"  # B-0075000 at full scale
    return ["b", "br", "bra", "brac", "brack", "bracket", number[:6], number[:7],
            gen.RARE_WORD.lower()]


def palette(ctx: Context) -> dict[str, Any]:
    """services.search.search() as the big organization's person, keystroke by keystroke.

    Each timed round types the whole series in order (as a person types), on the person's own
    SQLAlchemy connection, one transaction per keystroke. Budget: p95 <= 100 ms per keystroke.
    """
    ctx.log(f"\n== palette: services.search.search() as {ctx.data.big.username}, keystroke by "
            f"keystroke (budget p95 <= {PALETTE_BUDGET_P95_MS:.0f} ms)")
    url = make_url(ctx.url).set(username=ctx.data.big.username, password=ctx.data.password)
    engine = create_engine(url, poolclass=pool.NullPool)
    keys = palette_keystrokes(ctx.data)
    org = ctx.data.big.id
    times: dict[str, list[float]] = {k: [] for k in keys}
    hits: dict[str, list[palette_search.SearchHit]] = {}
    try:
        with engine.connect() as conn:
            for round_no in range(ctx.warmup + ctx.repeat):
                for key in keys:
                    started = time.perf_counter()
                    found = palette_search.search(conn, org, key)
                    elapsed = (time.perf_counter() - started) * 1000
                    conn.rollback()
                    if round_no >= ctx.warmup:
                        times[key].append(elapsed)
                    hits[key] = found
    finally:
        engine.dispose()
    rows = []
    for key in keys:
        kinds: dict[str, int] = {}
        for hit in hits[key]:
            kinds[hit.kind] = kinds.get(hit.kind, 0) + 1
        plans = definer_plans(
            ctx.owner_info, ctx.data.big.username,
            "SELECT * FROM fp_private.search_candidates(%(q)s, %(org)s, 5)", {"q": key, "org": org},
        )
        inner = []
        for plan in plans:
            kind = re.search(r"SELECT '(\w+)'::text", plan.get("Query Text", ""))
            if kind:
                inner.append({"kind": kind[1], "plan": scan_summary(plan),
                              "ms": round(float(plan["Plan"].get("Actual Total Time", 0)), 3)})
        total = next((p["Plan"].get("Actual Total Time") for p in plans
                      if "search_candidates" in p.get("Query Text", "")), None)
        st = stats(times[key])
        rows.append({"keystroke": key, "ms": st, "hits": kinds, "function_ms": total,
                     "inner": inner, "pass": st["p95"] <= PALETTE_BUDGET_P95_MS})
        ctx.log(f"   {key!r:12} p50 {st['p50']:7.2f} ms  p95 {st['p95']:7.2f} ms  "
                f"max {max(times[key]):7.2f} ms  hits {kinds}")
        for part in inner:
            ctx.log(f"      {part['kind']:17} {part['ms']:7.3f} ms  {part['plan']}")
    return {"scenario": "palette", "description": "services.search.search() per keystroke",
            "budget_p95_ms": PALETTE_BUDGET_P95_MS, "keystrokes": rows,
            "pass": all(r["pass"] for r in rows)}


def print_palette(results: list[dict[str, Any]], log: Callable[[str], None]) -> None:
    for scenario in results:
        if scenario["scenario"] != "palette":
            continue
        log("\npalette keystroke   p50         p95         budget      hits                result")
        for r in scenario["keystrokes"]:
            hits = sum(r["hits"].values())
            log(f"{r['keystroke']!r:19} {r['ms']['p50']:7.2f} ms  {r['ms']['p95']:7.2f} ms  "
                f"<= {scenario['budget_p95_ms']:.0f} ms   {hits:<19} "
                f"{'PASS' if r['pass'] else 'FAIL'}")


ALL_SCENARIOS = [*SCENARIOS, "palette", "rls_helpers"]


def run_scenario(name: str, ctx: Context) -> dict[str, Any]:
    description, make_variants = SCENARIOS[name]
    ctx.log(f"\n== {name}: {description}")
    results = []
    for variant in make_variants(ctx):
        before = {"person": plan_cache(ctx.person, variant.sql),
                  "owner": plan_cache(ctx.owner, variant.owner_sql or variant.sql)}
        owner_sql = variant.owner_sql or variant.sql
        owner_params = variant.owner_params or variant.params
        person_ms, owner_ms, person_rows, owner_rows = time_pair(
            ctx.person, ctx.owner, variant.sql, variant.params,
            warmup=ctx.warmup, repeat=ctx.repeat, owner_query=(owner_sql, owner_params),
        )
        plan_text = explain(ctx.person, variant.sql, variant.params, "ANALYZE, BUFFERS")
        plan_json = explain(ctx.person, variant.sql, variant.params,
                            "ANALYZE, BUFFERS, VERBOSE, FORMAT JSON")
        inner = None
        if variant.definer:
            inner = definer_plans(ctx.owner_info, ctx.data.big.username, variant.sql,
                                  variant.params)
            inner = [p for p in inner if "WITH found" in p.get("Query Text", "")]
        check = check_plan(ctx.person, plan_json, variant.table, inner=inner)
        owner_plan = explain(ctx.owner, owner_sql, owner_params, "ANALYZE, BUFFERS, FORMAT JSON")
        caches = {
            "person": _delta(plan_cache(ctx.person, variant.sql), before["person"]),
            "owner": _delta(plan_cache(ctx.owner, owner_sql), before["owner"]),
        }
        person, owner = stats(person_ms), stats(owner_ms)
        ratio = person["p50"] / owner["p50"] if owner["p50"] else float("inf")
        passed = ratio <= BUDGET_RATIO and check.ok and person_rows == owner_rows
        ctx.log(f"\n-- {name}/{variant.name}: EXPLAIN (ANALYZE, BUFFERS) as "
                f"{ctx.data.big.username}\n{plan_text}")
        ctx.log(f"   plan check: {check.summary()}")
        ctx.log(f"   person plan: {scan_summary(plan_json)}")
        for statement in inner or []:
            ctx.log(f"   inside the function: {scan_summary(statement)}")
        ctx.log(f"   owner plan:  {scan_summary(owner_plan)}")
        ctx.log(f"   server plans used by the prepared statement in warm-up + timed runs: {caches}")
        generic = {
            side: generic_plan_summary(conn, sql)
            for side, conn, sql in (("person", ctx.person, variant.sql),
                                    ("owner", ctx.owner, owner_sql))
            if (caches[side] or {}).get("generic_plans")
        }
        for side, summary in generic.items():
            ctx.log(f"   {side}'s generic plan: {summary}")
        for problem in check.problems():
            ctx.log(f"   PROBLEM: {problem}")
        if person_rows != owner_rows:
            ctx.log(f"   PROBLEM: the person got {person_rows} rows, the owner {owner_rows}")
        results.append({
            "variant": variant.name,
            "sql": variant.sql,
            "owner_sql": owner_sql,
            "rows": {"person": person_rows, "owner": owner_rows},
            "person_ms": person,
            "owner_ms": owner,
            "ratio_p50": round(ratio, 3),
            "overhead_p50_ms": round(person["p50"] - owner["p50"], 4),
            "budget_ratio": BUDGET_RATIO,
            "plan": {
                "initplan": check.initplan_ok,
                "tenant_index": check.index_ok,
                "initplan_helpers": sorted({h.rstrip("(") for h in check.initplan_helpers}),
                "per_row_helpers": [h.rstrip("(") for h in check.per_row_helpers],
                "scans": check.scans,
                "inside_function": [scan_summary(p) for p in inner or []],
                "problems": check.problems(),
                "text": plan_text,
                "person_summary": scan_summary(plan_json),
                "owner_summary": scan_summary(owner_plan),
                "owner_execution_ms": owner_plan.get("Execution Time"),
                "person_execution_ms": plan_json.get("Execution Time"),
                "plan_cache": caches,
                "generic_plans": generic,
            },
            "pass": passed,
        })
    return {"scenario": name, "description": description, "variants": results,
            "pass": all(r["pass"] for r in results)}


def print_table(results: list[dict[str, Any]], log: Callable[[str], None]) -> None:
    header = ("scenario/variant", "person p50", "p95", "owner p50 (baseline)", "p95", "ratio",
              "+ms", "budget", "InitPlan", "org index", "result")
    rows = [header]
    for scenario in results:
        for r in scenario.get("variants", []):
            rows.append((
                f"{scenario['scenario']}/{r['variant']}",
                f"{r['person_ms']['p50']:.3f} ms", f"{r['person_ms']['p95']:.3f} ms",
                f"{r['owner_ms']['p50']:.3f} ms", f"{r['owner_ms']['p95']:.3f} ms",
                f"{r['ratio_p50']:.2f}x", f"{r['overhead_p50_ms']:+.3f}",
                f"<= {r['budget_ratio']}x",
                "yes" if r["plan"]["initplan"] else "NO",
                "yes" if r["plan"]["tenant_index"] else "NO",
                "PASS" if r["pass"] else "FAIL",
            ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    log("")
    for k, row in enumerate(rows):
        log("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if k == 0:
            log(line)


# --------------------------------------------------------------------------------------------
# Setup: a cluster of our own, or the database given by --url
# --------------------------------------------------------------------------------------------
@contextmanager
def throwaway_database(log: Callable[[str], None]) -> Iterator[str]:
    """A private cluster in a temp folder with an empty database `bench`; yields its URL."""
    from factorypulse_desktop.runtime.embedded import ClusterSettings, EmbeddedCluster

    root = Path(tempfile.mkdtemp(prefix="fp-bench-"))
    # mkdtemp makes a 0700 folder; when we are root, PostgreSQL runs as an unprivileged user
    # who must be able to traverse it (not list it) to reach the cluster folder inside.
    root.chmod(0o711)
    try:
        cluster = EmbeddedCluster(root / "cluster", settings=ClusterSettings(fsync=False))
        started = time.perf_counter()
        cluster.ensure_initialized()
        cluster.start()
        log(f"Started a throwaway cluster in {root} ({time.perf_counter() - started:.1f} s)")
        try:
            with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as admin:
                admin.execute('CREATE DATABASE "bench"')
            yield cluster.url("bench")
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def prepare_data(url: str, scale: gen.Scale, tag: str, log: Callable[[str], None]
                 ) -> gen.BenchData:
    from factorypulse_desktop.data import migrate

    started = time.perf_counter()
    migrate.upgrade(url)
    log(f"Migrated ({time.perf_counter() - started:.1f} s)")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        existing = gen.load(engine, tag=tag)
        if existing is not None:
            if existing.scale != scale:
                raise SystemExit(
                    f"This database holds the data set {tag!r} at another scale "
                    f"({existing.scale}); use a fresh database or another --tag."
                )
            log(f"Reusing the data set {tag!r} already in the database")
            return existing
        return gen.generate(engine, scale, tag=tag, log=log)
    finally:
        engine.dispose()


def environment(owner: psycopg.Connection[Any]) -> dict[str, Any]:
    settings = dict(owner.execute(
        "SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', "
        "'jit', 'fsync', 'random_page_cost', 'effective_cache_size', 'plan_cache_mode')"
    ).fetchall())
    try:
        commit = subprocess.run(
            ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=False, timeout=10,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "server_version": owner.execute("SHOW server_version").fetchone()[0],  # type: ignore[index]
        "settings": settings,
        "python": platform.python_version(),
        "psycopg": psycopg.__version__,
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "git_commit": commit,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="superuser SQLAlchemy URL; default: a throwaway cluster")
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--scenario", action="append", choices=ALL_SCENARIOS,
                        help="repeatable; default: all")
    parser.add_argument("--repeat", type=int, default=300, help="timed runs per side (>= 200)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--tag", default="bench", help="data set tag (slugs and logins)")
    parser.add_argument("--prepare", choices=("auto", "never"), default="auto",
                        help="auto: psycopg's default server-side prepare after 5 runs (as the "
                        "app); never: every run planned afresh (custom plans on both sides)")
    parser.add_argument("--no-save", action="store_true", help="do not write the JSON file")
    args = parser.parse_args(argv)
    if args.repeat < 200:
        parser.error("--repeat must be at least 200")
    scenarios = args.scenario or ALL_SCENARIOS
    scale = SCALES[args.scale]

    def log(message: str) -> None:
        print(message, flush=True)

    started = time.perf_counter()
    with throwaway_database(log) if args.url is None else _given(args.url) as url:
        data = prepare_data(url, scale, args.tag, log)
        owner_info = conninfo_from_url(url)
        person_info = conninfo_from_url(url, user=data.big.username, password=data.password)
        with (
            connect(owner_info, prepare=args.prepare) as owner,
            connect(person_info, prepare=args.prepare) as person,
        ):
            env = environment(owner)
            log(f"PostgreSQL {env['server_version']}, load average {env['loadavg_start']}, "
                f"big organization {data.big.slug} ({data.big.projects} projects), "
                f"person {data.big.username}; {args.warmup} warm-up + {args.repeat} timed runs "
                f"per side; prepare={args.prepare}")
            ctx = Context(data, owner, person, args.warmup, args.repeat, log, url, owner_info)
            results = [
                helper_costs(ctx) if name == "rls_helpers"
                else palette(ctx) if name == "palette"
                else run_scenario(name, ctx)
                for name in scenarios
            ]
    env["loadavg_end"] = os.getloadavg()
    print_table(results, log)
    print_palette(results, log)
    total = time.perf_counter() - started
    log(f"\nTotal {total:.1f} s; load average at the end {env['loadavg_end']}")
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = RESULTS_DIR / f"{stamp}-{args.scale}.json"
        path.write_text(json.dumps({
            "scale_name": args.scale,
            "scale": asdict(scale),
            "url_given": args.url is not None,
            "generation_timings_s": data.timings,
            "environment": env,
            "warmup": args.warmup,
            "prepare": args.prepare,
            "repeat": args.repeat,
            "total_s": round(total, 1),
            "results": results,
        }, indent=2, default=str))
        log(f"Saved {path}")
    return 0 if all(r["pass"] for r in results) else 1


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    raise SystemExit(main())
