"""Intake: a new customer project from the simplified form, in one transaction.

The customer is matched against existing contacts case- and accent-insensitively ("MÜLLER
gmbh" finds "Müller GmbH"); the form shows the matches and the person chooses one or a new
customer, so the original's duplicates-by-exact-spelling do not happen. Nothing is stored
unless the whole form is valid; the number on the success screen is the one the database
assigned (the original showed one it computed itself).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import friendly_error
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.intake import Intake, IntakeForm, validate
from factorypulse_desktop.services.workspace import Workspace, connection_lost

MAX_MATCHES = 8


@dataclass(frozen=True)
class CustomerMatch:
    contact_id: uuid.UUID
    company_name: str
    contact_name: str | None
    email: str | None
    exact: bool
    """The same name up to case, accents and spacing."""


@dataclass(frozen=True)
class IntakeResult:
    project_id: uuid.UUID
    project_number: str
    stage_name: str
    customer_id: uuid.UUID
    customer_created: bool


# Names compared without case, accents or extra spaces ("MÜLLER  gmbh" = "Müller GmbH").
_FOLDED = "lower(regexp_replace(public.unaccent(btrim({col})), '\\s+', ' ', 'g'))"
_NAME = _FOLDED.format(col="c.company_name")
_WANTED = _FOLDED.format(col=":name")
_MATCHES = text(f"""
SELECT c.id, c.company_name, c.contact_name, c.email, {_NAME} = {_WANTED} AS exact
FROM contacts c
WHERE c.organization_id = :org AND c.is_active AND c.type IN ('customer', 'partner')
  AND ({_NAME} = {_WANTED} OR public.similarity({_NAME}, {_WANTED}) > 0.4)
ORDER BY exact DESC, public.similarity({_NAME}, {_WANTED}) DESC, c.company_name
LIMIT :n
""")


def find_customers(ws: Workspace, organization_id: uuid.UUID,
                   company: str) -> list[CustomerMatch]:
    """Existing customers whose name matches `company`, exact (folded) matches first."""
    name = " ".join(company.split())
    if len(name) < 2:
        return []

    def read(conn: Connection) -> list[Any]:
        return list(conn.execute(_MATCHES, {"org": organization_id, "name": name,
                                            "n": MAX_MATCHES}).all())

    try:
        rows = ws.read(read)
    except exc.DBAPIError as error:
        raise friendly_error(error) from error
    return [CustomerMatch(r.id, r.company_name, r.contact_name, r.email, bool(r.exact))
            for r in rows]


_STAGE = text("""
SELECT s.id, s.name FROM workflow_stages s
WHERE s.organization_id = :org AND s.is_active
ORDER BY (s.slug = :slug) DESC, s.stage_order
LIMIT 1
""")
_CUSTOMER = text("""
SELECT id FROM contacts WHERE organization_id = :org AND id = :id AND is_active
""")
_NEW_CUSTOMER = text("""
INSERT INTO contacts (organization_id, type, company_name, contact_name, email, phone)
VALUES (:org, 'customer', :company, :contact_name, :email, :phone)
RETURNING id
""")
_NEW_PROJECT = text("""
INSERT INTO projects (id, organization_id, title, description, customer_id, current_stage_id,
                      priority_level, estimated_value, estimated_delivery_date, notes, tags,
                      intake_type, intake_source, source, project_type, metadata, assigned_to)
VALUES (:id, :org, :title, :description, :customer, :stage, CAST(:priority AS priority_level),
        :value, :target_date, :notes, :tags, CAST(:intake_type AS intake_type), 'portal',
        'portal', :project_type, CAST(:metadata AS jsonb),
        -- Whoever takes the intake owns the project until someone reassigns it.
        (SELECT fp_private.my_person_id()))
RETURNING id, project_number
""")


_LANDED = text("""
SELECT p.id, p.project_number, s.name AS stage, p.customer_id,
       -- Made in the same transaction: both carry that transaction's now().
       (c.created_at = p.created_at) AS customer_created
FROM projects p
JOIN workflow_stages s ON s.organization_id = p.organization_id AND s.id = p.current_stage_id
LEFT JOIN contacts c ON c.organization_id = p.organization_id AND c.id = p.customer_id
WHERE p.id = :id
""")


def submit_intake(ws: Workspace, organization_id: uuid.UUID, form: IntakeForm) -> IntakeResult:
    """Validate and store; raises `IntakeInvalid` (per field) or `UserFacingError`.

    Safe to call again with the same form after a failure (T-NET-03): the project's id is the
    form's `submission_id`, so when the connection broke after the database had committed —
    the answer lost, not the save — the project is found and returned, never stored twice.
    """
    intake = validate(form)
    landed = _find_landed(ws, intake.submission_id)
    if landed is not None:
        return landed
    try:
        with ws.transaction() as conn:
            return _store(conn, organization_id, intake)
    except UserFacingError:
        raise
    except (exc.DBAPIError, psycopg.Error) as error:
        if not connection_lost(error):
            raise friendly_error(error) from error
        # Did the commit reach the database before the connection went? Ask again.
        try:
            landed = _find_landed(ws, intake.submission_id)
        except UserFacingError:
            landed = None
        if landed is not None:
            return landed
        raise UserFacingError(
            "The connection to the database was lost before the project was saved; nothing "
            "was stored. Your form is kept: try again when the connection is back.") from error


def _find_landed(ws: Workspace, submission_id: uuid.UUID) -> IntakeResult | None:
    row = ws.read(lambda conn: conn.execute(_LANDED, {"id": submission_id}).one_or_none())
    if row is None:
        return None
    return IntakeResult(project_id=row.id, project_number=row.project_number,
                        stage_name=row.stage, customer_id=row.customer_id,
                        customer_created=bool(row.customer_created))


def _store(conn: Connection, organization_id: uuid.UUID, intake: Intake) -> IntakeResult:
    stage = conn.execute(_STAGE, {"org": organization_id,
                                  "slug": intake.route.stage_slug}).one_or_none()
    if stage is None:
        raise UserFacingError("This organization has no active workflow stage; ask an "
                              "administrator to set up the workflow.")
    created = intake.customer_id is None
    if intake.customer_id is not None:
        customer = conn.execute(_CUSTOMER, {"org": organization_id,
                                            "id": intake.customer_id}).scalar_one_or_none()
        if customer is None:
            raise UserFacingError("The chosen customer no longer exists or is archived; "
                                  "choose another or create a new one.")
    else:
        customer = conn.execute(_NEW_CUSTOMER, {
            "org": organization_id, "company": intake.company,
            "contact_name": intake.contact_name, "email": intake.email,
            "phone": intake.phone}).scalar_one()
    requester = {k: v for k, v in (("company", intake.company), ("name", intake.contact_name),
                                   ("email", intake.email), ("phone", intake.phone)) if v}
    row = conn.execute(_NEW_PROJECT, {
        "id": intake.submission_id, "org": organization_id, "title": intake.title,
        "description": intake.description,
        "customer": customer, "stage": stage.id, "priority": intake.priority.value,
        "value": intake.estimated_value, "target_date": intake.target_date,
        "notes": intake.notes, "tags": list(intake.tags),
        "intake_type": intake.intake_type.value, "project_type": intake.route.project_type,
        "metadata": json.dumps({"requester": requester}),
    }).one()
    return IntakeResult(project_id=row.id, project_number=row.project_number,
                        stage_name=stage.name, customer_id=customer, customer_created=created)
