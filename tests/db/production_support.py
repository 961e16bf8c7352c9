"""A small production set-up for the production and station tests: an order from the demo's
work centers with two operations and one material that has stock, made as a person."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rls_support import owner_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.services import production
from factorypulse_desktop.services.auth import Workspace, sign_in


@dataclass(frozen=True)
class Setup:
    order: uuid.UUID
    number: str
    operations: tuple[uuid.UUID, uuid.UUID]
    item: uuid.UUID
    item_code: str
    location: uuid.UUID


@contextmanager
def signed(db: Any, who: str) -> Iterator[Workspace]:
    with sign_in(profile_for(db), who, DEMO_PASSWORD) as ws:
        yield ws


def stocked_item(db: Any, org: uuid.UUID, code: str = "TST-BOLT", stock: int = 100
                 ) -> tuple[uuid.UUID, uuid.UUID]:
    """An item with `stock` units received into a fresh location (as the owner)."""
    with owner_conn(db) as conn:
        location = conn.execute(
            "INSERT INTO inventory_locations (organization_id, code, name) VALUES (%s, %s, "
            "'Test store') RETURNING id", (org, f"LOC-{code}")).fetchone()[0]  # type: ignore[index]
        item = conn.execute(
            "INSERT INTO inventory_items (organization_id, item_code, item_name, unit, "
            "default_location_id, unit_cost) VALUES (%s, %s, 'Test bolt M8', 'pcs', %s, 0.25) "
            "RETURNING id", (org, code, location)).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO stock_movements (organization_id, inventory_item_id, location_id, "
            "movement_type, quantity) VALUES (%s, %s, %s, 'receipt', %s)",
            (org, item, location, stock))
    return item, location


def make_order(ws: Workspace, db: Any, org: uuid.UUID, *, quantity: int = 10,
               code: str = "TST-BOLT") -> Setup:
    item, location = stocked_item(db, org, code)
    centers = production.work_centers(ws, org)
    today = dt.date.today()
    order = production.create(ws, org, None, production.NewOrder(
        quantity=quantity, planned_start=today, planned_end=today + dt.timedelta(days=3),
        description="Test brackets",
        operations=[production.NewOperation("Cut", centers[0].id, 30),
                    production.NewOperation("Weld", centers[1].id, 45)],
        materials=[production.NewMaterial(item, Decimal(quantity * 2))]))
    detail = production.detail(ws, org, order)
    first, second = (o.id for o in detail.operations)
    return Setup(order, detail.order.production_number, (first, second), item, code, location)
