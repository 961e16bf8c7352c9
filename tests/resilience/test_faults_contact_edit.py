"""A contact's card saved with the version it was loaded at, cut before COMMIT or with its
answer lost (RELIABILITY.md T-NET-03): nothing is stored twice, and Save pressed again after a
save that did land is not reported as a conflict with oneself."""

from __future__ import annotations

import dataclasses
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


def a_contact(db: Any, org: uuid.UUID, name: str) -> contacts.ContactDetail:
    with signed(db, "acme.sales") as ws:
        return contacts.save_contact(ws, org, None, ContactEdit(company_name=name))


def changes_after(db: Any, contact: uuid.UUID, version: int) -> int:
    return count(db, "SELECT count(*) FROM change_log WHERE entity_type = 'contacts' AND "
                 "entity_id = %s AND row_version > %s", contact, version)


def test_T_NET_03_contact_edit_cut_before_commit_keeps_the_version(demo_db: Any) -> None:
    org = acme(demo_db)
    loaded = a_contact(demo_db, org, "Cutover Forge")
    edit = dataclasses.replace(loaded.as_edit(), city="Cut before the commit")
    with signed(demo_db, "acme.sales") as ws:
        with (killed_before_commit(demo_db, ws, r"UPDATE contacts SET") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED)):
            contacts.save_contact(ws, org, loaded.id, edit, loaded.version)
        assert trap.fired
        assert contacts.get_contact(ws, loaded.id).version == loaded.version, "nothing stored"
        saved = contacts.save_contact(ws, org, loaded.id, edit, loaded.version)  # again
        after = contacts.get_contact(ws, loaded.id)
    assert saved.version == after.version > loaded.version
    assert after.city == "Cut before the commit"
    assert changes_after(demo_db, loaded.id, loaded.version) == 1


def test_T_NET_03_contact_edit_answer_lost_is_not_a_false_conflict(demo_db: Any) -> None:
    org = acme(demo_db)
    loaded = a_contact(demo_db, org, "Lost Reply Machining")
    edit = dataclasses.replace(loaded.as_edit(), phone="+1 555 0100", notes="kept")
    with signed(demo_db, "acme.sales") as ws:
        with answer_lost_after_commit(demo_db, ws, r"UPDATE contacts SET") as trap:
            landed = contacts.save_contact(ws, org, loaded.id, edit, loaded.version)
        assert trap.fired
        # Save pressed again with the version the form was loaded at: my own save, not
        # someone else's -- no conflict dialog, and nothing saved a second time.
        again = contacts.save_contact(ws, org, loaded.id, edit, loaded.version)
        current = contacts.get_contact(ws, loaded.id)
    assert landed.version == again.version == current.version
    assert (current.phone, current.notes) == ("+1 555 0100", "kept")
    assert changes_after(demo_db, loaded.id, loaded.version) == 1


def test_T_NET_03_contact_archive_answer_lost_is_not_a_false_conflict(demo_db: Any) -> None:
    org = acme(demo_db)
    loaded = a_contact(demo_db, org, "Archived Twice Ltd")
    with signed(demo_db, "acme.sales") as ws:
        with answer_lost_after_commit(demo_db, ws, r"UPDATE contacts SET is_active") as trap:
            archived = contacts.set_active(ws, loaded.id, loaded.version, False)
        assert trap.fired and not archived.is_active
        again = contacts.set_active(ws, loaded.id, loaded.version, False)
        # Restoring with the stale version is not what landed: still a conflict.
        with pytest.raises(contacts.ContactConflictError):
            contacts.set_active(ws, loaded.id, loaded.version, True)
    assert again.version == archived.version > loaded.version
    assert changes_after(demo_db, loaded.id, loaded.version) == 1


def test_T_NET_03_contact_archive_cut_before_commit_keeps_the_version(demo_db: Any) -> None:
    org = acme(demo_db)
    loaded = a_contact(demo_db, org, "Archive Cut Ltd")
    with signed(demo_db, "acme.sales") as ws:
        with (killed_before_commit(demo_db, ws, r"UPDATE contacts SET is_active") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED)):
            contacts.set_active(ws, loaded.id, loaded.version, False)
        assert trap.fired
        assert contacts.get_contact(ws, loaded.id).is_active
        archived = contacts.set_active(ws, loaded.id, loaded.version, False)
    assert not archived.is_active and archived.version > loaded.version
    assert changes_after(demo_db, loaded.id, loaded.version) == 1


def test_a_stale_contact_edit_after_someone_else_saved_is_still_a_conflict(
        demo_db: Any) -> None:
    """The landed check recognizes only my own save of exactly these values."""
    org = acme(demo_db)
    loaded = a_contact(demo_db, org, "Both Typed Inc")
    same = dataclasses.replace(loaded.as_edit(), city="Both typed this")
    with signed(demo_db, "acme.sales") as ws, signed(demo_db, "acme.management") as other:
        contacts.save_contact(other, org, loaded.id, same, loaded.version)
        with pytest.raises(contacts.ContactConflictError, match="Someone else saved"):
            contacts.save_contact(ws, org, loaded.id, same, loaded.version)
