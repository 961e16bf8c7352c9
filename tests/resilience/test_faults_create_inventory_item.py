"""A new stock item created with a client-chosen id, cut before COMMIT or with its answer lost
(RELIABILITY.md T-NET-03): Save pressed again stores it once, and its own item code is not
reported as taken by another item."""

from __future__ import annotations

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
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import inventory
from factorypulse_desktop.services.inventory import ItemEdit
from factorypulse_desktop.services.units import NOT_STORED_MESSAGE

STOREKEEPER = "acme.production"


def items_coded(db: Any, code: str) -> int:
    return count(db, "SELECT count(*) FROM inventory_items WHERE item_code = %s", code)


def test_T_NET_03_inventory_item_create_cut_before_commit_is_stored_once(
        demo_db: Any) -> None:
    org, new_id = acme(demo_db), uuid.uuid4()
    edit = ItemEdit(item_code="NET-NEW-1", item_name="Cut bracket", unit_cost=Decimal("1.5"))
    with signed(demo_db, STOREKEEPER) as ws:
        with (killed_before_commit(demo_db, ws, r"INSERT INTO inventory_items") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED) as lost):
            inventory.save_item(ws, org, None, edit, new_id=new_id)
        assert trap.fired and str(lost.value) == NOT_STORED_MESSAGE
        assert items_coded(demo_db, "NET-NEW-1") == 0
        saved = inventory.save_item(ws, org, None, edit, new_id=new_id)  # Save pressed again
    assert saved.id == new_id and saved.item_name == "Cut bracket"
    assert items_coded(demo_db, "NET-NEW-1") == 1


def test_T_NET_03_inventory_item_create_answer_lost_is_found_not_refused(
        demo_db: Any) -> None:
    """Before client ids, Save pressed again here met "the item code is already used"."""
    org, new_id = acme(demo_db), uuid.uuid4()
    edit = ItemEdit(item_code="NET-NEW-2", item_name="Lost answer bracket")
    with signed(demo_db, STOREKEEPER) as ws:
        with answer_lost_after_commit(demo_db, ws, r"INSERT INTO inventory_items") as trap:
            first = inventory.save_item(ws, org, None, edit, new_id=new_id)
        assert trap.fired, "the commit's answer was lost"
        assert first.id == new_id and first.item_code == "NET-NEW-2"
        again = inventory.save_item(ws, org, None, edit, new_id=new_id)  # Save pressed again
        assert again.id == new_id and again.version == first.version
        # The code rule still holds for a different new item.
        with pytest.raises(FieldError, match="already used"):
            inventory.save_item(ws, org, None, edit, new_id=uuid.uuid4())
    assert items_coded(demo_db, "NET-NEW-2") == 1


def test_an_item_someone_else_added_with_that_id_is_not_taken_for_mine(demo_db: Any) -> None:
    """Items have no author column: the landed check asks the change log who added it."""
    org, new_id = acme(demo_db), uuid.uuid4()
    with signed(demo_db, "acme.admin") as other, signed(demo_db, STOREKEEPER) as ws:
        inventory.save_item(other, org, None, ItemEdit(item_code="NET-NEW-3",
                                                       item_name="Theirs"), new_id=new_id)
        with pytest.raises(UserFacingError):
            inventory.save_item(ws, org, None, ItemEdit(item_code="NET-NEW-4",
                                                         item_name="Mine"), new_id=new_id)
    assert items_coded(demo_db, "NET-NEW-3") == 1 and items_coded(demo_db, "NET-NEW-4") == 0
