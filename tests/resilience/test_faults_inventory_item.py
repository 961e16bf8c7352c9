"""A stock item's card saved with the version it was loaded at, cut before COMMIT or with its
answer lost (RELIABILITY.md T-NET-03): nothing is stored twice, and Save pressed again after a
save that did land is not reported as a conflict with oneself."""

from __future__ import annotations

import dataclasses
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

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import inventory
from factorypulse_desktop.services.inventory import ItemEdit

STOREKEEPER = "acme.production"


def an_item(db: Any, org: uuid.UUID, code: str) -> inventory.ItemDetail:
    with signed(db, STOREKEEPER) as ws:
        return inventory.save_item(ws, org, None, ItemEdit(
            item_code=code, item_name="Test bracket", min_stock_level=Decimal(2)))


def changes_after(db: Any, item: uuid.UUID, version: int) -> int:
    return count(db, "SELECT count(*) FROM change_log WHERE entity_type = 'inventory_items' "
                 "AND entity_id = %s AND row_version > %s", item, version)


def test_T_NET_03_inventory_item_cut_before_commit_keeps_the_version(demo_db: Any) -> None:
    org = acme(demo_db)
    loaded = an_item(demo_db, org, "NET-ITEM-1")
    edit = dataclasses.replace(loaded.as_edit(), item_name="Cut before the commit")
    with signed(demo_db, STOREKEEPER) as ws:
        with (killed_before_commit(demo_db, ws, r"UPDATE inventory_items SET") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED)):
            inventory.save_item(ws, org, loaded.id, edit, loaded.version)
        assert trap.fired
        assert inventory.get_item(ws, loaded.id).version == loaded.version, "nothing stored"
        saved = inventory.save_item(ws, org, loaded.id, edit, loaded.version)  # again
        after = inventory.get_item(ws, loaded.id)
    assert saved.version == after.version > loaded.version
    assert after.item_name == "Cut before the commit"
    assert changes_after(demo_db, loaded.id, loaded.version) == 1


def test_T_NET_03_inventory_item_answer_lost_is_not_a_false_conflict(demo_db: Any) -> None:
    org = acme(demo_db)
    loaded = an_item(demo_db, org, "NET-ITEM-2")
    edit = dataclasses.replace(loaded.as_edit(), item_name="Saved while the answer was lost",
                               unit_cost=Decimal("4.25"), max_stock_level=Decimal(40))
    with signed(demo_db, STOREKEEPER) as ws:
        with answer_lost_after_commit(demo_db, ws, r"UPDATE inventory_items SET") as trap:
            landed = inventory.save_item(ws, org, loaded.id, edit, loaded.version)
        assert trap.fired
        # Save pressed again with the version the form was loaded at: my own save, not
        # someone else's -- no conflict dialog, and nothing saved a second time.
        again = inventory.save_item(ws, org, loaded.id, edit, loaded.version)
        current = inventory.get_item(ws, loaded.id)
    assert landed.version == again.version == current.version
    assert (current.item_name, current.unit_cost) == ("Saved while the answer was lost",
                                                      Decimal("4.25"))
    assert changes_after(demo_db, loaded.id, loaded.version) == 1


def test_a_stale_item_save_after_someone_else_saved_is_still_a_conflict(demo_db: Any) -> None:
    """The landed check recognizes only my own save of exactly these values."""
    org = acme(demo_db)
    loaded = an_item(demo_db, org, "NET-ITEM-3")
    same = dataclasses.replace(loaded.as_edit(), item_name="Both typed this")
    with signed(demo_db, STOREKEEPER) as ws, signed(demo_db, "acme.management") as other:
        inventory.save_item(other, org, loaded.id, same, loaded.version)
        with pytest.raises(inventory.ItemConflictError):
            inventory.save_item(ws, org, loaded.id, same, loaded.version)
