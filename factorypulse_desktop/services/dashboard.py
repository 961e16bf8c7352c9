"""The dashboard's figures for one organization (no Qt).

One call, :func:`load_dashboard`, reads every figure in one read-only transaction as the
signed-in person, so row level security decides what is counted: a customer's portal login
counts only its own company's projects and sees no activity log, a person of two
organizations sees only the one asked for (every query also filters by organization).

Everything is computed in SQL with aggregates and every list is bounded, so the cost does not
grow with what is shown (budget: 500 ms with 100k projects and 1M stage-history rows in one
organization). At that scale the queries need indexes the schema does not have yet: history
by (organization_id, occurred_at), open projects by stage and stage_entered_at and by
estimated_delivery_date, open sub-stage progress by assignee, projects by
actual_delivery_date (measured on 2 cores: about 790 ms without them, 230 ms with them).

Definitions (dates are calendar days in the organization's time zone, ``settings.timezone``,
UTC when unset or unknown to the server):

* *open* project: status ``active`` and not archived. An ``on_hold`` project is paused: it has
  no stage clock and no tasks, but its promised delivery date still counts (overdue).
* *period*: the last ``weeks`` ISO weeks (Monday to Sunday), the current one included, up to
  and including ``today``. The history figures (time in stage, on-time delivery, throughput)
  look at the period only; archived projects still count there, since archiving a delivered
  project does not undo its delivery.

Blocking (network): call it from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Connection, exc, text

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

__all__ = [
    "ACTION_ITEM_LIMIT",
    "ACTIVITY_LIMIT",
    "DEFAULT_WEEKS",
    "MAX_WEEKS",
    "TASK_LIMIT",
    "ActionCounts",
    "ActionItem",
    "ActionKind",
    "ActivityEntry",
    "Dashboard",
    "OnTimeDelivery",
    "StageCount",
    "StageTime",
    "Task",
    "WeekCount",
    "load_dashboard",
]

T = TypeVar("T")

DEFAULT_WEEKS = 12
MAX_WEEKS = 104  # two years: the history figures read only the period's rows
ACTION_ITEM_LIMIT = 20
TASK_LIMIT = 50
ACTIVITY_LIMIT = 20
DEFAULT_TIMEZONE = "UTC"
WORK_MEM = "32MB"  # for this read only (SET LOCAL); the server default is 4MB


# -- values ---------------------------------------------------------------------------------


class ActionKind(StrEnum):
    """Why a project is on the action list; also the list's order (most urgent first)."""

    OVERDUE = "overdue"
    TOO_LONG_IN_STAGE = "too_long_in_stage"
    WAITING_FOR_ME = "waiting_for_me"


@dataclass(frozen=True)
class StageCount:
    """How many open projects are in one active stage now."""

    stage_id: uuid.UUID
    name: str
    color: str
    projects: int


@dataclass(frozen=True)
class ActionItem:
    """A project that needs attention.

    ``days`` measures the urgency: days past the promised delivery date (overdue), days over
    the stage's planned duration (too long in stage), days in the current stage (waiting).
    """

    project_id: uuid.UUID
    project_number: str
    title: str
    kind: ActionKind
    reason: str
    days: int


@dataclass(frozen=True)
class ActionCounts:
    """All projects of each kind; the action list shows at most ``ACTION_ITEM_LIMIT``."""

    overdue: int
    too_long_in_stage: int
    waiting_for_me: int


@dataclass(frozen=True)
class Task:
    """An open sub-stage of a project's current stage, assigned to the signed-in person."""

    progress_id: uuid.UUID
    project_id: uuid.UUID
    project_number: str
    project_title: str
    stage_name: str
    sub_stage_name: str
    status: str  # pending, in_progress or blocked
    started_at: dt.datetime | None


@dataclass(frozen=True)
class ActivityEntry:
    """One line of the organization's activity log."""

    occurred_at: dt.datetime
    action: str
    description: str | None
    actor_name: str | None  # None: done by the system, or by someone no longer visible
    project_id: uuid.UUID | None
    project_number: str | None


@dataclass(frozen=True)
class StageTime:
    """Finished stays in one stage that began in the period: how many, how long (days)."""

    stage_id: uuid.UUID
    name: str
    color: str
    stays: int
    average_days: float | None  # None without any finished stay
    p90_days: float | None


@dataclass(frozen=True)
class OnTimeDelivery:
    """Deliveries in the period (``actual_delivery_date``; cancelled projects left out)."""

    delivered: int  # with a promised date (estimated_delivery_date)
    on_time: int  # delivered on or before the promised date
    without_estimate: int  # delivered, but no date was promised: not in the rate

    @property
    def late(self) -> int:
        return self.delivered - self.on_time

    @property
    def rate(self) -> float | None:
        """Share delivered on time, 0.0 to 1.0; None when nothing was delivered."""
        return self.on_time / self.delivered if self.delivered else None


@dataclass(frozen=True)
class WeekCount:
    """Projects that entered the last stage ("Completed") in the ISO week from ``week_start``."""

    week_start: dt.date
    completed: int


@dataclass(frozen=True)
class Dashboard:
    organization_id: uuid.UUID
    today: dt.date
    timezone: str
    period_start: dt.date  # Monday of the oldest week shown
    stage_distribution: tuple[StageCount, ...]
    action_items: tuple[ActionItem, ...]
    action_counts: ActionCounts
    my_tasks: tuple[Task, ...]
    recent_activity: tuple[ActivityEntry, ...]
    time_in_stage: tuple[StageTime, ...]
    on_time_delivery: OnTimeDelivery
    weekly_throughput: tuple[WeekCount, ...]


# -- SQL ------------------------------------------------------------------------------------
# Every query names the organization itself (the indexes lead with organization_id, and a
# person of two organizations must not see them mixed); RLS then removes what the person may
# not read. Local midnights: CAST(:since AS timestamp) AT TIME ZONE :tz.

_ORGANIZATION = text(
    "SELECT settings ->> 'timezone' AS timezone FROM organizations WHERE id = :org"
)

_LOCAL_TODAY = text("SELECT CAST(now() AT TIME ZONE CAST(:tz AS text) AS date)")

_WORK_MEM = text("SELECT set_config('work_mem', :work_mem, true)")

_STAGES = text(
    """
    SELECT id, name, color
    FROM workflow_stages
    WHERE organization_id = :org AND is_active
    ORDER BY stage_order
    """
)

# "Too long in stage": more calendar days in the stage than planned, i.e. entered before local
# midnight of (today - planned days). Written as a plain comparison on stage_entered_at so that
# an index on it can serve it.
_TOO_LONG = """
    p.status = 'active' AND p.stage_entered_at
        < CAST(CAST(:today AS date) - s.estimated_duration_days AS timestamp)
          AT TIME ZONE CAST(:tz AS text)
"""

# One pass over the open projects for every count: projects per stage and the totals behind the
# bounded lists (overdue, too long in stage). on_hold projects count as overdue only.
_OPEN_PROJECTS = text(
    f"""
    SELECT p.current_stage_id AS stage_id,
           count(*) FILTER (WHERE p.status = 'active') AS projects,
           count(*) FILTER (WHERE p.estimated_delivery_date < CAST(:today AS date)) AS overdue,
           count(*) FILTER (WHERE {_TOO_LONG}) AS too_long
    FROM projects p
    LEFT JOIN workflow_stages s
      ON s.organization_id = p.organization_id AND s.id = p.current_stage_id
    WHERE p.organization_id = :org AND p.status IN ('active', 'on_hold')
      AND p.archived_at IS NULL
    GROUP BY p.current_stage_id
    """
)

_OVERDUE = text(
    """
    SELECT id, project_number, title, status::text AS status,
           CAST(:today AS date) - estimated_delivery_date AS days
    FROM projects
    WHERE organization_id = :org AND status IN ('active', 'on_hold') AND archived_at IS NULL
      AND estimated_delivery_date < CAST(:today AS date)
    ORDER BY estimated_delivery_date, project_number
    LIMIT :limit
    """
)

# The first-entered of each stage (LATERAL with a LIMIT per stage), then the largest overrun
# overall. Within one stage "more days over" means "entered earlier", so the per-stage lists
# hold the overall top list exactly.
_TOO_LONG_IN_STAGE = text(
    f"""
    SELECT p.id, p.project_number, p.title, s.name AS stage_name,
           s.estimated_duration_days AS planned, p.days
    FROM workflow_stages s
    CROSS JOIN LATERAL (
        SELECT p.id, p.project_number, p.title, p.stage_entered_at,
               CAST(:today AS date)
               - CAST(p.stage_entered_at AT TIME ZONE CAST(:tz AS text) AS date) AS days
        FROM projects p
        WHERE p.organization_id = s.organization_id AND p.current_stage_id = s.id
          AND p.archived_at IS NULL AND {_TOO_LONG}
        ORDER BY p.stage_entered_at, p.project_number
        LIMIT :limit
    ) p
    WHERE s.organization_id = :org
    ORDER BY p.days - s.estimated_duration_days DESC, p.stage_entered_at, p.project_number
    LIMIT :limit
    """
)

# Open tasks: sub-stages of the project's *current* stage (rows left behind in a stage the
# project went back from are not work to do now).
_OPEN_TASK = """
    t.organization_id = :org AND t.assigned_to = :me
    AND t.status IN ('pending', 'in_progress', 'blocked')
    AND p.current_stage_id = t.workflow_stage_id
    AND p.status = 'active' AND p.archived_at IS NULL
"""

# Candidates first (my open tasks, projects assigned to me): each part can use its own index,
# where "assigned_to = :me OR has a task" would read every project of the organization.
_WAITING_FOR_ME = text(
    f"""
    WITH tasks AS (
        SELECT t.project_id, count(*) AS open_tasks,
               (array_agg(ss.name ORDER BY ss.sub_stage_order))[1] AS first_task
        FROM project_sub_stage_progress t
        JOIN projects p ON p.organization_id = t.organization_id AND p.id = t.project_id
        JOIN workflow_sub_stages ss
          ON ss.organization_id = t.organization_id AND ss.id = t.sub_stage_id
        WHERE {_OPEN_TASK}
        GROUP BY t.project_id
    ), candidates AS (
        SELECT project_id FROM tasks
        UNION
        SELECT id FROM projects WHERE organization_id = :org AND assigned_to = :me
    )
    SELECT p.id, p.project_number, p.title, s.name AS stage_name,
           coalesce(t.open_tasks, 0) AS open_tasks, t.first_task,
           CAST(:today AS date)
           - CAST(p.stage_entered_at AT TIME ZONE CAST(:tz AS text) AS date) AS days,
           count(*) OVER () AS total
    FROM candidates c
    JOIN projects p ON p.organization_id = :org AND p.id = c.project_id
    JOIN workflow_stages s ON s.organization_id = p.organization_id AND s.id = p.current_stage_id
    LEFT JOIN tasks t ON t.project_id = p.id
    WHERE p.status = 'active' AND p.archived_at IS NULL
    ORDER BY days DESC, p.project_number
    LIMIT :limit
    """
)

_MY_TASKS = text(
    f"""
    SELECT t.id, t.project_id, p.project_number, p.title, s.name AS stage_name,
           ss.name AS sub_stage_name, t.status, t.started_at
    FROM project_sub_stage_progress t
    JOIN projects p ON p.organization_id = t.organization_id AND p.id = t.project_id
    JOIN workflow_stages s ON s.organization_id = t.organization_id AND s.id = t.workflow_stage_id
    JOIN workflow_sub_stages ss ON ss.organization_id = t.organization_id AND ss.id = t.sub_stage_id
    WHERE {_OPEN_TASK}
    ORDER BY CASE t.status WHEN 'in_progress' THEN 0 WHEN 'blocked' THEN 1 ELSE 2 END,
             p.stage_entered_at, p.project_number, ss.sub_stage_order
    LIMIT :limit
    """
)

_RECENT_ACTIVITY = text(
    """
    SELECT a.occurred_at, a.action, a.description, pe.display_name AS actor_name,
           a.project_id, pr.project_number
    FROM activity_log a
    LEFT JOIN persons pe ON pe.id = a.actor_id
    LEFT JOIN projects pr ON pr.organization_id = a.organization_id AND pr.id = a.project_id
    WHERE a.organization_id = :org
    ORDER BY a.occurred_at DESC, a.id DESC
    LIMIT :limit
    """
)

# A stay begins at a history row (to_stage_id) and ends at the project's next row; no next row
# (days IS NULL): the stay goes on. Only rows of the period are read: the row after a row of
# the period is in the period too (or does not exist yet), so lead() is exact for the stays
# that began in the period. date_part, not extract: a float, not numeric (faster to sort).
_TIME_IN_STAGE = text(
    """
    WITH stays AS (
        SELECT h.to_stage_id AS stage_id,
               date_part('epoch', lead(h.occurred_at) OVER (PARTITION BY h.project_id
                                                            ORDER BY h.occurred_at, h.id)
                                  - h.occurred_at) / 86400 AS days
        FROM project_stage_history h
        WHERE h.organization_id = :org
          AND h.occurred_at >= CAST(:since AS timestamp) AT TIME ZONE CAST(:tz AS text)
          AND h.occurred_at < CAST(:until AS timestamp) AT TIME ZONE CAST(:tz AS text)
    )
    SELECT stage_id, count(*) AS stays, avg(days) AS average_days,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY days) AS p90_days
    FROM stays
    WHERE days IS NOT NULL
    GROUP BY stage_id
    """
)

_ON_TIME_DELIVERY = text(
    """
    SELECT count(*) FILTER (WHERE estimated_delivery_date IS NOT NULL) AS delivered,
           count(*) FILTER (WHERE actual_delivery_date <= estimated_delivery_date) AS on_time,
           count(*) FILTER (WHERE estimated_delivery_date IS NULL) AS without_estimate
    FROM projects
    WHERE organization_id = :org AND status <> 'cancelled'
      AND actual_delivery_date >= CAST(:since AS date)
      AND actual_delivery_date < CAST(:until AS date)
    """
)

# A project that entered the last stage twice in one week counts once in that week.
_WEEKLY_THROUGHPUT = text(
    """
    SELECT CAST(date_trunc('week', h.occurred_at AT TIME ZONE CAST(:tz AS text)) AS date)
               AS week_start,
           count(DISTINCT h.project_id) AS completed
    FROM project_stage_history h
    WHERE h.organization_id = :org AND h.to_stage_id = :last_stage
      AND h.occurred_at >= CAST(:since AS timestamp) AT TIME ZONE CAST(:tz AS text)
      AND h.occurred_at < CAST(:until AS timestamp) AT TIME ZONE CAST(:tz AS text)
    GROUP BY 1
    """
)


# -- the period and the person --------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """What every query is about: organization, person, time zone and period."""

    org: uuid.UUID
    me: uuid.UUID
    tz: str
    today: dt.date
    weeks: int

    @property
    def since(self) -> dt.date:
        monday = self.today - dt.timedelta(days=self.today.weekday())
        return monday - dt.timedelta(weeks=self.weeks - 1)

    @property
    def until(self) -> dt.date:
        """The end of the period, exclusive: nothing after today counts."""
        return self.today + dt.timedelta(days=1)

    @property
    def week_starts(self) -> list[dt.date]:
        return [self.since + dt.timedelta(weeks=i) for i in range(self.weeks)]

    def params(self, **extra: Any) -> dict[str, Any]:
        return {
            "org": self.org, "me": self.me, "tz": self.tz, "today": self.today,
            "since": self.since, "until": self.until, **extra,
        }


@dataclass(frozen=True)
class _Stage:
    id: uuid.UUID
    name: str
    color: str


def _scope(
    conn: Connection, org: uuid.UUID, me: uuid.UUID, today: dt.date | None, weeks: int
) -> _Scope:
    row = conn.execute(_ORGANIZATION, {"org": org}).one_or_none()
    if row is None:  # RLS: not a member (or no longer active there)
        raise UserFacingError("You are not a member of this organization.")
    tz = (row.timezone or "").strip() or DEFAULT_TIMEZONE
    try:
        # A savepoint: a zone the server does not know must not abort the whole read.
        with conn.begin_nested():
            local_today = conn.execute(_LOCAL_TODAY, {"tz": tz}).scalar_one()
    except exc.DataError:
        tz = DEFAULT_TIMEZONE
        local_today = conn.execute(_LOCAL_TODAY, {"tz": tz}).scalar_one()
    return _Scope(org=org, me=me, tz=tz, today=today or local_today, weeks=weeks)


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


# -- the figures ----------------------------------------------------------------------------


def _stages(conn: Connection, scope: _Scope) -> list[_Stage]:
    rows = conn.execute(_STAGES, scope.params()).all()
    return [_Stage(r.id, r.name, r.color) for r in rows]


@dataclass(frozen=True)
class _OpenProjects:
    distribution: tuple[StageCount, ...]
    overdue: int
    too_long_in_stage: int


def _open_projects(conn: Connection, scope: _Scope, stages: list[_Stage]) -> _OpenProjects:
    """Open projects per active stage, in stage order, and the overdue / too-long totals."""
    rows = conn.execute(_OPEN_PROJECTS, scope.params()).all()
    by_stage = {r.stage_id: int(r.projects) for r in rows}
    return _OpenProjects(
        distribution=tuple(
            StageCount(s.id, s.name, s.color, by_stage.get(s.id, 0)) for s in stages
        ),
        overdue=sum(int(r.overdue) for r in rows),
        too_long_in_stage=sum(int(r.too_long) for r in rows),
    )


def _overdue(conn: Connection, scope: _Scope) -> list[ActionItem]:
    rows = conn.execute(_OVERDUE, scope.params(limit=ACTION_ITEM_LIMIT)).all()
    return [
        ActionItem(
            r.id, r.project_number, r.title, ActionKind.OVERDUE,
            f"Delivery was due {_days(r.days)} ago"
            + (" (project on hold)." if r.status == "on_hold" else "."),
            r.days,
        )
        for r in rows
    ]


def _too_long_in_stage(conn: Connection, scope: _Scope) -> list[ActionItem]:
    rows = conn.execute(_TOO_LONG_IN_STAGE, scope.params(limit=ACTION_ITEM_LIMIT)).all()
    items = []
    for r in rows:
        over = r.days - r.planned
        items.append(ActionItem(
            r.id, r.project_number, r.title, ActionKind.TOO_LONG_IN_STAGE,
            f"{_days(r.days)} in {r.stage_name}, {over} more than the {r.planned} planned.",
            over,
        ))
    return items


def _waiting_for_me(conn: Connection, scope: _Scope) -> tuple[list[ActionItem], int]:
    rows = conn.execute(_WAITING_FOR_ME, scope.params(limit=ACTION_ITEM_LIMIT)).all()
    items = []
    for r in rows:
        if r.open_tasks == 0:
            reason = f"Assigned to you; in {r.stage_name} for {_days(r.days)}."
        elif r.open_tasks == 1:
            reason = f"Your task: {r.first_task}."
        else:
            reason = f"Your tasks: {r.first_task} and {r.open_tasks - 1} more."
        items.append(ActionItem(
            r.id, r.project_number, r.title, ActionKind.WAITING_FOR_ME, reason, r.days
        ))
    return items, int(rows[0].total) if rows else 0


def _action_items(
    conn: Connection, scope: _Scope, open_projects: _OpenProjects
) -> tuple[tuple[ActionItem, ...], ActionCounts]:
    """Overdue first, then too long in stage, then waiting for me; the most days first within
    a kind. A project can appear once per kind."""
    waiting, waiting_total = _waiting_for_me(conn, scope)
    items = (_overdue(conn, scope) + _too_long_in_stage(conn, scope) + waiting)
    counts = ActionCounts(open_projects.overdue, open_projects.too_long_in_stage, waiting_total)
    return tuple(items[:ACTION_ITEM_LIMIT]), counts


def _my_tasks(conn: Connection, scope: _Scope) -> tuple[Task, ...]:
    """In progress first, then blocked, then pending; longest-waiting project first."""
    rows = conn.execute(_MY_TASKS, scope.params(limit=TASK_LIMIT)).all()
    return tuple(
        Task(r.id, r.project_id, r.project_number, r.title, r.stage_name, r.sub_stage_name,
             r.status, r.started_at)
        for r in rows
    )


def _recent_activity(conn: Connection, scope: _Scope) -> tuple[ActivityEntry, ...]:
    rows = conn.execute(_RECENT_ACTIVITY, scope.params(limit=ACTIVITY_LIMIT)).all()
    return tuple(
        ActivityEntry(r.occurred_at, r.action, r.description, r.actor_name, r.project_id,
                      r.project_number)
        for r in rows
    )


def _time_in_stage(
    conn: Connection, scope: _Scope, stages: list[_Stage]
) -> tuple[StageTime, ...]:
    """Per active stage: the finished stays that began in the period.

    A stay in stage S begins at a history row with ``to_stage_id = S`` and ends at the
    project's next history row (by ``occurred_at``, then ``id``); a project that goes back and
    forth has several stays. A stay still going on (no next row by the end of ``today``) is
    not counted, and neither is one that began before the period. Days are elapsed time
    (fractions included), not calendar days.
    """
    by_stage = {r.stage_id: r for r in conn.execute(_TIME_IN_STAGE, scope.params())}
    out = []
    for s in stages:
        r = by_stage.get(s.id)
        if r is None:
            out.append(StageTime(s.id, s.name, s.color, 0, None, None))
        else:
            out.append(StageTime(s.id, s.name, s.color, int(r.stays), float(r.average_days),
                                 float(r.p90_days)))
    return tuple(out)


def _on_time_delivery(conn: Connection, scope: _Scope) -> OnTimeDelivery:
    r = conn.execute(_ON_TIME_DELIVERY, scope.params()).one()
    return OnTimeDelivery(int(r.delivered), int(r.on_time), int(r.without_estimate))


def _weekly_throughput(
    conn: Connection, scope: _Scope, stages: list[_Stage]
) -> tuple[WeekCount, ...]:
    """Oldest week first; weeks without any completion are there with 0."""
    counts: dict[dt.date, int] = {}
    if stages:  # the last active stage is "Completed" in the default workflow
        rows = conn.execute(_WEEKLY_THROUGHPUT, scope.params(last_stage=stages[-1].id))
        counts = {r.week_start: int(r.completed) for r in rows}
    return tuple(WeekCount(week, counts.get(week, 0)) for week in scope.week_starts)


def _load(
    conn: Connection, org: uuid.UUID, me: uuid.UUID, today: dt.date | None, weeks: int
) -> Dashboard:
    scope = _scope(conn, org, me, today, weeks)
    # Transaction-local: the sorts of a big organization's history stay in memory.
    conn.execute(_WORK_MEM, {"work_mem": WORK_MEM})
    stages = _stages(conn, scope)
    open_projects = _open_projects(conn, scope, stages)
    action_items, action_counts = _action_items(conn, scope, open_projects)
    return Dashboard(
        organization_id=org,
        today=scope.today,
        timezone=scope.tz,
        period_start=scope.since,
        stage_distribution=open_projects.distribution,
        action_items=action_items,
        action_counts=action_counts,
        my_tasks=_my_tasks(conn, scope),
        recent_activity=_recent_activity(conn, scope),
        time_in_stage=_time_in_stage(conn, scope, stages),
        on_time_delivery=_on_time_delivery(conn, scope),
        weekly_throughput=_weekly_throughput(conn, scope, stages),
    )


def load_dashboard(
    ws: Workspace,
    organization_id: uuid.UUID,
    *,
    today: dt.date | None = None,
    weeks: int = DEFAULT_WEEKS,
) -> Dashboard:
    """Every figure of the dashboard for one organization, as the signed-in person sees it.

    ``today`` is a date in the organization's time zone (default: today there); ``weeks``
    (1 to ``MAX_WEEKS``) is the period of the history figures. Raises
    :class:`UserFacingError` when the person is not a member of the organization.
    """
    if not 1 <= weeks <= MAX_WEEKS:
        raise UserFacingError(f"Choose a period of 1 to {MAX_WEEKS} weeks.")
    me = ws.identity.person_id
    return units.read(ws, lambda conn: _load(conn, organization_id, me, today, weeks))
