"""A message sent with a client-chosen id, cut before COMMIT or with its answer lost
(RELIABILITY.md T-NET-03): sent again, it is stored once, mentions included."""

from __future__ import annotations

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
from factorypulse_desktop.services import messages


def test_T_NET_03_message_send_cut_before_commit_is_sent_once(demo_db: Any) -> None:
    org = acme(demo_db)
    project, qa, message_id = a_project(demo_db, org), person(demo_db, "acme.qa"), uuid.uuid4()
    with signed(demo_db, "acme.engineering") as ws:
        with (killed_before_commit(demo_db, ws, r"INSERT INTO messages") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED)):
            messages.post(ws, org, project_id=project, content="Check the weld seams",
                          subject="Seams", mention_ids=[qa], message_id=message_id)
        assert trap.fired
        assert count(demo_db, "SELECT count(*) FROM messages WHERE id = %s", message_id) == 0
        assert messages.post(ws, org, project_id=project, content="Check the weld seams",
                             subject="Seams", mention_ids=[qa],
                             message_id=message_id) == message_id
    assert count(demo_db, "SELECT count(*) FROM messages WHERE id = %s", message_id) == 1
    assert count(demo_db, "SELECT count(*) FROM message_mentions WHERE message_id = %s",
                 message_id) == 1


def test_T_NET_03_message_send_answer_lost_is_sent_once(demo_db: Any) -> None:
    org = acme(demo_db)
    project, qa, message_id = a_project(demo_db, org), person(demo_db, "acme.qa"), uuid.uuid4()
    with signed(demo_db, "acme.engineering") as ws:
        with answer_lost_after_commit(demo_db, ws, r"INSERT INTO messages") as trap:
            sent = messages.post(ws, org, project_id=project, content="Ship on Friday",
                                 subject="Dispatch", mention_ids=[qa], message_id=message_id)
        assert trap.fired and sent == message_id, "found by its id, not sent again"
        assert messages.post(ws, org, project_id=project, content="Ship on Friday",
                             subject="Dispatch", mention_ids=[qa],
                             message_id=message_id) == message_id
    assert count(demo_db, "SELECT count(*) FROM messages WHERE content = 'Ship on Friday'") == 1
    assert count(demo_db, "SELECT count(*) FROM message_mentions WHERE message_id = %s",
                 message_id) == 1

