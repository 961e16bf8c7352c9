"""Workflow settings through the dialog, GUI thread banned from database I/O."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import profile_for

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.workflow_config import StageConfig, SubStageConfig, save_stage
from factorypulse_desktop.ui.dialogs.workflow_dialog import WorkflowDialog
from factorypulse_desktop.ui.tasks import TaskRunner

PASSWORD = "factorypulse-demo"


@pytest.fixture
def dialog(qtbot: QtBot, qapp: QApplication, demo_db: Any) -> Iterator[WorkflowDialog]:
    profile = profile_for(demo_db)
    workspace: Workspace = sign_in(profile, "acme.management", PASSWORD)
    runner = TaskRunner()
    forbid_database_io_on_current_thread()
    try:
        dlg = WorkflowDialog(runner, workspace, workspace.identity.memberships[0].organization_id)
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitUntil(lambda: dlg.tree.topLevelItemCount() == 8, timeout=15000)
        yield dlg
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def test_edit_a_stage_add_a_step_and_reorder(qtbot: QtBot, dialog: WorkflowDialog) -> None:
    review = dialog.tree.topLevelItem(1)
    assert review is not None
    dialog.tree.setCurrentItem(review)
    assert dialog.stage_name.text() == "Technical Review"
    assert dialog.stage_roles.roles() == (Role.ENGINEERING, Role.QA, Role.PRODUCTION)
    dialog.stage_name.setText("Engineering Review")
    dialog.stage_days.setValue(6)
    with qtbot.waitSignal(dialog.sig_loaded, timeout=10000):
        dialog.save_button.click()
    stage = dialog.selected()
    assert isinstance(stage, StageConfig)
    assert (stage.name, stage.estimated_days) == ("Engineering Review", 6)

    with qtbot.waitSignal(dialog.sig_loaded, timeout=10000):
        dialog.add_step_button.click()
    added = dialog.selected()
    assert isinstance(added, SubStageConfig) and added.name == "New step" and added.order == 5

    with qtbot.waitSignal(dialog.sig_loaded, timeout=10000):
        dialog.up_button.click()
    moved = dialog.selected()
    assert isinstance(moved, SubStageConfig) and moved.id == added.id and moved.order == 4


def test_a_stale_save_keeps_what_was_typed(qtbot: QtBot, dialog: WorkflowDialog,
                                          demo_db: Any) -> None:
    first = dialog.tree.topLevelItem(0)
    assert first is not None
    dialog.tree.setCurrentItem(first)
    stale = dialog.selected()
    assert isinstance(stale, StageConfig) and stale.id is not None
    # Someone else saves the stage meantime (their own session, off the GUI thread).
    profile = profile_for(demo_db)

    def other_save() -> None:
        with sign_in(profile, "acme.admin", PASSWORD) as admin:
            save_stage(admin, dialog_org(dialog), StageConfig(
                stale.id, "Inquiry (admin)", color=stale.color, version=stale.version,
                responsible_roles=stale.responsible_roles))

    worker = threading.Thread(target=other_save)
    worker.start()
    worker.join(30)
    dialog.stage_name.setText("Inquiry & RFQ")
    dialog.save_button.click()
    qtbot.waitUntil(lambda: "Someone changed this stage" in dialog.banner.text, timeout=10000)
    assert dialog.stage_name.text() == "Inquiry & RFQ", "the typed name is kept"
    qtbot.wait(500)  # the newer version arrives under the form
    with qtbot.waitSignal(dialog.sig_loaded, timeout=10000):
        dialog.save_button.click()  # saved over the newer version, knowingly
    saved = dialog.selected()
    assert isinstance(saved, StageConfig) and saved.name == "Inquiry & RFQ"


def dialog_org(dialog: WorkflowDialog) -> Any:
    return dialog._organization_id
