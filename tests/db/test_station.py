"""The station against the real database: scanned codes open what they name, and the offline
outbox replays each event exactly once (also after a crash between send and drop)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from production_support import make_order, signed
from rls_support import owner_conn

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import production, station
from factorypulse_desktop.services.outbox import Outbox
from factorypulse_desktop.services.station import BadgeView, ItemView, OperationView, StationEvent


def events_of(db: Any, order: uuid.UUID) -> list[str]:
    with owner_conn(db) as conn:
        return [r[0] for r in conn.execute(
            "SELECT event_type FROM production_events WHERE production_order_id = %s "
            "ORDER BY occurred_at, event_type", (order,))]


def test_scanned_codes_open_operations_items_and_badges(demo_db: Any, acme: uuid.UUID) -> None:
    with owner_conn(demo_db) as conn:
        badge = conn.execute(
            "SELECT m.employee_id, p.display_name FROM memberships m JOIN persons p ON p.id = "
            "m.person_id WHERE m.organization_id = %s AND p.role_name = 'acme.production'",
            (acme,)).fetchone()
    assert badge is not None
    with signed(demo_db, "acme.production") as ws:
        setup = make_order(ws, demo_db, acme)
        for code in (f"OP:{setup.number}:2", f"{setup.number}/2", f"op:{setup.number}:2"):
            opened = station.open_by_code(ws, acme, code)
            assert isinstance(opened, OperationView), code
            assert (opened.sequence, opened.operation_name, opened.work_center) == (
                2, "Weld", production.work_centers(ws, acme)[1].name)
            assert opened.code == f"OP:{setup.number}:2"
        for code in (f"IT:{setup.item_code}", setup.item_code):
            item = station.open_by_code(ws, acme, code)
            assert isinstance(item, ItemView) and item.item_id == setup.item
        for code in (f"BD:{badge[0]}", badge[0]):
            person = station.open_by_code(ws, acme, code)
            assert isinstance(person, BadgeView) and person.name == badge[1]
        with pytest.raises(UserFacingError, match="No operation 9 on production order"):
            station.open_by_code(ws, acme, f"OP:{setup.number}:9")
        with pytest.raises(UserFacingError, match="No code"):
            station.open_by_code(ws, acme, "WHAT-IS-THIS")
        with pytest.raises(UserFacingError, match="Nothing was scanned"):
            station.open_by_code(ws, acme, "  \r")


def test_outbox_replay_against_the_database_twice_books_once(
        demo_db: Any, acme: uuid.UUID, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "station.jsonl")
    with signed(demo_db, "acme.production") as ws:
        setup = make_order(ws, demo_db, acme, quantity=3)
        production.release(ws, acme, setup.order,
                           production.detail(ws, acme, setup.order).order.version)
        cut = setup.operations[0]
        outbox.append(StationEvent("start", setup.order, cut))
        outbox.append(StationEvent("issue", setup.order, item_id=setup.item,
                                   quantity=Decimal(2)))
        complete = StationEvent("complete", setup.order, cut, quantity=Decimal(3))
        outbox.append(complete)
        # The station dies between sending the completion and dropping it from the file.

        def send_then_die(event: StationEvent) -> station.Booked:
            booked = station.send(ws, acme, event)
            if event.action == "complete":
                raise _Crash
            return booked

        with pytest.raises(_Crash):
            outbox.replay_with(send_then_die)
        assert [e.action for e in outbox.pending()] == ["complete"]
        again = outbox.replay(ws, acme)
        assert (again.applied, again.conflicts, again.remaining) == (1, (), 0)
        twice = outbox.replay(ws, acme)
        assert (twice.applied, twice.remaining) == (0, 0)
        # Replaying the same events once more (e.g. a restored old file) books nothing.
        outbox.append(complete)
        assert outbox.replay(ws, acme).applied == 1
        [material] = production.detail(ws, acme, setup.order).materials
    assert sorted(events_of(demo_db, setup.order)) == ["complete", "start"]
    assert material.quantity_issued == Decimal(2)


def test_a_conflict_is_kept_and_reported_not_retried(
        demo_db: Any, acme: uuid.UUID, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "station.jsonl")
    with signed(demo_db, "acme.production") as ws, signed(demo_db, "acme.management") as other:
        setup = make_order(ws, demo_db, acme, quantity=3)
        production.release(ws, acme, setup.order,
                           production.detail(ws, acme, setup.order).order.version)
        cut = setup.operations[0]
        station.send(ws, acme, StationEvent("start", setup.order, cut))
        # Offline, this station queued a completion; meanwhile another station completed it.
        outbox.append(StationEvent("complete", setup.order, cut, quantity=Decimal(3),
                                   label=f"Complete OP:{setup.number}:1"))
        station.send(other, acme, StationEvent("complete", setup.order, cut,
                                               quantity=Decimal(3)))
        report = outbox.replay(ws, acme)
    assert report.applied == 0 and report.remaining == 0
    [conflict] = report.conflicts
    assert "already completed by someone else" in conflict.message
    assert [c.event.label for c in outbox.conflicts()] == [f"Complete OP:{setup.number}:1"]
    assert events_of(demo_db, setup.order).count("complete") == 1


class _Crash(BaseException):
    """The process dying (not an error the outbox handles)."""
