"""The per-thread database ban: a banned thread cannot connect, check out or execute."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, Engine, exc, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from factorypulse_desktop.data import io_guard
from factorypulse_desktop.data.db import make_engine
from factorypulse_desktop.data.io_guard import (
    DatabaseOnGuiThreadError,
    allow_database_io_on_current_thread,
    check_current_thread,
    database_io_forbidden_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services import io_guard as services_io_guard

T = TypeVar("T")
Database = Any  # tests/conftest.py Database (a fixture value)

PROBE = "io_guard_probe"
CREATE_PROBE = text(f"CREATE TABLE {PROBE} (id int)")


def in_worker(fn: Callable[[], T]) -> T:
    """Run `fn` on another thread (as the task runner would) and return its result."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result(timeout=30)


@pytest.fixture
def forbidden() -> Iterator[None]:
    """This (the test's) thread plays the GUI thread; the ban must not leak into other tests."""
    forbid_database_io_on_current_thread()
    try:
        yield
    finally:
        allow_database_io_on_current_thread()


@pytest.fixture(params=[False, True], ids=["nullpool", "pooled"])
def engine(request: pytest.FixtureRequest, migrated_db: Database) -> Iterator[Engine]:
    engine = make_engine(migrated_db.owner_url, pooled=request.param)
    try:
        yield engine
    finally:
        allow_database_io_on_current_thread()
        engine.dispose()


def probe_exists(engine: Engine) -> bool:
    def query() -> bool:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": PROBE})

    return in_worker(query)


def create_probe_with_core(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(CREATE_PROBE)


def create_probe_with_orm(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.execute(CREATE_PROBE)


@pytest.mark.parametrize("create_probe", [create_probe_with_core, create_probe_with_orm])
def test_statement_on_a_forbidden_thread_raises_and_never_reaches_the_server(
    engine: Engine, create_probe: Callable[[Engine], None]
) -> None:
    # Warm up first, so the pooled engine has a connection waiting in its pool: the guard
    # must stop a reused connection too, not only a new one.
    assert in_worker(lambda: engine.connect().close()) is None

    forbid_database_io_on_current_thread()
    with pytest.raises(DatabaseOnGuiThreadError, match="GUI thread"):
        create_probe(engine)
    allow_database_io_on_current_thread()

    assert not probe_exists(engine)
    if isinstance(engine.pool, QueuePool):
        assert engine.pool.checkedout() == 0  # nothing left checked out by the refused call


def test_the_same_statement_works_on_a_worker_thread(engine: Engine, forbidden: None) -> None:
    in_worker(lambda: create_probe_with_core(engine))
    assert probe_exists(engine)
    with pytest.raises(DatabaseOnGuiThreadError):
        probe_exists_here(engine)  # and the ban on this thread still holds


def probe_exists_here(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT to_regclass(:name) IS NOT NULL"), {"name": PROBE}))


def test_allowing_lifts_the_ban(engine: Engine) -> None:
    forbid_database_io_on_current_thread()
    with pytest.raises(DatabaseOnGuiThreadError):
        probe_exists_here(engine)
    allow_database_io_on_current_thread()
    assert probe_exists_here(engine) is False
    assert not database_io_forbidden_on_current_thread()


def test_taking_a_connection_is_refused_even_without_a_statement(engine: Engine) -> None:
    """A raw DBAPI connection bypasses statement events: the checkout itself must fail."""
    in_worker(lambda: engine.connect().close())  # a pooled connection is now waiting
    forbid_database_io_on_current_thread()
    try:
        with pytest.raises(DatabaseOnGuiThreadError):
            engine.raw_connection()
        with pytest.raises(DatabaseOnGuiThreadError):
            engine.connect()
    finally:
        allow_database_io_on_current_thread()
    raw = engine.raw_connection()
    raw.close()


def test_connection_opened_elsewhere_cannot_be_used_on_a_forbidden_thread(
    migrated_db: Database, forbidden: None
) -> None:
    engine = make_engine(migrated_db.owner_url)
    conn: Connection = in_worker(engine.connect)  # checked out on a worker thread
    try:
        with pytest.raises(DatabaseOnGuiThreadError):
            conn.execute(CREATE_PROBE)
    finally:
        allow_database_io_on_current_thread()
        conn.close()
    try:
        assert not probe_exists(engine)
    finally:
        engine.dispose()


def test_guard_fires_before_the_driver_connects(forbidden: None) -> None:
    """A server that does not exist: the ban must win over the connection error."""
    engine = make_engine("postgresql+psycopg://nobody@/nowhere?host=/nonexistent-io-guard-dir")
    try:
        with pytest.raises(DatabaseOnGuiThreadError):
            engine.connect()
        allow_database_io_on_current_thread()
        with pytest.raises(exc.OperationalError):
            engine.connect()
    finally:
        engine.dispose()


def test_raw_connections_check_for_themselves() -> None:
    check_current_thread()  # allowed: no error
    forbid_database_io_on_current_thread()
    try:
        with pytest.raises(DatabaseOnGuiThreadError):
            check_current_thread()
    finally:
        allow_database_io_on_current_thread()
    check_current_thread()


def test_the_ban_belongs_to_one_thread(forbidden: None) -> None:
    seen: list[bool] = []

    def banned_then_ends() -> None:
        forbid_database_io_on_current_thread()
        seen.append(database_io_forbidden_on_current_thread())

    for target in (
        banned_then_ends,
        lambda: seen.append(database_io_forbidden_on_current_thread()),
    ):
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    # The second thread may reuse the first one's id; it must not inherit its ban.
    assert seen == [True, False]
    assert database_io_forbidden_on_current_thread()


def test_attach_is_idempotent_and_services_reexport_the_same_objects(
    migrated_db: Database,
) -> None:
    engine = make_engine(migrated_db.owner_url)
    try:
        counts = [len(engine.dispatch.before_cursor_execute), len(engine.pool.dispatch.checkout)]
        io_guard.attach(engine)
        assert [
            len(engine.dispatch.before_cursor_execute),
            len(engine.pool.dispatch.checkout),
        ] == counts
        assert counts == [1, 1]
    finally:
        engine.dispose()
    assert services_io_guard.DatabaseOnGuiThreadError is DatabaseOnGuiThreadError
    assert (
        services_io_guard.forbid_database_io_on_current_thread
        is forbid_database_io_on_current_thread
    )
    assert (
        services_io_guard.allow_database_io_on_current_thread is allow_database_io_on_current_thread
    )
