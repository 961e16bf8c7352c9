"""Workflow configuration: managers shape the stages; the engine follows what they set."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from rls_support import person_conn
from support import profile_for

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import workflow, workflow_config
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in
from factorypulse_desktop.services.workflow_config import (
    ConfigConflictError,
    StageConfig,
    SubStageConfig,
)

PASSWORD = "factorypulse-demo"


@pytest.fixture
def profile(demo_db: Any) -> ConnectionProfile:
    return profile_for(demo_db)


@pytest.fixture
def manager(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.management", PASSWORD) as ws:
        yield ws


def acme(ws: Workspace) -> uuid.UUID:
    return ws.identity.memberships[0].organization_id


def test_the_default_workflow_is_loaded_with_every_flag(manager: Workspace) -> None:
    config = workflow_config.load_config(manager, acme(manager))
    assert [s.name for s in config] == [
        "Inquiry Received", "Technical Review", "Supplier RFQ Sent", "Quoted",
        "Order Confirmed", "Procurement Planning", "Production", "Completed"]
    review = config[1]
    assert review.responsible_roles == (Role.ENGINEERING, Role.QA, Role.PRODUCTION)
    meeting = review.sub_stages[3]
    assert meeting.name == "Cross-Team Review Meeting" and meeting.requires_approval
    assert meeting.approval_roles == (Role.ENGINEERING, Role.QA, Role.PRODUCTION)
    optional = config[0].sub_stages[2]
    assert not optional.is_required and optional.can_skip


def test_add_edit_reorder_and_the_engine_follows(manager: Workspace, demo_db: Any) -> None:
    org = acme(manager)
    stage_id = workflow_config.save_stage(manager, org, StageConfig(
        None, "Final Inspection", color="#0e7490", responsible_roles=(Role.QA,),
        estimated_days=2))
    sub_id = workflow_config.save_sub_stage(manager, org, stage_id, SubStageConfig(
        None, "Dimensional check", responsible_roles=(Role.QA,),
        estimated_hours=Decimal("3.5")))
    config = workflow_config.load_config(manager, org)
    added = config[-1]
    assert (added.id, added.slug, added.order) == (stage_id, "final_inspection", 9)
    assert added.sub_stages[0].id == sub_id and added.sub_stages[0].order == 1

    # Put it before Completed: the engine's "next stage" follows the new order.
    ids = [s.id for s in config]
    ids.insert(7, ids.pop())
    workflow_config.reorder_stages(manager, org, [i for i in ids if i is not None])
    config = workflow_config.load_config(manager, org)
    assert [s.name for s in config][-2:] == ["Final Inspection", "Completed"]
    production = next(s for s in config if s.name == "Production")
    with person_conn(demo_db, "acme.management") as conn:
        nxt = conn.execute("SELECT fp_private.next_stage_id(%s, %s)",
                           (org, production.id)).fetchone()
    assert nxt == (stage_id,)

    # Rename with the version it was loaded with; a second stale save is a conflict.
    stale = next(s for s in config if s.id == stage_id)
    workflow_config.save_stage(manager, org, StageConfig(
        stage_id, "Final Inspection & Release", color=stale.color, version=stale.version,
        responsible_roles=stale.responsible_roles, estimated_days=3))
    with pytest.raises(ConfigConflictError):
        workflow_config.save_stage(manager, org, StageConfig(
            stage_id, "Other name", color=stale.color, version=stale.version))
    assert workflow.load_workflow(manager, org)[-2].name == "Final Inspection & Release"


def test_switched_off_stages_leave_the_board_and_used_stages_stay(manager: Workspace) -> None:
    org = acme(manager)
    quoted = next(s for s in workflow_config.load_config(manager, org) if s.slug == "quoted")
    assert quoted.id is not None
    workflow_config.save_stage(manager, org, StageConfig(
        quoted.id, quoted.name, color=quoted.color, version=quoted.version,
        responsible_roles=quoted.responsible_roles, is_active=False))
    assert "quoted" not in [s.slug for s in workflow.load_workflow(manager, org)]
    refreshed = next(s for s in workflow_config.load_config(manager, org) if s.id == quoted.id)
    with pytest.raises(UserFacingError, match="cannot be deleted"):  # demo projects were there
        workflow_config.delete_stage(manager, org, quoted.id, refreshed.version)


def test_bad_input_and_other_roles_are_refused(manager: Workspace, profile: ConnectionProfile,
                                               demo_db: Any) -> None:
    org = acme(manager)
    with pytest.raises(FieldError, match="Colour"):
        workflow_config.save_stage(manager, org, StageConfig(None, "Paint", color="red"))
    with pytest.raises(FieldError, match="required"):
        workflow_config.save_stage(manager, org, StageConfig(None, "  "))
    stage = workflow_config.load_config(manager, org)[0]
    assert stage.id is not None
    with pytest.raises(FieldError, match="who approves"):
        workflow_config.save_sub_stage(manager, org, stage.id, SubStageConfig(
            None, "Sign-off", requires_approval=True))
    with sign_in(profile, "acme.sales", PASSWORD) as sales:
        with pytest.raises(UserFacingError, match="Only administrators and management"):
            workflow_config.save_stage(sales, org, StageConfig(
                stage.id, "Renamed by sales", color=stage.color, version=stage.version))
        with pytest.raises(UserFacingError):
            workflow_config.save_stage(sales, org, StageConfig(None, "Sales stage"))
    # Straight SQL as sales changes nothing either: the policy hides the row from UPDATE.
    with person_conn(demo_db, "acme.sales") as conn:
        changed = conn.execute("UPDATE workflow_stages SET name = 'psql rename' WHERE id = %s",
                               (stage.id,)).rowcount
    assert changed == 0
