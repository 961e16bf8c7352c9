"""The shop-floor station's scan against issue 8's budget.

    .venv/bin/python benchmarks/station.py [--orders 20000] [--runs 60]

Budget (one run, throwaway cluster with fsync off, a production person signed in with their
own login, row level security applies): a scanned operation code to the opened operation
(`services.station.open_by_code`, one read round trip with parsing, order, operation, work
center and counts) with 20,000 production orders of 3 operations each: p95 <= 150 ms. Also
measured: an item code and a badge. The owner's plain lookup of one operation by order number
and sequence (no RLS, no service) is printed as a baseline, and each measurement as a ratio.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid

import psycopg
from projects_views import DATABASE, p95, throwaway_cluster
from sqlalchemy import create_engine, pool, text

from factorypulse_desktop.data import migrate, people
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.services import auth, station
from factorypulse_desktop.services.auth import ConnectionProfile

PASSWORD = "bench-station-password"
BUDGET_MS = 150


def build(url: str, orders: int) -> uuid.UUID:
    """An organization with a production person (badge PR-1), 5 work centers, 2,000 items and
    `orders` production orders with 3 operations each and a few events (set-based, as the
    owner)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        org = people.create_organization(conn, "shop", "Station Bench Works")
        person = people.add_person(conn, org, "shop.production", Role.PRODUCTION, PASSWORD,
                                   display_name="Pat Production")
        p = {"org": org.id, "orders": orders, "person": person}
        conn.execute(text("UPDATE memberships SET employee_id = 'PR-1' WHERE organization_id = "
                          ":org AND person_id = :person"), p)
        conn.execute(text(
            "INSERT INTO work_centers (organization_id, code, name) SELECT :org, 'WC-' || n, "
            "'Work center ' || n FROM generate_series(1, 5) n"), p)
        conn.execute(text(
            "INSERT INTO inventory_items (organization_id, item_code, item_name) SELECT :org, "
            "'IT-' || n, 'Item ' || n FROM generate_series(1, 2000) n"), p)
        conn.execute(text(
            "INSERT INTO production_orders (organization_id, production_number, quantity, "
            "status) SELECT :org, 'MO-B-' || n, 10, (ARRAY['planned', 'released', "
            "'in_progress', 'completed'])[1 + n % 4] FROM generate_series(1, :orders) n"), p)
        conn.execute(text(
            "INSERT INTO production_operations (organization_id, production_order_id, sequence, "
            "name, work_center_id) SELECT :org, o.id, s, 'Step ' || s, (SELECT w.id FROM "
            "work_centers w WHERE w.organization_id = :org AND w.code = 'WC-' || s) "
            "FROM production_orders o CROSS JOIN generate_series(1, 3) s "
            "WHERE o.organization_id = :org"), p)
        conn.execute(text(
            "INSERT INTO production_events (organization_id, production_order_id, operation_id, "
            "event_type, operator_id) SELECT :org, x.production_order_id, x.id, 'start', "
            ":person FROM production_operations x WHERE x.organization_id = :org "
            "AND x.sequence = 1"), p)
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return org.id



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args(argv)
    rng = random.Random(8)
    with throwaway_cluster(False, print) as cluster:
        url = cluster.url(DATABASE)
        migrate.upgrade(url)
        started = time.perf_counter()
        org = build(url, args.orders)
        print(f"Built {args.orders} production orders with 3 operations each in "
              f"{time.perf_counter() - started:.1f} s")

        def some_order() -> int:
            return rng.randint(1, args.orders)

        with psycopg.connect(cluster.conninfo(DATABASE)) as owner:
            baseline_med, baseline = p95(lambda: owner.execute(
                "SELECT x.id FROM production_orders o JOIN production_operations x ON "
                "x.organization_id = o.organization_id AND x.production_order_id = o.id "
                "WHERE o.organization_id = %s AND o.production_number = %s AND x.sequence = 2",
                (org, f"MO-B-{some_order()}")).fetchall(), args.runs)
        profile = ConnectionProfile(name="bench", kind="server", host=str(cluster.socket_dir),
                                    port=cluster.port, database=DATABASE, sslmode="disable")
        with auth.sign_in(profile, "shop.production", PASSWORD) as ws:
            opened = station.open_by_code(ws, org, f"OP:MO-B-{args.orders}:2")
            assert isinstance(opened, station.OperationView) and opened.sequence == 2
            results = {
                "scan an operation code (OP:...)": p95(lambda: station.open_by_code(
                    ws, org, f"OP:MO-B-{some_order()}:{rng.randint(1, 3)}"), args.runs),
                "scan an item code (IT:...)": p95(lambda: station.open_by_code(
                    ws, org, f"IT:IT-{rng.randint(1, 2000)}"), args.runs),
                "scan a badge (BD:...)": p95(lambda: station.open_by_code(ws, org, "BD:PR-1"),
                                             args.runs),
            }
    print(f"Baseline (owner, no RLS, one operation by order number): median "
          f"{baseline_med:.1f} ms, p95 {baseline:.1f} ms")
    ok = True
    for name, (median, worst) in results.items():
        ok = ok and worst <= BUDGET_MS
        print(f"{name}: median {median:.1f} ms, p95 {worst:.1f} ms "
              f"({worst / baseline:.1f}x baseline) (budget <= {BUDGET_MS} ms)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
