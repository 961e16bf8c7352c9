"""Inventory at issue 8's scale: on-hand from the balances and the item list.

    .venv/bin/python benchmarks/inventory.py [--items 100000] [--movements 10000000] [--runs 30]

Budget (one run, throwaway cluster with fsync off, a procurement person signed in with their
own login, row level security applies), with 100,000 items and 10,000,000 ledger rows:

* on-hand for a page of 50 items (``services.inventory.on_hand``): p95 <= 200 ms;
* the item list's first page (``services.inventory.list_items``, 50 items with on-hand):
  p95 <= 100 ms.

The ledger is generated set-based (INSERT ... SELECT from generate_series) as the owner, with
the ledger's per-row triggers (balance check and apply, change log) disabled for the bulk load;
the balances are then built in one statement from the ledger, which is what the triggers would
have left. As a baseline, summing the ledger for the same 50 items as the owner (no RLS, no
balances) is measured too: it is what the balances save.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid

import psycopg
from projects_views import DATABASE, p95, throwaway_cluster
from sqlalchemy import create_engine, pool, text

from factorypulse_desktop.data import migrate, people
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.services import auth, inventory
from factorypulse_desktop.services.auth import ConnectionProfile

PASSWORD = "bench-inventory-password"
ON_HAND_BUDGET_MS = 200
LIST_BUDGET_MS = 100
LOCATIONS = 20
TRIGGERS = ("stock_movements_balance_check", "stock_movements_balance_apply",
            "stock_movements_change_log", "stock_movements_stamp_actor")


def build(url: str, items: int, movements: int) -> uuid.UUID:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        org = people.create_organization(conn, "invb", "Inventory Bench Works")
        people.add_person(conn, org, "invb.procurement", Role.PROCUREMENT, PASSWORD,
                          display_name="Pat Purchasing")
        p = {"org": org.id, "items": items, "movements": movements, "locs": LOCATIONS}
        conn.execute(text(
            "INSERT INTO inventory_locations (organization_id, code, name) "
            "SELECT :org, 'L' || lpad(n::text, 3, '0'), 'Location ' || n "
            "FROM generate_series(1, :locs) n"), p)
        conn.execute(text(
            "INSERT INTO inventory_items (organization_id, item_code, item_name, category, "
            "min_stock_level, unit_cost) SELECT :org, 'IT-' || lpad(n::text, 7, '0'), "
            "'Item ' || n, 'Cat ' || (n % 50), (n % 20), 1 + (n % 100) "
            "FROM generate_series(1, :items) n"), p)
    with engine.begin() as conn:
        for trigger in TRIGGERS:
            conn.execute(text(f"ALTER TABLE stock_movements DISABLE TRIGGER {trigger}"))
        # Movement k of item i at one of its 3 locations: receipts mostly, some issues.
        conn.execute(text("""
            WITH i AS (SELECT id, row_number() OVER (ORDER BY item_code) AS n
                       FROM inventory_items WHERE organization_id = :org),
                 l AS (SELECT id, row_number() OVER (ORDER BY code) - 1 AS n
                       FROM inventory_locations WHERE organization_id = :org)
            INSERT INTO stock_movements (organization_id, inventory_item_id, location_id,
                movement_type, quantity, moved_at)
            SELECT :org, i.id, l.id,
                   CASE WHEN g % 4 = 3 THEN 'issue' ELSE 'receipt' END,
                   CASE WHEN g % 4 = 3 THEN -1 ELSE 2 END,
                   now() - make_interval(mins => g % 500000)
            FROM generate_series(0, :movements - 1) g
            JOIN i ON i.n = g % :items + 1
            JOIN l ON l.n = (i.n * 7 + (g / :items) % 3) % :locs"""), p)
        conn.execute(text(
            "INSERT INTO inventory_balances (organization_id, inventory_item_id, location_id, "
            "on_hand) SELECT organization_id, inventory_item_id, location_id, sum(quantity) "
            "FROM stock_movements WHERE organization_id = :org GROUP BY 1, 2, 3"), p)
        for trigger in TRIGGERS:
            conn.execute(text(f"ALTER TABLE stock_movements ENABLE TRIGGER {trigger}"))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return org.id



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--movements", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    with throwaway_cluster(False, print) as cluster:
        url = cluster.url(DATABASE)
        migrate.upgrade(url)
        started = time.perf_counter()
        org = build(url, args.items, args.movements)
        print(f"Built {args.items:,} items and {args.movements:,} ledger rows in "
              f"{time.perf_counter() - started:.1f} s (set-based, the ledger's per-row triggers "
              "disabled for the bulk load, balances built in one statement)")
        with psycopg.connect(cluster.conninfo(DATABASE)) as owner:
            rows = owner.execute("SELECT count(*) FROM stock_movements").fetchone()
            differing = owner.execute("""
                SELECT count(*) FROM inventory_balances b FULL JOIN (
                    SELECT organization_id, inventory_item_id, location_id, sum(quantity) q
                    FROM stock_movements GROUP BY 1, 2, 3) m
                USING (organization_id, inventory_item_id, location_id)
                WHERE b.on_hand IS DISTINCT FROM m.q""").fetchone()
            middle = [r[0] for r in owner.execute(
                "SELECT id FROM inventory_items WHERE organization_id = %s ORDER BY item_code "
                "OFFSET %s LIMIT 50", (org, args.items // 2)).fetchall()]
            baseline = p95(lambda: owner.execute(
                "SELECT inventory_item_id, sum(quantity) FROM stock_movements "
                "WHERE organization_id = %s AND inventory_item_id = ANY (%s) GROUP BY 1",
                (org, middle)).fetchall(), args.runs)
        assert differing == (0,), "balances differ from the ledger"
        profile = ConnectionProfile(name="bench", kind="server", host=str(cluster.socket_dir),
                                    port=cluster.port, database=DATABASE, sslmode="disable")
        with auth.sign_in(profile, "invb.procurement", PASSWORD) as ws:
            first = inventory.list_items(ws, org)
            assert len(first.rows) == inventory.PAGE_SIZE
            assert len(inventory.on_hand(ws, org, middle)) == 50
            results = {
                "on-hand for a page of 50 items": (
                    p95(lambda: inventory.on_hand(ws, org, middle), args.runs),
                    ON_HAND_BUDGET_MS),
                "item list, first page": (
                    p95(lambda: inventory.list_items(ws, org), args.runs), LIST_BUDGET_MS),
                "item list, search \"Item 4242\"": (
                    p95(lambda: inventory.list_items(
                        ws, org, inventory.ItemFilter(text="Item 4242")), args.runs), None),
                "item list, low stock only": (
                    p95(lambda: inventory.list_items(
                        ws, org, inventory.ItemFilter(low_only=True)), args.runs), None),
            }
    print(f"Ledger rows: {rows[0] if rows else 0:,}; balances equal the ledger's sums")
    print(f"Baseline (owner, no RLS, summing the ledger of 50 items): median "
          f"{baseline[0]:.1f} ms, p95 {baseline[1]:.1f} ms")
    ok = True
    for name, ((median, worst), budget) in results.items():
        ok = ok and (budget is None or worst <= budget)
        print(f"{name}: median {median:.1f} ms, p95 {worst:.1f} ms "
              f"({worst / baseline[1]:.2f}x baseline)"
              + (f" (budget <= {budget} ms)" if budget else ""))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
