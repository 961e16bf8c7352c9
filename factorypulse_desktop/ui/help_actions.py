"""Help for support: diagnostics collected on a worker and put on the clipboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication

from factorypulse_desktop.ui.tasks import TaskHandle, TaskRunner

if TYPE_CHECKING:
    from factorypulse_desktop.services.auth import Workspace
    from factorypulse_desktop.services.profiles import ConnectionProfile


def ui_facts() -> list[tuple[str, str]]:
    """What only the UI knows: the Qt it runs on."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    return [("Qt", qVersion()), ("PySide6", pyside_version),
            ("Qt platform", QGuiApplication.platformName())]


def copy_diagnostics(
    runner: TaskRunner,
    *,
    profile: ConnectionProfile | None = None,
    workspace: Workspace | None = None,
    state: str | None = None,
    on_copied: Callable[[], None],
    on_error: Callable[[BaseException], None] | None = None,
) -> TaskHandle:
    """Collect the diagnostics on a worker (the database, keyring and log file are asked),
    then put them on the clipboard on the GUI thread and call `on_copied`."""
    facts = ui_facts()

    def collect() -> str:
        from factorypulse_desktop.services import diagnostics

        return diagnostics.collect(profile=profile, workspace=workspace,
                                   connection_state=state, ui_facts=facts)

    def copied(text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        on_copied()

    return runner.run(collect, on_done=copied, on_error=on_error)
