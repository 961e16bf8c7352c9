"""New supplier RFQs (one per supplier of a group) and a recorded quote, created with a
client-chosen group / id, cut before COMMIT or with the answer lost (RELIABILITY.md
T-NET-03): OK pressed again stores them once, with one RFQ number each."""

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
from rls_support import owner_conn

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import supplier_rfqs as rfqs
from factorypulse_desktop.services.supplier_rfqs import (
    QuoteInput,
    QuoteLineInput,
    RfqDraft,
    RfqRow,
)
from factorypulse_desktop.services.units import NOT_STORED_MESSAGE
from factorypulse_desktop.services.workspace import Workspace

BUYER = "acme.procurement"


def a_project_and_draft(db: Any, org: uuid.UUID, title: str) -> tuple[uuid.UUID, RfqDraft]:
    """A fresh project (so its RFQs are only these) and a draft to two suppliers."""
    with owner_conn(db) as conn:
        project = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, %s) "
                               "RETURNING id", (org, title)).fetchone()
        suppliers = conn.execute("SELECT id FROM contacts WHERE organization_id = %s AND "
                                 "type = 'supplier' AND is_active ORDER BY company_name "
                                 "LIMIT 2", (org,)).fetchall()
    assert project is not None and len(suppliers) == 2
    return project[0], RfqDraft(tuple(s[0] for s in suppliers),
                                "200 brackets per drawing B-100",
                                dt.date.today() + dt.timedelta(days=7))


def rfqs_of(db: Any, project: uuid.UUID) -> int:
    return count(db, "SELECT count(*) FROM supplier_rfqs WHERE project_id = %s", project)


def rfq_numbers_taken(db: Any) -> int:
    return count(db, "SELECT coalesce(sum(last_seq), 0) FROM procurement_number_counters "
                 "WHERE kind = 'rfq'")


def test_T_NET_03_rfqs_create_cut_before_commit_is_stored_once(demo_db: Any) -> None:
    org, group = acme(demo_db), uuid.uuid4()
    project, draft = a_project_and_draft(demo_db, org, "RFQs cut before commit")
    with signed(demo_db, BUYER) as ws:
        numbers = rfq_numbers_taken(demo_db)
        with (killed_before_commit(demo_db, ws, r"INSERT INTO supplier_rfqs ") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED) as lost):
            rfqs.create_rfqs(ws, org, project, draft, group=group)
        assert trap.fired and str(lost.value) == NOT_STORED_MESSAGE
        assert rfqs_of(demo_db, project) == 0
        assert rfq_numbers_taken(demo_db) == numbers, "the numbers went back with the rest"
        created = rfqs.create_rfqs(ws, org, project, draft, group=group)  # OK pressed again
    assert len(created) == 2 and {r.rfq_group for r in created} == {group}
    assert rfqs_of(demo_db, project) == 2 and rfq_numbers_taken(demo_db) == numbers + 2


def test_T_NET_03_rfqs_create_answer_lost_is_found_not_stored_again(demo_db: Any) -> None:
    org, group = acme(demo_db), uuid.uuid4()
    project, draft = a_project_and_draft(demo_db, org, "RFQs with a lost answer")
    with signed(demo_db, BUYER) as ws:
        numbers = rfq_numbers_taken(demo_db)
        with answer_lost_after_commit(demo_db, ws, r"INSERT INTO supplier_rfqs ") as trap:
            first = rfqs.create_rfqs(ws, org, project, draft, group=group)
        assert trap.fired, "the commit's answer was lost"
        again = rfqs.create_rfqs(ws, org, project, draft, group=group)  # OK pressed again
    assert len(first) == 2 and {r.rfq_group for r in first} == {group}
    assert {(r.id, r.rfq_number) for r in again} == {(r.id, r.rfq_number) for r in first}
    assert rfqs_of(demo_db, project) == 2
    assert rfq_numbers_taken(demo_db) == numbers + 2, "one number per RFQ, not two"


def test_a_group_of_someone_elses_rfqs_is_not_taken_for_mine(demo_db: Any) -> None:
    org, group = acme(demo_db), uuid.uuid4()
    project, draft = a_project_and_draft(demo_db, org, "RFQs of two buyers")
    with signed(demo_db, "acme.management") as other, signed(demo_db, BUYER) as ws:
        rfqs.create_rfqs(other, org, project, draft, group=group)
        with pytest.raises(UserFacingError, match="could not be created"):
            rfqs.create_rfqs(ws, org, project, draft, group=group)
    assert rfqs_of(demo_db, project) == 2


# -- a recorded quote ----------------------------------------------------------------------


def a_sent_rfq(db: Any, ws: Workspace, org: uuid.UUID, title: str) -> RfqRow:
    project, draft = a_project_and_draft(db, org, title)
    return rfqs.send_rfqs(ws, org, rfqs.create_rfqs(ws, org, project, draft))[0]


QUOTE = QuoteInput((QuoteLineInput("Bracket B-100", Decimal("200"), Decimal("11.25")),
                    QuoteLineInput("Set-up", Decimal("1"), Decimal("350"), "lot")),
                   lead_time_days=12, quote_number="Q-NET-1")


def quotes_of(db: Any, rfq: RfqRow) -> int:
    return count(db, "SELECT count(*) FROM supplier_quotes WHERE supplier_rfq_id = %s", rfq.id)


def quote_lines_of(db: Any, rfq: RfqRow) -> int:
    return count(db, "SELECT count(*) FROM supplier_quote_lines l JOIN supplier_quotes q "
                 "ON q.id = l.supplier_quote_id WHERE q.supplier_rfq_id = %s", rfq.id)


def test_T_NET_03_quote_record_cut_before_commit_is_stored_once(demo_db: Any) -> None:
    org, quote_id = acme(demo_db), uuid.uuid4()
    with signed(demo_db, BUYER) as ws:
        rfq = a_sent_rfq(demo_db, ws, org, "A quote cut before commit")
        with (killed_before_commit(demo_db, ws, r"INSERT INTO supplier_quotes ") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED) as lost):
            rfqs.record_quote(ws, org, rfq, QUOTE, quote_id=quote_id)
        assert trap.fired and str(lost.value) == NOT_STORED_MESSAGE
        assert quotes_of(demo_db, rfq) == 0
        assert rfqs.get_rfqs(ws, org, [rfq.id])[0].status == "sent", "nothing moved"
        recorded = rfqs.record_quote(ws, org, rfq, QUOTE, quote_id=quote_id)  # OK again
        status = rfqs.get_rfqs(ws, org, [rfq.id])[0].status
    assert recorded.id == quote_id and recorded.total == Decimal("2600.00")
    assert status == "quoted"
    assert quotes_of(demo_db, rfq) == 1 and quote_lines_of(demo_db, rfq) == 2


def test_T_NET_03_quote_record_answer_lost_is_found_not_stored_again(demo_db: Any) -> None:
    org, quote_id = acme(demo_db), uuid.uuid4()
    with signed(demo_db, BUYER) as ws:
        rfq = a_sent_rfq(demo_db, ws, org, "A quote with a lost answer")
        with answer_lost_after_commit(demo_db, ws, r"INSERT INTO supplier_quotes ") as trap:
            first = rfqs.record_quote(ws, org, rfq, QUOTE, quote_id=quote_id)
        assert trap.fired, "the commit's answer was lost"
        assert first.id == quote_id and first.total == Decimal("2600.00")
        again = rfqs.record_quote(ws, org, rfq, QUOTE, quote_id=quote_id)  # OK again
    assert again.id == quote_id and again.version == first.version
    assert quotes_of(demo_db, rfq) == 1 and quote_lines_of(demo_db, rfq) == 2


def test_an_id_of_someone_elses_quote_is_not_taken_for_mine(demo_db: Any) -> None:
    org, quote_id = acme(demo_db), uuid.uuid4()
    with signed(demo_db, "acme.management") as other, signed(demo_db, BUYER) as ws:
        rfq = a_sent_rfq(demo_db, ws, org, "A quote id used twice")
        rfqs.record_quote(other, org, rfq, QUOTE, quote_id=quote_id)
        with pytest.raises(UserFacingError):
            rfqs.record_quote(ws, org, rfq, QUOTE, quote_id=quote_id)
    assert quotes_of(demo_db, rfq) == 1
