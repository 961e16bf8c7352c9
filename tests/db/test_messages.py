"""Messages (services.messages, revision 0010): threads, mentions, attachments, read state and
who reads what — through the service as signed-in persons, and straight through psql-like
connections as those persons (row level security decides, not the app)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from rls_support import owner_conn, person_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import messages
from factorypulse_desktop.services.auth import Workspace, sign_in


def _one(conn: psycopg.Connection[Any], sql: str, *args: Any) -> Any:
    row = conn.execute(sql, args).fetchone()
    assert row is not None, sql
    return row[0]


@pytest.fixture
def people(demo_db: Any) -> dict[str, uuid.UUID]:
    with owner_conn(demo_db) as conn:
        rows = conn.execute("SELECT role_name, id FROM persons").fetchall()
    return {name: pid for name, pid in rows}


@pytest.fixture
def project(demo_db: Any, acme: uuid.UUID) -> uuid.UUID:
    """A project of the customer acme.customer represents (so that login sees the project)."""
    with owner_conn(demo_db) as conn:
        customer = _one(conn, "SELECT m.contact_id FROM memberships m JOIN persons p ON "
                              "p.id = m.person_id WHERE p.role_name = 'acme.customer'")
        return _one(conn, "INSERT INTO projects (organization_id, title, customer_id) "
                          "VALUES (%s, 'Gear housing', %s) RETURNING id", acme, customer)


@pytest.fixture
def other_project(demo_db: Any, acme: uuid.UUID) -> uuid.UUID:
    with owner_conn(demo_db) as conn:
        return _one(conn, "INSERT INTO projects (organization_id, title) VALUES (%s, "
                          "'Pump cover') RETURNING id", acme)


def _document(db: Any, org: uuid.UUID, project: uuid.UUID, title: str) -> uuid.UUID:
    with owner_conn(db) as conn:
        return _one(conn, "INSERT INTO documents (organization_id, project_id, title, file_name) "
                          "VALUES (%s, %s, %s, %s) RETURNING id", org, project, title,
                    title.lower().replace(" ", "_") + ".pdf")


def signed(db: Any, who: str) -> Iterator[Workspace]:
    with sign_in(profile_for(db), who, DEMO_PASSWORD) as ws:
        yield ws


@pytest.fixture
def sales(demo_db: Any) -> Iterator[Workspace]:
    yield from signed(demo_db, "acme.sales")


@pytest.fixture
def engineering(demo_db: Any) -> Iterator[Workspace]:
    yield from signed(demo_db, "acme.engineering")


def test_replies_join_their_parents_thread_and_unread_counts_follow_reading(
        acme: uuid.UUID, project: uuid.UUID, other_project: uuid.UUID, sales: Workspace,
        engineering: Workspace) -> None:
    root = messages.post(sales, acme, project_id=project, subject="Kick-off",
                         content="  Kick-off on Monday.\nBring the drawings.  ")
    # The reply names another project: the database keeps it in its parent's project.
    first = messages.post(engineering, acme, project_id=other_project, parent_id=root,
                          content="I will be there.")
    second = messages.post(engineering, acme, project_id=project, parent_id=first,
                           content="Drawings are rev C.")
    [listed] = messages.threads(sales, acme, project)
    assert (listed.id, listed.title, listed.reply_count, listed.unread) == (
        root, "Kick-off", 2, 2)
    assert messages.threads(sales, acme, other_project) == []
    shown = messages.thread(sales, acme, root)
    assert [m.id for m in shown] == [root, first, second]
    assert {m.thread_id for m in shown} == {root}
    assert shown[0].content == "Kick-off on Monday.\nBring the drawings."  # trimmed
    assert [m.sender for m in shown] == [sales.identity.display_name] + [
        engineering.identity.display_name] * 2
    assert [m.mine for m in shown] == [True, False, False]
    assert [m.read_by_me for m in shown] == [False, False, False]
    assert messages.mark_read(sales, acme, [first, second]) == 2
    assert messages.mark_read(sales, acme, [first, second]) == 0
    assert messages.threads(sales, acme, project)[0].unread == 0
    assert [m.read_by_me for m in messages.thread(sales, acme, root)][1:] == [True, True]
    # Engineering has not read the root yet.
    assert messages.threads(engineering, acme, project)[0].unread == 1


def test_sending_again_with_the_same_id_stores_the_message_once(
        acme: uuid.UUID, project: uuid.UUID, sales: Workspace) -> None:
    chosen = uuid.uuid4()
    for _attempt in range(2):
        assert messages.post(sales, acme, project_id=project, content="Once",
                             message_id=chosen) == chosen
    assert len(messages.thread(sales, acme, chosen)) == 1


def test_empty_and_oversized_messages_are_refused_in_words(
        acme: uuid.UUID, project: uuid.UUID, sales: Workspace) -> None:
    with pytest.raises(FieldError, match="Write a message before sending"):
        messages.post(sales, acme, project_id=project, content=" \n\t ")
    with pytest.raises(FieldError, match="too long"):
        messages.post(sales, acme, project_id=project, content="x" * 100_001)
    assert messages.threads(sales, acme, project) == []


def test_a_reply_to_a_message_the_person_cannot_see_is_refused(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, people: dict[str, uuid.UUID],
        engineering: Workspace) -> None:
    with person_conn(demo_db, "acme.sales") as conn:
        private = _one(conn, "INSERT INTO messages (organization_id, project_id, recipient_id, "
                             "recipient_type, content) VALUES (%s, %s, %s, 'user', "
                             "'Between us: the price') RETURNING id",
                       acme, project, people["acme.qa"])
    with person_conn(demo_db, "acme.engineering") as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="may not see it"):
        conn.execute("INSERT INTO messages (organization_id, project_id, "
                     "parent_message_id, content) VALUES (%s, %s, %s, 'me too')",
                     (acme, project, private))
    with pytest.raises(UserFacingError, match="may not see it"):
        messages.post(engineering, acme, project_id=project, parent_id=private,
                      content="me too")
    with person_conn(demo_db, "acme.qa") as conn:  # the recipient may answer
        conn.execute("INSERT INTO messages (organization_id, parent_message_id, content) "
                     "VALUES (%s, %s, 'Understood')", (acme, private))


def test_another_organization_and_portal_logins_never_read_internal_messages(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, people: dict[str, uuid.UUID],
        sales: Workspace) -> None:
    root = messages.post(sales, acme, project_id=project, subject="Margin",
                         content="Internal: our margin on this job is thin.")
    with owner_conn(demo_db) as conn:  # even an internal message addressed to the customer
        conn.execute("INSERT INTO messages (organization_id, project_id, sender_id, "
                     "recipient_id, recipient_type, content) VALUES (%s, %s, %s, %s, 'user', "
                     "'Internal note wrongly addressed')",
                     (acme, project, people["acme.sales"], people["acme.customer"]))
        conn.execute("INSERT INTO messages (organization_id, project_id, sender_id, "
                     "recipient_id, recipient_type, message_type, content) VALUES (%s, %s, %s, "
                     "%s, 'user', 'customer', 'Your quote is ready')",
                     (acme, project, people["acme.sales"], people["acme.customer"]))
    for who in ("globex.admin", "acme.customer", "acme.supplier"):
        with person_conn(demo_db, who) as conn:
            assert _one(conn, "SELECT count(*) FROM messages WHERE message_type = "
                              "'internal' AND project_id = %s", project) == 0, who
            assert _one(conn, "SELECT count(*) FROM messages WHERE id = %s", root) == 0, who
            assert _one(conn, "SELECT count(*) FROM messages WHERE content LIKE "
                              "'%%margin%%'") == 0, who
    with person_conn(demo_db, "acme.customer") as conn:
        # The project is the customer's, and the message addressed to them in their type shows.
        assert _one(conn, "SELECT count(*) FROM projects WHERE id = %s", project) == 1
        assert conn.execute("SELECT content FROM messages WHERE project_id = %s",
                            (project,)).fetchall() == [("Your quote is ready",)]
        # A portal login cannot write an internal message either.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO messages (organization_id, project_id, recipient_id, "
                         "recipient_type, content) VALUES (%s, %s, %s, 'user', 'hi')",
                         (acme, project, people["acme.sales"]))
    with person_conn(demo_db, "acme.engineering") as conn:  # staff read it
        assert _one(conn, "SELECT count(*) FROM messages WHERE id = %s", root) == 1


def test_a_person_cannot_post_as_someone_else(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID,
        people: dict[str, uuid.UUID]) -> None:
    with person_conn(demo_db, "acme.engineering") as conn:
        sender = _one(conn, "INSERT INTO messages (organization_id, project_id, sender_id, "
                            "content) VALUES (%s, %s, %s, 'signed by sales?') "
                            "RETURNING sender_id", acme, project, people["acme.sales"])
        assert sender == people["acme.engineering"]
        message = _one(conn, "SELECT id FROM messages WHERE content = 'signed by sales?'")
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE messages SET sender_id = %s WHERE id = %s",
                         (people["acme.sales"], message))


def test_mentions_only_of_people_who_can_read_it_and_only_by_the_sender(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, people: dict[str, uuid.UUID],
        sales: Workspace) -> None:
    with pytest.raises(UserFacingError):  # a person of another organization
        messages.post(sales, acme, project_id=project, content="@globex.qa look",
                      mention_ids=[people["globex.qa"]])
    with pytest.raises(UserFacingError, match="cannot read this message"):
        messages.post(sales, acme, project_id=project, content="@acme.customer look",
                      mention_ids=[people["acme.customer"]])
    assert messages.threads(sales, acme, project) == [], "nothing stored of a refused post"
    mentionable = messages.mentionable(sales, acme, project)
    usernames = {p.username for p in mentionable}
    assert "acme.qa" in usernames and "acme.customer" not in usernames
    assert not any(u.startswith("globex.") for u in usernames)
    sent = messages.post(sales, acme, project_id=project, content="@acme.qa please check",
                         mention_ids=[people["acme.qa"]])
    [shown] = messages.thread(sales, acme, sent)
    assert [p.username for p in shown.mentions] == ["acme.qa"]
    with owner_conn(demo_db) as conn:  # in the same transaction as the message
        assert _one(conn, "SELECT count(*) FROM message_mentions WHERE message_id = %s",
                    sent) == 1
    with person_conn(demo_db, "acme.engineering") as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):  # not the sender
        conn.execute("INSERT INTO message_mentions (organization_id, message_id, "
                     "person_id) VALUES (%s, %s, %s)",
                     (acme, sent, people["acme.production"]))


def test_attachments_only_of_the_same_project_and_only_by_the_sender(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, other_project: uuid.UUID,
        sales: Workspace) -> None:
    mine = _document(demo_db, acme, project, "Housing drawing")
    elsewhere = _document(demo_db, acme, other_project, "Cover drawing")
    with pytest.raises(UserFacingError, match="Only documents of this project"):
        messages.post(sales, acme, project_id=project, content="See attached",
                      document_ids=[elsewhere])
    assert messages.threads(sales, acme, project) == []
    sent = messages.post(sales, acme, project_id=project, content="See attached",
                         document_ids=[mine])
    [shown] = messages.thread(sales, acme, sent)
    assert [(a.title, a.file_name) for a in shown.attachments] == [
        ("Housing drawing", "housing_drawing.pdf")]
    another = _document(demo_db, acme, project, "Other sheet")
    with person_conn(demo_db, "acme.engineering") as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):  # not the sender
        conn.execute("INSERT INTO message_attachments (organization_id, message_id, "
                     "document_id) VALUES (%s, %s, %s)", (acme, sent, another))


def test_only_the_sender_edits_and_deleting_is_a_soft_delete(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, sales: Workspace,
        engineering: Workspace) -> None:
    sent = messages.post(sales, acme, project_id=project, content="Delivery on the 3rd")
    with pytest.raises(UserFacingError, match="Only the sender can edit"):
        messages.edit(engineering, acme, sent, "Delivery on the 30th")
    with pytest.raises(UserFacingError, match="Only the sender or a manager"):
        messages.delete(engineering, acme, sent)
    messages.edit(sales, acme, sent, "Delivery on the 4th")
    [edited] = messages.thread(engineering, acme, sent)
    assert edited.content == "Delivery on the 4th" and edited.edited_at is not None
    with person_conn(demo_db, "acme.sales") as conn, \
            pytest.raises(psycopg.errors.InsufficientPrivilege):  # no hard delete
        conn.execute("DELETE FROM messages WHERE id = %s", (sent,))
    with sign_in(profile_for(demo_db), "acme.management", DEMO_PASSWORD) as management:
        with pytest.raises(UserFacingError, match="Only the sender can edit"):
            messages.edit(management, acme, sent, "rewritten by the boss")
        messages.delete(management, acme, sent)
    [gone] = messages.thread(sales, acme, sent)
    assert gone.deleted and gone.content == ""
    with pytest.raises(UserFacingError, match="deleted"):
        messages.edit(sales, acme, sent, "back again")


def test_search_finds_words_and_parts_of_words_in_the_thread(
        acme: uuid.UUID, project: uuid.UUID, sales: Workspace,
        engineering: Workspace) -> None:
    root = messages.post(sales, acme, project_id=project, subject="Surface",
                         content="The anodizing colour is black.")
    reply = messages.post(engineering, acme, project_id=project, parent_id=root,
                          content="Part A-113 needs Ra 1.6 on the sealing faces.")
    other = messages.post(sales, acme, project_id=project, content="Anodizing elsewhere")
    assert messages.search_thread(sales, acme, root, "ANODIZING black") == [root]
    assert messages.search_thread(sales, acme, root, "sealing") == [reply]
    assert messages.search_thread(sales, acme, root, "A-113") == [reply]  # substring
    assert messages.search_thread(sales, acme, root, "odiz") == [root]
    assert messages.search_thread(sales, acme, root, "   ") == []
    assert other not in messages.search_thread(sales, acme, root, "anodizing")
