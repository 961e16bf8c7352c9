"""Sign-in window: every failure in plain words, typed input kept, success hands over."""

from __future__ import annotations

from typing import Any

import psycopg
from pytestqt.qtbot import QtBot

from factorypulse_desktop.services.profiles import ConnectionProfile
from factorypulse_desktop.ui.dialogs.sign_in import SignInDialog
from factorypulse_desktop.ui.tasks import TaskRunner


def profile_for(db: Any) -> ConnectionProfile:
    return ConnectionProfile(name="Test server", kind="server",
                             host=str(db.cluster.socket_dir), port=db.cluster.port,
                             database=db.name, sslmode="disable")


def make_dialog(qtbot: QtBot, db: Any) -> tuple[SignInDialog, TaskRunner]:
    runner = TaskRunner()
    dialog = SignInDialog(runner, [profile_for(db)])
    qtbot.addWidget(dialog)
    return dialog, runner


def test_empty_fields_are_explained_without_a_round_trip(qtbot: QtBot, demo_db: Any) -> None:
    dialog, runner = make_dialog(qtbot, demo_db)
    dialog.submit()
    assert "user name and password" in dialog.message.text()
    assert not runner.busy
    runner.shutdown()


def test_wrong_password_then_success(qtbot: QtBot, demo_db: Any) -> None:
    dialog, runner = make_dialog(qtbot, demo_db)
    dialog.username.setText("acme.sales")
    dialog.password.setText("nope-nope")
    dialog.submit()
    qtbot.waitUntil(lambda: "wrong" in dialog.message.text(), timeout=15_000)
    assert dialog.username.text() == "acme.sales"
    assert dialog.sign_in_button.isEnabled()
    dialog.password.setText("factorypulse-demo")
    with qtbot.waitSignal(dialog.sig_signed_in, timeout=15_000) as blocker:
        dialog.submit()
    workspace = blocker.args[0]
    assert workspace.identity.username == "acme.sales"
    runner.run(workspace.close)
    runner.shutdown()


def test_database_newer_than_app_is_refused_with_the_version(
    qtbot: QtBot, demo_db: Any
) -> None:
    with psycopg.connect(demo_db.owner_conninfo(), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '29991231_9999'")
    dialog, runner = make_dialog(qtbot, demo_db)
    dialog.username.setText("acme.sales")
    dialog.password.setText("factorypulse-demo")
    dialog.submit()
    qtbot.waitUntil(lambda: "newer" in dialog.message.text(), timeout=15_000)
    assert "29991231_9999" in dialog.message.text()
    assert not dialog.upgrade_button.isVisible()
    runner.shutdown()
