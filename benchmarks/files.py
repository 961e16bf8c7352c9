"""File storage throughput, memory and the documents list against issue 5's budgets.

    .venv/bin/python benchmarks/files.py [--size-mib 1024] [--documents 1000] [--runs 20]
        [--no-save]

Budgets, in one run on a throwaway cluster (fsync off, like the other benchmarks):

* uploading a 1 GiB file as a signed-in person (``services.document_files.upload``: RLS, the
  chunk trigger's checks and checksum, ``storage_complete``, the document and version rows)
  reaches >= 0.7x the throughput of writing the same bytes with plain psycopg into a table
  with one ``bytea`` column, and downloading it (``download``: every chunk checked by the
  server, the whole file's sha256 by the client, written to a temporary file and renamed)
  >= 0.7x of reading them back the plain way. One ``bytea`` value cannot hold 1 GiB
  (PostgreSQL's limit is 1 GB), so the baseline writes the same 1 MiB pieces as rows of
  ``plain_bytes (seq int, data bytea)``, one INSERT each in one transaction, and reads them in
  order through a binary server-side cursor fetching as many rows per round trip as ours —
  the plain way to move these bytes;
* this process's peak memory (RSS) grows by <= 64 MiB while moving the file;
* a project with 1,000 documents lists (``documents.list_documents``) in p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import psycopg
from projects_views import DATABASE, throwaway_cluster
from sqlalchemy import create_engine, pool, text

from factorypulse_desktop.data import migrate, people
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.services import auth, document_files, documents
from factorypulse_desktop.services.auth import ConnectionProfile
from factorypulse_desktop.services.document_files import UploadRequest
from factorypulse_desktop.storage import blobs

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
PASSWORD = "bench-files-password"
MIB = 1 << 20
THROUGHPUT_RATIO = 0.7
MEMORY_BUDGET_MIB = 64
LIST_BUDGET_MS = 100


def make_file(path: Path, size: int) -> None:
    """Incompressible bytes (like drawings, PDFs, archives), every MiB different."""
    block = os.urandom(MIB)
    with path.open("wb") as out:
        for n in range(0, size, MIB):
            piece = n.to_bytes(8, "big") + block[8:]
            out.write(piece[: min(MIB, size - n)])


@contextmanager
def peak_rss() -> Iterator[dict[str, int]]:
    """Sample this process's RSS every 20 ms; yields {'base', 'peak'} filled at the end."""
    me = psutil.Process()
    result = {"base": me.memory_info().rss, "peak": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            result["peak"] = max(result["peak"], me.memory_info().rss)
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def plain_write(conninfo: str, path: Path) -> None:
    with psycopg.connect(conninfo) as conn, path.open("rb") as src:
        conn.execute("DROP TABLE IF EXISTS plain_bytes")
        conn.execute("CREATE TABLE plain_bytes (seq integer PRIMARY KEY, data bytea NOT NULL)")
        conn.commit()
        seq = 0
        with conn.cursor() as cur:
            while block := src.read(MIB):
                cur.execute("INSERT INTO plain_bytes (seq, data) VALUES (%s, %b)", (seq, block))
                seq += 1
        conn.commit()


def plain_read(conninfo: str, target: Path) -> None:
    with psycopg.connect(conninfo) as conn, target.open("wb") as out, \
            conn.cursor(name="plain", binary=True) as cur:
        cur.itersize = blobs.READ_AHEAD  # the same round trips as ours
        cur.execute("SELECT data FROM plain_bytes ORDER BY seq")
        for (data,) in cur:
            out.write(data)


def sha_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while block := src.read(MIB):
            digest.update(block)
    return digest.hexdigest()


def setup(url: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    """An organization, an engineer who signs in, and a project."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        org = people.create_organization(conn, "files", "Files Bench Works")
        people.add_person(conn, org, "files.engineer", Role.ENGINEERING, PASSWORD,
                          display_name="Erin Engineer")
        project = conn.execute(text(
            "INSERT INTO projects (organization_id, title) VALUES (:org, 'Files bench') "
            "RETURNING id"), {"org": org.id}).scalar_one()
        # The limit is the default 1 GiB; a larger benchmark file needs room.
        conn.execute(text("UPDATE storage_buckets SET max_file_size = 8589934592 "
                          "WHERE organization_id = :org"), {"org": org.id})
    engine.dispose()
    return org.id, project, "files.engineer"


def add_documents(url: str, org: uuid.UUID, project: uuid.UUID, count: int) -> None:
    """`count` documents with one version each on the project, set-based as the owner."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(
            "INSERT INTO documents (organization_id, project_id, title, category, tags, "
            "access_level, file_name, file_size, storage_provider, link_type) "
            "SELECT %s, %s, 'Drawing ' || n, (ARRAY['drawing','specification','bom','quote'])"
            "[1 + n %% 4], ARRAY['rev-' || (n %% 5)], "
            "(ARRAY['public','internal'])[1 + n %% 2], 'part-' || n || '.dxf', "
            "1000 + n, 'database', 'file' FROM generate_series(1, %s) n",
            (org, project, count))
        conn.execute("ANALYZE documents")


def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"size_mib": args.size_mib, "documents": args.documents}
    with throwaway_cluster(False, print) as cluster, \
            tempfile.TemporaryDirectory(prefix="fp-files-") as scratch:
        url = cluster.url(DATABASE)
        migrate.upgrade(url)
        org, project, username = setup(url)
        folder = Path(scratch)
        source = folder / "big.bin"
        make_file(source, args.size_mib * MIB)
        size = source.stat().st_size
        expected = sha_of(source)
        owner_info = cluster.conninfo(DATABASE)
        profile = ConnectionProfile(name="bench", kind="server", host=str(cluster.socket_dir),
                                    port=cluster.port, database=DATABASE, sslmode="disable")
        with auth.sign_in(profile, username, PASSWORD) as ws:
            plain_w = timed(lambda: plain_write(owner_info, source))
            with peak_rss() as up_mem:
                done: list[document_files.Uploaded] = []
                ours_w = timed(lambda: done.append(document_files.upload(
                    ws, org, UploadRequest(path=source, title="Big file", project_id=project))))
            plain_copy = folder / "plain.out"
            plain_r = timed(lambda: plain_read(owner_info, plain_copy))
            assert sha_of(plain_copy) == expected
            plain_copy.unlink()
            down = folder / "down"
            down.mkdir()
            saved: list[Path] = []
            with peak_rss() as down_mem:
                ours_r = timed(lambda: saved.append(document_files.download(
                    ws, org, done[0].document_id, down)))
            assert sha_of(saved[0]) == expected, "the download differs from the upload"
            saved[0].unlink()
            add_documents(url, org, project, args.documents)
            query = documents.DocumentQuery(project_id=project)
            listed = documents.list_documents(ws, org, query)  # warm-up
            times = []
            for _ in range(args.runs):
                times.append(timed(lambda: documents.list_documents(ws, org, query)) * 1000)
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
        mib_s = size / MIB
        out["upload"] = {"plain_mib_s": round(mib_s / plain_w, 1),
                         "ours_mib_s": round(mib_s / ours_w, 1),
                         "ratio": round(plain_w / ours_w, 2)}
        out["download"] = {"plain_mib_s": round(mib_s / plain_r, 1),
                           "ours_mib_s": round(mib_s / ours_r, 1),
                           "ratio": round(plain_r / ours_r, 2)}
        out["memory_growth_mib"] = {
            "upload": round((up_mem["peak"] - up_mem["base"]) / MIB, 1),
            "download": round((down_mem["peak"] - down_mem["base"]) / MIB, 1)}
        out["list"] = {"rows": len(listed), "median_ms": round(statistics.median(times), 1),
                       "p95_ms": round(p95, 1)}
    out["passed"] = {
        "upload": out["upload"]["ratio"] >= THROUGHPUT_RATIO,
        "download": out["download"]["ratio"] >= THROUGHPUT_RATIO,
        "memory": max(out["memory_growth_mib"].values()) <= MEMORY_BUDGET_MIB,
        "list": out["list"]["p95_ms"] <= LIST_BUDGET_MS,
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="file size (default 1 GiB)")
    parser.add_argument("--documents", type=int, default=1000, help="documents on the project")
    parser.add_argument("--runs", type=int, default=20, help="timed list calls")
    parser.add_argument("--no-save", action="store_true", help="do not write the JSON file")
    args = parser.parse_args(argv)
    result = run(args)
    up, down = result["upload"], result["download"]
    print(f"Upload   {args.size_mib} MiB: plain {up['plain_mib_s']} MiB/s, ours "
          f"{up['ours_mib_s']} MiB/s = {up['ratio']}x (budget >= {THROUGHPUT_RATIO}x)")
    print(f"Download {args.size_mib} MiB: plain {down['plain_mib_s']} MiB/s, ours "
          f"{down['ours_mib_s']} MiB/s = {down['ratio']}x (budget >= {THROUGHPUT_RATIO}x)")
    mem = result["memory_growth_mib"]
    print(f"Peak memory growth: upload {mem['upload']} MiB, download {mem['download']} MiB "
          f"(budget <= {MEMORY_BUDGET_MIB} MiB)")
    listed = result["list"]
    print(f"Documents list, {listed['rows']} documents: median {listed['median_ms']} ms, p95 "
          f"{listed['p95_ms']} ms (budget <= {LIST_BUDGET_MS} ms)")
    print("PASS" if all(result["passed"].values()) else
          "FAIL: " + ", ".join(k for k, ok in result["passed"].items() if not ok))
    if not args.no_save:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        result["machine"] = {"python": sys.version.split()[0], "platform": platform.platform(),
                             "cpus": os.cpu_count()}
        (RESULTS_DIR / f"files-{stamp}.json").write_text(json.dumps(result, indent=2))
    return 0 if all(result["passed"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
