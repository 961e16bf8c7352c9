"""The station's offline outbox (services.outbox) with a fake sender: file format, no secrets,
order, exactly-once replay, conflicts kept, a torn last line ignored."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import outbox as outbox_module
from factorypulse_desktop.services.outbox import Outbox, outbox_path
from factorypulse_desktop.services.station import (
    Booked,
    StationConflict,
    StationEvent,
    StationOffline,
)

ORDER = uuid.uuid4()
OPERATION = uuid.uuid4()


class FakeDatabase:
    """Books each client event id once, like fp_private.record_production_event."""

    def __init__(self) -> None:
        self.booked: dict[uuid.UUID, StationEvent] = {}
        self.calls = 0
        self.offline = False
        self.refuse: set[uuid.UUID] = set()

    def send(self, event: StationEvent) -> Booked:
        self.calls += 1
        if self.offline:
            raise StationOffline("The connection to the database was lost.")
        if event.client_event_id in self.refuse:
            raise StationConflict("Operation 1 of MO-1 was already completed by someone else.")
        replayed = event.client_event_id in self.booked
        self.booked.setdefault(event.client_event_id, event)
        return Booked(event.action, "completed", "in_progress", None, replayed)


def event(action: str = "complete", **kw: object) -> StationEvent:
    return StationEvent(action, ORDER, OPERATION, quantity=Decimal("12.5"), scrap=Decimal(1),
                        badge="AC-1007", note="Burr on edge", label="Complete OP:MO-1:1",
                        **kw)  # type: ignore[arg-type]


def test_file_is_json_lines_with_the_event_and_its_id_and_no_secrets(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    queued = event()
    box.append(queued)
    box.append(event("start"))
    lines = (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["client_event_id"] == str(queued.client_event_id)
    assert (first["action"], first["quantity"], first["scrap"], first["badge"]) == (
        "complete", "12.5", "1", "AC-1007")
    assert set(first) == {"action", "order_id", "operation_id", "quantity", "scrap", "item_id",
                          "location_id", "badge", "note", "label", "client_event_id",
                          "occurred_at"}
    text = "\n".join(lines).lower()
    for secret in ("password", "conninfo", "host=", "postgresql", "factorypulse-demo", "user="):
        assert secret not in text
    assert box.pending()[0] == queued and box.pending()[1].action == "start"
    assert box.pending_count() == 2


def test_replay_twice_books_once_and_keeps_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    db = FakeDatabase()
    queued = [event("start"), event("pause"), event("start"), event("complete")]
    for e in queued:
        box.append(e)
    report = box.replay_with(db.send)
    assert (report.applied, report.conflicts, report.still_offline, report.remaining) == (
        4, (), False, 0)
    assert list(db.booked.values()) == queued  # in the order they happened
    assert box.pending_count() == 0 and not (tmp_path / "outbox.jsonl").exists()
    again = box.replay_with(db.send)
    assert again.applied == 0 and len(db.booked) == 4 and db.calls == 4


def test_a_crash_between_send_and_drop_replays_safely(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    db = FakeDatabase()
    box.append(event("start"))
    box.append(event("complete"))

    real_rewrite = outbox_module._rewrite

    def die_after_send(*_args: object) -> None:
        raise KeyboardInterrupt  # the process dies before the file is rewritten

    monkeypatch.setattr(outbox_module, "_rewrite", die_after_send)
    with pytest.raises(KeyboardInterrupt):
        box.replay_with(db.send)
    assert len(db.booked) == 1 and box.pending_count() == 2  # sent, not yet dropped
    monkeypatch.setattr(outbox_module, "_rewrite", real_rewrite)
    restarted = Outbox(tmp_path / "outbox.jsonl")  # the station starts again
    report = restarted.replay_with(db.send)
    assert report.applied == 2 and report.remaining == 0
    assert len(db.booked) == 2  # the first one was not booked twice


def test_offline_stops_replay_and_keeps_the_rest_in_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    db = FakeDatabase()
    queued = [event("start"), event("complete")]
    for e in queued:
        box.append(e)
    db.offline = True
    report = box.replay_with(db.send)
    assert report.still_offline and report.remaining == 2 and db.calls == 1
    assert box.pending() == queued


def test_conflicts_are_kept_and_reported_and_not_retried(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")
    db = FakeDatabase()
    late, fine = event("complete"), event("note")
    db.refuse.add(late.client_event_id)
    box.append(late)
    box.append(fine)
    report = box.replay_with(db.send)
    assert report.applied == 1 and report.remaining == 0
    assert [c.message for c in report.conflicts] == [
        "Operation 1 of MO-1 was already completed by someone else."]
    assert [c.event for c in box.conflicts()] == [late]
    box.replay_with(db.send)
    assert db.calls == 2  # not sent again
    box.dismiss_conflicts()
    assert box.conflicts() == []


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    box = Outbox(path)
    kept = event()
    box.append(kept)
    with path.open("a", encoding="utf-8") as out:
        out.write('{"action": "start", "order_')  # power cut mid-append
    assert box.pending() == [kept]


def test_path_is_in_the_data_folder_per_profile_and_organization(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORYPULSE_DATA_DIR", str(tmp_path))
    org = uuid.uuid4()
    path = outbox_path("Plant 2 / line A", org)
    assert path.parent == tmp_path / "station-outbox"
    assert path.name == f"Plant_2_line_A-{org}.jsonl"


def test_user_facing_refusal_other_than_conflict_is_kept_too(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.jsonl")

    def refuse(_event: StationEvent) -> Booked:
        raise UserFacingError("No one in this organization has badge X.")

    box.append(event())
    report = box.replay_with(refuse)
    assert report.remaining == 0 and box.conflicts()[0].message.startswith("No one")
