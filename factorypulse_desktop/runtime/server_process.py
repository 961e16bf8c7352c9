"""The running server as the OS sees it: postmaster.pid and the postgres processes.

A server is "ours" only when its postmaster's working folder is our data folder (or, when that
cannot be seen, its command line names it), so a pid reused by another program, or a postgres
of another cluster, is never taken for ours.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from factorypulse_desktop.runtime.errors import EmbeddedError

PID_FILE = "postmaster.pid"
_POSTGRES_NAMES = ("postgres", "postgres.exe")


@dataclass(frozen=True)
class PidFile:
    """The parts of postmaster.pid we use (lines 1, 4, 5, 6 and 8)."""

    pid: int
    port: int | None
    socket_dir: str
    listen_address: str
    status: str = ""
    """"starting", "ready" (accepts connections), "stopping" or "standby"."""


def read_pid_file(data_dir: Path) -> PidFile | None:
    """``data_dir``'s postmaster.pid, or None when it is missing or unreadable."""
    try:
        lines = (data_dir / PID_FILE).read_text(errors="replace").splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None

    def line(n: int) -> str:
        return lines[n].strip() if len(lines) > n else ""

    port = int(line(3)) if line(3).isdigit() else None
    return PidFile(pid=pid, port=port, socket_dir=line(4), listen_address=line(5),
                   status=line(7))


# ---------------------------------------------------------------------------------------------
# processes


def _same_path(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def process_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has exited. A zombie counts as exited: some init processes (e.g. in
    containers) reap orphans late, and psutil's wait() would wait for that."""
    deadline = time.monotonic() + timeout
    while process_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _is_postgres_name(proc: psutil.Process) -> bool:
    name = proc.name().lower()
    return name in _POSTGRES_NAMES


def postmaster_of(pid_file: PidFile, data_dir: Path) -> psutil.Process | None:
    """The process of postmaster.pid if it is a postgres serving THIS data folder."""
    try:
        proc = psutil.Process(pid_file.pid)
        if proc.status() == psutil.STATUS_ZOMBIE or not _is_postgres_name(proc):
            return None
        # The postmaster's working folder is its data folder.
        return proc if _same_path(proc.cwd(), data_dir) else None
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        # Cannot look at its folder: its command line names the data folder when it was
        # started by pg_ctl -D.
        with contextlib.suppress(psutil.Error):
            if str(data_dir) in psutil.Process(pid_file.pid).cmdline():
                return psutil.Process(pid_file.pid)
        return None


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """Live postgres processes whose working folder is ``data_dir``."""
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if (proc.info["name"] or "").lower() not in _POSTGRES_NAMES:
                continue
            if proc.status() != psutil.STATUS_ZOMBIE and _same_path(proc.cwd(), data_dir):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def refuse_if_unsure(pid: int, data_dir: Path) -> None:
    """Keep postmaster.pid when its process is a postgres we cannot inspect.

    Deleting the pid file of a live server would let a second one start on the same data.
    """
    try:
        proc = psutil.Process(pid)
        if not _is_postgres_name(proc):
            return
        proc.cwd()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return
    except psutil.AccessDenied:
        raise EmbeddedError(
            f"A PostgreSQL process (pid {pid}) that this program cannot inspect may be "
            f"using {data_dir}; stop it and try again."
        ) from None


def wait_for_leftover_backends(data_dir: Path, timeout: float = 10) -> None:
    """After the server itself was killed, its children exit on their own; wait for them.

    While they live, the old shared memory is in use and a new server refuses to start.
    """
    deadline = time.monotonic() + timeout
    while True:
        leftovers = postgres_processes(data_dir)
        if not leftovers:
            return
        if time.monotonic() >= deadline:
            pids = ", ".join(str(p.pid) for p in leftovers)
            raise EmbeddedError(
                f"Old PostgreSQL processes ({pids}) still use {data_dir}; end them and try again."
            )
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------------
# connections


def accepts_connections(host: str, port: int, user: str) -> bool:
    """Whether the server accepts connections (libpq's PQping; needs no password)."""
    # Imported here, once the server is up: psycopg loads meanwhile on the app's other thread.
    from psycopg import pq
    from psycopg.conninfo import make_conninfo

    conninfo = make_conninfo(
        "",
        host=host,
        port=str(port),
        dbname="postgres",
        user=user,
        connect_timeout="2",
    )
    return pq.PGconn.ping(conninfo.encode()) == pq.Ping.OK
