"""Engines, and turning database errors into sentences a user can act on."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, exc, pool
from sqlalchemy.engine import make_url

from factorypulse_desktop.data import io_guard
from factorypulse_desktop.domain.errors import UserFacingError

# Errors raised by our own database functions carry a message written for people.
_OWN_MESSAGE_STATES = {"42501", "22023", "42710", "42704", "P0001"}


def make_engine(
    url: str, *, pooled: bool = False, application_name: str = "factorypulse"
) -> Engine:
    """An engine for `url`; workstations keep at most two pooled connections (DESIGN.md 5)."""
    connect_args = {"application_name": application_name, "connect_timeout": 10}
    if pooled:
        engine = create_engine(
            url, pool_size=2, max_overflow=0, pool_pre_ping=True, connect_args=connect_args
        )
        event.listen(engine, "reset", _reset_session_state)
    else:
        engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    io_guard.attach(engine)  # DESIGN.md 5: no database I/O on the GUI thread
    return engine


def _reset_session_state(dbapi_connection: Any, _record: Any, _state: Any) -> None:
    """A connection returned to the pool keeps no session setting into its next use."""
    dbapi_connection.rollback()
    with dbapi_connection.cursor() as cursor:
        cursor.execute("RESET ALL")
    dbapi_connection.commit()


def describe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def friendly_error(error: BaseException) -> UserFacingError:
    """Translate a driver error into one clear sentence."""
    original = error.orig if isinstance(error, exc.DBAPIError) else error
    if isinstance(original, psycopg.OperationalError):
        text = str(original)
        if "password authentication failed" in text:
            return UserFacingError("The user name or password is wrong.")
        if "does not exist" in text and "database" in text:
            return UserFacingError("That database does not exist on the server.")
        return UserFacingError(
            "The database server cannot be reached. Check that it is running and that the "
            "address is right."
        )
    if isinstance(original, psycopg.Error):
        diag = original.diag
        if original.sqlstate in _OWN_MESSAGE_STATES and diag.message_primary:
            return UserFacingError(_sentence(diag.message_primary))
        if isinstance(original, psycopg.errors.UniqueViolation):
            return UserFacingError("That already exists; choose another name or number.")
        if isinstance(original, psycopg.errors.CheckViolation):
            return UserFacingError(f"A value is not allowed ({diag.constraint_name}).")
        if isinstance(original, psycopg.errors.InsufficientPrivilege):
            return UserFacingError("You are not allowed to do that.")
        return UserFacingError(_sentence(diag.message_primary or str(original)))
    return UserFacingError(str(error))


def _sentence(message: str) -> str:
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
