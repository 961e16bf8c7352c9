"""The approvals inbox and bulk decisions against issue 7's budgets.

    .venv/bin/python benchmarks/approvals.py [--pending 10000] [--bulk 1000] [--runs 20]

Budgets (one run, throwaway cluster with fsync off, a QA person signed in with their own login,
row level security applies): the first page of the inbox (`services.approvals.inbox`, 50 rows)
with 10,000 pending approvals waiting for the QA role: p95 <= 100 ms; a bulk approval of 1,000
of them (`decide_all`, one transaction, every decision through `fp_private.decide_approval`):
<= 2 s. The same first-page query run as the owner (no RLS) is printed as a baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

import psycopg
from projects_views import DATABASE, throwaway_cluster
from sqlalchemy import create_engine, pool, text

from factorypulse_desktop.data import migrate, people
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.services import approvals, auth
from factorypulse_desktop.services.auth import ConnectionProfile

PASSWORD = "bench-approvals-password"
INBOX_BUDGET_MS = 100
BULK_BUDGET_S = 2.0


def build(url: str, pending: int) -> uuid.UUID:
    """An organization with a QA and a sales person, one chain, `pending` approvals (set-based,
    as the owner, shaped exactly as `fp_private.request_approval` makes them)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        org = people.create_organization(conn, "appr", "Approvals Bench Works")
        people.add_person(conn, org, "appr.qa", Role.QA, PASSWORD, display_name="Quinn QA")
        sales = people.add_person(conn, org, "appr.sales", Role.SALES, PASSWORD,
                                  display_name="Sam Sales")
        params = {"org": org.id, "n": pending, "sales": sales}
        conn.execute(text(
            "INSERT INTO projects (organization_id, title) SELECT :org, 'Bench project ' || n "
            "FROM generate_series(1, 200) n"), params)
        conn.execute(text(
            "INSERT INTO approvals (organization_id, approval_type, title, entity_type, "
            "entity_id, project_id, requested_by, requested_at, status) "
            "SELECT :org, 'quality_review', 'Release batch ' || n, 'project', p.id, p.id, "
            ":sales, now() - make_interval(mins => n), 'pending' FROM generate_series(1, :n) n "
            "JOIN LATERAL (SELECT id FROM projects WHERE organization_id = :org "
            "OFFSET (n % 200) LIMIT 1) p ON true"), params)
        conn.execute(text(
            "INSERT INTO approval_steps (organization_id, approval_id, step_number, name, "
            "mode, required_approvals, status) SELECT :org, id, 1, 'QA', 'parallel', 1, "
            "'pending' FROM approvals WHERE organization_id = :org"), params)
        conn.execute(text(
            "INSERT INTO approval_step_approvers (organization_id, approval_step_id, role) "
            "SELECT :org, id, 'qa' FROM approval_steps WHERE organization_id = :org"), params)
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return org.id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--bulk", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    with throwaway_cluster(False, print) as cluster:
        url = cluster.url(DATABASE)
        migrate.upgrade(url)
        started = time.perf_counter()
        org = build(url, args.pending)
        print(f"Built {args.pending} pending approvals in {time.perf_counter() - started:.1f} s")
        profile = ConnectionProfile(name="bench", kind="server", host=str(cluster.socket_dir),
                                    port=cluster.port, database=DATABASE, sslmode="disable")
        with auth.sign_in(profile, "appr.qa", PASSWORD) as ws:
            approvals.inbox(ws, org)  # warm-up
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                page = approvals.inbox(ws, org)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            with psycopg.connect(cluster.conninfo(DATABASE)) as owner:
                t = time.perf_counter()
                owner.execute("SELECT id FROM approvals WHERE organization_id = %s AND status "
                              "IN ('pending', 'in_review') ORDER BY requested_at, id LIMIT 50",
                              (org,)).fetchall()
                baseline = (time.perf_counter() - t) * 1000
            items: list[tuple[uuid.UUID, int]] = []
            after = None
            while len(items) < args.bulk:
                batch = approvals.inbox(ws, org, after=after, limit=500)
                items += [(i.id, i.version) for i in batch]
                after = batch[-1].cursor
            items = items[:args.bulk]
            t = time.perf_counter()
            result = approvals.decide_all(ws, org, items, "approved", "Batch checked")
            bulk_s = time.perf_counter() - t
        assert result.ok and result.applied == args.bulk and len(page) == 50
    inbox_ok, bulk_ok = p95 <= INBOX_BUDGET_MS, bulk_s <= BULK_BUDGET_S
    print(f"Inbox first page ({args.pending} pending): median {times[len(times) // 2]:.1f} ms, "
          f"p95 {p95:.1f} ms (budget <= {INBOX_BUDGET_MS} ms); owner baseline without RLS "
          f"{baseline:.1f} ms")
    print(f"Bulk approve {args.bulk} in one transaction: {bulk_s:.2f} s "
          f"(budget <= {BULK_BUDGET_S} s)")
    print("PASS" if inbox_ok and bulk_ok else "FAIL")
    return 0 if inbox_ok and bulk_ok else 1


if __name__ == "__main__":
    sys.exit(main())
