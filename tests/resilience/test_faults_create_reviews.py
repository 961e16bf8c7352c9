"""Reviews requested with a client-chosen request id (each review's id derived from it), cut
before COMMIT or with the answer lost (RELIABILITY.md T-NET-03): OK pressed again asks for
each review once."""

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
from rls_support import owner_conn

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import reviews
from factorypulse_desktop.services.units import NOT_STORED_MESSAGE

ASKER = "acme.management"


def a_project(db: Any, org: uuid.UUID, title: str) -> uuid.UUID:
    """A fresh project, so that its reviews are only these."""
    with owner_conn(db) as conn:
        row = conn.execute("INSERT INTO projects (organization_id, title) VALUES (%s, %s) "
                           "RETURNING id", (org, title)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def reviews_of(db: Any, project: uuid.UUID) -> int:
    return count(db, "SELECT count(*) FROM reviews WHERE project_id = %s", project)


def test_T_NET_03_reviews_request_cut_before_commit_is_stored_once(demo_db: Any) -> None:
    org, request = acme(demo_db), uuid.uuid4()
    project = a_project(demo_db, org, "Reviews cut before commit")
    with signed(demo_db, ASKER) as ws:
        with (killed_before_commit(demo_db, ws, r"INSERT INTO reviews ") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED) as lost):
            reviews.request_reviews(ws, org, project, ["engineering", "qa"],
                                    request_id=request)
        assert trap.fired and str(lost.value) == NOT_STORED_MESSAGE
        assert reviews_of(demo_db, project) == 0
        asked = reviews.request_reviews(ws, org, project, ["engineering", "qa"],
                                        request_id=request)  # OK pressed again
    assert [r.review_type for r in asked] == ["engineering", "qa"]
    assert {r.id for r in asked} == {reviews.review_id(request, "engineering"),
                                     reviews.review_id(request, "qa")}
    assert reviews_of(demo_db, project) == 2


def test_T_NET_03_reviews_request_answer_lost_is_found_not_asked_again(demo_db: Any) -> None:
    org, request = acme(demo_db), uuid.uuid4()
    project = a_project(demo_db, org, "Reviews with a lost answer")
    with signed(demo_db, ASKER) as ws:
        with answer_lost_after_commit(demo_db, ws, r"INSERT INTO reviews ") as trap:
            first = reviews.request_reviews(ws, org, project, request_id=request)
        assert trap.fired, "the commit's answer was lost"
        assert [r.review_type for r in first] == ["engineering", "qa", "production"]
        again = reviews.request_reviews(ws, org, project, request_id=request)  # OK again
    assert [(r.id, r.version) for r in again] == [(r.id, r.version) for r in first]
    assert reviews_of(demo_db, project) == 3


def test_a_request_id_someone_else_used_is_not_taken_for_mine(demo_db: Any) -> None:
    org, request = acme(demo_db), uuid.uuid4()
    project = a_project(demo_db, org, "Reviews asked by two people")
    with signed(demo_db, "acme.engineering") as other, signed(demo_db, ASKER) as ws:
        reviews.request_reviews(other, org, project, ["qa"], request_id=request)
        with pytest.raises(UserFacingError, match="could not be requested"):
            reviews.request_reviews(ws, org, project, ["qa", "production"],
                                    request_id=request)
    assert reviews_of(demo_db, project) == 1


def test_a_type_ticked_after_a_lost_answer_is_asked_for_the_rest_not_again(
        demo_db: Any) -> None:
    """The form kept open after "cannot be checked yet": a review ticked since is added, the
    ones that landed are not asked for twice."""
    org, request = acme(demo_db), uuid.uuid4()
    project = a_project(demo_db, org, "Reviews ticked after a lost answer")
    with signed(demo_db, ASKER) as ws:
        with answer_lost_after_commit(demo_db, ws, r"INSERT INTO reviews ") as trap:
            reviews.request_reviews(ws, org, project, ["engineering"], request_id=request)
        assert trap.fired
        asked = reviews.request_reviews(ws, org, project, ["engineering", "qa"],
                                        request_id=request)
    assert [r.review_type for r in asked] == ["engineering", "qa"]
    assert reviews_of(demo_db, project) == 2
