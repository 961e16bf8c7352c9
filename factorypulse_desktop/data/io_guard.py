"""A per-thread ban on database I/O, enforced on every engine by SQLAlchemy event hooks.

DESIGN.md 5: no database call on the GUI thread, ever. The app calls
`forbid_database_io_on_current_thread()` on the GUI thread at start-up; from then on any
connect, pool checkout or statement on that thread raises `DatabaseOnGuiThreadError` before
the driver talks to the server. The check is one thread-local attribute read, so it stays on
in release builds.

Engines get the hooks through `attach()` (`db.make_engine` calls it). Connections opened with
psycopg directly (the LISTEN connection) call `check_current_thread()` themselves.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = [
    "DatabaseOnGuiThreadError",
    "allow_database_io_on_current_thread",
    "attach",
    "check_current_thread",
    "database_io_forbidden_on_current_thread",
    "forbid_database_io_on_current_thread",
]


class DatabaseOnGuiThreadError(RuntimeError):
    """A database call was made on a thread that must never block on the network.

    A programming error, not something the user can fix: the call belongs in a task run by
    `ui/tasks.py`.
    """


# A thread-local flag, not a set of thread ids: ids are reused once a thread ends, and a
# worker must never inherit the ban of a finished thread that had the same id.
_state = threading.local()


def forbid_database_io_on_current_thread() -> None:
    """From now on, any database I/O on the calling thread raises `DatabaseOnGuiThreadError`."""
    _state.forbidden = True


def allow_database_io_on_current_thread() -> None:
    """Lift the ban on the calling thread (tests, and the shutdown path after the GUI is gone)."""
    _state.forbidden = False


def database_io_forbidden_on_current_thread() -> bool:
    """Whether the calling thread is banned from database I/O."""
    return bool(getattr(_state, "forbidden", False))


def check_current_thread() -> None:
    """Raise `DatabaseOnGuiThreadError` if the calling thread is banned from database I/O.

    Call it before any I/O on a connection SQLAlchemy does not manage (raw psycopg).
    """
    if getattr(_state, "forbidden", False):
        thread = threading.current_thread().name
        raise DatabaseOnGuiThreadError(
            f"Database call on the GUI thread ({thread}); run it through the task runner "
            "(factorypulse_desktop/ui/tasks.py) so the window does not freeze."
        )


def attach(engine: Engine) -> None:
    """Make every connect, checkout and statement of `engine` honour the per-thread ban.

    Idempotent. The hooks sit on the engine's dialect and pool, so they also cover copies made
    by `engine.execution_options(...)` and the pool that `engine.dispose()` recreates.

    Order on a checkout: a new connection meets `do_connect` before the driver opens a socket;
    a pooled one meets `checkout` (after the pool's pre-ping, which SQLAlchemy runs first and
    offers no hook for), and SQLAlchemy then discards that connection because the checkout
    failed. `before_cursor_execute` catches a connection that was checked out on another
    thread and then used on a banned one. In every case no statement of the caller is sent.
    """
    from sqlalchemy import event  # not at the top: the GUI thread sets its ban before loading it

    for target, name, hook in (
        (engine, "do_connect", _on_do_connect),
        (engine, "checkout", _on_checkout),
        (engine, "before_cursor_execute", _on_before_cursor_execute),
    ):
        if not event.contains(target, name, hook):
            event.listen(target, name, hook)


def _on_do_connect(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
    check_current_thread()


def _on_checkout(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    check_current_thread()


def _on_before_cursor_execute(
    _conn: Any,
    _cursor: Any,
    _statement: Any,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    check_current_thread()
