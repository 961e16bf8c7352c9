"""The values of live updates, shared by the listener (`services.live`) and the UI (`ui.live`).

They live in the domain layer because the UI may import them but must not reach psycopg,
which `services.live` imports (the import-linter contract forbids indirect imports too).
`services.live` re-exports both.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """One committed change the signed-in person may see (a row of `change_log`)."""

    id: int
    organization_id: uuid.UUID
    entity_type: str  # the table's name, e.g. "projects"
    entity_id: uuid.UUID
    operation: str  # "I", "U" or "D"
    row_version: int | None


class FeedState(enum.Enum):
    """The listener's connection state, for the status bar."""

    CONNECTING = "connecting"  # the first connection attempt
    ONLINE = "online"  # listening and caught up
    RECONNECTING = "reconnecting"  # lost or failed; backing off and trying again
    OFFLINE = "offline"  # stopped
