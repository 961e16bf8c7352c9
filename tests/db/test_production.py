"""Production orders and the station path (services.production/station, revision 0016), as
real persons: the status flow and its refusals, idempotent events, quantities, material issue."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from production_support import make_order, signed
from rls_support import owner_conn, person_conn

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import production, station
from factorypulse_desktop.services.station import StationEvent


def version(ws: Any, org: uuid.UUID, order: uuid.UUID) -> int:
    return production.detail(ws, org, order).order.version


def badge_of(db: Any, org: uuid.UUID, username: str) -> tuple[str, str]:
    with owner_conn(db) as conn:
        row = conn.execute(
            "SELECT m.employee_id, p.display_name FROM memberships m JOIN persons p ON p.id = "
            "m.person_id WHERE m.organization_id = %s AND p.role_name = %s", (org, username)
        ).fetchone()
    assert row is not None and row[0]
    return row[0], row[1]


def test_order_status_flow_and_its_refusals(demo_db: Any, acme: uuid.UUID) -> None:
    with signed(demo_db, "acme.production") as ws:
        setup = make_order(ws, demo_db, acme)
        order = production.detail(ws, acme, setup.order).order
        assert order.status == "planned" and order.production_number.startswith("MO-")
        assert (order.operations_done, order.operations_total) == (0, 2)
        # The station refuses an order that is not released yet.
        with pytest.raises(UserFacingError, match="not released yet"):
            station.send(ws, acme, StationEvent("start", setup.order, setup.operations[0]))
        assert production.release(ws, acme, setup.order, order.version) == "released"
        # A stale screen gets a conflict, not an overwrite.
        with pytest.raises(production.ProductionConflictError):
            production.hold(ws, acme, setup.order, order.version)
        assert production.hold(ws, acme, setup.order, version(ws, acme, setup.order)) == "on_hold"
        with pytest.raises(station.StationConflict, match="on hold"):
            station.send(ws, acme, StationEvent("start", setup.order, setup.operations[0]))
        # Never started: resuming goes back to released.
        assert production.resume(ws, acme, setup.order,
                                 version(ws, acme, setup.order)) == "released"
        assert production.cancel(ws, acme, setup.order,
                                 version(ws, acme, setup.order)) == "cancelled"
        with pytest.raises(UserFacingError, match="cancelled and can no longer be changed"):
            production.release(ws, acme, setup.order, version(ws, acme, setup.order))
        fresh = make_order(ws, demo_db, acme, code="TST-NUT")
        assert fresh.number != setup.number
    with person_conn(demo_db, "acme.production") as conn:
        # The flow is the database's: planned cannot jump to completed or in progress.
        with pytest.raises(psycopg.Error, match="cannot go from planned to completed"):
            conn.execute("UPDATE production_orders SET status = 'completed' WHERE id = %s",
                         (fresh.order,))
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="shop floor"):
            conn.execute("UPDATE production_orders SET completed_quantity = 5 WHERE id = %s",
                         (fresh.order,))
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="shop-floor station"):
            conn.execute("UPDATE production_operations SET status = 'completed' WHERE id = %s",
                         (fresh.operations[0],))
        conn.rollback()
        # Events only through the station path.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO production_events (organization_id, production_order_id, "
                         "event_type) VALUES (%s, %s, 'note')", (acme, fresh.order))
    # Sales may not plan production nor use the station.
    with signed(demo_db, "acme.sales") as sales:
        with pytest.raises(UserFacingError, match="not allowed"):
            make_order(sales, demo_db, acme, code="TST-SALES")
        with pytest.raises(UserFacingError, match="Only production"):
            station.send(sales, acme, StationEvent("start", fresh.order, fresh.operations[0]))


def test_station_runs_an_order_to_completed_with_good_and_scrapped_quantities(
        demo_db: Any, acme: uuid.UUID) -> None:
    badge, qa_name = badge_of(demo_db, acme, "acme.qa")
    with signed(demo_db, "acme.production") as ws:
        setup = make_order(ws, demo_db, acme, quantity=10)
        production.release(ws, acme, setup.order, version(ws, acme, setup.order))
        cut, weld = setup.operations
        started = station.send(ws, acme, StationEvent("start", setup.order, cut, badge=badge))
        assert (started.operation_status, started.order_status) == ("in_progress", "in_progress")
        assert production.detail(ws, acme, setup.order).order.actual_start is not None
        assert station.send(ws, acme, StationEvent("pause", setup.order, cut)).operation_status \
            == "paused"
        station.send(ws, acme, StationEvent("start", setup.order, cut))  # resumes
        done = station.send(ws, acme, StationEvent("complete", setup.order, cut,
                                                   quantity=Decimal(10), scrap=Decimal(1)))
        assert (done.operation_status, done.order_status) == ("completed", "in_progress")
        with pytest.raises(UserFacingError, match="has not been started"):
            station.send(ws, acme, StationEvent("complete", setup.order, weld,
                                                quantity=Decimal(9)))
        station.send(ws, acme, StationEvent("start", setup.order, weld))
        last = station.send(ws, acme, StationEvent("complete", setup.order, weld,
                                                   quantity=Decimal(8), scrap=Decimal(1)))
        assert last.order_status == "completed"
        detail = production.detail(ws, acme, setup.order)
    order = detail.order
    # Good parts count at the last operation; scrap wherever it falls.
    assert (order.completed_quantity, order.scrapped_quantity) == (Decimal(8), Decimal(2))
    assert order.status == "completed" and order.actual_end is not None
    assert [o.status for o in detail.operations] == ["completed", "completed"]
    kinds = sorted(e.event_type for e in detail.events)
    assert kinds == sorted(["start", "pause", "resume", "complete", "scrap", "start",
                            "complete", "scrap"])
    # The badge names the operator of the first event; later events without one, the login.
    first = min(detail.events, key=lambda e: e.occurred_at)
    assert first.event_type == "start" and first.operator == qa_name
    assert any(e.operator != qa_name for e in detail.events)
    assert all(o.minutes_worked >= 0 for o in detail.operations)
    with owner_conn(demo_db) as conn:
        actor = conn.execute(
            "SELECT pe.role_name FROM change_log c JOIN persons pe ON pe.id = c.actor_id "
            "JOIN production_events e ON e.id = c.entity_id WHERE c.entity_type = "
            "'production_events' AND e.production_order_id = %s AND e.operator_id IS NOT NULL "
            "ORDER BY e.occurred_at LIMIT 1", (setup.order,)).fetchone()
    assert actor == ("acme.production",)  # the signed-in station is the database actor
    with signed(demo_db, "acme.production") as ws, \
            pytest.raises(UserFacingError, match="already completed"):
        station.send(ws, acme, StationEvent("start", setup.order, cut))


def test_a_replayed_event_books_nothing_again_and_a_late_one_is_a_conflict(
        demo_db: Any, acme: uuid.UUID) -> None:
    with signed(demo_db, "acme.production") as ws, signed(demo_db, "acme.management") as boss:
        setup = make_order(ws, demo_db, acme, quantity=4)
        production.release(ws, acme, setup.order, version(ws, acme, setup.order))
        only = (setup.operations[0],)
        with owner_conn(demo_db) as conn:  # a one-operation order: skip the second
            conn.execute("UPDATE production_operations SET status = 'skipped' WHERE id = %s",
                         (setup.operations[1],))
        station.send(ws, acme, StationEvent("start", setup.order, only[0]))
        complete = StationEvent("complete", setup.order, only[0], quantity=Decimal(4),
                                scrap=Decimal(1))
        first = station.send(ws, acme, complete)
        again = station.send(ws, acme, complete)
        assert not first.replayed and again.replayed
        assert again.order_status == first.order_status == "completed"
        order = production.detail(ws, acme, setup.order)
        assert (order.order.completed_quantity, order.order.scrapped_quantity) == (4, 1)
        assert len([e for e in order.events if e.event_type == "complete"]) == 1
        # Another station completing the same operation with its own event: a conflict.
        with pytest.raises(station.StationConflict, match="already"):
            station.send(boss, acme, StationEvent("complete", setup.order, only[0],
                                                  quantity=Decimal(4)))


def test_material_issue_books_the_ledger_once(demo_db: Any, acme: uuid.UUID) -> None:
    with signed(demo_db, "acme.production") as ws:
        setup = make_order(ws, demo_db, acme, quantity=5)
        issue = StationEvent("issue", setup.order, item_id=setup.item, quantity=Decimal(7))
        with pytest.raises(station.StationConflict, match="released or running"):
            station.send(ws, acme, issue)
        production.release(ws, acme, setup.order, version(ws, acme, setup.order))
        booked = station.send(ws, acme, issue)
        assert booked.quantity_issued == Decimal(7) and not booked.replayed
        assert station.send(ws, acme, issue).replayed
        with pytest.raises(UserFacingError, match="above zero"):
            station.send(ws, acme, StationEvent("issue", setup.order, item_id=setup.item,
                                                quantity=Decimal(0)))
        [material] = production.detail(ws, acme, setup.order).materials
        assert (material.quantity_required, material.quantity_issued) == (10, 7)
    with owner_conn(demo_db) as conn:
        rows = conn.execute(
            "SELECT movement_type, quantity, location_id, production_order_id, pe.role_name "
            "FROM stock_movements m JOIN persons pe ON pe.id = m.moved_by "
            "WHERE m.inventory_item_id = %s AND movement_type = 'issue'", (setup.item,)
        ).fetchall()
        on_hand = conn.execute("SELECT quantity FROM inventory_on_hand WHERE "
                               "inventory_item_id = %s", (setup.item,)).fetchone()
    assert rows == [("issue", Decimal(-7), setup.location, setup.order, "acme.production")]
    assert on_hand == (Decimal(93),)


def test_release_reserves_the_materials_and_issue_or_cancel_frees_them(
        demo_db: Any, acme: uuid.UUID) -> None:
    with signed(demo_db, "acme.production") as ws:
        setup = make_order(ws, demo_db, acme, quantity=5, code="TST-RSV")

        def reserved() -> Decimal:
            [material] = production.detail(ws, acme, setup.order).materials
            return material.quantity_reserved

        assert reserved() == 0, "a planned order holds nothing yet"
        production.release(ws, acme, setup.order, version(ws, acme, setup.order))
        assert reserved() == 10
        station.send(ws, acme, StationEvent("issue", setup.order, item_id=setup.item,
                                            quantity=Decimal(4)))
        assert reserved() == 6
        production.cancel(ws, acme, setup.order, version(ws, acme, setup.order))
        assert reserved() == 0


def test_unknown_badge_is_refused_in_words(demo_db: Any, acme: uuid.UUID) -> None:
    with signed(demo_db, "acme.production") as ws:
        setup = make_order(ws, demo_db, acme)
        production.release(ws, acme, setup.order, version(ws, acme, setup.order))
        with pytest.raises(UserFacingError, match="No one in this organization has badge "
                                                  "NOPE-1"):
            station.send(ws, acme, StationEvent("start", setup.order, setup.operations[0],
                                                badge="NOPE-1"))
        assert production.detail(ws, acme, setup.order).events == ()
