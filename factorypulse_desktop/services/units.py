"""Units of work on a signed-in person's workspace, with database errors in plain words.

Every service reads with `read` (read-only, run again whole on a lost connection:
`Workspace.read`) and writes with `transaction` or `write` (one transaction, committed at the
end). A database error becomes a `UserFacingError` through `describe` (by default
`friendly_error`); a `UserFacingError` raised inside passes unchanged. Text the driver cannot
send (a lone surrogate: half of an emoji, left by a broken paste) becomes `BROKEN_TEXT`
instead of a crash (T-IN-01, T-IN-03: every filter and form reaches the database here).
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
BROKEN_TEXT = ("The text contains a broken character (half of an emoji or of a symbol, often "
               "left by copying); delete it or type the text again.")
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
    except UnicodeEncodeError as error:  # psycopg encodes parameters as UTF-8
        raise UserFacingError(BROKEN_TEXT) from error


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
    except UnicodeEncodeError as error:
        raise UserFacingError(BROKEN_TEXT) from error


def write(ws: Workspace, fn: Callable[[Connection], T], *,
          describe: Describe = friendly_error) -> T:
    """`fn(connection)` in one transaction."""
    with transaction(ws, describe=describe) as conn:
        return fn(conn)
