"""The station's offline outbox: events that could not reach the database, kept on disk
until they can be sent, each applied exactly once.

The outbox is a JSON-lines file in the app's data folder, one `StationEvent` a line with its
client event id — ids, quantities, badge and note, never a password or connection string.
`replay` sends the queued events in order; the database books each client event id once
(revision 0016), so an event sent before a crash and sent again after it lands once. An event
leaves the file only after the database has it. One the database refuses (e.g. "operation
already completed by someone else") moves to a conflicts file next to it, to be shown to the
person; it is never retried blindly.

Files are rewritten whole through a temporary file and `os.replace`, so a crash leaves either
the old or the new file, never half of one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime.paths import app_data_dir
from factorypulse_desktop.services.station import Booked, StationEvent, StationOffline
from factorypulse_desktop.services.workspace import Workspace

log = logging.getLogger(__name__)

Sender = Callable[[StationEvent], Booked]


@dataclass(frozen=True)
class Conflict:
    event: StationEvent
    message: str


@dataclass(frozen=True)
class ReplayReport:
    applied: int  # events the database booked now or had booked already
    conflicts: tuple[Conflict, ...]  # refused this time; moved to the conflicts file
    still_offline: bool  # the database went away again; the rest stays queued
    remaining: int


def outbox_path(profile_name: str, org: uuid.UUID) -> Path:
    """Where the station of one connection profile and organization queues its events."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", profile_name).strip("._") or "profile"
    return app_data_dir() / "station-outbox" / f"{safe}-{org}.jsonl"


class Outbox:
    """A JSON-lines queue of station events at `path` (conflicts in ``<path>.conflicts``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conflicts_path = path.with_name(path.name + ".conflicts")
        self._lock = threading.Lock()  # the GUI counts while a worker replays

    def append(self, event: StationEvent) -> None:
        """Queue `event` (flushed to disk before returning)."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(event.to_json(), sort_keys=True) + "\n")
                out.flush()
                os.fsync(out.fileno())

    def pending(self) -> list[StationEvent]:
        with self._lock:
            return _load(self.path)

    def pending_count(self) -> int:
        return len(self.pending())

    def conflicts(self) -> list[Conflict]:
        with self._lock:
            out = []
            for data in _lines(self.conflicts_path):
                try:
                    out.append(Conflict(StationEvent.from_json(data["event"]),
                                        str(data["message"])))
                except (KeyError, TypeError, ValueError):
                    continue
            return out

    def dismiss_conflicts(self) -> None:
        """The person has seen the conflicts: forget them."""
        with self._lock:
            self.conflicts_path.unlink(missing_ok=True)

    def replay(self, ws: Workspace, org: uuid.UUID) -> ReplayReport:
        """Send the queued events in order through the real station path."""
        from factorypulse_desktop.services import station

        return self.replay_with(lambda event: station.send(ws, org, event))

    def replay_with(self, send: Sender) -> ReplayReport:
        """Send the queued events in order with `send`; drop each once the database has it.

        Stops at the first `StationOffline` (the rest stays queued, in order); a refusal moves
        the event to the conflicts file and replay goes on with the next one.
        """
        applied = 0
        conflicts: list[Conflict] = []
        for event in self.pending():
            try:
                send(event)
            except StationOffline:
                return ReplayReport(applied, tuple(conflicts), True, self.pending_count())
            except UserFacingError as refused:
                conflict = Conflict(event, str(refused))
                conflicts.append(conflict)
                self._settle(event.client_event_id, conflict)
                continue
            applied += 1
            self._settle(event.client_event_id, None)
        return ReplayReport(applied, tuple(conflicts), False, self.pending_count())

    def _settle(self, event_id: uuid.UUID, conflict: Conflict | None) -> None:
        """Drop one sent event from the queue (keeping a refused one as a conflict)."""
        with self._lock:
            if conflict is not None:
                self.conflicts_path.parent.mkdir(parents=True, exist_ok=True)
                with self.conflicts_path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps({"event": conflict.event.to_json(),
                                          "message": conflict.message}, sort_keys=True) + "\n")
                    out.flush()
                    os.fsync(out.fileno())
            keep = [e for e in _load(self.path) if e.client_event_id != event_id]
            _rewrite(self.path, keep)


def _lines(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            # A line cut short by a crash mid-append: the event never counted as queued.
            log.warning("Skipped an unreadable line %d in %s", number, path)
            continue
        if isinstance(data, dict):
            out.append(data)
    return out


def _load(path: Path) -> list[StationEvent]:
    events = []
    for data in _lines(path):
        try:
            events.append(StationEvent.from_json(data))
        except (KeyError, TypeError, ValueError):
            log.warning("Skipped a line in %s that is not a station event", path)
    return events


def _rewrite(path: Path, events: list[StationEvent]) -> None:
    if not events:
        path.unlink(missing_ok=True)
        return
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event.to_json(), sort_keys=True) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
