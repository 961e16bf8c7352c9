"""Connection loss against a real PostgreSQL (RELIABILITY.md 6.4: T-NET-01, 02, 06, 08, 09).

The app connects as a person with a ``server`` profile over TCP to `tcp_proxy.TcpProxy`, which
forwards to the session's test cluster (unix socket only) and can cut or black-hole the
network. The cluster is shared by the whole session: a test that stops or restarts it always
leaves it running.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from types import MappingProxyType
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from rls_support import owner_conn, person_conn
from sqlalchemy import Connection, event, exc, text
from tcp_proxy import BLACKHOLE_SUPPORTED, Mode, TcpProxy, unacknowledged

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime.embedded import EmbeddedCluster
from factorypulse_desktop.services import auth
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in
from factorypulse_desktop.services.live import Change, ChangeFeed, FeedState
from factorypulse_desktop.ui.dialogs.sign_in import SignInDialog
from factorypulse_desktop.ui.tasks import TaskRunner

PASSWORD = "factorypulse-demo"
PERSON = "acme.admin"

# Short network timeouts, so that a dead network is noticed in seconds, not a minute.
FAST_CONNECT_ARGS = MappingProxyType(
    {
        "connect_timeout": 2,  # libpq's minimum
        "keepalives": 1,
        "keepalives_idle": 2,
        "keepalives_interval": 1,
        "keepalives_count": 2,
        "tcp_user_timeout": 5000,
    }
)


# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def cluster(pg_cluster: EmbeddedCluster) -> Iterator[EmbeddedCluster]:
    """The session's cluster, running again after the test whatever happened."""
    try:
        yield pg_cluster
    finally:
        if not pg_cluster.is_running():
            pg_cluster.start()


@pytest.fixture
def proxy(pg_cluster: EmbeddedCluster) -> Iterator[TcpProxy]:
    with TcpProxy(lambda: pg_cluster.socket_dir / f".s.PGSQL.{pg_cluster.port}") as running:
        yield running


@pytest.fixture
def fast_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-ins (pool and listener conninfo) use `FAST_CONNECT_ARGS`."""
    monkeypatch.setattr(auth, "CONNECT_ARGS", FAST_CONNECT_ARGS)


def tcp_profile(db: Any, proxy: TcpProxy) -> ConnectionProfile:
    """A server profile reaching the test cluster over TCP, through the proxy."""
    return ConnectionProfile(
        name="Test server over TCP",
        kind="server",
        host=proxy.host,
        port=proxy.port,
        database=db.name,
        sslmode="disable",
    )


@pytest.fixture
def workspace(demo_db: Any, proxy: TcpProxy) -> Iterator[Workspace]:
    ws = sign_in(tcp_profile(demo_db, proxy), PERSON, PASSWORD)
    try:
        yield ws
    finally:
        ws.close()


class DbErrors:
    """Every driver error the workspace's engine saw: statements vs. the pool's pre-ping."""

    def __init__(self, workspace: Workspace) -> None:
        self.statement: list[BaseException] = []
        self.pre_ping: list[BaseException] = []
        event.listen(workspace.engine, "handle_error", self._on_error)

    def _on_error(self, context: Any) -> None:
        target = self.pre_ping if context.is_pre_ping else self.statement
        target.append(context.original_exception)


def list_projects(conn: Connection) -> list[tuple[uuid.UUID, str]]:
    rows = conn.execute(text("SELECT id, title FROM projects ORDER BY id"))
    return [(row.id, row.title) for row in rows]


def backend_pid(conn: Connection) -> int:
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def expected_projects(db: Any) -> list[tuple[uuid.UUID, str]]:
    with person_conn(db, PERSON) as conn:
        rows = conn.execute("SELECT id, title FROM projects ORDER BY id").fetchall()
    assert rows
    return [(row[0], row[1]) for row in rows]


def assert_plain(message: str) -> None:
    assert message == auth.CONNECTION_LOST_MESSAGE
    assert "\n" not in message and "Traceback" not in message
    assert "psycopg" not in message and "sqlalchemy" not in message.lower()


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = fn()
    return result, time.monotonic() - started


# -- the proxy itself ----------------------------------------------------------------------------


@pytest.mark.skipif(not BLACKHOLE_SUPPORTED, reason="the black hole needs Linux socket filters")
def test_the_proxy_black_hole_is_silent_and_cut_resets(proxy: TcpProxy) -> None:
    """What the other tests rely on: a black hole neither answers nor resets; cut resets."""
    with socket.create_connection((proxy.host, proxy.port), timeout=2) as client:
        proxy.blackhole()
        assert proxy.mode is Mode.BLACKHOLE
        client.sendall(b"\0\0\0\x08\x04\xd2\x16\x2f")  # an SSLRequest
        time.sleep(0.5)
        # Not acknowledged: still in the client's send queue (a live peer's kernel would
        # have acknowledged it within a millisecond, even if nobody read it).
        assert unacknowledged(client) == 8
        with pytest.raises(TimeoutError):  # nothing comes back, and there is no reset
            client.recv(1)
        with pytest.raises(TimeoutError), socket.socket() as late:  # new ones: no answer
            late.settimeout(0.5)
            late.connect((proxy.host, proxy.port))

        proxy.resume()
        client.settimeout(5)
        assert client.recv(1) == b"N"  # the server answers the held request: no SSL
        proxy.cut()
        with pytest.raises(ConnectionResetError):
            client.recv(1)
    # Cut also resets new connections, until resume(): at connect or at the first read.
    with pytest.raises(ConnectionResetError), socket.create_connection(
        (proxy.host, proxy.port), timeout=2
    ) as refused:
        refused.recv(1)
    proxy.resume()
    with socket.create_connection((proxy.host, proxy.port), timeout=2) as again:
        again.sendall(b"\0\0\0\x08\x04\xd2\x16\x2f")
        assert again.recv(1) == b"N"


# -- the connection itself --------------------------------------------------------------------


def test_server_profiles_get_the_keepalive_and_timeout_parameters(
    workspace: Workspace, proxy: TcpProxy
) -> None:
    """RELIABILITY.md 6.3: every pooled connection and the listener carry them, over TCP."""
    with workspace.engine.connect() as conn:
        params = conn.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
    assert params["host"] == "127.0.0.1" and params["port"] == str(proxy.port)
    for name, value in auth.CONNECT_ARGS.items():
        assert params[name] == str(value), name
    listener = psycopg.conninfo.conninfo_to_dict(workspace.conninfo())
    for name, value in auth.CONNECT_ARGS.items():
        assert listener[name] == str(value), name


def test_a_read_runs_read_only(workspace: Workspace) -> None:
    def write(conn: Connection) -> None:
        conn.execute(text("UPDATE projects SET title = title"))

    with pytest.raises(exc.InternalError) as caught:
        workspace.read(write)
    assert isinstance(caught.value.orig, psycopg.errors.ReadOnlySqlTransaction)
    # The connection went back to the pool as a read-write one.
    with workspace.transaction() as conn:
        assert conn.execute(text("SHOW transaction_read_only")).scalar_one() == "off"


# -- T-NET-01 ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_T_NET_01_server_restart_while_idle(
    demo_db: Any, workspace: Workspace, cluster: EmbeddedCluster
) -> None:
    expected = expected_projects(demo_db)
    assert workspace.read(list_projects) == expected
    old_pid = workspace.read(backend_pid)
    errors = DbErrors(workspace)

    cluster.restart()

    projects, seconds = timed(lambda: workspace.read(list_projects))
    assert projects == expected
    assert seconds < 2.0  # well within the read's backoff (0.2 + 0.5 s)
    # Pre-ping found the dead pooled connection at checkout: no statement ever ran on it.
    assert errors.statement == []
    assert errors.pre_ping, "the pooled connection should have been found dead"
    new_pid = workspace.read(backend_pid)
    assert new_pid != old_pid
    assert workspace.read(list_projects) == expected  # and the next read is fine too
    assert errors.statement == []
    print(f"\nT-NET-01: first read after the restart took {seconds:.3f} s")


# -- T-NET-02 ---------------------------------------------------------------------------------


def _owner_terminates(db: Any, pid: int) -> None:
    with owner_conn(db, autocommit=True) as owner:
        owner.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.parametrize("how", ["proxy-cut", "pg_terminate_backend"])
def test_T_NET_02_a_read_cut_midway_is_retried(
    demo_db: Any, workspace: Workspace, proxy: TcpProxy, how: str
) -> None:
    expected = expected_projects(demo_db)
    pids: list[int] = []
    running = threading.Event()

    def slow_list(conn: Connection) -> list[tuple[uuid.UUID, str]]:
        pids.append(backend_pid(conn))
        if len(pids) == 1:
            running.set()
            conn.execute(text("SELECT pg_sleep(1)"))  # cut while this runs
        return list_projects(conn)

    def break_it() -> None:
        assert running.wait(5)
        time.sleep(0.2)  # well inside pg_sleep(1)
        if how == "proxy-cut":
            # Down for 0.4 s: the attempt after the first pause (0.2 s) is refused as well.
            proxy.cut()
            time.sleep(0.4)
            proxy.resume()
        else:
            _owner_terminates(demo_db, pids[0])

    breaker = threading.Thread(target=break_it)
    breaker.start()
    try:
        projects, seconds = timed(lambda: workspace.read(slow_list))
    finally:
        breaker.join(10)
    assert projects == expected
    assert len(pids) >= 2 and pids[-1] != pids[0]  # the whole unit ran again, elsewhere
    assert seconds < 0.2 + 0.5 + 1.0 + 2.0
    assert workspace.read(list_projects) == expected
    print(f"\nT-NET-02 ({how}): read returned after {seconds:.2f} s, {len(pids)} runs of fn")


@pytest.mark.slow
def test_T_NET_02_server_down_longer_than_the_attempts(
    demo_db: Any, workspace: Workspace, cluster: EmbeddedCluster
) -> None:
    expected = expected_projects(demo_db)
    assert workspace.read(list_projects) == expected
    cluster.stop()
    try:
        started = time.monotonic()
        with pytest.raises(UserFacingError) as caught:
            workspace.read(list_projects)
        seconds = time.monotonic() - started
        started = time.monotonic()
        with pytest.raises(UserFacingError):
            workspace.read(list_projects, attempts=1)  # one attempt: no pause at all
        single = time.monotonic() - started
    finally:
        cluster.start()
    assert_plain(str(caught.value))
    assert isinstance(caught.value.__cause__, exc.DBAPIError)  # the detail, for the log
    assert single < 0.5
    assert 0.2 + 0.5 <= seconds < 0.2 + 0.5 + 1.0  # the two pauses, and quick failures
    assert workspace.read(list_projects) == expected  # back by itself once the server is
    print(f"\nT-NET-02 (server down): gave up after 3 attempts in {seconds:.2f} s")


def test_a_failing_statement_is_not_retried(workspace: Workspace) -> None:
    runs = 0

    def broken(conn: Connection) -> None:
        nonlocal runs
        runs += 1
        conn.execute(text("SELECT 1 / 0"))

    with pytest.raises(exc.DataError):
        workspace.read(broken)
    assert runs == 1


# -- T-NET-09 ---------------------------------------------------------------------------------


def _wait_backend_gone(db: Any, pid: int, timeout: float = 10.0) -> None:
    """Until the server has ended backend `pid` (polls; no fixed sleep)."""
    deadline = time.monotonic() + timeout
    with owner_conn(db, autocommit=True) as owner:
        while owner.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the server did not end the session"
            time.sleep(0.05)


def test_T_NET_09_a_transaction_left_open_is_ended_and_discarded(
    demo_db: Any, workspace: Workspace
) -> None:
    expected = expected_projects(demo_db)
    errors = DbErrors(workspace)
    with pytest.raises(exc.DBAPIError) as caught, workspace.transaction() as conn:
        # Persons have 15 min; 1 s here. A bug leaves the transaction open and idle.
        shown = conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar_one()
        assert shown == "15min"
        conn.execute(text("SET idle_in_transaction_session_timeout = '1s'"))
        pid = backend_pid(conn)
        _wait_backend_gone(demo_db, pid)
        conn.execute(text("SELECT 1"))
    error = caught.value
    assert auth.connection_lost(error)
    assert error.connection_invalidated  # the pool discards it: never handed out again
    assert "idle-in-transaction timeout" in str(error.orig)
    statement_errors = len(errors.statement)

    assert workspace.read(list_projects) == expected
    assert workspace.read(backend_pid) != pid
    assert len(errors.statement) == statement_errors and errors.pre_ping == []


def test_a_connection_ended_while_going_back_to_the_pool_is_discarded_quietly(
    demo_db: Any, workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    """The server ends a session just as its connection is returned (a restart, a network
    cut, `pg_terminate_backend`): no ERROR with a traceback in the log, and the next write
    and read run on a fresh connection. (Found by the soak: one ERROR per such event.)"""
    ended: list[int] = []

    def end_it_first(dbapi_connection: Any, _record: Any, _state: Any) -> None:
        pid = dbapi_connection.info.backend_pid
        if not ended:
            with owner_conn(demo_db, autocommit=True) as owner:
                owner.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
            ended.append(pid)

    # Placed before the app's own reset hook, so that the hook meets a dead connection.
    event.listen(workspace.engine.pool, "reset", end_it_first, insert=True)
    caplog.set_level("INFO")
    with workspace.transaction() as conn:
        pid = backend_pid(conn)
        conn.execute(text("SELECT 1"))
    assert ended == [pid]
    assert [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")] == []
    assert any("lost while being returned" in r.getMessage() for r in caplog.records)

    with workspace.transaction() as conn:
        assert backend_pid(conn) != pid
    assert workspace.read(backend_pid) != pid


def test_T_NET_09_a_read_that_idles_past_the_timeout_is_retried(
    demo_db: Any, workspace: Workspace
) -> None:
    expected = expected_projects(demo_db)
    pids: list[int] = []

    def idles_once(conn: Connection) -> list[tuple[uuid.UUID, str]]:
        pids.append(backend_pid(conn))
        if len(pids) == 1:
            conn.execute(text("SET idle_in_transaction_session_timeout = '1s'"))
            _wait_backend_gone(demo_db, pids[0])
        return list_projects(conn)

    assert workspace.read(idles_once) == expected
    assert len(pids) == 2 and pids[0] != pids[1]


# -- T-NET-06 ---------------------------------------------------------------------------------


class FeedRecorder:
    """A `ChangeFeed` on a thread of its own, recording states (with times) and changes."""

    def __init__(self, feed: ChangeFeed) -> None:
        self.feed = feed
        self.states: list[tuple[FeedState, float]] = []
        self.changes: list[Change] = []
        self._cond = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=feed.run, args=(self.stop, self._on_changes, self._on_state), daemon=True
        )

    def _on_changes(self, changes: list[Change]) -> None:
        with self._cond:
            self.changes.extend(changes)
            self._cond.notify_all()

    def _on_state(self, state: FeedState) -> None:
        with self._cond:
            self.states.append((state, time.monotonic()))
            self._cond.notify_all()

    def wait_state(self, state: FeedState, times: int, timeout: float) -> float:
        """Wait until `state` was entered `times` times; returns when it was."""

        def entered() -> list[float]:
            return [at for s, at in self.states if s is state]

        with self._cond:
            assert self._cond.wait_for(lambda: len(entered()) >= times, timeout), self.states
            return entered()[times - 1]

    def wait_changes(self, count: int, timeout: float) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.changes) >= count, timeout)


def touch_projects(db: Any, count: int) -> list[int]:
    """`count` committed project updates by another person (straight to the server)."""
    with person_conn(db, "acme.sales", autocommit=True) as writer:
        rows = writer.execute("SELECT id FROM projects ORDER BY id LIMIT %s", (count,))
        projects = [row[0] for row in rows]
        for project in projects:
            cur = writer.execute("UPDATE projects SET title = title WHERE id = %s", (project,))
            assert cur.rowcount == 1
    with owner_conn(db) as owner:
        ids = owner.execute(
            "SELECT id FROM change_log WHERE entity_id = ANY(%s) ORDER BY id DESC LIMIT %s",
            (projects, count),
        ).fetchall()
    return sorted(row[0] for row in ids)


@pytest.mark.slow
@pytest.mark.skipif(not BLACKHOLE_SUPPORTED, reason="the black hole needs Linux socket filters")
def test_T_NET_06_network_black_hole(demo_db: Any, proxy: TcpProxy, fast_network: None) -> None:
    """Packets dropped, nothing reset: keepalives and tcp_user_timeout notice it, and the
    feed and the reads recover by themselves once the network is back."""
    expected = expected_projects(demo_db)
    workspace = sign_in(tcp_profile(demo_db, proxy), PERSON, PASSWORD)
    recorder = FeedRecorder(
        ChangeFeed(workspace.conninfo(), poll_interval=30.0, backoff=(0.5, 1.0, 2.0))
    )
    recorder.thread.start()
    try:
        recorder.wait_state(FeedState.ONLINE, 1, timeout=10)
        assert workspace.read(list_projects) == expected

        proxy.blackhole()
        cut_at = time.monotonic()
        made = touch_projects(demo_db, 3)  # meanwhile, on another network path

        lost_at = recorder.wait_state(FeedState.RECONNECTING, 1, timeout=20)
        detected = lost_at - cut_at
        assert detected <= 20

        # A read now fails within the timeouts, in plain words, instead of hanging.
        started = time.monotonic()
        with pytest.raises(UserFacingError) as caught:
            workspace.read(list_projects)
        read_failed = time.monotonic() - started
        assert_plain(str(caught.value))
        tcp_user_timeout = FAST_CONNECT_ARGS["tcp_user_timeout"] / 1000
        connect_timeout = FAST_CONNECT_ARGS["connect_timeout"]
        assert read_failed <= tcp_user_timeout + 3 * connect_timeout + 0.2 + 0.5 + 2

        proxy.resume()
        resumed_at = time.monotonic()
        back_at = recorder.wait_state(FeedState.ONLINE, 2, timeout=15)
        recovered = back_at - resumed_at
        recorder.wait_changes(len(made), timeout=5)  # the catch-up read brought them
        time.sleep(0.2)  # and nothing more comes
        assert [c.id for c in recorder.changes] == made
        assert workspace.read(list_projects) == expected
    finally:
        recorder.stop.set()
        recorder.thread.join(10)
        workspace.close()
    assert not recorder.thread.is_alive()
    assert [s for s, _ in recorder.states] == [
        FeedState.CONNECTING,
        FeedState.ONLINE,
        FeedState.RECONNECTING,
        FeedState.ONLINE,
        FeedState.OFFLINE,
    ]
    print(
        f"\nT-NET-06: feed noticed the black hole after {detected:.1f} s, a read gave up "
        f"after {read_failed:.1f} s, feed online {recovered:.1f} s after the network was back"
    )


@pytest.mark.slow
@pytest.mark.skipif(not BLACKHOLE_SUPPORTED, reason="the black hole needs Linux socket filters")
def test_T_NET_06_shipped_settings_notice_a_black_hole_within_a_minute(
    demo_db: Any, proxy: TcpProxy
) -> None:
    """The listener as the app runs it: `auth.CONNECT_ARGS` and `ChangeFeed`'s defaults."""
    workspace = sign_in(tcp_profile(demo_db, proxy), PERSON, PASSWORD)
    recorder = FeedRecorder(ChangeFeed(workspace.conninfo()))
    recorder.thread.start()
    try:
        recorder.wait_state(FeedState.ONLINE, 1, timeout=10)
        proxy.blackhole()
        cut_at = time.monotonic()
        detected = recorder.wait_state(FeedState.RECONNECTING, 1, timeout=65) - cut_at
        assert detected <= 60
        proxy.resume()
        recorder.wait_state(FeedState.ONLINE, 2, timeout=15)
    finally:
        recorder.stop.set()
        workspace.close()
        recorder.thread.join(10)
    print(f"\nT-NET-06 (shipped settings): the feed noticed the black hole after {detected:.1f} s")


# -- T-NET-08 ---------------------------------------------------------------------------------


def _signing_in_dialog(qtbot: QtBot, profile: ConnectionProfile) -> tuple[SignInDialog, TaskRunner]:
    runner = TaskRunner()
    dialog = SignInDialog(runner, [profile], profile.name)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.username.setText(PERSON)
    dialog.password.setText(PASSWORD)
    return dialog, runner


@pytest.fixture
def sign_in_attempts(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """When each sign-in attempt started (the dialog calls `auth.sign_in`)."""
    attempts: list[float] = []
    real = auth.sign_in

    def counting(*args: Any, **kwargs: Any) -> Workspace:
        attempts.append(time.monotonic())
        return real(*args, **kwargs)

    monkeypatch.setattr(auth, "sign_in", counting)
    return attempts


@pytest.mark.slow
def test_T_NET_08_server_down_at_start(
    qtbot: QtBot, demo_db: Any, proxy: TcpProxy, sign_in_attempts: list[float]
) -> None:
    proxy.cut()  # the server is down: every connection is reset
    dialog, runner = _signing_in_dialog(qtbot, tcp_profile(demo_db, proxy))
    workspaces: list[Workspace] = []
    dialog.sig_signed_in.connect(lambda workspace, _remembered: workspaces.append(workspace))
    try:
        dialog.submit()
        qtbot.waitUntil(lambda: dialog.retry_in is not None, timeout=10_000)
        first_failed = time.monotonic()
        text_ = dialog.message.text()
        assert "cannot be reached" in text_ and text_.endswith("Trying again in 2 s…"), text_
        assert dialog.isVisible() and dialog.sign_in_button.isEnabled()
        assert dialog.sign_in_button.text() == "Try again"

        # Idle while waiting: over 3 s, at most 2 attempts and next to no CPU.
        cpu = time.process_time()
        qtbot.waitUntil(lambda: dialog.message.text().endswith("Trying again in 1 s…"))
        qtbot.waitUntil(lambda: len(sign_in_attempts) == 2, timeout=3000)
        qtbot.waitUntil(lambda: dialog.retry_in is not None, timeout=5000)  # failed again
        assert dialog.message.text().endswith("Trying again in 5 s…")
        qtbot.wait(max(0, int((first_failed + 3 - time.monotonic()) * 1000)))
        cpu = time.process_time() - cpu
        assert len(sign_in_attempts) == 2
        # Qt timers may fire up to 5 % early (coarse timers): 2 s of backoff, give or take.
        assert sign_in_attempts[1] - sign_in_attempts[0] >= 1.8
        assert cpu < 0.5, f"{cpu:.2f} s of CPU in 3 s of waiting"

        # The server comes back: the dialog signs in by itself at its next attempt.
        proxy.resume()
        with qtbot.waitSignal(dialog.sig_signed_in, timeout=10_000):
            pass
        assert len(sign_in_attempts) == 3
        assert sign_in_attempts[2] - sign_in_attempts[1] >= 4.5
        assert workspaces[0].identity.username == PERSON
    finally:
        for workspace in workspaces:
            runner.run(workspace.close)
        runner.shutdown()
    print(
        f"\nT-NET-08: attempts at +{sign_in_attempts[1] - sign_in_attempts[0]:.1f} s and "
        f"+{sign_in_attempts[2] - sign_in_attempts[0]:.1f} s; {cpu:.3f} s CPU in 3 s of waiting"
    )


def test_T_NET_08_editing_stops_the_countdown_and_sign_in_tries_at_once(
    qtbot: QtBot, demo_db: Any, proxy: TcpProxy, sign_in_attempts: list[float]
) -> None:
    proxy.cut()
    dialog, runner = _signing_in_dialog(qtbot, tcp_profile(demo_db, proxy))
    try:
        dialog.submit()
        qtbot.waitUntil(lambda: dialog.retry_in == 2, timeout=10_000)
        qtbot.keyClicks(dialog.password, "x")  # the user edits: no attempt behind their back
        assert dialog.retry_in is None
        assert "cannot be reached" in dialog.message.text()
        assert "Trying again" not in dialog.message.text()
        qtbot.keyClick(dialog.password, Qt.Key.Key_Backspace)

        proxy.resume()
        with qtbot.waitSignal(dialog.sig_signed_in, timeout=10_000) as blocker:
            dialog.submit()  # pressing Sign in tries at once
        assert len(sign_in_attempts) == 2
        runner.run(blocker.args[0].close)
    finally:
        runner.shutdown()
