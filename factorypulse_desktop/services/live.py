"""Live updates: follow `change_log` on a dedicated LISTEN connection.

DESIGN.md 5 ("Live updates") and RELIABILITY.md 6.3.

`ChangeFeed.run` is a blocking loop for a worker thread of its own; it knows nothing of Qt (the
Qt adapter is `factorypulse_desktop.ui.live`). It owns one non-pooled psycopg connection in
autocommit as the signed-in person, so every read of `change_log` goes through row level
security: the person only ever sees the rows of their own organizations.

On every (re)connect: LISTEN, then catch up from the cursor, then go live. Live, it waits on the
socket up to `poll_interval` (the safety-net poll); a notification on `fp_changes`, whatever its
payload, or the timeout only means "look": the feed then reads `change_log` after its cursor and
delivers the new rows in id order. The payload is never parsed (anyone can `NOTIFY fp_changes`
with anything), so a forged or malformed one costs one fetch that finds nothing new. Fetches are
at least `min_fetch_interval` (50 ms) apart: notifications arriving meanwhile are drained and
answered by one fetch, so a burst of edits or a NOTIFY flood costs at most 20 queries a second.
An isolated change is fetched at once.

Late commits (the gap problem). Change ids come from one sequence, taken inside the writing
transaction, so a transaction that took id 7 may commit after id 9 was delivered. Each fetch
therefore also re-reads a trailing window below the cursor and delivers rows there that were not
delivered yet: a row of the window is "new" unless its id is in the bounded set of delivered ids.
The window's floor is the lower of

* `cursor - gap_ids` (default 200 ids), and
* the cursor as it was `gap_seconds` ago (default 30 s): a transaction that took id M at time t
  and commits within `gap_seconds` is always caught, however many changes others made meanwhile,
  because the cursor at time t was below M (rows delivered by then were taken before M),

and the set keeps only the delivered ids above the floor (at most `max_tracked`, default
10,000: past that the floor rises and the oldest ids are forgotten). The floor never moves down,
so an id dropped from the set is never looked at again. A transaction that stays open longer
than `gap_seconds` while more than `gap_ids` other changes commit can still be missed: the app's
`idle_in_transaction_session_timeout`/`statement_timeout` keep that rare, and pages reload on
open anyway. On the first connection the window below the starting cursor counts as delivered
(no replay of history); the set survives reconnects, so catch-up never delivers a row twice.

`on_changes` runs on the feed's thread; an exception from it is logged and the batch still
counts as delivered (redelivering would fail the same way for ever).

States: CONNECTING (first attempt), ONLINE (listening and caught up), RECONNECTING (the
connection failed or was lost; backing off and trying again, also when the very first attempt
fails), OFFLINE (`run` has returned because `stop` was set). Any `psycopg.Error` is handled as a
lost connection: close it, back off per `backoff` (the last step repeats; the step resets once
ONLINE), reconnect. Keepalives, `tcp_user_timeout`, `connect_timeout` and `statement_timeout` are
the caller's to put in `conninfo` (RELIABILITY.md 6.3); without them a black-holed network is
noticed only at the next poll's read, or never.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from factorypulse_desktop.domain.live import Change, FeedState

__all__ = ["CHANNEL", "Change", "ChangeFeed", "FeedState"]

log = logging.getLogger(__name__)

CHANNEL = "fp_changes"
APPLICATION_NAME = "factorypulse-live"
# How long one wait on the socket lasts at most: `run` notices `stop` within this.
_WAIT_SLICE = 0.25

_COLUMNS = "id, organization_id, entity_type, entity_id, operation, row_version"
_FETCH = (
    f"SELECT {_COLUMNS} FROM change_log WHERE id > %(after)s ORDER BY id LIMIT %(limit)s"
)
_FETCH_EXCLUDING = (
    f"SELECT {_COLUMNS} FROM change_log "
    "WHERE id > %(after)s AND (id > %(upto)s OR id <> ALL(%(seen)s)) "
    "ORDER BY id LIMIT %(limit)s"
)
# The starting cursor (the given one, or else the highest visible id) and the visible ids of the
# window below it, in one statement: one snapshot.
_START = """WITH start AS (
    SELECT coalesce(%(given)s::bigint, (SELECT max(id) FROM change_log), 0) AS cursor
)
SELECT start.cursor, ARRAY(
    SELECT id FROM change_log
    WHERE id > start.cursor - %(gap)s AND id <= start.cursor ORDER BY id
) FROM start"""


def _check_io_thread() -> None:
    """Refuse database I/O on the GUI thread, when the guard module exists."""
    try:
        from factorypulse_desktop.data import io_guard
    except ImportError:
        return
    io_guard.check_current_thread()


class ChangeFeed:
    """Follows `change_log` for one signed-in person; see the module docstring."""

    def __init__(
        self,
        conninfo: str,
        *,
        last_seen: int | None = None,
        poll_interval: float = 45.0,
        backoff: Sequence[float] = (0.5, 1, 2, 5, 10, 30),
        gap_ids: int = 200,
        gap_seconds: float = 30.0,
        max_tracked: int = 10_000,
        min_fetch_interval: float = 0.05,
    ) -> None:
        if not backoff:
            raise ValueError("backoff needs at least one delay")
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        self._conninfo = conninfo
        self._poll_interval = float(poll_interval)
        self._backoff = tuple(float(d) for d in backoff)
        self._gap_ids = max(0, int(gap_ids))
        self._gap_seconds = max(0.0, float(gap_seconds))
        self._max_tracked = max(1, int(max_tracked))
        self._min_fetch_interval = max(0.0, float(min_fetch_interval))
        self._last_fetch = float("-inf")
        # None until the first connection has found the head (last_seen=None: no replay).
        self._cursor: int | None = last_seen
        self._floor = 0  # the trailing window's floor; never decreases
        self._delivered: list[int] = []  # sorted ids in (floor, cursor] delivered already
        self._delivered_set: set[int] = set()
        self._cursor_history: deque[tuple[float, int]] = deque()  # (monotonic, cursor)
        self._primed = False  # the window below the starting cursor was marked delivered
        self._backend_pid: int | None = None

    # ----------------------------------------------------------------------------------------
    # Public
    # ----------------------------------------------------------------------------------------
    @property
    def last_seen(self) -> int:
        """The cursor: the highest change id delivered (0 before the first connection when
        the feed was created without a cursor)."""
        return self._cursor or 0

    @property
    def backend_pid(self) -> int | None:
        """The listening connection's server process id while connected (diagnostics)."""
        return self._backend_pid

    def run(
        self,
        stop: threading.Event,
        on_changes: Callable[[list[Change]], None],
        on_state: Callable[[FeedState], None],
    ) -> None:
        """Follow the change log until `stop` is set; returns within about `_WAIT_SLICE`.

        `on_changes` gets each batch of new changes in id order (never empty, never a change
        twice); `on_state` every state change. Both run on this thread and must be quick (an
        emit of a queued signal): while they run, no notification is read.
        """
        attempt = 0
        state: FeedState | None = None

        def set_state(new: FeedState) -> None:
            nonlocal state
            if new is not state:
                state = new
                on_state(new)

        set_state(FeedState.CONNECTING)
        try:
            while not stop.is_set():
                conn: psycopg.Connection[Any] | None = None
                try:
                    conn = self._connect()
                    conn.execute(f"LISTEN {CHANNEL}")
                    if not self._primed:
                        self._prime(conn)
                    self._deliver(conn, on_changes)  # catch up
                    attempt = 0
                    set_state(FeedState.ONLINE)
                    self._listen(conn, stop, on_changes)
                except psycopg.Error as error:
                    if stop.is_set():
                        break
                    log.warning("live updates: connection lost or failed: %s", error)
                    set_state(FeedState.RECONNECTING)
                    delay = self._backoff[min(attempt, len(self._backoff) - 1)]
                    attempt += 1
                    stop.wait(delay)
                finally:
                    self._backend_pid = None
                    if conn is not None:
                        conn.close()
        finally:
            set_state(FeedState.OFFLINE)

    def fetch_since(
        self,
        conn: psycopg.Connection[Any],
        after: int,
        limit: int = 1000,
        *,
        exclude: Iterable[int] = (),
        upto: int | None = None,
    ) -> list[Change]:
        """Every visible change with id > `after`, in id order, read in pages of `limit`.

        With `exclude` and `upto`: ids in (`after`, `upto`] listed in `exclude` are skipped
        (the trailing window's rows delivered already).
        """
        seen = sorted(set(exclude))
        changes: list[Change] = []
        while True:
            if seen and upto is not None:
                # Unprepared: a custom plan sees the array as a constant and can hash it.
                rows = conn.execute(
                    _FETCH_EXCLUDING,
                    {"after": after, "upto": upto, "seen": seen, "limit": limit},
                    prepare=False,
                ).fetchall()
            else:
                rows = conn.execute(_FETCH, {"after": after, "limit": limit}).fetchall()
            changes.extend(
                Change(
                    id=row[0], organization_id=row[1], entity_type=row[2], entity_id=row[3],
                    operation=row[4].strip(), row_version=row[5],
                )
                for row in rows
            )
            if len(rows) < limit:
                return changes
            after = rows[-1][0]

    # ----------------------------------------------------------------------------------------
    # Connection
    # ----------------------------------------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        _check_io_thread()
        extra: dict[str, Any] = {}
        if "application_name" not in conninfo_to_dict(self._conninfo):
            extra["application_name"] = APPLICATION_NAME
        conn = psycopg.connect(self._conninfo, autocommit=True, **extra)
        self._backend_pid = conn.info.backend_pid
        return conn

    def _listen(
        self,
        conn: psycopg.Connection[Any],
        stop: threading.Event,
        on_changes: Callable[[list[Change]], None],
    ) -> None:
        """Wait for notifications (or the poll timeout), then fetch; until `stop`."""
        next_poll = time.monotonic() + self._poll_interval
        while not stop.is_set():
            remaining = next_poll - time.monotonic()
            woken = False
            if remaining > 0:
                # Returns at the first notification; a lost connection raises here.
                for _notify in conn.notifies(
                    timeout=min(_WAIT_SLICE, remaining), stop_after=1
                ):
                    woken = True
                if woken:
                    # Drain whatever else is here, or comes within min_fetch_interval of the
                    # last fetch: one fetch answers them all (a burst, or a NOTIFY flood, costs
                    # at most one query per interval).
                    pause = self._last_fetch + self._min_fetch_interval - time.monotonic()
                    for _notify in conn.notifies(timeout=max(0.0, pause)):
                        pass
            if stop.is_set():
                return
            if woken or remaining <= 0:
                self._deliver(conn, on_changes)
                next_poll = time.monotonic() + self._poll_interval

    # ----------------------------------------------------------------------------------------
    # Cursor and trailing window
    # ----------------------------------------------------------------------------------------
    def _prime(self, conn: psycopg.Connection[Any]) -> None:
        """Set the starting cursor (the head when none was given: no replay of history) and
        count the visible rows of the window below it as delivered."""
        row = conn.execute(_START, {"given": self._cursor, "gap": self._gap_ids}).fetchone()
        assert row is not None
        cursor = int(row[0])
        self._cursor = cursor
        self._floor = max(0, cursor - self._gap_ids)
        self._delivered = sorted(int(i) for i in row[1])
        self._delivered_set = set(self._delivered)
        self._cursor_history.clear()
        self._cursor_history.append((time.monotonic(), cursor))
        self._primed = True

    def _deliver(
        self, conn: psycopg.Connection[Any], on_changes: Callable[[list[Change]], None]
    ) -> None:
        self._last_fetch = time.monotonic()
        cursor = self.last_seen
        changes = self.fetch_since(
            conn, self._floor, exclude=self._delivered, upto=cursor
        )
        fresh = [c for c in changes if c.id not in self._delivered_set]
        if fresh:
            for change in fresh:
                bisect.insort(self._delivered, change.id)
                self._delivered_set.add(change.id)
            self._cursor = max(cursor, fresh[-1].id)
            try:
                on_changes(fresh)
            except Exception:  # a bug in a receiver must not stop live updates
                log.exception("live updates: on_changes failed")
        self._advance_floor()

    def _advance_floor(self) -> None:
        now = time.monotonic()
        cursor = self.last_seen
        history = self._cursor_history
        if not history or history[-1][1] != cursor:
            history.append((now, cursor))
        # Keep the newest sample at least gap_seconds old: the cursor as it was back then.
        while len(history) > 1 and history[1][0] <= now - self._gap_seconds:
            history.popleft()
        floor = min(cursor - self._gap_ids, history[0][1])
        if len(self._delivered) > self._max_tracked:
            floor = max(floor, self._delivered[-self._max_tracked - 1])
        if floor > self._floor:
            self._floor = floor
            cut = bisect.bisect_right(self._delivered, floor)
            for old in self._delivered[:cut]:
                self._delivered_set.discard(old)
            del self._delivered[:cut]
