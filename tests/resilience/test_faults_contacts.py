"""A new contact from the contacts page, its save cut before COMMIT or its answer lost
(RELIABILITY.md T-NET-03): the contact carries a client-chosen id, so Save pressed again
stores it once and is not mistaken for a duplicate name."""

from __future__ import annotations

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

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import contacts
from factorypulse_desktop.services.contacts import ContactEdit
from factorypulse_desktop.services.units import NOT_STORED_MESSAGE


def contacts_named(db: Any, name: str) -> int:
    return count(db, "SELECT count(*) FROM contacts WHERE company_name = %s", name)


def test_T_NET_03_contact_create_cut_before_commit_is_stored_once(demo_db: Any) -> None:
    org, new_id = acme(demo_db), uuid.uuid4()
    edit = ContactEdit(company_name="Faultline Castings", email="buy@faultline.example")
    with signed(demo_db, "acme.sales") as ws:
        with (killed_before_commit(demo_db, ws, r"INSERT INTO contacts") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED) as lost):
            contacts.save_contact(ws, org, None, edit, new_id=new_id)
        assert trap.fired and str(lost.value) == NOT_STORED_MESSAGE
        assert contacts_named(demo_db, "Faultline Castings") == 0
        saved = contacts.save_contact(ws, org, None, edit, new_id=new_id)  # Save pressed again
    assert saved.id == new_id and saved.email == "buy@faultline.example"
    assert contacts_named(demo_db, "Faultline Castings") == 1


def test_T_NET_03_contact_create_answer_lost_is_found_not_refused(demo_db: Any) -> None:
    """Before client ids, pressing Save again here met the duplicate-name refusal."""
    org, new_id = acme(demo_db), uuid.uuid4()
    edit = ContactEdit(company_name="Lost Answer Tooling")
    with signed(demo_db, "acme.sales") as ws:
        with answer_lost_after_commit(demo_db, ws, r"INSERT INTO contacts") as trap:
            first = contacts.save_contact(ws, org, None, edit, new_id=new_id)
        assert trap.fired, "the commit's answer was lost"
        assert first.id == new_id and first.company_name == "Lost Answer Tooling"
        again = contacts.save_contact(ws, org, None, edit, new_id=new_id)
        assert again.id == new_id and again.version == first.version
        # The duplicate-name rule still holds for a different new contact.
        with pytest.raises(contacts.ContactFieldError, match="already exists"):
            contacts.save_contact(ws, org, None, edit, new_id=uuid.uuid4())
    assert contacts_named(demo_db, "Lost Answer Tooling") == 1

