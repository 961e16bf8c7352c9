"""First start on this computer: the embedded database, its first organization, the demo.

Starting the demo when it is ready already uses psycopg alone; SQLAlchemy is imported only to
migrate, seed or create (see services/workspace.py for why start-up avoids it).
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from factorypulse_desktop.data import migrate
from factorypulse_desktop.data.db_errors import friendly_error
from factorypulse_desktop.data.io_guard import check_current_thread
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.validation import check_password, check_slug, check_username
from factorypulse_desktop.runtime.embedded import EmbeddedCluster, EmbeddedError
from factorypulse_desktop.runtime.local_server import (
    DATABASE_NAME,
    ensure_database,
    shared_cluster,
)

DEMO_PASSWORD = "factorypulse-demo"
DEMO_USERNAME = "acme.admin"


@dataclass(frozen=True)
class LocalSetup:
    """What the first-run wizard collects for "This computer"."""

    organization_name: str
    organization_slug: str
    admin_username: str
    admin_display_name: str
    admin_password: str


def _running_cluster(profile_name: str) -> EmbeddedCluster:
    """The embedded cluster, initialized and started, with the app database created."""
    cluster = shared_cluster(profile_name)
    try:
        cluster.ensure_initialized()
        cluster.start()
        ensure_database(cluster)
    except EmbeddedError as error:
        raise UserFacingError(str(error)) from error
    return cluster


def _owner_url(profile_name: str) -> str:
    """Start the embedded cluster if needed, make sure the database exists and is migrated."""
    url = _running_cluster(profile_name).url(DATABASE_NAME)
    migrate.upgrade_if_needed(url)
    return url


_DEMO_READY = """
SELECT (SELECT version_num FROM alembic_version) = %s
       AND EXISTS (SELECT 1 FROM organizations WHERE slug = 'acme')
"""


def _demo_ready(cluster: EmbeddedCluster) -> bool:
    """Migrated to this app's head and seeded: the usual case, checked without SQLAlchemy."""
    check_current_thread()
    with psycopg.connect(cluster.conninfo(DATABASE_NAME)) as connection:
        if connection.execute(
                "SELECT to_regclass('public.alembic_version') IS NULL "
                "OR to_regclass('public.organizations') IS NULL").fetchone() != (False,):
            return False
        row = connection.execute(_DEMO_READY, (migrate.head_revision(),)).fetchone()
        return row == (True,)


def demo_exists() -> bool:
    """Whether the demo cluster was created on this computer (it may still need seeding)."""
    return shared_cluster("demo").initialized()


def prepare_demo() -> None:
    """The separate demo cluster, seeded on first use (a second call adds nothing)."""
    try:
        if _demo_ready(_running_cluster("demo")):
            return
        from sqlalchemy import text

        from factorypulse_desktop.data.db import make_engine

        engine = make_engine(_owner_url("demo"))
    except psycopg.Error as error:
        raise friendly_error(error) from error
    try:
        with engine.connect() as connection:
            seeded = connection.execute(
                text("SELECT EXISTS (SELECT 1 FROM organizations WHERE slug = 'acme')")
            ).scalar_one()
        if not seeded:
            from factorypulse_desktop.data.demo import seed_demo  # 2,500 lines of samples

            seed_demo(engine, password=DEMO_PASSWORD)
    except Exception as error:  # database errors become one sentence for the user
        raise friendly_error(error) from error
    finally:
        engine.dispose()


def create_local_organization(setup: LocalSetup) -> None:
    """The embedded database with the organization and its first administrator."""
    check_slug(setup.organization_slug)
    check_username(setup.admin_username)
    check_password(setup.admin_password)
    if not setup.organization_name.strip():
        raise UserFacingError("Give the organization a name.")
    from factorypulse_desktop.data import people
    from factorypulse_desktop.data.db import make_engine

    engine = make_engine(_owner_url("default"))
    try:
        with engine.begin() as connection:
            org = people.create_organization(
                connection, setup.organization_slug, setup.organization_name)
            people.add_person(
                connection, org, setup.admin_username, Role.ADMIN, setup.admin_password,
                display_name=setup.admin_display_name or None)
    except UserFacingError:
        raise
    except Exception as error:
        raise friendly_error(error) from error
    finally:
        engine.dispose()
