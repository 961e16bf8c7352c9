"""Loading the data layer (SQLAlchemy and the services built on it) off the GUI thread.

The main window appears as soon as the person is signed in, which needs psycopg only; this
loads the rest on one worker thread right after (about 0.3 s). Pages that read data are made
once it is done. One thread does all of it: two threads importing SQLAlchemy at the same time
can meet its circular imports half-way and fail with "partially initialized module".
"""

from __future__ import annotations

import importlib
import threading

# Every module a page's service needs; importing them pulls in SQLAlchemy and the ORM.
DATA_LAYER_MODULES = (
    "sqlalchemy",
    "sqlalchemy.orm",
    "factorypulse_desktop.data.db",
    "factorypulse_desktop.data.models",
    "factorypulse_desktop.services.admin",
    "factorypulse_desktop.services.search",
    "factorypulse_desktop.services.projects",
    "factorypulse_desktop.services.workflow",
    "factorypulse_desktop.services.intake",
    "factorypulse_desktop.services.dashboard",
    "factorypulse_desktop.services.workflow_config",
    "factorypulse_desktop.services.project_detail",
    "factorypulse_desktop.services.contacts",
    "factorypulse_desktop.services.contacts_csv",
)

_lock = threading.Lock()


def load_data_layer() -> None:
    """Import the data layer once; later calls return at once. Blocking: use a worker."""
    with _lock:
        for name in DATA_LAYER_MODULES:
            importlib.import_module(name)
