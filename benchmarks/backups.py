"""Backup create and verify against a bare pg_dump / pg_restore of the same database (issue 9).

    .venv/bin/python benchmarks/backups.py [--size-mib 1024] [--file-mib 256] [--runs 1]

Budgets, in one run on a throwaway cluster (fsync off, like the other benchmarks), a database
holding --size-mib of incompressible file content (uploaded through the app's own upload):

* ``backup create`` (exported snapshot, row counts in it, ``pg_dump -Fc --role=fp_backup``,
  fsync + rename, sha256 + manifest) <= 1.15x a bare ``pg_dump -Fc -f FILE``;
* ``backup verify`` (sha256 vs manifest, ``pg_restore --list``, trial restore in one
  transaction, the post-restore report including the stored files' sha256 sweep, drop)
  <= 1.2x a bare ``pg_restore --single-transaction`` into a new database + the file's sha256.

Prints the medians and exits 1 on a missed budget.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from files import MIB, PASSWORD, make_file, setup, sha_of
from projects_views import DATABASE, throwaway_cluster

from factorypulse_desktop.backup import pgtools
from factorypulse_desktop.backup.create import create_backup
from factorypulse_desktop.backup.verify import verify_backup
from factorypulse_desktop.data import migrate
from factorypulse_desktop.services import auth, document_files
from factorypulse_desktop.services.auth import ConnectionProfile
from factorypulse_desktop.services.document_files import UploadRequest

CREATE_RATIO = 1.15
VERIFY_RATIO = 1.2


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def fill(cluster: Any, url: str, size_mib: int, file_mib: int, folder: Path) -> None:
    org, project, username = setup(url)
    profile = ConnectionProfile(name="bench", kind="server", host=str(cluster.socket_dir),
                                port=cluster.port, database=DATABASE, sslmode="disable")
    with auth.sign_in(profile, username, PASSWORD) as ws:
        left, n = size_mib, 0
        while left > 0:
            piece = folder / f"file{n}.bin"
            make_file(piece, min(file_mib, left) * MIB)
            document_files.upload(ws, org, UploadRequest(path=piece, title=f"File {n}",
                                                         project_id=project))
            piece.unlink()
            left -= file_mib
            n += 1


def bare_dump(url: str, target: Path) -> None:
    result = pgtools.run("pg_dump", ["-Fc", "-f", str(target), "-d", pgtools.conninfo(url)])
    assert result.returncode == 0, result.stderr


def bare_restore(cluster: Any, url: str, archive: Path, name: str) -> None:
    with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    result = pgtools.run("pg_restore", ["--single-transaction", "--exit-on-error", "-d",
                                        pgtools.conninfo(url, name), str(archive)])
    assert result.returncode == 0, result.stderr
    sha_of(archive)


def drop(cluster: Any, name: str) -> None:
    with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_run(cluster: Any, url: str, folder: Path, run: int,
            times: dict[str, list[float]]) -> None:
    bare = folder / f"bare{run}.dump"
    times["bare_dump"].append(timed(lambda: bare_dump(url, bare)))
    made: list[Path] = []
    times["create"].append(timed(lambda: made.append(
        create_backup(url, folder / f"ours{run}").path)))
    times["bare_restore"].append(timed(
        lambda: bare_restore(cluster, url, bare, f"bare_restore_{run}")))
    drop(cluster, f"bare_restore_{run}")
    outcome: list[bool] = []
    times["verify"].append(timed(lambda: outcome.append(verify_backup(url, made[0]).ok)))
    assert outcome == [True], "the benchmark backup did not verify"
    bare.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--file-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    with throwaway_cluster(False, print) as cluster, \
            tempfile.TemporaryDirectory(prefix="fp-backups-") as scratch:
        folder = Path(scratch)
        url = cluster.url(DATABASE)
        migrate.upgrade(url)
        fill(cluster, url, args.size_mib, args.file_mib, folder)
        print(f"Database filled with {args.size_mib} MiB of file content.")
        times: dict[str, list[float]] = {"bare_dump": [], "create": [], "bare_restore": [],
                                         "verify": []}
        for run in range(args.runs):
            one_run(cluster, url, folder, run, times)
    med = {k: statistics.median(v) for k, v in times.items()}
    create_ratio = med["create"] / med["bare_dump"]
    verify_ratio = med["verify"] / med["bare_restore"]
    ok_create, ok_verify = create_ratio <= CREATE_RATIO, verify_ratio <= VERIFY_RATIO
    print(f"create: {med['create']:.1f} s vs bare pg_dump {med['bare_dump']:.1f} s = "
          f"{create_ratio:.2f}x (budget {CREATE_RATIO}x) {'PASS' if ok_create else 'FAIL'}")
    print(f"verify: {med['verify']:.1f} s vs bare pg_restore + sha256 "
          f"{med['bare_restore']:.1f} s = {verify_ratio:.2f}x (budget {VERIFY_RATIO}x) "
          f"{'PASS' if ok_verify else 'FAIL'}")
    return 0 if ok_create and ok_verify else 1


if __name__ == "__main__":
    sys.exit(main())
