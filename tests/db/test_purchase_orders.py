"""Purchase orders in the database (revision 0015), as persons with their own logins — as psql.

Status moves allowed and refused, the approval threshold, frozen lines, receiving into the
stock ledger (partial, whole, retried) and what a supplier sees through the portal.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from rls_support import owner_conn, person_conn

PROCUREMENT = "acme.procurement"


def _one(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None, sql
    return row[0]


def supplier_contact(db: Any) -> uuid.UUID:
    """The supplier contact acme.supplier represents on the portal."""
    with owner_conn(db) as conn:
        return _one(conn, "SELECT m.contact_id FROM memberships m JOIN persons p ON "
                          "p.id = m.person_id WHERE p.role_name = 'acme.supplier'")


def stock_item(db: Any, org: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """An active stock item and a location of acme."""
    with owner_conn(db) as conn:
        row = conn.execute(
            "SELECT i.id, l.id FROM inventory_items i, inventory_locations l WHERE "
            "i.organization_id = %s AND l.organization_id = i.organization_id AND "
            "i.status = 'active' ORDER BY i.item_code, l.code LIMIT 1", (org,)).fetchone()
    assert row is not None
    return row[0], row[1]


def draft(db: Any, org: uuid.UUID, *, price: str = "10", who: str = PROCUREMENT,
          supplier: uuid.UUID | None = None) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A draft with two lines: 10 of a stock item at `price`, and 5 hours of a service."""
    item, _location = stock_item(db, org)
    supplier = supplier or supplier_contact(db)
    with person_conn(db, who) as conn:
        po = _one(conn, "INSERT INTO purchase_orders (organization_id, po_number, supplier_id, "
                        "due_date) VALUES (%s, %s, %s, current_date + 7) RETURNING id",
                  (org, f"PO-T-{uuid.uuid4().hex[:6]}", supplier))
        lines = [
            _one(conn, "INSERT INTO purchase_order_lines (organization_id, purchase_order_id, "
                       "line_no, inventory_item_id, item_name, quantity, unit_price) VALUES "
                       "(%s, %s, 1, %s, 'Bracket', 10, %s) RETURNING id",
                 (org, po, item, Decimal(price))),
            _one(conn, "INSERT INTO purchase_order_lines (organization_id, purchase_order_id, "
                       "line_no, item_name, quantity, unit, unit_price) VALUES "
                       "(%s, %s, 2, 'Powder coating', 5, 'h', 20) RETURNING id", (org, po)),
        ]
    return po, lines


def status(db: Any, po: uuid.UUID) -> tuple[str, int, Decimal]:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT status, version, total_amount FROM purchase_orders "
                           "WHERE id = %s", (po,)).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def submit(db: Any, org: uuid.UUID, po: uuid.UUID, who: str = PROCUREMENT) -> str:
    with person_conn(db, who) as conn:
        return str(_one(conn, "SELECT fp_private.submit_purchase_order(%s, %s, %s)",
                        (org, po, status(db, po)[1])))


def hand_move(db: Any, po: uuid.UUID, to: str, who: str = PROCUREMENT) -> None:
    with person_conn(db, who) as conn:
        conn.execute("UPDATE purchase_orders SET status = %s WHERE id = %s", (to, po))


def set_status(db: Any, po: uuid.UUID, to: str) -> None:
    with owner_conn(db) as conn:
        conn.execute("UPDATE purchase_orders SET status = %s WHERE id = %s", (to, po))


def receive(db: Any, org: uuid.UUID, po: uuid.UUID, entries: list[dict[str, Any]],
            client: uuid.UUID, who: str = PROCUREMENT) -> str:
    with person_conn(db, who) as conn:
        return str(_one(conn, "SELECT fp_private.receive_purchase_order(%s, %s, %s, %s)",
                        (org, po, json.dumps(entries, default=str), client)))


def test_total_is_the_sum_of_the_lines_kept_by_the_database(
        demo_db: Any, acme: uuid.UUID) -> None:
    po, lines = draft(demo_db, acme, price="12.5")
    assert status(demo_db, po)[2] == Decimal("225.00")  # 10 x 12.50 + 5 x 20
    with person_conn(demo_db, PROCUREMENT) as conn:
        conn.execute("UPDATE purchase_orders SET total_amount = 1 WHERE id = %s", (po,))
        conn.execute("UPDATE purchase_order_lines SET quantity = 20 WHERE id = %s",
                     (lines[0],))
    assert status(demo_db, po)[2] == Decimal("350.00")


def test_below_the_threshold_is_approved_at_once(demo_db: Any, acme: uuid.UUID) -> None:
    po, _lines = draft(demo_db, acme)  # 200, the demo threshold is 10,000
    assert submit(demo_db, acme, po) == "approved"
    assert status(demo_db, po)[0] == "approved"
    with owner_conn(demo_db) as conn:
        row = conn.execute("SELECT status::text, approval_chain_id FROM approvals WHERE "
                           "entity_id = %s", (po,)).fetchone()
    assert row == ("auto_approved", None)


def test_above_the_threshold_waits_and_only_the_approval_approves(
        demo_db: Any, acme: uuid.UUID) -> None:
    po, _lines = draft(demo_db, acme, price="2000")  # 20,100
    assert submit(demo_db, acme, po) == "pending_approval"
    for who in (PROCUREMENT, "acme.management", "acme.admin"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only through"):
            hand_move(demo_db, po, "approved", who)
    # nor by writing the approval
    with pytest.raises(psycopg.errors.InsufficientPrivilege), \
            person_conn(demo_db, "acme.admin") as conn:
        conn.execute("UPDATE approvals SET status = 'approved' WHERE entity_id = %s", (po,))
    with owner_conn(demo_db) as conn:
        approval, chain = conn.execute(
            "SELECT a.id, c.chain_name FROM approvals a JOIN approval_chains c ON "
            "c.id = a.approval_chain_id WHERE a.entity_id = %s", (po,)).fetchone() or (None, "")
    assert chain.startswith("PO over")
    # The demo chain: procurement checks, then management signs off.
    for who in (PROCUREMENT, "acme.management"):
        with owner_conn(demo_db) as conn:
            version = _one(conn, "SELECT version FROM approvals WHERE id = %s", (approval,))
        assert status(demo_db, po)[0] == "pending_approval"
        with person_conn(demo_db, who) as conn:
            conn.execute("SELECT fp_private.decide_approval(%s, %s, %s, 'approved', 'ok')",
                         (acme, approval, version))
    assert status(demo_db, po)[0] == "approved"


def test_a_rejection_sends_the_order_back_to_draft(demo_db: Any, acme: uuid.UUID) -> None:
    po, lines = draft(demo_db, acme, price="2000")
    submit(demo_db, acme, po)
    with owner_conn(demo_db) as conn:
        approval, version = conn.execute("SELECT id, version FROM approvals WHERE "
                                         "entity_id = %s", (po,)).fetchone() or (None, 0)
    with person_conn(demo_db, PROCUREMENT) as conn:
        conn.execute("SELECT fp_private.decide_approval(%s, %s, %s, 'rejected', 'too dear')",
                     (acme, approval, version))
    assert status(demo_db, po)[0] == "draft"
    with person_conn(demo_db, PROCUREMENT) as conn:  # a draft again: the lines may change
        conn.execute("UPDATE purchase_order_lines SET unit_price = 5 WHERE id = %s",
                     (lines[0],))
    assert submit(demo_db, acme, po) == "approved"


def test_lines_and_amounts_are_frozen_once_the_order_left_draft(
        demo_db: Any, acme: uuid.UUID) -> None:
    po, lines = draft(demo_db, acme, price="2000")
    submit(demo_db, acme, po)
    statements = [
        ("UPDATE purchase_order_lines SET quantity = 1 WHERE id = %s", (lines[0],)),
        ("DELETE FROM purchase_order_lines WHERE id = %s", (lines[1],)),
        ("INSERT INTO purchase_order_lines (organization_id, purchase_order_id, line_no, "
         "item_name, quantity, unit_price) VALUES (%s, %s, 3, 'Extra', 1, 1)", (acme, po)),
        ("UPDATE purchase_order_lines SET quantity_received = 10 WHERE id = %s", (lines[0],)),
        ("UPDATE purchase_orders SET notes = 'changed while waiting' WHERE id = %s", (po,)),
        ("DELETE FROM purchase_orders WHERE id = %s", (po,)),
    ]
    for sql, params in statements:
        with person_conn(demo_db, PROCUREMENT) as conn, pytest.raises(psycopg.Error):
            conn.execute(sql, params)
    # approved (by the owner here): the header's amounts stay frozen, notes may change
    set_status(demo_db, po, "approved")
    with person_conn(demo_db, PROCUREMENT) as conn, pytest.raises(
            psycopg.errors.InsufficientPrivilege, match="no longer a draft"):
        conn.execute("UPDATE purchase_orders SET currency = 'EUR' WHERE id = %s", (po,))
    with person_conn(demo_db, PROCUREMENT) as conn:
        conn.execute("UPDATE purchase_orders SET notes = 'Deliver to dock 3' WHERE id = %s",
                     (po,))
    assert status(demo_db, po)[2] == Decimal("20100.00")


@pytest.mark.parametrize(("start", "to", "allowed"), [
    ("draft", "cancelled", True),
    ("draft", "sent", False),
    ("draft", "pending_approval", False),
    ("pending_approval", "cancelled", True),
    ("pending_approval", "draft", False),
    ("approved", "sent", True),
    ("approved", "cancelled", True),
    ("approved", "received", False),
    ("sent", "acknowledged", True),
    ("sent", "cancelled", True),
    ("sent", "received", False),
    ("sent", "partially_received", False),
    ("acknowledged", "cancelled", True),
    ("acknowledged", "closed", False),
    ("partially_received", "closed", True),
    ("partially_received", "cancelled", False),
    ("received", "closed", True),
    ("received", "cancelled", False),
    ("closed", "received", False),
    ("cancelled", "draft", False),
])
def test_status_moves_by_hand(demo_db: Any, acme: uuid.UUID, start: str, to: str,
                              allowed: bool) -> None:
    po, _lines = draft(demo_db, acme)
    if start != "draft":
        set_status(demo_db, po, start)
    if allowed:
        hand_move(demo_db, po, to)
        assert status(demo_db, po)[0] == to
    else:
        with pytest.raises(psycopg.Error):
            hand_move(demo_db, po, to)
        assert status(demo_db, po)[0] == start


def test_sending_and_closing_are_stamped_and_roles_are_checked(
        demo_db: Any, acme: uuid.UUID) -> None:
    po, _lines = draft(demo_db, acme)
    submit(demo_db, acme, po)
    hand_move(demo_db, po, "sent", "acme.sales")  # sales may not write orders: no row changed
    assert status(demo_db, po)[0] == "approved"
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        submit(demo_db, acme, draft(demo_db, acme)[0], "acme.sales")
    hand_move(demo_db, po, "sent")
    with owner_conn(demo_db) as conn:
        assert _one(conn, "SELECT sent_at IS NOT NULL FROM purchase_orders WHERE id = %s",
                    (po,))


def test_cancelling_a_waiting_order_cancels_its_approval(
        demo_db: Any, acme: uuid.UUID) -> None:
    po, _lines = draft(demo_db, acme, price="2000")
    submit(demo_db, acme, po)
    hand_move(demo_db, po, "cancelled")
    with owner_conn(demo_db) as conn:
        assert _one(conn, "SELECT status::text FROM approvals WHERE entity_id = %s",
                    (po,)) == "cancelled"


def test_a_submit_of_a_changed_order_is_refused(demo_db: Any, acme: uuid.UUID) -> None:
    po, _lines = draft(demo_db, acme)
    old = status(demo_db, po)[1]
    with person_conn(demo_db, PROCUREMENT) as conn:
        conn.execute("UPDATE purchase_orders SET notes = 'edited' WHERE id = %s", (po,))
    with person_conn(demo_db, PROCUREMENT) as conn, pytest.raises(
            psycopg.OperationalError, match="changed since you opened it"):
        conn.execute("SELECT fp_private.submit_purchase_order(%s, %s, %s)", (acme, po, old))
    assert status(demo_db, po)[0] == "draft"


def _ledger(db: Any, po: uuid.UUID) -> list[Decimal]:
    with owner_conn(db) as conn:
        return [r[0] for r in conn.execute(
            "SELECT m.quantity FROM stock_movements m JOIN purchase_order_lines l ON "
            "l.id = m.purchase_order_line_id WHERE l.purchase_order_id = %s AND "
            "m.movement_type = 'receipt' ORDER BY m.moved_at, m.id", (po,))]


def _received(db: Any, po: uuid.UUID) -> list[Decimal]:
    with owner_conn(db) as conn:
        return [r[0] for r in conn.execute(
            "SELECT quantity_received FROM purchase_order_lines WHERE purchase_order_id = %s "
            "ORDER BY line_no", (po,))]


def test_partial_then_full_receipt_books_exactly_what_arrived(
        demo_db: Any, acme: uuid.UUID) -> None:
    po, lines = draft(demo_db, acme)
    _item, location = stock_item(demo_db, acme)
    submit(demo_db, acme, po)
    hand_move(demo_db, po, "sent")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        receive(demo_db, acme, po, [{"line": lines[0], "quantity": 1}], uuid.uuid4(),
                "acme.sales")
    first = receive(demo_db, acme, po, [{"line": lines[0], "quantity": "4",
                                         "location": location}], uuid.uuid4())
    assert first == "partially_received"
    assert _ledger(demo_db, po) == [Decimal("4.000")]
    assert _received(demo_db, po) == [Decimal("4.000"), Decimal("0.000")]
    # More than ordered is refused and changes nothing.
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="more than ordered"):
        receive(demo_db, acme, po, [{"line": lines[0], "quantity": "7",
                                     "location": location}], uuid.uuid4(), "acme.production")
    final = receive(demo_db, acme, po, [
        {"line": lines[0], "quantity": "6", "location": location},
        {"line": lines[1], "quantity": "5"},  # a service: received without stock
    ], uuid.uuid4(), "acme.production")
    assert final == "received"
    assert _ledger(demo_db, po) == [Decimal("4.000"), Decimal("6.000")]
    assert _received(demo_db, po) == [Decimal("10.000"), Decimal("5.000")]
    with owner_conn(demo_db) as conn:
        costs = conn.execute("SELECT DISTINCT unit_cost FROM stock_movements WHERE "
                             "purchase_order_line_id = %s", (lines[0],)).fetchall()
    assert costs == [(Decimal("10.0000"),)]
    hand_move(demo_db, po, "closed")


def test_a_retried_receipt_books_once(demo_db: Any, acme: uuid.UUID) -> None:
    po, lines = draft(demo_db, acme)
    _item, location = stock_item(demo_db, acme)
    submit(demo_db, acme, po)
    hand_move(demo_db, po, "sent")
    client = uuid.uuid4()
    entries = [{"line": lines[0], "quantity": "3", "location": location},
               {"line": lines[1], "quantity": "2"}]
    for _attempt in range(3):
        assert receive(demo_db, acme, po, entries, client) == "partially_received"
    assert _ledger(demo_db, po) == [Decimal("3.000")]
    assert _received(demo_db, po) == [Decimal("3.000"), Decimal("2.000")]


def test_goods_are_received_only_on_a_sent_order(demo_db: Any, acme: uuid.UUID) -> None:
    po, lines = draft(demo_db, acme)
    submit(demo_db, acme, po)  # approved, not yet sent
    with pytest.raises(psycopg.OperationalError, match="only on a sent order"):
        receive(demo_db, acme, po, [{"line": lines[1], "quantity": 1}], uuid.uuid4())


def test_supplier_sees_only_its_sent_orders_and_may_acknowledge(
        demo_db: Any, acme: uuid.UUID) -> None:
    mine, _lines = draft(demo_db, acme)
    with owner_conn(demo_db) as conn:
        other = _one(conn, "SELECT id FROM contacts WHERE organization_id = %s AND type = "
                           "'supplier' AND id <> %s LIMIT 1", (acme, supplier_contact(demo_db)))
    theirs, _other_lines = draft(demo_db, acme, supplier=other)
    for po in (mine, theirs):
        submit(demo_db, acme, po)
    with person_conn(demo_db, "acme.supplier") as conn:
        visible = {r[0] for r in conn.execute("SELECT id FROM purchase_orders")}
        assert mine not in visible  # approved, not yet sent
        with pytest.raises(psycopg.errors.UndefinedObject):
            conn.execute("SELECT fp_private.acknowledge_purchase_order(%s, %s, %s)",
                         (acme, mine, status(demo_db, mine)[1]))
    for po in (mine, theirs):
        hand_move(demo_db, po, "sent")
    with person_conn(demo_db, "acme.supplier") as conn:
        visible = {r[0] for r in conn.execute("SELECT id FROM purchase_orders")}
        assert mine in visible and theirs not in visible
        assert visible  # the demo's sent orders of this supplier are there too
        statuses = {r[0] for r in conn.execute("SELECT status FROM purchase_orders")}
        assert statuses <= {"sent", "acknowledged", "partially_received", "received", "closed"}
        assert _one(conn, "SELECT count(*) FROM purchase_order_lines WHERE "
                          "purchase_order_id = %s", (mine,)) == 2
        # no UPDATE for the portal: the function is the way
        assert conn.execute("UPDATE purchase_orders SET status = 'acknowledged' WHERE id = %s",
                            (mine,)).rowcount == 0
        conn.commit()
        with pytest.raises(psycopg.errors.UndefinedObject):
            conn.execute("SELECT fp_private.acknowledge_purchase_order(%s, %s, %s)",
                         (acme, theirs, status(demo_db, theirs)[1]))
        conn.rollback()
        assert _one(conn, "SELECT fp_private.acknowledge_purchase_order(%s, %s, %s)",
                    (acme, mine, status(demo_db, mine)[1])) == "acknowledged"
    assert status(demo_db, mine)[0] == "acknowledged"
