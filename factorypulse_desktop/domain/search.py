"""What the Ctrl+K palette shows for a found record (filled by services/search.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class SearchHit:
    kind: str
    id: uuid.UUID
    title: str
    subtitle: str
    organization_id: uuid.UUID
