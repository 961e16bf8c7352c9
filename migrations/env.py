"""Alembic environment: bootstrap the cluster roles, then migrate as `fp_owner`.

Migrations are run by `factorypulse db upgrade` (see factorypulse_desktop/data/migrate.py), which
passes the URL of the owner or a superuser in the config attribute ``url``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from factorypulse_desktop.data.bootstrap import bootstrap_database

config = context.config


def run_migrations_online() -> None:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migration environment")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Roles are cluster-wide and need the caller's own rights (CREATEROLE, BYPASSRLS):
        # create them before switching to the owner.
        bootstrap_database(connection)
        connection.commit()
        # Every object a revision creates is owned by fp_owner, never by the person who ran it.
        connection.execute(text("SET ROLE fp_owner"))
        connection.commit()
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
        connection.execute(text("RESET ROLE"))
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
