"""Load driver: N workstations (separate processes, one person each) against one server.

    python -m benchmarks.load.driver [--workstations 1,5,10,20] [--seconds 60] [--think 0.2]
        [--json results.json]
    python -m benchmarks.load.driver --soak [--workstations 10] [--seconds 600]
        [--fault-min 20 --fault-max 60 --restarts 1]
    python -m benchmarks.load.driver --workstations 10 --seconds 600 --only message --rate 5
        (T-NET-07 as written: 10 workstations x 5 edits/s for 10 min)

A throwaway cluster (`EmbeddedCluster`, fsync off) in a temp folder, migrated, with the demo
data (organizations acme and globex); when N needs more persons than the demo has, more are
added per organization (`data.people.add_person`, each with its own login). Workstation i
signs in as a person of acme (i even) or globex (i odd) and runs the mix of its role
(`mix.py`) with an exponential think time for `--seconds`; every workstation also follows
the change feed (`ChangeFeed`, as the app). One series runs every N on the same cluster, one
after the other. After each N, `invariants.py` checks convergence, exactly-once writes and
isolation; the notification queue (`pg_notification_queue_usage()`) is sampled every 0.5 s
during the run and must stay below 0.01.

--soak: one N (default 10), the workstations connect through a TCP proxy on 127.0.0.1
(tests/db/tcp_proxy.py), and `faults.py` injects a random fault every 20-60 s (terminated
backends, killed listeners, proxy cuts, a server restart). Afterwards also: the storage sweep
(`factorypulse storage verify`'s `storage.verify.sweep`) must be clean, and a backup is
created and verified (`backup.create_backup`, `backup.verify_backup` with a trial restore).

Exit status 0 only when every invariant holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

if __package__ in (None, ""):  # run as a file: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.load import faults as faults_mod
from benchmarks.load import invariants, mix, workstation

DATABASE = "load"
DEMO_PASSWORD = "factorypulse-demo"
LOAD_PASSWORD = "load-driver-password-2026"
ORGS = ("acme", "globex")
# Demo persons in the order workstations take them; then extra persons of these roles.
ROLE_ORDER = ("sales", "production", "qa", "management", "engineering", "procurement", "admin")
EXTRA_ROLES = ("sales", "production", "engineering", "qa", "procurement", "management")
QUEUE_LIMIT = 0.01


def log(message: str) -> None:
    print(message, flush=True)


@contextmanager
def throwaway_cluster(max_connections: int) -> Iterator[Any]:
    from benchmarks.projects_views import throwaway_cluster as cluster_in_temp

    with cluster_in_temp(False, log, database=DATABASE, max_connections=max_connections,
                         prefix="fp-load-") as cluster:
        yield cluster


def prepare(cluster: Any, persons_per_org: int) -> dict[str, Any]:
    """Migrate, seed the demo, add persons if needed; the persons and station codes per org."""
    from sqlalchemy import create_engine, pool, text

    from factorypulse_desktop.data import migrate, people
    from factorypulse_desktop.data.demo import seed_demo
    from factorypulse_desktop.domain import station_codes
    from factorypulse_desktop.domain.enums import Role

    url = cluster.url(DATABASE)
    started = time.perf_counter()
    migrate.upgrade(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    setup: dict[str, Any] = {}
    try:
        seed_demo(engine, password=DEMO_PASSWORD)
        with engine.begin() as conn:
            for slug in ORGS:
                org = people.find_organization(conn, slug)
                rows = conn.execute(text(
                    "SELECT p.role_name, m.role::text FROM memberships m JOIN persons p ON "
                    "p.id = m.person_id WHERE m.organization_id = :org AND m.status = 'active' "
                    "AND m.role NOT IN ('customer', 'supplier')"), {"org": org.id}).all()
                staff = sorted(((r[0], r[1], DEMO_PASSWORD) for r in rows),
                               key=lambda p: (ROLE_ORDER.index(p[1])
                                              if p[1] in ROLE_ORDER else 99, p[0]))
                k = 0
                while len(staff) < persons_per_org:
                    role = EXTRA_ROLES[k % len(EXTRA_ROLES)]
                    k += 1
                    name = f"{slug}.load{k:02d}"
                    people.add_person(conn, org, name, Role(role), LOAD_PASSWORD,
                                      display_name=f"Load {role.title()} {k}")
                    staff.append((name, role, LOAD_PASSWORD))
                codes = [station_codes.operation_code(r[0], r[1]) for r in conn.execute(text(
                    "SELECT o.production_number, x.sequence FROM production_orders o JOIN "
                    "production_operations x ON x.organization_id = o.organization_id AND "
                    "x.production_order_id = o.id WHERE o.organization_id = :org AND "
                    "o.status NOT IN ('completed', 'cancelled') ORDER BY 1, 2"),
                    {"org": org.id})]
                setup[slug] = {"id": str(org.id), "staff": staff, "codes": codes}
    finally:
        engine.dispose()
    log(f"Migrated, seeded the demo data and {persons_per_org} persons per organization "
        f"({time.perf_counter() - started:.1f} s); station codes: "
        + ", ".join(f"{s} {len(setup[s]['codes'])}" for s in ORGS))
    return setup


class QueueSampler:
    """`pg_notification_queue_usage()` every `interval` s as the owner (reconnects)."""

    def __init__(self, conninfo: str, interval: float = 0.5) -> None:
        self._conninfo = conninfo
        self._interval = interval
        self._stop = threading.Event()
        self.samples: list[float] = []
        self.failed = 0
        self._thread = threading.Thread(target=self._loop, name="queue-sampler", daemon=True)

    def __enter__(self) -> QueueSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._stop.wait(self._interval):
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=3)
                row = conn.execute("SELECT pg_notification_queue_usage()").fetchone()
                self.samples.append(float(row[0]) if row else 0.0)
            except psycopg.Error:
                self.failed += 1  # a restart or a terminated session: try again
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()


def run_once(cluster: Any, setup: dict[str, Any], n: int, args: argparse.Namespace,
             proxy: Any | None = None) -> dict[str, Any]:
    """One run with `n` workstations; returns its figures and invariants."""
    ctx = mp.get_context("spawn")
    out_dir = Path(tempfile.mkdtemp(prefix="fp-load-out-"))
    host, port = (proxy.host, proxy.port) if proxy else (str(cluster.socket_dir), cluster.port)
    specs = []
    for i in range(n):
        slug = ORGS[i % len(ORGS)]
        username, role, password = setup[slug]["staff"][i // len(ORGS)]
        specs.append(workstation.Spec(
            index=i, username=username, password=password, role=role,
            org_id=setup[slug]["id"], org_slug=slug, host=host, port=port, database=DATABASE,
            seconds=args.seconds, think=args.think, seed=args.seed * 1000 + n * 100 + i,
            out=str(out_dir / f"ws{i:02d}.json"), codes=tuple(setup[slug]["codes"]),
            rate=args.rate, only=args.only))
    ready = [ctx.Event() for _ in specs]
    go, quiesced = ctx.Event(), ctx.Event()
    wrote = ctx.Queue()
    procs = [ctx.Process(target=workstation.main, args=(s, ready[s.index], go, wrote, quiesced),
                         name=f"ws{s.index}") for s in specs]
    started = time.perf_counter()
    for p in procs:
        p.start()
    for event in ready:
        event.wait(300)
    log(f"  {n} workstation(s) signed in and listening ({time.perf_counter() - started:.1f} s)")
    owner_info = cluster.conninfo(DATABASE)
    injector = None
    load_start = os.getloadavg()
    with QueueSampler(owner_info) as sampler:
        if args.soak:
            injector = faults_mod.FaultInjector(
                cluster, owner_info, proxy, low=args.fault_min, high=args.fault_max,
                max_restarts=args.restarts, seed=args.seed).start()
        go.set()
        t0 = time.perf_counter()
        done = 0
        while done < n:
            try:
                wrote.get(timeout=args.seconds + 600)
                done += 1
            except Exception:
                break
        wall = time.perf_counter() - t0
        if injector is not None:
            injector.stop()
        heads = _org_heads(owner_info)
        quiesced.set()
        for p in procs:
            p.join(300)
            if p.is_alive():
                p.kill()
    load_end = os.getloadavg()
    results: list[dict[str, Any]] = []
    for s in specs:
        path = Path(s.out)
        results.append(json.loads(path.read_text()) if path.exists() else
                       {"index": s.index, "username": s.username, "org_id": s.org_id,
                        "crash": "no result file (process died)"})
    shutil.rmtree(out_dir, ignore_errors=True)
    seconds = float(max((float(r.get("elapsed_s", 0.0)) for r in results),
                        default=args.seconds) or wall)
    figures = invariants.summarize_ops(results, seconds)
    with psycopg.connect(owner_info) as owner:
        writes = invariants.check_writes(owner, results)
        tables = invariants.tenant_tables(owner)
    persons = {s.username: (cluster.conninfo(DATABASE, user=s.username, password=s.password),
                            s.org_id) for s in specs}
    isolation = invariants.check_isolation(persons, tables)
    conv = invariants.convergence(results, heads)
    queue_max = max(sampler.samples, default=0.0)
    outcome: dict[str, Any] = {
        "workstations": n, "seconds": round(seconds, 1), "think_s": args.think,
        "rate_per_workstation": args.rate, "only": args.only,
        "persons": [f"{s.username} ({s.role})" for s in specs],
        "loadavg_start": load_start, "loadavg_end": load_end,
        "figures": figures, "writes": writes, "convergence": conv, "isolation": isolation,
        "notification_queue": {"max": queue_max, "samples": len(sampler.samples),
                               "sample_failures": sampler.failed,
                               "pass": queue_max < QUEUE_LIMIT},
        "crashes": {r["username"]: r["crash"] for r in results if r.get("crash")},
        "listeners_stuck": [r["username"] for r in results
                            if r.get("listener_alive_after_stop")],
    }
    if injector is not None:
        outcome["faults"] = injector.log
    outcome["pass"] = (writes["pass"] and conv["pass"] and isolation["pass"]
                       and outcome["notification_queue"]["pass"] and not outcome["crashes"]
                       and not outcome["listeners_stuck"]
                       and not figures["errors"].get("bug"))
    return outcome


def _org_heads(conninfo: str) -> dict[str, int]:
    for _ in range(30):  # the server may be coming back from a restart
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                return {str(r[0]): int(r[1]) for r in conn.execute(
                    "SELECT organization_id, max(id) FROM change_log GROUP BY 1")}
        except psycopg.OperationalError:
            time.sleep(1)
    raise RuntimeError("the server did not come back")


def after_soak(cluster: Any) -> dict[str, Any]:
    """The storage sweep and a verified backup."""
    from factorypulse_desktop.backup.create import create_backup
    from factorypulse_desktop.backup.verify import verify_backup
    from factorypulse_desktop.storage.verify import sweep

    with psycopg.connect(cluster.conninfo(DATABASE)) as conn:
        problems = sweep(conn)
        files = conn.execute("SELECT count(*), coalesce(sum(size), 0) FROM storage_objects "
                             "WHERE status = 'complete'").fetchone()
    folder = Path(tempfile.mkdtemp(prefix="fp-load-backup-"))
    try:
        started = time.perf_counter()
        backup = create_backup(cluster.url(DATABASE), folder)
        created_s = time.perf_counter() - started
        started = time.perf_counter()
        verified = verify_backup(cluster.url(DATABASE), backup.path, trial_restore=True)
        verify_s = time.perf_counter() - started
        size = backup.path.stat().st_size
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "storage_verify": {"files": files[0] if files else 0, "bytes": files[1] if files else 0,
                           "problems": [str(p) for p in problems], "pass": not problems},
        "backup": {"size": size, "created_s": round(created_s, 1),
                   "verified_s": round(verify_s, 1), "ok": verified.ok,
                   "stage": verified.stage, "problems": verified.problems,
                   "checks": len(verified.checks), "pass": verified.ok},
    }


def print_run(r: dict[str, Any]) -> None:
    f = r["figures"]
    pace = (f"{r['rate_per_workstation']}/s each" if r.get("rate_per_workstation")
            else f"think {r['think_s']} s") + (f", only {r['only']}" if r.get("only") else "")
    log(f"\nN = {r['workstations']} workstations, {r['seconds']} s, {pace}: "
        f"{f['ops_per_s']} ops/s ({f['ok_per_s']} acknowledged/s, {f['writes_per_s']} writes/s), "
        f"{f['total']} ops, "
        f"errors {f['errors'] or 'none'}; load average {r['loadavg_start'][0]:.1f} -> "
        f"{r['loadavg_end'][0]:.1f}")
    rows = [["op", "count", "per s", "p50 ms", "p95 ms", "p99 ms", "errors", "retried"]]
    for name, o in f["ops"].items():
        rows.append([name, str(o["count"]), f"{o['per_s']:.2f}", f"{o['p50_ms']:.1f}",
                     f"{o['p95_ms']:.1f}", f"{o['p99_ms']:.1f}",
                     ", ".join(f"{k} {v}" for k, v in o["errors"].items()) or "-",
                     str(o["retried"])])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for k, row in enumerate(rows):
        log("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        if k == 0:
            log("  " + "  ".join("-" * w for w in widths))
    for key, words in f["error_samples"].items():
        log(f"  e.g. {key}: {' | '.join(words)}")
    w, c, i, q = r["writes"], r["convergence"], r["isolation"], r["notification_queue"]
    log(f"  writes: {w['acknowledged_once']}/{w['acknowledged']} acknowledged present once; "
        f"lost {len(w['lost'])}, duplicates {len(w['duplicates'])}, wrong org "
        f"{len(w['wrong_org'])}, refused but landed {len(w['refused_but_landed'])}; "
        f"lost-connection writes {w['lost_connection_writes']} "
        f"(landed {w['lost_connection_landed']}) -> {'PASS' if w['pass'] else 'FAIL'}")
    bad = [x for x in c["workstations"] if not x.get("pass")]
    heads = sorted({x.get("org_head") for x in c["workstations"]} - {None})
    log(f"  convergence: {len(c['workstations']) - len(bad)}/{len(c['workstations'])} "
        f"workstations at their organization's head {heads}, missing "
        f"{sum(x.get('missing', 0) for x in c['workstations'])}, duplicates "
        f"{sum(x.get('duplicates', 0) for x in c['workstations'])}, listener reconnects "
        f"{sum(x.get('reconnects', 0) for x in c['workstations'])}, slowest catch-up "
        f"{max((x.get('caught_up_s', 0) for x in c['workstations']), default=0):.1f} s "
        f"-> {'PASS' if c['pass'] else 'FAIL'}")
    for x in bad:
        log(f"    {x}")
    log(f"  isolation: {i['persons']} persons x {i['tables']} tenant tables, foreign rows "
        f"{i['foreign_rows'] or 0} -> {'PASS' if i['pass'] else 'FAIL'}")
    log(f"  notification queue: max {q['max']:.6f} over {q['samples']} samples "
        f"-> {'PASS' if q['pass'] else 'FAIL'}")
    if r["crashes"]:
        log(f"  CRASHED: {r['crashes']}")
    if r["listeners_stuck"]:
        log(f"  listeners that did not stop: {r['listeners_stuck']}")
    if "after" in r:
        s, b = r["after"]["storage_verify"], r["after"]["backup"]
        log(f"  storage verify: {s['files']} files, {s['bytes']} bytes, problems "
            f"{len(s['problems'])} -> {'PASS' if s['pass'] else 'FAIL'}")
        log(f"  backup: {b['size']} bytes, created {b['created_s']} s, verified "
            f"{b['verified_s']} s (trial restore), {b['stage']} -> "
            f"{'PASS' if b['pass'] else 'FAIL'} {b['problems'] or ''}")
    log(f"  => {'PASS' if r['pass'] else 'FAIL'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workstations", default=None,
                        help="comma-separated N values (default 1,5,10,20; --soak: 10)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="per run (default 60; --soak: 600)")
    parser.add_argument("--think", type=float, default=0.2,
                        help="mean pause between a workstation's operations, s (default 0.2: "
                             "about 5 operations a second, T-NET-07)")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="a fixed pace instead of think times: operations per second per "
                             "workstation (T-NET-07: 5)")
    parser.add_argument("--only", choices=sorted(mix.OPS),
                        help="one operation instead of each role's mix (T-NET-07: message)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--soak", action="store_true", help="one N with random faults")
    parser.add_argument("--fault-min", type=float, default=20.0)
    parser.add_argument("--fault-max", type=float, default=60.0)
    parser.add_argument("--restarts", type=int, default=1, help="server restarts at most")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    args = parser.parse_args(argv)
    ns = [int(x) for x in (args.workstations or ("10" if args.soak else "1,5,10,20"))
          .split(",")]
    if args.soak and len(ns) != 1:
        parser.error("--soak runs one N")
    if args.seconds is None:
        args.seconds = 600.0 if args.soak else 60.0
    if min(ns) < 1:
        parser.error("N >= 1")
    per_org = (max(ns) + len(ORGS) - 1) // len(ORGS)
    report: dict[str, Any] = {
        "benchmark": "load", "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv), "cpus": os.cpu_count(),
        "machine": platform.platform(), "python": platform.python_version(), "runs": [],
    }
    # Each workstation holds up to 4 connections (pool of 2, listener, an upload).
    with throwaway_cluster(max(100, 5 * max(ns) + 20)) as cluster:
        setup = prepare(cluster, per_org)
        with psycopg.connect(cluster.conninfo(DATABASE)) as conn:
            report["server_version"] = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        proxy = None
        if args.soak:
            proxy = faults_mod.load_tcp_proxy().TcpProxy(
                cluster.socket_dir / f".s.PGSQL.{cluster.port}",
                max_connections=8 * max(ns) + 20).start()
        try:
            for n in ns:
                log(f"\nRunning N = {n} for {args.seconds:.0f} s"
                    + (" with faults" if args.soak else ""))
                result = run_once(cluster, setup, n, args, proxy)
                if args.soak:
                    result["after"] = after_soak(cluster)
                    result["pass"] = (result["pass"] and result["after"]["storage_verify"]
                                      ["pass"] and result["after"]["backup"]["pass"])
                report["runs"].append(result)
                print_run(result)
        finally:
            if proxy is not None:
                proxy.stop()
    report["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    report["pass"] = all(r["pass"] for r in report["runs"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
        log(f"\nSaved {args.json}")
    log(f"\nOverall: {'PASS' if report['pass'] else 'FAIL'}")
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
