"""Helpers shared by the test folders (importable as `support`: pytest puts tests/ on the path
for tests/conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from factorypulse_desktop.services.profiles import ConnectionProfile

T = TypeVar("T")
DEMO_PASSWORD = "factorypulse-demo"


def profile_for(db: Any) -> ConnectionProfile:
    """A server connection profile for a test database (as a person signs in to it)."""
    return ConnectionProfile(name="test", kind="server", host=str(db.cluster.socket_dir),
                             port=db.cluster.port, database=db.name, sslmode="disable")


def off_gui(fn: Callable[[], T]) -> T:
    """Run `fn` on a helper thread (the GUI thread may not touch the database) and wait."""
    result: list[tuple[str, Any]] = []

    def body() -> None:
        try:
            result.append(("ok", fn()))
        except BaseException as error:  # handed to the test thread
            result.append(("error", error))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(60)
    if not result:
        raise TimeoutError("the helper thread did not finish in 60 s")
    kind, value = result[0]
    if kind == "error":
        raise value
    return value
