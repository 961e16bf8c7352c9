"""The checks after a run: convergence, writes exactly once, no cross-organization rows.

* Convergence (T-NET-07): every workstation's final cursor equals the highest change id its
  person can see, every workstation of one organization ends on the same cursor (the
  organization's head as the owner sees it), and the feed delivered every visible change after
  its start exactly once (`workstation._converge` compares the ids).
* Writes: each write's row is looked up as the owner by the id or token the workstation chose:
  acknowledged -> exactly 1 row; failed with a lost connection -> 0 or 1 (reported which);
  refused, conflict or bug -> 0. Every row found belongs to the writer's organization.
* Isolation: as each workstation's person (own login, RLS), every table with an
  `organization_id` column is counted for rows of any other organization: must be 0.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from typing import Any

import psycopg
from psycopg import sql

# Tables and columns a check may name (the records come from our own processes, but the SQL
# is built from identifiers: keep them to this list).
CHECKABLE = {
    ("projects", "id"), ("project_stage_history", "comment"), ("documents", "title"),
    ("messages", "id"), ("approvals", "id"), ("approval_history", "comments"),
    ("production_events", "client_event_id"),
}


def percentile(values: list[float], q: float) -> float:
    """Nearest rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summarize_ops(results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """ops/s, per-op latency percentiles (acknowledged ops) and errors by kind."""
    per_op: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        for op in r.get("ops", []):
            per_op[op["op"]].append(op)
    table: dict[str, dict[str, Any]] = {}
    total = ok_total = 0
    errors: Counter[str] = Counter()
    samples: dict[str, list[str]] = defaultdict(list)
    for name, ops in sorted(per_op.items()):
        lat = [o["latency_ms"] for o in ops if o["ok"]]
        kinds = Counter(o["error_kind"] for o in ops if not o["ok"])
        for o in ops:
            if not o["ok"]:
                errors[o["error_kind"]] += 1
                key = f"{name}/{o['error_kind']}"
                if len(samples[key]) < 3 and o["error"] not in samples[key]:
                    samples[key].append(o["error"])
        total += len(ops)
        ok_total += len(lat)
        table[name] = {
            "count": len(ops), "ok": len(lat), "per_s": round(len(ops) / seconds, 2),
            "p50_ms": round(percentile(lat, 0.50), 1), "p95_ms": round(percentile(lat, 0.95), 1),
            "p99_ms": round(percentile(lat, 0.99), 1),
            "mean_ms": round(statistics.fmean(lat), 1) if lat else math.nan,
            "errors": dict(kinds), "retried": sum(1 for o in ops if o["attempts"] > 1),
        }
    writes = sum(v["count"] for k, v in table.items() if k != "read")
    return {"ops": table, "total": total, "ok": ok_total,
            "writes_per_s": round(writes / seconds, 2),
            "ops_per_s": round(total / seconds, 2), "ok_per_s": round(ok_total / seconds, 2),
            "errors": dict(errors), "error_samples": dict(samples)}


def check_writes(owner: psycopg.Connection[Any], results: list[dict[str, Any]]
                 ) -> dict[str, Any]:
    """Every write's row(s), counted as the owner (no RLS)."""
    wanted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in results:
        for op in r.get("ops", []):
            if op["check"]:
                table, column, value = op["check"]
                if (table, column) not in CHECKABLE:
                    raise ValueError(f"unexpected check {table}.{column}")
                wanted[(table, column)].add(value)
    found: dict[tuple[str, str, str], list[str]] = {}
    for (table, column), values in wanted.items():
        query = sql.SQL(
            "SELECT {col}::text, organization_id::text FROM {tbl} WHERE {col}::text = ANY(%s)"
        ).format(col=sql.Identifier(column), tbl=sql.Identifier(table))
        for value, org in owner.execute(query, (sorted(values),)):
            found.setdefault((table, column, value), []).append(org)
    owner.rollback()
    report: dict[str, Any] = {
        "acknowledged": 0, "acknowledged_once": 0, "lost": [], "duplicates": [],
        "lost_connection_writes": 0, "lost_connection_landed": 0,
        "refused_but_landed": [], "wrong_org": [],
    }
    for r in results:
        for op in r.get("ops", []):
            if not op["check"]:
                continue
            table_, column_, value_ = op["check"]
            rows = found.get((table_, column_, value_), [])
            where = f"{r['username']} {op['op']} {op['check'][2]}"
            if any(org != r["org_id"] for org in rows):
                report["wrong_org"].append(where)
            if op["ok"]:
                report["acknowledged"] += 1
                if len(rows) == 1:
                    report["acknowledged_once"] += 1
                elif not rows:
                    report["lost"].append(where)
                else:
                    report["duplicates"].append(f"{where} x{len(rows)}")
            elif op["error_kind"] == "lost":
                report["lost_connection_writes"] += 1
                report["lost_connection_landed"] += len(rows) == 1
                if len(rows) > 1:
                    report["duplicates"].append(f"{where} x{len(rows)}")
            elif rows:
                report["refused_but_landed"].append(f"{where} ({op['error']})")
    report["pass"] = not (report["lost"] or report["duplicates"] or report["wrong_org"]
                          or report["refused_but_landed"])
    return report


def tenant_tables(owner: psycopg.Connection[Any]) -> list[str]:
    """Every table (not view) of the public schema with an organization_id column."""
    rows = owner.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id' "
        "AND NOT a.attisdropped WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        "ORDER BY c.relname").fetchall()
    owner.rollback()
    return [r[0] for r in rows]


def check_isolation(conninfos: dict[str, tuple[str, str]], tables: list[str]
                    ) -> dict[str, Any]:
    """As each person (`conninfos`: username -> (conninfo, org id)), rows of other orgs."""
    foreign: dict[str, dict[str, int]] = {}
    readable: dict[str, int] = {}
    for username, (conninfo, org) in conninfos.items():
        counts: dict[str, int] = {}
        n = 0
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for table in tables:
                query = sql.SQL(
                    "SELECT count(*) FILTER (WHERE organization_id IS DISTINCT FROM %s::uuid), "
                    "count(*) FROM {}").format(sql.Identifier(table))
                try:
                    other, _total = conn.execute(query, (org,)).fetchone()  # type: ignore[misc]
                except psycopg.errors.InsufficientPrivilege:
                    continue  # no grant at all: nothing to see
                n += 1
                if other:
                    counts[table] = int(other)
        readable[username] = n
        if counts:
            foreign[username] = counts
    return {"persons": len(conninfos), "tables": len(tables), "readable_tables": readable,
            "foreign_rows": foreign, "pass": not foreign}


def convergence(results: list[dict[str, Any]], org_heads: dict[str, int]) -> dict[str, Any]:
    """Per workstation: cursor vs its person's head and its organization's head."""
    rows = []
    ok = True
    for r in sorted(results, key=lambda r: r["index"]):
        if "final_cursor" not in r:
            rows.append({"ws": r["index"], "user": r["username"], "crash": r.get("crash")})
            ok = False
            continue
        good = (r["final_cursor"] == r["head"] == r["head_after"] == org_heads.get(r["org_id"])
                and r["missing_count"] == 0 and r["duplicates"] == 0
                and r["unexpected_count"] == 0)
        ok = ok and good
        rows.append({
            "ws": r["index"], "user": r["username"], "start": r["start_cursor"],
            "final": r["final_cursor"], "person_head": r["head"],
            "org_head": org_heads.get(r["org_id"]), "delivered": r["delivered"],
            "missing": r["missing_count"], "duplicates": r["duplicates"],
            "unexpected": r["unexpected_count"], "caught_up_s": r["caught_up_s"],
            "reconnects": sum(1 for _t, s in r.get("feed_states", []) if s == "reconnecting"),
            "pass": good,
        })
    return {"workstations": rows, "pass": ok}
