"""Units of work on a signed-in person's workspace, with database errors in plain words.

Every service reads with `read` (read-only, run again whole on a lost connection:
`Workspace.read`) and writes with `transaction` or `write` (one transaction, committed at the
end). A database error becomes a `UserFacingError` through `describe` (by default
`friendly_error`); a `UserFacingError` raised inside passes unchanged. Text the driver cannot
send (a lone surrogate: half of an emoji, left by a broken paste) becomes `BROKEN_TEXT`
instead of a crash (T-IN-01, T-IN-03: every filter and form reaches the database here).

`write` runs the whole unit again when the database ended it with a serialization failure or
a deadlock (SQLSTATE 40001/40P01: nothing of it was stored), at most `WRITE_ATTEMPTS` times in
all, then says so in plain words (T-CONC-08). `write_once` also survives a lost connection
(T-NET-03): it asks the database whether the save landed -- by the client-chosen id or version
the unit wrote -- and either returns what landed or says that nothing was stored, so that
pressing Save again never stores it twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg
from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import driver_error, friendly_error
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services.workspace import Workspace, connection_lost

log = logging.getLogger(__name__)

T = TypeVar("T")
BROKEN_TEXT = ("The text contains a broken character (half of an emoji or of a symbol, often "
               "left by copying); delete it or type the text again.")
Describe = Callable[[exc.DBAPIError], UserFacingError]

# Serialization failure and deadlock: the database rolled the transaction back; running the
# whole unit again is safe and usually succeeds.
RETRY_STATES = frozenset({"40001", "40P01"})
WRITE_ATTEMPTS = 3
RETRY_DELAYS: tuple[float, ...] = (0.05, 0.2)
BUSY_MESSAGE = (
    "Someone else was changing the same records at the same moment, and this could not be "
    "saved after 3 tries; nothing was stored. Try again.")
NOT_STORED_MESSAGE = (
    "The connection to the database was lost before this was saved; nothing was stored. "
    "What you entered is kept: try again when the connection is back.")
UNKNOWN_MESSAGE = (
    "The connection to the database was lost while saving, and whether the save arrived "
    "cannot be checked yet. What you entered is kept: try again when the connection is back "
    "(it will not be saved twice).")


class SaveOutcomeUnknown(UserFacingError):
    """The connection was lost while saving and whether it landed cannot be checked yet:
    keep the input; sending the same save again stores it at most once."""


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


@contextmanager
def _begin(ws: Workspace, isolation: str | None) -> Iterator[Connection]:
    if isolation is None:
        with ws.transaction() as conn:
            yield conn
        return
    with ws.engine.connect() as conn:
        conn.execution_options(isolation_level=isolation)  # reset when it goes back
        with conn.begin():
            yield conn


def retryable(error: BaseException) -> bool:
    """A serialization failure or deadlock: the whole transaction may simply run again."""
    return getattr(driver_error(error), "sqlstate", None) in RETRY_STATES


def write(ws: Workspace, fn: Callable[[Connection], T], *,
          describe: Describe = friendly_error, isolation: str | None = None,
          attempts: int = WRITE_ATTEMPTS) -> T:
    """`fn(connection)` in one transaction (at `isolation`, e.g. "SERIALIZABLE", if given).

    Run again whole -- `fn` must not have effects outside the transaction -- after a
    serialization failure or deadlock, up to `attempts` times in all; then `BUSY_MESSAGE`.
    """
    attempt = 1
    while True:
        try:
            with _begin(ws, isolation) as conn:
                return fn(conn)
        except UserFacingError:
            raise
        except UnicodeEncodeError as error:
            raise UserFacingError(BROKEN_TEXT) from error
        except exc.DBAPIError as error:
            if not retryable(error):
                raise describe(error) from error
            if attempt >= attempts:
                log.warning("Write given up after %d attempts: %s", attempts,
                            driver_error(error))
                raise UserFacingError(BUSY_MESSAGE) from error
            log.info("Write ran into a concurrent one (attempt %d of %d), running it again",
                     attempt, attempts)
            time.sleep(RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)])
            attempt += 1


def write_once(ws: Workspace, fn: Callable[[Connection], T],
               landed: Callable[[Connection], T | None], *,
               describe: Describe = friendly_error, isolation: str | None = None) -> T:
    """`write(ws, fn)`, and when the connection is lost on the way -- before the COMMIT, or
    during it with the answer lost -- `landed(connection)` (a read) tells whether the
    database stored it: its result is returned as if the save had answered. None means
    nothing was stored: `NOT_STORED_MESSAGE`; the check failing too: `UNKNOWN_MESSAGE`.

    `fn` must write with an id or version chosen before the first attempt, so that `landed`
    can recognize its own save (and a second call stores nothing new).
    """
    try:
        return write(ws, fn, describe=describe, isolation=isolation)
    except UserFacingError as error:
        cause = error.__cause__
        if cause is None or not connection_lost(cause):
            raise
        lost: BaseException = cause
    except (exc.DBAPIError, psycopg.Error) as error:  # pragma: no cover - write describes
        if not connection_lost(error):
            raise
        lost = error
    log.info("Connection lost while saving; checking whether it landed: %s",
             driver_error(lost))
    try:
        found = ws.read(landed)
    except (UserFacingError, exc.DBAPIError, psycopg.Error) as error:
        raise SaveOutcomeUnknown(UNKNOWN_MESSAGE) from error
    if found is None:
        raise UserFacingError(NOT_STORED_MESSAGE) from lost
    return found


# The change that made each version of the row after :after (the first change_log row at that
# version: later rows at the same version, e.g. a document's access counters, made none).
_ONLY_MINE = text("""
SELECT coalesce(bool_and(coalesce(f.actor_id = :me, false)), false)
FROM (SELECT DISTINCT ON (l.row_version) l.actor_id FROM change_log l
      WHERE l.organization_id = :org AND l.entity_type = :table AND l.entity_id = :id
        AND l.row_version > :after
      ORDER BY l.row_version, l.id) f
""")


def changed_only_by(conn: Connection, table: str, organization_id: uuid.UUID,
                    row_id: uuid.UUID, after_version: int, person: uuid.UUID) -> bool:
    """Whether the row of `table` was changed since `after_version` and every version since
    was made by `person` -- with the stored values, how a `write_once` `landed` check tells
    its own version-checked save from someone else's (T-NET-03)."""
    return bool(conn.execute(_ONLY_MINE, {
        "me": person, "org": organization_id, "table": table, "id": row_id,
        "after": after_version}).scalar_one())


# Tables of rows created with a client-chosen id, and the column naming who created one (set
# by the database from the login, never by the client).
_AUTHOR_COLUMNS = {"purchase_orders": "created_by", "production_orders": "created_by",
                   "documents": "uploaded_by", "approval_delegations": "delegator_id"}


def created_by(conn: Connection, table: str, organization_id: uuid.UUID, row_id: uuid.UUID,
               person: uuid.UUID) -> bool:
    """Whether `table` holds the row `row_id` of the organization, created by `person`: how a
    create with a client-chosen id recognizes its own row after a lost answer (T-NET-03)."""
    author = _AUTHOR_COLUMNS[table]  # a fixed name: it goes into the SQL text
    return conn.execute(text(
        f"SELECT 1 FROM {table} WHERE organization_id = :org AND id = :id "
        f"AND {author} = :me"), {"org": organization_id, "id": row_id, "me": person}
    ).first() is not None
