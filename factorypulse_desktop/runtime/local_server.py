"""The embedded database as the command line and the app use it: cluster plus one database."""

from __future__ import annotations

import signal
import types
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from factorypulse_desktop.runtime.embedded import EmbeddedCluster
from factorypulse_desktop.runtime.paths import embedded_root

DATABASE_NAME = "factorypulse"


def embedded_cluster(profile: str = "default") -> EmbeddedCluster:
    return EmbeddedCluster(embedded_root(profile))


def ensure_database(cluster: EmbeddedCluster, name: str = DATABASE_NAME) -> None:
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
