"""A new production order (operations, materials) planned with a client-chosen id, cut before
COMMIT or with its answer lost (RELIABILITY.md T-NET-03): OK pressed again plans it once,
with one production number, its operations and materials once."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from faults_support import (
    NOT_STORED,
    acme,
    answer_lost_after_commit,
    count,
    killed_before_commit,
    signed,
)
from production_support import stocked_item

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import production
from factorypulse_desktop.services.units import NOT_STORED_MESSAGE
from factorypulse_desktop.services.workspace import Workspace

PLANNER = "acme.production"


def an_order(ws: Workspace, db: Any, org: uuid.UUID, description: str,
             code: str) -> production.NewOrder:
    item, _location = stocked_item(db, org, code)
    centers = production.work_centers(ws, org)
    today = dt.date.today()
    return production.NewOrder(
        quantity=5, planned_start=today, planned_end=today + dt.timedelta(days=2),
        description=description,
        operations=[production.NewOperation("Cut", centers[0].id, 30),
                    production.NewOperation("Weld", centers[1].id, 45)],
        materials=[production.NewMaterial(item, Decimal(10))])


def orders_described(db: Any, description: str) -> int:
    return count(db, "SELECT count(*) FROM production_orders WHERE description = %s",
                 description)


def parts_of(db: Any, order: uuid.UUID) -> tuple[int, int]:
    return (count(db, "SELECT count(*) FROM production_operations WHERE "
                  "production_order_id = %s", order),
            count(db, "SELECT count(*) FROM production_order_materials WHERE "
                  "production_order_id = %s", order))


def test_T_NET_03_production_order_create_cut_before_commit_is_planned_once(
        demo_db: Any) -> None:
    org, new_id = acme(demo_db), uuid.uuid4()
    with signed(demo_db, PLANNER) as ws:
        new = an_order(ws, demo_db, org, "Planned once, cut", "NET-MO-1")
        with (killed_before_commit(demo_db, ws, r"INSERT INTO production_orders") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED) as lost):
            production.create(ws, org, None, new, new_id=new_id)
        assert trap.fired and str(lost.value) == NOT_STORED_MESSAGE
        assert orders_described(demo_db, "Planned once, cut") == 0
        order = production.create(ws, org, None, new, new_id=new_id)  # OK pressed again
        stored = production.detail(ws, org, order)
    assert order == new_id and stored.order.production_number.startswith("MO-")
    assert orders_described(demo_db, "Planned once, cut") == 1
    assert parts_of(demo_db, order) == (2, 1)


def test_T_NET_03_production_order_create_answer_lost_is_found_not_planned_again(
        demo_db: Any) -> None:
    org, new_id = acme(demo_db), uuid.uuid4()
    with signed(demo_db, PLANNER) as ws:
        new = an_order(ws, demo_db, org, "Planned once, answer lost", "NET-MO-2")
        with answer_lost_after_commit(demo_db, ws, r"INSERT INTO production_orders") as trap:
            first = production.create(ws, org, None, new, new_id=new_id)
        assert trap.fired, "the commit's answer was lost"
        assert first == new_id, "found by its id"
        number = production.detail(ws, org, first).order.production_number
        again = production.create(ws, org, None, new, new_id=new_id)  # OK pressed again
        stored = production.detail(ws, org, again)
    assert again == new_id and stored.order.production_number == number
    assert orders_described(demo_db, "Planned once, answer lost") == 1
    assert parts_of(demo_db, new_id) == (2, 1)


def test_an_id_of_someone_elses_production_order_is_not_taken_for_mine(
        demo_db: Any) -> None:
    org, new_id = acme(demo_db), uuid.uuid4()
    with signed(demo_db, "acme.management") as other, signed(demo_db, PLANNER) as ws:
        production.create(other, org, None, an_order(other, demo_db, org, "Theirs", "NET-MO-3"),
                          new_id=new_id)
        with pytest.raises(UserFacingError):
            production.create(ws, org, None, an_order(ws, demo_db, org, "Mine", "NET-MO-4"),
                              new_id=new_id)
    assert orders_described(demo_db, "Theirs") == 1 and orders_described(demo_db, "Mine") == 0
