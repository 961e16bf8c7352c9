"""Live updates into Qt: a committed change reaches the GUI thread and the right page only."""

from __future__ import annotations

import functools
import threading
import time
import uuid
from typing import Any

import psycopg
from PySide6.QtCore import QObject, QThread, Slot
from pytestqt.qtbot import QtBot

from factorypulse_desktop.domain.live import Change, FeedState
from factorypulse_desktop.services.live import ChangeFeed
from factorypulse_desktop.ui.events import ChangeBus
from factorypulse_desktop.ui.live import LiveUpdates

FEED = functools.partial(ChangeFeed, backoff=(0.05, 0.1), poll_interval=30.0)


class Page(QObject):
    """A page that shows one entity type and records which thread its slot ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[list[uuid.UUID], QThread]] = []

    @Slot(list)
    def on_changed(self, ids: list[uuid.UUID]) -> None:
        self.calls.append((ids, QThread.currentThread()))


def _change(entity_type: str, entity_id: uuid.UUID, change_id: int) -> Change:
    return Change(change_id, uuid.uuid4(), entity_type, entity_id, "U", 1)


def test_committed_change_reaches_the_gui_thread_and_its_page_only(
    qtbot: QtBot, demo_db: Any
) -> None:
    live = LiveUpdates(FEED)
    bus = ChangeBus()
    live.sig_changes.connect(bus.publish)
    projects, contacts = Page(), Page()
    bus.subscribe("projects", projects.on_changed)
    bus.subscribe("contacts", contacts.on_changed)
    states: list[FeedState] = []
    live.sig_state.connect(states.append)
    gui = QThread.currentThread()

    try:
        with qtbot.waitSignal(
            live.sig_state, timeout=5000, check_params_cb=lambda s: s is FeedState.ONLINE
        ):
            live.start(demo_db.conninfo_for("acme.sales"), last_seen=None)
        assert states == [FeedState.CONNECTING, FeedState.ONLINE]

        with psycopg.connect(demo_db.conninfo_for("acme.admin"), autocommit=True) as writer:
            row = writer.execute("SELECT id FROM projects ORDER BY id LIMIT 1").fetchone()
            assert row is not None
            project = row[0]
            emitted_on: list[QThread] = []
            live.sig_changes.connect(lambda _c: emitted_on.append(QThread.currentThread()))
            with qtbot.waitSignal(live.sig_changes, timeout=2000) as blocker:
                writer.execute("UPDATE projects SET title = title WHERE id = %s", (project,))

        [change] = blocker.args[0]
        assert isinstance(change, Change)
        assert (change.entity_type, change.entity_id) == ("projects", project)
        assert emitted_on == [gui]
        assert projects.calls == [([project], gui)]
        assert contacts.calls == []
        assert live.last_seen == change.id
    finally:
        started = time.monotonic()
        live.stop()
        stopped_in = time.monotonic() - started
    assert stopped_in < 1.0
    assert not live.is_running()
    assert states[-1] is FeedState.OFFLINE


def test_stop_is_idempotent_and_a_restart_catches_up(qtbot: QtBot, demo_db: Any) -> None:
    live = LiveUpdates(FEED)
    received: list[list[Change]] = []
    live.sig_changes.connect(received.append)
    with qtbot.waitSignal(
        live.sig_state, timeout=5000, check_params_cb=lambda s: s is FeedState.ONLINE
    ):
        live.start(demo_db.conninfo_for("acme.sales"), last_seen=None)
    cursor_at_start = live.last_seen
    live.stop()
    live.stop()  # idempotent
    qtbot.wait(50)
    assert received == []
    assert live.last_seen == cursor_at_start  # None: nothing emitted yet

    # Restart from a cursor: the catch-up delivers what happened in between.
    with psycopg.connect(demo_db.owner_conninfo(), autocommit=True) as owner:
        row = owner.execute("SELECT max(id) FROM change_log").fetchone()
        assert row is not None
        cursor = int(row[0])
    with psycopg.connect(demo_db.conninfo_for("acme.admin"), autocommit=True) as writer:
        writer.execute(
            "UPDATE projects SET title = title WHERE id = "
            "(SELECT id FROM projects ORDER BY id LIMIT 1)"
        )
    with qtbot.waitSignal(live.sig_changes, timeout=5000):
        live.start(demo_db.conninfo_for("acme.sales"), last_seen=cursor)
    assert len(received) == 1 and received[0][0].id > cursor
    live.stop()


def test_bus_groups_by_entity_type_and_forgets_deleted_pages(qtbot: QtBot) -> None:
    bus = ChangeBus()
    a, b = uuid.uuid4(), uuid.uuid4()
    projects, contacts = Page(), Page()
    bus.subscribe("projects", projects.on_changed)
    bus.subscribe("contacts", contacts.on_changed)
    plain: list[list[uuid.UUID]] = []
    bus.subscribe("projects", plain.append)
    seen: list[tuple[str, list[uuid.UUID]]] = []
    bus.sig_changed.connect(lambda t, ids: seen.append((t, ids)))

    bus.publish(
        [
            _change("projects", a, 1),
            _change("contacts", b, 2),
            _change("projects", b, 3),
            _change("projects", a, 4),
        ]
    )
    assert seen == [("projects", [a, b]), ("contacts", [b])]
    assert [ids for ids, _t in projects.calls] == [[a, b]]
    assert [ids for ids, _t in contacts.calls] == [[b]]
    assert plain == [[a, b]]

    bus.unsubscribe("projects", plain.append)
    del projects  # a page that went away needs no unsubscribe
    contacts.deleteLater()
    qtbot.wait(10)
    bus.publish([_change("projects", a, 5), _change("contacts", a, 6)])
    assert plain == [[a, b]]
    assert len(contacts.calls) == 1
    assert seen[-2:] == [("projects", [a]), ("contacts", [a])]


def test_worker_runs_the_feed_off_the_gui_thread(qtbot: QtBot) -> None:
    """With a fake feed: run() is called on the worker thread, results come back queued."""
    ran_on: list[threading.Thread] = []

    class FakeFeed:
        def __init__(self, conninfo: str, *, last_seen: int | None = None) -> None:
            self.last_seen = last_seen

        def run(self, stop: threading.Event, on_changes: Any, on_state: Any) -> None:
            ran_on.append(threading.current_thread())
            on_state(FeedState.ONLINE)
            on_changes([_change("projects", uuid.uuid4(), 7)])
            stop.wait()
            on_state(FeedState.OFFLINE)

    live = LiveUpdates(FakeFeed)
    with qtbot.waitSignal(live.sig_changes, timeout=2000):
        live.start("fake", last_seen=3)
    assert ran_on and ran_on[0] is not threading.main_thread()
    assert live.last_seen == 7
    assert live.state is FeedState.ONLINE
    live.stop()
    assert live.state is FeedState.OFFLINE
