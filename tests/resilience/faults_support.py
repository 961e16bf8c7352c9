"""Fault injection for the resilience tests (RELIABILITY.md 6.4, T-NET-*): end a save's
backend between its writes and its COMMIT, or let the COMMIT land and lose its answer.

Importable as `faults_support` from tests/resilience (pytest puts the folder of a test module
without ``__init__.py`` on the path); it puts tests/db on the path too, for its helpers
(`rls_support`, `tcp_proxy`, `production_support`).
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

_DB_TESTS = str(Path(__file__).resolve().parents[1] / "db")
if _DB_TESTS not in sys.path:
    sys.path.insert(0, _DB_TESTS)

from rls_support import owner_conn  # noqa: E402

from factorypulse_desktop.services.workspace import Workspace  # noqa: E402


def terminate(db: Any, pid: int) -> None:
    """End a backend and wait until it is gone (the second argument waits, in ms)."""
    with owner_conn(db) as owner:
        owner.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


class _Trap:
    """Armed by the first statement of the workspace matching `pattern` (so the reads before
    the save are left alone); `take()` is true once, at the first commit after it."""

    def __init__(self, ws: Workspace, pattern: str) -> None:
        from sqlalchemy import event

        self.pattern = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        self.armed = False
        self.fired = False
        self.statements = 0  # statements matching the pattern, over all attempts
        self._engine = ws.engine
        event.listen(self._engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.pattern.search(statement):
            self.statements += 1
            if not self.fired:
                self.armed = True

    def take(self) -> bool:
        if self.armed and not self.fired:
            self.fired = True
            return True
        return False

    def remove(self) -> None:
        from sqlalchemy import event

        event.remove(self._engine, "before_cursor_execute", self._seen)


@contextmanager
def killed_before_commit(db: Any, ws: Workspace, pattern: str) -> Iterator[_Trap]:
    """The backend of the save whose statement matches `pattern` is terminated after that
    statement ran and before COMMIT is sent: the server rolls it back."""
    from sqlalchemy import event

    trap = _Trap(ws, pattern)

    def kill_backend(conn: Any) -> None:
        if trap.take():
            terminate(db, conn.connection.dbapi_connection.info.backend_pid)

    event.listen(ws.engine, "commit", kill_backend)
    try:
        yield trap
    finally:
        event.remove(ws.engine, "commit", kill_backend)
        trap.remove()


@contextmanager
def answer_lost_after_commit(db: Any, ws: Workspace, pattern: str) -> Iterator[_Trap]:
    """The save whose statement matches `pattern` commits; then its backend is terminated
    before the answer is read, and the driver reports the connection lost."""
    dialect = ws.engine.dialect
    real_commit = dialect.do_commit
    trap = _Trap(ws, pattern)

    def commit_then_lose_the_answer(dbapi_connection: Any) -> None:
        real_commit(dbapi_connection)
        if trap.take():
            raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
            terminate(db, raw.info.backend_pid)
            raise psycopg.OperationalError("server closed the connection unexpectedly")

    dialect.do_commit = commit_then_lose_the_answer  # type: ignore[method-assign]
    try:
        yield trap
    finally:
        dialect.do_commit = real_commit  # type: ignore[method-assign]
        trap.remove()


def count(db: Any, sql: str, *params: Any) -> int:
    with owner_conn(db) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


@contextmanager
def killed_at(db: Any, ws: Workspace, pattern: str, times: int,
              after: _Trap | None = None, about: Any = None) -> Iterator[list[int]]:
    """The next `times` statements of the workspace matching `pattern` (once `after` fired,
    if given; and only those bound to the value `about`, if given -- not the page's own reads)
    find their backend terminated just before they run: the server gone while the app asks
    whether a save landed."""
    from sqlalchemy import event

    wanted = re.compile(pattern, re.IGNORECASE | re.DOTALL)
    killed: list[int] = []

    def kill(conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        values = parameters.values() if isinstance(parameters, dict) else (parameters or ())
        if (after is None or after.fired) and len(killed) < times \
                and wanted.search(statement) and (about is None or about in values):
            pid = conn.connection.dbapi_connection.info.backend_pid
            killed.append(pid)
            terminate(db, pid)

    event.listen(ws.engine, "before_cursor_execute", kill)
    try:
        yield killed
    finally:
        event.remove(ws.engine, "before_cursor_execute", kill)


NOT_STORED = "nothing was stored"


@contextmanager
def signed(db: Any, who: str, profile: Any = None) -> Iterator[Workspace]:
    """`who` signed in (through `profile`, by default straight to the test cluster)."""
    from support import DEMO_PASSWORD, profile_for

    from factorypulse_desktop.services.auth import sign_in

    with sign_in(profile or profile_for(db), who, DEMO_PASSWORD) as ws:
        yield ws


def acme(db: Any) -> uuid.UUID:
    from rls_support import org_id

    with owner_conn(db) as conn:
        return org_id(conn, "acme")


def a_project(db: Any, org: uuid.UUID) -> uuid.UUID:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT id FROM projects WHERE organization_id = %s AND "
                           "archived_at IS NULL ORDER BY project_number LIMIT 1",
                           (org,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def person(db: Any, username: str) -> uuid.UUID:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT id FROM persons WHERE role_name = %s", (username,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


@contextmanager
def tcp_proxy(cluster: Any) -> Iterator[Any]:
    """The test's TCP proxy in front of `cluster` (see tests/db/tcp_proxy.py)."""
    from tcp_proxy import TcpProxy

    with TcpProxy(lambda: cluster.socket_dir / f".s.PGSQL.{cluster.port}") as running:
        yield running


def tcp_profile(db: Any, proxy: Any) -> Any:
    """A server profile reaching `db` over TCP through `proxy`."""
    from factorypulse_desktop.services.profiles import ConnectionProfile

    return ConnectionProfile(name="Test server over TCP", kind="server", host=proxy.host,
                             port=proxy.port, database=db.name, sslmode="disable")
