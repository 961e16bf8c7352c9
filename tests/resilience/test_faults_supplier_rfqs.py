"""Supplier RFQs moved (sent, cancelled) with the versions they were shown at, cut before
COMMIT or with the answer lost (RELIABILITY.md T-NET-03): nothing is moved twice, and the
button pressed again after a move that did land is not reported as a conflict with oneself."""

from __future__ import annotations

import datetime as dt
import uuid
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
from rls_support import owner_conn

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import supplier_rfqs as rfqs
from factorypulse_desktop.services.supplier_rfqs import RfqDraft, RfqRow
from factorypulse_desktop.services.workspace import Workspace

BUYER = "acme.procurement"


def two_drafts(db: Any, ws: Workspace, org: uuid.UUID) -> list[RfqRow]:
    with owner_conn(db) as conn:
        project = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, "
                               "'Pump bracket') RETURNING id", (org,)).fetchone()
        suppliers = conn.execute("SELECT id FROM contacts WHERE organization_id = %s AND "
                                 "type = 'supplier' AND is_active ORDER BY company_name "
                                 "LIMIT 2", (org,)).fetchall()
    assert project is not None and len(suppliers) == 2
    return rfqs.create_rfqs(ws, org, project[0], RfqDraft(
        tuple(s[0] for s in suppliers), "200 brackets per drawing B-100",
        dt.date.today() + dt.timedelta(days=7)))


def changes_after(db: Any, shown: list[RfqRow]) -> int:
    return sum(count(db, "SELECT count(*) FROM change_log WHERE entity_type = 'supplier_rfqs' "
                     "AND entity_id = %s AND row_version > %s", r.id, r.version) for r in shown)


def test_T_NET_03_rfqs_send_cut_before_commit_keeps_the_versions(demo_db: Any) -> None:
    org = acme(demo_db)
    with signed(demo_db, BUYER) as ws:
        shown = two_drafts(demo_db, ws, org)
        with (killed_before_commit(demo_db, ws, r"UPDATE supplier_rfqs SET") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED)):
            rfqs.send_rfqs(ws, org, shown)
        assert trap.fired
        kept = rfqs.get_rfqs(ws, org, [r.id for r in shown])
        assert {(r.status, r.version) for r in kept} == {("draft", r.version) for r in shown}
        sent = rfqs.send_rfqs(ws, org, shown)  # pressed again
    assert [r.status for r in sent] == ["sent", "sent"]
    assert changes_after(demo_db, shown) == 2, "each sent once"


def test_T_NET_03_rfqs_send_answer_lost_is_not_a_false_conflict(demo_db: Any) -> None:
    org = acme(demo_db)
    with signed(demo_db, BUYER) as ws:
        shown = two_drafts(demo_db, ws, org)
        with answer_lost_after_commit(demo_db, ws, r"UPDATE supplier_rfqs SET") as trap:
            landed = rfqs.send_rfqs(ws, org, shown)
        assert trap.fired
        # Send pressed again with the rows as they were shown: my own move, not someone
        # else's -- no conflict, and nothing moved a second time.
        again = rfqs.send_rfqs(ws, org, shown)
        current = rfqs.get_rfqs(ws, org, [r.id for r in shown])
    versions = {r.id: r.version for r in current}
    assert {r.id: r.version for r in landed} == {r.id: r.version for r in again} == versions
    assert all(r.status == "sent" for r in current)
    assert changes_after(demo_db, shown) == 2, "each sent once"


def test_a_stale_rfq_move_after_someone_else_moved_it_is_still_a_conflict(
        demo_db: Any) -> None:
    """The landed check recognizes only my own move of every one of them."""
    org = acme(demo_db)
    with signed(demo_db, BUYER) as ws, signed(demo_db, "acme.management") as other:
        shown = two_drafts(demo_db, ws, org)
        rfqs.move_rfqs(other, org, shown, "cancelled")
        with pytest.raises(rfqs.RfqConflictError):
            rfqs.move_rfqs(ws, org, shown, "cancelled")
        # Only one of them moved by me before: not all of this move landed.
        mine = two_drafts(demo_db, ws, org)
        rfqs.move_rfqs(ws, org, mine[:1], "cancelled")
        with pytest.raises(rfqs.RfqConflictError):
            rfqs.move_rfqs(ws, org, mine, "cancelled")
