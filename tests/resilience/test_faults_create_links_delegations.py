"""A link to an external file and a delegation of one's approvals, each made with a
client-chosen id, cut before COMMIT or with its answer lost (RELIABILITY.md T-NET-03):
pressing again stores it once."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from faults_support import (
    NOT_STORED,
    a_project,
    acme,
    answer_lost_after_commit,
    count,
    killed_before_commit,
    person,
    signed,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.links import parse_link
from factorypulse_desktop.services import approvals, documents

LINK = "https://example.com/drawings/bracket-rev-c.pdf"


def add_link(ws: Any, org: uuid.UUID, project: uuid.UUID, title: str,
             new_id: uuid.UUID) -> documents.DocumentRow:
    return documents.add_link(ws, org, project, parse_link(LINK), documents.DocumentEdit(
        title, "drawing", "internal", (), ""), document_id=new_id)


def links_titled(db: Any, title: str) -> int:
    return count(db, "SELECT count(*) FROM documents WHERE title = %s", title)


@pytest.mark.parametrize("fault", ["cut before commit", "answer lost"])
def test_T_NET_03_a_link_is_stored_once(demo_db: Any, fault: str) -> None:
    org, new_id = acme(demo_db), uuid.uuid4()
    project = a_project(demo_db, org)
    title = f"Bracket drawing ({fault})"
    with signed(demo_db, "acme.engineering") as ws:
        if fault == "cut before commit":
            with (killed_before_commit(demo_db, ws, r"INSERT INTO documents") as trap,
                  pytest.raises(UserFacingError, match=NOT_STORED)):
                add_link(ws, org, project, title, new_id)
            assert trap.fired and links_titled(demo_db, title) == 0
            first = add_link(ws, org, project, title, new_id)  # Add pressed again
        else:
            with answer_lost_after_commit(demo_db, ws, r"INSERT INTO documents") as trap:
                first = add_link(ws, org, project, title, new_id)  # found by its id
            assert trap.fired
        again = add_link(ws, org, project, title, new_id)
    assert first.id == again.id == new_id and first.external_url == LINK
    assert links_titled(demo_db, title) == 1
    assert count(demo_db, "SELECT count(*) FROM document_versions WHERE document_id = %s",
                 new_id) == 1


@pytest.mark.parametrize("fault", ["cut before commit", "answer lost"])
def test_T_NET_03_a_delegation_is_given_once(demo_db: Any, fault: str) -> None:
    org, new_id = acme(demo_db), uuid.uuid4()
    stand_in = person(demo_db, "acme.admin")
    today = dt.date.today()

    def delegate(ws: Any) -> uuid.UUID:
        return approvals.delegate(ws, org, stand_in, today, today + dt.timedelta(days=7),
                                  "Holidays", delegation_id=new_id)

    with signed(demo_db, "acme.management") as ws:
        if fault == "cut before commit":
            with (killed_before_commit(demo_db, ws, r"INSERT INTO approval_delegations")
                  as trap, pytest.raises(UserFacingError, match=NOT_STORED)):
                delegate(ws)
            assert trap.fired
            assert count(demo_db, "SELECT count(*) FROM approval_delegations WHERE id = %s",
                         new_id) == 0
            first = delegate(ws)
        else:
            with answer_lost_after_commit(demo_db, ws,
                                          r"INSERT INTO approval_delegations") as trap:
                first = delegate(ws)
            assert trap.fired
        again = delegate(ws)
    assert first == again == new_id
    assert count(demo_db, "SELECT count(*) FROM approval_delegations WHERE delegate_id = %s "
                 "AND reason = 'Holidays'", stand_in) == 1


def test_someone_elses_id_is_not_taken_for_my_link(demo_db: Any) -> None:
    org, taken = acme(demo_db), uuid.uuid4()
    project = a_project(demo_db, org)
    with signed(demo_db, "acme.engineering") as engineer:
        add_link(engineer, org, project, "Theirs", taken)
    with signed(demo_db, "acme.sales") as sales, pytest.raises(UserFacingError):
        add_link(sales, org, project, "Mine", taken)
    assert links_titled(demo_db, "Theirs") == 1 and links_titled(demo_db, "Mine") == 0
