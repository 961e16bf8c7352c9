"""Live updates into Qt: `ChangeFeed.run` on a QThread, results re-emitted on the GUI thread.

    live = LiveUpdates(ChangeFeed, parent=window)   # the composition root passes the feed class
    live.sig_changes.connect(bus.publish)          # list[Change], on the GUI thread
    live.sig_state.connect(window.show_feed_state)  # FeedState
    live.start(conninfo, last_seen=settings_cursor)
    ...
    live.stop()                                     # from closeEvent; returns within ~0.5 s

The worker's signals are emitted on the worker thread and connected with
`Qt.QueuedConnection` to the slots of a relay object created in the GUI thread, so
`sig_changes`/`sig_state` are always emitted there (a plain lambda would run on the worker).
One relay per run: after `stop()`, whatever the old run still had queued is dropped.

The feed comes in through the constructor (`feed_factory`, normally
`factorypulse_desktop.services.live.ChangeFeed`, or a `functools.partial` of it with other
`poll_interval`/`backoff`): `ui` must not import `services.live`, which imports psycopg, and
the import-linter contract forbids that even indirectly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from factorypulse_desktop.domain.live import Change, FeedState

log = logging.getLogger(__name__)

# How long stop() waits for the worker thread (the feed notices `stop` within ~0.25 s, unless
# it is inside a connect or a query on a dead network: then keepalives decide).
STOP_TIMEOUT_MS = 5000


class Feed(Protocol):
    """What `LiveUpdates` needs of a feed (`services.live.ChangeFeed` is one)."""

    def run(
        self,
        stop: threading.Event,
        on_changes: Callable[[list[Change]], None],
        on_state: Callable[[FeedState], None],
    ) -> None: ...


class FeedFactory(Protocol):
    def __call__(self, conninfo: str, *, last_seen: int | None = ...) -> Feed: ...


class _FeedWorker(QObject):
    """Lives on the worker thread; `run` blocks there until the stop event is set."""

    changes = Signal(list)
    state = Signal(object)
    finished = Signal()

    def __init__(self, feed: Feed, stop: threading.Event) -> None:
        super().__init__()
        self._feed = feed
        self._stop = stop

    @Slot()
    def run(self) -> None:
        try:
            self._feed.run(self._stop, self.changes.emit, self.state.emit)
        except Exception:  # a crash must not pass silently: the feed is offline now
            log.exception("live updates stopped by an error")
            self.state.emit(FeedState.OFFLINE)
        finally:
            self.finished.emit()


class _Relay(QObject):
    """Lives in the GUI thread; forwards one run's results while that run is current."""

    def __init__(self, owner: LiveUpdates) -> None:
        super().__init__()
        self.owner: LiveUpdates | None = owner

    @Slot(list)
    def on_changes(self, changes: list[Change]) -> None:
        if self.owner is not None:
            self.owner._on_changes(changes)

    @Slot(object)
    def on_state(self, state: FeedState) -> None:
        if self.owner is not None:
            self.owner._set_state(state)


# Threads that did not stop in time: their wrappers stay referenced (a QThread destroyed while
# it runs aborts the process); the C++ objects are deleted once they finish.
_STRANDED: set[tuple[QThread, QObject]] = set()


class LiveUpdates(QObject):
    """Owns the listening thread; see the module docstring."""

    sig_changes = Signal(list)  # list[Change], in change-id order
    sig_state = Signal(object)  # FeedState

    def __init__(self, feed_factory: FeedFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._feed_factory = feed_factory
        self._thread: QThread | None = None
        self._worker: _FeedWorker | None = None
        self._relay: _Relay | None = None
        self._stop: threading.Event | None = None
        self._last_seen: int | None = None
        self._state = FeedState.OFFLINE

    @property
    def last_seen(self) -> int | None:
        """The highest change id emitted by `sig_changes` (keep it to resume from later)."""
        return self._last_seen

    @property
    def state(self) -> FeedState:
        return self._state

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, conninfo: str, last_seen: int | None = None) -> None:
        """Start listening as the person of `conninfo` (restarts when already running)."""
        self.stop()
        self._last_seen = last_seen
        stop = threading.Event()
        feed = self._feed_factory(conninfo, last_seen=last_seen)
        thread = QThread()
        thread.setObjectName("factorypulse-live")
        worker = _FeedWorker(feed, stop)
        worker.moveToThread(thread)
        relay = _Relay(self)  # created here: lives in the GUI thread
        queued = Qt.ConnectionType.QueuedConnection
        worker.changes.connect(relay.on_changes, queued)
        worker.state.connect(relay.on_state, queued)
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.started.connect(worker.run)
        self._thread, self._worker, self._relay, self._stop = thread, worker, relay, stop
        thread.start()

    def stop(self) -> None:
        """Stop listening and wait for the thread (call it from closeEvent).

        Results still queued from the stopped run are dropped; `last_seen` covers exactly
        what `sig_changes` emitted.
        """
        thread, worker, relay, stop = self._thread, self._worker, self._relay, self._stop
        if thread is None or worker is None or relay is None or stop is None:
            return
        self._thread = self._worker = self._relay = self._stop = None
        relay.owner = None  # anything still queued for it is dropped
        stop.set()
        thread.quit()
        if not thread.wait(STOP_TIMEOUT_MS):
            # Stuck in a connect or a query on a dead network: it exits as soon as that call
            # returns; keep both objects alive until then.
            log.warning("live updates: the listening thread did not stop in time")
            _STRANDED.add((thread, worker))
            thread.finished.connect(worker.deleteLater)
            thread.finished.connect(thread.deleteLater)
        self._set_state(FeedState.OFFLINE)

    def _on_changes(self, changes: list[Change]) -> None:
        if not changes:
            return
        self._last_seen = max(self._last_seen or 0, changes[-1].id)
        self.sig_changes.emit(changes)

    def _set_state(self, state: FeedState) -> None:
        if state is not self._state:
            self._state = state
            self.sig_state.emit(state)
