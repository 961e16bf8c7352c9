"""The stock ledger's rules (revision 0013) and the inventory service, as real persons."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from rls_support import org_id, owner_conn, person_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import inventory
from factorypulse_desktop.services.auth import Workspace, sign_in


def signed(db: Any, who: str) -> Iterator[Workspace]:
    with sign_in(profile_for(db), who, DEMO_PASSWORD) as ws:
        yield ws


@pytest.fixture
def production(demo_db: Any) -> Iterator[Workspace]:
    yield from signed(demo_db, "acme.production")


@pytest.fixture
def stock(demo_db: Any, acme: uuid.UUID) -> dict[str, Any]:
    """A fresh item with 5 pcs at RAW (and two other locations), minimum 3."""
    with owner_conn(demo_db) as conn:
        locs = dict(conn.execute("SELECT code, id FROM inventory_locations WHERE "
                                 "organization_id = %s", (acme,)).fetchall())
        codes = sorted(locs)
        item = conn.execute(
            "INSERT INTO inventory_items (organization_id, item_code, item_name, unit, "
            "min_stock_level, unit_cost) VALUES (%s, 'TST-001', 'Test flange', 'pcs', 3, 2.5) "
            "RETURNING id", (acme,)).fetchone()
        assert item is not None
        conn.execute("INSERT INTO stock_movements (organization_id, inventory_item_id, "
                     "location_id, movement_type, quantity) VALUES (%s, %s, %s, 'receipt', 5)",
                     (acme, item[0], locs[codes[0]]))
    return {"item": item[0], "a": locs[codes[0]], "b": locs[codes[1]], "a_code": codes[0]}


def balances(db: Any, item: uuid.UUID) -> dict[uuid.UUID, Decimal]:
    with owner_conn(db) as conn:
        return dict(conn.execute("SELECT location_id, on_hand FROM inventory_balances WHERE "
                                 "inventory_item_id = %s", (item,)).fetchall())


def ledger_sums(db: Any, item: uuid.UUID) -> dict[uuid.UUID, Decimal]:
    with owner_conn(db) as conn:
        return dict(conn.execute("SELECT location_id, sum(quantity) FROM stock_movements "
                                 "WHERE inventory_item_id = %s GROUP BY 1", (item,)).fetchall())


def test_demo_balances_equal_the_ledger(demo_db: Any) -> None:
    with owner_conn(demo_db) as conn:
        differing = conn.execute("""
            SELECT count(*) FROM inventory_balances b FULL JOIN (
                SELECT organization_id, inventory_item_id, location_id, sum(quantity) AS q
                FROM stock_movements GROUP BY 1, 2, 3) m
            USING (organization_id, inventory_item_id, location_id)
            WHERE b.on_hand IS DISTINCT FROM m.q""").fetchone()
        rows = conn.execute("SELECT count(*) FROM inventory_balances").fetchone()
    assert differing == (0,)
    assert rows is not None and rows[0] > 10


def test_ledger_is_append_only_for_persons(demo_db: Any, acme: uuid.UUID,
                                           stock: dict[str, Any]) -> None:
    for statement in ("UPDATE stock_movements SET quantity = 500 WHERE inventory_item_id = %s",
                      "DELETE FROM stock_movements WHERE inventory_item_id = %s",
                      "UPDATE inventory_balances SET on_hand = 500 WHERE inventory_item_id = %s",
                      "DELETE FROM inventory_balances WHERE inventory_item_id = %s"):
        with person_conn(demo_db, "acme.admin") as conn, \
                pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement, (stock["item"],))
    with person_conn(demo_db, "acme.admin") as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("INSERT INTO inventory_balances (organization_id, inventory_item_id, "
                     "location_id, on_hand) VALUES (%s, %s, %s, 99)",
                     (acme, stock["item"], stock["b"]))
    assert balances(demo_db, stock["item"]) == {stock["a"]: Decimal(5)}


def test_no_negative_stock_unless_allowed(demo_db: Any, acme: uuid.UUID, stock: dict[str, Any],
                                          production: Workspace) -> None:
    with pytest.raises(UserFacingError) as refused:
        inventory.move(production, acme, item=stock["item"], location=stock["a"],
                       type="issue", quantity=Decimal(6))
    message = str(refused.value)
    assert message.startswith("Only 5 pcs of Test flange (TST-001) are in stock at ")
    assert "so 6 pcs cannot be taken out" in message
    assert balances(demo_db, stock["item"]) == {stock["a"]: Decimal(5)}
    # An empty location: nothing there.
    with pytest.raises(UserFacingError, match=r"^Only 0 pcs of Test flange"):
        inventory.move(production, acme, item=stock["item"], location=stock["b"],
                       type="issue", quantity=Decimal(1))
    with owner_conn(demo_db) as conn:
        conn.execute("UPDATE inventory_items SET allow_negative = true WHERE id = %s",
                     (stock["item"],))
    inventory.move(production, acme, item=stock["item"], location=stock["a"], type="issue",
                   quantity=Decimal(7))
    assert balances(demo_db, stock["item"])[stock["a"]] == Decimal(-2)
    assert balances(demo_db, stock["item"]) == ledger_sums(demo_db, stock["item"])


def test_T_CONC_two_workstations_issue_the_last_unit(demo_db: Any, acme: uuid.UUID,
                                                     stock: dict[str, Any]) -> None:
    with owner_conn(demo_db) as conn:  # leave exactly one unit
        conn.execute("INSERT INTO stock_movements (organization_id, inventory_item_id, "
                     "location_id, movement_type, quantity) VALUES (%s, %s, %s, 'issue', -4)",
                     (acme, stock["item"], stock["a"]))
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def issue(who: str) -> None:
        with person_conn(demo_db, who) as conn:
            barrier.wait()
            try:
                conn.execute("INSERT INTO stock_movements (organization_id, inventory_item_id, "
                             "location_id, movement_type, quantity) VALUES "
                             "(%s, %s, %s, 'issue', -1)", (acme, stock["item"], stock["a"]))
                conn.commit()
                outcomes[who] = "issued"
            except psycopg.Error as error:
                outcomes[who] = f"{error.sqlstate}: {error.diag.message_primary}"

    threads = [threading.Thread(target=issue, args=(w,))
               for w in ("acme.production", "acme.procurement")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    results = list(outcomes.values())
    assert results.count("issued") == 1
    [refused] = [r for r in results if r != "issued"]
    assert refused.startswith("FP409: Only 0 pcs of Test flange (TST-001) are in stock at")
    assert balances(demo_db, stock["item"]) == {stock["a"]: Decimal(0)}
    assert ledger_sums(demo_db, stock["item"]) == {stock["a"]: Decimal(0)}


def test_transfer_is_two_rows_with_one_group(demo_db: Any, acme: uuid.UUID,
                                             stock: dict[str, Any],
                                             production: Workspace) -> None:
    event = uuid.uuid4()
    group = inventory.transfer(production, acme, item=stock["item"], from_location=stock["a"],
                               to_location=stock["b"], quantity=Decimal("2.5"),
                               reference="TR-1", client_event_id=event)
    again = inventory.transfer(production, acme, item=stock["item"], from_location=stock["a"],
                               to_location=stock["b"], quantity=Decimal("2.5"),
                               reference="TR-1", client_event_id=event)
    assert again == group  # a retry lands once
    with owner_conn(demo_db) as conn:
        rows = conn.execute("SELECT movement_type, quantity, location_id FROM stock_movements "
                            "WHERE transfer_group_id = %s ORDER BY quantity", (group,)).fetchall()
    assert rows == [("transfer_out", Decimal("-2.5"), stock["a"]),
                    ("transfer_in", Decimal("2.5"), stock["b"])]
    assert balances(demo_db, stock["item"]) == {stock["a"]: Decimal("2.5"),
                                                stock["b"]: Decimal("2.5")}
    with pytest.raises(UserFacingError, match=r"^Only 2\.5 pcs of Test flange"):
        inventory.transfer(production, acme, item=stock["item"], from_location=stock["a"],
                           to_location=stock["b"], quantity=Decimal(3))
    with pytest.raises(FieldError, match="other than the source"):
        inventory.transfer(production, acme, item=stock["item"], from_location=stock["a"],
                           to_location=stock["a"], quantity=Decimal(1))


def test_retried_movement_with_client_event_id_lands_once(
        demo_db: Any, acme: uuid.UUID, stock: dict[str, Any], production: Workspace) -> None:
    event = uuid.uuid4()
    first = inventory.move(production, acme, item=stock["item"], location=stock["a"],
                           type="issue", quantity=Decimal(5), client_event_id=event)
    # The retry of the last units must not be refused as "out of stock": it already landed.
    second = inventory.move(production, acme, item=stock["item"], location=stock["a"],
                            type="issue", quantity=Decimal(5), client_event_id=event)
    assert first == second
    assert balances(demo_db, stock["item"]) == {stock["a"]: Decimal(0)}
    with owner_conn(demo_db) as conn:
        count = conn.execute("SELECT count(*) FROM stock_movements WHERE client_event_id = %s",
                             (event,)).fetchone()
    assert count == (1,)


def low_stock_notes(db: Any, item: uuid.UUID) -> list[tuple[str, str]]:
    with owner_conn(db) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT p.role_name, n.title FROM notifications n JOIN persons p ON p.id = "
            "n.person_id WHERE n.type = 'low_stock' AND n.related_entity_id = %s "
            "ORDER BY n.created_at", (item,)).fetchall()]


def test_low_stock_tells_procurement_once_until_restocked(
        demo_db: Any, acme: uuid.UUID, stock: dict[str, Any], production: Workspace) -> None:
    def issue(n: int) -> None:
        inventory.move(production, acme, item=stock["item"], location=stock["a"], type="issue",
                       quantity=Decimal(n))

    issue(2)  # 3 left: at the minimum, not below
    assert low_stock_notes(demo_db, stock["item"]) == []
    issue(1)  # 2 < 3
    assert low_stock_notes(demo_db, stock["item"]) == [
        ("acme.procurement", "Low stock: TST-001 Test flange")]
    issue(1)  # still below: no second notification
    assert len(low_stock_notes(demo_db, stock["item"])) == 1
    inventory.move(production, acme, item=stock["item"], location=stock["b"], type="receipt",
                   quantity=Decimal(10))  # 11 over all locations
    issue(1)  # 10: still above
    assert len(low_stock_notes(demo_db, stock["item"])) == 1
    inventory.move(production, acme, item=stock["item"], location=stock["b"], type="issue",
                   quantity=Decimal(8))  # 2 < 3 again: told again
    assert len(low_stock_notes(demo_db, stock["item"])) == 2


def test_low_stock_honours_the_preference(demo_db: Any, acme: uuid.UUID, stock: dict[str, Any],
                                          production: Workspace) -> None:
    with person_conn(demo_db, "acme.procurement") as conn:
        conn.execute("INSERT INTO notification_preferences (organization_id, person_id, event, "
                     "in_app) VALUES (%s, fp_private.my_person_id(), 'low_stock', false)",
                     (acme,))
        conn.commit()
    inventory.move(production, acme, item=stock["item"], location=stock["a"], type="issue",
                   quantity=Decimal(4))
    assert low_stock_notes(demo_db, stock["item"]) == []


@pytest.mark.parametrize("who", ["acme.supplier", "acme.customer"])
def test_portal_logins_see_no_inventory(demo_db: Any, acme: uuid.UUID, who: str) -> None:
    with person_conn(demo_db, who) as conn:
        for table in ("inventory_items", "inventory_locations", "stock_movements",
                      "inventory_balances", "inventory_on_hand"):
            row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert row == (0,), (who, table)
    with person_conn(demo_db, "acme.sales") as conn:  # internal staff do see it
        row = conn.execute("SELECT count(*) FROM inventory_balances").fetchone()
        assert row is not None and row[0] > 0


def test_sales_may_not_book_stock(demo_db: Any, acme: uuid.UUID, stock: dict[str, Any]) -> None:
    for ws in signed(demo_db, "acme.sales"):
        with pytest.raises(UserFacingError, match="You may not book stock"):
            inventory.move(ws, acme, item=stock["item"], location=stock["a"], type="receipt",
                           quantity=Decimal(1))


def test_items_list_detail_save_and_valuation(demo_db: Any, acme: uuid.UUID,
                                              stock: dict[str, Any],
                                              production: Workspace) -> None:
    page = inventory.list_items(production, acme, inventory.ItemFilter(text="tst-001"))
    [row] = page.rows
    assert (row.item_code, row.on_hand, row.low) == ("TST-001", Decimal(5), False)
    first = inventory.list_items(production, acme, limit=3)
    second = inventory.list_items(production, acme, after=first.next_after, limit=3)
    codes = [r.item_code for r in first.rows + second.rows]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    inventory.move(production, acme, item=stock["item"], location=stock["a"], type="issue",
                   quantity=Decimal(3))
    low = inventory.list_items(production, acme, inventory.ItemFilter(low_only=True, status=""))
    assert "TST-001" in [r.item_code for r in low.rows] and all(r.low for r in low.rows)

    detail = inventory.get_item(production, stock["item"])
    assert [(b.location_id, b.on_hand) for b in detail.balances] == [(stock["a"], Decimal(2))]
    assert [m.movement_type for m in detail.recent] == ["issue", "receipt"]
    assert (detail.recent[0].moved_by or "").startswith("Luis Ortega")

    edit = detail.as_edit()
    saved = inventory.save_item(production, acme, stock["item"],
                                inventory.ItemEdit(**{**edit.__dict__, "item_name": "Flange"}),
                                detail.version)
    assert saved.item_name == "Flange" and saved.version == detail.version + 1
    with pytest.raises(inventory.ItemConflictError) as conflict:
        inventory.save_item(production, acme, stock["item"], edit, detail.version)
    assert conflict.value.current is not None and conflict.value.current.item_name == "Flange"
    with pytest.raises(FieldError, match="already used"):
        inventory.save_item(production, acme, None,
                            inventory.ItemEdit(item_code="tst-001", item_name="Dup"))
    with pytest.raises(FieldError, match="maximum is below the minimum"):
        inventory.check_item(inventory.ItemEdit(item_code="X", item_name="Y",
                                                min_stock_level=Decimal(5),
                                                max_stock_level=Decimal(2)))

    assert inventory.adjust(production, acme, item=stock["item"], location=stock["a"],
                            counted=Decimal(4)) is not None
    assert balances(demo_db, stock["item"]) == {stock["a"]: Decimal(4)}
    report = inventory.valuation(production, acme)
    [line] = [x for x in report.lines if x.item_id == stock["item"]]
    assert line.value == Decimal("10.00")
    assert report.total == sum(x.value for x in report.lines)


def test_parse_number_in_words() -> None:
    assert inventory.parse_number("2,5", field="q", label="The quantity", decimals=3) == \
        Decimal("2.5")
    assert inventory.parse_number(" ", field="q", label="The quantity", decimals=3) is None
    with pytest.raises(FieldError, match="not a number"):
        inventory.parse_number("two", field="q", label="The quantity", decimals=3)
    with pytest.raises(FieldError, match="at most 3 decimals"):
        inventory.parse_number("1.2345", field="q", label="The quantity", decimals=3)


def test_globex_items_are_not_acme_s(demo_db: Any, production: Workspace) -> None:
    with owner_conn(demo_db) as conn:
        globex = org_id(conn, "globex")
    assert inventory.list_items(production, globex).rows == []
