"""Engineering, QA and production reviews of a project, with their risks.

A review names its reviewer or only the role that reviews (anyone of the role may then decide
it, revision 0008). Deciding — approved, rejected, revision requested — records comments,
recommendations and risks (category, severity, mitigation) in one transaction and is
compare-and-set on the review's lock version: a second person deciding the same review gets a
conflict, not a silent overwrite.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError, clean_text
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

REVIEW_TYPES = ("engineering", "qa", "production")
DECISIONS = ("approved", "rejected", "revision_requested")
RISK_CATEGORIES = ("technical", "timeline", "cost", "quality")
RISK_SEVERITIES = ("low", "medium", "high")
MAX_TEXT = 10_000


@dataclass(frozen=True)
class Risk:
    category: str
    severity: str
    description: str
    mitigation: str = ""


@dataclass(frozen=True)
class ReviewRow:
    id: uuid.UUID
    project_id: uuid.UUID
    review_type: str
    reviewer_role: str | None
    reviewer: str | None
    reviewer_id: uuid.UUID | None
    status: str
    due_date: dt.date | None
    comments: str | None
    recommendations: str | None
    completed_at: dt.datetime | None
    risks: tuple[Risk, ...]
    version: int


class ReviewConflictError(UserFacingError):
    def __init__(self) -> None:
        super().__init__("Someone else decided or changed this review after you opened it. "
                         "Your text is kept; reload to see theirs.")


def list_reviews(ws: Workspace, org: uuid.UUID, project_id: uuid.UUID) -> list[ReviewRow]:
    return units.read(ws, lambda conn: _reviews(conn, org, project_id))


def _reviews(conn: Connection, org: uuid.UUID, project_id: uuid.UUID,
             only: uuid.UUID | None = None) -> list[ReviewRow]:
    rows = conn.execute(text(
        "SELECT r.id, r.project_id, r.review_type, r.reviewer_role::text, pe.display_name, "
        "r.status, r.due_date, r.comments, r.recommendations, r.completed_at, r.version, "
        "r.reviewer_id "
        "FROM reviews r LEFT JOIN persons pe ON pe.id = r.reviewer_id "
        "WHERE r.organization_id = :org AND r.project_id = :project "
        "AND (CAST(:only AS uuid) IS NULL OR r.id = :only) ORDER BY r.created_at, "
        "array_position(ARRAY['engineering', 'qa', 'production'], r.review_type), r.id"),
        {"org": org, "project": project_id, "only": only}).all()
    risks: dict[uuid.UUID, list[Risk]] = {}
    for r in conn.execute(text(
            "SELECT k.review_id, k.category, k.severity, k.description, k.mitigation "
            "FROM review_risks k JOIN reviews r ON r.organization_id = k.organization_id "
            "AND r.id = k.review_id WHERE k.organization_id = :org AND r.project_id = :project "
            "ORDER BY k.created_at, k.id"), {"org": org, "project": project_id}):
        risks.setdefault(r.review_id, []).append(
            Risk(r.category, r.severity, r.description, r.mitigation or ""))
    return [ReviewRow(r[0], r[1], r[2], r[3], r[4], r[11], r[5], r[6], r[7], r[8], r[9],
                      tuple(risks.get(r[0], ())), r[10]) for r in rows]


def review_id(request_id: uuid.UUID, review_type: str) -> uuid.UUID:
    """The id of the review of `review_type` asked for by the request `request_id`: derived,
    so that one client-chosen id names every review of one request."""
    return uuid.uuid5(request_id, review_type)


def request_reviews(ws: Workspace, org: uuid.UUID, project_id: uuid.UUID,
                    types: Sequence[str] = REVIEW_TYPES, *, due_date: dt.date | None = None,
                    reviewers: dict[str, uuid.UUID] | None = None,
                    request_id: uuid.UUID | None = None) -> list[ReviewRow]:
    """Ask for reviews, each by a named person or by the role of its type.

    The reviews get ids derived from ``request_id`` (`review_id`), chosen by the caller when
    the form opens and passed again when OK is pressed again: when the connection broke after
    the database had stored them (the answer lost, not the save), they are found by those ids
    and returned, never asked for twice (T-NET-03). Without it, one is chosen here.
    """
    unknown = [t for t in types if t not in REVIEW_TYPES]
    if unknown or not types:
        raise UserFacingError("Choose engineering, QA or production reviews.")
    named = reviewers or {}
    kinds = list(dict.fromkeys(types))
    request: uuid.UUID = request_id or uuid.uuid4()
    ids = [review_id(request, kind) for kind in kinds]
    me = ws.identity.person_id

    def stored(conn: Connection) -> dict[uuid.UUID, bool]:
        """Which of the ids are stored already, and whether each is mine."""
        return {r.id: bool(r.mine) for r in conn.execute(text(
            "SELECT id, coalesce(created_by = :me, false) AS mine FROM reviews "
            "WHERE organization_id = :org AND id = ANY (:ids)"),
            {"org": org, "ids": ids, "me": me})}

    def landed(conn: Connection) -> list[ReviewRow] | None:
        found = stored(conn)
        if len(found) != len(ids) or not all(found.values()):
            return None
        return _reviews(conn, org, project_id)

    def run(conn: Connection) -> list[ReviewRow]:
        # Asked for before and the answer lost: those are not asked for again (a type added
        # to the form since is).
        found = stored(conn)
        if not all(found.values()):
            raise UserFacingError("These reviews could not be requested; close the form and "
                                  "ask for them again.")
        for kind, new_id in zip(kinds, ids, strict=True):
            if new_id in found:
                continue
            conn.execute(text(
                "INSERT INTO reviews (id, organization_id, project_id, review_type, "
                "reviewer_id, reviewer_role, due_date) VALUES (:id, :org, :project, :kind, "
                ":reviewer, CAST(:role AS user_role), :due)"),
                {"id": new_id, "org": org, "project": project_id, "kind": kind,
                 "reviewer": named.get(kind), "role": None if kind in named else kind,
                 "due": due_date})
        return _reviews(conn, org, project_id)

    # A lost connection: the reviews are found by their ids, or nothing was stored.
    return units.write_once(ws, run, landed)


def decide_review(ws: Workspace, org: uuid.UUID, review: ReviewRow, decision: str, *,
                  comments: str = "", recommendations: str = "",
                  risks: Sequence[Risk] = ()) -> ReviewRow:
    """Record the decision, comments, recommendations and risks, if nobody changed it since."""
    if decision not in DECISIONS:
        raise FieldError("decision", "Choose approve, reject or request a revision.")
    said = clean_text(comments, field="comments", label="Comments", max_length=MAX_TEXT)
    advice = clean_text(recommendations, field="recommendations", label="Recommendations",
                        max_length=MAX_TEXT)
    if decision != "approved" and not said:
        raise FieldError("comments", "Say what is wrong or what to change.")
    for risk in risks:
        if risk.category not in RISK_CATEGORIES or risk.severity not in RISK_SEVERITIES:
            raise FieldError("risks", "Each risk needs a category and a severity from the list.")
        if not risk.description.strip():
            raise FieldError("risks", "Each risk needs a description.")

    def run(conn: Connection) -> ReviewRow:
        changed = conn.execute(text(
            "UPDATE reviews SET status = :decision, comments = :comments, "
            "recommendations = :advice WHERE organization_id = :org AND id = :id "
            "AND version = :version RETURNING id"),
            {"decision": decision, "comments": said, "advice": advice, "org": org,
             "id": review.id, "version": review.version}).scalar_one_or_none()
        if changed is None:
            raise ReviewConflictError()
        conn.execute(text("DELETE FROM review_risks WHERE organization_id = :org "
                          "AND review_id = :id"), {"org": org, "id": review.id})
        for risk in risks:
            conn.execute(text(
                "INSERT INTO review_risks (organization_id, review_id, category, severity, "
                "description, mitigation) VALUES (:org, :id, :category, :severity, "
                ":description, :mitigation)"),
                {"org": org, "id": review.id, "category": risk.category,
                 "severity": risk.severity, "description": risk.description.strip(),
                 "mitigation": risk.mitigation.strip() or None})
        return _reviews(conn, org, review.project_id, review.id)[0]

    return units.write(ws, run)
