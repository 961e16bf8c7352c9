"""Backups: what the backup role may read, and the record of backups and drills.

Revision ID: 20261126_0017
Revises: 20261126_0016
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "20261126_0017"
down_revision: str | None = "20261126_0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # filled in by the work of issue 9


def downgrade() -> None:
    pass
