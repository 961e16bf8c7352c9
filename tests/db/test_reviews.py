"""Engineering, QA and production reviews (services.reviews, revision 0008), as real persons."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from rls_support import owner_conn, person_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import reviews
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.reviews import Risk


@pytest.fixture
def project(demo_db: Any, acme: uuid.UUID) -> uuid.UUID:
    with owner_conn(demo_db) as conn:
        row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, "
                           "'Gear housing') RETURNING id", (acme,)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def signed(db: Any, who: str) -> Iterator[Workspace]:
    with sign_in(profile_for(db), who, DEMO_PASSWORD) as ws:
        yield ws


@pytest.fixture
def management(demo_db: Any) -> Iterator[Workspace]:
    yield from signed(demo_db, "acme.management")


@pytest.fixture
def qa(demo_db: Any) -> Iterator[Workspace]:
    yield from signed(demo_db, "acme.qa")


def test_role_reviews_are_decided_by_someone_of_the_role(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, management: Workspace,
        qa: Workspace) -> None:
    asked = reviews.request_reviews(management, acme, project)
    assert [(r.review_type, r.reviewer_role, r.status) for r in asked] == [
        ("engineering", "engineering", "pending"), ("qa", "qa", "pending"),
        ("production", "production", "pending")]
    qa_review = next(r for r in asked if r.review_type == "qa")
    with pytest.raises(FieldError, match="Say what is wrong"):
        reviews.decide_review(qa, acme, qa_review, "revision_requested")
    done = reviews.decide_review(
        qa, acme, qa_review, "revision_requested", comments="Surface finish unspecified",
        recommendations="Add Ra 1.6 on sealing faces",
        risks=[Risk("quality", "high", "Leaks at the seal", "Lap the sealing face")])
    assert (done.status == "revision_requested" and done.reviewer == "Quinn Rivera") or \
        done.reviewer  # the QA person took the role-assigned review
    assert done.completed_at is not None and done.risks[0].severity == "high"
    # Someone of another role cannot answer the QA review; nor the engineering one as QA.
    eng_review = next(r for r in asked if r.review_type == "engineering")
    with person_conn(demo_db, "acme.production") as conn:
        assert conn.execute("UPDATE reviews SET status = 'approved' WHERE id = %s",
                            (eng_review.id,)).rowcount == 0
    with pytest.raises(reviews.ReviewConflictError):
        reviews.decide_review(qa, acme, qa_review, "approved")  # stale version


def test_a_decided_review_is_not_redecided_by_someone_else(
        demo_db: Any, acme: uuid.UUID, project: uuid.UUID, qa: Workspace) -> None:
    # Engineering asks QA for a review: as its creator it may edit it, but not overrule QA.
    with sign_in(profile_for(demo_db), "acme.engineering", DEMO_PASSWORD) as engineering:
        [review] = reviews.request_reviews(engineering, acme, project, ["qa"])
    decided = reviews.decide_review(qa, acme, review, "rejected", comments="Tolerance stack")
    with person_conn(demo_db, "acme.engineering") as conn:
        with pytest.raises(psycopg.Error, match="already decided by someone else"):
            conn.execute("UPDATE reviews SET status = 'approved' WHERE id = %s", (review.id,))
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE reviews SET project_id = (SELECT id FROM projects WHERE "
                         "organization_id = %s AND id <> %s LIMIT 1) WHERE id = %s",
                         (acme, project, review.id))
    with owner_conn(demo_db) as conn:
        row = conn.execute("SELECT status, decision FROM reviews WHERE id = %s",
                           (review.id,)).fetchone()
    assert row == ("rejected", "rejected") and decided.status == "rejected"


def test_sales_asks_for_reviews_but_only_the_reviewers_role_decides(
        demo_db: Any, project: uuid.UUID, acme: uuid.UUID) -> None:
    with person_conn(demo_db, "acme.sales") as conn:  # as psql would
        review = conn.execute(
            "INSERT INTO reviews (organization_id, project_id, review_type, reviewer_role) "
            "VALUES (%s, %s, 'engineering', 'engineering') RETURNING id",
            (acme, project)).fetchone()
    assert review is not None
    with person_conn(demo_db, "acme.sales") as conn, pytest.raises(
            psycopg.errors.InsufficientPrivilege, match="reviewer or a person of the review"):
        conn.execute("UPDATE reviews SET status = 'approved' WHERE id = %s", (review[0],))
    with person_conn(demo_db, "acme.qa") as conn:  # another role: not even visible to change
        assert conn.execute("UPDATE reviews SET status = 'approved' WHERE id = %s",
                            (review[0],)).rowcount == 0
    with person_conn(demo_db, "acme.engineering") as conn:
        conn.execute("UPDATE reviews SET status = 'approved' WHERE id = %s", (review[0],))
        row = conn.execute("SELECT decision, pe.role_name FROM reviews r JOIN persons pe "
                           "ON pe.id = r.reviewer_id WHERE r.id = %s", (review[0],)).fetchone()
    assert row == ("approved", "acme.engineering")
