"""Issue 7's "done when": a project passes Technical Review with three role approvals and a
management approval of the quote, with the conversation and every decision in its timeline.

Every person signs in with their own login and works through the services the pages call; the
database holds each rule (who may decide what, in which order, and that a step needing approval
completes only when approved).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain.enums import IntakeType
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.intake import IntakeForm
from factorypulse_desktop.services import approvals, intake, messages, reviews, timeline, workflow
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.project_detail import load_project

pytestmark = pytest.mark.slow
ROLES = ("sales", "engineering", "qa", "production", "management")
REVIEW_STEPS = {"Engineering Technical Review": "engineering", "QA Requirements Review": "qa",
                "Production Capability Assessment": "production",
                "Cross-Team Review Meeting": "production"}


@pytest.fixture
def people(demo_db: Any) -> Iterator[dict[str, Workspace]]:
    with ExitStack() as stack:
        yield {role: stack.enter_context(sign_in(profile_for(demo_db), f"acme.{role}",
                                                 DEMO_PASSWORD)) for role in ROLES}


def finish_open_steps(ws: Workspace, project: uuid.UUID) -> None:
    detail = load_project(ws, project)
    for step in detail.steps_of(detail.stage.id):
        if step.is_required and step.status not in ("completed", "skipped"):
            workflow.update_step(ws, step.id, step.version, status="completed")


def approve_from_inbox(ws: Workspace, org: uuid.UUID, approval: uuid.UUID, comment: str) -> None:
    item = next(i for i in approvals.inbox(ws, org) if i.id == approval)
    approvals.decide(ws, org, item.id, item.version, "approved", comment)


def test_a_project_passes_technical_review_and_its_quote_is_approved(
        people: dict[str, Workspace]) -> None:
    sales = people["sales"]
    org = sales.identity.memberships[0].organization_id
    made = intake.submit_intake(sales, org, IntakeForm(
        IntakeType.RFQ, company="Hallberg Fluidtechnik AB", contact_name="Sara Hallberg",
        email="sara@hallberg.example", title="Hydraulic manifold blocks, 120 pcs",
        estimated_value="18,400"))
    project = made.project_id
    finish_open_steps(sales, project)
    stage = load_project(sales, project).stage.id
    workflow.advance_project(sales, project, stage)
    assert load_project(sales, project).stage.slug == "technical_review"

    # The sales engineer asks the three roles for their reviews and starts the conversation.
    asked = reviews.request_reviews(sales, org, project)
    assert sorted(r.review_type for r in asked) == ["engineering", "production", "qa"]
    engineer = next(p for p in messages.mentionable(sales, org, project)
                    if p.username == "acme.engineering")
    thread = messages.post(sales, org, project_id=project, subject="Manifold tolerances",
                           content="@acme.engineering can we hold ±0.01 on the bores?",
                           mention_ids=[engineer.id])
    messages.post(people["engineering"], org, project_id=project, parent_id=thread,
                  content="Yes, with honing. I put it in my review.")

    # Each role decides its own review (and only its own).
    for role in ("engineering", "qa", "production"):
        mine = next(r for r in reviews.list_reviews(people[role], org, project)
                    if r.review_type == role)
        risks = [reviews.Risk("timeline", "medium", "Honing adds two days", "Plan it in")] \
            if role == "production" else []
        reviews.decide_review(people[role], org, mine, "approved",
                              comments=f"{role} review: fine", risks=risks)

    # The steps need approvals: nobody completes them by hand, the roles approve them.
    detail = load_project(sales, project)
    steps = {s.name: s for s in detail.steps_of(detail.stage.id)}
    with pytest.raises(UserFacingError, match="needs an approval"):
        step = steps["Engineering Technical Review"]
        workflow.update_step(sales, step.id, step.version, status="completed")
    for name, role in REVIEW_STEPS.items():
        approval = workflow.request_step_approval(sales, org, steps[name].id)
        approve_from_inbox(people[role], org, approval, f"{name}: approved")
    detail = load_project(sales, project)
    assert all(s.status == "completed" for s in detail.steps_of(detail.stage.id))
    workflow.advance_project(sales, project, detail.stage.id)
    assert load_project(sales, project).stage.slug == "supplier_rfq_sent"

    # The quote: sales and engineering first (2 of 2), then management.
    quote = approvals.request(
        sales, org, approval_type="cost_approval", title="Quote for the manifold blocks",
        entity_type="project", entity_id=project, project_id=project, amount=18_400,
        currency="EUR", reason="Margin 22 %")
    assert all(i.id != quote for i in approvals.inbox(people["management"], org)), \
        "management's turn comes after sales and engineering"
    approve_from_inbox(sales, org, quote, "Price checked")
    approve_from_inbox(people["engineering"], org, quote, "Routing checked")
    approve_from_inbox(people["management"], org, quote, "Go")
    decided = next(a for a in approvals.project_approvals(sales, org, project) if a.id == quote)
    assert decided.status == "approved"

    # The timeline tells it all, newest first; each filter shows only its kind.
    events = timeline.timeline(sales, org, project, limit=200)
    times = [e.at for e in events]
    assert times == sorted(times, reverse=True)
    kinds = {e.kind for e in events}
    assert {"conversation", "changes", "approvals"} <= kinds
    said = [e for e in timeline.timeline(sales, org, project, kinds={"conversation"})]
    assert {e.kind for e in said} == {"conversation"} and len(said) == 2
    assert any("honing" in (e.detail or "") for e in said)
    decisions = timeline.timeline(sales, org, project, kinds={"approvals"}, limit=200)
    text = " ".join(f"{e.title} {e.detail or ''}" for e in decisions)
    for role in ("engineering", "qa", "production"):
        assert f"{role} review: fine" in text
    for name in REVIEW_STEPS:
        assert f"{name}: approved" in text
    assert "Go" in text and "Routing checked" in text
