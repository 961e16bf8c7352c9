"""A production order's status move (release, hold, resume, cancel) cut before COMMIT or with
its answer lost (RELIABILITY.md T-NET-03): nothing is moved twice, and a move that landed is
returned, not reported as a lost connection.

Unlike the forms, a second click with the old version stays a conflict (the production page
reloads the order then; tests/ui/test_production_page.py), so "again" here is the click
after the page reloaded."""

from __future__ import annotations

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
from production_support import make_order

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import production

PLANNER = "acme.production"


def test_T_NET_03_production_release_cut_before_commit_keeps_the_version(
        demo_db: Any) -> None:
    org = acme(demo_db)
    with signed(demo_db, PLANNER) as ws:
        setup = make_order(ws, demo_db, org, code="NET-REL")
        loaded = production.detail(ws, org, setup.order).order
        with (killed_before_commit(demo_db, ws, r"UPDATE production_orders SET") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED)):
            production.release(ws, org, setup.order, loaded.version)
        assert trap.fired
        kept = production.detail(ws, org, setup.order).order
        assert (kept.status, kept.version) == ("planned", loaded.version), "nothing stored"
        assert production.release(ws, org, setup.order, loaded.version) == "released"
    assert count(demo_db, "SELECT count(*) FROM change_log WHERE entity_type = "
                 "'production_orders' AND entity_id = %s AND row_version > %s",
                 setup.order, loaded.version) == 1


def test_T_NET_03_production_hold_answer_lost_returns_the_landed_move(demo_db: Any) -> None:
    org = acme(demo_db)
    with signed(demo_db, PLANNER) as ws:
        setup = make_order(ws, demo_db, org, code="NET-HOLD")
        production.release(ws, org, setup.order,
                           production.detail(ws, org, setup.order).order.version)
        loaded = production.detail(ws, org, setup.order).order
        with answer_lost_after_commit(demo_db, ws, r"UPDATE production_orders SET") as trap:
            held = production.hold(ws, org, setup.order, loaded.version)
        assert trap.fired
        current = production.detail(ws, org, setup.order).order
        # A stale second click is still refused, never a second move.
        with pytest.raises(production.ProductionConflictError):
            production.hold(ws, org, setup.order, loaded.version)
    assert held == current.status == "on_hold"
    assert count(demo_db, "SELECT count(*) FROM change_log WHERE entity_type = "
                 "'production_orders' AND entity_id = %s AND row_version > %s",
                 setup.order, loaded.version) == 1


def test_a_lost_answer_after_someone_else_moved_it_is_not_taken_for_mine(
        demo_db: Any) -> None:
    """A move is recognized as landed only when every change since was mine."""
    org = acme(demo_db)
    with signed(demo_db, PLANNER) as ws, signed(demo_db, "acme.management") as other:
        setup = make_order(ws, demo_db, org, code="NET-OTHER")
        loaded = production.detail(ws, org, setup.order).order
        production.release(other, org, setup.order, loaded.version)
        with pytest.raises(production.ProductionConflictError):
            production.release(ws, org, setup.order, loaded.version)
