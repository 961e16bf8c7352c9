"""Messages on a project: threads, replies, @mentions, attachments, read state and search.

Who reads which message is the database's decision (row level security, revision 0010):
these functions never filter for security themselves. A reply joins its parent's thread in
the database too. A post is one transaction — the message, its mention rows (which the
notifications part turns into notifications) and its attachments land together or not at all —
and its id is chosen here, so sending the same post again after a lost answer stores it once.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.mentions import Person
from factorypulse_desktop.domain.text import FieldError, clean_text
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

MAX_CONTENT = 100_000  # the CHECK on messages.content
MAX_SUBJECT = 200
MAX_ATTACHMENTS = 20
MAX_MENTIONS = 50


@dataclass(frozen=True)
class ThreadRow:
    id: uuid.UUID
    subject: str | None
    first_line: str
    sender: str | None
    started_at: dt.datetime
    reply_count: int
    last_activity: dt.datetime
    unread: int
    deleted: bool

    @property
    def title(self) -> str:
        """What the thread list shows: the subject, else the first line of the first message."""
        if self.deleted and not self.subject:
            return "message deleted"
        return self.subject or self.first_line or "(no text)"


@dataclass(frozen=True)
class Attachment:
    document_id: uuid.UUID
    title: str
    file_name: str | None


@dataclass(frozen=True)
class MessageRow:
    id: uuid.UUID
    thread_id: uuid.UUID
    parent_id: uuid.UUID | None
    sender_id: uuid.UUID | None
    sender: str | None
    subject: str | None
    content: str
    created_at: dt.datetime
    edited_at: dt.datetime | None
    deleted: bool
    mentions: tuple[Person, ...]
    attachments: tuple[Attachment, ...]
    read_by_me: bool
    mine: bool
    version: int


class MessageNotFoundError(UserFacingError):
    def __init__(self) -> None:
        super().__init__("This message no longer exists, or you may not see it.")


def _one_line(content: str) -> str:
    for line in content.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


# -- reading ----------------------------------------------------------------------------------

def threads(ws: Workspace, org: uuid.UUID, project_id: uuid.UUID) -> list[ThreadRow]:
    """The project's threads, most recent activity first, with my unread count."""
    me = ws.identity.person_id
    sql = text(
        "SELECT r.id, r.subject, r.content, pe.display_name, r.created_at, r.deleted_at, "
        "       s.replies, s.last_at, s.unread "
        "FROM messages r LEFT JOIN persons pe ON pe.id = r.sender_id "
        "CROSS JOIN LATERAL ("
        "  SELECT count(*) FILTER (WHERE m.id <> r.id) AS replies, max(m.created_at) AS last_at,"
        "         count(*) FILTER (WHERE m.deleted_at IS NULL AND m.sender_id IS DISTINCT FROM :me"
        "             AND NOT EXISTS (SELECT 1 FROM message_reads x WHERE x.organization_id = "
        "             m.organization_id AND x.message_id = m.id AND x.person_id = :me)) AS unread "
        "  FROM messages m WHERE m.organization_id = r.organization_id AND m.thread_id = r.id"
        ") s "
        "WHERE r.organization_id = :org AND r.project_id = :project "
        "AND r.parent_message_id IS NULL "
        "ORDER BY s.last_at DESC, r.id")
    params = {"org": org, "project": project_id, "me": me}
    return units.read(ws, lambda conn: [
        ThreadRow(id=r.id, subject=r.subject, first_line=_one_line(r.content), sender=r[3],
                  started_at=r.created_at, reply_count=r.replies, last_activity=r.last_at,
                  unread=r.unread, deleted=r.deleted_at is not None)
        for r in conn.execute(sql, params)])


def thread(ws: Workspace, org: uuid.UUID, thread_id: uuid.UUID) -> list[MessageRow]:
    """The messages of a thread, oldest first (a deleted one has no text)."""
    return units.read(ws, lambda conn: _thread(conn, org, thread_id, ws.identity.person_id))


def _thread(conn: Connection, org: uuid.UUID, thread_id: uuid.UUID,
            me: uuid.UUID) -> list[MessageRow]:
    params = {"org": org, "thread": thread_id, "me": me}
    rows = conn.execute(text(
        "SELECT m.id, m.thread_id, m.parent_message_id, m.sender_id, pe.display_name, "
        "m.subject, m.content, m.created_at, m.edited_at, m.deleted_at, m.version, "
        "EXISTS (SELECT 1 FROM message_reads x WHERE x.organization_id = m.organization_id "
        "        AND x.message_id = m.id AND x.person_id = :me) AS read_by_me "
        "FROM messages m LEFT JOIN persons pe ON pe.id = m.sender_id "
        "WHERE m.organization_id = :org AND m.thread_id = :thread "
        "ORDER BY m.created_at, m.id"), params).all()
    mentions: dict[uuid.UUID, list[Person]] = {}
    for r in conn.execute(text(
            "SELECT x.message_id, p.id, p.role_name, p.display_name FROM message_mentions x "
            "JOIN messages m ON m.organization_id = x.organization_id AND m.id = x.message_id "
            "JOIN persons p ON p.id = x.person_id "
            "WHERE x.organization_id = :org AND m.thread_id = :thread "
            "ORDER BY x.created_at, p.display_name"), params):
        mentions.setdefault(r.message_id, []).append(Person(r[1], r.role_name, r.display_name))
    attached: dict[uuid.UUID, list[Attachment]] = {}
    # A document the reader may not open (confidential) is left out, not named.
    for r in conn.execute(text(
            "SELECT x.message_id, d.id, d.title, d.file_name FROM message_attachments x "
            "JOIN messages m ON m.organization_id = x.organization_id AND m.id = x.message_id "
            "JOIN documents d ON d.organization_id = x.organization_id AND d.id = x.document_id "
            "WHERE x.organization_id = :org AND m.thread_id = :thread "
            "ORDER BY x.created_at, d.title"), params):
        attached.setdefault(r.message_id, []).append(Attachment(r[1], r.title, r.file_name))
    return [MessageRow(
        id=r.id, thread_id=r.thread_id, parent_id=r.parent_message_id, sender_id=r.sender_id,
        sender=r.display_name, subject=r.subject, content=r.content, created_at=r.created_at,
        edited_at=r.edited_at, deleted=r.deleted_at is not None,
        mentions=tuple(mentions.get(r.id, ())), attachments=tuple(attached.get(r.id, ())),
        read_by_me=bool(r.read_by_me), mine=r.sender_id == me, version=r.version)
        for r in rows]


def search_thread(ws: Workspace, org: uuid.UUID, thread_id: uuid.UUID,
                  words: str) -> list[uuid.UUID]:
    """Messages of the thread that contain `words`, oldest first.

    Full-text on every word (``search_text``, 'simple' configuration: no stemming, any
    language), or else the typed text anywhere — part of a word, a part number like "A-113".
    """
    typed = " ".join(words.split())
    if not typed:
        return []
    sql = text(
        "SELECT m.id FROM messages m "
        "WHERE m.organization_id = :org AND m.thread_id = :thread AND m.deleted_at IS NULL "
        "AND (m.search_text @@ plainto_tsquery('simple', :words) "
        "     OR m.content ILIKE :like OR m.subject ILIKE :like) "
        "ORDER BY m.created_at, m.id")
    params = {"org": org, "thread": thread_id, "words": typed,
              "like": "%" + _escape_like(typed) + "%"}
    return units.read(ws, lambda conn: [r.id for r in conn.execute(sql, params)])


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def mentionable(ws: Workspace, org: uuid.UUID, project_id: uuid.UUID) -> list[Person]:
    """People who can be mentioned on the project's (internal) messages: the active staff.

    Staff see every project of their organization; customer and supplier logins never read
    internal messages, so they are not offered (the database refuses them too).
    """
    sql = text(
        "SELECT p.id, p.role_name, p.display_name FROM memberships ms "
        "JOIN persons p ON p.id = ms.person_id "
        "WHERE ms.organization_id = :org AND ms.status = 'active' AND p.status = 'active' "
        "AND ms.role NOT IN ('customer', 'supplier') "
        "AND EXISTS (SELECT 1 FROM projects pr WHERE pr.organization_id = :org "
        "            AND pr.id = :project) "
        "ORDER BY p.display_name, p.role_name")
    params = {"org": org, "project": project_id}
    return units.read(ws, lambda conn: [Person(r.id, r.role_name, r.display_name)
                                        for r in conn.execute(sql, params)])


# -- writing ----------------------------------------------------------------------------------

def clean_content(content: str) -> str:
    """The message as it will be stored, or a `FieldError` in words."""
    if not content.strip():
        raise FieldError("content", "Write a message before sending.")
    cleaned = clean_text(content, field="content", label="The message", max_length=MAX_CONTENT,
                         required=True)
    assert cleaned is not None
    return cleaned


def post(ws: Workspace, org: uuid.UUID, *, project_id: uuid.UUID, content: str,
         parent_id: uuid.UUID | None = None, subject: str | None = None,
         mention_ids: Iterable[uuid.UUID] = (), document_ids: Iterable[uuid.UUID] = (),
         message_id: uuid.UUID | None = None) -> uuid.UUID:
    """Send a message (a new thread, or a reply to `parent_id`); returns its id.

    Pass the same `message_id` to send again after a lost answer: it is stored once.
    """
    body = clean_content(content)
    title = None if parent_id is not None else clean_text(
        subject, field="subject", label="The subject", max_length=MAX_SUBJECT)
    mentioned = list(dict.fromkeys(mention_ids))
    documents = list(dict.fromkeys(document_ids))
    if len(mentioned) > MAX_MENTIONS:
        raise FieldError("content", f"Mention at most {MAX_MENTIONS} people in one message.")
    if len(documents) > MAX_ATTACHMENTS:
        raise FieldError("attachments", f"Attach at most {MAX_ATTACHMENTS} documents.")
    new_id = message_id or uuid.uuid4()

    def run(conn: Connection) -> uuid.UUID:
        stored = conn.execute(text(
            "INSERT INTO messages (id, organization_id, project_id, parent_message_id, "
            "subject, content, recipient_type, message_type) "
            "VALUES (:id, :org, :project, :parent, :subject, :content, 'project', 'internal') "
            "ON CONFLICT (id) DO NOTHING RETURNING id"),
            {"id": new_id, "org": org, "project": project_id, "parent": parent_id,
             "subject": title, "content": body}).scalar_one_or_none()
        if stored is None:
            mine = conn.execute(text(
                "SELECT 1 FROM messages WHERE organization_id = :org AND id = :id "
                "AND sender_id = :me"),
                {"org": org, "id": new_id, "me": ws.identity.person_id}).first()
            if mine is None:
                raise UserFacingError("This message could not be stored; send it again.")
            return new_id  # sent before: its answer was lost
        for person in mentioned:
            conn.execute(text(
                "INSERT INTO message_mentions (organization_id, message_id, person_id) "
                "VALUES (:org, :id, :person) ON CONFLICT DO NOTHING"),
                {"org": org, "id": new_id, "person": person})
        for document in documents:
            conn.execute(text(
                "INSERT INTO message_attachments (organization_id, message_id, document_id) "
                "VALUES (:org, :id, :document) ON CONFLICT DO NOTHING"),
                {"org": org, "id": new_id, "document": document})
        return new_id

    def landed(conn: Connection) -> uuid.UUID | None:
        found = conn.execute(text(
            "SELECT 1 FROM messages WHERE organization_id = :org AND id = :id "
            "AND sender_id = :me"),
            {"org": org, "id": new_id, "me": ws.identity.person_id}).first()
        return None if found is None else new_id

    # A lost connection: found by its id (sent, the answer was lost) or nothing was stored.
    return units.write_once(ws, run, landed)


def edit(ws: Workspace, org: uuid.UUID, message_id: uuid.UUID, content: str) -> None:
    """Change the text of my message (the database stamps when)."""
    body = clean_content(content)

    def run(conn: Connection) -> None:
        changed = conn.execute(text(
            "UPDATE messages SET content = :content WHERE organization_id = :org AND id = :id "
            "RETURNING id"), {"content": body, "org": org, "id": message_id}).first()
        if changed is None:
            raise UserFacingError("Only the sender can edit a message, and only while it "
                                  "exists.")

    units.write(ws, run)


def delete(ws: Workspace, org: uuid.UUID, message_id: uuid.UUID) -> None:
    """Delete a message (mine, or anyone's for a manager): it stays as “message deleted”."""

    def run(conn: Connection) -> None:
        changed = conn.execute(text(
            "UPDATE messages SET deleted_at = now() WHERE organization_id = :org AND id = :id "
            "AND deleted_at IS NULL RETURNING id"), {"org": org, "id": message_id}).first()
        if changed is None:
            raise UserFacingError("Only the sender or a manager can delete this message (or "
                                  "it was deleted already).")

    units.write(ws, run)


def mark_read(ws: Workspace, org: uuid.UUID, message_ids: Sequence[uuid.UUID]) -> int:
    """Mark messages read by me; returns how many were not read before."""
    ids = list(dict.fromkeys(message_ids))
    if not ids:
        return 0

    def run(conn: Connection) -> int:
        result = conn.execute(text(
            "INSERT INTO message_reads (organization_id, message_id, person_id) "
            "SELECT :org, x, :me FROM unnest(CAST(:ids AS uuid[])) AS x "
            "ON CONFLICT DO NOTHING"), {"org": org, "me": ws.identity.person_id, "ids": ids})
        return int(result.rowcount or 0)

    return units.write(ws, run)
