"""A signed-in person's connection to one database: the pool the services run on.

Signing in needs psycopg only; SQLAlchemy (about 0.15 s to import, 0.3 s with the ORM) is
loaded the first time the workspace's engine is used, on a worker thread after the main
window is up. That keeps it out of the cold start (issue 3's budget), which is why this
module imports it inside functions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from factorypulse_desktop.domain.errors import UserFacingError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from factorypulse_desktop.services.auth import Identity
    from factorypulse_desktop.services.profiles import ConnectionProfile

log = logging.getLogger(__name__)

# libpq parameters of every connection the app makes as a person (the pool and the listener):
# give up connecting after 5 s, and notice a dead server or network within about a minute.
CONNECT_ARGS: Mapping[str, int] = MappingProxyType(
    {
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": 30000,
    }
)

# Workspace.read: the pauses before the 2nd, 3rd, ... attempt after a lost connection (the last
# one repeats), and what the person is told when every attempt failed.
READ_RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0)
CONNECTION_LOST_MESSAGE = (
    "The connection to the database was lost. Check the network connection and that the "
    "database server is running, then try again."
)
# SQLSTATEs that mean the server ended the session (the connection is gone, not the query):
# admin/crash shutdown, cannot connect now, database dropped, idle-session timeout,
# idle-in-transaction and transaction timeouts. Class 08 (connection exception) counts too.
# Not 57014 (query_canceled, e.g. statement_timeout): the connection is fine, and running the
# same slow query again would only make the person wait longer.
_SESSION_ENDED_STATES = frozenset({"57P01", "57P02", "57P03", "57P04", "57P05", "25P03", "25P04"})
_SIGNED_OUT = "You have signed out; sign in again."
LISTENER_APPLICATION_NAME = "factorypulse-listener"

T = TypeVar("T")


class Workspace:
    """A signed-in person's connection to one database; owns a pooled engine.

    The pool holds at most two connections (``make_engine(url, pooled=True)``) and is made on
    first use; the listener opens a third with :meth:`conninfo`. Close it at sign-out; an
    embedded server keeps running (call ``auth.stop_embedded_if_unused`` when the app exits).
    """

    def __init__(
        self,
        *,
        identity: Identity,
        profile: ConnectionProfile,
        conninfo: str,
    ) -> None:
        """`conninfo`: libpq parameters of the person's connections, password included."""
        self.identity = identity
        self.profile = profile
        self._conninfo = conninfo
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"Workspace({self.profile.name!r}, {self.identity.username!r})"

    @property
    def engine(self) -> Engine:
        """For the services of this workspace; everything runs as the signed-in person."""
        with self._engine_lock:
            if self._closed:
                raise UserFacingError(_SIGNED_OUT)
            if self._engine is None:
                self._engine = _person_engine(self._conninfo)
            return self._engine

    @property
    def closed(self) -> bool:
        return self._closed

    def conninfo(self) -> str:
        """A libpq string for the listener connection (same credentials; keep it in memory)."""
        return make_conninfo(self._conninfo, application_name=LISTENER_APPLICATION_NAME)

    def transaction(self) -> AbstractContextManager[Connection]:
        """A connection in a transaction, committed at the end of the ``with`` block."""
        return self.engine.begin()

    def read(self, fn: Callable[[Connection], T], *, attempts: int = 3) -> T:
        """``fn(connection)`` in a read-only transaction; retried whole on a lost connection.

        For reads only (a read is idempotent, so running it again is safe): ``fn`` gets a
        connection inside a ``READ ONLY`` transaction (a write fails with
        ``ReadOnlySqlTransaction``) and should return plain data, not live result objects.
        When the connection turns out to be lost -- the server restarted, a network cut, a
        session ended by the server -- the broken connection is discarded from the pool and
        the whole unit runs again on a fresh one, after ``READ_RETRY_DELAYS``, up to
        ``attempts`` times in all. After the last attempt a :class:`UserFacingError` with
        :data:`CONNECTION_LOST_MESSAGE` is raised (the driver's error is its ``__cause__``).
        Any other error propagates unchanged, without a retry.

        Blocking: run it through the task runner, never on the GUI thread.
        """
        from sqlalchemy import exc

        attempts = max(1, attempts)
        attempt = 1
        while True:
            try:
                return self._read_once(fn)
            except (exc.DBAPIError, psycopg.Error) as error:
                if not connection_lost(error):
                    raise
                if attempt >= attempts:
                    log.warning(
                        "Read given up after %d attempt(s), the connection was lost: %s",
                        attempts,
                        _first_line(error),
                    )
                    raise UserFacingError(CONNECTION_LOST_MESSAGE) from error
                delay = READ_RETRY_DELAYS[min(attempt - 1, len(READ_RETRY_DELAYS) - 1)]
                log.info(
                    "Connection lost during a read (attempt %d of %d), retrying in %.1f s: %s",
                    attempt,
                    attempts,
                    delay,
                    _first_line(error),
                )
                time.sleep(delay)
                attempt += 1

    def _read_once(self, fn: Callable[[Connection], T]) -> T:
        from sqlalchemy import exc

        # Checkout pre-pings the pooled connection (make_engine's pool_pre_ping): a connection
        # that died while idle is replaced here, before fn sees it.
        connection = self.engine.connect()
        try:
            # BEGIN READ ONLY; reset when the connection goes back to the pool.
            connection = connection.execution_options(postgresql_readonly=True)
            with connection.begin():
                return fn(connection)
        except (exc.DBAPIError, psycopg.Error) as error:
            # SQLAlchemy invalidates a connection psycopg marked broken; a session the server
            # ended may not be marked yet: never hand it out again.
            if connection_lost(error) and not connection.invalidated:
                connection.invalidate(error)
            raise
        finally:
            connection.close()

    def close(self) -> None:
        """Sign out: close the pooled connections (an embedded server keeps running)."""
        with self._engine_lock:
            self._closed = True
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _person_engine(conninfo: str) -> Engine:
    from factorypulse_desktop.data.db import make_engine

    params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    params.pop("application_name", None)  # make_engine names the app's connections
    return make_engine("postgresql+psycopg://", pooled=True, libpq_params=params)


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` means the connection is gone (as opposed to a failing statement).

    True for a connection SQLAlchemy invalidated, for libpq's own failures (no SQLSTATE:
    cannot connect, connection timeout, server closed the connection, consuming input
    failed), for class 08 and for the SQLSTATEs of a session the server ended.
    """
    if getattr(error, "connection_invalidated", False):  # a SQLAlchemy DBAPIError
        return True
    original = getattr(error, "orig", None) or error
    if not isinstance(original, psycopg.Error):
        return False
    state = original.sqlstate
    if state is None:
        return isinstance(original, psycopg.OperationalError | psycopg.InterfaceError)
    return state.startswith("08") or state in _SESSION_ENDED_STATES


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__
