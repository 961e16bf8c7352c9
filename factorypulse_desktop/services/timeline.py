"""A project's timeline: messages, stage moves, field changes, files, reviews and approvals.

One list, newest first, read in keyset pages of (time, id) ("Load older"). Each source is read
as its own ``ORDER BY time DESC LIMIT n`` on an index that leads with (organization, project)
— the newest n of each are enough for the newest n of all — and the database merges them in
the same statement, so a page costs one round trip whatever the timeline's length. Filters by
kind keep the conversation from drowning in machine records:

* ``conversation`` — messages and replies;
* ``changes`` — stage moves (``project_stage_history``) and field edits (``activity_log``);
* ``files`` — documents and links added, new versions;
* ``approvals`` — reviews asked for and decided, approval requests and decisions.

Row level security applies: a person sees the events of the records they may read.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.field_changes import (
    FieldChange,
    describe_changes,
    field_label,
    referenced_ids,
)
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

__all__ = ["KINDS", "PAGE", "TimelineEvent", "timeline"]

KINDS = ("conversation", "changes", "files", "approvals")
PAGE = 50
MAX_DETAIL = 2_000
# Activity rows that repeat an event another source shows already.
SHOWN_ELSEWHERE = ("stage_transition", "stage_transition_bypass", "document_uploaded",
                   "approval_decided")


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened to the project, ready to show."""

    id: uuid.UUID
    at: dt.datetime
    kind: str  # one of KINDS
    event: str  # what exactly: "message", "stage_advance", "updated", "version_added", …
    actor: str | None  # None: the system, or someone the person cannot see
    title: str
    detail: str | None
    changes: tuple[FieldChange, ...] = ()

    @property
    def cursor(self) -> tuple[dt.datetime, uuid.UUID]:
        """Pass as `before` to read the events older than this one."""
        return self.at, self.id


# Each source: (kind, SQL reading its newest :n rows). Every source returns the same columns:
# at, id, kind, event, actor_id, subject, subject2, detail, changes. {keyset} is replaced by
# the "older than the cursor" condition on that source's own (time, id) columns, or nothing.
_SOURCES: tuple[tuple[str, str], ...] = (
    ("conversation", """
SELECT m.created_at AS at, m.id, 'conversation' AS kind,
       CASE WHEN m.parent_message_id IS NULL THEN 'message' ELSE 'reply' END AS event,
       m.sender_id AS actor_id, m.subject AS subject, NULL::text AS subject2,
       left(m.content, {detail}) AS detail, NULL::jsonb AS changes
FROM messages m
WHERE m.organization_id = :org AND m.project_id = :project AND m.deleted_at IS NULL
      {keyset:m.created_at:m.id}
ORDER BY m.created_at DESC, m.id DESC LIMIT :n"""),
    ("changes", """
SELECT h.occurred_at, h.id, 'changes', 'stage_' || h.transition, h.actor_id, fs.name, ts.name,
       nullif(concat_ws(E'\\n', nullif(btrim(h.reason), ''), nullif(btrim(h.comment), '')), ''),
       NULL::jsonb
FROM (SELECT * FROM project_stage_history h
      WHERE h.organization_id = :org AND h.project_id = :project {keyset:h.occurred_at:h.id}
      ORDER BY h.occurred_at DESC, h.id DESC LIMIT :n) h
LEFT JOIN workflow_stages fs
       ON fs.organization_id = h.organization_id AND fs.id = h.from_stage_id
LEFT JOIN workflow_stages ts
       ON ts.organization_id = h.organization_id AND ts.id = h.to_stage_id"""),
    ("changes", """
SELECT a.occurred_at, a.id, 'changes', a.action, a.actor_id, a.entity_type, NULL,
       a.description, a.changes
FROM activity_log a
WHERE a.organization_id = :org AND a.project_id = :project
      AND a.action <> ALL (CAST(:elsewhere AS text[])) {keyset:a.occurred_at:a.id}
ORDER BY a.occurred_at DESC, a.id DESC LIMIT :n"""),
    ("files", """
SELECT d.created_at, d.id, 'files',
       CASE WHEN d.external_url IS NOT NULL THEN 'link_added' ELSE 'document_added' END,
       d.uploaded_by, d.title, d.file_name, left(d.description, {detail}), NULL::jsonb
FROM documents d
WHERE d.organization_id = :org AND d.project_id = :project {keyset:d.created_at:d.id}
ORDER BY d.created_at DESC, d.id DESC LIMIT :n"""),
    ("files", """
SELECT v.uploaded_at, v.id, 'files', 'version_added', v.uploaded_by, d.title,
       v.version_number::text, left(v.change_summary, {detail}), NULL::jsonb
FROM document_versions v
JOIN documents d ON d.organization_id = v.organization_id AND d.id = v.document_id
WHERE v.organization_id = :org AND d.project_id = :project AND v.version_number > 1
      {keyset:v.uploaded_at:v.id}
ORDER BY v.uploaded_at DESC, v.id DESC LIMIT :n"""),
    ("approvals", """
SELECT r.created_at, r.id, 'approvals', 'review_requested', r.created_by, r.review_type,
       coalesce(pe.display_name, r.reviewer_role::text), NULL::text, NULL::jsonb
FROM (SELECT * FROM reviews r
      WHERE r.organization_id = :org AND r.project_id = :project {keyset:r.created_at:r.id}
      ORDER BY r.created_at DESC, r.id DESC LIMIT :n) r
LEFT JOIN persons pe ON pe.id = r.reviewer_id"""),
    # A decision is a second event of the same review: its id is derived from the review's.
    ("approvals", """
SELECT r.completed_at, md5(r.id::text || '-decided')::uuid, 'approvals', 'review_decided',
       r.reviewer_id, r.review_type, r.status,
       left(nullif(concat_ws(E'\\n', nullif(btrim(r.comments), ''),
                             nullif(btrim(r.recommendations), '')), ''), {detail}),
       NULL::jsonb
FROM reviews r
WHERE r.organization_id = :org AND r.project_id = :project AND r.completed_at IS NOT NULL
      AND r.status IN ('approved', 'rejected', 'revision_requested')
      {keyset:r.completed_at:md5(r.id::text || '-decided')::uuid}
ORDER BY 1 DESC, 2 DESC LIMIT :n"""),
    ("approvals", """
SELECT h.action_at, h.id, 'approvals', 'approval_' || h.action_type, h.action_by, a.title,
       h.new_status::text, left(h.comments, {detail}), NULL::jsonb
FROM approval_history h
JOIN approvals a ON a.organization_id = h.organization_id AND a.id = h.approval_id
WHERE h.organization_id = :org AND a.project_id = :project {keyset:h.action_at:h.id}
ORDER BY h.action_at DESC, h.id DESC LIMIT :n"""),
)


_COLUMNS = "at, id, kind, event, actor_id, subject, subject2, detail, changes"


def _source_sql(sql: str, keyset: bool) -> str:
    """One source's SQL with its keyset condition filled in (or left out)."""
    start = sql.index("{keyset:")
    end = sql.index("}", start)
    time_col, id_col = sql[start + len("{keyset:"):end].split(":", 1)
    cond = (f"AND ({time_col}, {id_col}) < (CAST(:before_at AS timestamptz), "
            "CAST(:before_id AS uuid))") if keyset else ""
    return (sql[:start] + cond + sql[end + 1:]).replace("{detail}", str(MAX_DETAIL))


def _page_sql(kinds: Collection[str], keyset: bool) -> str:
    parts = [f"({_source_sql(sql, keyset)})" for kind, sql in _SOURCES if kind in kinds]
    union = "\nUNION ALL\n".join(parts)
    return f"""
SELECT e.*, pe.display_name AS actor
FROM (SELECT * FROM ({union}) AS u ({_COLUMNS}) ORDER BY u.at DESC, u.id DESC LIMIT :n) e
LEFT JOIN persons pe ON pe.id = e.actor_id
ORDER BY e.at DESC, e.id DESC"""


def timeline(ws: Workspace, org: uuid.UUID, project_id: uuid.UUID, *,
             kinds: Collection[str] | None = None,
             before: tuple[dt.datetime, uuid.UUID] | None = None,
             limit: int = PAGE) -> list[TimelineEvent]:
    """The project's events newest first; with `before`, those older than that cursor."""
    chosen = set(KINDS if kinds is None else kinds)
    unknown = chosen - set(KINDS)
    if unknown:
        raise UserFacingError("Choose conversation, changes, files or approvals.")
    if not chosen or limit <= 0:
        return []
    sql = text(_page_sql(chosen, before is not None))
    params: dict[str, Any] = {"org": org, "project": project_id, "n": limit,
                              "elsewhere": list(SHOWN_ELSEWHERE)}
    if before is not None:
        params.update(before_at=before[0], before_id=before[1])

    def read(conn: Connection) -> list[TimelineEvent]:
        rows = conn.execute(sql, params).all()
        names = _names(conn, org, set().union(*(referenced_ids(r.changes) for r in rows)))
        return [_event(r, names) for r in rows]

    return units.read(ws, read)


def _names(conn: Connection, org: uuid.UUID, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Names of the people and contacts field changes mention (those the person may see)."""
    if not ids:
        return {}
    rows = conn.execute(text(
        "SELECT id, display_name FROM persons WHERE id = ANY (:ids) "
        "UNION ALL SELECT id, company_name FROM contacts "
        "WHERE organization_id = :org AND id = ANY (:ids)"),
        {"ids": list(ids), "org": org}).all()
    return {r[0]: r[1] for r in rows}


def _quoted(name: str | None) -> str:
    return f"\u201c{name}\u201d" if name else "a document"


_REVIEW_TYPES = {"engineering": "Engineering", "qa": "QA", "production": "Production",
                 "management": "Management", "technical": "Technical", "quality": "Quality"}
_DECISIONS = {"approved": "approved", "rejected": "rejected",
              "revision_requested": "revision requested"}
_MOVES = {"stage_created": "Started in {to}", "stage_advance": "Moved from {frm} to {to}",
          "stage_back": "Moved back from {frm} to {to}",
          "stage_skip": "Skipped from {frm} to {to}"}
_APPROVAL = {"approval_requested": "Approval requested: {t}", "approval_approved": "Approved {t}",
             "approval_rejected": "Rejected {t}", "approval_escalated": "Escalated {t}",
             "approval_cancelled": "Cancelled {t}"}


def _title(r: Any, changes: tuple[FieldChange, ...]) -> str:
    """The event in a few words."""
    event, subject, subject2 = r.event, r.subject, r.subject2
    if event in ("message", "reply"):
        return subject or ("Reply" if event == "reply" else "Message")
    if event in _MOVES:
        return _MOVES[event].format(frm=subject or "?", to=subject2 or "?")
    if event == "updated":
        if changes:
            return "Changed " + ", ".join(c.label.lower() for c in changes)
        return r.detail or "Changed the project"
    if event == "document_added":
        return f"Added {_quoted(subject)}"
    if event == "link_added":
        return f"Linked {_quoted(subject)}"
    if event == "version_added":
        return f"New version {subject2} of {_quoted(subject)}"
    if event == "review_requested":
        review = _REVIEW_TYPES.get(subject, subject or "A")
        return f"{review} review requested" + (f" from {subject2}" if subject2 else "")
    if event == "review_decided":
        review = _REVIEW_TYPES.get(subject, subject or "A")
        return f"{review} review: {_DECISIONS.get(subject2, subject2 or '')}"
    if event in _APPROVAL:
        return _APPROVAL[event].format(t=_quoted(subject))
    if event.startswith("approval_"):
        return f"{field_label(event.removeprefix('approval_'))}: {_quoted(subject)}"
    return r.detail or field_label(event)  # other activity: its description


def _event(r: Any, names: Mapping[uuid.UUID, str]) -> TimelineEvent:
    changes = describe_changes(r.changes, names) if r.changes and r.event == "updated" else ()
    title = _title(r, changes)
    detail = r.detail
    if r.kind == "changes" and r.event not in _MOVES:
        detail = None if (changes or detail == title) else detail
    return TimelineEvent(id=r.id, at=r.at, kind=r.kind, event=r.event, actor=r.actor,
                         title=title, detail=detail or None, changes=changes)
