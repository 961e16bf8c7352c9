"""Fixtures shared by the database tests."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rls_support import org_id, owner_conn


@pytest.fixture
def acme(demo_db: Any) -> uuid.UUID:
    """The demo organization most tests act in."""
    with owner_conn(demo_db) as conn:
        return org_id(conn, "acme")
