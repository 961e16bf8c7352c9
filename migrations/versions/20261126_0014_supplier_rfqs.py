"""Supplier RFQs and quotes: status flow, comparison and award.

Revision ID: 20261126_0014
Revises: 20261126_0013
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "20261126_0014"
down_revision: str | None = "20261126_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the work of issue 8


def downgrade() -> None:
    pass
