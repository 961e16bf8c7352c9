"""The live-update listener against a real PostgreSQL (RELIABILITY.md 6.3, T-NET-04/05).

Every listener connects as a person's own login, so what it reads of `change_log` is what row
level security lets that person see. Writers are other persons (or the superuser, to forge
notifications and to kill the listener's backend).
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from rls_support import org_id, owner_conn, person_conn

from factorypulse_desktop.runtime.embedded import EmbeddedCluster
from factorypulse_desktop.services.live import Change, ChangeFeed, FeedState

FAST_BACKOFF = (0.05, 0.1, 0.2)
TIMEOUT = 5.0


class Listener:
    """A `ChangeFeed` running on a thread, recording what it delivers."""

    def __init__(self, feed: ChangeFeed) -> None:
        self.feed = feed
        self.changes: list[Change] = []
        self.batches: list[list[Change]] = []
        self.states: list[FeedState] = []
        self.arrived: dict[int, float] = {}  # change id -> time.monotonic() of delivery
        self.fetches = 0
        self._cond = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=feed.run, args=(self.stop, self._on_changes, self._on_state), daemon=True
        )
        original = feed.fetch_since

        def counting_fetch(*args: Any, **kwargs: Any) -> list[Change]:
            result = original(*args, **kwargs)
            with self._cond:
                self.fetches += 1
                self._cond.notify_all()
            return result

        feed.fetch_since = counting_fetch  # type: ignore[method-assign]

    def _on_changes(self, changes: list[Change]) -> None:
        now = time.monotonic()
        with self._cond:
            self.batches.append(list(changes))
            self.changes.extend(changes)
            for change in changes:
                self.arrived[change.id] = now
            self._cond.notify_all()

    def _on_state(self, state: FeedState) -> None:
        with self._cond:
            self.states.append(state)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = TIMEOUT) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_online(self, times: int = 1) -> None:
        assert self.wait_for(lambda: self.states.count(FeedState.ONLINE) >= times), self.states

    def ids(self) -> list[int]:
        with self._cond:
            return [c.id for c in self.changes]


@contextmanager
def listening(conninfo: str, **kwargs: Any) -> Iterator[Listener]:
    kwargs.setdefault("backoff", FAST_BACKOFF)
    kwargs.setdefault("poll_interval", 30.0)  # so that arrivals prove the NOTIFY path
    listener = Listener(ChangeFeed(conninfo, **kwargs))
    listener.thread.start()
    try:
        listener.wait_online()
        yield listener
    finally:
        listener.stop.set()
        listener.thread.join(5)
        assert not listener.thread.is_alive()


def fetched_since(listener: Listener, fetches: int) -> bool:
    return listener.fetches > fetches


def has_at_least(listener: Listener, count: int) -> bool:
    return len(listener.changes) >= count


def project_ids(conn: psycopg.Connection[Any], count: int = 5) -> list[uuid.UUID]:
    rows = conn.execute("SELECT id FROM projects ORDER BY id LIMIT %s", (count,)).fetchall()
    assert len(rows) == count
    return [r[0] for r in rows]


def touch(conn: psycopg.Connection[Any], project: uuid.UUID) -> None:
    """One committed update of a project: one change_log row."""
    cur = conn.execute("UPDATE projects SET title = title WHERE id = %s", (project,))
    assert cur.rowcount == 1


def max_change_id(db: Any) -> int:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM change_log").fetchone()
        assert row is not None
        return int(row[0])


def test_change_by_a_colleague_arrives_within_a_second(demo_db: Any) -> None:
    with (
        person_conn(demo_db, "acme.admin", autocommit=True) as writer,
        listening(demo_db.conninfo_for("acme.sales")) as listener,
    ):
        start = listener.feed.last_seen
        assert start > 0
        assert listener.changes == []  # the history before start is not replayed
        project = project_ids(writer, 1)[0]

        committed = time.monotonic()
        touch(writer, project)
        assert listener.wait_for(lambda: bool(listener.changes), 1.0)
        latency = time.monotonic() - committed
        [change] = listener.changes
        assert change.entity_type == "projects"
        assert change.entity_id == project
        assert change.operation == "U"
        assert change.organization_id == org_id(writer, "acme")
        assert change.row_version is not None
        assert change.id > start
        assert listener.feed.last_seen == change.id
        assert latency < 1.0


def test_a_change_of_another_organization_never_arrives(demo_db: Any) -> None:
    with (
        person_conn(demo_db, "acme.admin", autocommit=True) as acme,
        person_conn(demo_db, "globex.admin", autocommit=True) as globex,
        listening(demo_db.conninfo_for("acme.sales")) as listener,
    ):
        acme_org = org_id(acme, "acme")
        for project in project_ids(globex, 3):
            touch(globex, project)
        marker = project_ids(acme, 1)[0]
        touch(acme, marker)  # committed after globex's: once it is here, they were looked at
        assert listener.wait_for(lambda: any(c.entity_id == marker for c in listener.changes))
        time.sleep(0.2)
        assert [c.organization_id for c in listener.changes] == [acme_org]
        assert listener.feed.last_seen == listener.changes[-1].id


def test_T_NET_05_forged_and_malformed_notifications_deliver_nothing(demo_db: Any) -> None:
    """T-NET-05: a payload only means "look"; what is read goes through RLS."""
    with (
        person_conn(demo_db, "acme.sales", autocommit=True) as own,
        person_conn(demo_db, "acme.admin", autocommit=True) as writer,
        owner_conn(demo_db, autocommit=True) as owner,
        listening(demo_db.conninfo_for("acme.sales")) as listener,
    ):
        globex_org = org_id(owner, "globex")
        acme_org = org_id(own, "acme")
        cursor = listener.feed.last_seen
        globex_row = owner.execute(
            "SELECT max(id) FROM change_log WHERE organization_id = %s", (globex_org,)
        ).fetchone()
        assert globex_row is not None
        forged = [
            f'{{"org": "{globex_org}", "change_id": 9223372036854775807}}',
            f'{{"org": "{acme_org}", "change_id": {globex_row[0]}}}',  # a real, foreign row
            f'{{"org": "{acme_org}", "change_id": -1}}',
            '{"org": "not-a-uuid", "change_id": "NaN"}',
            "not json {",
            "",
            "\u202e" + "x" * 7000,
        ]
        for sender in (own, owner):
            for payload in forged:
                fetches = listener.fetches
                if payload:
                    sender.execute("SELECT pg_notify('fp_changes', %s)", (payload,))
                else:
                    sender.execute("NOTIFY fp_changes")
                # Each one is taken as "look": a fetch follows, and finds nothing.
                assert listener.wait_for(functools.partial(fetched_since, listener, fetches))
        own.execute("""NOTIFY fp_changes, '{"org": "x", "change_id": 1e99}'""")
        time.sleep(0.2)
        assert listener.changes == []
        assert listener.feed.last_seen == cursor
        assert listener.states == [FeedState.CONNECTING, FeedState.ONLINE]

        # A real change afterwards moves the cursor exactly to its id, no further.
        touch(writer, project_ids(writer, 1)[0])
        assert listener.wait_for(lambda: bool(listener.changes))
        [change] = listener.changes
        assert listener.feed.last_seen == change.id < 9223372036854775807
        assert change.organization_id == acme_org


def test_catch_up_after_the_listener_was_killed(demo_db: Any) -> None:
    """T-NET-04: 50 changes while the listener is down arrive once each, in order."""
    with (
        person_conn(demo_db, "acme.admin", autocommit=True) as writer,
        owner_conn(demo_db, autocommit=True) as owner,
        listening(demo_db.conninfo_for("acme.sales"), backoff=(1.0, 0.1)) as listener,
    ):
        acme_org = org_id(writer, "acme")
        before = max_change_id(demo_db)
        pid = listener.feed.backend_pid
        assert pid is not None
        owner.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert listener.wait_for(lambda: FeedState.RECONNECTING in listener.states)

        projects = project_ids(writer, 5)
        for i in range(50):
            touch(writer, projects[i % len(projects)])
        done = time.monotonic()
        expected = [
            r[0]
            for r in owner.execute(
                "SELECT id FROM change_log WHERE id > %s AND organization_id = %s ORDER BY id",
                (before, acme_org),
            )
        ]
        assert len(expected) == 50

        listener.wait_online(2)
        assert listener.wait_for(lambda: len(listener.changes) >= 50)
        time.sleep(0.3)  # nothing more may come
        assert listener.ids() == expected  # 0 missed, 0 twice, in change-id order
        assert all(listener.arrived[i] > done for i in expected)  # via the catch-up read
        assert listener.feed.backend_pid not in (None, pid)
        assert listener.states == [
            FeedState.CONNECTING,
            FeedState.ONLINE,
            FeedState.RECONNECTING,
            FeedState.ONLINE,
        ]
        assert listener.feed.last_seen == expected[-1]

        # Live again after the catch-up.
        touch(writer, projects[0])
        assert listener.wait_for(lambda: len(listener.changes) == 51, 1.0)
    assert listener.states[-1] is FeedState.OFFLINE


@pytest.mark.parametrize("gap_ids", [200, 0], ids=["id-window", "time-window-only"])
def test_a_late_commit_with_a_lower_change_id_is_still_delivered(
    demo_db: Any, gap_ids: int
) -> None:
    """Ids come from a sequence: one taken first may be committed after later ones."""
    with (
        person_conn(demo_db, "acme.admin") as slow,
        person_conn(demo_db, "acme.admin", autocommit=True) as fast,
        listening(demo_db.conninfo_for("acme.sales"), gap_ids=gap_ids) as listener,
    ):
        p1, p2 = project_ids(fast, 2)
        touch(slow, p1)  # takes change id M, not committed yet
        row = slow.execute("SELECT max(id) FROM change_log").fetchone()
        assert row is not None
        late_id = int(row[0])  # its own uncommitted row is visible to it
        for _ in range(3):
            touch(fast, p2)  # take M + k and commit
        assert listener.wait_for(lambda: len(listener.changes) == 3)
        assert [c.entity_id for c in listener.changes] == [p2] * 3
        newest = listener.changes[-1].id
        assert late_id < listener.changes[0].id

        slow.commit()
        assert listener.wait_for(lambda: len(listener.changes) == 4)
        late = listener.changes[3]
        assert (late.id, late.entity_id) == (late_id, p1)
        assert listener.feed.last_seen == newest  # the cursor never goes back
        time.sleep(0.2)
        assert len(listener.changes) == 4  # and nothing is delivered twice

        # Later fetches (notification or poll) keep it delivered once.
        touch(fast, p1)
        assert listener.wait_for(lambda: len(listener.changes) == 5)
        assert len(set(listener.ids())) == 5


def test_resumes_from_a_given_cursor_and_polls_without_notifications(demo_db: Any) -> None:
    with (
        person_conn(demo_db, "acme.admin", autocommit=True) as writer,
        owner_conn(demo_db, autocommit=True) as owner,
    ):
        acme_org = org_id(writer, "acme")
        cursor = max_change_id(demo_db)
        projects = project_ids(writer, 3)
        for project in projects:
            touch(writer, project)
        with listening(
            demo_db.conninfo_for("acme.sales"), last_seen=cursor, poll_interval=0.3
        ) as listener:
            assert listener.wait_for(lambda: len(listener.changes) == 3)
            assert [c.entity_id for c in listener.changes] == projects  # caught up at start

            # A row written without a NOTIFY (superuser, straight into the table): the poll
            # is the safety net.
            entity = uuid.uuid4()
            owner.execute(
                "INSERT INTO change_log (organization_id, entity_type, entity_id, operation)"
                " VALUES (%s, 'projects', %s, 'U')",
                (acme_org, entity),
            )
            assert listener.wait_for(lambda: len(listener.changes) == 4, 2.0)
            assert listener.changes[-1].entity_id == entity


def test_stop_returns_promptly_and_reports_offline(demo_db: Any) -> None:
    listener = Listener(ChangeFeed(demo_db.conninfo_for("acme.sales"), backoff=FAST_BACKOFF))
    listener.thread.start()
    listener.wait_online()
    time.sleep(0.1)
    started = time.monotonic()
    listener.stop.set()
    listener.thread.join(2)
    assert not listener.thread.is_alive()
    assert time.monotonic() - started < 0.5
    assert listener.states == [FeedState.CONNECTING, FeedState.ONLINE, FeedState.OFFLINE]


def test_unreachable_server_backs_off_and_stops_promptly(demo_db: Any) -> None:
    conninfo = demo_db.conninfo_for("acme.sales", password="wrong password")
    listener = Listener(ChangeFeed(conninfo, backoff=(0.05, 10)))
    listener.thread.start()
    assert listener.wait_for(lambda: FeedState.RECONNECTING in listener.states)
    time.sleep(0.3)  # now inside the 10 s step: stop must interrupt it
    started = time.monotonic()
    listener.stop.set()
    listener.thread.join(2)
    assert time.monotonic() - started < 0.5
    assert listener.states == [FeedState.CONNECTING, FeedState.RECONNECTING, FeedState.OFFLINE]
    assert listener.changes == []


def test_survives_a_server_restart(demo_db: Any, pg_cluster: EmbeddedCluster) -> None:
    with listening(demo_db.conninfo_for("acme.sales"), backoff=(0.2, 0.5, 1.0)) as listener:
        pg_cluster.restart()
        listener.wait_online(2)
        with person_conn(demo_db, "acme.admin", autocommit=True) as writer:
            touch(writer, project_ids(writer, 1)[0])
        assert listener.wait_for(lambda: len(listener.changes) == 1)
        assert listener.states[:3] == [
            FeedState.CONNECTING,
            FeedState.ONLINE,
            FeedState.RECONNECTING,
        ]


def test_refuses_to_connect_on_a_thread_banned_from_database_io(demo_db: Any) -> None:
    io_guard = pytest.importorskip("factorypulse_desktop.data.io_guard")
    feed = ChangeFeed(demo_db.conninfo_for("acme.sales"), backoff=FAST_BACKOFF)
    states: list[FeedState] = []
    io_guard.forbid_database_io_on_current_thread()
    try:
        with pytest.raises(io_guard.DatabaseOnGuiThreadError):
            feed.run(threading.Event(), lambda _c: None, states.append)
    finally:
        io_guard.allow_database_io_on_current_thread()
    assert states == [FeedState.CONNECTING, FeedState.OFFLINE]


def test_concurrent_writers_and_listeners_converge(demo_db: Any) -> None:
    """T-NET-07, scaled down: 4 writers committing concurrently, 3 listeners; every listener
    ends with every change exactly once and the same cursor; the notify queue stays empty."""
    people = ("acme.sales", "acme.qa", "acme.management")
    with owner_conn(demo_db, autocommit=True) as owner, \
            person_conn(demo_db, "acme.admin", autocommit=True) as admin:
        acme_org = org_id(admin, "acme")
        projects = project_ids(admin, 8)
        with listening(demo_db.conninfo_for(people[0])) as first, \
                listening(demo_db.conninfo_for(people[1])) as second, \
                listening(demo_db.conninfo_for(people[2])) as third:
            listeners = (first, second, third)
            start = max_change_id(demo_db)
            errors: list[BaseException] = []

            def writer(k: int) -> None:
                try:
                    with person_conn(demo_db, "acme.admin") as conn:
                        for i in range(40):
                            touch(conn, projects[(k + i) % len(projects)])
                            if i % 3 == 0:  # some transactions change two rows
                                touch(conn, projects[(k + i + 1) % len(projects)])
                            conn.commit()
                except BaseException as error:  # reported below
                    errors.append(error)

            threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert not errors
            expected = [
                r[0] for r in owner.execute(
                    "SELECT id FROM change_log WHERE id > %s AND organization_id = %s "
                    "ORDER BY id", (start, acme_org),
                )
            ]
            assert len(expected) == 4 * (40 + 14)
            for listener in listeners:
                assert listener.wait_for(functools.partial(has_at_least, listener, len(expected)))
            time.sleep(0.2)
            usage = owner.execute("SELECT pg_notification_queue_usage()").fetchone()
            assert usage is not None and usage[0] < 0.001
            for listener in listeners:
                ids = listener.ids()
                assert len(ids) == len(set(ids)) == len(expected)
                assert sorted(ids) == expected
                assert listener.feed.last_seen == expected[-1]
                # Fewer fetches than changes: notifications that arrive together share one.
                assert listener.fetches < len(expected)
