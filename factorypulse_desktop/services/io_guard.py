"""The per-thread database I/O ban, re-exported for the UI (it may not import `data`)."""

from __future__ import annotations

from factorypulse_desktop.data.io_guard import (
    DatabaseOnGuiThreadError,
    allow_database_io_on_current_thread,
    database_io_forbidden_on_current_thread,
    forbid_database_io_on_current_thread,
)

__all__ = [
    "DatabaseOnGuiThreadError",
    "allow_database_io_on_current_thread",
    "database_io_forbidden_on_current_thread",
    "forbid_database_io_on_current_thread",
]
