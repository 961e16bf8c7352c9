"""Engines (SQLAlchemy) for the services; `friendly_error` lives in `db_errors`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, pool
from sqlalchemy.engine import make_url

from factorypulse_desktop.data import io_guard
from factorypulse_desktop.data.db_errors import friendly_error

__all__ = ["describe_url", "friendly_error", "make_engine"]

log = logging.getLogger(__name__)


def make_engine(
    url: str,
    *,
    pooled: bool = False,
    application_name: str = "factorypulse",
    libpq_params: Mapping[str, str] | None = None,
) -> Engine:
    """An engine for `url`; workstations keep at most two pooled connections (DESIGN.md 5).

    `libpq_params` (host, user, password, ...) complete or override the URL's: a signed-in
    person's engine is ``make_engine("postgresql+psycopg://", libpq_params=...)``.
    """
    connect_args = {"application_name": application_name, "connect_timeout": 10,
                    **(libpq_params or {})}
    if pooled:
        engine = create_engine(
            url, pool_size=2, max_overflow=0, pool_pre_ping=True, connect_args=connect_args,
            pool_reset_on_return=None,  # _reset_session_state rolls back itself
        )
        event.listen(engine, "reset", _reset_session_state)
    else:
        engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    io_guard.attach(engine)  # DESIGN.md 5: no database I/O on the GUI thread
    return engine


def _reset_session_state(dbapi_connection: Any, record: Any, _state: Any) -> None:
    """A connection returned to the pool keeps no session setting into its next use.

    A connection the server ended meanwhile (a restart, `pg_terminate_backend`, a network
    cut) is discarded here, quietly: the pool would otherwise log an ERROR with a traceback
    for an event the next checkout handles anyway.
    """
    try:
        dbapi_connection.rollback()
        with dbapi_connection.cursor() as cursor:
            cursor.execute("RESET ALL")
        dbapi_connection.commit()
    except psycopg.OperationalError as error:
        if not (dbapi_connection.closed or dbapi_connection.broken):
            raise
        log.info("A pooled connection was lost while being returned; discarded: %s",
                 str(error).splitlines()[0] if str(error) else type(error).__name__)
        if record is not None:
            record.invalidate(error)


def describe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)
