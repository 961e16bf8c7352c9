"""Units of work on a signed-in person's workspace, with database errors in plain words.

Every service reads with `read` (read-only, run again whole on a lost connection:
`Workspace.read`) and writes with `transaction` or `write` (one transaction, committed at the
end). A database error becomes a `UserFacingError` through `describe` (by default
`friendly_error`); a `UserFacingError` raised inside passes unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection, exc

from factorypulse_desktop.data.db_errors import friendly_error
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services.workspace import Workspace

T = TypeVar("T")
Describe = Callable[[exc.DBAPIError], UserFacingError]


def read(ws: Workspace, fn: Callable[[Connection], T], *,
         describe: Describe = friendly_error) -> T:
    """`fn(connection)` in one read-only transaction; it should return plain data."""
    try:
        return ws.read(fn)
    except UserFacingError:
        raise
    except exc.DBAPIError as error:
        raise describe(error) from error


@contextmanager
def transaction(ws: Workspace, *, describe: Describe = friendly_error) -> Iterator[Connection]:
    """A connection in a transaction, committed when the ``with`` block ends without error."""
    try:
        with ws.transaction() as conn:
            yield conn
    except UserFacingError:
        raise
    except exc.DBAPIError as error:
        raise describe(error) from error


def write(ws: Workspace, fn: Callable[[Connection], T], *,
          describe: Describe = friendly_error) -> T:
    """`fn(connection)` in one transaction."""
    with transaction(ws, describe=describe) as conn:
        return fn(conn)
