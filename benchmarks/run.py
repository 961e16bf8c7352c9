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
(project timeline), rls_cost_search (trigram and full-text search), rls_helpers (each policy
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
from psycopg.conninfo import make_conninfo
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import generate as gen  # noqa: E402

RESULTS_DIR = HERE / "results"
SCALES: dict[str, gen.Scale] = {
    "small": gen.Scale(orgs=3, big_projects=5_000, projects=1_000, activity=50_000, contacts=50),
    "full": gen.Scale(),  # the scale: 20 orgs, 100k projects in one, 1M activity rows
}
BUDGET_RATIO = 1.3  # person p50 / owner p50
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

    @property
    def initplan_ok(self) -> bool:
        return bool(self.initplan_helpers) and not self.per_row_helpers \
            and self.initplan_max_loops <= 1

    @property
    def index_ok(self) -> bool:
        return bool(self.scans) and all(s["tenant_index"] for s in self.scans)

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
            if not scan["tenant_index"]:
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
        return (
            f"InitPlan {'yes' if self.initplan_ok else 'NO'} ({', '.join(helpers) or '-'}); "
            f"tenant index {'yes' if self.index_ok else 'NO'} ({', '.join(indexes) or '-'}); "
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


def check_plan(conn: psycopg.Connection[Any], plan: dict[str, Any], table: str) -> PlanCheck:
    """Check an ``EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON)`` plan of `table`'s query."""
    check = PlanCheck()

    def walk(node: dict[str, Any], in_initplan: bool) -> None:
        in_initplan = in_initplan or node.get("Parent Relationship") == "InitPlan"
        calls = _HELPER_RE.findall(_own_text(node))
        if in_initplan:
            check.initplan_helpers.extend(calls)
            if calls:
                check.initplan_max_loops = max(check.initplan_max_loops,
                                               int(node.get("Actual Loops", 1)))
        else:
            check.per_row_helpers.extend(calls)
            if node.get("Relation Name") == table and "Scan" in node.get("Node Type", ""):
                check.scans.append(_scan_info(conn, node))
        for child in node.get("Plans", []):
            walk(child, in_initplan)

    walk(plan["Plan"], False)
    return check


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
    return {
        "node": node["Node Type"],
        "relation": node["Relation Name"],
        "indexes": [name for name, _ in parts],
        "leading": leading,
        "tenant_index": tenant,
        "rows": node.get("Actual Rows"),
        "rows_removed_by_filter": node.get("Rows Removed by Filter", 0),
    }


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
        if node.get("Parent Relationship") == "InitPlan":
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
              params: dict[str, Any], *, warmup: int, repeat: int
              ) -> tuple[list[float], list[float], int, int]:
    """Interleaved timings (ms) of `sql` as the person and as the owner."""
    for _ in range(warmup):
        _run_once(person, sql, params)
        _run_once(owner, sql, params)
    person_ms: list[float] = []
    owner_ms: list[float] = []
    person_rows = owner_rows = 0
    for i in range(repeat):
        # Alternate who goes first, so neither side always runs on a warmer cache.
        order = ((person, person_ms), (owner, owner_ms))
        for conn, out in order if i % 2 == 0 else reversed(order):
            ms, n = _run_once(conn, sql, params)
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


@dataclass
class Context:
    data: gen.BenchData
    owner: psycopg.Connection[Any]
    person: psycopg.Connection[Any]
    warmup: int
    repeat: int
    log: Callable[[str], None]


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
    ]


SCENARIOS: dict[str, tuple[str, Callable[[Context], list[Variant]]]] = {
    "rls_cost": ("projects list page as the person vs the owner", rls_cost_variants),
    "rls_cost_activity": ("project timeline (activity_log) as the person vs the owner",
                          rls_cost_activity_variants),
    "rls_cost_search": ("project search (trigram ILIKE, tsvector) as the person vs the owner",
                        rls_cost_search_variants),
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


ALL_SCENARIOS = [*SCENARIOS, "rls_helpers"]


def run_scenario(name: str, ctx: Context) -> dict[str, Any]:
    description, make_variants = SCENARIOS[name]
    ctx.log(f"\n== {name}: {description}")
    results = []
    for variant in make_variants(ctx):
        before = {"person": plan_cache(ctx.person, variant.sql),
                  "owner": plan_cache(ctx.owner, variant.sql)}
        person_ms, owner_ms, person_rows, owner_rows = time_pair(
            ctx.person, ctx.owner, variant.sql, variant.params,
            warmup=ctx.warmup, repeat=ctx.repeat,
        )
        plan_text = explain(ctx.person, variant.sql, variant.params, "ANALYZE, BUFFERS")
        plan_json = explain(ctx.person, variant.sql, variant.params,
                            "ANALYZE, BUFFERS, VERBOSE, FORMAT JSON")
        check = check_plan(ctx.person, plan_json, variant.table)
        owner_plan = explain(ctx.owner, variant.sql, variant.params,
                             "ANALYZE, BUFFERS, FORMAT JSON")
        caches = {
            side: _delta(plan_cache(conn, variant.sql), before[side])
            for side, conn in (("person", ctx.person), ("owner", ctx.owner))
        }
        person, owner = stats(person_ms), stats(owner_ms)
        ratio = person["p50"] / owner["p50"] if owner["p50"] else float("inf")
        passed = ratio <= BUDGET_RATIO and check.ok and person_rows == owner_rows
        ctx.log(f"\n-- {name}/{variant.name}: EXPLAIN (ANALYZE, BUFFERS) as "
                f"{ctx.data.big.username}\n{plan_text}")
        ctx.log(f"   plan check: {check.summary()}")
        ctx.log(f"   person plan: {scan_summary(plan_json)}")
        ctx.log(f"   owner plan:  {scan_summary(owner_plan)}")
        ctx.log(f"   server plans used by the prepared statement in warm-up + timed runs: {caches}")
        generic = {
            side: generic_plan_summary(conn, variant.sql)
            for side, conn in (("person", ctx.person), ("owner", ctx.owner))
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
            ctx = Context(data, owner, person, args.warmup, args.repeat, log)
            results = [
                helper_costs(ctx) if name == "rls_helpers" else run_scenario(name, ctx)
                for name in scenarios
            ]
    env["loadavg_end"] = os.getloadavg()
    print_table(results, log)
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
