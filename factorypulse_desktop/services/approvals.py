"""Approvals for a person: what waits for them, deciding one, deciding many at once.

The rules are the database's (revision 0007: `fp_private.request_approval`,
`fp_private.decide_approval`); this module reads the inbox and calls them. A bulk decision
is one transaction: every item is tried on its own (`fp_private.decide_approvals`), and if
any of them is stale (decided by someone else, changed, or no longer the person's to decide)
nothing is applied and the report says which and why — the original looped over single
approvals and could stop halfway (ORIGIN.md §7).

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, exc, text

from factorypulse_desktop.data.db_errors import driver_error, friendly_error, sentence
from factorypulse_desktop.domain.currency import is_currency
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError, clean_text
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

DECISIONS = ("approved", "rejected")
OPEN_STATUSES = ("pending", "in_review", "escalated")
MAX_COMMENT = 2_000
PAGE = 50


@dataclass(frozen=True)
class InboxItem:
    id: uuid.UUID
    title: str
    approval_type: str
    entity_type: str
    entity_id: uuid.UUID
    project_id: uuid.UUID | None
    project_number: str | None
    requested_by: str | None
    requested_at: dt.datetime
    status: str
    priority: str
    due_date: dt.datetime | None
    step_name: str
    step_number: int
    total_steps: int
    on_behalf_of: str | None  # a delegator's name when the person stands in for them
    version: int
    # The record it is about changed since it was asked for: it cannot be decided any more
    # (T-CONC-04); asking again replaces it (revision 0019).
    stale: bool = False

    @property
    def cursor(self) -> tuple[dt.datetime, uuid.UUID]:
        return self.requested_at, self.id


class ApprovalConflictError(UserFacingError):
    """Someone decided first, or the approval or its record changed (nothing was changed)."""


@dataclass(frozen=True)
class BulkResult:
    applied: int
    stale: tuple[tuple[uuid.UUID, str], ...]  # (approval, why) — then nothing was applied

    @property
    def ok(self) -> bool:
        return not self.stale


# Pending places of the current step that are the person's: by person, by role, or standing
# in for a delegator today. A sequential step shows only the next approver in order.
_INBOX = """
WITH me AS (
    SELECT p.id, m.role FROM persons p
    JOIN memberships m ON m.person_id = p.id AND m.organization_id = :org
    WHERE p.id = :me
), standing_in AS (
    SELECT d.delegator_id AS person_id, m.role, pe.display_name
    FROM approval_delegations d
    JOIN memberships m ON m.organization_id = d.organization_id AND m.person_id = d.delegator_id
    JOIN persons pe ON pe.id = d.delegator_id
    WHERE d.organization_id = :org AND d.delegate_id = :me AND d.status = 'active'
      AND current_date BETWEEN d.start_date AND d.end_date
)
SELECT DISTINCT ON (a.requested_at, a.id)
       a.id, a.title, a.approval_type::text, a.entity_type, a.entity_id, a.project_id,
       p.project_number, rq.display_name AS requested_by, a.requested_at, a.status::text,
       a.priority::text, a.due_date, s.name AS step_name, a.step_number, a.total_steps,
       CASE WHEN x.person_id = (SELECT id FROM me) OR x.role = (SELECT role FROM me)
            THEN NULL ELSE si.display_name END AS on_behalf_of,
       a.version
FROM approvals a
JOIN approval_steps s ON s.organization_id = a.organization_id AND s.approval_id = a.id
     AND s.step_number = a.step_number AND s.status = 'pending'
JOIN approval_step_approvers x ON x.organization_id = s.organization_id
     AND x.approval_step_id = s.id AND x.decision = 'pending'
LEFT JOIN standing_in si ON x.person_id = si.person_id OR x.role = si.role
LEFT JOIN projects p ON p.organization_id = a.organization_id AND p.id = a.project_id
LEFT JOIN persons rq ON rq.id = a.requested_by
WHERE a.organization_id = :org AND a.status IN ('pending', 'in_review', 'escalated')
  AND (x.person_id = (SELECT id FROM me) OR x.role = (SELECT role FROM me)
       OR si.person_id IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM approval_step_approvers done
                  WHERE done.organization_id = s.organization_id
                    AND done.approval_step_id = s.id AND done.decided_by = :me)
  AND (s.mode = 'parallel' OR NOT EXISTS (
        SELECT 1 FROM approval_step_approvers earlier
        WHERE earlier.organization_id = s.organization_id AND earlier.approval_step_id = s.id
          AND earlier.decision = 'pending' AND earlier.position > 0
          AND earlier.position < x.position))
  AND (CAST(:kind AS text) IS NULL OR a.approval_type::text = :kind)
  AND (CAST(:after_at AS timestamptz) IS NULL
       OR (a.requested_at, a.id) > (CAST(:after_at AS timestamptz), CAST(:after_id AS uuid)))
ORDER BY a.requested_at, a.id, on_behalf_of NULLS FIRST
LIMIT :limit
"""


def inbox(ws: Workspace, org: uuid.UUID, *, kind: str | None = None,
          after: tuple[dt.datetime, uuid.UUID] | None = None,
          limit: int = PAGE) -> list[InboxItem]:
    """What waits for the person (and for those they stand in for), oldest request first."""
    params = {"org": org, "me": ws.identity.person_id, "kind": kind, "limit": limit,
              "after_at": after[0] if after else None, "after_id": after[1] if after else None}

    def run(conn: Connection) -> list[InboxItem]:
        rows = [InboxItem(*r) for r in conn.execute(text(_INBOX), params)]
        stale = stale_ids(conn, org, [r.id for r in rows])
        return [replace(r, stale=True) if r.id in stale else r for r in rows]

    return units.read(ws, run)


def stale_ids(conn: Connection, org: uuid.UUID, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these open approvals are about a record changed since they were asked for."""
    if not ids:
        return set()
    return set(conn.execute(text("SELECT fp_private.stale_approval_ids(:org, :ids)"),
                            {"org": org, "ids": list(ids)}).scalars())


def _check(decision: str, comment: str) -> str:
    if decision not in DECISIONS:
        raise UserFacingError("Choose approve or reject.")
    # NUL and broken characters refused in words, NFC, bounded (T-IN-03).
    words = clean_text(comment, field="comment", label="The comment",
                       max_length=MAX_COMMENT) or ""
    if decision == "rejected" and not words:
        raise UserFacingError("Say why you reject it: the requester needs to know what to "
                              "change.")
    return words


def _decide_on(conn: Connection, org: uuid.UUID, approval: uuid.UUID, version: int,
               decision: str, comment: str) -> str:
    return str(conn.execute(text(
        "SELECT fp_private.decide_approval(:org, :id, :version, :decision, :comment)"),
        {"org": org, "id": approval, "version": version, "decision": decision,
         "comment": comment or None}).scalar_one())


def _refusal(error: exc.DBAPIError) -> UserFacingError:
    """Our function's refusal in words; "already decided"/"changed"/"stale" as a conflict."""
    words = friendly_error(error)
    if getattr(driver_error(error), "sqlstate", None) == "FP409":
        return ApprovalConflictError(str(words))
    return words


def decide(ws: Workspace, org: uuid.UUID, approval: uuid.UUID, expected_version: int,
           decision: str, comment: str = "", *, step_number: int | None = None) -> str:
    """Approve or reject if nothing changed since `expected_version`; the new status.

    A decision whose answer was lost is recognized (T-NET-03) by the change that moved the
    approval on from `expected_version` -- only one can, and it must be mine -- and by my
    decision on `step_number` (the inbox's; any step of the approval when not given).
    """
    words = _check(decision, comment)
    me = ws.identity.person_id

    def landed(conn: Connection) -> str | None:
        row = conn.execute(text(_MY_DECISION_LANDED), {
            "org": org, "id": approval, "version": expected_version, "me": me,
            "decision": decision, "step": step_number}).scalar_one_or_none()
        return None if row is None else str(row)

    try:
        # A lost connection: the decision is found (the answer was lost) or was not stored.
        return units.write_once(
            ws, lambda conn: _decide_on(conn, org, approval, expected_version, decision,
                                        words), landed, describe=_refusal)
    except ApprovalConflictError:
        # Pressed again after the answer to a decision that landed was lost: not a conflict.
        again = units.read(ws, landed)
        if again is not None:
            return again
        raise


# The first change after the version I decided at is mine (decide_approval checks that
# version, so no other transaction made it), and my decision is on the step: an escalation or
# someone else's decision afterwards neither hides mine nor passes for it.
_MY_DECISION_LANDED = """
SELECT a.status::text FROM approvals a
WHERE a.organization_id = :org AND a.id = :id AND a.version > :version
  AND (SELECT l.actor_id = :me FROM change_log l
       WHERE l.organization_id = a.organization_id AND l.entity_type = 'approvals'
         AND l.entity_id = a.id AND l.row_version = CAST(:version AS integer) + 1
       ORDER BY l.id LIMIT 1)
  AND EXISTS (
       SELECT 1 FROM approval_step_approvers x
       JOIN approval_steps s ON s.organization_id = x.organization_id
        AND s.id = x.approval_step_id
       WHERE x.organization_id = a.organization_id AND s.approval_id = a.id
         AND (CAST(:step AS integer) IS NULL OR s.step_number = :step)
         AND x.decided_by = :me AND x.decision::text = :decision)
"""


def decide_all(ws: Workspace, org: uuid.UUID, items: Sequence[tuple[uuid.UUID, int]],
               decision: str, comment: str = "") -> BulkResult:
    """One decision for many approvals in one transaction: all of them, or none.

    Every item is tried (the database runs each in a subtransaction) so the report lists
    *every* stale one, not only the first; the transaction commits only if none was stale.
    """
    words = _check(decision, comment)

    def run(conn: Connection) -> BulkResult:
        # One round trip: the database tries each decision on its own and returns refusals.
        refused = conn.execute(text(
            "SELECT approval_id, problem FROM fp_private.decide_approvals(:org, "
            "CAST(:ids AS uuid[]), CAST(:versions AS integer[]), :decision, :comment)"),
            {"org": org, "ids": [i for i, _v in items], "versions": [v for _i, v in items],
             "decision": decision, "comment": words or None}).all()
        if refused:
            raise _Rollback(BulkResult(0, tuple((r.approval_id, sentence(r.problem))
                                                for r in refused)))
        return BulkResult(len(items), ())

    try:
        return units.write(ws, run, describe=_refusal)
    except _Rollback as nothing:
        return nothing.result


class _Rollback(Exception):
    """Leaves the transaction without committing, carrying the report."""

    def __init__(self, result: BulkResult) -> None:
        super().__init__("rolled back")
        self.result = result


def history(ws: Workspace, org: uuid.UUID, approval: uuid.UUID) -> list[dict[str, Any]]:
    """What happened to one approval, oldest first."""
    sql = text(
        "SELECT h.action_at, h.action_type, pe.display_name AS who, h.old_status::text, "
        "h.new_status::text, h.comments, h.metadata FROM approval_history h "
        "LEFT JOIN persons pe ON pe.id = h.action_by "
        "WHERE h.organization_id = :org AND h.approval_id = :id ORDER BY h.action_at, h.id")
    return units.read(ws, lambda conn: [dict(r._mapping) for r in conn.execute(
        sql, {"org": org, "id": approval})])


def escalate_overdue(ws: Workspace, org: uuid.UUID) -> int:
    """Hand overdue steps to the role their chain names (run at sign-in); how many."""
    return int(units.write(ws, lambda conn: conn.execute(text(
        "SELECT fp_private.escalate_overdue(:org)"), {"org": org}).scalar_one()))


# -- a project's approvals, and asking for one ---------------------------------------------------
APPROVAL_TYPES = (
    "stage_transition", "document_approval", "engineering_change", "supplier_qualification",
    "purchase_order", "cost_approval", "quality_review", "production_release",
    "shipping_approval", "contract_approval", "budget_approval", "safety_review", "custom",
)
# Records an approval may be about (revision 0007 checks their lock version, T-CONC-04).
ENTITY_TYPES = ("project", "document", "purchase_order", "supplier_rfq", "production_order",
                "contact")
MAX_TITLE = 300
MAX_AMOUNT = Decimal("9999999999999.99")  # numeric(15, 2)


@dataclass(frozen=True)
class ProjectApproval:
    id: uuid.UUID
    title: str
    approval_type: str
    status: str
    step_number: int
    total_steps: int
    step_name: str | None  # the current step's name
    requested_by: str | None
    requested_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_comments: str | None
    amount: Decimal | None
    currency: str | None
    version: int
    stale: bool = False  # open, but its record changed since: ask again (T-CONC-04)


_PROJECT_APPROVALS = """
SELECT a.id, a.title, a.approval_type::text, a.status::text, a.step_number, a.total_steps,
       s.name, rq.display_name, a.requested_at, dc.display_name, a.decided_at,
       a.decision_comments, a.amount, a.currency, a.version
FROM approvals a
LEFT JOIN approval_steps s ON s.organization_id = a.organization_id AND s.approval_id = a.id
     AND s.step_number = a.step_number
LEFT JOIN persons rq ON rq.id = a.requested_by
LEFT JOIN persons dc ON dc.id = a.decided_by
WHERE a.organization_id = :org AND a.project_id = :project
ORDER BY a.requested_at DESC, a.id
"""


def project_approvals(ws: Workspace, org: uuid.UUID,
                      project_id: uuid.UUID) -> list[ProjectApproval]:
    """Every approval of a project, newest request first, with its current step."""
    def run(conn: Connection) -> list[ProjectApproval]:
        rows = [ProjectApproval(*r) for r in conn.execute(
            text(_PROJECT_APPROVALS), {"org": org, "project": project_id})]
        stale = stale_ids(conn, org, [r.id for r in rows if r.status in OPEN_STATUSES])
        return [replace(r, stale=True) if r.id in stale else r for r in rows]

    return units.read(ws, run)


def _amount(amount: Decimal | float | int | None, currency: str | None
            ) -> tuple[Decimal | None, str | None]:
    if amount is None:
        code = (currency or "").strip().upper()
        if code and not is_currency(code):
            raise FieldError("currency", "Give the currency as three letters, e.g. USD or EUR.")
        return None, code or None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise FieldError("amount", "The amount must be a number.") from None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise FieldError("amount", "The amount must be zero or more (and not absurdly large).")
    code = (currency or "").strip().upper()
    if not is_currency(code):  # ISO 4217: not any three letters ("ÄÖÜ", full-width)
        raise FieldError("currency", "Give the currency as three letters, e.g. USD or EUR.")
    return value.quantize(Decimal("0.01")), code


def request(ws: Workspace, org: uuid.UUID, *, approval_type: str, title: str,
            entity_type: str, entity_id: uuid.UUID, project_id: uuid.UUID | None,
            amount: Decimal | float | int | None = None, currency: str | None = None,
            reason: str | None = None, approval_id: uuid.UUID | None = None) -> uuid.UUID:
    """Ask for an approval; the database picks the chain (and so any threshold).

    The id is chosen here (or by the caller, who keeps it across retries): the same request
    sent again after its answer was lost returns the same approval, it never makes two.
    """
    if approval_type not in APPROVAL_TYPES:
        raise FieldError("approval_type", "Choose a type of approval from the list.")
    if entity_type not in ENTITY_TYPES:
        raise FieldError("entity_type", "Approvals are about a project, document, purchase "
                                        "order, supplier RFQ, production order or contact.")
    words = clean_text(title, field="title", label="Title", max_length=MAX_TITLE,
                       required=True)
    why = clean_text(reason, field="reason", label="Reason", max_length=MAX_COMMENT)
    value, code = _amount(amount, currency)
    new_id = approval_id or uuid.uuid4()
    params = {"org": org, "id": new_id, "type": approval_type, "title": words,
              "entity_type": entity_type, "entity_id": entity_id, "project": project_id,
              "amount": value, "currency": code, "reason": why}
    return units.write(ws, lambda conn: uuid.UUID(str(conn.execute(text(
        "SELECT fp_private.request_approval(:org, :id, CAST(:type AS approval_type), :title, "
        ":entity_type, :entity_id, NULL, :project, :amount, :currency, :reason)"),
        params).scalar_one())))


@dataclass(frozen=True)
class Delegation:
    id: uuid.UUID
    delegator: str
    delegate: str
    start_date: dt.date
    end_date: dt.date
    reason: str | None
    mine: bool  # I handed my approvals over (else: I stand in for the delegator)
    version: int


_DELEGATIONS = """
SELECT d.id, coalesce(a.display_name, a.role_name) AS delegator,
       coalesce(b.display_name, b.role_name) AS delegate, d.start_date, d.end_date, d.reason,
       d.delegator_id = :me AS mine, d.version
FROM approval_delegations d
JOIN persons a ON a.id = d.delegator_id
JOIN persons b ON b.id = d.delegate_id
WHERE d.organization_id = :org AND d.status = 'active' AND d.end_date >= current_date
  AND (d.delegator_id = :me OR d.delegate_id = :me)
ORDER BY d.start_date, d.id
"""


def delegations(ws: Workspace, org: uuid.UUID) -> list[Delegation]:
    """Active and coming delegations I gave or received."""
    params = {"org": org, "me": ws.identity.person_id}
    return units.read(ws, lambda conn: [Delegation(*r) for r in conn.execute(
        text(_DELEGATIONS), params)])


def delegate(ws: Workspace, org: uuid.UUID, delegate_id: uuid.UUID, start: dt.date,
             end: dt.date, reason: str = "", *,
             delegation_id: uuid.UUID | None = None) -> uuid.UUID:
    """Let `delegate_id` decide my approvals from `start` to `end` (both included); the
    database checks that I delegate only my own.

    `delegation_id`: chosen by the form when it opens and sent again when OK is pressed
    again, so that a delegation whose answer was lost is found, not given twice (T-NET-03).
    """
    if delegate_id == ws.identity.person_id:
        raise UserFacingError("Choose someone else: you cannot stand in for yourself.")
    if end < start:
        raise UserFacingError("The last day comes before the first; check the dates.")
    if end < dt.date.today():
        raise UserFacingError("That period is over already; choose dates from today on.")
    note = reason.strip()[:MAX_COMMENT] or None
    new_id: uuid.UUID = delegation_id or uuid.uuid4()
    me = ws.identity.person_id

    def landed(conn: Connection) -> uuid.UUID | None:
        return new_id if units.created_by(conn, "approval_delegations", org, new_id,
                                          me) else None

    def run(conn: Connection) -> uuid.UUID:
        if landed(conn) is not None:  # given before; its answer was lost
            return new_id
        return uuid.UUID(str(conn.execute(text(
            "INSERT INTO approval_delegations (id, organization_id, delegator_id, delegate_id, "
            "start_date, end_date, reason) VALUES (:id, :org, :me, :to, :start, :end, :reason) "
            "RETURNING id"), {"id": new_id, "org": org, "me": me, "to": delegate_id,
                              "start": start, "end": end, "reason": note}).scalar_one()))

    return units.write_once(ws, run, landed)


def end_delegation(ws: Workspace, org: uuid.UUID, delegation: Delegation) -> None:
    """Stop a delegation I gave, from now on (kept as history, marked inactive)."""

    def run(conn: Connection) -> None:
        changed = conn.execute(text(
            "UPDATE approval_delegations SET status = 'inactive' WHERE organization_id = :org "
            "AND id = :id AND version = :version AND delegator_id = :me"),
            {"org": org, "id": delegation.id, "version": delegation.version,
             "me": ws.identity.person_id}).rowcount
        if not changed:
            raise UserFacingError("This delegation was changed or ended meanwhile; the list "
                                  "was reloaded.")

    units.write(ws, run)
