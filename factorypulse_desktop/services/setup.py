"""First start on this computer: the embedded database, its first organization, the demo."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from factorypulse_desktop.data import migrate, people
from factorypulse_desktop.data.db import friendly_error, make_engine
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.validation import check_password, check_slug, check_username
from factorypulse_desktop.runtime.embedded import EmbeddedError
from factorypulse_desktop.runtime.local_server import (
    DATABASE_NAME,
    embedded_cluster,
    ensure_database,
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


def _owner_url(profile_name: str) -> str:
    """Start the embedded cluster if needed, make sure the database exists and is migrated."""
    cluster = embedded_cluster(profile_name)
    try:
        cluster.ensure_initialized()
        cluster.start()
        ensure_database(cluster)
    except EmbeddedError as error:
        raise UserFacingError(str(error)) from error
    url = cluster.url(DATABASE_NAME)
    migrate.upgrade_if_needed(url)
    return url


def prepare_demo() -> None:
    """The separate demo cluster, seeded on first use (a second call adds nothing)."""
    engine = make_engine(_owner_url("demo"))
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
