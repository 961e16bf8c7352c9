"""The operation mix of one workstation: what each role does, through the app's services.

Every write carries an id or token chosen here (the client), recorded with the operation, so
`invariants.py` can look it up afterwards as the owner: an acknowledged write must be there
exactly once, a write that failed with a lost connection 0 or 1 times, a refused one 0 times.
Writes that are idempotent by their id in the app (intake, messages, approval requests, station
events) are sent again with the same id after a lost connection, as the app does (T-NET-03);
the others (uploads, stage moves, decisions) are not retried.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from factorypulse_desktop.domain.enums import IntakeType, Priority
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.intake import IntakeForm
from factorypulse_desktop.services import (
    approvals,
    document_files,
    intake,
    messages,
    projects,
    station,
    workflow,
)
from factorypulse_desktop.services.workspace import (
    CONNECTION_LOST_MESSAGE,
    Workspace,
    connection_lost,
)

# Relative weights per role: who may do what follows the database's policies (sales side
# takes intakes, production/QA/managers book station events, the quote chain asks sales,
# engineering and management to decide).
WEIGHTS: dict[str, dict[str, int]] = {
    "sales": {"intake": 3, "move": 3, "upload": 1, "message": 3, "approval_request": 1,
              "decide": 1, "read": 4},
    "management": {"intake": 1, "move": 2, "upload": 1, "message": 2, "approval_request": 1,
                   "decide": 3, "scan": 1, "read": 3},
    "admin": {"intake": 1, "move": 2, "upload": 1, "message": 2, "approval_request": 1,
              "decide": 1, "scan": 1, "read": 3},
    "engineering": {"move": 1, "upload": 2, "message": 3, "approval_request": 1, "decide": 2,
                    "read": 4},
    "qa": {"scan": 3, "message": 2, "upload": 1, "approval_request": 1, "read": 3},
    "production": {"scan": 6, "message": 1, "read": 3},
    "procurement": {"intake": 1, "move": 1, "upload": 1, "message": 2, "approval_request": 1,
                    "read": 3},
}
BYPASS_ROLES = ("admin", "management", "sales")
MANAGER_ROLES = ("admin", "management")
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0)  # idempotent writes after a lost connection


@dataclass
class OpRecord:
    """One operation as the workstation saw it; `check` names the row(s) its write made."""

    op: str
    ok: bool
    latency_ms: float
    at: float  # seconds since the run started
    attempts: int = 1
    error_kind: str | None = None  # lost | conflict | refused | bug
    error: str | None = None
    check: tuple[str, str, str] | None = None  # (table, column, value)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    """What one workstation knows: its workspace, organization, role and caches."""

    ws: Workspace
    org: uuid.UUID
    role: str
    rng: random.Random
    tmp: Path
    codes: list[str]
    stages: list[uuid.UUID] = field(default_factory=list)
    projects: list[uuid.UUID] = field(default_factory=list)
    customers: list[uuid.UUID] = field(default_factory=list)
    reads: int = 0

    def load(self) -> None:
        self.stages = [s.id for s in workflow.load_workflow(self.ws, self.org)]
        self.refresh_projects()
        self.customers = self.ws.read(lambda c: [r[0] for r in c.execute(text(
            "SELECT id FROM contacts WHERE organization_id = :org AND type = 'customer' "
            "AND is_active ORDER BY id LIMIT 50"), {"org": self.org})])

    def refresh_projects(self) -> None:
        page = projects.list_projects(self.ws, self.org)
        self.projects = [r.id for r in page.rows] or self.projects

    def project(self) -> uuid.UUID:
        if not self.projects:
            self.refresh_projects()
        if not self.projects:
            raise UserFacingError("no project to work on")
        return self.rng.choice(self.projects)


class Skip(Exception):
    """Nothing to do for this operation now (e.g. an empty inbox): a read instead."""


def classify(error: BaseException) -> str:
    """lost (the connection went), conflict (someone else was first), refused (a rule said
    no, in words) or bug (anything else: an exception no person should ever see)."""
    if isinstance(error, workflow.StageConflictError | workflow.StepConflictError
                  | approvals.ApprovalConflictError | station.StationConflict):
        return "conflict"
    if isinstance(error, station.StationOffline):
        return "lost"
    chain: BaseException | None = error
    while chain is not None:
        if connection_lost(chain) or str(chain) == CONNECTION_LOST_MESSAGE:
            return "lost"
        chain = chain.__cause__ or chain.__context__
    if isinstance(error, UserFacingError):
        lowered = str(error).lower()
        if "connection" in lowered and ("lost" in lowered or "reach" in lowered):
            return "lost"
        return "refused"
    return "bug"


# -- the operations ---------------------------------------------------------------------------
Write = Callable[[], Any]


@dataclass
class Attempt:
    """Filled by an operation: how often it sent its write, and the row it makes — set
    *before* sending, so a write that failed can be looked up too."""

    sends: int = 0
    check: tuple[str, str, str] | None = None


def _with_retry(send: Write, attempt: Attempt) -> None:
    """Send, and send again with the same id while the connection is lost."""
    for delay in (*RETRY_DELAYS, None):
        attempt.sends += 1
        try:
            send()
            return
        except Exception as error:
            if delay is None or classify(error) != "lost":
                raise
            time.sleep(delay)


def op_intake(ctx: Context, attempt: Attempt) -> None:
    sid = uuid.uuid4()
    customer = ctx.rng.choice(ctx.customers) if ctx.customers and ctx.rng.random() < 0.5 \
        else None
    form = IntakeForm(
        intake_type=IntakeType.RFQ, company=f"Load Customer {sid.hex[:6]}",
        contact_name="Pat Loader", email="pat@example.com",
        title=f"Load intake {sid.hex[:12]}", description="Made by the load driver.",
        priority=Priority.MEDIUM, estimated_value="1250.00", customer_id=customer,
        submission_id=sid)
    attempt.check = ("projects", "id", str(sid))
    _with_retry(lambda: intake.submit_intake(ctx.ws, ctx.org, form), attempt)
    ctx.projects.append(sid)


_MOVABLE = text("""
SELECT p.id, p.current_stage_id FROM projects p
WHERE p.organization_id = :org AND p.status = 'active'
  AND (:manager
       OR p.current_stage_id = ANY ((SELECT fp_private.my_responsible_stage_ids())::uuid[])
       OR p.id = ANY ((SELECT fp_private.my_assigned_project_ids())::uuid[]))
ORDER BY random() LIMIT 1
""")


def op_move(ctx: Context, attempt: Attempt) -> None:
    row = ctx.ws.read(lambda c: c.execute(_MOVABLE, {
        "org": ctx.org, "manager": ctx.role in MANAGER_ROLES}).first())
    if row is None or row[1] not in ctx.stages:
        raise Skip
    at = ctx.stages.index(row[1])
    if ctx.role in BYPASS_ROLES and (at == 0 or ctx.rng.random() < 0.7):
        to = ctx.stages[(at + 1) % len(ctx.stages)]  # forward (a bypass needs a reason)
    elif at > 0:
        to = ctx.stages[at - 1]  # back, with a reason
    else:
        raise Skip
    comment = f"load-move {uuid.uuid4()}"
    attempt.check = ("project_stage_history", "comment", comment)
    attempt.sends += 1
    workflow.move_project(ctx.ws, row[0], row[1], to, reason="Load test move",
                          comment=comment)


def op_upload(ctx: Context, attempt: Attempt) -> None:
    token = uuid.uuid4()
    path = ctx.tmp / f"load-{token.hex}.bin"
    path.write_bytes(ctx.rng.randbytes(ctx.rng.randint(10_000, 200_000)))
    title = f"Load upload {token}"
    attempt.check = ("documents", "title", title)
    try:
        attempt.sends += 1
        document_files.upload(ctx.ws, ctx.org, document_files.UploadRequest(
            path=path, title=title, project_id=ctx.project()))
    finally:
        path.unlink(missing_ok=True)


def op_message(ctx: Context, attempt: Attempt) -> None:
    mid = uuid.uuid4()
    project = ctx.project()
    attempt.check = ("messages", "id", str(mid))
    _with_retry(lambda: messages.post(
        ctx.ws, ctx.org, project_id=project, content=f"Load message {mid}: status update.",
        subject="Load test", message_id=mid), attempt)


def op_approval_request(ctx: Context, attempt: Attempt) -> None:
    aid = uuid.uuid4()
    project = ctx.project()
    attempt.check = ("approvals", "id", str(aid))
    _with_retry(lambda: approvals.request(
        ctx.ws, ctx.org, approval_type="cost_approval", title=f"Load quote {aid.hex[:12]}",
        entity_type="project", entity_id=project, project_id=project, approval_id=aid),
        attempt)


def op_decide(ctx: Context, attempt: Attempt) -> None:
    # As a person would: the inbox marks approvals whose project changed since they were
    # asked for (revision 0019) and offers no decision on them.
    waiting = [i for i in approvals.inbox(ctx.ws, ctx.org, limit=20) if not i.stale]
    if not waiting:
        raise Skip
    item = ctx.rng.choice(waiting)
    comment = f"load-decide {uuid.uuid4()}"
    attempt.check = ("approval_history", "comments", comment)
    attempt.sends += 1
    approvals.decide(ctx.ws, ctx.org, item.id, item.version, "approved", comment,
                     step_number=item.step_number)


def op_scan(ctx: Context, attempt: Attempt) -> None:
    if not ctx.codes:
        raise Skip
    opened = station.open_by_code(ctx.ws, ctx.org, ctx.rng.choice(ctx.codes))
    if not isinstance(opened, station.OperationView):
        raise Skip
    event = station.StationEvent(
        action="note", order_id=opened.order_id, operation_id=opened.operation_id,
        note="load-scan", label=f"Note {opened.code}")
    attempt.check = ("production_events", "client_event_id", str(event.client_event_id))
    _with_retry(lambda: station.send(ctx.ws, ctx.org, event), attempt)


def op_read(ctx: Context, attempt: Attempt) -> None:
    attempt.sends += 1
    ctx.reads += 1
    pick = ctx.rng.random()
    if pick < 0.5 or ctx.reads % 20 == 0:
        ctx.refresh_projects()
    elif pick < 0.75:
        approvals.inbox(ctx.ws, ctx.org)
    else:
        messages.threads(ctx.ws, ctx.org, ctx.project())


OPS: dict[str, Callable[[Context, Attempt], None]] = {
    "intake": op_intake, "move": op_move, "upload": op_upload, "message": op_message,
    "approval_request": op_approval_request, "decide": op_decide, "scan": op_scan,
    "read": op_read,
}


def choose(ctx: Context) -> str:
    weights = WEIGHTS.get(ctx.role, WEIGHTS["engineering"])
    names = list(weights)
    return ctx.rng.choices(names, [weights[n] for n in names])[0]


def run_one(ctx: Context, name: str, started: float) -> OpRecord:
    """Run operation `name` (a read when there is nothing to do) and record it."""
    attempt = Attempt()
    t0 = time.perf_counter()
    try:
        try:
            OPS[name](ctx, attempt)
        except Skip:
            name, attempt, t0 = "read", Attempt(), time.perf_counter()
            op_read(ctx, attempt)
    except Exception as error:
        return OpRecord(name, False, (time.perf_counter() - t0) * 1000, t0 - started,
                        max(1, attempt.sends), classify(error), _short(error), attempt.check)
    return OpRecord(name, True, (time.perf_counter() - t0) * 1000, t0 - started,
                    max(1, attempt.sends), check=attempt.check)


def _short(error: BaseException) -> str:
    words = str(error).strip().splitlines()
    return f"{type(error).__name__}: {words[0][:200] if words else ''}"
