"""The embedded database as the command line and the app use it: cluster plus one database."""

from __future__ import annotations

import logging
import signal
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager

from factorypulse_desktop.runtime.embedded import EmbeddedCluster
from factorypulse_desktop.runtime.paths import embedded_root

DATABASE_NAME = "factorypulse"

log = logging.getLogger(__name__)

# One cluster object per embedded profile in this process: it holds the "in use" lease that
# keeps other processes from stopping the server under us.
_shared: dict[str, EmbeddedCluster] = {}
_shared_lock = threading.Lock()


def embedded_cluster(profile: str = "default") -> EmbeddedCluster:
    return EmbeddedCluster(embedded_root(profile))


def shared_cluster(profile: str = "default") -> EmbeddedCluster:
    """This process's cluster object for an embedded profile (the app's, not the CLI's)."""
    with _shared_lock:
        cluster = _shared.get(profile)
        if cluster is None:
            cluster = _shared[profile] = embedded_cluster(profile)
        return cluster


def release_shared_clusters() -> list[EmbeddedCluster]:
    """Forget this process's cluster objects and return them (to stop them at exit)."""
    with _shared_lock:
        clusters = list(_shared.values())
        _shared.clear()
    return clusters


def start_in_background(profile: str) -> threading.Thread | None:
    """Start an already initialized cluster on a thread, while the app loads its window.

    Nothing is reported from here: the app starts the cluster again when it signs in (that
    finds this server running, or says clearly why it cannot start).
    """
    cluster = shared_cluster(profile)
    if not cluster.initialized():
        return None

    def start() -> None:
        try:
            cluster.start()
        except Exception:
            log.debug("early start of %s failed", cluster.root, exc_info=True)

    thread = threading.Thread(target=start, name="embedded-start", daemon=True)
    thread.start()
    return thread


def ensure_database(cluster: EmbeddedCluster, name: str = DATABASE_NAME) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _raise_system_exit(signum: int, _frame: types.FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def running_embedded(profile: str = "default") -> Iterator[str]:
    """Start the embedded cluster if needed and yield the owner URL of the app database.

    A server this call started is stopped afterwards unless another client still uses it;
    SIGTERM ends the command through the same path, so the server is never orphaned.
    """
    previous = signal.signal(signal.SIGTERM, _raise_system_exit)
    cluster = embedded_cluster(profile)
    try:
        cluster.ensure_initialized()
        started = cluster.start()
        try:
            ensure_database(cluster)
            yield cluster.url(DATABASE_NAME)
        finally:
            if started:
                cluster.stop_if_unused()
    finally:
        signal.signal(signal.SIGTERM, previous)
