"""Indexes for the dashboard and the projects views at 100k projects and 1M history rows.

Measured on 2 cores, one organization with 100k projects and 1M stage-history rows, 12 weeks,
as a sales person (services/dashboard.py): 790 ms without these, 230 ms with them (budget
500 ms). Each is led by organization_id like every tenant index; the partial ones cover the
"open project" conditions the dashboard queries repeat.

Revision ID: 20261125_0004
Revises: 20261125_0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0004"
down_revision: str | None = "20261125_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    # Time in stage and weekly throughput: an index-only range scan of the period.
    "stage_history_period_idx": "project_stage_history (organization_id, occurred_at) "
                                "INCLUDE (project_id, to_stage_id, id)",
    # Too long in stage: a LIMIT per stage on stage_entered_at.
    "projects_open_stage_idx": "projects (organization_id, current_stage_id, stage_entered_at) "
                               "WHERE status = 'active' AND archived_at IS NULL",
    # Overdue.
    "projects_open_due_idx": "projects (organization_id, estimated_delivery_date) "
                             "WHERE status IN ('active', 'on_hold') AND archived_at IS NULL",
    # My tasks, waiting for me.
    "progress_assignee_idx": "project_sub_stage_progress (organization_id, assigned_to) "
                             "WHERE status IN ('pending', 'in_progress', 'blocked')",
    # On-time delivery.
    "projects_delivered_idx": "projects (organization_id, actual_delivery_date) "
                              "WHERE actual_delivery_date IS NOT NULL",
}


def upgrade() -> None:
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {definition}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
